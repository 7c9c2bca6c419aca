#!/bin/bash
# Prove that the virt machine is unchanged by this project.
#
#   run.sh generate QEMU   record the golden outputs of a pristine QEMU
#   run.sh check QEMU      compare QEMU's outputs with the golden ones
#
# It records virt's machine properties (-M virt,help), the ACPI tables a
# guest finds under EDK2 (plain and with NUMA, so SRAT is covered) and, for
# each
# configuration of the matrix, the device tree (with
# -seed 1, because /chosen/rng-seed is random otherwise) and the flat view
# of the "memory" address space from 'info mtree -f' (the order of the
# other flat views changes from run to run).
STEP=virt-golden
. "$(dirname "$0")/../../scripts/lib.sh"

# VIRT_GOLDEN=master compares with the goldens of pristine upstream master
case ${VIRT_GOLDEN:-10.2.2} in
10.2.2) GOLDEN=$TOP/tests/virt-golden/golden LABEL="pristine 10.2.2" ;;
master) GOLDEN=$TOP/tests/virt-golden/golden-master LABEL="pristine master" ;;
*) die "VIRT_GOLDEN=${VIRT_GOLDEN}: use 10.2.2 or master" ;;
esac
mode=${1:-}
qemu=${2:-}
[ -x "$qemu" ] || die "usage: $0 generate|check QEMU-BINARY"

configs() {
    local mem smp aia acpi
    for mem in 128M 1G 2G 4G 16G; do
        for smp in 1 4; do
            for aia in none aplic aplic-imsic; do
                for acpi in on off; do
                    echo "m$mem-smp$smp-$aia-acpi$acpi -m $mem -smp $smp -M virt,aia=$aia,acpi=$acpi"
                done
            done
        done
    done
    for aia in none aplic aplic-imsic; do
        echo "numa2-$aia -m 4G -smp 4 -M virt,aia=$aia -numa node,cpus=0-1,mem=1G -numa node,cpus=2-3,mem=3G"
    done
    echo "numa2-memdev -m 2G -smp 2 -M virt -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G -numa node,cpus=0,memdev=m0 -numa node,cpus=1,memdev=m1"
    echo "iommu-sys -m 2G -smp 2 -M virt,iommu-sys=on"
    echo "iommu-sys-imsic -m 2G -smp 2 -M virt,iommu-sys=on,aia=aplic-imsic"
}

# mtree_memory_view: the flat view that lists AS "memory", without its
# "FlatView #n" header and without carriage returns.
mtree_memory_view() {
    tr -d '\r' | awk '
        /^FlatView #/ { inblk = 0; keep = 0; buf = ""; next }
        /^ AS "memory"/ { keep = 1 }
        /^\(qemu\)/ { if (keep) { printf "%s", buf; keep = 0 }; buf = ""; next }
        /^$/ { if (keep) { printf "%s", buf; keep = 0 }; buf = ""; next }
        { buf = buf $0 "\n" }
        END { if (keep) printf "%s", buf }'
}

dump_one() {
    local name=$1 out=$2
    shift 2
    "$qemu" "$@" -seed 1 -display none -serial none -monitor none \
        -machine dumpdtb="$out/$name.dtb" >"$out/$name.log" 2>&1 ||
        die "$name: dumpdtb failed: $(tail -1 "$out/$name.log")"
    printf 'info mtree -f\nquit\n' |
        "$qemu" "$@" -seed 1 -S -display none -serial none -monitor stdio \
        2>"$out/$name.log" | mtree_memory_view > "$out/$name.mtree"
    [ -s "$out/$name.mtree" ] || die "$name: no 'memory' flat view in info mtree -f"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
while read -r name args; do
    # shellcheck disable=SC2086
    dump_one "$name" "$work" $args
    sum=$(sha256sum "$work/$name.dtb" | cut -d' ' -f1)
    case $mode in
    generate)
        mkdir -p "$GOLDEN"
        cp "$work/$name.mtree" "$GOLDEN/$name.mtree"
        echo "$sum  $name" >> "$work/dtb.sha256"
        ;;
    check)
        want=$(awk -v n="$name" '$2 == n { print $1 }' "$GOLDEN/dtb.sha256")
        if [ -z "$want" ]; then
            echo "FAIL $name: no golden device tree"; fail=$((fail + 1))
        elif [ "$sum" != "$want" ]; then
            echo "FAIL $name: device tree differs from $LABEL"; fail=$((fail + 1))
        elif ! diff -u "$GOLDEN/$name.mtree" "$work/$name.mtree" >"$work/$name.diff"; then
            echo "FAIL $name: info mtree -f differs from $LABEL"
            head -20 "$work/$name.diff"
            fail=$((fail + 1))
        else
            echo "ok   $name"; pass=$((pass + 1))
        fi
        ;;
    *) die "unknown mode '$mode'" ;;
    esac
done < <(configs)

# acpi_tables NAME ARGS...: md5 of each ACPI table a Linux guest finds
# under EDK2 (Linux boots with acpi=on so that it reads them).
acpi_tables() {
    local name=$1 fw kernel initrd
    shift
    fw=$CACHE/debs/qemu-efi-riscv64_all/root/usr/share/qemu-efi-riscv64
    kernel=$kroot/usr/lib/modules/$(kernel_release "$kroot")/vmlinuz
    initrd=$work/initramfs.cpio.gz
    cp "$fw/RISCV_VIRT_VARS.fd" "$work/vars.fd"
    timeout 300 "$qemu" -M virt,pflash0=code,pflash1=vars "$@" -seed 1 \
        -blockdev "node-name=code,driver=file,read-only=on,filename=$fw/RISCV_VIRT_CODE.fd" \
        -blockdev "node-name=vars,driver=file,filename=$work/vars.fd" \
        -kernel "$kernel" -initrd "$initrd" -display none -monitor none \
        -append "console=ttyS0 quiet panic=-1 acpi=on vs.cmd=md5sum%20/sys/firmware/acpi/tables/[A-Z]*" \
        -serial "file:$work/$name.console" -no-reboot >/dev/null 2>&1
    tr -d '\r' < "$work/$name.console" | sed -n 's|^VS-OUT \([0-9a-f]*\)  /sys/firmware/acpi/tables/|\1 |p' \
        > "$work/$name.acpi"
    [ -s "$work/$name.acpi" ] || die "$name: the guest listed no ACPI tables"
}

"$TOP/scripts/fetch-deb.sh" qemu-efi-riscv64
kroot=$("$TOP/scripts/fetch-deb.sh" --root 'linux-binary-*-riscv64:riscv64')
"$TOP/scripts/mk-initramfs.sh" "$work/initramfs.cpio.gz"
acpi_tables acpi-2g -m 2G -smp 2
acpi_tables acpi-numa -m 4G -smp 2 -object memory-backend-ram,id=m0,size=3G \
    -object memory-backend-ram,id=m1,size=1G \
    -numa node,cpus=0,memdev=m0 -numa node,cpus=1,memdev=m1
# golden_text NAME FILE WHAT: record FILE as golden NAME, or compare with it
golden_text() {
    local name=$1 file=$2 what=$3
    case $mode in
    generate) cp "$file" "$GOLDEN/$name" ;;
    check)
        if diff -u "$GOLDEN/$name" "$file" > "$work/$name.diff"; then
            echo "ok   ${name%.*}"; pass=$((pass + 1))
        else
            echo "FAIL ${name%.*}: $what differs from $LABEL"
            head -20 "$work/$name.diff"
            fail=$((fail + 1))
        fi
        ;;
    esac
}

golden_text acpi-2g.acpi "$work/acpi-2g.acpi" "the ACPI tables"
golden_text acpi-numa.acpi "$work/acpi-numa.acpi" "the ACPI tables"

# virt's machine properties, with their defaults and descriptions
"$qemu" -M virt,help > "$work/properties" 2>&1 || die "-M virt,help failed"
golden_text virt-properties.txt "$work/properties" "-M virt,help"

if [ "$mode" = generate ]; then
    cp "$work/dtb.sha256" "$GOLDEN/dtb.sha256"
    log "wrote $(wc -l < "$GOLDEN/dtb.sha256") golden configurations to $GOLDEN"
else
    echo "virt-golden: $pass passed, $fail failed"
    [ "$fail" = 0 ]
fi
