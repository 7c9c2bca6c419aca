#!/bin/bash
# fetch-pool.sh [--root] PACKAGE[:ARCH]=VERSION: a Debian package that
# assets.lock pins by its pool path ('pool' lines): a version that has left
# every index but is still in the mirror's pool, such as a superseded
# stable update kept to show a known failure.  It is downloaded from the
# pool of the mirror apt already uses (scripts/lib.sh apt_mirror) with
# apt's own downloader, which checks it against the pinned sha256 (no
# signed index lists it any more, so the pin is the only check), and is
# unpacked into $CACHE/pool/PACKAGE_ARCH_VERSION/root.  --root prints that
# directory.
# Exit status 3, with one line, when the pool no longer has the file:
# callers then report the measured result instead of asserting it.
STEP=fetch-pool
. "$(dirname "$0")/lib.sh"

print_root=
[ "${1:-}" != --root ] || { print_root=1; shift; }
spec=${1:?usage: fetch-pool.sh [--root] PACKAGE[:ARCH]=VERSION}
name=${spec%%=*} version=${spec#*=}
arch=${name#*:} name=${name%%:*}
[ "$arch" != "$name" ] || arch=
[ "$version" != "$spec" ] || die "$spec: give PACKAGE=VERSION"
line=$(lock_lines pool | awk -v n="$name" -v a="$arch" -v v="$version" \
       '$2 == n && (a == "" || $3 == a) && $4 == v { print; exit }')
[ -n "$line" ] || die "$name $version is not pinned by pool path in $LOCK"
read -r _ name arch version suite sum path _ <<<"$line"
dir=$CACHE/pool/${name}_${arch}_$version
if [ ! -e "$dir.stamp" ] || [ "$(cat "$dir.stamp")" != "$sum $path" ]; then
    fetch_lock
fi
if [ ! -e "$dir.stamp" ] || [ "$(cat "$dir.stamp")" != "$sum $path" ]; then
    need_tool dpkg-deb
    helper=/usr/lib/apt/apt-helper
    [ -x "$helper" ] || die "apt's $helper is missing"
    mirror=$(apt_mirror)
    rm -rf "$dir" "$dir.stamp" "$dir.tmp"
    mkdir -p "$dir.tmp"
    trap 'rm -rf "$dir.tmp"' EXIT
    deb=$dir.tmp/${path##*/}
    log "downloading $name ($arch) $version from the pool ($suite, in no index any more)"
    if ! "$helper" download-file "$mirror/$path" "$deb" "SHA256:$sum" >"$dir.tmp/download.log" 2>&1; then
        if grep -qi 'hash sum mismatch' "$dir.tmp/download.log"; then
            die "sha256 mismatch for $path: it is not the file assets.lock pins ($sum)"
        fi
        if grep -qE '404|Not Found' "$dir.tmp/download.log"; then
            log "$name $version ($arch) is no longer in the pool ($path)"
            exit 3
        fi
        die "cannot download $path: $(grep -m1 -E '^(E|Err):' "$dir.tmp/download.log" || tail -1 "$dir.tmp/download.log")"
    fi
    got=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$got" = "$sum" ] || die "sha256 mismatch for $path: got $got, assets.lock pins $sum"
    mkdir -p "$dir.tmp/root"
    dpkg-deb -x "$deb" "$dir.tmp/root" || die "cannot unpack ${path##*/}"
    rm -f "$deb" "$dir.tmp/download.log"
    mv "$dir.tmp" "$dir"
    echo "$sum $path" > "$dir.stamp"
fi
[ -z "$print_root" ] || echo "$dir/root"
