#!/bin/bash
# Configure (once) and build qemu-system-riscv64 from the prepared tree,
# install the default firmware next to it and link it as build/.
#   (no option)          QEMU 10.2.2 with patches/ in build/obj
#   --pristine           QEMU 10.2.2 with only Debian's build patches, in
#                        build/pristine-obj, for the virt golden files
#   --asan               QEMU 10.2.2 with patches/, as `make build` prepared
#                        build/qemu (it is never re-prepared here), with
#                        AddressSanitizer and UBSan, in build/asan-obj: make
#                        check's sanitizer run when there is no master source
#   --upstream           upstream master with patches/upstream/ in
#                        build/upstream/obj (see prepare-upstream.sh)
#   --upstream-asan      the same with AddressSanitizer and UBSan, in
#                        build/upstream/asan-obj
#   --upstream-pristine  upstream master as it is, in
#                        build/upstream/pristine/obj
# Every build directory sits next to its source as ../src (or ../qemu),
# so ccache, where it exists, shares objects between the upstream builds.
STEP=build-qemu
. "$(dirname "$0")/lib.sh"

MODE=${1:-}
case $MODE in
'') SRC=$BUILD/qemu OBJ=$BUILD/obj ;;
--pristine) SRC=$BUILD/pristine-src OBJ=$BUILD/pristine-obj ;;
--asan) SRC=$BUILD/qemu OBJ=$BUILD/asan-obj ;;
--upstream) SRC=$BUILD/upstream/src OBJ=$BUILD/upstream/obj ;;
--upstream-asan) SRC=$BUILD/upstream/src OBJ=$BUILD/upstream/asan-obj ;;
--upstream-pristine)
    SRC=$BUILD/upstream/pristine/src OBJ=$BUILD/upstream/pristine/obj ;;
*) die "unknown option '$MODE'" ;;
esac
CONFIGURE_ARGS=(--target-list=riscv64-softmmu --disable-download
                --disable-install-blobs --disable-docs
                --python=/usr/bin/python3)
# -O1 -g1 builds the sanitized binary in three quarters of the time of
# -O2 -g and keeps file and line in the reports
case $MODE in
--asan|--upstream-asan)
    CONFIGURE_ARGS+=(--enable-asan --enable-ubsan "--extra-cflags=-O1 -g1") ;;
esac

configure() {
    local want
    want="${CONFIGURE_ARGS[*]}"
    if [ -e "$OBJ/configure.stamp" ] && [ "$(cat "$OBJ/configure.stamp")" = "$want" ]; then
        return 0
    fi
    rm -rf "$OBJ"
    mkdir -p "$OBJ"
    log "configuring: ${CONFIGURE_ARGS[*]}"
    (cd "$OBJ" && "$SRC/configure" "${CONFIGURE_ARGS[@]}") >"$OBJ.configure.log" 2>&1 ||
        die "configure of $SRC failed: $(grep -m1 -E 'ERROR|error' "$OBJ.configure.log" || tail -1 "$OBJ.configure.log")"
    echo "$want" > "$OBJ/configure.stamp"
}

# Debian's source has no pc-bios blobs.  QEMU run from its build directory
# searches the data directory of its qemu-bundle (the last one -L help
# lists), so OpenSBI from Debian's package goes there.
install_firmware() {
    local fw datadir
    "$TOP/scripts/fetch-deb.sh" opensbi
    fw=$CACHE/debs/opensbi_all/root/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
    [ -e "$fw" ] || die "opensbi package has no generic/fw_dynamic.bin"
    datadir=$("$OBJ/qemu-system-riscv64" -L help | tail -1)
    [ -n "$datadir" ] || die "cannot find the data directory of the built QEMU"
    mkdir -p "$datadir"
    cmp -s "$fw" "$datadir/opensbi-riscv64-generic-fw_dynamic.bin" ||
        cp "$fw" "$datadir/opensbi-riscv64-generic-fw_dynamic.bin"
    # Master's source has the option ROMs (Debian's 10.2.2 tarball has
    # none); boards such as boston-aia need efi-e1000e.rom to start.
    case $MODE in
    --upstream*) cp -u "$SRC"/pc-bios/*.rom "$datadir/" ;;
    esac
}

"$TOP/scripts/deps.sh" build
case $MODE in
''|--pristine) "$TOP/scripts/prepare-tree.sh" ;;
# The sanitized build compiles the tree the plain build was made from
--asan) [ -e "$BUILD/qemu.stamp" ] && [ -d "$SRC/.git" ] ||
            die "build/qemu is not prepared; run 'make build' first" ;;
*) "$TOP/scripts/prepare-upstream.sh" ;;
esac
# The pristine trees are worktrees of the prepared ones at their base tag
case $MODE in
--pristine) base=$BUILD/qemu tag=debian-build ;;
--upstream-pristine) base=$BUILD/upstream/src tag=pristine ;;
*) base= ;;
esac
if [ -n "$base" ]; then
    if [ ! -e "$SRC/.git" ]; then
        git -C "$base" worktree prune
        git -C "$base" worktree add -q --detach "$SRC" "$tag" ||
            die "cannot check out the pristine tree"
    fi
    git -C "$SRC" checkout -q --detach "$tag"
fi
configure
log "building qemu-system-riscv64 in ${OBJ#"$TOP"/}"
ninja -C "$OBJ" qemu-system-riscv64 >"$OBJ.ninja.log" 2>&1 ||
    die "build of $SRC failed: $(grep -m1 -E "error:" "$OBJ.ninja.log" || grep -m1 FAILED "$OBJ.ninja.log")"
install_firmware
case $MODE in
'') ln -sfn obj/qemu-system-riscv64 "$BUILD/qemu-system-riscv64" ;;
--upstream) ln -sfn obj/qemu-system-riscv64 "$BUILD/upstream/qemu-system-riscv64" ;;
esac
