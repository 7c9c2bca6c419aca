#!/bin/bash
# update-assets.sh: re-pin assets.lock to what its suites have now, with
# the sha256 sums of their signed indexes, and show the diff.  Kernel
# packages move to the newest ABI their successor patterns match (binary
# and modules together), the U-Boot source to its suite's newest.  The
# QEMU source is not re-pinned: the patch series is made for one QEMU
# version; a newer one is only reported.
STEP=update-assets
. "$(dirname "$0")/lib.sh"

need_tool apt-get apt-cache awk diff
# refresh every index once in this run
VIRT_SPLIT_INDEX_SINCE=$(date +%s)
export VIRT_SPLIT_INDEX_SINCE
new=$(mktemp)
trap 'rm -f "$new"' EXIT

# pin_line KIND NAME ARCH VERSION SUITE SUM: a line in the lock's columns
pin_line() {
    printf '%-8s%-36s%-9s%-25s%-19s%s\n' "$@" | sed 's/ *$//'
}

changed=0
while IFS= read -r line; do
    read -r kind name arch version suite sum _ <<<"$line"
    case $kind in
    deb)
        cur=$("$TOP/scripts/fetch-deb.sh" --current "$name:$arch=$version" </dev/null) ||
            die "cannot resolve $name $version ($arch) in $suite (see above)"
        read -r nname nversion nsum <<<"$cur"
        if [ "$nname $nversion $nsum" != "$name $version $sum" ]; then
            line=$(pin_line deb "$nname" "$arch" "$nversion" "$suite" "$nsum")
            changed=$((changed + 1))
        fi ;;
    apt)
        apt_suite "$suite" "$arch"
        apt_refresh || true
        nversion=$(index_records "$name" "$arch" | awk '{ print $1; exit }')
        [ -n "$nversion" ] || die "$name ($arch) is not in $suite"
        if [ "$nversion" != "$version" ]; then
            line=$(pin_line apt "$name" "$arch" "$nversion" "$suite" "$sum")
            changed=$((changed + 1))
        fi ;;
    src)
        cur=$("$TOP/scripts/fetch-source.sh" --current "$name" </dev/null) ||
            die "cannot resolve the $name source in $suite (see above)"
        read -r nversion nsum <<<"$cur"
        if [ "$name" = qemu ]; then
            # the patch series is made for one QEMU version
            log "$name source stays pinned at $version (the patch series is made for it); $suite's newest is $nversion (see QEMU_UPSTREAM_SRC in README.md)"
        elif [ "$nversion $nsum" != "$version $sum" ]; then
            line=$(pin_line src "$name" "$arch" "$nversion" "$suite" "$nsum")
            changed=$((changed + 1))
        fi ;;
    esac
    printf '%s\n' "$line"
done < "$LOCK" > "$new"
if [ "$changed" = 0 ]; then
    log "$(basename "$LOCK") is up to date"
    exit 0
fi
diff -u --label "a/$(basename "$LOCK")" --label "b/$(basename "$LOCK")" "$LOCK" "$new" || true
cat "$new" > "$LOCK"
log "re-pinned $changed package(s) in $LOCK"
