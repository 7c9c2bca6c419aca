#!/bin/bash
# tests/assets/run.sh [RESULTS]: what happens when pins meet archive churn,
# each case in a scratch cache (its apt lists copied from the real cache,
# its .debs seeded from there, so that little is downloaded):
#   vanished  a lock whose riscv64 kernel (binary and modules) and busybox
#             versions are not in forky: fetch-deb.sh warns once per
#             package, resolves the suite's current ones (the kernel through
#             its successor pattern, modules at the same ABI), records them
#             in the scratch cache's lock-overrides, and -M virt-split -m 4G
#             boots to the initramfs; a later run reuses the record
#   mismatch  a lock whose busybox sum is wrong for a version forky still
#             has: the fetch stops with one error line and a non-zero exit,
#             and leaves no stamp, cache entry or override behind
#   concurrent  two fetches of one package into an empty cache at once
#             (make check runs suites in the background): both succeed
#             with the same root, and one of them downloads
#   uboot-src a lock whose U-Boot source version is not in its suite: the
#             fetch warns once, takes the suite's newest source, verified
#             against the signed index, and records it; with a wrong sum for
#             the version the suite has, it stops with one line instead
#   update    make update-assets on a scratch lock whose busybox and U-Boot
#             source versions are gone: both are re-pinned to what their
#             suites have, with the signed indexes' sums, the diff shows
#             them, and the QEMU source stays pinned
#   qemu-src  a lock whose QEMU source version is not in sid: no fallback,
#             and the error points to QEMU_UPSTREAM_SRC
#   no-kernel-version  no script, test or guest file names a pinned
#             kernel version: they find it in the package they fetched
# Records "PASS assets/..." / "FAIL assets/..." lines in RESULTS.
STEP=assets
. "$(dirname "$0")/../../scripts/lib.sh"

RESULTS=${1:-/dev/null}
QEMU=${VIRT_SPLIT_QEMU:-$BUILD/qemu-system-riscv64}
FETCH=$TOP/scripts/fetch-deb.sh
suite_results assets
[ -x "$QEMU" ] || die "no built QEMU at $QEMU; run 'make' first"

# The real cache first: the pinned (or already replaced) packages there
# seed the scratch caches.
log "fetching the real pins"
"$FETCH" busybox-static:riscv64 'linux-binary-*-riscv64:riscv64' 'linux-modules-*-riscv64:riscv64'

work=$BUILD/assets-test
rm -rf "$work"
mkdir -p "$work"

# scratch NAME APTDIR: a new cache whose APTDIR indexes are a copy of the
# real cache's (when it has them; else the scratch cache fetches its own)
scratch() {
    local c=$work/$1 d=$CACHE/apt/$2
    mkdir -p "$c/apt"
    if [ -e "$d/updated.stamp" ]; then
        cp -a "$d" "$c/apt/"
        rm -f "$c/apt/$2/lists/lock"
    fi
    echo "$c"
}
# the suites of the pins the cases change
rv_suite=$(awk '$1 == "deb" && $2 == "busybox-static" && $3 == "riscv64" { print $5; exit }' "$LOCK")
src_suite=$(awk '$1 == "src" && $2 == "qemu" { print $5; exit }' "$LOCK")
uboot_suite=$(awk '$1 == "src" && $2 == "u-boot" { print $5; exit }' "$LOCK")

# in_scratch CACHE LOCK CMD...: CMD with the scratch cache and lock
in_scratch() {
    local c=$1 l=$2
    shift 2
    VIRT_SPLIT_CACHE=$c VIRT_SPLIT_LOCK=$l VIRT_SPLIT_BUILD=$c/build \
        VIRT_SPLIT_QEMU=$QEMU QEMU=$QEMU VIRT_SPLIT_DEB_SEED=$CACHE/debs "$@"
}

# ---- no kernel version in scripts, tests or the guest ------------------
# each pinned kernel's release (the ABI in its name) and upstream version
hits=
while read -r name version; do
    rel=$(sed -E 's/^linux-(binary|modules|image)-//' <<<"$name")
    for v in "$rel" "${rel%-*}" "${version%%-*}"; do
        h=$(cd "$TOP" && grep -rlF -- "$v" scripts tests guest Makefile .ci 2>/dev/null |
            grep -v '^tests/virt-golden/golden' || true)
        [ -z "$h" ] || hits="$hits $v in $(paste -sd ',' <<<"$h");"
    done
done < <(awk '$1 == "deb" && $2 ~ /^linux-(binary|modules|image)-/ { print $2, $4 }' "$LOCK")
check no-kernel-version "no script, test or guest file names a pinned kernel version${hits:+:$hits}" \
    test -z "$hits"

# ---- vanished: versions that are not in the suite ---------------------
c=$(scratch vanished "$rv_suite-riscv64")
lock=$c/assets.lock
# kernel ABI 1.0.0 (no such kernel) for riscv64 binary and modules, and a
# busybox version that never existed; everything else as pinned
awk '$1 == "deb" && $3 == "riscv64" && $2 ~ /^linux-(binary|modules)-/ {
         sub(/-[0-9.]+[+]deb/, "-1.0.0+deb", $2); $4 = "1.0.0-1" }
     $1 == "deb" && $3 == "riscv64" && $2 == "busybox-static" { $4 = "1:0.0.1-1" }
     { print }' "$LOCK" > "$lock"
old_kpkg=$(awk '$1 == "deb" && $3 == "riscv64" && $2 ~ /^linux-binary-/ { print $2; exit }' "$lock")
log "vanished: $old_kpkg 1.0.0-1 and busybox-static 1:0.0.1-1 in a scratch cache"
start=$(date +%s)
rc=0
in_scratch "$c" "$lock" "$TOP/scripts/run-guest.sh" --quiet --machine virt-split --mem 4G \
    >"$work/vanished.out" 2>"$work/vanished.err" || rc=$?
secs=$(( $(date +%s) - start ))
sed 's/^/     /' "$work/vanished.err"
ov=$c/lock-overrides
new_k=$(awk -v o="$old_kpkg" '$2 == o { print $8, $9 }' "$ov" 2>/dev/null)
new_bb=$(awk '$2 == "busybox-static" && $3 == "riscv64" { print $9 }' "$ov" 2>/dev/null)
nwarn() { grep -c "warning: $1 " "$work/vanished.err" || true; }
check vanished/kernel-resolved "the kernel pin $old_kpkg resolved to '${new_k:-nothing}' (recorded in lock-overrides)" \
    test -n "$new_k"
check vanished/busybox-resolved "the busybox pin 1:0.0.1-1 resolved to '${new_bb:-nothing}' (recorded in lock-overrides)" \
    test -n "$new_bb"
check vanished/one-warning-each "one warning line per replaced package, naming old and new versions" \
    test "$(nwarn "$old_kpkg 1.0.0-1")" = 1 -a "$(nwarn "busybox-static 1:0.0.1-1")" = 1 \
    -a "$(grep -c 'warning:' "$work/vanished.err" || true)" = 2 \
    -a "$(grep -c "warning: $old_kpkg 1.0.0-1 .*using ${new_k% *} ${new_k#* }" "$work/vanished.err" || true)" = 1 \
    -a "$(grep -c "warning: busybox-static 1:0.0.1-1 .*using busybox-static $new_bb" "$work/vanished.err" || true)" = 1
high=$(grep -c '^VS-IOMEM 100000000-' "$work/vanished.out" || true)
check vanished/boots "-M virt-split -m 4G boots the resolved kernel and busybox to the initramfs in ${secs}s (exit $rc, high RAM bank seen: $high)" \
    test "$rc" = 0 -a "$high" = 1
# the modules must follow the kernel to the same ABI
rc=0
mroot=$(in_scratch "$c" "$lock" "$FETCH" --root 'linux-modules-*-riscv64:riscv64' 2>"$work/modules.err") || rc=$?
kroot=$(in_scratch "$c" "$lock" "$FETCH" --root 'linux-binary-*-riscv64:riscv64' 2>/dev/null) || rc=$?
mrel=$( [ "$rc" != 0 ] || kernel_release "$mroot")
krel=$( [ "$rc" != 0 ] || kernel_release "$kroot")
check vanished/modules-match "the modules resolved to kernel release '${mrel:-none}', the kernel's is '${krel:-none}'" \
    test "$rc" = 0 -a -n "$mrel" -a "$mrel" = "$krel"
# a later run reuses the record: nothing printed on a cache hit, and after
# the cache entry is gone, the recorded choice is taken again
cp "$ov" "$work/overrides.before"
in_scratch "$c" "$lock" "$FETCH" busybox-static:riscv64 'linux-binary-*-riscv64:riscv64' \
    >"$work/again.out" 2>&1 || true
rm -rf "$c"/debs/busybox-static_riscv64*
rc=0
in_scratch "$c" "$lock" "$FETCH" busybox-static:riscv64 >"$work/refetch.out" 2>&1 || rc=$?
check vanished/reused "a later run prints nothing on a cache hit, refetches by the record ('as recorded') and keeps lock-overrides as it was" \
    test ! -s "$work/again.out" -a "$rc" = 0 \
    -a "$(grep -c "as recorded in" "$work/refetch.out" || true)" = 1 \
    -a "$(grep -c "no longer in $rv_suite; using busybox-static $new_bb as recorded" "$work/refetch.out" || true)" = 1
check vanished/overrides-unchanged "lock-overrides unchanged by the later runs" cmp -s "$work/overrides.before" "$ov"
check vanished/repo-untouched "the repository's assets.lock is not modified" \
    git -C "$TOP" diff --quiet -- assets.lock

# ---- mismatch: a wrong sum for a version that is still there ----------
c=$(scratch mismatch "$rv_suite-riscv64")
lock=$c/assets.lock
wrong=$(echo "not the busybox you pinned" | sha256sum | cut -d' ' -f1)
awk -v w="$wrong" '$1 == "deb" && $3 == "riscv64" && $2 == "busybox-static" { $6 = w } { print }' \
    "$LOCK" > "$lock"
log "mismatch: busybox-static (riscv64) pinned with sha256 $wrong"
rc=0
in_scratch "$c" "$lock" "$FETCH" busybox-static:riscv64 >"$work/mismatch.out" 2>"$work/mismatch.err" || rc=$?
sed 's/^/     /' "$work/mismatch.err"
errs=$(grep -c 'error:' "$work/mismatch.err" || true)
other=$(grep -vcE '^\[fetch-deb\] (downloading|refreshing) |error:' "$work/mismatch.err" || true)
check mismatch/stops "exit $rc, $errs error line(s) naming the package and both sums, $other other line(s), no fallback" \
    test "$rc" != 0 -a "$errs" = 1 -a "$other" = 0 \
    -a "$(grep -c "error: sha256 mismatch for busybox-static .*$wrong" "$work/mismatch.err" || true)" = 1 \
    -a "$(grep -c 'warning:' "$work/mismatch.err" || true)" = 0
left=$(cd "$c" && { ls -d debs/busybox-static_riscv64* lock-overrides 2>/dev/null || true; } | paste -sd ' ')
check mismatch/nothing-left "no stamp, cache entry or override left behind (found: ${left:-nothing})" \
    test -z "$left"

# ---- concurrent: two fetches of one package at once -------------------
c=$(scratch concurrent "$rv_suite-riscv64")
log "concurrent: two fetches of busybox-static (riscv64) into an empty cache"
pids=()
for i in 1 2; do
    in_scratch "$c" "$LOCK" "$FETCH" --root busybox-static:riscv64 \
        >"$work/concurrent$i.out" 2>"$work/concurrent$i.err" &
    pids+=("$!")
done
rcs=
for p in "${pids[@]}"; do
    rc=0
    wait "$p" || rc=$?
    rcs="$rcs $rc"
done
sed 's/^/     /' "$work"/concurrent[12].err
downloads=$(cat "$work"/concurrent[12].err | grep -c 'downloading busybox-static' || true)
roots=$(sort -u "$work"/concurrent[12].out | grep -c . || true)
check concurrent/both "exit status$rcs, one root for both ($roots distinct), $downloads download(s), a stamped cache entry" \
    test "$rcs" = " 0 0" -a "$roots" = 1 -a "$downloads" = 1 \
    -a -e "$c/debs/busybox-static_riscv64.stamp" -a -x "$(head -1 "$work/concurrent1.out")/usr/bin/busybox"

# ---- uboot-src: another source falls back, a wrong sum does not -------
c=$(scratch uboot-src "$uboot_suite-src")
lock=$c/assets.lock
awk '$1 == "src" && $2 == "u-boot" { $4 = "2025.01-0+deb13u0" } { print }' "$LOCK" > "$lock"
log "uboot-src: u-boot source 2025.01-0+deb13u0 in a scratch cache"
rc=0
got=$(in_scratch "$c" "$lock" "$TOP/scripts/fetch-source.sh" --print-version u-boot \
      2>"$work/uboot-src.err") || rc=$?
sed 's/^/     /' "$work/uboot-src.err"
read -r now now_sums <<<"$(in_scratch "$c" "$lock" "$TOP/scripts/fetch-source.sh" --current u-boot 2>/dev/null)"
rec=$(awk '$2 == "u-boot" && $4 == "2025.01-0+deb13u0" { print $8, $9 }' "$c/lock-overrides" 2>/dev/null)
check uboot-src/resolved "the vanished pin resolved to '${got:-nothing}' (exit $rc), the suite's newest '$now', recorded as '${rec:-nothing}'" \
    test "$rc" = 0 -a -n "$now" -a "$got" = "$now" -a "$rec" = "$now $now_sums" \
    -a -e "$c/src/u-boot_$now.stamp"
check uboot-src/one-warning "one warning line naming the old and the new version" \
    test "$(grep -c 'warning:' "$work/uboot-src.err" || true)" = 1 \
    -a "$(grep -c "warning: u-boot source 2025.01-0+deb13u0 is no longer in $uboot_suite; using $now instead" "$work/uboot-src.err" || true)" = 1
c=$(scratch uboot-src-mismatch "$uboot_suite-src")
lock=$c/assets.lock
awk -v w="$wrong" '$1 == "src" && $2 == "u-boot" { sub(/:.*/, ":" w, $6) } { print }' "$LOCK" > "$lock"
rc=0
in_scratch "$c" "$lock" "$TOP/scripts/fetch-source.sh" u-boot >/dev/null 2>"$work/uboot-mismatch.err" || rc=$?
sed 's/^/     /' "$work/uboot-mismatch.err"
check uboot-src/mismatch-stops "a wrong sum for the pinned u-boot source stops (exit $rc) with one error line, no fallback, no stamp" \
    test "$rc" != 0 -a "$(grep -c 'error:' "$work/uboot-mismatch.err" || true)" = 1 \
    -a "$(grep -c "error: sha256 mismatch for u-boot_.*debian.*$wrong" "$work/uboot-mismatch.err" || true)" = 1 \
    -a "$(grep -c 'warning:' "$work/uboot-mismatch.err" || true)" = 0 \
    -a -z "$(ls "$c"/src/*.stamp 2>/dev/null)"

# ---- update: make update-assets re-pins what has left its suite -------
c=$work/update
mkdir -p "$c/apt"
for d in "$CACHE"/apt/*; do
    [ ! -e "$d/updated.stamp" ] || cp -a "$d" "$c/apt/"
done
rm -f "$c"/apt/*/lists/lock
lock=$c/assets.lock
awk '$1 == "deb" && $3 == "riscv64" && $2 == "busybox-static" { $4 = "1:0.0.1-1" }
     $1 == "src" && $2 == "u-boot" { $4 = "2025.01-0+deb13u0" } { print }' "$LOCK" > "$lock"
log "update: make update-assets on a scratch lock"
rc=0
in_scratch "$c" "$lock" "$TOP/scripts/update-assets.sh" >"$work/update.out" 2>&1 || rc=$?
read -r bb_v bb_s < <(awk '$1 == "deb" && $2 == "busybox-static" && $3 == "riscv64" { print $4, $6 }' "$lock")
read -r ub_v ub_s < <(awk '$1 == "src" && $2 == "u-boot" { print $4, $6 }' "$lock")
read -r _ now_bb now_bb_s < <(in_scratch "$c" "$lock" "$FETCH" --current busybox-static:riscv64 2>/dev/null)
read -r now_ub now_ub_s < <(in_scratch "$c" "$lock" "$TOP/scripts/fetch-source.sh" --current u-boot 2>/dev/null)
qemu_pin=$(awk '$1 == "src" && $2 == "qemu" { print $4 }' "$LOCK")
check update/re-pinned "exit $rc; busybox re-pinned to '$bb_v' (its suite has '$now_bb'), the U-Boot source to '$ub_v' (its suite has '$now_ub')" \
    test "$rc" = 0 -a -n "$now_bb" -a "$bb_v $bb_s" = "$now_bb $now_bb_s" \
    -a -n "$now_ub" -a "$ub_v $ub_s" = "$now_ub $now_ub_s"
check update/diff "the diff names both new pins, and the QEMU source stays at $qemu_pin" \
    test "$(awk -v v="$now_bb" '$1 == "+deb" && $2 == "busybox-static" && $3 == "riscv64" && $4 == v' "$work/update.out" | wc -l)" = 1 \
    -a "$(awk -v v="$now_ub" '$1 == "+src" && $2 == "u-boot" && $4 == v' "$work/update.out" | wc -l)" = 1 \
    -a "$(awk '$1 == "src" && $2 == "qemu" { print $4 }' "$lock")" = "$qemu_pin"
check update/repo-untouched "the repository's assets.lock is not modified" \
    git -C "$TOP" diff --quiet -- assets.lock

# ---- qemu-src: the QEMU source never falls back ----------------------
# (scripts/fetch-qemu-source.sh runs scripts/fetch-source.sh qemu)
c=$(scratch qemu-src "$src_suite-src")
lock=$c/assets.lock
awk '$1 == "src" && $2 == "qemu" { $4 = "1:0.0.1+ds-1" } { print }' "$LOCK" > "$lock"
rc=0
in_scratch "$c" "$lock" "$TOP/scripts/fetch-qemu-source.sh" >"$work/qemu-src.out" 2>"$work/qemu-src.err" || rc=$?
sed 's/^/     /' "$work/qemu-src.err"
check qemu-src/no-fallback "a QEMU source version that is not in its suite stops (exit $rc) with one error pointing to QEMU_UPSTREAM_SRC, downloading nothing" \
    test "$rc" != 0 -a "$(grep -c 'error: .*no fallback.*QEMU_UPSTREAM_SRC' "$work/qemu-src.err" || true)" = 1 \
    -a "$(grep -c 'downloading' "$work/qemu-src.err" || true)" = 0 -a ! -e "$c/src"

# keep what a failure needs for a look
if [ -z "$failed" ]; then rm -rf "$work"; else log "kept $work"; fi
