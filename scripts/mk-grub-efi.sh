#!/bin/bash
# mk-grub-efi.sh OUTDIR: GRUB for riscv64 UEFI from Debian packages.
#   OUTDIR/BOOTRISCV64.EFI   grub-mkimage -O riscv64-efi -p /EFI/BOOT with a
#                            minimal set of embedded modules
#   OUTDIR/riscv64-efi/      the modules grub.cfg loads at run time (linux,
#                            gzio and their dependencies), for the ESP's
#                            /EFI/BOOT/riscv64-efi
# The modules are forky's grub-efi-riscv64-bin (pinned in assets.lock): it
# ships no prebuilt image and forky's own grub-mkimage needs a newer glibc
# than Debian 12 has, so the image is made with bookworm's grub-common.
# Rebuilt only when an input changed.
STEP=mk-grub-efi
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mk-grub-efi.sh OUTDIR}
EMBEDDED="part_gpt fat normal echo"
RUNTIME="linux gzio"
"$TOP/scripts/deps.sh" grub
"$TOP/scripts/fetch-deb.sh" grub-efi-riscv64-bin:riscv64
need_tool grub-mkimage
moddir=$CACHE/debs/grub-efi-riscv64-bin_riscv64/root/usr/lib/grub/riscv64-efi
[ -e "$moddir/moddep.lst" ] || die "grub-efi-riscv64-bin has no riscv64-efi module directory"
lock_until_exit "$out.lock"
want=$(printf '%s\n' "$EMBEDDED" "$RUNTIME" "$(cat "$CACHE/debs/grub-efi-riscv64-bin_riscv64.stamp")" \
       "$(dpkg-query -W -f='${Version}' grub-common)" "$(sha256sum < "$0")")
if [ -e "$out/BOOTRISCV64.EFI" ] && [ "$(cat "$out/inputs" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

# deps MODULE...: the modules with everything they need, from moddep.lst
declare -A SEEN
deps() {
    local m d
    for m in "$@"; do
        [ -z "${SEEN[$m]:-}" ] || continue
        SEEN[$m]=1
        [ -e "$moddir/$m.mod" ] || die "GRUB module $m is not in grub-efi-riscv64-bin"
        echo "$m"
        for d in $(awk -F': *' -v m="$m" '$1 == m { print $2 }' "$moddir/moddep.lst"); do
            deps "$d"
        done
    done
}

rm -rf "$out"
mkdir -p "$out.tmp/riscv64-efi"
# shellcheck disable=SC2086
grub-mkimage -O riscv64-efi -d "$moddir" -p /EFI/BOOT -o "$out.tmp/BOOTRISCV64.EFI" $EMBEDDED \
    >"$out.tmp/mkimage.log" 2>&1 ||
    die "grub-mkimage failed: $(head -1 "$out.tmp/mkimage.log")"
# shellcheck disable=SC2086
mods=$(deps $RUNTIME)
for m in $mods; do
    cp "$moddir/$m.mod" "$out.tmp/riscv64-efi/"
done
rm -f "$out.tmp/mkimage.log"
echo "$want" > "$out.tmp/inputs"
mv "$out.tmp" "$out"
