#!/bin/bash
# mk-bootdisk.sh OUT KERNEL INITRD CMDLINE: a raw disk image with one FAT
# partition holding the kernel, the initrd and extlinux/extlinux.conf, for
# U-Boot's distro boot (which boots an extlinux entry with booti).
# Built without loop devices or root: sfdisk, mkfs.vfat and mtools.
STEP=mk-bootdisk
. "$(dirname "$0")/lib.sh"

out=$1 kernel=$2 initrd=$3 cmdline=$4
need_tool sfdisk mkfs.vfat mcopy mmd
stamp="$out.inputs"
want=$(printf '%s\n' "$(stat -c '%s %Y' "$kernel" "$initrd")" "$cmdline" "$(sha256sum < "$0")")
if [ -e "$out" ] && [ -e "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
rm -f "$out" "$stamp"
tmp=$out.tmp
part=$out.part
trap 'rm -f "$tmp" "$part"' EXIT
cat > "$out.conf" <<CONF
default linux
timeout 0
label linux
    kernel /vmlinuz
    initrd /initrd.img
    append $cmdline
CONF
truncate -s 96M "$part"
mkfs.vfat -n VSBOOT "$part" >/dev/null || die "mkfs.vfat failed"
mmd -i "$part" ::/extlinux
mcopy -i "$part" "$kernel" ::/vmlinuz
mcopy -i "$part" "$initrd" ::/initrd.img
mcopy -i "$part" "$out.conf" ::/extlinux/extlinux.conf
rm -f "$out.conf"
truncate -s 97M "$tmp"
echo 'start=2048, type=c, bootable' | sfdisk -q "$tmp" >/dev/null || die "sfdisk failed"
dd if="$part" of="$tmp" bs=512 seek=2048 conv=notrunc status=none || die "cannot write the partition"
mv "$tmp" "$out"
echo "$want" > "$stamp"
