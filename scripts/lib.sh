# Shared shell helpers for the virt-split build scripts.
# shellcheck shell=bash

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VIRT_SPLIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virt-split}
BUILD=${VIRT_SPLIT_BUILD:-$TOP/build}
# ccache, where the machine has it: QEMU's configure names the compiler
# itself, so meson would not add ccache on its own; its compiler links
# come first in PATH instead.
if [ -d /usr/lib/ccache ] && command -v ccache >/dev/null 2>&1; then
    case ":$PATH:" in
    *:/usr/lib/ccache:*) ;;
    *) PATH=/usr/lib/ccache:$PATH ;;
    esac
fi

# The patch series in use: patches/ for QEMU 10.2.2, patches/upstream/
# for upstream master.
SERIES_DIR=${SERIES_DIR:-$TOP/patches}
STEP=${STEP:-$(basename "$0")}
# The pins (VIRT_SPLIT_LOCK: another lock file, for tests) and the choices
# made when a pin had left its suite (never in the repository).
LOCK=${VIRT_SPLIT_LOCK:-$TOP/assets.lock}
OVERRIDES=$CACHE/lock-overrides

# override_of KEY: what lock-overrides records for the pin KEY (its lock
# fields), or nothing
override_of() {
    [ ! -e "$OVERRIDES" ] ||
        awk -v k="$1 -> " 'index($0, k) == 1 { r = substr($0, length(k) + 1) } END { print r }' \
            "$OVERRIDES"
}

# record_override KEY CHOICE: record in lock-overrides that CHOICE replaces
# the pin KEY, which has left its suite
record_override() {
    { grep -vF "$1 -> " "$OVERRIDES" 2>/dev/null || true
      echo "$1 -> $2"; } > "$OVERRIDES.tmp"
    mv "$OVERRIDES.tmp" "$OVERRIDES"
}

log() { printf '[%s] %s\n' "$STEP" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$STEP" "$*" >&2; exit 1; }

# lock_until_exit FILE: wait for, then hold, an exclusive lock on FILE
# until this process exits.  make check runs suites in the background, so
# two steps may want the same cache entry or apt index at once; the one
# that waited finds the entry made, or makes it alone.  Only for
# processes that start no other step taking the same lock.
lock_until_exit() {
    local fd
    mkdir -p "$(dirname "$1")"
    exec {fd}>>"$1" || die "cannot open the lock file $1"
    flock "$fd" || die "cannot lock $1"
}

# fetch_lock: lock_until_exit on the download cache's fetch lock, once
# per process: downloads and apt index refreshes happen one at a time
FETCH_LOCKED=
fetch_lock() {
    [ -n "$FETCH_LOCKED" ] || lock_until_exit "$CACHE/fetch.lock"
    FETCH_LOCKED=1
}

need_tool() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || die "missing tool '$t'"
    done
}

# The Debian mirror the machine already uses, read from apt's own view of
# its configured sources.  No host name is ever written into the project.
apt_mirror() {
    local codename uri
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
          awk -v c="$codename" '$2 == c { print $1; exit }')
    if [ -z "$uri" ]; then
        uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
              awk '$1 ~ /\/debian\/?$/ { print $1; exit }')
    fi
    [ -n "$uri" ] || die "no Debian mirror found in the apt configuration (run 'apt-get update' first?)"
    echo "${uri%/}"
}

# The security mirror, for packages pinned from a -security suite.
apt_security_mirror() {
    local uri
    uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
          awk '$2 ~ /-security$/ { print $1; exit }')
    [ -n "$uri" ] || die "no Debian security mirror found in the apt configuration"
    echo "${uri%/}"
}

# apt_private NAME [--foreign ARCH] LINE...: set APT_OPTS to a private apt
# configuration whose sources are the given lines, and refresh its indexes
# once.  --foreign lets apt-get download fetch packages of another arch.
apt_private() {
    local name=$1 dir foreign=()
    shift
    if [ "${1:-}" = --foreign ]; then
        foreign=(-o "APT::Architectures::=$2")
        shift 2
    fi
    dir=$CACHE/apt/$name
    APT_DIR=$dir
    mkdir -p "$dir/lists/partial" "$dir/archives/partial"
    printf '%s\n' "$@" > "$dir/sources.list.new"
    APT_OPTS=(-o "Dir::Etc::sourcelist=$dir/sources.list"
              -o "Dir::Etc::sourceparts=-"
              -o "Dir::State::Lists=$dir/lists"
              -o "Dir::Cache::Archives=$dir/archives"
              -o "Acquire::Languages=none" "${foreign[@]}")
    if ! cmp -s "$dir/sources.list.new" "$dir/sources.list" ||
       [ ! -e "$dir/updated.stamp" ]; then
        mv "$dir/sources.list.new" "$dir/sources.list"
        rm -f "$dir/updated.stamp"
        log "refreshing package indexes ($name)"
        apt-get "${APT_OPTS[@]}" -q update >"$dir/update.log" 2>&1 ||
            die "apt-get update for '$name' failed: $(grep -E '^(E|W):' "$dir/update.log" | head -1)"
        touch "$dir/updated.stamp"
    else
        rm -f "$dir/sources.list.new"
    fi
}

# apt_suite SUITE ARCH: apt_private for the binary packages of SUITE that
# run on ARCH ("all" packages come from the amd64 index).
apt_suite() {
    local suite=$1 arch=$2 mirror
    case $suite in
    *-security) mirror=$(apt_security_mirror) ;;
    *) mirror=$(apt_mirror) ;;
    esac
    case $arch in
    all|amd64) apt_private "$suite-amd64" "deb [arch=amd64] $mirror $suite main" ;;
    *) apt_private "$suite-$arch" --foreign "$arch" "deb [arch=$arch] $mirror $suite main" ;;
    esac
}

# apt_refresh: refresh the indexes of the last apt_private now, unless
# that happened less than VIRT_SPLIT_INDEX_MAX_AGE seconds (default 1800)
# ago, or since the time VIRT_SPLIT_INDEX_SINCE (seconds since the epoch).
# Returns 1 when the indexes were already fresh.
apt_refresh() {
    local since
    since=${VIRT_SPLIT_INDEX_SINCE:-$(( $(date +%s) - ${VIRT_SPLIT_INDEX_MAX_AGE:-1800} ))}
    [ "$(stat -c %Y "$APT_DIR/updated.stamp" 2>/dev/null || echo 0)" -lt "$since" ] || return 1
    log "refreshing package indexes ($(basename "$APT_DIR"))"
    apt-get "${APT_OPTS[@]}" -q update >"$APT_DIR/update.log" 2>&1 ||
        die "apt-get update for '$(basename "$APT_DIR")' failed: $(grep -E '^(E|W):' "$APT_DIR/update.log" | head -1)"
    touch "$APT_DIR/updated.stamp"
}

# index_records NAME ARCH: "VERSION SHA256" of each version of NAME for
# ARCH in the current apt_private's (signed) indexes, newest first.
index_records() {
    local spec=$1:$2
    [ "$2" != all ] || spec=$1
    { apt-cache "${APT_OPTS[@]}" show "$spec" 2>/dev/null || true; } |
        awk -v a="$2" '/^Version:/ { v = $2 } /^Architecture:/ { arch = $2 }
                       /^SHA256:/ { s = $2 }
                       /^$/ { if (v != "" && arch == a) print v, s; v = "" }
                       END { if (v != "" && arch == a) print v, s }' |
        newest_first
}

# newest_first: the lines "VERSION REST" of stdin, without duplicates, in
# Debian version order, newest first
newest_first() {
    local recs=() v s best i
    while read -r v s; do recs+=("$v $s"); done < <(sort -u)
    # selection sort: dpkg is the only judge of Debian version order
    while [ "${#recs[@]}" -gt 0 ]; do
        best=0
        for i in "${!recs[@]}"; do
            dpkg --compare-versions "${recs[$i]%% *}" gt "${recs[$best]%% *}" && best=$i
        done
        echo "${recs[$best]}"
        unset "recs[$best]"
        recs=("${recs[@]}")
    done
}

# lock_lines KIND: the lines of that kind in the lock, comments dropped
lock_lines() {
    awk -v k="$1" '$1 == k' "$LOCK"
}

# kernel_release ROOT: the one kernel release an unpacked kernel package
# holds (the directory under lib/modules), e.g. what `uname -r` prints.
kernel_release() {
    local d n=0 rel=
    for d in "$1"/usr/lib/modules/* "$1"/lib/modules/*; do
        [ -d "$d" ] || continue
        rel=$(basename "$d")
        n=$((n + 1))
    done
    [ "$n" = 1 ] || die "$1 holds $n kernel releases, expected one"
    echo "$rel"
}

sha256_check() {
    local file=$1 want=$2 got
    got=$(sha256sum "$file" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "checksum mismatch for $(basename "$file"): got $got, want $want"
}

run_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root and sudo is missing"
    fi
}

# series_hash EXTRA: what a prepared tree was made from: EXTRA (the QEMU
# version and Debian patches), the series and the project files it names.  The tree is re-prepared when
# it changes.
series_hash() {
    { echo "$1"
      cat "$SERIES_DIR/series"
      awk '!/^#/ && NF { print $1 }' "$SERIES_DIR/series" | while read -r p; do
          cat "$SERIES_DIR/$p"
      done
    } | sha256sum | cut -d' ' -f1
}

DEBIAN_PATCHES="skip-unpack-edk2-blobs.patch skip-install-dtb.patch disable-pycotap.patch"
qemu_version() {
    awk '$1 == "src" && $2 == "qemu" { print $4 }' "$LOCK"
}

# sync_project_files DIR: copy the project's files into the QEMU tree DIR
# where the repository copy is newer, so edits made inside the tree are
# not overwritten.
sync_project_files() {
    local dir=$1 from to
    while read -r from to; do
        case $from in ''|'#'*) continue ;; esac
        [ -e "$TOP/$from" ] || continue
        mkdir -p "$(dirname "$dir/$to")"
        cp -u "$TOP/$from" "$dir/$to"
    done < "$TOP/scripts/project-files"
}

# apply_series_in DIR: apply $SERIES_DIR/series to the git tree DIR, one
# commit per patch; project files named after a patch join its commit.
apply_series_in() {
    local dir=$1 p files f to
    local git=(git -C "$dir" -c user.name=virt-split -c user.email=virt-split@localhost
               -c commit.gpgsign=false)
    while read -r p files; do
        case $p in ''|'#'*) continue ;; esac
        "${git[@]}" am -q --keep-cr --empty=keep "$SERIES_DIR/$p" >/dev/null 2>&1 || {
            "${git[@]}" am --abort >/dev/null 2>&1 || true
            die "patch $SERIES_DIR/$p does not apply"
        }
        [ -n "$files" ] || continue
        for f in ${files//+/}; do
            to=$(awk -v f="$f" '$1 == f { print $2 }' "$TOP/scripts/project-files")
            [ -n "$to" ] || die "patches/series names $f, which is not in scripts/project-files"
            [ -e "$TOP/$f" ] || die "patches/series names $f, which does not exist"
            mkdir -p "$(dirname "$dir/$to")"
            cp "$TOP/$f" "$dir/$to"
            "${git[@]}" add "$to"
        done
        "${git[@]}" commit -q --amend --no-edit
    done < "$SERIES_DIR/series"
}

# suite_results PREFIX: record and check for a test suite that writes
# "PASS|FAIL PREFIX/NAME: TEXT" lines to $RESULTS; check sets failed=1
# when a check fails.
#   record PASS|FAIL NAME: TEXT
#   check NAME TEXT COMMAND...   PASS when COMMAND succeeds
suite_results() {
    SUITE_PREFIX=$1
    failed=
    record() {
        echo "$1 $SUITE_PREFIX/$2" >> "$RESULTS"
        printf '%-4s %s/%s\n' "$1" "$SUITE_PREFIX" "$2"
    }
    check() {
        local name=$1 text=$2
        shift 2
        if "$@"; then record PASS "$name: $text"; else record FAIL "$name: $text"; failed=1; fi
    }
}
