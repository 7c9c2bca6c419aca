#!/bin/bash
# prepare-upstream.sh [--check-source | --source-only | --run CMD...]:
# turn upstream QEMU master, as QEMU_UPSTREAM_SRC names it, into a git
# tree under build/upstream/src:
#   pristine     the source as given (plus the subprojects a git clone lacks)
#   then one commit per line of patches/upstream/series
#
# QEMU_UPSTREAM_SRC is the only source (docs/upstream.md); nothing is
# shipped with the project and there is no default.  It is one of
#   a tarball            qemu-*.tar.xz (or .gz, .bz2, a plain .tar)
#   a git checkout       its HEAD commit (uncommitted changes are not used)
#   a bare git repository  its HEAD
#   PATH@REV             commit REV (a hash, tag or branch) of the checkout
#                        or bare repository PATH, e.g. ~/qemu@ae4f3443
# A source that is not QEMU (no VERSION or hw/riscv/virt.c), or does not
# exist, stops with one line.
#
# A git clone of master has no files in subprojects/keycodemapdb,
# berkeley-softfloat-3 and berkeley-testfloat-3, which configure
# --disable-download needs.  They are filled from Debian's 10.2.2 orig
# tarball (the download cache) when the revision= of master's .wrap file
# is the one of the tarball's; otherwise it stops with one line naming the
# subproject and both revisions.  master's subprojects/packagefiles/ is
# laid over them, as meson does.
#
# --check-source  says in one line whether there is a source and exits 0
#                 with one, 3 without one, 1 (one line on stderr) for a bad one
# --source-only   only unpack the source into build/upstream/src (tag
#                 pristine), without the series (for tests)
# --run CMD...    run CMD when there is a source; without one print the
#                 one line and exit 0 (what every master make target does)
STEP=prepare-upstream
. "$(dirname "$0")/lib.sh"

UP=$BUILD/upstream
SRC=$UP/src
STAMP=$UP/src.stamp
export SERIES_DIR=$TOP/patches/upstream
GIT=(git -C "$SRC" -c user.name=virt-split -c user.email=virt-split@localhost
     -c commit.gpgsign=false)
SUBPROJECTS="keycodemapdb berkeley-softfloat-3 berkeley-testfloat-3"
NO_SOURCE="no upstream QEMU source: set QEMU_UPSTREAM_SRC to a tarball, git checkout or bare git repository of QEMU master (PATH@REV for a commit); nothing done"

# resolve_source: from QEMU_UPSTREAM_SRC set KIND (tar or git), SPATH and,
# for git, REV (a commit); stops with one line for a bad source
resolve_source() {
    local s=$QEMU_UPSTREAM_SRC rev=
    if [ ! -e "$s" ] && [[ $s == *@* ]] && [ -d "${s%@*}" ]; then
        rev=${s##*@}
        s=${s%@*}
        [ -n "$rev" ] || die "QEMU_UPSTREAM_SRC=$QEMU_UPSTREAM_SRC names no revision after @"
    fi
    [ -e "$s" ] || die "QEMU_UPSTREAM_SRC=$s does not exist"
    SPATH=$(readlink -f "$s")
    if [ -d "$s" ]; then
        KIND=git
        git -C "$s" rev-parse --git-dir >/dev/null 2>&1 ||
            die "QEMU_UPSTREAM_SRC=$s is a directory but neither a git checkout nor a bare git repository"
        # a directory inside another repository is not a checkout of its own
        if [ "$(git -C "$s" rev-parse --is-bare-repository)" != true ] &&
           [ "$(git -C "$s" rev-parse --show-toplevel)" != "$SPATH" ]; then
            die "QEMU_UPSTREAM_SRC=$s is not the top of a git checkout"
        fi
        REV=$(git -C "$s" rev-parse -q --verify "${rev:-HEAD}^{commit}" 2>/dev/null) ||
            die "QEMU_UPSTREAM_SRC=$QEMU_UPSTREAM_SRC: no commit '${rev:-HEAD}' in $s"
        git -C "$s" cat-file -e "$REV:VERSION" 2>/dev/null &&
            git -C "$s" cat-file -e "$REV:hw/riscv/virt.c" 2>/dev/null ||
            die "QEMU_UPSTREAM_SRC=$QEMU_UPSTREAM_SRC is not QEMU: commit ${REV:0:12} has no VERSION and hw/riscv/virt.c"
        return
    fi
    [ -z "$rev" ] || die "QEMU_UPSTREAM_SRC=$QEMU_UPSTREAM_SRC: @REV needs a git repository"
    KIND=tar
    REV=
    local list
    list=$(tar -tf "$s" 2>/dev/null | grep -E '^[^/]+/(VERSION|hw/riscv/virt\.c)$' | sort -u || true)
    [ -n "$list" ] || tar -tf "$s" >/dev/null 2>&1 ||
        die "QEMU_UPSTREAM_SRC=$s is neither a directory nor a tarball tar can read"
    [ "$(wc -l <<<"$list")" = 2 ] ||
        die "QEMU_UPSTREAM_SRC=$s is not QEMU: the tarball has no */VERSION and */hw/riscv/virt.c"
}

describe_source() {
    case $KIND in
    git) echo "$SPATH at commit ${REV:0:12} (QEMU $(git -C "$SPATH" show "$REV:VERSION"))" ;;
    tar) echo "the tarball $SPATH" ;;
    esac
}

# source_id: what identifies the source: the commit, or the tarball's sha256
source_id() {
    case $KIND in
    git) echo "git-$REV" ;;
    tar) echo "tar-$(sha256sum "$SPATH" | cut -d' ' -f1)" ;;
    esac
}

wrap_revision() {
    awk -F= '$1 ~ /^[ \t]*revision[ \t]*$/ { gsub(/[ \t\r]/, "", $2); print $2; exit }' "$1"
}

# orig_subprojects: a directory with the subprojects (and their .wrap
# files) of Debian's 10.2.2 orig tarball, unpacked once into the download
# cache next to the tarball
orig_subprojects() {
    local version orig dir pats=() s
    version=$(qemu_version)
    orig=$CACHE/src/qemu_$(v=${version#*:}; echo "${v%-*}").orig.tar.xz
    dir=${orig%.tar.xz}.subprojects
    if [ ! -e "$dir/done" ]; then
        [ -e "$orig" ] || "$TOP/scripts/fetch-qemu-source.sh" >&2
        lock_until_exit "$dir.lock"
    fi
    if [ ! -e "$dir/done" ]; then
        for s in $SUBPROJECTS; do
            pats+=("*/subprojects/$s" "*/subprojects/$s.wrap")
        done
        rm -rf "$dir.tmp"
        mkdir -p "$dir.tmp"
        tar -xJf "$orig" -C "$dir.tmp" --strip-components=2 --wildcards "${pats[@]}" 2>/dev/null ||
            die "cannot unpack subprojects/{$(echo $SUBPROJECTS | tr ' ' ,)} from $(basename "$orig")"
        touch "$dir.tmp/done"
        rm -rf "$dir"
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}

# fill_subprojects DIR: the subprojects configure --disable-download
# needs, from Debian's 10.2.2 orig tarball, where DIR lacks them
fill_subprojects() {
    local dir=$1 s need=() from want have
    for s in $SUBPROJECTS; do
        [ -f "$dir/subprojects/$s.wrap" ] || continue
        [ -z "$(ls -A "$dir/subprojects/$s" 2>/dev/null)" ] || continue
        need+=("$s")
    done
    [ "${#need[@]}" != 0 ] || return 0
    from=$(orig_subprojects)
    for s in "${need[@]}"; do
        want=$(wrap_revision "$dir/subprojects/$s.wrap")
        have=$(wrap_revision "$from/$s.wrap" 2>/dev/null || true)
        if [ -z "$want" ] || [ "$want" != "$have" ] || [ -z "$(ls -A "$from/$s" 2>/dev/null)" ]; then
            die "subprojects/$s is empty and cannot be filled: master's $s.wrap wants revision ${want:-(none)}, Debian's 10.2.2 tarball has ${have:-(none)}; put the files of that revision in subprojects/$s of the source"
        fi
        rm -rf "$dir/subprojects/$s"
        cp -a "$from/$s" "$dir/subprojects/$s"
        if [ -d "$dir/subprojects/packagefiles/$s" ]; then
            cp -a "$dir/subprojects/packagefiles/$s/." "$dir/subprojects/$s/"
        fi
    done
    log "filled subprojects/{$(IFS=,; echo "${need[*]}")} from Debian's 10.2.2 orig tarball: the revisions of master's .wrap files"
}

unpack_source() {
    local id=$1 tmp=$UP/src.tmp
    rm -rf "$tmp" "$SRC" "$UP/pristine/src"
    mkdir -p "$tmp"
    case $KIND in
    git)
        log "exporting commit ${REV:0:12} of $SPATH"
        git -C "$SPATH" archive --format=tar "$REV" | tar -x -C "$tmp" ||
            die "cannot export commit ${REV:0:12} of $SPATH with git archive"
        ;;
    tar)
        log "unpacking $SPATH"
        tar -xf "$SPATH" -C "$tmp" --strip-components=1 2>/dev/null ||
            die "cannot unpack $SPATH (sha256 ${id#tar-}): not a complete tarball"
        ;;
    esac
    [ -f "$tmp/VERSION" ] && [ -f "$tmp/hw/riscv/virt.c" ] ||
        die "$SPATH does not hold a QEMU source tree"
    fill_subprojects "$tmp"
    git -C "$tmp" init -q -b master || die "git init failed"
    mv "$tmp" "$SRC"
    "${GIT[@]}" add -A -f
    "${GIT[@]}" commit -q -m "QEMU $(cat "$SRC/VERSION") ($id, pristine)"
    "${GIT[@]}" tag -f pristine >/dev/null
    echo "$id" > "$UP/src.id"
}

mode=${1:-}
if [ -z "${QEMU_UPSTREAM_SRC:-}" ]; then
    case $mode in
    --check-source) echo "$NO_SOURCE"; exit 3 ;;
    --run) echo "$NO_SOURCE"; exit 0 ;;
    *) die "$NO_SOURCE" ;;
    esac
fi
need_tool git tar
resolve_source
case $mode in
--check-source)
    echo "upstream QEMU source: $(describe_source)"
    exit 0 ;;
--run)
    shift
    [ $# -gt 0 ] || die "--run needs a command"
    exec "$@" ;;
--source-only|'') ;;
*) die "unknown option '$mode'" ;;
esac
mkdir -p "$UP"
id=$(source_id)
if [ "$mode" = --source-only ]; then
    rm -f "$STAMP"
    unpack_source "$id"
    exit 0
fi
want=$(series_hash "$id")
if [ -e "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -d "$SRC/.git" ]; then
    sync_project_files "$SRC"
    exit 0
fi
rm -f "$STAMP"
if [ ! -d "$SRC/.git" ] || [ "$(cat "$UP/src.id" 2>/dev/null)" != "$id" ]; then
    unpack_source "$id"
fi
if [ "$KIND" = git ] && [ -n "$(git -C "$SPATH" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    log "note: uncommitted changes in $SPATH are not used (commit ${REV:0:12} is)"
fi
log "applying patches/upstream/series to $(describe_source)"
"${GIT[@]}" checkout -q -f pristine
"${GIT[@]}" clean -q -fd
"${GIT[@]}" checkout -q -B master
apply_series_in "$SRC"
"${GIT[@]}" tag -f series >/dev/null
echo "$want" > "$STAMP"
