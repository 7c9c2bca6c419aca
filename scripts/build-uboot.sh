#!/bin/bash
# build-uboot.sh: build U-Boot qemu-riscv64_smode from Debian's u-boot
# source package (pinned in assets.lock) with CONFIG_NR_DRAM_BANKS=4, as
# upstream U-Boot does from v2025.07 (commit 5c8e1c46b16 drops the "=1" from
# the qemu-riscv defconfigs).  Debian's own build keeps one bank, so with
# bootefi Linux sees only the first RAM range of virt-split.
#
# Cross-compiled with Debian's gcc-riscv64-linux-gnu.  The result lives
# outside the repository, in the download cache:
#   $CACHE/u-boot/VERSION-banks4/uboot.elf
# and is rebuilt only when the source pin or this script changes.  Prints
# the path of uboot.elf.
STEP=build-uboot
. "$(dirname "$0")/lib.sh"

PLATFORM=qemu-riscv64_smode
BANKS=4
# the pinned source, or what replaced it (see fetch-source.sh)
version=$("$TOP/scripts/fetch-source.sh" --print-version u-boot)
out=$CACHE/u-boot/$version-banks$BANKS
want=$(printf '%s\n' "$version" "$PLATFORM" "$BANKS" "$(sha256sum < "$0")")
lock_until_exit "$out.lock"
if [ -e "$out.stamp" ] && [ "$(cat "$out.stamp")" = "$want" ] && [ -e "$out/uboot.elf" ]; then
    echo "$out/uboot.elf"
    exit 0
fi

"$TOP/scripts/deps.sh" uboot >&2
need_tool riscv64-linux-gnu-gcc make patch tar
upstream=${version%-*}
rm -rf "$out" "$out.stamp" "$out.work"
src=$out.work/u-boot-$upstream
mkdir -p "$src"
log "unpacking u-boot $version"
tar -xf "$CACHE/src/u-boot_$upstream.orig.tar.bz2" -C "$src" --strip-components=1 ||
    die "cannot unpack the u-boot orig tarball"
tar -xf "$CACHE/src/u-boot_$version.debian.tar.xz" -C "$src" ||
    die "cannot unpack the u-boot debian tarball"
# Debian's patches, as its build applies them
while read -r p _; do
    case $p in ''|'#'*) continue ;; esac
    patch -d "$src" -p1 -s --no-backup-if-mismatch < "$src/debian/patches/$p" >/dev/null ||
        die "Debian patch $p does not apply"
done < "$src/debian/patches/series"
defconfig=$src/configs/${PLATFORM}_defconfig
grep -qx 'CONFIG_NR_DRAM_BANKS=1' "$defconfig" ||
    die "$PLATFORM defconfig has no CONFIG_NR_DRAM_BANKS=1 to drop"
sed -i '/^CONFIG_NR_DRAM_BANKS=1$/d' "$defconfig"

obj=$out.work/obj
make_uboot() {
    nice make -C "$src" O="$obj" CROSS_COMPILE=riscv64-linux-gnu- "$@"
}
log "configuring ${PLATFORM}_defconfig without CONFIG_NR_DRAM_BANKS=1"
make_uboot "${PLATFORM}_defconfig" >"$out.work/build.log" 2>&1 ||
    die "defconfig failed (see $out.work/build.log)"
grep -qx "CONFIG_NR_DRAM_BANKS=$BANKS" "$obj/.config" ||
    die "the configured U-Boot has $(grep NR_DRAM_BANKS "$obj/.config" || echo 'no NR_DRAM_BANKS'), want $BANKS"
log "building u-boot (a few minutes; log: $out.work/build.log)"
make_uboot -j"$(nproc)" u-boot >>"$out.work/build.log" 2>&1 ||
    die "U-Boot build failed: $(grep -m1 -E 'error|Error' "$out.work/build.log")"
mkdir -p "$out"
# as Debian's u-boot-qemu ships it
riscv64-linux-gnu-strip --remove-section=.comment --remove-section=.note \
    -o "$out/uboot.elf" "$obj/u-boot" || die "cannot strip u-boot"
cp "$obj/.config" "$out/config"
rm -rf "$out.work"
echo "$want" > "$out.stamp"
log "built $out/uboot.elf"
echo "$out/uboot.elf"
