#!/bin/bash
# check.sh SUITE...: run the project's test suites against the built QEMU
# and end with one "N passed, N failed" line.  Suites:
#   qtest        QEMU's riscv64 qtests that cover machines, plus virt-split-test
#   virt-golden  virt's device tree and memory map equal pristine 10.2.2's
#   docs         docs/virt-split.rst builds in QEMU's Sphinx without warnings
#   boot         Linux on virt and virt-split under OpenSBI, U-Boot and
#                EDK2 sees the RAM of the layout (tests/boot/matrix.py)
#   libvirt      Debian's libvirt (a session daemon under a temporary
#                directory) runs virt-split domains (tests/libvirt/run)
#   passthrough  an NVMe controller passed through VFIO on an emulated x86
#                host with VT-d to virt and virt-split (tests/passthrough)
#   all          all of the above
STEP=check
. "$(dirname "$0")/lib.sh"

OBJ=$BUILD/obj
QTESTS=(qom-test test-hmp device-introspect-test riscv-csr-test virt-split-test)
RESULTS=$BUILD/check-results
: > "$RESULTS"

record() { # record STATUS NAME
    echo "$1 $2" >> "$RESULTS"
    printf '%-4s %s\n' "$1" "$2"
}

suite_qtest() {
    local t targets=() log
    for t in "${QTESTS[@]}"; do
        targets+=("tests/qtest/$t")
    done
    log "building qtests: ${QTESTS[*]}"
    ninja -C "$OBJ" "${targets[@]}" >"$BUILD/qtest-build.log" 2>&1 ||
        die "building qtests failed: $(grep -m1 -E 'error:|FAILED' "$BUILD/qtest-build.log")"
    for t in "${QTESTS[@]}"; do
        qtest_one "$t"
    done
}

# qtest_one NAME: run one qtest binary with TAP output, record its cases
qtest_one() {
    local t=$1 log=$BUILD/qtest-$1.log rc=0 ok notok
    (cd "$OBJ" && QTEST_QEMU_BINARY=./qemu-system-riscv64 \
        timeout 600 "tests/qtest/$t" --tap -k) >"$log" 2>&1 || rc=$?
    ok=$(grep -cE '^ok ' "$log" || true)
    notok=$(grep -cE '^not ok ' "$log" || true)
    if [ "$ok" = 0 ] && [ "$notok" = 0 ]; then
        record FAIL "qtest/$t: no test ran (exit $rc, see $log)"
        return
    fi
    while read -r line; do
        record FAIL "qtest/$t: $line"
    done < <(grep -E '^not ok ' "$log" || true)
    while read -r line; do
        case $line in
        *'# SKIP'*) record SKIP "qtest/$t: $line" ;;
        *) echo "PASS qtest/$t: $line" >> "$RESULTS" ;;
        esac
    done < <(grep -E '^ok ' "$log" || true)
    if [ "$rc" != 0 ] && [ "$notok" = 0 ]; then
        record FAIL "qtest/$t: exited with $rc (see $log)"
    fi
    echo "     qtest/$t: $ok ok, $notok not ok"
}

suite_virt_golden() {
    local line rc=0 out=$BUILD/virt-golden.log
    "$TOP/tests/virt-golden/run.sh" check "$BUILD/qemu-system-riscv64" >"$out" 2>&1 || rc=$?
    while read -r line; do
        case $line in
        "ok   "*) echo "PASS virt-golden/${line#ok   }" >> "$RESULTS" ;;
        FAIL*) record FAIL "virt-golden/${line#FAIL }" ;;
        *) echo "     $line" ;;
        esac
    done < "$out"
    if [ "$rc" != 0 ] && ! grep -q '^FAIL' "$out"; then
        record FAIL "virt-golden: the comparison stopped with exit $rc"
    fi
    echo "     virt-golden: $(grep -c '^PASS virt-golden' "$RESULTS") outputs identical to pristine 10.2.2"
}

# run_harness NAME CMD...: a harness that records its own PASS/FAIL lines;
# if it stops with an error before recording a failure, that is a failure.
run_harness() {
    local name=$1 before rc=0
    shift
    before=$(grep -c '^FAIL' "$RESULTS" || true)
    "$@" || rc=$?
    if [ "$rc" != 0 ] && [ "$(grep -c '^FAIL' "$RESULTS" || true)" = "$before" ]; then
        record FAIL "$name: the harness stopped with exit $rc (see the error above)"
    fi
}

# BOOT_SET=full runs the whole matrix (make check-boot-full)
suite_boot() {
    run_harness boot /usr/bin/python3 "$TOP/tests/boot/matrix.py" "${BOOT_SET:-ci}" "$RESULTS"
}

suite_libvirt() {
    run_harness libvirt /usr/bin/python3 "$TOP/tests/libvirt/run" --suite "$RESULTS"
}

suite_passthrough() {
    run_harness passthrough /usr/bin/python3 "$TOP/tests/passthrough/run" --suite "$RESULTS"
}

suite_docs() {
    "$TOP/scripts/check-docs.sh" && record PASS "docs: virt-split.rst builds without warnings" ||
        record FAIL "docs: Sphinx reported warnings or errors (see $BUILD/docs.log)"
}

[ $# -gt 0 ] || set -- all
for s in "$@"; do
    case $s in
    all) set -- qtest virt-golden docs boot libvirt passthrough; break ;;
    esac
done
for s in "$@"; do
    log "suite $s"
    case $s in
    qtest) suite_qtest ;;
    virt-golden) suite_virt_golden ;;
    boot) suite_boot ;;
    docs) suite_docs ;;
    libvirt) suite_libvirt ;;
    passthrough) suite_passthrough ;;
    *) die "unknown suite '$s'" ;;
    esac
done
pass=$(grep -c '^PASS' "$RESULTS" || true)
fail=$(grep -c '^FAIL' "$RESULTS" || true)
skip=$(grep -c '^SKIP' "$RESULTS" || true)
echo "$pass passed, $fail failed${skip:+, $skip skipped}" | sed 's/, 0 skipped//'
[ "$fail" = 0 ]
