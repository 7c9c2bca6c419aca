#!/bin/bash
# tests/install/run.sh [RESULTS]: make install and make uninstall
# (scripts/install.sh) into scratch DESTDIRs, used from outside the tree.
#   files        install into DESTDIR with the default PREFIX
#                (/opt/virt-split) puts the binary, vfio-check, OpenSBI
#                and the docs there, every one in the manifest
#   datadir      the installed binary, run from / with a clean
#                environment, looks for its firmware in DESTDIR's
#                share/qemu and nowhere in the build tree, and has
#                -M virt-split
#   boot         it boots Debian's kernel on -M virt-split -m 4G with no
#                -bios, -L or other extra option, and Linux reports all of
#                low RAM (0x80000000-0xbfffffff) and high RAM
#                (0x100000000-0x1bfffffff) as System RAM
#   vfio-check   the installed vfio-check, with no --qemu, asks the
#                installed QEMU next to it
#   libvirt      the libvirt example (docs/examples/virt-split-hostdev.xml)
#                is installed, names the installed emulator and a
#                <hostdev>, and virt-xml-validate accepts it
#   uninstall    uninstall leaves the DESTDIR empty
#   foreign      with PREFIX=/usr/local and files of others in
#                /usr/local/bin, uninstall removes exactly the installed
#                files and keeps the others and their directory
#   blocked      a file where PREFIX/share must go: one error line naming
#                that path, exit 1, and nothing of the install left
#   unwritable   a DESTDIR the user cannot write (as nobody): one error
#                line naming the path, exit 1, nothing left
# VIRT_SPLIT_QEMU: the binary to install (default build/'s).
# Records "PASS install/..." / "FAIL install/..." lines in RESULTS.
STEP=install-test
. "$(dirname "$0")/../../scripts/lib.sh"

RESULTS=${1:-/dev/null}
QEMU=${VIRT_SPLIT_QEMU:-$BUILD/qemu-system-riscv64}
INSTALL=$TOP/scripts/install.sh
EXAMPLE=virt-split-hostdev.xml
PREFIX=/opt/virt-split
suite_results install
[ -x "$QEMU" ] || die "no built QEMU at $QEMU; run 'make' first"
need_tool virt-xml-validate setpriv

work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
D=$work/dest
root=$D$PREFIX
bin=$root/bin/qemu-system-riscv64

# files
out=$("$INSTALL" install --qemu "$QEMU" --destdir "$D" 2>&1) || true
manifest=$root/share/virt-split/manifest
missing=()
for f in bin/qemu-system-riscv64 bin/vfio-check share/qemu/opensbi-riscv64-generic-fw_dynamic.bin \
         share/doc/virt-split/README.md share/doc/virt-split/examples/$EXAMPLE; do
    [ -e "$root/$f" ] && grep -qxF "f $PREFIX/$f" "$manifest" 2>/dev/null || missing+=("$f")
done
listed=$(grep -c '^f ' "$manifest" 2>/dev/null || true)
present=$(find "$D" -type f | wc -l)
check files "install put $present files under DESTDIR$PREFIX, the manifest lists ${listed:-none}${missing:+; missing or unlisted: ${missing[*]}} ($(tail -1 <<<"$out"))" \
    test -z "${missing[*]}" -a "$listed" = "$present"
cmp -s "$bin" "$QEMU" || check files-binary "the installed binary is the one given ($QEMU)" false

# datadir: the installed binary from another directory, clean environment
dirs=$(cd / && env -i PATH=/usr/bin:/bin "$bin" -L help 2>&1 || true)
machines=$(cd / && env -i PATH=/usr/bin:/bin "$bin" -machine help 2>&1 || true)
check datadir "from /, -L help lists $(tr '\n' ' ' <<<"$dirs")and -machine help has virt-split" \
    bash -c '[ "$(readlink -f "$(sed -n 2p <<<"$1")")" = "$2/share/qemu" ] &&
             ! grep -qF "$3" <<<"$1" && grep -q "^virt-split " <<<"$4"' _ "$dirs" "$root" "$BUILD" "$machines"

# boot: no -bios, so OpenSBI must come from the installed share/qemu
boot=$(cd / && VIRT_SPLIT_QEMU=$bin "$TOP/scripts/run-guest.sh" --quiet --machine virt-split \
       --mem 4G 2>&1) || true
ranges=$(grep '^VS-IOMEM' <<<"$boot" | cut -d' ' -f2 | tr '\n' ' ')
bad=$(python3 -c '
import sys
low = high = False
for r in sys.argv[1].split():
    s, e = (int(x, 16) for x in r.split("-"))
    if 0x80000000 <= s and e == 0xbfffffff:
        low = True
    elif s == 0x100000000 and e == 0x1bfffffff:
        high = True
    elif not (0x80000000 <= s and e <= 0xbfffffff):
        print(f"{r} outside the layout")
if not (low and high):
    print("low RAM does not reach 0xbfffffff or high RAM is not 0x100000000-0x1bfffffff")
' "$ranges")
check boot "the installed binary, run from /, booted -M virt-split -m 4G: System RAM ${ranges:-none} ${bad:+($bad) }$(grep -m1 'error' <<<"$boot" || true)" \
    test -n "$ranges" -a -z "$bad"

# vfio-check: the installed copy finds the QEMU next to it
sysfs=$work/sysfs
mkdir -p "$sysfs/bus/pci/devices/0000:01:00.0"
echo 0x1234 > "$sysfs/bus/pci/devices/0000:01:00.0/vendor"
echo 0x0001 > "$sysfs/bus/pci/devices/0000:01:00.0/device"
vc=$(cd / && env -i PATH=/usr/bin:/bin "$root/bin/vfio-check" --sysfs "$sysfs" 0000:01:00.0 \
     -M virt-split -m 4G 2>&1 || true)
check vfio-check "the installed vfio-check, without --qemu: $(grep -m1 '^Guest ' <<<"$vc" || tail -1 <<<"$vc")" \
    grep -qF "as $bin lays it out" <<<"$vc"

# libvirt: the installed example validates and uses the installed emulator
ex=$root/share/doc/virt-split/examples/$EXAMPLE
val=$(virt-xml-validate "$ex" domain 2>&1) || true
emu=$(sed -n 's:.*<emulator>\(.*\)</emulator>.*:\1:p' "$ex" 2>/dev/null)
check libvirt "virt-xml-validate: $val; emulator $emu; $(grep -c '<hostdev ' "$ex" 2>/dev/null) <hostdev>" \
    bash -c '[ "$1" = "$2 validates" ] && [ "$3" = "$4/bin/qemu-system-riscv64" ] &&
             grep -q "<hostdev mode=.subsystem. type=.pci." "$2" &&
             grep -q "machine=.virt-split." "$2"' _ "$val" "$ex" "$emu" "$PREFIX"

# uninstall
out=$("$INSTALL" uninstall --destdir "$D" 2>&1) || true
left=$(find "$D" -mindepth 1 2>&1 | head -5 | tr '\n' ' ' || true)
check uninstall "uninstall leaves DESTDIR ${left:+with: $left}${left:-empty} ($(tail -1 <<<"$out"))" \
    test -z "$left"

# foreign: PREFIX=/usr/local next to files of others
F=$work/foreign
mkdir -p "$F/usr/local/bin"
echo other > "$F/usr/local/bin/other-tool"
before=$(cd "$F" && find . | sort)
"$INSTALL" install --qemu "$QEMU" --prefix /usr/local --destdir "$F" >/dev/null 2>&1 || true
n=$(grep -c '^f ' "$F/usr/local/share/virt-split/manifest" 2>/dev/null || true)
"$INSTALL" uninstall --prefix /usr/local --destdir "$F" >/dev/null 2>&1 || true
after=$(cd "$F" && find . | sort)
check foreign "PREFIX=/usr/local: $n files installed; after uninstall the tree is $( [ "$before" = "$after" ] && echo "as before (usr/local/bin/other-tool kept)" || echo "changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')")" \
    test "${n:-0}" -gt 0 -a "$before" = "$after"

# blocked: PREFIX/share is a file; bin/ is made first and must go again
B=$work/blocked
mkdir -p "$B$PREFIX"
touch "$B$PREFIX/share"
rc=0
err=$("$INSTALL" install --qemu "$QEMU" --destdir "$B" 2>&1) || rc=$?
left=$(cd "$B" && find . -mindepth 1 | sort | tr '\n' ' ')
check blocked "a file at PREFIX/share: exit $rc, '$err'; left: $left" \
    bash -c '[ "$1" = 1 ] && [ "$(wc -l <<<"$2")" = 1 ] && grep -qF "$3$4/share" <<<"$2" &&
             [ "$5" = "./opt ./opt/virt-split ./opt/virt-split/share " ]' _ "$rc" "$err" "$B" "$PREFIX" "$left"

# unwritable: as nobody into a directory owned by root
U=$work/unwritable
mkdir -p "$U"
rc=0
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$INSTALL" install --qemu "$QEMU" \
      --destdir "$U" 2>&1) || rc=$?
left=$(find "$U" -mindepth 1 2>&1 | head -3 | tr '\n' ' ' || true)
check unwritable "as nobody into a root-owned DESTDIR: exit $rc, '$err'${left:+; left: $left}" \
    bash -c '[ "$1" = 1 ] && [ "$(wc -l <<<"$2")" = 1 ] && grep -qF "cannot write $3/opt:" <<<"$2" &&
             [ -z "$4" ]' _ "$rc" "$err" "$U" "$left"

[ -z "$failed" ]
