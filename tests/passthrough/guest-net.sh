#!/bin/sh
# L2 test for a passed-through NIC: bring the first Ethernet interface up,
# take a DHCP lease from L0's user network, then move data both ways over
# TCP to the runner's server on the host (HOST PORT, through slirp): send
# UPLOAD_KIB of random data and fetch the server's blob.  Both ends report
# md5 and byte count; the runner compares them.
#   net.sh HOST PORT UPLOAD_KIB
host=$1 port=$2 kib=$3
i=0
while ! ls /sys/class/net | grep -q '^e' && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
nic=$(ls /sys/class/net | grep '^e' | head -1)
[ -n "$nic" ] || { echo "PT-ERROR no Ethernet interface"; exit 1; }
drv=$(readlink "/sys/class/net/$nic/device/driver")
echo "PT-NIC $nic $(cat "/sys/class/net/$nic/address") ${drv##*/}"
ip link set lo up
ip link set "$nic" up
udhcpc -i "$nic" -f -q -n -t 20 -T 3 -s /tests/udhcpc.sh 2>&1 | sed 's/^/PT-UDHCPC /'
grep -q . /tmp/lease 2>/dev/null || { echo "PT-ERROR no DHCP lease"; exit 1; }
cat /tmp/lease
ip -4 addr show dev "$nic" | grep inet | sed 's/^ */PT-ADDR /'
dd if=/dev/urandom of=/tmp/up bs=1024 count="$kib" 2>/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
reply=$({ echo "PUT $(wc -c < /tmp/up)"; cat /tmp/up; } | nc "$host" "$port")
t1=$(cut -d' ' -f1 /proc/uptime)
echo "PT-UP $(md5sum < /tmp/up | cut -d' ' -f1) $(wc -c < /tmp/up) $t0 $t1"
echo "PT-UP-REPLY $reply"
echo GET | nc "$host" "$port" > /tmp/down
t2=$(cut -d' ' -f1 /proc/uptime)
echo "PT-DOWN $(md5sum < /tmp/down | cut -d' ' -f1) $(wc -c < /tmp/down) $t1 $t2"
# e1000e names its vectors after the interface, virtio-net after the device
grep -iE "$nic|virtio" /proc/interrupts | sed 's/  */ /g; s/^/PT-IRQ/'
echo "PT-STATS $(cat "/sys/class/net/$nic/statistics/rx_bytes") $(cat "/sys/class/net/$nic/statistics/tx_bytes")"
