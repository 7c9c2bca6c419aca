#!/bin/bash
# fetch-source.sh PACKAGE: download Debian's source package PACKAGE at the
# version pinned by its "src" line in assets.lock and verify its orig and
# debian tarballs.  Output: $CACHE/src/ holding both tarballs.
STEP=fetch-source
. "$(dirname "$0")/lib.sh"

pkg=${1:?usage: fetch-source.sh PACKAGE}
read -r _ _ _ version suite sums < <(awk -v p="$pkg" '$1 == "src" && $2 == p' "$TOP/assets.lock")
[ -n "${version:-}" ] || die "assets.lock has no $pkg source entry"
full=${version#*:}
upstream=${full%-*}
dest=$CACHE/src
stamp=$dest/${pkg}_$full.stamp

if [ -e "$stamp" ]; then
    exit 0
fi
need_tool apt-get sha256sum
mirror=$(apt_mirror)
apt_private "$suite-src" "deb-src $mirror $suite main"
mkdir -p "$dest"
log "downloading $pkg=$version source"
rc=0
(cd "$dest" && apt-get "${APT_OPTS[@]}" -q source --download-only "$pkg=$version" \
    >"$dest/download-$pkg.log" 2>&1) || rc=$?
orig=$(cd "$dest" && ls "${pkg}_$upstream".orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -1 || true)
debtar=$(cd "$dest" && ls "${pkg}_$full".debian.tar.* 2>/dev/null | head -1 || true)
if [ -z "$orig" ] || [ -z "$debtar" ]; then
    die "apt-get source $pkg=$version failed: $(grep -E '^E:' "$dest/download-$pkg.log" | head -1)"
fi
# Some mirrors serve the tarballs but not the .dsc; the pinned sums below
# are what the build trusts, so the tarballs suffice.
[ "$rc" = 0 ] || log "apt-get source did not get everything ($(grep -m1 -E '^E:' "$dest/download-$pkg.log")); checking the tarballs against assets.lock"
sha256_check "$dest/$orig" "${sums%%:*}"
sha256_check "$dest/$debtar" "${sums##*:}"
touch "$stamp"
log "verified $orig and $debtar"
