#!/bin/bash
# Build QEMU's Sphinx manual, which includes docs/system/riscv/virt-split.rst,
# with warnings as errors (QEMU's docs build passes -W), in a separate
# docs-only build directory.
STEP=check-docs
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/qemu
DOCS=$BUILD/docs-obj
ARGS=(--target-list=riscv64-softmmu --enable-docs --disable-download
      --disable-install-blobs --disable-tools --python=/usr/bin/python3)

"$TOP/scripts/deps.sh" build docs
"$TOP/scripts/prepare-tree.sh"
if [ ! -e "$DOCS/configure.stamp" ] || [ "$(cat "$DOCS/configure.stamp")" != "${ARGS[*]}" ]; then
    rm -rf "$DOCS"
    mkdir -p "$DOCS"
    (cd "$DOCS" && "$SRC/configure" "${ARGS[@]}") >"$BUILD/docs-configure.log" 2>&1 ||
        die "configure --enable-docs failed: $(grep -m1 -E 'ERROR' "$BUILD/docs-configure.log")"
    echo "${ARGS[*]}" > "$DOCS/configure.stamp"
fi
ninja -C "$DOCS" html >"$BUILD/docs.log" 2>&1 ||
    die "the Sphinx build failed: $(grep -m1 -iE 'warning|error' "$BUILD/docs.log")"
page=$DOCS/docs/manual/system/riscv/virt-split.html
[ -e "$page" ] || die "the manual has no system/riscv/virt-split.html"
grep -q 'href="riscv/virt-split.html"' "$DOCS/docs/manual/system/target-riscv.html" ||
    die "system/target-riscv.html does not link to virt-split.html"
