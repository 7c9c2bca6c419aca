#!/bin/bash
# Write the series for upstream QEMU master as git format-patch output with
# the cover letter of patches/upstream/cover-letter into
# out/patches-upstream/, in the name of whoever runs it: the git identity
# (git config user.name and user.email) becomes the From: of every patch
# and of the cover letter, its Signed-off-by, and the M: line of the
# MAINTAINERS entry (scripts/series-identity.py; the stored series carries
# no real identity, see docs/upstream.md).  With no identity it stops with
# one line; no placeholder identity ever reaches out/patches-upstream/.
# Then it checks the series the way a maintainer would:
#   - it applies with git am to the pristine master source;
#   - every patch has a Signed-off-by and a message that explains it;
#   - master's checkpatch.pl reports no error and no warning;
#   - every commit of the series builds, and the qtests pass at the end.
#     The commits are built one after the other in build/upstream/obj, the
#     build of `make upstream`, so each step only rebuilds what it changes.
# Each failure stops with one line that names the patch or commit.
STEP=patches-upstream
. "$(dirname "$0")/lib.sh"

export SERIES_DIR=$TOP/patches/upstream
UP=$BUILD/upstream
SRC=$UP/src
OUT=$TOP/out/patches-upstream
WT=$UP/patches-wt
OBJ=$UP/obj
QTESTS=(qom-test test-hmp device-introspect-test riscv-csr-test virt-split-test)
MAIL_SERIES=$UP/mail-series

# The identity of the person who mails the series, first: it is needed
# whatever else is there
NAME=$(git -C "$TOP" config user.name || true)
EMAIL=$(git -C "$TOP" config user.email || true)
[ -n "$NAME" ] && [ -n "$EMAIL" ] ||
    die "no git identity: set git config user.name and user.email (they author and sign off the mailed series)"
/usr/bin/python3 "$TOP/scripts/series-identity.py" --name "$NAME" --email "$EMAIL" || exit 1
GIT=(git -C "$WT" -c "user.name=$NAME" -c "user.email=$EMAIL" -c commit.gpgsign=false)

rc=0
msg=$("$TOP/scripts/prepare-upstream.sh" --check-source) || rc=$?
case $rc in
0) ;;
3) echo "$msg"; exit 0 ;;
*) exit 1 ;;
esac
# The stored series with that identity
rm -rf "$MAIL_SERIES"
/usr/bin/python3 "$TOP/scripts/series-identity.py" "$SERIES_DIR" "$MAIL_SERIES" \
    --name "$NAME" --email "$EMAIL" || exit 1
# A fresh series in build/upstream/src (project files committed, nothing
# left uncommitted), built as `make upstream` builds it
rm -f "$UP/src.stamp"
"$TOP/scripts/build-qemu.sh" --upstream

cleanup() {
    git -C "$SRC" worktree remove --force "$WT" >/dev/null 2>&1 || rm -rf "$WT"
    git -C "$SRC" worktree prune
}
trap cleanup EXIT
cleanup

# The series from patches/upstream, with the identity, and the project
# files as they are now
git -C "$SRC" worktree add -q --detach "$WT" pristine || die "cannot create a worktree"
SERIES_DIR=$MAIL_SERIES apply_series_in "$WT"
rm -rf "$OUT"
mkdir -p "$OUT"
"${GIT[@]}" format-patch -q --zero-commit --cover-letter -o "$OUT" pristine..HEAD ||
    die "git format-patch failed"
series_head=$("${GIT[@]}" rev-parse HEAD)

# The cover letter is kept in the repository: its first line is the
# subject, the rest the text.
cover=$(ls "$OUT"/0000-cover-letter.patch)
letter=$SERIES_DIR/cover-letter
[ -s "$letter" ] || die "$letter is missing"
/usr/bin/python3 - "$cover" "$letter" <<'EOF' || die "cannot fill in the cover letter"
import sys
cover, letter = sys.argv[1:]
subject, _, body = open(letter).read().partition("\n")
text = open(cover).read()
assert "*** SUBJECT HERE ***" in text and "*** BLURB HERE ***" in text
text = text.replace("*** SUBJECT HERE ***", subject.strip())
text = text.replace("*** BLURB HERE ***", body.strip("\n"))
open(cover, "w").write(text)
EOF
log "wrote $(ls "$OUT" | wc -l) files to out/patches-upstream/ (cover letter and $(($(ls "$OUT" | wc -l) - 1)) patches)"

# Every patch is signed off and says why in its message
for p in "$OUT"/[0-9]*.patch; do
    [ "$(basename "$p")" != 0000-cover-letter.patch ] || continue
    grep -q '^Signed-off-by: .* <.*@.*>$' "$p" || die "$(basename "$p") has no Signed-off-by"
    words=$(awk '/^Subject:/ { body = 1; next } body && /^---$/ { exit }
                 body && !/^Signed-off-by:/ && !/^ / { n += NF } END { print n + 0 }' "$p")
    [ "$words" -ge 20 ] || die "$(basename "$p") explains itself in $words words; say why in the message"
done
log "every patch has a Signed-off-by and a message that explains it"

# The identity: the runner's in every From: and as the last sign-off, an
# M: line in the MAINTAINERS entry, and no placeholder anywhere
/usr/bin/python3 "$TOP/scripts/series-identity.py" --verify "$OUT" \
    --name "$NAME" --email "$EMAIL" >/dev/null || exit 1
log "every patch is from $NAME <$EMAIL> and signed off by them; MAINTAINERS names them"

# It applies to pristine master as mailed
"${GIT[@]}" checkout -q --detach pristine
for p in "$OUT"/[0-9]*.patch; do
    [ "$(basename "$p")" != 0000-cover-letter.patch ] || continue
    if ! "${GIT[@]}" am -q "$p" >/dev/null 2>&1; then
        "${GIT[@]}" am --abort >/dev/null 2>&1 || true
        die "$(basename "$p") does not apply to pristine master with git am"
    fi
done
[ -z "$("${GIT[@]}" diff "$series_head" HEAD)" ] ||
    die "the mailed series does not reproduce patches/upstream"
log "the series applies with git am to pristine master"

# Master's own checkpatch.pl: no errors, no warnings
: > "$TOP/out/checkpatch-upstream.log"
for p in "$OUT"/[0-9]*.patch; do
    [ "$(basename "$p")" != 0000-cover-letter.patch ] || continue
    report=$(cd "$WT" && ./scripts/checkpatch.pl "$p" 2>&1 || true)
    printf '%s\n' "$report" >> "$TOP/out/checkpatch-upstream.log"
    if grep -qE '^(ERROR|WARNING)' <<<"$report"; then
        die "checkpatch.pl reports problems in $(basename "$p") (see out/checkpatch-upstream.log)"
    fi
done
log "checkpatch.pl: 0 errors, 0 warnings in every patch"

# Every commit builds; the qtests pass on the last one.  The commits of
# build/upstream/src are the mailed series (checked below).
SGIT=(git -C "$SRC")
# (MAINTAINERS has the M: line only in the mailed series)
[ -z "$("${SGIT[@]}" diff series "$series_head" -- . ':(exclude)MAINTAINERS')" ] ||
    die "build/upstream/src does not hold the mailed series; run 'make upstream'"
[ -z "$("${SGIT[@]}" status --porcelain --untracked-files=no)" ] ||
    die "build/upstream/src has uncommitted changes; commit them or run 'make refresh-patches-upstream'"
restore() { "${SGIT[@]}" checkout -q master; }
trap 'restore; cleanup' EXIT
for c in $("${SGIT[@]}" rev-list --reverse pristine..series); do
    subject=$("${SGIT[@]}" log -1 --format=%s "$c")
    "${SGIT[@]}" checkout -q --detach "$c"
    log "building $("${SGIT[@]}" log -1 --format=%h "$c") $subject"
    ninja -C "$OBJ" qemu-system-riscv64 >"$UP/bisect.ninja.log" 2>&1 ||
        die "commit '$subject' does not build: $(grep -m1 -E 'error:|FAILED' "$UP/bisect.ninja.log")"
done
restore
targets=()
for t in "${QTESTS[@]}"; do
    targets+=("tests/qtest/$t")
done
ninja -C "$OBJ" qemu-system-riscv64 "${targets[@]}" >"$UP/bisect.ninja.log" 2>&1 ||
    die "the qtests of the last commit do not build: $(grep -m1 -E 'error:|FAILED' "$UP/bisect.ninja.log")"
for t in "${QTESTS[@]}"; do
    (cd "$OBJ" && QTEST_QEMU_BINARY=./qemu-system-riscv64 timeout 900 \
        "tests/qtest/$t" --tap -k) >"$OBJ/qtest-$t.log" 2>&1 ||
        die "qtest $t fails on the last commit (see ${OBJ#"$TOP"/}/qtest-$t.log)"
done
log "every commit builds; the qtests pass on the last one: ${QTESTS[*]}"
