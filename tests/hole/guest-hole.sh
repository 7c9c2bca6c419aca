#!/bin/sh
# /tests/hole.sh LOW HIGH: run in the guest by tests/hole/run.sh.
# Reads and writes two addresses of the hole between virt-split's RAM
# banks through /dev/mem, each in its own process, and prints how each
# process ended and what the kernel logged.  Then reads LOW and HIGH, one
# address in each RAM bank that the harness filled with a known pattern
# and reserved (no-map) in the device tree, through /dev/mem again.
low=$1 high=$2
for a in 0xc0000000 0xfee00000; do
    for op in read write; do
        if [ "$op" = read ]; then
            ( exec /bin/busybox devmem "$a" 32 ) >/tmp/out 2>&1
        else
            ( exec /bin/busybox devmem "$a" 32 0x5a5aa5a5 ) >/tmp/out 2>&1
        fi
        rc=$?
        echo "HOLE $op $a exit=$rc $(head -c 120 /tmp/out | tr '\n' ' ')"
    done
done
# what the kernel said about each process it stopped
dmesg | grep -E 'unhandled signal|cause:' | sed 's/^\[[ 0-9.]*\] *//; s/^/KLOG /'
for a in "low $low" "high $high"; do
    set -- $a
    v=$( ( exec /bin/busybox devmem "$2" 32 ) 2>&1)
    echo "RAM $1 $2 exit=$? $v"
done
echo "ALIVE $(cut -d' ' -f1 /proc/uptime)"
