#!/bin/bash
# tests/hole/run.sh [RESULTS]: a virt-split guest touches the hole between
# its RAM banks.  Debian's kernel and the project's initramfs boot on
# -M virt-split -m 4G (RAM 0x80000000-0xbfffffff and from 4 GiB).  In the
# guest, busybox devmem reads and writes 0xc0000000 and 0xfee00000 through
# /dev/mem, each in its own process.  Asserted:
#   fault      each of the four accesses ends its process with a signal,
#              and the kernel logs a load (cause 5) or store (cause 7)
#              access fault for it: the access reached the bus and
#              nothing answered
#   qemu       QEMU keeps running: the guest goes on to its end marker and
#              QEMU exits 0 when the guest powers off
#   ram        afterwards /dev/mem reads of one address in each RAM bank
#              return the pattern that QEMU's generic loader wrote there
#              (the two pages are reserved with no-map in the device tree,
#              since Debian's kernel has STRICT_DEVMEM: /dev/mem refuses
#              pages the kernel uses as RAM)
# Records "PASS hole/..." / "FAIL hole/..." lines in RESULTS.
STEP=hole
. "$(dirname "$0")/../../scripts/lib.sh"

RESULTS=${1:-/dev/null}
QEMU=${VIRT_SPLIT_QEMU:-$BUILD/qemu-system-riscv64}
MEM=4G SMP=2
LOW=0xb8000000 HIGH=0x180000000
LOW_PATTERN=0x4C4F5731 HIGH_PATTERN=0x48494748
suite_results hole
[ -x "$QEMU" ] || die "no built QEMU at $QEMU; run 'make' first"
need_tool dtc python3

work=$BUILD/hole
rm -rf "$work"
mkdir -p "$work"
# the patterns, as little-endian 32-bit words filling one page each
python3 - "$work" "$LOW_PATTERN" "$HIGH_PATTERN" <<'PY'
import struct, sys
for name, word in (("low", sys.argv[2]), ("high", sys.argv[3])):
    with open(f"{sys.argv[1]}/{name}.bin", "wb") as f:
        f.write(struct.pack("<I", int(word, 16)) * 1024)
PY
# virt-split's own device tree, plus the two reserved pages
"$QEMU" -M "virt-split,dumpdtb=$work/machine.dtb" -m "$MEM" -smp "$SMP" -display none \
    >"$work/dumpdtb.log" 2>&1 || die "dumping virt-split's device tree failed: $(tail -1 "$work/dumpdtb.log")"
{ dtc -q -I dtb -O dts "$work/machine.dtb"
  cat <<DTS
/ {
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
		vs-low@${LOW#0x} {
			reg = <0x0 $LOW 0x0 0x1000>;
			no-map;
		};
		vs-high@${HIGH#0x} {
			reg = <0x$(printf '%x' $((HIGH >> 32))) 0x$(printf '%x' $((HIGH & 0xffffffff))) 0x0 0x1000>;
			no-map;
		};
	};
};
DTS
} > "$work/guest.dts"
dtc -q -I dts -O dtb -o "$work/guest.dtb" "$work/guest.dts" 2>"$work/dtc.log" ||
    die "dtc failed on the guest device tree: $(head -1 "$work/dtc.log")"
initrd=$work/initramfs.cpio.gz
"$TOP/scripts/mk-initramfs.sh" --add "$TOP/tests/hole/guest-hole.sh:/tests/hole.sh" "$initrd"

log "booting -M virt-split -m $MEM; the guest touches 0xc0000000 and 0xfee00000"
rc=0
start=$(date +%s)
VIRT_SPLIT_QEMU=$QEMU QEMU=$QEMU "$TOP/scripts/run-guest.sh" --machine virt-split --mem "$MEM" --smp "$SMP" --initrd "$initrd" \
    --log "$work/console.log" --append "vs.cmd=/tests/hole.sh%20$LOW%20$HIGH" -- \
    -dtb "$work/guest.dtb" \
    -device "loader,file=$work/low.bin,addr=$LOW,force-raw=on" \
    -device "loader,file=$work/high.bin,addr=$HIGH,force-raw=on" \
    >"$work/guest.out" 2>"$work/run.err" || rc=$?
secs=$(( $(date +%s) - start ))
sed -n 's/^VS-OUT //p' "$work/guest.out" | sed 's/^/     /'
[ "$rc" = 0 ] || sed 's/^/     /' "$work/run.err"
out() { sed -n "s/^VS-OUT $1 //p" "$work/guest.out"; }

# fault: every access ended its process with a signal (exit > 128), and
# the kernel logged one access fault per access, loads and stores apart
for a in 0xc0000000 0xfee00000; do
    for op in read write; do
        line=$(out HOLE | awk -v o="$op" -v a="$a" '$1 == o && $2 == a')
        ex=$(sed -n 's/.*exit=\([0-9]*\).*/\1/p' <<<"$line")
        sig=$(( ${ex:-0} > 128 ? ${ex:-0} - 128 : 0 ))
        check "fault/$op-$a" "devmem $op of $a through /dev/mem: exit ${ex:-none} (signal $sig)" \
            test "${ex:-0}" -gt 128
    done
done
# in the order of the accesses: read, write, read, write
causes=$(out KLOG | sed -n 's/.*cause: 0*\([0-9a-f]*\)$/\1/p' | paste -sd ' ')
killed=$(out KLOG | grep -c 'unhandled signal 11 ' || true)
check fault/kernel-log "the kernel logged $killed unhandled SIGSEGVs with causes '${causes:-none}' (5: load access fault, 7: store access fault)" \
    test "$killed" = 4 -a "$causes" = "5 7 5 7"
# the layout: the machine's RAM banks (its device tree's memory nodes)
# hold neither hole address but one pattern page each, and the guest's
# System RAM lies in both banks
banks=$(dtc -q -I dtb -O dts "$work/machine.dtb" |
        awk '/memory@/ { m = 1 } m && /reg = / { gsub(/[<>;]/, ""); print $3, $4, $5, $6; m = 0 }' |
        while read -r a1 a0 s1 s0; do
            echo "$(( (a1 << 32) + a0 )) $(( (a1 << 32) + a0 + (s1 << 32) + s0 - 1 ))"
        done | sort -n)
in_bank() {
    local s e
    while read -r s e; do
        [ -n "$s" ] || continue
        if [ $(( $1 >= s && $1 <= e )) = 1 ]; then printf '%x-%x' "$s" "$e"; return; fi
    done <<<"$banks"
    echo none
}
ram_high=$(grep -c '^VS-IOMEM 1[0-9a-f]\{8\}-.* : System RAM' "$work/guest.out" || true)
ram_low=$(grep -c '^VS-IOMEM [89ab][0-9a-f]\{7\}-.* : System RAM' "$work/guest.out" || true)
check layout "RAM banks $(in_bank 0x80000000) and $(in_bank 0x100000000); 0xc0000000 in $(in_bank 0xc0000000), 0xfee00000 in $(in_bank 0xfee00000), $LOW in $(in_bank "$LOW"), $HIGH in $(in_bank "$HIGH"); guest System RAM ranges: $ram_low low, $ram_high high" \
    test "$(in_bank 0xc0000000) $(in_bank 0xfee00000)" = "none none" \
    -a "$(in_bank "$LOW")" = "$(in_bank 0x80000000)" -a "$(in_bank "$HIGH")" = "$(in_bank 0x100000000)" \
    -a "$(in_bank 0x80000000)" != none -a "$(in_bank 0x100000000)" != none \
    -a "$ram_low" -ge 1 -a "$ram_high" -ge 1
# qemu: it kept running through the faults and exited normally
alive=$(out ALIVE)
check qemu/keeps-running "QEMU ran on: the guest reached VS-END in ${secs}s (uptime ${alive:-none} s) and run-guest.sh exited $rc" \
    test "$rc" = 0 -a -n "$alive"
# ram: both banks still read back what QEMU wrote there
for b in "low $LOW $LOW_PATTERN" "high $HIGH $HIGH_PATTERN"; do
    set -- $b
    got=$(out RAM | awk -v b="$1" '$1 == b { print $4 }')
    ex=$(out RAM | awk -v b="$1" '$1 == b { sub("exit=", "", $3); print $3 }')
    check "ram/$1" "after the faults, /dev/mem read of $2 ($1 bank) gave ${got:-nothing} (exit ${ex:-none}), QEMU's loader wrote $3" \
        test "${ex:-1}" = 0 -a "$(( ${got:-0} ))" = "$(( $3 ))"
done
# keep what a failure needs for a look
if [ -z "$failed" ]; then rm -rf "$work"; else log "kept $work"; fi
