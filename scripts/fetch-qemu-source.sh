#!/bin/bash
# Download Debian's qemu source package at the pinned version and verify it.
# Output: $CACHE/src/ holding the orig and debian tarballs.
# There is no fallback: the patch series is made for this QEMU version.
# When the version has left its suite, the error says so and points to
# QEMU_UPSTREAM_SRC (a build of upstream QEMU master).
STEP=fetch-qemu-source
. "$(dirname "$0")/lib.sh"

read -r _ _ _ version suite sums _ < <(awk '$1 == "src" && $2 == "qemu"' "$LOCK")
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
need_tool apt-get apt-cache sha256sum
mirror=$(apt_mirror)
apt_private "$suite-src" "deb-src $mirror $suite main"

# in_suite: whether the (signed) Sources index lists qemu at the pin
in_suite() {
    { apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null || true; } |
        awk -v v="$version" '/^Package: / { p = $2 } /^Version: / && p == "qemu" && $2 == v { f = 1 }
                             END { exit !f }'
}
if ! in_suite && { ! apt_refresh || ! in_suite; }; then
    now=$({ apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null || true; } |
          awk '/^Package: / { p = $2 } /^Version: / && p == "qemu" { print $2 }' | sort -u | paste -sd " ")
    die "qemu source $version is no longer in $suite (it has: ${now:-none}); the patch series is made for QEMU ${upstream%+ds}, so there is no fallback: build upstream QEMU master with QEMU_UPSTREAM_SRC instead (see README.md)"
fi
mkdir -p "$dest"
log "downloading qemu=$version source"
(cd "$dest" && apt-get "${APT_OPTS[@]}" -q source --download-only "qemu=$version" \
    >"$dest/download.log" 2>&1) ||
    die "apt-get source qemu=$version failed: $(grep -E '^E:' "$dest/download.log" | head -1)"
for f in "$orig:${sums%%:*}" "$debtar:${sums##*:}"; do
    got=$(sha256sum "$dest/${f%%:*}" | cut -d' ' -f1)
    if [ "$got" != "${f#*:}" ]; then
        rm -f "$dest/${f%%:*}"
        die "sha256 mismatch for ${f%%:*}: got $got, assets.lock pins ${f#*:}; no fallback"
    fi
done
touch "$stamp"
log "verified $orig and $debtar"
