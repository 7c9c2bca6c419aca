#!/bin/bash
# run-guest.sh [options] [-- extra QEMU arguments]
# Boot the Debian riscv64 kernel with the project's initramfs on the built
# QEMU, wait for the init's VS-END marker and print the console log.
#   --machine M      virt-split (default) or virt, with optional ,props
#   --mem SIZE       -m value (default 4G)
#   --smp N          (default 2)
#   --firmware F     opensbi (default): fw_dynamic with -kernel/-initrd
#                    edk2: EDK2 as pflash, kernel and initrd through fw_cfg
#                    uboot-booti, uboot-bootefi: U-Boot as -kernel, Linux
#                    from a disk image via extlinux (booti) or the UEFI
#                    boot manager (bootefi)
#                    grub-edk2, grub-uboot: GRUB (BOOTRISCV64.EFI on a GPT
#                    ESP, virtio-blk-pci) started by EDK2 or by U-Boot's
#                    distro boot (bootefi); GRUB boots Linux from the ESP
#   --opensbi VER    -bios: fw_dynamic of this pinned opensbi version
#                    (default: the one installed next to the built QEMU)
#   --edk2 VER       this pinned qemu-efi-riscv64 version (default: the
#                    first pin in assets.lock)
#   --grub-efi FILE  grub-*: this GRUB image (e.g. a distribution's
#                    monolithic grubriscv64.efi) at EFI/BOOT/BOOTRISCV64.EFI
#                    with grub.cfg beside it, instead of scripts/mk-grub-efi.sh's
#   --uboot KIND     stock (Debian's u-boot-qemu, default) or banks4
#                    (scripts/build-uboot.sh: CONFIG_NR_DRAM_BANKS=4)
#   --append TEXT    extra kernel command line
#   --initrd FILE    use this initramfs instead of building the default one
#   --log FILE       console log (default: a temporary file)
#   --timeout S      seconds before the guest counts as hung (default 300)
#   --quiet          print only the VS- summary lines
#   --stderr FILE    keep QEMU's own messages (stdout and stderr) in FILE
# VIRT_SPLIT_QEMU (or QEMU): the qemu-system-riscv64 to run (default build/'s)
# On failure one line names the step that failed (firmware, GRUB, Linux),
# followed by the console tail.
STEP=run-guest
. "$(dirname "$0")/lib.sh"

machine=virt-split mem=4G smp=2 firmware=opensbi append="" log="" timeout=300 quiet=
initrd='' opensbi='' edk2='' uboot=stock stderr='' grub_efi=''
while [ $# -gt 0 ]; do
    case $1 in
    --machine) machine=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --firmware) firmware=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --opensbi) opensbi=$2; shift 2 ;;
    --edk2) edk2=$2; shift 2 ;;
    --uboot) uboot=$2; shift 2 ;;
    --grub-efi) grub_efi=$2; shift 2 ;;
    --stderr) stderr=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
    esac
done

QEMU=${VIRT_SPLIT_QEMU:-${QEMU:-$BUILD/qemu-system-riscv64}}
[ -x "$QEMU" ] || die "no built QEMU at $QEMU; run 'make' first"
# the pinned kernel, or what replaced it (see fetch-deb.sh)
kroot=$("$TOP/scripts/fetch-deb.sh" --root 'linux-binary-*-riscv64:riscv64')
kver=$(kernel_release "$kroot")
kernel=$kroot/usr/lib/modules/$kver/vmlinuz
[ -e "$kernel" ] || die "the riscv64 kernel package ($kver) has no vmlinuz"
if [ -z "$initrd" ]; then
    initrd=$BUILD/guest/initramfs.cpio.gz
    mkdir -p "$BUILD/guest"
    "$TOP/scripts/mk-initramfs.sh" "$initrd"
fi

[ -n "$log" ] || { log=$(mktemp); tmplog=1; }
cmdline="console=ttyS0 quiet panic=-1 $append"
tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"; [ -z "${tmplog:-}" ] || rm -f "$log"' EXIT
# pinned PACKAGE VERSION: the unpacked root of a pinned package; an empty
# VERSION means its first pin
pinned_root() {
    local spec=$1
    [ -z "$2" ] || spec=$1=$2
    "$TOP/scripts/fetch-deb.sh" --root "$spec"
}

biosargs=()
if [ -n "$opensbi" ]; then
    sbi=$(pinned_root opensbi "$opensbi")
    biosargs=(-bios "$sbi/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin")
fi

edk2_args() {
    local fw
    fw=$(pinned_root qemu-efi-riscv64 "$edk2")
    fw=$fw/usr/share/qemu-efi-riscv64
    cp "$fw/RISCV_VIRT_VARS.fd" "$tmpdir/vars.fd"
    fwargs+=(-blockdev "node-name=code,driver=file,read-only=on,filename=$fw/RISCV_VIRT_CODE.fd"
             -blockdev "node-name=vars,driver=file,filename=$tmpdir/vars.fd"
             -M pflash0=code,pflash1=vars)
}

uboot_elf() {
    case $uboot in
    stock) "$TOP/scripts/fetch-deb.sh" u-boot-qemu
           echo "$CACHE/debs/u-boot-qemu_all/root/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf" ;;
    banks4) "$TOP/scripts/build-uboot.sh" ;;
    *) die "unknown --uboot '$uboot' (stock, banks4)" ;;
    esac
}

# disk MODE [GRUB-IMAGE]: a copy of the boot disk of that mode
# (scripts/mk-bootdisk.sh), one per GRUB image
disk() {
    local img=$BUILD/guest/$1.img
    [ -z "${2:-}" ] || img=$BUILD/guest/$1-$(sha256sum < "$2" | cut -c1-12).img
    "$TOP/scripts/deps.sh" boot
    "$TOP/scripts/mk-bootdisk.sh" "$1" "$img" "$kernel" "$initrd" "$cmdline" ${2:+"$2"}
    cp "$img" "$tmpdir/disk.img"
}

fwargs=()
case $firmware in
opensbi)
    fwargs=(-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
    ;;
edk2)
    # EDK2 as pflash; it takes kernel, initrd and command line from fw_cfg
    edk2_args
    fwargs+=(-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
    ;;
uboot-booti|uboot-bootefi)
    # U-Boot as the OpenSBI payload, booting Linux from a virtio disk
    disk "${firmware#uboot-}"
    ub=$(uboot_elf)
    fwargs=(-kernel "$ub" -drive "file=$tmpdir/disk.img,format=raw,if=virtio")
    ;;
grub-edk2|grub-uboot)
    # GRUB from the removable-media path of an ESP on a virtio-blk-pci disk
    [ -z "$grub_efi" ] || [ -f "$grub_efi" ] || die "--grub-efi $grub_efi: no such file"
    disk grub "$grub_efi"
    if [ "$firmware" = grub-edk2 ]; then
        edk2_args
    else
        ub=$(uboot_elf)
        fwargs=(-kernel "$ub")
    fi
    fwargs+=(-drive "if=none,id=esp,file=$tmpdir/disk.img,format=raw"
             -device virtio-blk-pci,drive=esp)
    ;;
*) die "unknown --firmware '$firmware' (opensbi, edk2, uboot-booti, uboot-bootefi, grub-edk2, grub-uboot)" ;;
esac

# failed_step: which step of the boot chain stopped, from the console log
failed_step() {
    local con fault why
    con=$(tr -d '\r' < "$log" 2>/dev/null || true)
    fault=$(grep -m1 -oE 'Unhandled exception: .*' <<<"$con" || true)
    if grep -q '^VS-BEGIN' <<<"$con"; then
        echo "the initramfs started but did not finish"
    elif [ "${firmware#grub-}" != "$firmware" ]; then
        if ! grep -q 'VS-GRUB-START' <<<"$con" && grep -q 'relocation overflow' <<<"$con"; then
            # GRUB started, and stopped relocating its own modules
            echo "GRUB stopped before reading grub.cfg: relocation overflow"
        elif ! grep -q 'VS-GRUB-START' <<<"$con"; then
            echo "firmware did not start GRUB${fault:+ ($fault)}"
        elif grep -q '^error: ' <<<"$con"; then
            echo "GRUB error: $(grep -m1 '^error: ' <<<"$con" | cut -c8-)"
        elif ! grep -q 'VS-GRUB-BOOT' <<<"$con"; then
            echo "GRUB stopped before booting Linux"
        else
            why=$(grep -m1 -oE 'INITRD: .*overlaps in-use memory region|Kernel panic - .*' <<<"$con" || true)
            echo "GRUB started Linux, which did not reach the initramfs${why:+ ($why)}"
        fi
    else
        echo "firmware did not reach Linux's initramfs${fault:+ ($fault)}"
    fi
}

set +e
timeout "$timeout" "$QEMU" -M "$machine" -m "$mem" -smp "$smp" \
    -display none -serial "file:$log" -monitor none -no-reboot \
    "${biosargs[@]}" "${fwargs[@]}" "$@" >"$log.qemu" 2>&1
rc=$?
set -e
[ -z "$stderr" ] || cp "$log.qemu" "$stderr"
if ! grep -qs '^VS-END' "$log"; then
    echo "[$STEP] error: $firmware on $machine: $(failed_step)" >&2
    [ "$rc" != 124 ] || echo "[$STEP] error: guest did not reach VS-END within ${timeout}s" >&2
    [ "$rc" = 124 ] || echo "[$STEP] error: QEMU exited with $rc before VS-END: $(tail -1 "$log.qemu")" >&2
    [ ! -e "$log" ] || tail -20 "$log" | sed 's/^/  console: /' >&2
    rm -f "$log.qemu"
    exit 1
fi
rm -f "$log.qemu"
if [ -n "$quiet" ]; then
    tr -d '\r' < "$log" | grep '^VS-'
else
    tr -d '\r' < "$log"
fi
