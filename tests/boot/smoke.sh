#!/bin/bash
# smoke.sh RESULTS: boot the Debian riscv64 kernel on virt and virt-split
# through OpenSBI, EDK2 and U-Boot (booti) and check the memory the guest
# sees against the virt-split layout.  Appends PASS/FAIL lines to RESULTS.
STEP=check-boot
. "$(dirname "$0")/../../scripts/lib.sh"

RESULTS=${1:?usage: smoke.sh RESULTS}
LOGS=$BUILD/boot-logs
mkdir -p "$LOGS"
MIB=$((1024 * 1024))
# Firmware keeps some RAM for itself; totals may differ by this much.
TOLERANCE_KB=$((64 * 1024))

record() {
    echo "$1 boot/$2" >> "$RESULTS"
    printf '%-4s boot/%s\n' "$1" "$2"
}

# boot NAME ARGS...: run a guest, leave its summary in $LOGS/NAME.vs
boot() {
    local name=$1
    shift
    if "$TOP/scripts/run-guest.sh" --quiet --log "$LOGS/$name.log" "$@" \
            > "$LOGS/$name.vs" 2> "$LOGS/$name.err"; then
        return 0
    fi
    record FAIL "$name: $(head -1 "$LOGS/$name.err")"
    sed 's/^/     /' "$LOGS/$name.err" | tail -8
    return 1
}

memtotal() { awk '/^VS-MEMTOTAL/ { print $2 }' "$LOGS/$1.vs"; }
node_kb() { awk -v n="$2" '$1 == "VS-NODE" && $2 == n { print $3 }' "$LOGS/$1.vs"; }

# ranges NAME: "start end" in hex, one per System RAM range
ranges() {
    awk '/^VS-IOMEM/ { split($2, r, "-"); print r[1], r[2] }' "$LOGS/$1.vs"
}

# check_layout NAME LOW_END HIGH_END: every System RAM range lies in
# [0x80000000, LOW_END] or [0x100000000, HIGH_END], low RAM ends at
# LOW_END and, if HIGH_END is set, high RAM ends there.
check_layout() {
    local name=$1 low_end=$2 high_end=$3 s e lowtop=0 hightop=0 bad=""
    while read -r s e; do
        s=$((16#$s)) e=$((16#$e))
        if [ "$s" -ge $((0x80000000)) ] && [ "$e" -le $((low_end)) ]; then
            [ "$e" -le "$lowtop" ] || lowtop=$e
        elif [ -n "$high_end" ] && [ "$s" -ge $((0x100000000)) ] && [ "$e" -le $((high_end)) ]; then
            [ "$e" -le "$hightop" ] || hightop=$e
        else
            bad="$bad $(printf '%x-%x' "$s" "$e")"
        fi
    done < <(ranges "$name")
    if [ -n "$bad" ]; then
        record FAIL "$name: System RAM outside the layout:$bad"
    elif [ "$lowtop" != $((low_end)) ]; then
        record FAIL "$name: low RAM ends at $(printf '%x' "$lowtop"), want $low_end"
    elif [ -n "$high_end" ] && [ "$hightop" != $((high_end)) ]; then
        record FAIL "$name: high RAM ends at $(printf '%x' "$hightop"), want $high_end"
    else
        record PASS "$name: System RAM matches the layout"
    fi
}

# check_close NAME WHAT GOT WANT: GOT within TOLERANCE_KB of WANT
check_close() {
    local name=$1 what=$2 got=$3 want=$4 d
    if [ -z "$got" ] || [ -z "$want" ]; then
        record FAIL "$name: no $what reported"
        return
    fi
    d=$((got - want))
    [ "$d" -ge 0 ] || d=$((-d))
    if [ "$d" -le "$TOLERANCE_KB" ]; then
        record PASS "$name: $what $got kB (reference $want kB)"
    else
        record FAIL "$name: $what $got kB, want $want kB +- $TOLERANCE_KB kB"
    fi
}

# The reference: virt with the same RAM and firmware path.
if boot virt-4g-opensbi --machine virt --mem 4G; then
    check_layout virt-4g-opensbi 0x17fffffff ""
fi
ref=$(memtotal virt-4g-opensbi 2>/dev/null || true)

for fw in opensbi edk2 uboot-booti; do
    name=virt-split-4g-$fw
    boot "$name" --machine virt-split --mem 4G --firmware "$fw" || continue
    check_layout "$name" 0xbfffffff 0x1bfffffff
    check_close "$name" MemTotal "$(memtotal "$name")" "$ref"
done

name=virt-split-4g-low2030m
if boot "$name" --machine virt-split,low-ram-size=2030M --mem 4G; then
    check_layout "$name" 0xfedfffff 0x1811fffff
    check_close "$name" MemTotal "$(memtotal "$name")" "$ref"
fi

# NUMA node 0 straddles the hole: 1 GiB low + 2 GiB high, node 1 high.
# The nodes must get what they get on virt with the same NUMA setup.
numa=(-numa node,cpus=0,mem=3G -numa node,cpus=1,mem=1G)
boot virt-numa --machine virt --mem 4G --smp 2 -- "${numa[@]}" || true
name=virt-split-numa-straddle
if boot "$name" --machine virt-split --mem 4G --smp 2 -- "${numa[@]}"; then
    check_layout "$name" 0xbfffffff 0x1bfffffff
    check_close "$name" "node 0 MemTotal" "$(node_kb "$name" 0)" "$(node_kb virt-numa 0)"
    check_close "$name" "node 1 MemTotal" "$(node_kb "$name" 1)" "$(node_kb virt-numa 1)"
fi

# With acpi=on on the kernel command line Linux takes its NUMA memory
# from SRAT instead of the device tree; the split node must come out the
# same.  EDK2 installs the ACPI tables.
name=virt-split-numa-edk2-srat
if boot "$name" --machine virt-split --mem 4G --smp 2 --firmware edk2 \
        --append acpi=on -- "${numa[@]}"; then
    if grep -q '^VS-ACPI .*SRAT' "$LOGS/$name.vs"; then
        check_layout "$name" 0xbfffffff 0x1bfffffff
        check_close "$name" "node 0 MemTotal (SRAT)" "$(node_kb "$name" 0)" "$(node_kb virt-numa 0)"
        check_close "$name" "node 1 MemTotal (SRAT)" "$(node_kb "$name" 1)" "$(node_kb virt-numa 1)"
    else
        record FAIL "$name: the guest did not boot with ACPI and an SRAT"
    fi
fi

# acpi=off: EDK2 and Linux go by the device tree alone.
name=virt-split-edk2-acpi-off
if boot "$name" --machine virt-split,acpi=off --mem 4G --firmware edk2; then
    if grep -q '^VS-ACPI' "$LOGS/$name.vs"; then
        record FAIL "$name: the guest found ACPI tables with acpi=off"
    else
        check_layout "$name" 0xbfffffff 0x1bfffffff
    fi
fi

# A 64-bit BAR lands in the PCIe window above high RAM and the guest
# assigns it: ivshmem with a 1 GiB shared memory BAR.
name=virt-split-ivshmem
if boot "$name" --machine virt-split --mem 4G -- \
        -object memory-backend-ram,id=shm,size=1G,share=on \
        -device ivshmem-plain,memdev=shm; then
    bar=$(awk '$1 == "VS-PCI" && $3 == "0x1af4:0x1110" && $4 == "BAR2" { print $5 }' "$LOGS/$name.vs")
    if [ -n "$bar" ] && [ $((bar)) -ge $((0x1c0000000)) ] && [ $((bar)) -ge $((16 * 1024 * MIB)) ]; then
        record PASS "$name: 64-bit BAR at $bar, above RAM (top 0x1bfffffff)"
    else
        record FAIL "$name: ivshmem BAR2 at '${bar:-none}', want >= 0x400000000"
    fi
fi
