#!/bin/bash
# fetch-source.sh [--print-version] PACKAGE: download Debian's source
# package PACKAGE at the version its "src" line in assets.lock pins, and
# verify the orig and debian tarballs against that line.  Output:
# $CACHE/src/ holding both; --print-version prints the version they are.
# fetch-source.sh --current PACKAGE prints "VERSION ORIG-SHA256:DEBIAN-SHA256"
# of the newest version the pin's suite has now (for make update-assets).
# The QEMU source never falls back: the patch series is made for one
# version, so when it has left its suite the error says so and points to
# QEMU_UPSTREAM_SRC (a build of upstream QEMU master).  Another source
# (U-Boot's) that has left its suite gives way to the suite's newest
# version, as fetch-deb.sh does for binary packages: apt checks it against
# the signed Sources index, and so does this script; one warning line
# names both versions, and the choice is recorded in $CACHE/lock-overrides.
STEP=fetch-source
. "$(dirname "$0")/lib.sh"

mode=${1:-}
case $mode in
--print-version|--current) shift ;;
*) mode= ;;
esac
pkg=${1:?usage: fetch-source.sh [--print-version|--current] PACKAGE}
read -r _ _ _ pin suite pin_sums _ <<<"$(awk -v p="$pkg" '$1 == "src" && $2 == p' "$LOCK")"
[ -n "${pin:-}" ] || die "assets.lock has no $pkg source entry"
dest=$CACHE/src
key="src $pkg source $pin $suite $pin_sums"

# stamp VERSION: the stamp of a verified download of that version
stamp() {
    echo "$dest/${pkg}_${1#*:}.stamp"
}

# in_use: set version and sums to the pin, or to its recorded replacement
in_use() {
    local ov
    version=$pin sums=$pin_sums
    ov=$(override_of "$key")
    [ -z "$ov" ] || read -r version sums <<<"$ov"
}

# cached: in_use, and whether a verified download of it is here
cached() {
    in_use
    [ -e "$(stamp "$version")" ]
}

done_with() {
    [ "$mode" != --print-version ] || echo "$version"
    exit 0
}

# on a miss, wait for any other fetch, which may be downloading this source
if [ "$mode" = --current ]; then
    fetch_lock
elif cached || { fetch_lock && cached; }; then
    done_with
fi
need_tool apt-get apt-cache sha256sum dpkg
apt_private "$suite-src" "deb-src $(apt_mirror) $suite main"

# records: "VERSION ORIG-SHA256:DEBIAN-SHA256" of each version of PACKAGE
# the (signed) Sources index lists, newest first
records() {
    { apt-cache "${APT_OPTS[@]}" showsrc "$pkg" 2>/dev/null || true; } |
        awk -v p="$pkg" '
            function flush() { if (n == p && v != "" && o != "" && d != "") print v, o ":" d; v = o = d = "" }
            /^Package: / { flush(); n = $2 }
            /^Version: / { v = $2 }
            /^Checksums-Sha256:/ { s = 1; next }
            /^[^ ]/ { s = 0 }
            s && $3 ~ /\.orig\.tar\.[a-z0-9]+$/ { o = $1 }
            s && $3 ~ /\.debian\.tar\.[a-z0-9]+$/ { d = $1 }
            END { flush() }' |
        newest_first
}
listed() {
    records | awk -v v="$1" '$1 == v { found = 1 } END { exit !found }'
}

if [ "$mode" = --current ]; then
    apt_refresh || true
    new=$(records | sed -n 1p)
    [ -n "$new" ] || die "$suite has no $pkg source at any version"
    echo "$new"
    exit 0
fi

replaced=
if ! listed "$version"; then
    # the index may be older than the pin
    apt_refresh || true
fi
if ! listed "$version" && [ "$version" != "$pin" ]; then
    # the recorded replacement has left the suite as well
    version=$pin sums=$pin_sums
fi
if ! listed "$version"; then
    has=$(records | awk '{ print $1 }' | paste -sd ' ')
    if [ "$pkg" = qemu ]; then
        full=${pin#*:}
        die "$pkg source $pin is no longer in $suite (it has: ${has:-none}); there is no fallback: the patch series is made for QEMU ${full%%[+-]*}: build upstream QEMU master with QEMU_UPSTREAM_SRC instead (see README.md)"
    fi
    new=$(records | sed -n 1p)
    [ -n "$new" ] || die "$pkg source $pin is no longer in $suite, which has no $pkg source at any version"
    read -r version sums <<<"$new"
    replaced=1
    log "warning: $pkg source $pin is no longer in $suite; using $version instead (recorded in $OVERRIDES)"
elif [ "$version" != "$pin" ]; then
    log "warning: $pkg source $pin is no longer in $suite; using $version as recorded in $OVERRIDES"
fi

full=${version#*:}
upstream=${full%-*}
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
# assets.lock (or, for a replacement, of the signed index) are what the
# build trusts
from="assets.lock pins" against=assets.lock
[ "$version" = "$pin" ] || from="its signed index says" against="the signed index"
[ "$rc" = 0 ] || log "apt-get source stopped early ($(grep -m1 -E '^E:' "$dest/download-$pkg.log")); checking the tarballs against $against"
for f in "$orig:${sums%%:*}" "$debtar:${sums##*:}"; do
    got=$(sha256sum "$dest/${f%%:*}" | cut -d' ' -f1)
    if [ "$got" != "${f#*:}" ]; then
        rm -f "$dest/${f%%:*}"
        die "sha256 mismatch for ${f%%:*}: got $got, $from ${f#*:}; no fallback"
    fi
done
[ -z "$replaced" ] || record_override "$key" "$version $sums"
touch "$(stamp "$version")"
log "verified $orig and $debtar"
done_with
