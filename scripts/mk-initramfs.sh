#!/bin/bash
# mk-initramfs.sh OUT: build the riscv64 test initramfs from Debian's
# static busybox and guest/init.  Rebuilt only when an input changed.
STEP=mk-initramfs
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mk-initramfs.sh OUT}
"$TOP/scripts/fetch-deb.sh" busybox-static:riscv64
bb=$CACHE/debs/busybox-static_riscv64/root/usr/bin/busybox
[ -x "$bb" ] || die "busybox-static (riscv64) has no usr/bin/busybox"
need_tool cpio gzip
if [ -e "$out" ] && [ "$out" -nt "$TOP/guest/init" ] && [ "$out" -nt "$bb" ] &&
   [ "$out" -nt "$0" ]; then
    exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root" "$out.tmp"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/guest/init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -9n) > "$out.tmp" ||
    die "cannot write the initramfs"
mv "$out.tmp" "$out"
