#!/bin/sh
# L2 test for a passed-through NIC: bring the first Ethernet interface up
# and report its link state, MAC and interrupts.
i=0
while ! ls /sys/class/net | grep -q '^e' && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
nic=$(ls /sys/class/net | grep '^e' | head -1)
[ -n "$nic" ] || { echo "PT-ERROR no Ethernet interface"; exit 1; }
ip link set "$nic" up
sleep 3
echo "PT-NIC $nic $(cat /sys/class/net/$nic/address) $(cat /sys/class/net/$nic/operstate)"
grep -i "$nic" /proc/interrupts | sed 's/  */ /g; s/^/PT-IRQ/'
