#!/bin/bash
# fetch-deb.sh PACKAGE[:ARCH][=VERSION]...: download pinned Debian binary
# packages, verify them against assets.lock and unpack each into
# $CACHE/debs/PACKAGE_ARCH/ (the first pin of a package and arch) or
# $CACHE/debs/PACKAGE_ARCH=VERSION/ (a further pin, named by its version).
# Prints nothing on a cache hit.
STEP=fetch-deb
. "$(dirname "$0")/lib.sh"

fetch_one() {
    local want=$1 name arch ver line first version suite sum dir deb mirror sources
    name=${want%%=*}
    ver=${want#"$name"}
    ver=${ver#=}
    arch=${name#*:}
    name=${name%%:*}
    [ "$arch" != "$name" ] || arch=
    line=$(awk -v n="$name" -v a="$arch" -v v="$ver" \
           '$1 == "deb" && $2 == n && (a == "" || $3 == a) && (v == "" || $4 == v) { print; exit }' \
           "$TOP/assets.lock")
    [ -n "$line" ] || die "package $want is not pinned in assets.lock"
    read -r _ name arch version suite sum <<<"$line"
    first=$(awk -v n="$name" -v a="$arch" '$1 == "deb" && $2 == n && $3 == a { print $4; exit }' \
            "$TOP/assets.lock")
    dir=$CACHE/debs/${name}_$arch
    [ "$version" = "$first" ] || dir=$dir=$version
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
