#!/bin/bash
# prepare-upstream.sh [--check-source]: turn the upstream QEMU source into
# a git tree under build/upstream/src:
#   pristine     the source as given
#   then one commit per line of patches/upstream/series
#
# The source is $QEMU_UPSTREAM_SRC, a tarball or a git checkout; it
# defaults to the snapshot in ../shared/qemu-upstream/ when that exists.
# A tarball named in assets.lock ("upstream" line) must have its sha256.
# --check-source only says whether there is a source: it prints one line
# and exits 0 with a source, 3 without one.
STEP=prepare-upstream
. "$(dirname "$0")/lib.sh"

UP=$BUILD/upstream
SRC=$UP/src
STAMP=$UP/src.stamp
export SERIES_DIR=$TOP/patches/upstream
GIT=(git -C "$SRC" -c user.name=virt-split -c user.email=virt-split@localhost
     -c commit.gpgsign=false)

# The source to use, or nothing
upstream_source() {
    local f
    if [ -n "${QEMU_UPSTREAM_SRC:-}" ]; then
        echo "$QEMU_UPSTREAM_SRC"
        return
    fi
    for f in "$TOP"/../shared/qemu-upstream/qemu-*.tar.xz; do
        if [ -e "$f" ]; then
            readlink -f "$f"
            return
        fi
    done
}

# pinned_sha256 FILE: the sha256 assets.lock gives for a tarball of that name
pinned_sha256() {
    awk -v f="$(basename "$1")" '$1 == "upstream" && $2 == f { print $6 }' "$LOCK"
}

# source_id SRC: what identifies the source (the tarball's sha256, or the
# checkout's commit); stops with one line if it is missing or corrupt.
source_id() {
    local src=$1 sum want
    if [ -d "$src" ]; then
        git -C "$src" rev-parse -q --verify HEAD >/dev/null 2>&1 ||
            die "QEMU_UPSTREAM_SRC=$src is a directory but not a git checkout"
        [ -f "$src/VERSION" ] || die "QEMU_UPSTREAM_SRC=$src has no VERSION file: not a QEMU tree"
        echo "git-$(git -C "$src" rev-parse HEAD)"
        return
    fi
    [ -f "$src" ] || die "upstream QEMU source $src does not exist (set QEMU_UPSTREAM_SRC)"
    sum=$(sha256sum "$src" | cut -d' ' -f1)
    want=$(pinned_sha256 "$src")
    if [ -n "$want" ] && [ "$sum" != "$want" ]; then
        die "upstream QEMU source $src is corrupt: sha256 $sum, assets.lock pins $want"
    fi
    echo "tar-$sum"
}

unpack_source() {
    local src=$1 id=$2 tmp=$UP/src.tmp
    rm -rf "$tmp" "$SRC" "$UP/pristine/src"
    mkdir -p "$tmp"
    if [ -d "$src" ]; then
        log "exporting HEAD of $src"
        git -C "$src" archive --format=tar HEAD | tar -x -C "$tmp" ||
            die "cannot export $src with git archive"
    else
        log "unpacking $src"
        tar -xf "$src" -C "$tmp" --strip-components=1 2>/dev/null ||
            die "cannot unpack $src (sha256 ${id#tar-}): not a complete tarball"
    fi
    [ -f "$tmp/VERSION" ] && [ -f "$tmp/hw/riscv/virt.c" ] ||
        die "$src (sha256 ${id#tar-}) does not hold a QEMU source tree"
    git -C "$tmp" init -q -b master || die "git init failed"
    mv "$tmp" "$SRC"
    "${GIT[@]}" add -A -f
    "${GIT[@]}" commit -q -m "QEMU $(cat "$SRC/VERSION") ($id, pristine)"
    "${GIT[@]}" tag -f pristine >/dev/null
    echo "$id" > "$UP/src.id"
}

src=$(upstream_source)
if [ "${1:-}" = --check-source ]; then
    if [ -z "$src" ]; then
        echo "no upstream QEMU source: set QEMU_UPSTREAM_SRC to a tarball or git checkout of QEMU master"
        exit 3
    fi
    echo "upstream QEMU source: $src"
    exit 0
fi
[ -n "$src" ] || die "no upstream QEMU source: set QEMU_UPSTREAM_SRC to a tarball or git checkout of QEMU master"
need_tool git tar xz
mkdir -p "$UP"
id=$(source_id "$src")
want=$(series_hash "$id")
if [ -e "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -d "$SRC/.git" ]; then
    sync_project_files "$SRC"
    exit 0
fi
rm -f "$STAMP"
if [ ! -d "$SRC/.git" ] || [ "$(cat "$UP/src.id" 2>/dev/null)" != "$id" ]; then
    unpack_source "$src" "$id"
fi
log "applying patches/upstream/series"
"${GIT[@]}" checkout -q -f pristine
"${GIT[@]}" clean -q -fd
"${GIT[@]}" checkout -q -B master
apply_series_in "$SRC"
"${GIT[@]}" tag -f series >/dev/null
echo "$want" > "$STAMP"
