#!/bin/bash
# deps.sh GROUP...: install the Debian packages a group of steps needs,
# only those that are missing, and say which.
STEP=deps
. "$(dirname "$0")/lib.sh"

declare -A GROUP=(
    [build]="git xz-utils patch ninja-build pkg-config gcc make libglib2.0-dev libfdt-dev libpixman-1-dev zlib1g-dev libslirp-dev python3 python3-venv"
    [guest]="cpio xz-utils gzip"
    [docs]="python3-sphinx python3-sphinx-rtd-theme"
    [boot]="cpio xz-utils dosfstools mtools fdisk u-boot-tools python3-matplotlib"
    [passthrough]="qemu-system-x86 cpio xz-utils kmod"
    [hole]="device-tree-compiler"
    [grub]="grub-common dosfstools mtools fdisk"
    [uboot]="xz-utils make gcc gcc-riscv64-linux-gnu bison flex bc libssl-dev libgnutls28-dev uuid-dev python3-setuptools python3-pyelftools"
    [libvirt]="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
)

missing_pkgs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            echo "$p"
    done
}

# pinned PKG...: PKG=VERSION for packages assets.lock pins, else PKG.
# A pinned version that apt no longer has gives way to apt's candidate,
# with one warning line (apt checks the archive signatures either way).
pinned() {
    local p v
    for p in "$@"; do
        v=$(awk -v p="$p" '$1 == "apt" && $2 == p { print $4 }' "$LOCK")
        if [ -n "$v" ] && [ -z "$(apt-cache show "$p=$v" 2>/dev/null | head -1)" ]; then
            log "warning: $p $v is no longer available; installing apt's candidate $(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }') instead"
            v=
        fi
        echo "$p${v:+=$v}"
    done
}

meson_ok() {
    command -v meson >/dev/null 2>&1 &&
        dpkg --compare-versions "$(meson --version)" ge 1.5.0
}

# Debian 12 ships meson 1.0; QEMU 10.2 needs 1.5 or newer, which
# bookworm-backports has.
install_meson() {
    local codename mirror
    meson_ok && return 0
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if apt-cache policy meson 2>/dev/null | awk '/Candidate/ { print $2 }' |
       xargs -r -I{} dpkg --compare-versions {} ge 1.5.0; then
        log "installing: meson"
        run_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y install meson \
            >"$CACHE/deps-meson.log" 2>&1 || die "apt-get install meson failed (see $CACHE/deps-meson.log)"
    else
        mirror=$(apt_mirror)
        apt_private "$codename-backports" \
            "deb $mirror $codename main" \
            "deb $mirror $codename-backports main"
        log "installing: meson from $codename-backports"
        run_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" -q -y \
            install -t "$codename-backports" meson \
            >"$CACHE/deps-meson.log" 2>&1 ||
            die "installing meson from $codename-backports failed (see $CACHE/deps-meson.log)"
    fi
    meson_ok || die "meson >= 1.5.0 is needed, have $(meson --version 2>/dev/null || echo none)"
}

need_tool dpkg-query apt-get
mkdir -p "$CACHE"
pkgs=()
for g in "$@"; do
    [ -n "${GROUP[$g]:-}" ] || die "unknown dependency group '$g'"
    read -ra list <<<"${GROUP[$g]}"
    pkgs+=("${list[@]}")
done
mapfile -t missing < <(missing_pkgs "${pkgs[@]}" | sort -u)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    if [ ! -e "$CACHE/apt-updated.stamp" ]; then
        run_root apt-get -q update >"$CACHE/deps-update.log" 2>&1 ||
            die "apt-get update failed (see $CACHE/deps-update.log)"
        touch "$CACHE/apt-updated.stamp"
    fi
    mapfile -t specs < <(pinned "${missing[@]}")
    run_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 \
        install --no-install-recommends \
        "${specs[@]}" >"$CACHE/deps-install.log" 2>&1 ||
        die "apt-get install failed: $(grep -E '^E:' "$CACHE/deps-install.log" | head -1)"
fi
for g in "$@"; do
    [ "$g" != build ] || install_meson
done
