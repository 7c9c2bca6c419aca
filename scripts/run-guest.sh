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
#   --append TEXT    extra kernel command line
#   --initrd FILE    use this initramfs instead of building the default one
#   --log FILE       console log (default: a temporary file)
#   --timeout S      seconds before the guest counts as hung (default 300)
#   --quiet          print only the VS- summary lines
#   --stderr FILE    keep QEMU's own messages (stdout and stderr) in FILE
# VIRT_SPLIT_QEMU (or QEMU): the qemu-system-riscv64 to run (default build/'s)
STEP=run-guest
. "$(dirname "$0")/lib.sh"

machine=virt-split mem=4G smp=2 firmware=opensbi append="" log="" timeout=300 quiet=
initrd='' stderr=''
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
case $firmware in
opensbi)
    fwargs=(-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
    ;;
edk2)
    # EDK2 as pflash; it takes kernel, initrd and command line from fw_cfg
    "$TOP/scripts/fetch-deb.sh" qemu-efi-riscv64
    fw=$CACHE/debs/qemu-efi-riscv64_all/root/usr/share/qemu-efi-riscv64
    cp "$fw/RISCV_VIRT_VARS.fd" "$tmpdir/vars.fd"
    fwargs=(-blockdev "node-name=code,driver=file,read-only=on,filename=$fw/RISCV_VIRT_CODE.fd"
            -blockdev "node-name=vars,driver=file,filename=$tmpdir/vars.fd"
            -M pflash0=code,pflash1=vars
            -kernel "$kernel" -initrd "$initrd" -append "$cmdline")
    ;;
uboot-booti|uboot-bootefi)
    # U-Boot as the OpenSBI payload, booting Linux from a virtio disk
    "$TOP/scripts/deps.sh" boot
    "$TOP/scripts/fetch-deb.sh" u-boot-qemu
    disk=$BUILD/guest/${firmware#uboot-}.img
    "$TOP/scripts/mk-bootdisk.sh" "${firmware#uboot-}" "$disk" "$kernel" "$initrd" "$cmdline"
    cp "$disk" "$tmpdir/disk.img"
    fwargs=(-kernel "$CACHE/debs/u-boot-qemu_all/root/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"
            -drive "file=$tmpdir/disk.img,format=raw,if=virtio")
    ;;
*) die "unknown --firmware '$firmware' (opensbi, edk2, uboot-booti, uboot-bootefi)" ;;
esac

set +e
timeout "$timeout" "$QEMU" -M "$machine" -m "$mem" -smp "$smp" \
    -display none -serial "file:$log" -monitor none -no-reboot \
    "${fwargs[@]}" "$@" >"$log.qemu" 2>&1
rc=$?
set -e
[ -z "$stderr" ] || cp "$log.qemu" "$stderr"
if ! grep -qs '^VS-END' "$log"; then
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
