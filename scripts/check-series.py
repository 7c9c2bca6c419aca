#!/usr/bin/python3
"""check-series.py: the series for master (patches/upstream/) and the
series for QEMU 10.2.2 (patches/) carry the same changes, patch by patch.

The 10.2.2 series starts with stand-ins that give 10.2.2 the interfaces
of master; each says in its message that it "is not part of the series
sent upstream" (whitespace and line breaks do not matter).  They are left
out, and the other patches pair up in order with those of patches/upstream.
For each pair:
  - the subjects are the same;
  - the project files committed with the patch (+path in series) are the same;
  - the patches touch the same files, and for every file the lines they
    add and the lines they remove are the same and in the same order,
    each with its whitespace collapsed.  Context, blank lines, line
    numbers, index lines, hunk boundaries and the diffstat are ignored.
Exceptions, only for lines that differ because master's code differs
from 10.2.2's, are declared in tests/series/exceptions (format in
read_exceptions(); see docs/upstream.md); one that matches nothing fails.

It prints one line, and exits 0 when the series agree, 1 (naming the
patch of patches/upstream that diverges) when they do not or the input is
bad.  --all prints every divergence, one per line, before that line.
"""

import argparse
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = "not part of the series sent upstream"


class Bad(Exception):
    pass


def norm(line):
    return " ".join(line.split())


def read_series(d):
    path = os.path.join(d, "series")
    if not os.path.isfile(path):
        raise Bad(f"{path} does not exist")
    out = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        extra = [w for w in words[1:] if not w.startswith("+")]
        if extra:
            raise Bad(f"{path}:{n}: '{extra[0]}' is neither a patch nor a +project file")
        out.append((words[0], [w[1:] for w in words[1:]]))
    if not out:
        raise Bad(f"{path} names no patch")
    return out


def parse_patch(path):
    """(subject, message, {file: (added, removed)}, [files in order])"""
    try:
        text = open(path, encoding="utf-8", errors="surrogateescape").read()
    except OSError as e:
        raise Bad(f"cannot read {path}: {e.strerror}")
    lines = text.split("\n")
    name = os.path.basename(path)
    # mail headers up to the first empty line; Subject may be folded
    i, subject = 0, None
    while i < len(lines) and lines[i] != "":
        if lines[i].startswith("Subject:"):
            subject = lines[i][len("Subject:"):]
            while i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t"):
                i += 1
                subject += " " + lines[i].strip()
        i += 1
    if subject is None:
        raise Bad(f"{name} has no Subject header: not a git format-patch file")
    subject = norm(re.sub(r"^\s*\[[^]]*\]\s*", "", subject))
    body = []
    i += 1
    while i < len(lines) and lines[i] != "---" and not lines[i].startswith("diff --git "):
        body.append(lines[i])
        i += 1
    files, order = {}, []
    cur = None
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            m = re.match(r"diff --git a/(\S+) b/(\S+)$", line)
            if not m:
                raise Bad(f"{name}: cannot read '{line}'")
            cur = m.group(2)
            if m.group(1) != cur:
                cur = f"{m.group(1)} -> {cur}"
            if cur in files:
                raise Bad(f"{name} has two diffs of {cur}")
            files[cur] = ([], [])
            order.append(cur)
            i += 1
            continue
        m = re.match(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@", line)
        if m and cur is not None:
            old = int(m.group(1)) if m.group(1) is not None else 1
            new = int(m.group(2)) if m.group(2) is not None else 1
            i += 1
            while old > 0 or new > 0:
                if i >= len(lines):
                    raise Bad(f"{name}: a hunk of {cur} ends early")
                h = lines[i]
                if h.startswith("\\"):       # \ No newline at end of file
                    i += 1
                    continue
                tag, rest = h[:1], h[1:]
                if tag == "+":
                    if norm(rest):
                        files[cur][0].append(norm(rest))
                    new -= 1
                elif tag == "-":
                    if norm(rest):
                        files[cur][1].append(norm(rest))
                    old -= 1
                elif tag == " " or h == "":
                    old -= 1
                    new -= 1
                else:
                    raise Bad(f"{name}: a hunk of {cur} has the line '{h[:60]}'")
                i += 1
            continue
        i += 1
    return subject, "\n".join(body), files, order


def load(d):
    series = []
    for p, extra in read_series(d):
        subject, message, files, order = parse_patch(os.path.join(d, p))
        standin = STANDIN in norm(message)
        series.append(dict(name=p, subject=subject, files=files, order=order,
                           extra=extra, standin=standin))
    return series


def read_exceptions(path):
    """Blocks of 'key: value' lines, separated by empty lines:
         patch:   the start of the subject of the pair
         file:    the file
         only-in: upstream or 10.2.2, the series that has the line
         line:    +LINE or -LINE, a line that series adds or removes
         why:     the reason (required)
    The line is left out of that side's lines before they are compared.
    An exception that matches no line is itself an error."""
    ex = []
    if not path or not os.path.exists(path):
        return ex
    cur, start = {}, 0
    keys = ("patch", "file", "only-in", "line", "why")

    def close():
        if not cur:
            return
        missing = [k for k in keys if not cur.get(k)]
        if missing:
            raise Bad(f"{path}:{start}: the exception has no '{missing[0]}:'")
        if cur["only-in"] not in ("upstream", "10.2.2"):
            raise Bad(f"{path}:{start}: only-in must be upstream or 10.2.2")
        if cur["line"][:1] not in "+-":
            raise Bad(f"{path}:{start}: line must start with + or -")
        cur["where"] = f"{os.path.basename(path)}:{start}"
        ex.append(dict(cur))
        cur.clear()

    for n, line in enumerate(open(path), 1):
        if line.lstrip().startswith("#"):
            continue
        if not line.strip():
            close()
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in keys:
            raise Bad(f"{path}:{n}: want one of {', '.join(k + ':' for k in keys)}")
        if not cur:
            start = n
        cur[key.strip()] = value.strip() if key.strip() != "line" else value.rstrip("\n").lstrip(" ")
    close()
    return ex


def apply_exceptions(lines, exceptions, subject, f, side, idx):
    """lines without those the exceptions allow on this side"""
    out = list(lines)
    for e in exceptions:
        if (subject.startswith(e["patch"]) and e["file"] == f and e["only-in"] == side
                and "+-".index(e["line"][0]) == idx):
            want = norm(e["line"][1:])
            if want in out:
                out.remove(want)
                e["used"] = True
    return out


def first_diff(a, b):
    for k in range(max(len(a), len(b))):
        x = a[k] if k < len(a) else None
        y = b[k] if k < len(b) else None
        if x != y:
            return k, x, y
    return None


def show(x):
    if x is None:
        return "nothing"
    return "'" + (x if len(x) <= 70 else x[:67] + "...") + "'"


def compare(up_dir, st_dir, exceptions):
    up = load(up_dir)
    st = load(st_dir)
    bad = [p["name"] for p in up if p["standin"]]
    if bad:
        return [f"patches/upstream/{bad[0]}: says it is {STANDIN!r}"], 0, 0
    standins = [p for p in st if p["standin"]]
    st = [p for p in st if not p["standin"]]
    out = []
    for k in range(max(len(up), len(st))):
        u = up[k] if k < len(up) else None
        s = st[k] if k < len(st) else None
        if u is None:
            out.append(f"10.2.2 {s['name']} ('{s['subject']}') has no "
                       f"counterpart in patches/upstream")
            continue
        where = f"patches/upstream/{u['name']}"
        if s is None:
            out.append(f"{where} ('{u['subject']}') has no counterpart in the 10.2.2 series")
            continue
        other = f"10.2.2 {s['name']}"
        if u["subject"] != s["subject"]:
            out.append(f"{where}: subject '{u['subject']}', {other} has '{s['subject']}'")
            continue
        if u["extra"] != s["extra"]:
            out.append(f"{where}: commits the project files {u['extra'] or 'none'}, "
                       f"{other} {s['extra'] or 'none'}")
        for f in u["order"] + [f for f in s["order"] if f not in u["files"]]:
            if f not in s["files"]:
                out.append(f"{where} changes {f}, {other} does not")
                continue
            if f not in u["files"]:
                out.append(f"{where} does not change {f}, {other} does")
                continue
            for idx, what in ((0, "adds"), (1, "removes")):
                d = first_diff(
                    apply_exceptions(u["files"][f][idx], exceptions, u["subject"], f, "upstream", idx),
                    apply_exceptions(s["files"][f][idx], exceptions, u["subject"], f, "10.2.2", idx))
                if d:
                    n, x, y = d
                    out.append(f"{where}: line {n + 1} that it {what} in {f} is {show(x)}, "
                               f"in {other} {show(y)}")
    for e in exceptions:
        if not e.get("used"):
            out.append(f"the exception at {e['where']} ({e['patch']}, {e['file']}) matches no line")
    return out, len(up), len(standins)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", default=os.path.join(TOP, "patches", "upstream"))
    ap.add_argument("--stable", default=os.path.join(TOP, "patches"))
    ap.add_argument("--exceptions", default=os.path.join(TOP, "tests", "series", "exceptions"))
    ap.add_argument("--all", action="store_true", help="print every divergence")
    a = ap.parse_args()
    try:
        ex = read_exceptions(a.exceptions)
        out, n, nstand = compare(a.upstream, a.stable, ex)
    except Bad as e:
        print(f"[check-series] error: {e}", file=sys.stderr)
        return 1
    if out:
        if a.all:
            for line in out:
                print(line)
        more = f" (and {len(out) - 1} more; --all lists them)" if len(out) > 1 and not a.all else ""
        print(f"[check-series] error: the series diverge: {out[0]}{more}", file=sys.stderr)
        return 1
    print(f"[check-series] the {n} patches of patches/upstream carry the same changes as the "
          f"10.2.2 series without its {nstand} stand-ins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
