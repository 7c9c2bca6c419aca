#!/bin/bash
# fetch-deb.sh [--root] PACKAGE[:ARCH][=VERSION]...: download pinned Debian
# binary packages, verify them against assets.lock and unpack each into
# $CACHE/debs/PACKAGE_ARCH/ (the first pin of a package and arch) or
# $CACHE/debs/PACKAGE_ARCH=VERSION/ (a further pin, named by its version).
# PACKAGE may be a glob over the pinned names ('linux-binary-*-riscv64'),
# so that callers never name a kernel version.  --root prints each
# package's unpacked root directory.  Prints nothing else on a cache hit.
# --current prints "NAME VERSION SHA256" that each pin's suite has now.
#
# When a pinned version has left its suite, the suite's current version
# of the same package is used instead or, for a name that carries a
# kernel ABI, the newest package matching the 'successor' pattern that
# assets.lock declares for it (packages pinned with the same ABI move to
# the same new ABI).  apt checks the new .deb against the suite's signed
# index, and so does this script; one warning line names the old and the
# new version, and the choice is recorded in $CACHE/lock-overrides, which
# later runs reuse.  A checksum mismatch never falls back.
# VIRT_SPLIT_DEB_SEED=DIR: take matching .deb files found under DIR
# (e.g. another cache's debs/) instead of downloading them again; they
# are verified all the same.
STEP=fetch-deb
. "$(dirname "$0")/lib.sh"

TMP_DIRS=()
trap 'for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done' EXIT

# lock_deb SPEC: the assets.lock line SPEC selects
lock_deb() {
    local want=$1 name arch ver kind n a v rest
    name=${want%%=*}
    ver=${want#"$name"}
    ver=${ver#=}
    arch=${name#*:}
    name=${name%%:*}
    [ "$arch" != "$name" ] || arch=
    while read -r kind n a v rest; do
        # shellcheck disable=SC2053 # $name is a glob on purpose
        [[ $n == $name ]] || continue
        [ -z "$arch" ] || [ "$a" = "$arch" ] || continue
        [ -z "$ver" ] || [ "$v" = "$ver" ] || continue
        echo "$kind $n $a $v $rest"
        return 0
    done <<<"$(lock_lines deb)"
    die "package $want is not pinned in $LOCK"
}

# successor_of NAME ARCH: the successor pattern assets.lock declares for
# a pinned name (an extended regex whose group is the ABI), if any
successor_of() {
    local re a
    while read -r _ re a _; do
        [ -n "$re" ] && [ "$a" = "$2" ] || continue
        if [[ $1 =~ ^${re}$ ]]; then
            echo "$re"
            return 0
        fi
    done <<<"$(lock_lines successor)"
    return 0
}

# abis RE: the ABI of every package in the index whose name matches RE
abis() {
    local n
    { grep -E "^${1}\$" <<<"$INDEX_NAMES" || true; } | while read -r n; do
        if [[ $n =~ ^${1}$ ]]; then echo "${BASH_REMATCH[1]}"; fi
    done | sort -u
}

# index_sum NAME ARCH VERSION: the index's sha256 of that version, or
# nothing when the (current) index does not have it
index_sum() {
    index_records "$1" "$2" | awk -v v="$3" '$1 == v { print $2; exit }'
}

# resolve NAME ARCH SUITE: "NAME VERSION SHA256" that replaces a pin that
# has left SUITE (the apt_suite of SUITE must be active)
resolve() {
    local name=$1 arch=$2 suite=$3 re abi n a s sre rec best='' bestrec='' c
    re=$(successor_of "$name" "$arch")
    if [ -z "$re" ]; then
        rec=$(index_records "$name" "$arch" | head -1)
        [ -n "$rec" ] || die "$name ($arch) is no longer in $suite at any version, and assets.lock declares no successor pattern for it"
        echo "$name $rec"
        return 0
    fi
    [[ $name =~ ^${re}$ ]]
    abi=${BASH_REMATCH[1]}
    INDEX_NAMES=$(apt-cache "${APT_OPTS[@]}" pkgnames 2>/dev/null | sort -u)
    # ABIs that every pin sharing this one's ABI (e.g. linux-binary and
    # linux-modules) can move to together
    local candidates
    candidates=$(abis "$re")
    while read -r _ n a _ s _; do
        [ "$a" = "$arch" ] && [ "$s" = "$suite" ] && [ "$n" != "$name" ] || continue
        sre=$(successor_of "$n" "$a")
        [ -n "$sre" ] && [[ $n =~ ^${sre}$ ]] && [ "${BASH_REMATCH[1]}" = "$abi" ] || continue
        candidates=$(comm -12 <(echo "$candidates") <(abis "$sre"))
    done <<<"$(lock_lines deb)"
    for c in $candidates; do
        n=$({ grep -E "^${re}\$" <<<"$INDEX_NAMES" || true; } | while read -r n; do
                if [[ $n =~ ^${re}$ ]] && [ "${BASH_REMATCH[1]}" = "$c" ]; then echo "$n"; fi
            done | head -1)
        rec=$(index_records "$n" "$arch" | head -1)
        [ -n "$rec" ] || continue
        if [ -z "$best" ] || dpkg --compare-versions "${rec%% *}" gt "${bestrec%% *}"; then
            best=$n bestrec=$rec
        fi
    done
    [ -n "$best" ] || die "$name ($arch) is no longer in $suite and no package there matches its successor pattern '$re' (with all the packages pinned at ABI $abi)"
    echo "$best $bestrec"
}

# download NAME ARCH VERSION DIR: apt-get download into DIR, which apt
# checks against the signed index; print the .deb's path
download() {
    local name=$1 arch=$2 version=$3 dir=$4 spec=$1:$2 f deb
    [ "$arch" != all ] || spec=$name
    deb=$dir/${name}_${version//:/%3a}_$arch.deb
    if [ -n "${VIRT_SPLIT_DEB_SEED:-}" ]; then
        f=$(find "$VIRT_SPLIT_DEB_SEED" -name "$(basename "$deb")" -print -quit 2>/dev/null)
        [ -z "$f" ] || ln "$f" "$deb" 2>/dev/null || cp "$f" "$deb"
    fi
    (cd "$dir" && apt-get "${APT_OPTS[@]}" -q download "$spec=$version" >download.log 2>&1) ||
        return 1
    [ -e "$deb" ] || die "apt-get download $spec=$version wrote no $(basename "$deb")"
    echo "$deb"
}

# cached: whether $dir holds the pin of fetch_one's $key, or the
# replacement recorded for it; sets ov, get_name, get_version, get_sum
# and stamp (what $dir.stamp holds then)
cached() {
    # a replacement recorded by an earlier run, for exactly this pin
    ov=$(override_of "$key")
    if [ -n "$ov" ]; then
        read -r get_name get_version get_sum <<<"$ov"
        stamp="$get_name $get_version $get_sum"
    else
        get_name=$name get_version=$version get_sum=$sum
        stamp="$version $sum"
    fi
    [ -e "$dir.stamp" ] && [ "$(cat "$dir.stamp")" = "$stamp" ]
}

fetch_one() {
    local line name arch version suite sum first dir key ov stamp
    local get_name get_version get_sum index replaced='' refreshed='' deb
    line=$(lock_deb "$1")
    read -r _ name arch version suite sum _ <<<"$line"
    first=$(lock_lines deb | awk -v n="$name" -v a="$arch" '$2 == n && $3 == a { print $4; exit }')
    dir=$CACHE/debs/${name}_$arch
    [ "$version" = "$first" ] || dir=$dir=$version
    key="deb $name $arch $version $suite $sum"
    # on a miss, wait for any other fetch, which may be making this entry
    # (and recording a replacement for it)
    if cached || { fetch_lock && cached; }; then
        [ -z "$print_root" ] || echo "$dir/root"
        return 0
    fi

    need_tool apt-get apt-cache dpkg dpkg-deb sha256sum
    apt_suite "$suite" "$arch"
    mkdir -p "$CACHE/debs"
    rm -rf "$dir" "$dir.stamp" "$dir.tmp"
    TMP_DIRS+=("$dir.tmp")
    mkdir -p "$dir.tmp"
    while :; do
        index=$(index_sum "$get_name" "$arch" "$get_version")
        if [ -z "$index" ] && [ -n "$ov" ]; then
            # the recorded replacement has left the suite as well
            get_name=$name get_version=$version get_sum=$sum ov=
            continue
        fi
        if [ -z "$index" ] && [ -z "$refreshed" ]; then
            refreshed=1
            apt_refresh && continue
        fi
        if [ -z "$index" ]; then
            line=$(resolve "$name" "$arch" "$suite") || exit 1
            read -r get_name get_version get_sum <<<"$line"
            index=$get_sum
            replaced=1
            log "warning: $name $version ($arch) is no longer in $suite; using $get_name $get_version instead (recorded in $OVERRIDES)"
        elif [ -n "$ov" ] && [ -z "$replaced" ]; then
            replaced=1
            log "warning: $name $version ($arch) is no longer in $suite; using $get_name $get_version as recorded in $OVERRIDES"
        fi
        [ -z "$replaced" ] || log "downloading $get_name ($arch) $get_version from $suite"
        [ -n "$replaced" ] || log "downloading $name ($arch) $version from $suite"
        if deb=$(download "$get_name" "$arch" "$get_version" "$dir.tmp"); then
            break
        fi
        # listed but not downloadable: the index may be out of date
        if [ -z "$refreshed" ]; then
            refreshed=1
            apt_refresh && continue
        fi
        die "package $get_name=$get_version ($arch) could not be downloaded from $suite: $(grep -E '^E:' "$dir.tmp/download.log" | head -1)"
    done
    local got
    got=$(sha256sum "$deb" | cut -d' ' -f1)
    if [ -z "$replaced" ]; then
        [ "$got" = "$sum" ] ||
            die "sha256 mismatch for $name $version ($arch) from $suite: got $got, assets.lock pins $sum; that version is still in $suite, so there is no fallback"
    else
        # a replacement: the signed index vouches for it
        [ "$got" = "$index" ] && { [ -z "$ov" ] || [ "$got" = "$get_sum" ]; } ||
            die "sha256 mismatch for $get_name $get_version ($arch) from $suite: got $got, its signed index says $index"
        get_sum=$got
    fi
    mkdir -p "$dir.tmp/root"
    dpkg-deb -x "$deb" "$dir.tmp/root" || die "cannot unpack $(basename "$deb")"
    if [ -n "$replaced" ] && [ "$ov" != "$get_name $get_version $get_sum" ]; then
        # record the choice once the replacement is verified and unpacked
        record_override "$key" "$get_name $get_version $get_sum"
    fi
    [ -z "$replaced" ] || stamp="$get_name $get_version $get_sum"
    mv "$dir.tmp" "$dir"
    echo "$stamp" > "$dir.stamp"
    [ -z "$print_root" ] || echo "$dir/root"
}

# current_one SPEC: "NAME VERSION SHA256" that SPEC's suite has now (for
# make update-assets), from freshly refreshed indexes
current_one() {
    local name arch suite
    read -r _ name arch _ suite _ <<<"$(lock_deb "$1")"
    need_tool apt-get apt-cache dpkg
    fetch_lock
    apt_suite "$suite" "$arch"
    apt_refresh || true
    resolve "$name" "$arch" "$suite"
}

print_root=
case ${1:-} in
--root) print_root=1; shift ;;
--current)
    shift
    for p in "$@"; do
        current_one "$p"
    done
    exit 0 ;;
esac
for p in "$@"; do
    fetch_one "$p"
done
