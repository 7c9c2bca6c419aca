#!/bin/sh
# udhcpc's script in L2 (net.sh): configure the lease and record it
case $1 in
deconfig) ifconfig "$interface" 0.0.0.0 ;;
bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
    [ -z "$router" ] || route add default gw "${router%% *}" dev "$interface"
    echo "PT-LEASE $ip mask ${subnet:-?} router ${router:-none} dns ${dns:-none} server ${serverid:-?} lease ${lease:-?}" > /tmp/lease
    ;;
esac
exit 0
