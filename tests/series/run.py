#!/usr/bin/python3
"""The scripts around the series for master, checked without master.

  equivalence   scripts/check-series.py: patches/upstream and the 10.2.2
                series carry the same changes (the real series)
  equivalence-* the check itself, on series made from patches/upstream: a
                copy with one 10.2.2 stand-in in front agrees; one changed
                added line, one changed removed line, a dropped patch and a
                stand-in in the upstream series fail with one line naming
                the patch; changed context, line numbers and whitespace do
                not; a declared exception lets one line differ, and an
                exception that matches nothing fails.  On the real pair, a
                changed line is listed under the patch that has it.
  identity-*    scripts/series-identity.py with a scratch identity: every
                patch of both series is from it and ends its sign-offs with
                it, no placeholder is left, the MAINTAINERS entry gets its
                M: line, git still reads every patch, and the rewritten
                10.2.2 series applies to build/qemu's debian-build tag with
                git am; the rewritten pair is still equivalent
  no-identity   make-patches-upstream.sh without user.name/user.email, and
                with a placeholder address, stops with one line
  no-source     each master make target without QEMU_UPSTREAM_SRC says so in
                one line, exits 0 and makes nothing
  bad-source    sources that are not QEMU, do not exist or name a commit
                that is not there stop with one line
  source-*      a small fake QEMU as a tarball, a checkout, a bare
                repository and PATH@REV becomes build/upstream/src's pristine
                tree; empty subprojects are filled from Debian's 10.2.2 orig
                tarball (master's packagefiles laid over them) when the
                .wrap revisions match, and a mismatch stops with one line

Results go to --results in check.sh's format (tests/results.py).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from results import Results  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VIRT_SPLIT_BUILD", os.path.join(TOP, "build"))
PY = "/usr/bin/python3"
CHECK = [PY, os.path.join(TOP, "scripts", "check-series.py")]
IDENT = [PY, os.path.join(TOP, "scripts", "series-identity.py")]
PREP = os.path.join(TOP, "scripts", "prepare-upstream.sh")
NAME, EMAIL = "Ada Scratch", "ada.scratch@example.org"
PLACEHOLDER = re.compile(r"@(localhost|[^>\s]*\.(localdomain|local|invalid))>", re.I)
MASTER_TARGETS = ["upstream", "upstream-asan", "check-upstream", "patches-upstream",
                  "refresh-patches-upstream", "virt-golden-upstream"]
SUBPROJECTS = ["keycodemapdb", "berkeley-softfloat-3", "berkeley-testfloat-3"]


def run(cmd, env=None, cwd=None, timeout=600):
    e = dict(os.environ)
    e.update(env or {})
    for k in [k for k, v in e.items() if v is None]:
        del e[k]
    p = subprocess.run(cmd, env=e, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def lines(s):
    return [l for l in s.split("\n") if l.strip()]


def series_names(d):
    return [l.split()[0] for l in open(os.path.join(d, "series"))
            if l.strip() and not l.startswith("#")]


def one_line(rc, out, err, want_rc=1):
    """the single output line, or None"""
    all_lines = lines(out) + lines(err)
    if rc != want_rc or len(all_lines) != 1:
        return None
    return all_lines[0]


def copy_series(src, dst):
    shutil.copytree(src, dst)
    return dst


def edit_patch(path, fn):
    text = open(path).read()
    new = fn(text)
    assert new != text, f"the edit of {path} changed nothing"
    open(path, "w").write(new)


def first_line_in_hunk(text, tag, skip_files=("MAINTAINERS",)):
    """(index, line) of the first non-blank +/- line of a hunk outside skip_files"""
    ls = text.split("\n")
    cur, in_hunk = None, False
    for i, l in enumerate(ls):
        if l.startswith("diff --git "):
            cur = l.split(" b/")[-1]
            in_hunk = False
        elif l.startswith("@@ "):
            in_hunk = True
        elif in_hunk and cur not in skip_files and l.startswith(tag) and l[1:].strip() \
                and not l.startswith(tag * 3 + " "):
            return i, l
    return None, None


def replace_line(text, i, new):
    ls = text.split("\n")
    ls[i] = new
    return "\n".join(ls)


# ---------------------------------------------------------------- equivalence

def check_equivalence(r, tmp):
    rc, out, err = run(CHECK)
    msg = (lines(out) + lines(err) or ["(no output)"])[-1]
    r.record(rc == 0, "equivalence", msg)

    up = os.path.join(TOP, "patches", "upstream")
    stable = os.path.join(TOP, "patches")
    names = series_names(up)
    standins = [p for p in series_names(stable)
                if "not part of the series sent upstream" in " ".join(open(os.path.join(stable, p)).read().split())]
    if not standins:
        r.record(False, "equivalence-standins", "the 10.2.2 series has no patch marked "
                 "'not part of the series sent upstream'")
        return
    # A pair equivalent by construction: patches/upstream, and a copy with
    # a 10.2.2 stand-in in front
    base = copy_series(up, os.path.join(tmp, "eq-upstream"))
    pair = copy_series(up, os.path.join(tmp, "eq-stable"))
    shutil.copy(os.path.join(stable, standins[0]), pair)
    s = open(os.path.join(pair, "series")).read().split("\n")
    k = next(i for i, l in enumerate(s) if l.strip() and not l.startswith("#"))
    s.insert(k, standins[0])
    open(os.path.join(pair, "series"), "w").write("\n".join(s))
    rc, out, err = run(CHECK + ["--upstream", base, "--stable", pair, "--exceptions", "/dev/null"])
    r.record(rc == 0 and "1 stand-ins" in out, "equivalence-baseline",
             f"a copy of patches/upstream with the stand-in {standins[0]} in front: "
             f"exit {rc}, {(lines(out) + lines(err) or ['no output'])[-1]}")

    def variant(name, target, edit, want_fail=True, exceptions="/dev/null", expect=None):
        d = copy_series(base, os.path.join(tmp, "eq-" + name))
        if edit:
            edit(d, target)
        rc, out, err = run(CHECK + ["--upstream", d, "--stable", pair, "--exceptions", exceptions])
        if want_fail:
            line = one_line(rc, out, err)
            ok = line is not None and (expect or target) in line
            r.record(ok, f"equivalence-{name}",
                     f"fails in one line naming {expect or target}: {line}" if ok else
                     f"want exit 1 and one line naming {expect or target}; got exit {rc}: "
                     f"{(out + err).strip()[:300]}")
        else:
            r.record(rc == 0, f"equivalence-{name}",
                     f"still agrees: {out.strip()}" if rc == 0 else
                     f"want agreement; got exit {rc}: {(out + err).strip()[:300]}")

    mid = names[len(names) // 2]

    def change_added(d, p):
        def f(t):
            i, l = first_line_in_hunk(t, "+")
            return replace_line(t, i, l + " /* diverged */")
        edit_patch(os.path.join(d, p), f)

    def change_removed(d, p):
        def f(t):
            i, l = first_line_in_hunk(t, "-")
            return replace_line(t, i, l + "x")
        edit_patch(os.path.join(d, p), f)

    def drop_last(d, p):
        s = open(os.path.join(d, "series")).read().split("\n")
        s = [l for l in s if not l.startswith(p)]
        open(os.path.join(d, "series"), "w").write("\n".join(s))

    def mark_standin(d, p):
        edit_patch(os.path.join(d, p), lambda t: t.replace(
            "\n---\n", "\nIt is not part of the series sent upstream.\n---\n", 1))

    def context_and_whitespace(d, p):
        def f(t):
            t = re.sub(r"^@@ -(\d+)(,\d+)? \+(\d+)", lambda m: "@@ -%d%s +%d" % (
                int(m.group(1)) + 7, m.group(2) or "", int(m.group(3)) + 7), t, flags=re.M)
            i, l = first_line_in_hunk(t, "+")
            t = replace_line(t, i, "+  " + re.sub(r"(\S) (\S)", r"\1   \2", l[1:], 1))
            j, x = first_line_in_hunk(t, " ")
            return replace_line(t, j, x + " /* other context */")
        edit_patch(os.path.join(d, p), f)

    removed_target = next((p for p in names
                           if first_line_in_hunk(open(os.path.join(up, p)).read(), "-")[0] is not None),
                          names[0])
    variant("added-line", mid, change_added)
    variant("removed-line", removed_target, change_removed)
    variant("dropped-patch", names[-1], drop_last)
    variant("standin-upstream", names[0], mark_standin)
    variant("context-ignored", mid, context_and_whitespace, want_fail=False)

    # an exception lets the changed added line pass; one matching nothing fails
    i, l = first_line_in_hunk(open(os.path.join(up, mid)).read(), "+")
    subject = re.search(r"^Subject: (?:\[[^]]*\] )?(.*)", open(os.path.join(up, mid)).read(), re.M).group(1)
    fname = None
    for x in open(os.path.join(up, mid)).read().split("\n")[:i][::-1]:
        if x.startswith("diff --git "):
            fname = x.split(" b/")[-1]
            break
    ex = os.path.join(tmp, "exceptions")
    with open(ex, "w") as f:
        f.write(f"# test\npatch: {subject[:30]}\nfile: {fname}\nonly-in: upstream\n"
                f"line: {l} /* diverged */\nwhy: a test\n\n"
                f"patch: {subject[:30]}\nfile: {fname}\nonly-in: 10.2.2\nline: {l}\nwhy: a test\n")
    variant("exception-used", mid, change_added, want_fail=False, exceptions=ex)
    with open(ex, "a") as f:
        f.write(f"\npatch: {subject[:30]}\nfile: {fname}\nonly-in: 10.2.2\nline: +nothing like this\n"
                f"why: stale\n")
    variant("exception-unused", mid, change_added, exceptions=ex, expect="matches no line")

    # the real pair: the changed line shows under its patch
    d = copy_series(up, os.path.join(tmp, "eq-real"))
    change_added(d, mid)
    rc, out, err = run(CHECK + ["--upstream", d, "--all"])
    hit = [x for x in lines(out) if mid in x and "diverged" in x]
    r.record(rc == 1 and bool(hit), "equivalence-real-pair",
             f"a changed line of {mid} against the real 10.2.2 series is listed: {hit[0][:200]}" if hit
             else f"exit {rc}; no divergence of {mid} listed: {(out + err).strip()[:300]}")


# ------------------------------------------------------------------- identity

def patch_parts(text):
    head, _, rest = text.partition("\n\n")
    msg = rest.split("\n---\n", 1)[0]
    return head, msg


def check_identity(r, tmp):
    ident = f"{NAME} <{EMAIL}>"
    outs = {}
    for label, src in (("upstream", os.path.join(TOP, "patches", "upstream")),
                       ("10.2.2", os.path.join(TOP, "patches"))):
        dst = os.path.join(tmp, "ident-" + label)
        rc, out, err = run(IDENT + [src, dst, "--name", NAME, "--email", EMAIL])
        if rc != 0:
            r.record(False, f"identity-{label}", f"series-identity.py failed: {(out + err).strip()}")
            continue
        outs[label] = dst
        bad = []
        m_lines = 0
        for p in series_names(dst):
            text = open(os.path.join(dst, p)).read()
            head, msg = patch_parts(text)
            if f"\nFrom: {ident}\n" not in "\n" + head + "\n":
                bad.append(f"{p}: From: is not {ident}")
            sobs = [l for l in msg.split("\n") if l.startswith("Signed-off-by:")]
            if not sobs or sobs[-1] != f"Signed-off-by: {ident}" or sobs.count(sobs[-1]) != 1:
                bad.append(f"{p}: sign-offs {sobs}")
            if PLACEHOLDER.search(text):
                bad.append(f"{p}: a placeholder is left: {PLACEHOLDER.search(text).group(0)}")
            m_lines += text.count(f"\n+RISC-V virt-split\n+M: {ident}\n")
            rc2, o2, e2 = run(["git", "apply", "--numstat", os.path.join(dst, p)])
            if rc2 != 0:
                bad.append(f"{p}: git cannot read it: {e2.strip()[:120]}")
        if m_lines != 1:
            bad.append(f"the MAINTAINERS entry has 'M: {ident}' after its title {m_lines} times, want 1")
        r.record(not bad, f"identity-{label}",
                 f"{len(series_names(dst))} patches from {ident}, signed off by them, no placeholder, "
                 f"MAINTAINERS names them, git reads every patch" if not bad else "; ".join(bad)[:500])
    if len(outs) == 2:
        rc, out, err = run(CHECK + ["--upstream", outs["upstream"], "--stable", outs["10.2.2"], "--all"])
        rc0, out0, _ = run(CHECK + ["--all"])
        same = rc == rc0 and out == out0
        r.record(same, "identity-equivalence",
                 f"the rewritten pair gets the stored pair's verdict, line for line (exit {rc}, "
                 f"{len(lines(out))} divergences)" if same else
                 f"the stored pair exits {rc0}, the rewritten pair {rc}: {(out + err).strip()[:300]}")
    # the rewritten 10.2.2 series still applies, with git am
    qemu = os.path.join(BUILD, "qemu")
    if "10.2.2" not in outs:
        return
    if not os.path.isdir(os.path.join(qemu, ".git")):
        r.record(False, "identity-git-am", f"{qemu} is not prepared; run 'make build' first")
        return
    wt = os.path.join(tmp, "am")
    rc, out, err = run(["git", "clone", "-q", "--shared", "--no-checkout", qemu, wt])
    rc = rc or run(["git", "-C", wt, "checkout", "-q", "--detach", "debian-build"])[0]
    if rc != 0:
        r.record(False, "identity-git-am", f"cannot check out debian-build of {qemu}")
        return
    env = {"GIT_COMMITTER_NAME": "check", "GIT_COMMITTER_EMAIL": "check@example.org"}
    for p in series_names(outs["10.2.2"]):
        rc, out, err = run(["git", "-C", wt, "am", "-q", os.path.join(outs["10.2.2"], p)], env=env)
        if rc != 0:
            r.record(False, "identity-git-am", f"the rewritten {p} does not apply with git am: "
                     f"{(out + err).strip()[:200]}")
            return
    rc, log, _ = run(["git", "-C", wt, "log", "--format=%an <%ae>|%(trailers:key=Signed-off-by,valueonly,separator=;)",
                      "debian-build..HEAD"])
    bad = [l for l in lines(log) if l != f"{ident}|{ident}"]
    maint = open(os.path.join(wt, "MAINTAINERS")).read()
    m = re.search(r"^RISC-V virt-split\n(.*)$", maint, re.M)
    ok = not bad and m and m.group(1) == f"M: {ident}"
    r.record(bool(ok), "identity-git-am",
             f"the rewritten 10.2.2 series applies with git am; {len(lines(log))} commits by {ident}, "
             f"MAINTAINERS has 'M: {ident}'" if ok else
             f"commits not by/signed off by {ident}: {bad[:2]}; MAINTAINERS line after the title: "
             f"{m.group(1) if m else None}")
    # formatted as make-patches-upstream.sh formats it, the mailed check
    # passes; a placeholder sign-off, another From: or a lost M: line fail
    fp = os.path.join(tmp, "formatted")
    rc, out, err = run(["git", "-C", wt, "-c", f"user.name={NAME}", "-c", f"user.email={EMAIL}",
                        "format-patch", "-q", "--zero-commit", "--cover-letter", "-o", fp,
                        "debian-build..HEAD"])
    rc, out, err = run(IDENT + ["--verify", fp, "--name", NAME, "--email", EMAIL])
    r.record(rc == 0, "identity-mailed", out.strip() if rc == 0 else
             f"the check of the formatted series fails: {(out + err).strip()[:300]}")
    victim = sorted(f for f in os.listdir(fp) if not f.startswith("0000"))[len(os.listdir(fp)) // 2]
    maint = next(f for f in sorted(os.listdir(fp))
                 if f"+M: {ident}" in open(os.path.join(fp, f)).read())
    for label, f, old, new in (
            ("placeholder", victim, f"Signed-off-by: {ident}",
             f"Signed-off-by: {ident}\nSigned-off-by: virt-split developers <virt-split@localhost>"),
            ("other-from", victim, f"From: {ident}", "From: Someone Else <else@example.org>"),
            ("no-maintainer", maint, f"+M: {ident}\n", ""),
            ("sign-off-order", victim, f"Signed-off-by: {ident}",
             f"Signed-off-by: {ident}\nSigned-off-by: Someone Else <else@example.org>")):
        d = os.path.join(tmp, "formatted-" + label)
        shutil.copytree(fp, d)
        edit_patch(os.path.join(d, f), lambda t: t.replace(old, new, 1))
        rc, out, err = run(IDENT + ["--verify", d, "--name", NAME, "--email", EMAIL])
        line = one_line(rc, out, err)
        want = f if label != "no-maintainer" else "MAINTAINERS"
        ok = line is not None and want in line
        r.record(ok, f"identity-mailed-{label}", f"refused in one line: {line}" if ok else
                 f"want exit 1 and one line naming {want}; got exit {rc}: {(out + err).strip()[:300]}")


def check_no_identity(r, tmp):
    script = os.path.join(TOP, "scripts", "make-patches-upstream.sh")
    for label, name, email, want in (("no-identity", "", "", "no git identity"),
                                     ("placeholder-identity", "virt-split developers",
                                      "virt-split@localhost", "virt-split@localhost")):
        env = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "user.name", "GIT_CONFIG_VALUE_0": name,
               "GIT_CONFIG_KEY_1": "user.email", "GIT_CONFIG_VALUE_1": email,
               "VIRT_SPLIT_BUILD": os.path.join(tmp, "noid-build"), "QEMU_UPSTREAM_SRC": None}
        rc, out, err = run([script], env=env)
        line = one_line(rc, out, err)
        made = os.path.exists(os.path.join(tmp, "noid-build"))
        ok = line is not None and want in line and not made
        r.record(ok, f"{label}", f"make-patches-upstream.sh stops with one line: {line}" if ok else
                 f"want exit 1 and one line with '{want}', nothing made; got exit {rc}, made={made}: "
                 f"{(out + err).strip()[:300]}")


# -------------------------------------------------------------------- sources

def check_no_source(r, tmp):
    build = os.path.join(tmp, "nosrc-build")
    for t in MASTER_TARGETS:
        env = {"QEMU_UPSTREAM_SRC": None, "VIRT_SPLIT_BUILD": build, "MAKEFLAGS": None}
        rc, out, err = run(["make", "-s", "-C", TOP, t], env=env)
        all_lines = lines(out) + lines(err)
        made = os.path.exists(os.path.join(build, "upstream"))
        ok = rc == 0 and len(all_lines) == 1 and "no upstream QEMU source" in all_lines[0] and not made
        r.record(ok, f"no-source/{t}", f"one line, exit 0: {all_lines[0]}" if ok else
                 f"want one 'no upstream QEMU source' line, exit 0, nothing made; got exit {rc}, "
                 f"{len(all_lines)} lines, made={made}: {(out + err).strip()[:300]}")


def git(d, *args):
    rc, out, err = run(["git", "-C", d, "-c", "user.name=t", "-c", "user.email=t@example.org",
                        "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=master"] + list(args))
    if rc != 0:
        raise RuntimeError(f"git {' '.join(args)}: {err.strip()}")
    return out.strip()


def orig_tarball():
    lock = os.environ.get("VIRT_SPLIT_LOCK", os.path.join(TOP, "assets.lock"))
    for l in open(lock):
        f = l.split()
        if len(f) >= 4 and f[0] == "src" and f[1] == "qemu":
            v = f[3].split(":", 1)[-1].rsplit("-", 1)[0]
            cache = os.environ.get("VIRT_SPLIT_CACHE") or os.path.join(
                os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "virt-split")
            return os.path.join(cache, "src", f"qemu_{v}.orig.tar.xz")
    return None


def wraps_of_orig(orig):
    """{subproject: wrap text} of the 10.2.2 orig tarball"""
    d = tempfile.mkdtemp()
    run(["tar", "-xJf", orig, "-C", d, "--strip-components=2", "--wildcards"]
        + [f"*/subprojects/{s}.wrap" for s in SUBPROJECTS])
    res = {s: open(os.path.join(d, s + ".wrap")).read() for s in SUBPROJECTS}
    shutil.rmtree(d)
    return res


def fake_qemu(d, version, wraps, filled):
    """a small tree that passes for QEMU: VERSION, hw/riscv/virt.c and the wraps"""
    os.makedirs(os.path.join(d, "hw", "riscv"), exist_ok=True)
    os.makedirs(os.path.join(d, "subprojects", "packagefiles", "berkeley-softfloat-3"), exist_ok=True)
    open(os.path.join(d, "VERSION"), "w").write(version + "\n")
    open(os.path.join(d, "hw", "riscv", "virt.c"), "w").write("/* fake */\n")
    open(os.path.join(d, "subprojects", "packagefiles", "berkeley-softfloat-3", "meson.build"),
         "w").write("# master's packagefiles overlay\n")
    for s, text in wraps.items():
        open(os.path.join(d, "subprojects", s + ".wrap"), "w").write(text)
        if filled:
            os.makedirs(os.path.join(d, "subprojects", s), exist_ok=True)
            open(os.path.join(d, "subprojects", s, "meson.build"), "w").write("# shipped\n")


def prep(src, build, *args):
    return run([PREP] + list(args), env={"QEMU_UPSTREAM_SRC": src, "VIRT_SPLIT_BUILD": build})


def pristine_file(build, path):
    src = os.path.join(build, "upstream", "src")
    rc, out, _ = run(["git", "-C", src, "show", f"pristine:{path}"])
    return out if rc == 0 else None


def check_sources(r, tmp):
    # bad sources
    notqemu = os.path.join(tmp, "notqemu")
    os.makedirs(notqemu)
    open(os.path.join(notqemu, "README"), "w").write("not QEMU\n")
    git(notqemu, "init", "-q")
    git(notqemu, "add", "-A")
    git(notqemu, "commit", "-q", "-m", "x")
    tarball = os.path.join(tmp, "notqemu.tar.gz")
    run(["tar", "-czf", tarball, "-C", tmp, "notqemu/README"])
    build = os.path.join(tmp, "src-build")
    for label, src, want in (("not-qemu-git", notqemu, "is not QEMU"),
                             ("not-qemu-tarball", tarball, "is not QEMU"),
                             ("missing", os.path.join(tmp, "nothing-here"), "does not exist"),
                             ("not-a-repository", os.path.join(TOP, "docs"), "not the top of a git checkout"),
                             ("bad-revision", notqemu + "@no-such-rev", "no commit 'no-such-rev'")):
        rc, out, err = prep(src, build, "--check-source")
        line = one_line(rc, out, err)
        ok = line is not None and want in line
        r.record(ok, f"bad-source/{label}", f"one line: {line}" if ok else
                 f"want exit 1 and one line with '{want}'; got exit {rc}: {(out + err).strip()[:300]}")
    rc, out, err = run(["make", "-s", "-C", TOP, "upstream"],
                       env={"QEMU_UPSTREAM_SRC": notqemu, "VIRT_SPLIT_BUILD": build, "MAKEFLAGS": None,
                            "MAKELEVEL": None})
    # (make adds its own "make: *** ... Error 1", "make[N]: ***" under make check)
    line = one_line(rc, out, "\n".join(l for l in err.split("\n")
                                       if not re.match(r"make(\[\d+\])?: \*\*\*", l)),
                    want_rc=2)
    ok = line is not None and "is not QEMU" in line and not os.path.exists(os.path.join(build, "upstream"))
    r.record(ok, "bad-source/make-upstream", f"make upstream fails with one line: {line}" if ok else
             f"want make to fail with one line; got exit {rc}: {(out + err).strip()[:300]}")

    orig = orig_tarball()
    if not orig or not os.path.exists(orig):
        r.record(False, "source-kinds", f"Debian's orig tarball {orig} is not in the download cache "
                 "(scripts/fetch-qemu-source.sh)")
        return
    wraps = wraps_of_orig(orig)
    # a tarball with its subprojects (as make-release makes them)
    t = os.path.join(tmp, "tar", "qemu-11.1.50")
    fake_qemu(t, "11.1.50", wraps, filled=True)
    tb = os.path.join(tmp, "qemu-fake.tar.xz")
    run(["tar", "-cJf", tb, "-C", os.path.dirname(t), "qemu-11.1.50"])
    # a checkout with two commits, lacking the subprojects like a clone
    co = os.path.join(tmp, "checkout")
    fake_qemu(co, "11.1.49", wraps, filled=False)
    git(co, "init", "-q")
    git(co, "add", "-A")
    git(co, "commit", "-q", "-m", "one")
    first = git(co, "rev-parse", "HEAD")
    open(os.path.join(co, "VERSION"), "w").write("11.1.50\n")
    git(co, "commit", "-q", "-a", "-m", "two")
    bare = os.path.join(tmp, "bare.git")
    run(["git", "clone", "-q", "--bare", co, bare])
    for label, src, version, filled in (("tarball", tb, "11.1.50", False),
                                        ("checkout", co, "11.1.50", True),
                                        ("bare", bare, "11.1.50", True),
                                        ("at-revision", f"{bare}@{first[:10]}", "11.1.49", True)):
        b = os.path.join(tmp, "b-" + label)
        rc, out, err = prep(src, b, "--source-only")
        got = pristine_file(b, "VERSION")
        bad = []
        if rc != 0:
            bad.append(f"exit {rc}: {(out + err).strip()[-300:]}")
        elif (got or "").strip() != version:
            bad.append(f"pristine VERSION is {got!r}, want {version}")
        else:
            for s in SUBPROJECTS:
                mb = pristine_file(b, f"subprojects/{s}/meson.build") or ""
                if filled and (not mb or "# shipped" in mb):
                    bad.append(f"subprojects/{s} was not filled from the orig tarball")
                if not filled and "# shipped" not in mb:
                    bad.append(f"subprojects/{s} of the tarball was replaced")
            if filled and "packagefiles overlay" not in (pristine_file(
                    b, "subprojects/berkeley-softfloat-3/meson.build") or ""):
                bad.append("master's packagefiles/berkeley-softfloat-3 was not laid over the subproject")
            if filled and "filled subprojects/" not in err:
                bad.append("it did not say that it filled the subprojects")
        r.record(not bad, f"source-{label}",
                 f"QEMU {version} from {src} in build/upstream/src (tag pristine)"
                 + ("; subprojects filled from the 10.2.2 orig tarball, packagefiles laid over" if filled else "")
                 if not bad else "; ".join(bad))
        if label == "checkout" and not bad:
            shutil.rmtree(b)
    # a wrap revision that the orig tarball does not have
    mm = os.path.join(tmp, "mismatch")
    w = dict(wraps)
    w["berkeley-testfloat-3"] = re.sub(r"(?m)^(\s*revision\s*=\s*)\S+", r"\g<1>" + "0" * 40,
                                       w["berkeley-testfloat-3"])
    fake_qemu(mm, "11.1.50", w, filled=False)
    git(mm, "init", "-q")
    git(mm, "add", "-A")
    git(mm, "commit", "-q", "-m", "x")
    b = os.path.join(tmp, "b-mismatch")
    rc, out, err = prep(mm, b, "--source-only")
    errs = [l for l in lines(out) + lines(err) if "error" in l]
    ok = rc == 1 and len(errs) == 1 and "berkeley-testfloat-3" in errs[0] and "0" * 40 in errs[0]
    r.record(ok, "source-subproject-mismatch", f"stops with one line: {errs[0]}" if ok else
             f"want exit 1 and one error line naming berkeley-testfloat-3 and the revision; "
             f"got exit {rc}: {(out + err).strip()[-300:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results")
    ap.add_argument("--only", help="equivalence, identity, sources")
    a = ap.parse_args()
    r = Results(a.results, "series")
    tmp = tempfile.mkdtemp(prefix="virt-split-series.")
    try:
        parts = [("equivalence", check_equivalence), ("identity", check_identity),
                 ("identity", check_no_identity), ("sources", check_no_source),
                 ("sources", check_sources)]
        for name, fn in parts:
            if a.only and a.only != name:
                continue
            try:
                fn(r, tmp)
            except Exception as e:   # a harness error is a failure too
                r.record(False, f"{fn.__name__}", f"the check stopped: {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
