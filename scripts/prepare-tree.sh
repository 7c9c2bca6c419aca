#!/bin/bash
# Turn the pinned QEMU source into a git tree under build/qemu:
#   pristine     the orig tarball as released
#   debian-build Debian's patches a plain build needs (no pc-bios blobs)
#   the project's patches/series, one commit each
#   project-files the project's own files
# Re-preparing resets the existing tree with git, so files that did not
# change keep their timestamps and ninja rebuilds only what did.
STEP=prepare-tree
. "$(dirname "$0")/lib.sh"


SRC=$BUILD/qemu
STAMP=$BUILD/qemu.stamp
GIT=(git -C "$SRC" -c user.name=virt-split -c user.email=virt-split@localhost
     -c commit.gpgsign=false)

version=$(qemu_version)
orig=$CACHE/src/qemu_$(v=${version#*:}; echo "${v%-*}").orig.tar.xz
debtar=$CACHE/src/qemu_${version#*:}.debian.tar.xz

unpack_pristine() {
    local tmp=$BUILD/qemu.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    log "unpacking $(basename "$orig")"
    tar -xJf "$orig" -C "$tmp" --strip-components=1 || die "cannot unpack $orig"
    git -C "$tmp" init -q -b master || die "git init failed"
    mv "$tmp" "$SRC"
    "${GIT[@]}" add -A -f
    "${GIT[@]}" commit -q -m "QEMU $version (pristine orig tarball)"
    "${GIT[@]}" tag -f pristine >/dev/null
    local dtmp
    dtmp=$(mktemp -d)
    tar -xJf "$debtar" -C "$dtmp" || die "cannot unpack $debtar"
    for p in $DEBIAN_PATCHES; do
        patch -d "$SRC" -p1 -s --no-backup-if-mismatch < "$dtmp/debian/patches/$p" ||
            die "Debian patch $p does not apply"
    done
    rm -rf "$dtmp"
    "${GIT[@]}" add -A -f
    "${GIT[@]}" commit -q -m "Debian build patches: $DEBIAN_PATCHES"
    "${GIT[@]}" tag -f debian-build >/dev/null
}

tree_has_local_work() {
    "${GIT[@]}" rev-parse -q --verify project-files >/dev/null || return 1
    [ "$("${GIT[@]}" rev-list --count project-files..HEAD)" != 0 ] && return 0
    local changed
    changed=$("${GIT[@]}" status --porcelain --untracked-files=no |
              awk '{ print $2 }' | grep -vxF -f <(awk '!/^#/ && NF { print $2 }' \
              "$TOP/scripts/project-files") || true)
    [ -n "$changed" ]
}

apply_series() {
    "${GIT[@]}" checkout -q -f debian-build
    "${GIT[@]}" clean -q -fdx
    "${GIT[@]}" checkout -q -B master
    apply_series_in "$SRC"
    sync_project_files "$SRC"
    "${GIT[@]}" add -A
    if ! "${GIT[@]}" diff --cached --quiet; then
        "${GIT[@]}" commit -q -m "virt-split: project files"
    fi
    "${GIT[@]}" tag -f project-files >/dev/null
}

mkdir -p "$BUILD"
want=$(series_hash "$version $DEBIAN_PATCHES")
if [ -e "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -d "$SRC/.git" ]; then
    sync_project_files "$SRC"
    exit 0
fi
"$TOP/scripts/fetch-qemu-source.sh"
need_tool git patch tar xz
if [ -d "$SRC/.git" ] && "${GIT[@]}" rev-parse -q --verify debian-build >/dev/null; then
    if tree_has_local_work && [ -z "${FORCE:-}" ]; then
        die "build/qemu has commits or changes not in patches/; run 'make refresh-patches' first, or FORCE=1 to discard them"
    fi
else
    rm -rf "$SRC"
    unpack_pristine
fi
rm -f "$STAMP"
log "applying patches/series"
apply_series
echo "$want" > "$STAMP"
