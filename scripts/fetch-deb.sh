#!/bin/bash
# fetch-deb.sh PACKAGE[:ARCH]...: download pinned Debian binary packages,
# verify them against assets.lock and unpack each into
# $CACHE/debs/PACKAGE_ARCH/.  Prints nothing on a cache hit.
STEP=fetch-deb
. "$(dirname "$0")/lib.sh"

fetch_one() {
    local want=$1 name arch line version suite sum dir deb mirror sources
    name=${want%%:*}
    arch=${want#*:}
    [ "$arch" != "$want" ] || arch=
    line=$(awk -v n="$name" -v a="$arch" \
           '$1 == "deb" && $2 == n && (a == "" || $3 == a) { print; exit }' \
           "$TOP/assets.lock")
    [ -n "$line" ] || die "package $want is not pinned in assets.lock"
    read -r _ name arch version suite sum <<<"$line"
    dir=$CACHE/debs/${name}_$arch
    [ -e "$dir.stamp" ] && [ "$(cat "$dir.stamp")" = "$version $sum" ] && return 0

    need_tool apt-get dpkg-deb sha256sum
    case $suite in
    *-security) mirror=$(apt_security_mirror) ;;
    *) mirror=$(apt_mirror) ;;
    esac
    case $arch in
    all|amd64) sources="deb [arch=amd64] $mirror $suite main"
               apt_private "$suite-amd64" "$sources" ;;
    *) sources="deb [arch=$arch] $mirror $suite main"
       apt_private "$suite-$arch" --foreign "$arch" "$sources" ;;
    esac
    mkdir -p "$CACHE/debs"
    rm -rf "$dir" "$dir.stamp" "$dir.tmp"
    mkdir -p "$dir.tmp"
    log "downloading $name ($arch) $version from $suite"
    local spec=$name:$arch
    [ "$arch" != all ] || spec=$name
    (cd "$dir.tmp" && apt-get "${APT_OPTS[@]}" -q download "$spec=$version" \
        >download.log 2>&1) ||
        die "package $name=$version ($arch) not found in $suite: $(grep -E '^E:' "$dir.tmp/download.log" | head -1)"
    deb=$(ls "$dir.tmp"/*.deb)
    sha256_check "$deb" "$sum"
    mkdir -p "$dir.tmp/root"
    dpkg-deb -x "$deb" "$dir.tmp/root" || die "cannot unpack $(basename "$deb")"
    mv "$dir.tmp" "$dir"
    echo "$version $sum" > "$dir.stamp"
}

for p in "$@"; do
    fetch_one "$p"
done
