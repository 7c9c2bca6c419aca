#!/bin/sh
# L2 test for a passed-through ivshmem-plain device: find its BAR2 (the
# shared memory, a 64-bit prefetchable BAR), enable the device, write
# PATTERN at BAR2 + OFFSET and at BAR2's end - 4 - OFFSET through /dev/mem
# and read both back.  The runner checks L0's backing file.
#   bar.sh OFFSET PATTERN
off=$1 pat=$2
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] && dev=$d
done
[ -n "${dev:-}" ] || { echo "PT-ERROR no ivshmem device (1af4:1110)"; exit 1; }
line=$(sed -n 3p "$dev/resource")
first=${line%% *} rest=${line#* }
last=${rest%% *}
start=$((first)) end=$((last))
[ "$start" != 0 ] || { echo "PT-ERROR BAR2 of ${dev##*/} is not assigned"; exit 1; }
echo "PT-BAR ${dev##*/} $first $last $((end - start + 1))"
grep -i 'pci' /proc/iomem | grep -v '^ ' | sed 's/^/PT-IOMEM /'
# enabling memory decoding maps the BAR into QEMU's address space, and
# QEMU then DMA-maps it (for peer-to-peer) in L1's IOMMU
t0=$(cut -d' ' -f1 /proc/uptime)
echo 1 > "$dev/enable"
echo "PT-ENABLE $t0 $(cut -d' ' -f1 /proc/uptime)"
lo=$((start + off)) hi=$((end - 3 - off))
for a in $lo $hi; do
    devmem "$a" 32 "$pat" || echo "PT-ERROR devmem write at $a failed"
    printf 'PT-RW 0x%x %s\n' "$a" "$(devmem "$a" 32)"
done
