#!/bin/sh
# L2 test for a passed-through NVMe controller: read the whole namespace
# and report its md5, whether swiotlb bounced any DMA, the interrupts
# used, and the time of a sequential O_DIRECT read.  (Where the DMA went
# is measured outside, from the NVMe model's DMA trace in L0.)

i=0
while [ ! -b /dev/nvme0n1 ] && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -b /dev/nvme0n1 ] || { echo "PT-ERROR no /dev/nvme0n1"; exit 1; }

t0=$(cut -d' ' -f1 /proc/uptime)
sum=$(md5sum /dev/nvme0n1 | cut -d' ' -f1)
t1=$(cut -d' ' -f1 /proc/uptime)
echo "PT-MD5 $sum"
echo "PT-SWIOTLB-HIWATER $(cat /sys/kernel/debug/swiotlb/io_tlb_used_hiwater 2>/dev/null || echo unknown)"
echo "PT-READ $t0 $t1"
grep -i nvme /proc/interrupts | sed 's/  */ /g; s/^/PT-IRQ/'
t0=$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/nvme0n1 of=/dev/null bs=1M iflag=direct 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
echo "PT-DIRECT-READ $t0 $t1"
