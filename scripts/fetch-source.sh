#!/bin/bash
# fetch-source.sh PACKAGE: download Debian's source package PACKAGE at the
# version its "src" line in assets.lock pins, and verify the orig and
# debian tarballs against that line.  Output: $CACHE/src/ holding both.
# A source pin never falls back: patches are made for one version.  When
# the version has left its suite the error says so (for qemu it points to
# QEMU_UPSTREAM_SRC, a build of upstream QEMU master).
STEP=fetch-source
. "$(dirname "$0")/lib.sh"

pkg=${1:?usage: fetch-source.sh PACKAGE}
read -r _ _ _ version suite sums _ <<<"$(awk -v p="$pkg" '$1 == "src" && $2 == p' "$LOCK")"
[ -n "${version:-}" ] || die "assets.lock has no $pkg source entry"
full=${version#*:}
upstream=${full%-*}
dest=$CACHE/src
stamp=$dest/${pkg}_$full.stamp

[ -e "$stamp" ] && exit 0
# a miss: wait for any other fetch, which may be downloading this source
fetch_lock
[ -e "$stamp" ] && exit 0
need_tool apt-get apt-cache sha256sum
apt_private "$suite-src" "deb-src $(apt_mirror) $suite main"

# versions: the versions of PACKAGE the (signed) Sources index lists
versions() {
    { apt-cache "${APT_OPTS[@]}" showsrc "$pkg" 2>/dev/null || true; } |
        awk -v p="$pkg" '/^Package: / { n = $2 } /^Version: / && n == p { print $2 }' |
        sort -u | paste -sd ' '
}
case " $(versions) " in
*" $version "*) ;;
*)
    # the index may be older than the pin
    apt_refresh || true
    case " $(versions) " in
    *" $version "*) ;;
    *)
        hint="pin a version it has in assets.lock"
        [ "$pkg" != qemu ] || hint="the patch series is made for QEMU ${upstream%+ds}: build upstream QEMU master with QEMU_UPSTREAM_SRC instead (see README.md)"
        die "$pkg source $version is no longer in $suite (it has: $(versions | sed 's/^$/none/')); there is no fallback: $hint" ;;
    esac ;;
esac

mkdir -p "$dest"
log "downloading $pkg=$version source"
rc=0
(cd "$dest" && apt-get "${APT_OPTS[@]}" -q source --download-only "$pkg=$version" \
    >"$dest/download-$pkg.log" 2>&1) || rc=$?
orig=$(cd "$dest" && { ls "${pkg}_$upstream".orig.tar.* 2>/dev/null || true; } | grep -v '\.asc$' | head -1)
debtar=$(cd "$dest" && { ls "${pkg}_$full".debian.tar.* 2>/dev/null || true; } | head -1)
[ -n "$orig" ] && [ -n "$debtar" ] ||
    die "apt-get source $pkg=$version failed: $(grep -E '^E:' "$dest/download-$pkg.log" | head -1)"
# a mirror may lack the .dsc while serving the tarballs; the sums of
# assets.lock are what the build trusts
[ "$rc" = 0 ] || log "apt-get source stopped early ($(grep -m1 -E '^E:' "$dest/download-$pkg.log")); checking the tarballs against assets.lock"
for f in "$orig:${sums%%:*}" "$debtar:${sums##*:}"; do
    got=$(sha256sum "$dest/${f%%:*}" | cut -d' ' -f1)
    if [ "$got" != "${f#*:}" ]; then
        rm -f "$dest/${f%%:*}"
        die "sha256 mismatch for ${f%%:*}: got $got, assets.lock pins ${f#*:}; no fallback"
    fi
done
touch "$stamp"
log "verified $orig and $debtar"
