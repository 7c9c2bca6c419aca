#!/bin/bash
# install.sh install|uninstall [--prefix DIR] [--destdir DIR] [--qemu BINARY]
# Install the built qemu-system-riscv64 with virt-split, the firmware it
# boots by default, scripts/vfio-check and the documentation under PREFIX
# (default /opt/virt-split), inside DESTDIR if given (for packaging):
#   PREFIX/bin/qemu-system-riscv64            the binary (--qemu, default
#                                             build/'s)
#   PREFIX/bin/vfio-check                     finds the QEMU next to it
#   PREFIX/share/qemu/...                     OpenSBI fw_dynamic and the
#                                             keymaps, from the data
#                                             directory the binary uses now
#   PREFIX/share/doc/virt-split/...           README.md, docs/, the libvirt
#                                             example
#   PREFIX/share/virt-split/manifest          what was installed
# QEMU finds its data directory relative to its own binary (PREFIX/bin/..
# /share/qemu, 'qemu-system-riscv64 -L help' lists it), so the binary runs
# from any PREFIX without -L, -bios or a configure --prefix.
# Everything is copied next to its destination first and renamed into
# place only once every copy succeeded: a path that cannot be written
# stops the install with one line naming it, and what was made is removed.
# uninstall removes the files the manifest lists, and the directories the
# install created once they are empty.
# VIRT_SPLIT_QEMU also names the binary.
STEP=install
. "$(dirname "$0")/lib.sh"

action=${1:-}
case $action in
install|uninstall) shift ;;
*) die "usage: install.sh install|uninstall [--prefix DIR] [--destdir DIR] [--qemu BINARY]" ;;
esac
prefix=/opt/virt-split destdir='' qemu=${VIRT_SPLIT_QEMU:-$BUILD/qemu-system-riscv64}
while [ $# -gt 0 ]; do
    case $1 in
    --prefix) prefix=${2:-}; shift 2 || die "--prefix needs a directory" ;;
    --destdir) destdir=${2:-}; shift 2 || die "--destdir needs a directory" ;;
    --qemu) qemu=${2:-}; shift 2 || die "--qemu needs a binary" ;;
    *) die "unknown option '$1' (--prefix, --destdir, --qemu)" ;;
    esac
done
case $prefix in
/*) ;;
*) die "PREFIX '$prefix' is not an absolute path" ;;
esac
prefix=${prefix%/}
[ -n "$prefix" ] || die "PREFIX '/' would scatter files over the root directory; pick a directory such as /opt/virt-split"
destdir=${destdir%/}
root=$destdir$prefix
manifest_rel=$prefix/share/virt-split/manifest
manifest=$destdir$manifest_rel

# ---------------------------------------------------------------- uninstall

if [ "$action" = uninstall ]; then
    [ -e "$manifest" ] || die "nothing to uninstall: no manifest at $manifest"
    entries=$(cat "$manifest") || die "cannot read $manifest"
    while read -r kind path; do
        [ "$kind" = f ] || continue
        err=$(rm -f "$destdir$path" 2>&1) || die "cannot remove $destdir$path: ${err##*: }"
    done <<<"$entries"
    # directories the install created, deepest first, once empty
    { grep '^d ' <<<"$entries" || true; } | cut -c3- | sort -r | while read -r path; do
        rmdir "$destdir$path" 2>/dev/null || true
    done
    log "removed the virt-split files under $root"
    exit 0
fi

# ---------------------------------------------------------------- install

[ -x "$qemu" ] || die "no QEMU binary at $qemu; run 'make' first (or give --qemu)"
qemu=$(readlink -f "$qemu")
machines=$("$qemu" -machine help 2>&1) || die "$qemu does not run: $(tail -1 <<<"$machines")"
grep -q '^virt-split ' <<<"$machines" || die "$qemu has no virt-split machine"

# datadir_file NAME: NAME in the first data directory of the binary that
# has it (the build's qemu-bundle, or an installed share/qemu)
datadir_file() {
    local d
    while read -r d; do
        if [ -e "$d/$1" ]; then
            echo "$d/$1"
            return 0
        fi
    done < <("$qemu" -L help)
    return 1
}
sbi=$(datadir_file opensbi-riscv64-generic-fw_dynamic.bin) ||
    die "$qemu finds no opensbi-riscv64-generic-fw_dynamic.bin in its data directories ($("$qemu" -L help | tr '\n' ' ')); run 'make' first"

# FILES: "SOURCE DESTINATION MODE" (DESTINATION under PREFIX)
FILES=()
add() { FILES+=("$1	$2	$3"); }
add "$qemu" bin/qemu-system-riscv64 755
add "$TOP/scripts/vfio-check" bin/vfio-check 755
add "$sbi" share/qemu/opensbi-riscv64-generic-fw_dynamic.bin 644
keymaps=$(datadir_file keymaps/en-us || true)
if [ -n "$keymaps" ]; then
    for f in "$(dirname "$keymaps")"/*; do
        add "$f" "share/qemu/keymaps/${f##*/}" 644
    done
fi
add "$TOP/README.md" share/doc/virt-split/README.md 644
for f in "$TOP"/docs/*.md "$TOP"/docs/*.rst; do
    [ -e "$f" ] && add "$f" "share/doc/virt-split/docs/${f##*/}" 644
done
for f in "$TOP"/docs/examples/*; do
    [ -e "$f" ] && add "$f" "share/doc/virt-split/examples/${f##*/}" 644
done

STAGED=() MADE_DIRS=()
rollback() {
    local i
    for f in "${STAGED[@]}"; do
        rm -f "$f"
    done
    for ((i = ${#MADE_DIRS[@]} - 1; i >= 0; i--)); do
        rmdir "${MADE_DIRS[$i]}" 2>/dev/null || true
    done
}
# fail PATH ERROR: undo what was made, one line naming PATH
fail() {
    rollback
    die "cannot write $1: ${2##*: } (nothing was installed)"
}

# mkdirs DIR: make DIR and its missing parents, remembering which
mkdirs() {
    local d=$1 missing=() err
    while [ ! -d "$d" ]; do
        missing=("$d" "${missing[@]}")
        d=$(dirname "$d")
    done
    for d in "${missing[@]}"; do
        [ ! -e "$d" ] || fail "$d" "it exists and is not a directory"
        err=$(mkdir "$d" 2>&1) || fail "$d" "$err"
        MADE_DIRS+=("$d")
    done
}

# previous install: its directories stay recorded, its files that this
# one no longer has are removed afterwards
old_dirs=() old_files=()
if [ -e "$manifest" ]; then
    while read -r kind path; do
        case $kind in
        d) old_dirs+=("$path") ;;
        f) old_files+=("$path") ;;
        esac
    done < "$manifest"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
list=$work/manifest
: > "$list"
for entry in "${FILES[@]}"; do
    IFS=$'\t' read -r src rel mode <<<"$entry"
    dest=$root/$rel
    mkdirs "$(dirname "$dest")"
    tmp=$dest.virt-split-new
    err=$(install -m "$mode" "$src" "$tmp" 2>&1) || fail "$dest" "$err"
    STAGED+=("$tmp")
    echo "f $prefix/$rel" >> "$list"
done
mkdirs "$(dirname "$manifest")"
{
    for d in "${MADE_DIRS[@]}"; do
        # DESTDIR itself is not part of the install
        [ -z "${d#"$destdir"}" ] || echo "d ${d#"$destdir"}"
    done
    for d in "${old_dirs[@]}"; do
        echo "d $d"
    done
    echo "f $manifest_rel"
} >> "$list"
awk '!seen[$0]++' "$list" > "$list.u"
err=$(install -m 644 "$list.u" "$manifest.virt-split-new" 2>&1) || fail "$manifest" "$err"
STAGED+=("$manifest.virt-split-new")

# every copy is in place: rename them over the old files
for tmp in "${STAGED[@]}"; do
    mv -f "$tmp" "${tmp%.virt-split-new}" || die "cannot rename $tmp into place"
done
for path in "${old_files[@]}"; do
    grep -qxF "f $path" "$manifest" || rm -f "$destdir$path"
done
log "installed $(grep -c '^f ' "$manifest") files under $root (manifest: $manifest)"
log "run $prefix/bin/qemu-system-riscv64 -M virt-split ...; $prefix/bin/vfio-check checks a device"
