#!/bin/bash
# mk-initramfs.sh [options] OUT: build an initramfs from Debian's static
# busybox, an init script and, optionally, kernel modules.  Rebuilt only
# when an input changed.
#   --arch A         riscv64 (default) or amd64
#   --init FILE      the init script (default guest/init)
#   --modules DIR    a kernel's lib/modules/VERSION directory
#   --module NAME    a module to include with its dependencies (repeatable);
#                    /lib/modules/load-order lists them in load order,
#                    decompressed, since busybox insmod reads no .ko.xz
#   --add SRC:DST    another file (repeatable)
STEP=mk-initramfs
. "$(dirname "$0")/lib.sh"

arch=riscv64 init=$TOP/guest/init moddir="" modules=() adds=()
while [ $# -gt 1 ]; do
    case $1 in
    --arch) arch=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --modules) moddir=$2; shift 2 ;;
    --module) modules+=("$2"); shift 2 ;;
    --add) adds+=("$2"); shift 2 ;;
    *) die "unknown option '$1'" ;;
    esac
done
out=${1:?usage: mk-initramfs.sh [options] OUT}
bbroot=$("$TOP/scripts/fetch-deb.sh" --root "busybox-static:$arch")
bb=$(find "$bbroot" -path '*bin/busybox' | head -1)
[ -x "$bb" ] || die "busybox-static ($arch) has no busybox binary"
need_tool cpio gzip
[ "${#modules[@]}" = 0 ] || need_tool modinfo xz

# module_file NAME: the file of a module, '-' and '_' being the same
module_file() {
    local n=${1//-/_} f
    f=$(find "$moddir" -name "${n}.ko*" -o -name "${n//_/-}.ko*" | head -1)
    [ -n "$f" ] || die "module $1 is not in $moddir"
    echo "$f"
}

# load_order NAME...: modules with their dependencies, dependencies first
declare -A SEEN
ORDER=()
load_order() {
    local m f d
    for m in "$@"; do
        m=${m//-/_}
        [ -z "${SEEN[$m]:-}" ] || continue
        SEEN[$m]=1
        # built into the kernel: nothing to load
        if grep -qE "/(${m}|${m//_/-})\.ko" "$moddir/modules.builtin" 2>/dev/null; then
            continue
        fi
        f=$(module_file "$m")
        for d in $(modinfo -F depends "$f" | tr ',' ' '); do
            load_order "$d"
        done
        ORDER+=("$f")
    done
}

lock_until_exit "$out.lock"
want=$( { echo "$arch ${modules[*]} ${adds[*]} $moddir"; cat "$init" "$0" "$bb";
          for a in "${adds[@]}"; do cat "${a%%:*}"; done; } | sha256sum)
if [ -e "$out" ] && [ -e "$out.inputs" ] && [ "$(cat "$out.inputs")" = "$want" ]; then
    exit 0
fi
rm -f "$out" "$out.inputs"
root=$(mktemp -d)
trap 'rm -rf "$root" "$out.tmp"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/lib/modules"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"
if [ "${#modules[@]}" -gt 0 ]; then
    load_order "${modules[@]}"
    for f in "${ORDER[@]}"; do
        name=$(basename "$f")
        case $name in
        *.xz) xz -dc "$f" > "$root/lib/modules/${name%.xz}"; name=${name%.xz} ;;
        *) cp "$f" "$root/lib/modules/$name" ;;
        esac
        echo "$name" >> "$root/lib/modules/load-order"
    done
fi
for a in "${adds[@]}"; do
    mkdir -p "$(dirname "$root/${a#*:}")"
    cp "${a%%:*}" "$root/${a#*:}"
    chmod 755 "$root/${a#*:}"
done
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -9n) > "$out.tmp" ||
    die "cannot write the initramfs"
mv "$out.tmp" "$out"
echo "$want" > "$out.inputs"
