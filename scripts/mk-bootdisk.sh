#!/bin/bash
# mk-bootdisk.sh booti|bootefi|grub OUT KERNEL INITRD CMDLINE [GRUB-IMAGE]: a raw disk
# image with one FAT partition holding the kernel and the initrd, for
# U-Boot's distro boot or, with grub, for any UEFI firmware:
#   booti    extlinux/extlinux.conf; U-Boot boots the entry with booti
#   bootefi  boot.scr that sets the UEFI variables Boot0001 and BootOrder
#            and runs 'bootefi bootmgr', which serves the initrd to the
#            kernel's EFI stub (U-Boot 2025.01's bootefi has no initrd
#            argument)
#   grub     a GPT disk whose partition is an EFI system partition with
#            GRUB at the removable-media path EFI/BOOT/BOOTRISCV64.EFI
#            (scripts/mk-grub-efi.sh), its run-time modules and a grub.cfg
#            that loads linux and gzio and boots the kernel with the initrd.
#            It echoes VS-GRUB markers so runners can tell which step failed.
#            With GRUB-IMAGE (a monolithic image that has its modules built
#            in, such as Debian's grubriscv64.efi) that image is
#            BOOTRISCV64.EFI and no modules are copied; such images read
#            the grub.cfg beside them ($cmdpath), and copies of it sit in
#            /boot/grub and /EFI/{debian,ubuntu,fedora} for images whose
#            built-in prefix points there.
# Built without loop devices or root: sfdisk, mkfs.vfat, mtools, mkimage.
STEP=mk-bootdisk
. "$(dirname "$0")/lib.sh"

mode=$1 out=$2 kernel=$3 initrd=$4 cmdline=$5 image=${6:-}
need_tool sfdisk mkfs.vfat mcopy mmd mkimage
DISK_SIGNATURE=0x56535054
PART_START=2048
PART_SECTORS=196608
stamp="$out.inputs"
grubdir=$BUILD/guest/grub-efi
if [ "$mode" = grub ] && [ -z "$image" ]; then
    "$TOP/scripts/mk-grub-efi.sh" "$grubdir"
fi
lock_until_exit "$out.lock"
want=$(printf '%s\n' "$mode" "$(stat -c '%s %Y' "$kernel" "$initrd")" "$cmdline" \
       "$(cat "$0" "$TOP/tests/boot/efi-boot-option.py" | sha256sum)" \
       "$( [ "$mode" != grub ] || [ -n "$image" ] || cat "$grubdir/inputs")" \
       "$( [ -z "$image" ] || sha256sum < "$image")")
if [ -e "$out" ] && [ -e "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
rm -f "$out" "$stamp"
tmp=$out.tmp
part=$out.part
work=$(mktemp -d)
trap 'rm -rf "$tmp" "$part" "$work"' EXIT
truncate -s $((PART_SECTORS * 512)) "$part"
mkfs.vfat -n VSBOOT "$part" >/dev/null || die "mkfs.vfat failed"
mcopy -i "$part" "$kernel" ::/vmlinuz
mcopy -i "$part" "$initrd" ::/initrd.img
case $mode in
booti)
    printf '%s\n' "default linux" "timeout 0" "label linux" "    kernel /vmlinuz" \
        "    initrd /initrd.img" "    append $cmdline" > "$work/extlinux.conf"
    mmd -i "$part" ::/extlinux
    mcopy -i "$part" "$work/extlinux.conf" ::/extlinux/extlinux.conf
    ;;
bootefi)
    python3 "$TOP/tests/boot/efi-boot-option.py" "$work" "$DISK_SIGNATURE" \
        "$PART_START" "$PART_SECTORS" "$cmdline" || die "cannot write the UEFI boot option"
    printf '%s\n' \
        'load virtio 0:1 ${loadaddr} boot0001.bin' \
        'setenv -e -nv -bs -rt -i ${loadaddr}:${filesize} Boot0001' \
        'load virtio 0:1 ${loadaddr} bootorder.bin' \
        'setenv -e -nv -bs -rt -i ${loadaddr}:${filesize} BootOrder' \
        'bootefi bootmgr ${fdtcontroladdr}' > "$work/boot.cmd"
    mkimage -A riscv -O linux -T script -C none -d "$work/boot.cmd" "$work/boot.scr" \
        >/dev/null || die "mkimage failed"
    mcopy -i "$part" "$work/boot.scr" "$work/boot0001.bin" "$work/bootorder.bin" ::/
    ;;
grub)
    printf '%s\n' 'set timeout=0' \
        'echo VS-GRUB-START' \
        'insmod gzio' \
        'insmod linux' \
        'echo VS-GRUB-LINUX' \
        "linux /vmlinuz $cmdline" \
        'initrd /initrd.img' \
        'echo VS-GRUB-BOOT' \
        'boot' > "$work/grub.cfg"
    if [ -n "$image" ]; then
        cp "$image" "$work/BOOTRISCV64.EFI"
        mmd -i "$part" ::/EFI ::/EFI/BOOT
        mcopy -i "$part" "$work/BOOTRISCV64.EFI" "$work/grub.cfg" ::/EFI/BOOT/
        # where other distributions' images look for it ($prefix)
        mmd -i "$part" ::/boot ::/boot/grub ::/EFI/debian ::/EFI/ubuntu ::/EFI/fedora
        for d in boot/grub EFI/debian EFI/ubuntu EFI/fedora; do
            mcopy -i "$part" "$work/grub.cfg" "::/$d/"
        done
    else
        mmd -i "$part" ::/EFI ::/EFI/BOOT ::/EFI/BOOT/riscv64-efi
        mcopy -i "$part" "$grubdir/BOOTRISCV64.EFI" "$work/grub.cfg" ::/EFI/BOOT/
        mcopy -i "$part" "$grubdir"/riscv64-efi/*.mod ::/EFI/BOOT/riscv64-efi/
    fi
    ;;
*) die "unknown mode '$mode' (booti, bootefi, grub)" ;;
esac
if [ "$mode" = grub ]; then
    # GPT keeps a backup header in the last 33 sectors
    truncate -s $(((PART_START + PART_SECTORS + 33) * 512)) "$tmp"
    printf 'label: gpt\nstart=%s, size=%s, type=U, name=ESP\n' "$PART_START" "$PART_SECTORS" |
        sfdisk -q "$tmp" >/dev/null || die "sfdisk failed"
else
    truncate -s $(((PART_START + PART_SECTORS) * 512)) "$tmp"
    printf 'label: dos\nlabel-id: %s\nstart=%s, type=c, bootable\n' \
        "$DISK_SIGNATURE" "$PART_START" | sfdisk -q "$tmp" >/dev/null || die "sfdisk failed"
fi
dd if="$part" of="$tmp" bs=512 seek="$PART_START" conv=notrunc status=none ||
    die "cannot write the partition"
mv "$tmp" "$out"
echo "$want" > "$stamp"
