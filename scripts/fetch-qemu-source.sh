#!/bin/bash
# Download Debian's qemu source package at the pinned version and verify it.
# Output: $CACHE/src/ holding the orig and debian tarballs.
STEP=fetch-qemu-source
. "$(dirname "$0")/lib.sh"

read -r _ _ _ version suite sums < <(awk '$1 == "src" && $2 == "qemu"' "$LOCK")
[ -n "${version:-}" ] || die "assets.lock has no qemu source entry"
upstream=${version#*:}
upstream=${upstream%-*}
orig=qemu_${upstream}.orig.tar.xz
debtar=qemu_${version#*:}.debian.tar.xz
dest=$CACHE/src
stamp=$dest/qemu_${version#*:}.stamp

if [ -e "$stamp" ]; then
    exit 0
fi
need_tool apt-get sha256sum
mirror=$(apt_mirror)
apt_private "$suite-src" "deb-src $mirror $suite main"
mkdir -p "$dest"
log "downloading qemu=$version source"
(cd "$dest" && apt-get "${APT_OPTS[@]}" -q source --download-only "qemu=$version" \
    >"$dest/download.log" 2>&1) ||
    die "apt-get source qemu=$version failed: $(grep -E '^E:' "$dest/download.log" | head -1)"
sha256_check "$dest/$orig" "${sums%%:*}"
sha256_check "$dest/$debtar" "${sums##*:}"
touch "$stamp"
log "verified $orig and $debtar"
