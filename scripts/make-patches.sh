#!/bin/bash
# Write the project as a git format-patch series against pristine QEMU
# 10.2.2 into out/patches/, check that it applies with git am to the
# pristine tree, and run QEMU's checkpatch.pl on it.
STEP=patches
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/qemu
OUT=$TOP/out/patches
WT=$BUILD/patches-wt
GIT=(git -C "$SRC")

"$TOP/scripts/prepare-tree.sh"
cleanup() {
    "${GIT[@]}" worktree remove --force "$WT" >/dev/null 2>&1 || rm -rf "$WT"
    "${GIT[@]}" worktree prune
}
trap cleanup EXIT
cleanup

# Build the series from patches/ and the project files as they are now.
"${GIT[@]}" worktree add -q --detach "$WT" debian-build || die "cannot create a worktree"
apply_series_in "$WT"
rm -rf "$OUT"
mkdir -p "$OUT"
git -C "$WT" format-patch -q --zero-commit -o "$OUT" debian-build..HEAD ||
    die "git format-patch failed"
log "wrote $(ls "$OUT" | wc -l) patches to out/patches/"

# The series must apply to the pristine release, without Debian's patches.
git -C "$WT" checkout -q --detach pristine
git -C "$WT" -c user.name=check -c user.email=check@localhost am -q "$OUT"/*.patch ||
    die "the series does not apply to pristine 10.2.2 with git am"
log "the series applies with git am to pristine 10.2.2"

(cd "$SRC" && ./scripts/checkpatch.pl --no-signoff "$OUT"/*.patch) > "$TOP/out/checkpatch.log" 2>&1
rc=$?
grep -E '^total:|^ERROR|^WARNING' "$TOP/out/checkpatch.log" | sed 's/^/  /'
[ "$rc" = 0 ] || die "checkpatch.pl found errors (see out/checkpatch.log)"
log "checkpatch.pl: no errors"
