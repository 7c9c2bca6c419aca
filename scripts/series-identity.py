#!/usr/bin/python3
"""series-identity.py [IN OUT] --name NAME --email EMAIL: copy the stored
series IN (a directory with a series file and the patches it names) to
OUT with the identity of the person who mails it:

  - each patch's From: header becomes NAME <EMAIL>;
  - placeholder sign-offs (an address at localhost, *.localdomain, *.local
    or *.invalid) are dropped, and "Signed-off-by: NAME <EMAIL>" ends the
    message;
  - in the diff of MAINTAINERS, "M: NAME <EMAIL>" follows the title line
    of the machine's entry (--title, default "RISC-V virt-split"), and the
    hunk's line count is raised by one.  The entry must be added by
    exactly one patch of the series.

Without IN and OUT it only checks the identity.  --verify DIR checks git
format-patch output instead: no placeholder address anywhere, every file
(cover letter too) from EMAIL, every patch ending its sign-offs with
NAME <EMAIL>, and the M: line after the entry's title once.
The stored series carries no real identity (docs/upstream.md); git am and
git format-patch on OUT then give mail-ready patches.  Bad input stops
with one line naming the problem, exit 1.
"""

import argparse
import os
import re
import shutil
import sys

PLACEHOLDER = re.compile(r"@(localhost|[^>\s]*\.(localdomain|local|invalid))>", re.I)
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>.]+(\.[^@\s<>.]+)+$")


class Bad(Exception):
    pass


def check_identity(name, email):
    if not name.strip() or not email.strip():
        raise Bad("no git identity: set git config user.name and user.email "
                  "(they author and sign off the mailed series)")
    if re.search(r"[<>\n]", name):
        raise Bad(f"git config user.name '{name}' has <, > or a line break")
    if not EMAIL.match(email) or PLACEHOLDER.search(f"<{email}>"):
        raise Bad(f"git config user.email '{email}' is not an address mail can reach")


def series_patches(d):
    path = os.path.join(d, "series")
    if not os.path.isfile(path):
        raise Bad(f"{path} does not exist")
    names = []
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line.split()[0])
    if not names:
        raise Bad(f"{path} names no patch")
    return names


def rewrite_patch(text, name, ident, title):
    """the patch with the identity; and whether it added the M: line"""
    lines = text.split("\n")
    # mail headers
    i, seen_from = 0, False
    while i < len(lines) and lines[i] != "":
        if lines[i].startswith("From:"):
            lines[i] = f"From: {ident}"
            seen_from = True
            while i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t"):
                del lines[i + 1]
        i += 1
    if not seen_from:
        raise Bad(f"{name} has no From: header: not a git format-patch file")
    # message: up to the --- line (or the first diff)
    end = i + 1
    while end < len(lines) and lines[end] != "---" and not lines[end].startswith("diff --git "):
        end += 1
    msg = [l for l in lines[i + 1:end]
           if not (l.startswith("Signed-off-by:") and PLACEHOLDER.search(l))]
    sob = f"Signed-off-by: {ident}"
    msg = [l for l in msg if l != sob]
    while msg and not msg[-1].strip():
        msg.pop()
    trailer = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")
    if not msg or not trailer.match(msg[-1]):
        msg.append("")
    msg.append(sob)
    lines[i + 1:end] = msg
    # MAINTAINERS: M: after the entry's title
    added = 0
    in_maint = False
    hunk = None
    k = 0
    while k < len(lines):
        l = lines[k]
        if l.startswith("diff --git "):
            in_maint = l == "diff --git a/MAINTAINERS b/MAINTAINERS"
            hunk = None
        elif in_maint and l.startswith("@@ "):
            hunk = k
        elif in_maint and hunk is not None and l == f"+{title}":
            nxt = lines[k + 1] if k + 1 < len(lines) else ""
            if nxt.startswith("+M:"):
                if not PLACEHOLDER.search(nxt):
                    raise Bad(f"{name}: the MAINTAINERS entry '{title}' already has '{nxt[1:]}'")
                lines[k + 1] = f"+M: {ident}"
            else:
                lines.insert(k + 1, f"+M: {ident}")
                m = re.match(r"@@ -(\d+(?:,\d+)?) \+(\d+)(?:,(\d+))? @@(.*)$", lines[hunk])
                if not m:
                    raise Bad(f"{name}: cannot read the hunk header '{lines[hunk]}'")
                count = int(m.group(3)) if m.group(3) is not None else 1
                lines[hunk] = f"@@ -{m.group(1)} +{m.group(2)},{count + 1} @@{m.group(4)}"
            added += 1
            k += 1
        elif in_maint and hunk is not None and l.startswith("+M:") and PLACEHOLDER.search(l):
            raise Bad(f"{name}: MAINTAINERS has a placeholder '{l[1:]}' outside '{title}'")
        k += 1
    return "\n".join(lines), added


def verify(d, name, email, title):
    """the git format-patch output in d is mail-ready in that identity"""
    ident = f"{name} <{email}>"
    files = sorted(f for f in os.listdir(d) if f.endswith(".patch"))
    if not [f for f in files if not f.startswith("0000-cover-letter")]:
        raise Bad(f"{d} holds no patch")
    m_lines = 0
    for f in files:
        text = open(os.path.join(d, f), encoding="utf-8", errors="surrogateescape").read()
        m = PLACEHOLDER.search(text)
        if m:
            line = next(l for l in text.split("\n") if m.group(0) in l)
            raise Bad(f"{f} holds a placeholder identity: {line.strip()}")
        head, _, rest = text.partition("\n\n")
        froms = re.findall(r"^From: (.*(?:\n[ \t].*)*)", head, re.M)
        if len(froms) != 1 or f"<{email}>" not in froms[0]:
            raise Bad(f"{f} is not from {email}: From: {froms}")
        m_lines += text.count(f"\n+{title}\n+M: {ident}\n")
        if f.startswith("0000-cover-letter"):
            continue
        msg = rest.split("\n---\n", 1)[0]
        sobs = [l for l in msg.split("\n") if l.startswith("Signed-off-by:")]
        if not sobs or sobs[-1] != f"Signed-off-by: {ident}":
            raise Bad(f"{f} does not end its sign-offs with {ident}: {sobs}")
    if m_lines != 1:
        raise Bad(f"the MAINTAINERS entry '{title}' is followed by 'M: {ident}' in {m_lines} "
                  f"patches, want 1")
    return len(files)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="?")
    ap.add_argument("dst", nargs="?")
    ap.add_argument("--name", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--title", default="RISC-V virt-split")
    ap.add_argument("--verify", metavar="DIR",
                    help="check the git format-patch output in DIR instead")
    a = ap.parse_args()
    try:
        check_identity(a.name, a.email)
        ident = f"{a.name.strip()} <{a.email.strip()}>"
        if a.verify:
            n = verify(a.verify, a.name.strip(), a.email.strip(), a.title)
            print(f"[series-identity] {n} files in {a.verify} are from {ident}, signed off by "
                  f"them, with the MAINTAINERS M: line, and hold no placeholder")
            return 0
        if a.src is None:           # only check the identity
            return 0
        if a.dst is None:
            raise Bad("give the series to read and the directory to write")
        names = series_patches(a.src)
        os.makedirs(a.dst, exist_ok=True)
        total = 0
        for f in os.listdir(a.src):
            p = os.path.join(a.src, f)
            if os.path.isfile(p) and f not in names:
                shutil.copy(p, os.path.join(a.dst, f))
        for n in names:
            try:
                text = open(os.path.join(a.src, n), encoding="utf-8",
                            errors="surrogateescape").read()
            except OSError as e:
                raise Bad(f"cannot read {os.path.join(a.src, n)}: {e.strerror}")
            text, added = rewrite_patch(text, n, ident, a.title)
            total += added
            with open(os.path.join(a.dst, n), "w", encoding="utf-8",
                      errors="surrogateescape") as out:
                out.write(text)
        if total != 1:
            raise Bad(f"the series adds the MAINTAINERS entry '{a.title}' {total} times, "
                      f"want once: cannot give it its M: line")
    except Bad as e:
        print(f"[series-identity] error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
