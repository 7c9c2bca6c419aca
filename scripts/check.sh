#!/bin/bash
# check.sh SUITE...: run the project's test suites against the built QEMU
# and end with one "N passed, N failed" line.  Suites:
#   qtest        QEMU's riscv64 qtests that cover machines, plus virt-split-test
#   virt-golden  virt's device tree and memory map equal pristine 10.2.2's
#   docs         docs/virt-split.rst builds in QEMU's Sphinx without warnings,
#                and every make target README.md and docs/*.md name has a
#                recipe
#   boot         Linux on virt and virt-split under OpenSBI, U-Boot and
#                EDK2 sees the RAM of the layout (tests/boot/matrix.py)
#   libvirt      Debian's libvirt (a session daemon under a temporary
#                directory) runs virt-split domains (tests/libvirt/run)
#   passthrough  devices passed through VFIO on an emulated x86 host to virt
#                and virt-split (tests/passthrough, docs/passthrough.md): an
#                NVMe controller behind VT-d and behind AMD-Vi, a virtio-gpu
#                screen checked in L0's screendump, an e1000e NIC (DHCP, TCP
#                both ways) beside the NVMe behind AMD-Vi
#   passthrough-extra  not in all (docs/passthrough.md): NVMe on virt 2000M
#                and virt-split 8G, bochs-display and VGA screens,
#                virtio-net, the e1000e alone behind VT-d, and virtio-gpu
#                and bochs-display behind AMD-Vi
#   passthrough-bar  a 4 GiB ivshmem BAR through VFIO, and scripts/vfio-check's
#                predictions checked against what QEMU does in L1
#   vfio-check   scripts/vfio-check against fake sysfs trees and QEMU's layouts
#   install      make install and uninstall in scratch DESTDIRs: the installed
#                binary boots from another directory, the libvirt example
#                validates, nothing is left (tests/install/run.sh)
#   assets       pins that left their suite fall back and boot (the U-Boot
#                source too); a wrong sum stops the fetch; two fetches of
#                one package at once both succeed; update-assets re-pins
#                (tests/assets/run.sh)
#   hole         a guest touching the hole between the RAM banks faults,
#                and QEMU and both banks survive (tests/hole/run.sh)
#   props        random virt-split configurations keep the layout's
#                invariants or are refused with one line (tests/props)
#   series       patches/upstream and the 10.2.2 series carry the same
#                changes; the mailed identity, master sources and their
#                subprojects (tests/series; no master needed)
#   sanitizers   under ASan, LSan and UBSan: virt equal to its pristine
#                goldens, the qtests and boot smoke under OpenSBI and EDK2,
#                with no sanitizer report; on master with patches/upstream
#                when QEMU_UPSTREAM_SRC names a source, otherwise on 10.2.2
#                (build-qemu.sh --asan, build/asan-obj)
#   upstream     master's sanitizer run and a pass-through case on a plain
#                build of master (not in all; says so in one line and counts
#                nothing without a source)
#   all          all of the above but upstream and passthrough-bar
# VIRT_SPLIT_QEMU: test this qemu-system-riscv64 instead of build/'s
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
    run_qtests "$OBJ" qtest
}

# run_qtests OBJ PREFIX: build the qtests in the build directory OBJ and
# record their cases as PREFIX/NAME
run_qtests() {
    local obj=$1 prefix=$2 t targets=() log=$1/qtest-build.log
    for t in "${QTESTS[@]}"; do
        targets+=("tests/qtest/$t")
    done
    log "building qtests in ${obj#"$TOP"/}: ${QTESTS[*]}"
    if ! ninja -C "$obj" "${targets[@]}" >"$log" 2>&1; then
        record FAIL "$prefix: building the qtests failed: $(grep -m1 -E 'error:|FAILED' "$log")"
        return
    fi
    for t in "${QTESTS[@]}"; do
        qtest_one "$obj" "$prefix" "$t"
    done
}

# qtest_one OBJ PREFIX NAME: run one qtest binary with TAP output, record
# its cases
qtest_one() {
    local obj=$1 prefix=$2 t=$3 log=$1/qtest-$3.log rc=0 ok notok
    (cd "$obj" && QTEST_QEMU_BINARY=./qemu-system-riscv64 \
        timeout 600 "tests/qtest/$t" --tap -k) >"$log" 2>&1 || rc=$?
    ok=$(grep -cE '^ok ' "$log" || true)
    notok=$(grep -cE '^not ok ' "$log" || true)
    if [ "$ok" = 0 ] && [ "$notok" = 0 ]; then
        record FAIL "$prefix/$t: no test ran (exit $rc, see $log)"
        return
    fi
    while read -r line; do
        record FAIL "$prefix/$t: $line"
    done < <(grep -E '^not ok ' "$log" || true)
    while read -r line; do
        case $line in
        *'# SKIP'*) record SKIP "$prefix/$t: $line" ;;
        *) echo "PASS $prefix/$t: $line" >> "$RESULTS" ;;
        esac
    done < <(grep -E '^ok ' "$log" || true)
    if [ "$rc" != 0 ] && [ "$notok" = 0 ]; then
        record FAIL "$prefix/$t: exited with $rc (see $log)"
    fi
    echo "     $prefix/$t: $ok ok, $notok not ok"
}

suite_virt_golden() {
    compare_virt_golden 10.2.2 "$BUILD/qemu-system-riscv64" virt-golden
}

# compare_virt_golden GOLDEN QEMU PREFIX: virt's outputs of QEMU against
# the goldens of pristine GOLDEN (10.2.2 or master)
compare_virt_golden() {
    local golden=$1 qemu=$2 prefix=$3 line rc=0 out
    out=$BUILD/${prefix//\//-}.log
    VIRT_GOLDEN=$golden "$TOP/tests/virt-golden/run.sh" check "$qemu" >"$out" 2>&1 || rc=$?
    while read -r line; do
        case $line in
        "ok   "*) echo "PASS $prefix/${line#ok   }" >> "$RESULTS" ;;
        FAIL*) record FAIL "$prefix/${line#FAIL }" ;;
        *) echo "     $line" ;;
        esac
    done < "$out"
    if [ "$rc" != 0 ] && ! grep -q '^FAIL' "$out"; then
        record FAIL "$prefix: the comparison stopped with exit $rc"
    fi
    echo "     $prefix: $(grep -c "^PASS $prefix/" "$RESULTS") outputs identical to pristine $golden"
}

# boot_smoke QEMU PREFIX FIRMWARE: virt-split -m 4G boots Linux, which
# sees all of low RAM (0x80000000-0xbfffffff) and all of high RAM
# (0x100000000-0x1bfffffff) and nothing else.
boot_smoke() {
    local qemu=$1 prefix=$2 fw=$3 out bad
    out=$(VIRT_SPLIT_QEMU=$qemu "$TOP/scripts/run-guest.sh" --quiet --machine virt-split \
          --mem 4G --firmware "$fw" --stderr "$BUILD/$prefix-boot-$fw.qemu.log" 2>&1) || {
        record FAIL "$prefix/boot-$fw: the guest did not boot: $(tail -3 <<<"$out" | tr '\n' ' ')"
        return
    }
    bad=$(/usr/bin/python3 -c '
import re, sys
low_end = high_start = high_end = 0
for lo, hi in re.findall(r"^VS-IOMEM ([0-9a-f]+)-([0-9a-f]+) : System RAM$", sys.stdin.read(), re.M):
    lo, hi = int(lo, 16), int(hi, 16)
    if 0x80000000 <= lo and hi <= 0xbfffffff:
        low_end = max(low_end, hi)
    elif 0x100000000 <= lo and hi <= 0x1bfffffff:
        high_start = min(high_start or lo, lo)
        high_end = max(high_end, hi)
    else:
        print("range %x-%x outside the layout" % (lo, hi))
if low_end != 0xbfffffff:
    print("low RAM does not reach 0xbfffffff")
if (high_start, high_end) != (0x100000000, 0x1bfffffff):
    print("high RAM is not 0x100000000-0x1bfffffff")
' <<<"$out")
    if [ -z "$bad" ]; then
        record PASS "$prefix/boot-$fw: Linux sees $(grep -c '^VS-IOMEM' <<<"$out") System RAM ranges, all of low and high RAM"
    else
        record FAIL "$prefix/boot-$fw: $(tr '\n' ';' <<<"$bad") ($(grep '^VS-IOMEM' <<<"$out" | tr '\n' ' '))"
    fi
}

# run_harness NAME CMD...: a harness that records its own PASS/FAIL lines
# as NAME/...; if it stops with an error before recording a failure, that
# is a failure.  (Suites in the background record at the same time.)
run_harness() {
    local name=$1 before rc=0
    shift
    before=$(grep -c "^FAIL $name/" "$RESULTS" || true)
    "$@" || rc=$?
    if [ "$rc" != 0 ] && [ "$(grep -c "^FAIL $name/" "$RESULTS" || true)" = "$before" ]; then
        record FAIL "$name: the harness stopped with exit $rc (see the error above)"
    fi
}

# Most suites keep one core busy.  make check runs the nested pass-through
# cases and the sanitizer run (its own build first) in the background
# beside them, so that both cores stay busy to the end.
# start_background NAME CMD...: run CMD with its output in
# build/NAME.log; wait_background prints that output once CMD has ended.
BG_PIDS=()
BG_NAMES=()
start_background() {
    local name=$1
    shift
    log "$name runs in the background (build/$name.log)"
    ( BG_PIDS=() BG_NAMES=() SECONDS=0; "$@"; log "$name took ${SECONDS}s" ) >"$BUILD/$name.log" 2>&1 &
    BG_PIDS+=("$!")
    BG_NAMES+=("$name")
}

wait_background() {
    local i
    for i in "${!BG_PIDS[@]}"; do
        wait "${BG_PIDS[$i]}" || true
        log "output of ${BG_NAMES[$i]}:"
        cat "$BUILD/${BG_NAMES[$i]}.log"
    done
    BG_PIDS=()
    BG_NAMES=()
}
trap '[ "${#BG_PIDS[@]}" = 0 ] || kill "${BG_PIDS[@]}" 2>/dev/null || true' EXIT

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

suite_passthrough_extra() {
    run_harness passthrough /usr/bin/python3 "$TOP/tests/passthrough/run" \
        --suite "$RESULTS" --set nvme-large,extra
}

suite_passthrough_bar() {
    run_harness passthrough-bar /usr/bin/python3 "$TOP/tests/passthrough/run" \
        --suite "$RESULTS" --set bar
}

suite_vfio_check() {
    run_harness vfio-check /usr/bin/python3 "$TOP/tests/vfio-check/run.py" --results "$RESULTS"
}

# The qtests and boots of master run on a build with AddressSanitizer and
# UBSan (build-qemu.sh --upstream-asan).  ASan and LSan write their reports
# to files under SAN_DIR.
# GCC 12's UBSan linked next to ASan ignores log_path and reports on
# stderr, so sanitizer_reports also reads the logs that keep the stderr of
# the qtests and boots; halt_on_error makes a report stop QEMU, which
# fails the test that ran it too.
# SAN_DIR and SAN_PREFIX (the results' prefix) are set by sanitizer_run.
SAN_PATTERN='ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: [A-Za-z]+Sanitizer'
sanitizer_env() {
    rm -rf "$SAN_DIR" "$BUILD/$SAN_PREFIX"-boot-*.qemu.log
    mkdir -p "$SAN_DIR"
    # glib has no frame pointers: LSan needs the slow unwinder to see
    # past g_malloc() to QEMU's frames that its suppressions name
    export ASAN_OPTIONS="log_path=$SAN_DIR/asan:halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$TOP/tests/sanitizers/ubsan.supp"
    export LSAN_OPTIONS="suppressions=$TOP/tests/sanitizers/lsan.supp:print_suppressions=0"
}

# sanitizer_canary: a deliberate heap overflow lands in SAN_DIR, and a
# deliberate signed overflow is reported on stderr and stops the program
sanitizer_canary() {
    local exe=$SAN_DIR.canary asan ubsan rc=0
    if ! gcc -g -fsanitize=address,undefined -o "$exe" "$TOP/tests/sanitizers/canary.c" \
        2>"$exe.log"; then
        record FAIL "$SAN_PREFIX/sanitizers/canary: gcc cannot build with -fsanitize=address,undefined: $(head -1 "$exe.log")"
        return
    fi
    "$exe" asan >/dev/null 2>&1 || true
    asan=$(grep -lE "$SAN_PATTERN" "$SAN_DIR"/* 2>/dev/null | wc -l || true)
    "$exe" ubsan >/dev/null 2>"$exe.log" || rc=$?
    ubsan=$(grep -cE "$SAN_PATTERN" "$exe.log" || true)
    if [ "$asan" = 1 ] && [ "$ubsan" -gt 0 ] && [ "$rc" = 1 ]; then
        record PASS "$SAN_PREFIX/sanitizers/canary: a deliberate heap overflow was reported in $SAN_DIR, a signed overflow on stderr (exit 1)"
    else
        record FAIL "$SAN_PREFIX/sanitizers/canary: heap overflow reports in $SAN_DIR: $asan (want 1); signed overflow report lines on stderr: $ubsan, exit $rc (want 1)"
    fi
    rm -f "$SAN_DIR"/*
}

# sanitizer_reports QEMU LOG...: the QEMU is instrumented, and neither
# SAN_DIR nor the LOGs hold a report
sanitizer_reports() {
    local qemu=$1 f libs found=0
    shift
    libs=$(ldd "$qemu" | grep -oE 'lib(asan|ubsan)\.so[.0-9]*' | sort -u | tr '\n' ' ' || true)
    case $libs in
    *asan*ubsan*) record PASS "$SAN_PREFIX/sanitizers/instrumented: qemu-system-riscv64 links $libs" ;;
    *) record FAIL "$SAN_PREFIX/sanitizers/instrumented: qemu-system-riscv64 links '$libs', want libasan and libubsan" ;;
    esac
    for f in "$SAN_DIR"/* "$@"; do
        [ -e "$f" ] && grep -qE "$SAN_PATTERN" "$f" || continue
        found=$((found + 1))
        record FAIL "$SAN_PREFIX/sanitizers/${f##*/}: $(grep -m1 -E "$SAN_PATTERN" "$f" | cut -c1-300) (see $f)"
    done
    [ "$found" != 0 ] ||
        record PASS "$SAN_PREFIX/sanitizers/reports: no ASan, LSan or UBSan report from the virt outputs, qtests and boots ($# logs read)"
}

# sanitizer_run OBJ PREFIX GOLDEN REPORTS: the sanitized build in OBJ:
# the canary, virt's outputs against the goldens of pristine GOLDEN, the
# qtests, the OpenSBI and EDK2 boots, then no report in the directory
# REPORTS or the logs; results as PREFIX/...
sanitizer_run() {
    local obj=$1
    (
        SAN_PREFIX=$2
        SAN_DIR=$4
        sanitizer_env
        sanitizer_canary
        # virt's outputs start QEMU about 140 times: the fast unwinder
        # halves their time, and none of them needs a suppression
        ASAN_OPTIONS=${ASAN_OPTIONS/fast_unwind_on_malloc=0/fast_unwind_on_malloc=1} \
            compare_virt_golden "$3" "$obj/qemu-system-riscv64" "$SAN_PREFIX/virt-golden"
        run_qtests "$obj" "$SAN_PREFIX/qtest"
        boot_smoke "$obj/qemu-system-riscv64" "$SAN_PREFIX" opensbi
        boot_smoke "$obj/qemu-system-riscv64" "$SAN_PREFIX" edk2
        sanitizer_reports "$obj/qemu-system-riscv64" "$obj"/qtest-*.log \
            "$BUILD/$SAN_PREFIX"-boot-*.qemu.log "$BUILD/$SAN_PREFIX-virt-golden.log"
    )
}

# upstream_source: 0 and the source in UPSTREAM_MSG, 3 without a source,
# 1 for a bad one (the error line in UPSTREAM_MSG)
upstream_source() {
    local rc=0
    UPSTREAM_MSG=$("$TOP/scripts/prepare-upstream.sh" --check-source 2>&1) || rc=$?
    UPSTREAM_MSG=${UPSTREAM_MSG#\[prepare-upstream\] error: }
    return $rc
}

# make check's sanitizer run.  With a master source it is master's
# (suite_upstream); without one it builds QEMU 10.2.2 with the sanitizers
# (build/asan-obj, from the tree of build/obj) and runs the same steps
# against the 10.2.2 goldens, so the coverage does not depend on master.
suite_sanitizers() {
    local rc=0
    upstream_source || rc=$?
    case $rc in
    0) suite_upstream --asan-only; return ;;
    3) echo "     sanitizers: ${UPSTREAM_MSG%; nothing done}; the sanitizer run builds QEMU 10.2.2 instead" ;;
    *) record FAIL "upstream/source: $UPSTREAM_MSG"; return ;;
    esac
    if ! "$TOP/scripts/build-qemu.sh" --asan; then
        record FAIL "asan/build: QEMU 10.2.2 with the sanitizers did not build (see the error above)"
        return
    fi
    sanitizer_run "$BUILD/asan-obj" asan 10.2.2 "$BUILD/sanitizer-reports"
}

# Master is built once for make check, with the sanitizers: virt's
# outputs, the qtests and the boots run on that build.  ASan makes L2 boot
# four times slower under nested TCG, so the pass-through case of master
# needs a plain build of its own; make check leaves it to make
# check-upstream (suite_upstream without --asan-only) and runs all its
# cases on 10.2.2.
suite_upstream() {
    local rc=0 up=$BUILD/upstream/qemu-system-riscv64 asan=$BUILD/upstream/asan-obj
    upstream_source || rc=$?
    case $rc in
    0) log "$UPSTREAM_MSG" ;;
    3) echo "     upstream: $UPSTREAM_MSG; nothing counted"; return ;;
    *) record FAIL "upstream/source: $UPSTREAM_MSG"; return ;;
    esac
    if [ "${1:-}" != --asan-only ]; then
        if ! "$TOP/scripts/build-qemu.sh" --upstream; then
            record FAIL "upstream/build: master with patches/upstream did not build (see the error above)"
            return
        fi
        start_background upstream-passthrough run_harness upstream/passthrough \
            env VIRT_SPLIT_QEMU="$up" /usr/bin/python3 "$TOP/tests/passthrough/run" \
            --suite "$RESULTS" --only virt-split-4g --prefix upstream/passthrough
    fi
    if ! "$TOP/scripts/build-qemu.sh" --upstream-asan; then
        record FAIL "upstream/build-asan: master with patches/upstream and the sanitizers did not build (see the error above)"
    else
        sanitizer_run "$asan" upstream master "$BUILD/upstream/sanitizer-reports"
    fi
    wait_background
}

suite_series() {
    run_harness series /usr/bin/python3 "$TOP/tests/series/run.py" --results "$RESULTS"
}

suite_props() {
    run_harness props /usr/bin/python3 "$TOP/tests/props/run.py" --results "$RESULTS"
}

suite_assets() {
    run_harness assets "$TOP/tests/assets/run.sh" "$RESULTS"
}

suite_install() {
    run_harness install "$TOP/tests/install/run.sh" "$RESULTS"
}

suite_hole() {
    run_harness hole "$TOP/tests/hole/run.sh" "$RESULTS"
}

suite_docs() {
    "$TOP/scripts/check-docs.sh" && record PASS "docs: virt-split.rst builds without warnings" ||
        record FAIL "docs: Sphinx reported warnings or errors (see $BUILD/docs.log)"
    readme_targets
}

# readme_targets: every make target that README.md or the documents under
# docs/ name (a `make TARGET` in backquotes or a table, or an indented
# command line starting with make TARGET) has a recipe in the Makefile (a
# .PHONY name alone does nothing, silently)
readme_targets() {
    local t f n=0 out missing=() docs=("$TOP/README.md")
    for f in "$TOP"/docs/*.md; do
        [ ! -e "$f" ] || docs+=("$f")
    done
    for t in $( { grep -ohE '`make [a-z][a-z-]*' "${docs[@]}" | sed 's/^`make //'
                  grep -ohE '^ +(\$ +)?make [a-z][a-z-]*' "${docs[@]}" | sed -E 's/.*make //'
                } | sort -u); do
        n=$((n + 1))
        out=$(make -C "$TOP" -n -s "$t" 2>&1) && [ -n "$out" ] &&
            ! grep -qE 'Nothing to be done|No rule to make' <<<"$out" || missing+=("$t")
    done
    if [ "$n" -gt 0 ] && [ "${#missing[@]}" = 0 ]; then
        record PASS "docs/make-targets: the Makefile has a rule for each of the $n make targets that README.md and docs/*.md name"
    else
        record FAIL "docs/make-targets: of the $n make targets that README.md and docs/*.md name, the Makefile has no rule for: ${missing[*]:-(no targets found)}"
    fi
}

[ $# -gt 0 ] || set -- all
for s in "$@"; do
    case $s in
    # passthrough-bar is left out: one L0 run of 13-18 minutes (make
    # check-passthrough-bar)
    all) set -- passthrough sanitizers qtest virt-golden props vfio-check install series docs \
        boot libvirt hole assets
        CHECK_ALL=1
        break ;;
    esac
done
for s in "$@"; do
    log "suite $s"
    SECONDS=0
    case $s in
    qtest) suite_qtest ;;
    virt-golden) suite_virt_golden ;;
    boot) suite_boot ;;
    docs) suite_docs ;;
    libvirt) suite_libvirt ;;
    passthrough|sanitizers)
        if [ -n "${CHECK_ALL:-}" ]; then
            start_background "$s" "suite_$s"
            # Nested TCG slows down far more than its share of the cores
            # when its vCPU threads wait for one (an L0 boot took 1091 s
            # beside the other suites and 198 s alone), so what starts
            # after it yields to it
            [ "$s" != passthrough ] || renice -n 10 -p $$ >/dev/null
            continue
        fi
        "suite_$s" ;;
    passthrough-bar) suite_passthrough_bar ;;
    passthrough-extra) suite_passthrough_extra ;;
    vfio-check) suite_vfio_check ;;
    upstream) suite_upstream ;;
    series) suite_series ;;
    props) suite_props ;;
    assets) suite_assets ;;
    hole) suite_hole ;;
    install) suite_install ;;
    *) die "unknown suite '$s'" ;;
    esac
    log "suite $s took ${SECONDS}s"
done
wait_background
pass=$(grep -c '^PASS' "$RESULTS" || true)
fail=$(grep -c '^FAIL' "$RESULTS" || true)
skip=$(grep -c '^SKIP' "$RESULTS" || true)
echo "$pass passed, $fail failed${skip:+, $skip skipped}" | sed 's/, 0 skipped//'
[ "$fail" = 0 ]
