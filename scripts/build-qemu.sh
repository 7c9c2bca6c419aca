#!/bin/bash
# Configure (once) and build qemu-system-riscv64 from the prepared tree,
# install the default firmware next to it and link it as build/.
STEP=build-qemu
. "$(dirname "$0")/lib.sh"

# --pristine builds QEMU 10.2.2 without the project's changes (only
# Debian's build patches) in build/pristine-obj, for the virt golden files.
PRISTINE=
[ "${1:-}" != --pristine ] || PRISTINE=1
SRC=$BUILD/qemu
OBJ=$BUILD/obj
if [ -n "$PRISTINE" ]; then
    SRC=$BUILD/pristine-src
    OBJ=$BUILD/pristine-obj
fi
CONFIGURE_ARGS=(--target-list=riscv64-softmmu --disable-download
                --disable-install-blobs --disable-docs
                --python=/usr/bin/python3)

configure() {
    local want
    want="${CONFIGURE_ARGS[*]}"
    if [ -e "$OBJ/configure.stamp" ] && [ "$(cat "$OBJ/configure.stamp")" = "$want" ]; then
        return 0
    fi
    if command -v ccache >/dev/null 2>&1; then
        log "ccache found; meson builds through it"
    fi
    rm -rf "$OBJ"
    mkdir -p "$OBJ"
    log "configuring: ${CONFIGURE_ARGS[*]}"
    (cd "$OBJ" && "$SRC/configure" "${CONFIGURE_ARGS[@]}") >"$BUILD/configure.log" 2>&1 ||
        die "configure failed: $(grep -m1 -E 'ERROR|error' "$BUILD/configure.log" || tail -1 "$BUILD/configure.log")"
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
}

"$TOP/scripts/deps.sh" build
"$TOP/scripts/prepare-tree.sh"
if [ -n "$PRISTINE" ] && [ ! -e "$SRC/.git" ]; then
    git -C "$BUILD/qemu" worktree add -q --detach "$SRC" debian-build ||
        die "cannot check out the pristine tree"
fi
configure
log "building qemu-system-riscv64"
ninja -C "$OBJ" qemu-system-riscv64 >"$OBJ.ninja.log" 2>&1 ||
    die "build failed: $(grep -m1 -E "error:" "$OBJ.ninja.log" || grep -m1 FAILED "$OBJ.ninja.log")"
install_firmware
[ -n "$PRISTINE" ] || ln -sfn obj/qemu-system-riscv64 "$BUILD/qemu-system-riscv64"
