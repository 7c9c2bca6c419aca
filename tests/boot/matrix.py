#!/usr/bin/python3
"""Comparative boot tests: virt-split against virt.

Every configuration boots Debian's riscv64 kernel with the project's
initramfs on both machines (scripts/run-guest.sh) and checks what the guest
reports (guest/init's VS- lines):

  - the System RAM ranges lie in the machine's layout and reach the end of
    each RAM region;
  - virt-split's MemTotal equals virt's within TOLERANCE_KIB;
  - NUMA nodes get what they get on virt;
  - a 64-bit BAR lands above RAM and guest writes to it reach the host.

Limits of outside firmware are asserted as their known result.  Timings
are only reported (--report), never judged.

Boot chains: OpenSBI alone, U-Boot (booti, bootefi), EDK2 and GRUB started
by EDK2 or U-Boot, each with the pinned Debian 13 firmware and, where
Debian 14 (forky) has newer builds, with those too.  GRUB is the image
scripts/mk-grub-efi.sh makes, or Debian 13's own monolithic
grubriscv64.efi (grub-efi-riscv64-unsigned) as users boot it: the current
trixie build and the one before the fix for Debian bug 1140542
(2.12-9+deb13u2, pinned by pool path), whose "relocation overflow" on
virt-split with high RAM at least as large as low RAM is asserted as a
known failure; that boot is stopped as soon as GRUB prints it.  U-Boot "banks4" is
scripts/build-uboot.sh's build of Debian's source with
CONFIG_NR_DRAM_BANKS=4.

QEMU=PATH runs that binary (default build/qemu-system-riscv64).

usage: matrix.py ci|full RESULTS [--report DIR] [--firmware NAME,...]
"""

import argparse
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from results import Results  # noqa: E402
import debroot  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VIRT_SPLIT_BUILD", os.path.join(TOP, "build"))
LOCK = os.environ.get("VIRT_SPLIT_LOCK") or os.path.join(TOP, "assets.lock")
LOGS = os.path.join(BUILD, "boot-logs")

MiB = 1 << 20
LOW_BASE = 0x80000000
HIGH_BASE = 1 << 32
LOW_DEFAULT_MIB = 1024
PCIE_WINDOW = 16 << 30
# Firmware keeps some RAM for itself; totals may differ this much
TOLERANCE_KIB = 16 * 1024
TIMEOUT = 300
BAR_PATTERN = 0x5A5AA5A5



def pins(package):
    """Versions assets.lock (or VIRT_SPLIT_LOCK) pins for a Debian package,
    in file order."""
    out = []
    with open(LOCK) as f:
        for line in f:
            w = line.split()
            if len(w) >= 4 and w[0] in ("deb", "src") and w[1] == package:
                out.append(w[3])
    return out


def pool_pins(package):
    """Versions assets.lock pins for a package by pool path."""
    with open(LOCK) as f:
        return [w[3] for w in (line.split() for line in f)
                if len(w) >= 7 and w[0] == "pool" and w[1] == package]


OPENSBI_OLD, OPENSBI_NEW = pins("opensbi")[:2]
EDK2_OLD, EDK2_NEW = pins("qemu-efi-riscv64")[:2]
UBOOT = pins("u-boot-qemu")[0]
GRUB = pins("grub-efi-riscv64-bin")[0]
DEBIAN_GRUB_PKG = "grub-efi-riscv64-unsigned"
DEBIAN_GRUB = pins(DEBIAN_GRUB_PKG)[0]
DEBIAN_GRUB_PREFIX = (pool_pins(DEBIAN_GRUB_PKG) or [None])[0]
MONOLITHIC = "usr/lib/grub/riscv64-efi/monolithic/grubriscv64.efi"
RELOCATION_OVERFLOW = "relocation overflow"
NEW = ["--opensbi", OPENSBI_NEW]

FIRMWARE = {
    # name: (run-guest --firmware, machine options, kernel command line,
    #        more run-guest options)
    "opensbi": ("opensbi", "", "", []),
    "uboot-booti": ("uboot-booti", "", "", []),
    "uboot-bootefi": ("uboot-bootefi", "", "", []),
    # acpi=on makes Linux use the ACPI tables (SRAT) instead of the DT
    "edk2-acpi": ("edk2", ",acpi=on", "acpi=on", []),
    "edk2-noacpi": ("edk2", ",acpi=off", "", []),
    # forky's OpenSBI and EDK2
    "opensbi-new": ("opensbi", "", "", NEW),
    "edk2-new-acpi": ("edk2", ",acpi=on", "acpi=on", NEW + ["--edk2", EDK2_NEW]),
    "edk2-new-noacpi": ("edk2", ",acpi=off", "", NEW + ["--edk2", EDK2_NEW]),
    # U-Boot with CONFIG_NR_DRAM_BANKS=4
    "uboot-bootefi-banks4": ("uboot-bootefi", "", "", ["--uboot", "banks4"]),
    # GRUB from an ESP
    "grub-edk2": ("grub-edk2", "", "", []),
    "grub-edk2-new": ("grub-edk2", "", "", NEW + ["--edk2", EDK2_NEW]),
    "grub-uboot": ("grub-uboot", "", "", []),
    "grub-uboot-banks4": ("grub-uboot", "", "", ["--uboot", "banks4"]),
    # Debian 13's monolithic grubriscv64.efi, current and pre-fix
    # (--grub-efi @NAME: the image, fetched when the chain first runs)
    "grub-debian": ("grub-edk2", "", "", ["--grub-efi", "@grub-debian"]),
    "grub-debian-prefix": ("grub-edk2", "", "", ["--grub-efi", "@grub-debian-prefix"]),
}

# What each boot chain runs, for the report
_SBI = {False: f"OpenSBI {OPENSBI_OLD}", True: f"OpenSBI {OPENSBI_NEW}"}
_UB = f"U-Boot {UBOOT} (Debian, 1 bank)"
_UB4 = f"U-Boot {pins('u-boot')[0]} (Debian source, 4 banks)"
FW_VERSIONS = {
    "opensbi": _SBI[False],
    "uboot-booti": f"{_SBI[False]}, {_UB}, booti",
    "uboot-bootefi": f"{_SBI[False]}, {_UB}, bootefi",
    "edk2-acpi": f"{_SBI[False]}, EDK2 {EDK2_OLD}",
    "edk2-noacpi": f"{_SBI[False]}, EDK2 {EDK2_OLD}",
    "opensbi-new": _SBI[True],
    "edk2-new-acpi": f"{_SBI[True]}, EDK2 {EDK2_NEW}",
    "edk2-new-noacpi": f"{_SBI[True]}, EDK2 {EDK2_NEW}",
    "uboot-bootefi-banks4": f"{_SBI[False]}, {_UB4}, bootefi",
    "grub-edk2": f"{_SBI[False]}, EDK2 {EDK2_OLD}, GRUB {GRUB}",
    "grub-edk2-new": f"{_SBI[True]}, EDK2 {EDK2_NEW}, GRUB {GRUB}",
    "grub-uboot": f"{_SBI[False]}, {_UB}, bootefi, GRUB {GRUB}",
    "grub-uboot-banks4": f"{_SBI[False]}, {_UB4}, bootefi, GRUB {GRUB}",
    "grub-debian": f"{_SBI[False]}, EDK2 {EDK2_OLD}, Debian's grubriscv64.efi {DEBIAN_GRUB}",
    "grub-debian-prefix": f"{_SBI[False]}, EDK2 {EDK2_OLD}, Debian's grubriscv64.efi "
                          f"{DEBIAN_GRUB_PREFIX} (before the fix)",
}
UBOOT_CHAINS = ("uboot-booti", "uboot-bootefi", "grub-uboot")
UBOOT_FDT_ADDR = 0x8C000000     # fdt_addr_r of U-Boot's qemu-riscv environment
# U-Boot builds whose UEFI memory map holds only the first DRAM bank
ONE_BANK_EFI = ("uboot-bootefi",)

# share of RAM in NUMA node 0 (cpus 0-1); node 1 (cpus 2-3) has the rest
NUMA = {
    "even": 0.5,
    "straddle": 0.75,   # node 0 straddles the hole on virt-split
}


@dataclasses.dataclass
class Config:
    fw: str
    mem: int                    # MiB
    smp: int = 1
    aia: str = "none"
    numa: str = None
    low: int = None             # low-ram-size in MiB, None for the default
    bar: bool = False           # add an ivshmem device with a 64-bit BAR

    @property
    def name(self):
        parts = [self.fw, f"{self.mem}M", f"smp{self.smp}", self.aia]
        if self.numa:
            parts.append(f"numa-{self.numa}")
        if self.low:
            parts.append(f"low{self.low}M")
        if self.bar:
            parts.append("bar")
        return "-".join(parts)

    def low_mib(self):
        return min(self.mem, self.low or LOW_DEFAULT_MIB)

    def layout(self, machine):
        """The RAM regions [start, end) the machine maps."""
        if machine == "virt":
            return [(LOW_BASE, LOW_BASE + self.mem * MiB)]
        low = self.low_mib()
        regions = [(LOW_BASE, LOW_BASE + low * MiB)]
        if self.mem > low:
            regions.append((HIGH_BASE, HIGH_BASE + (self.mem - low) * MiB))
        return regions

    def known_limit(self, machine):
        """What the guest sees instead of the layout, and why, if not all."""
        if (self.fw in ONE_BANK_EFI and machine == "virt-split"
                and self.mem > self.low_mib()):
            return (self.layout(machine)[:1],
                    "U-Boot 2025.01 (Debian) keeps one DRAM bank "
                    "(CONFIG_NR_DRAM_BANKS=1): its UEFI memory map, which "
                    "Linux uses under bootefi, holds only low RAM")
        return None

    def known_failure(self, machine):
        """(text the runner prints, reason) if this boot fails as known."""
        low = self.low_mib()
        if (self.fw == "grub-debian-prefix" and machine == "virt-split"
                and self.mem - low >= low):
            return (RELOCATION_OVERFLOW,
                    f"Debian's GRUB {DEBIAN_GRUB_PREFIX} (before the fix for Debian "
                    "bug 1140542, -mno-relax) cannot relocate its modules when its "
                    "heap, at the top of the largest free region, lies more than "
                    "2 GiB from its image: high RAM is at least as large as low "
                    f"RAM ({self.mem - low} MiB against {low} MiB); update GRUB "
                    f"({DEBIAN_GRUB}), or make low RAM the largest bank")
        if (FIRMWARE[self.fw][0] in UBOOT_CHAINS and machine == "virt-split"
                and LOW_BASE + self.low_mib() * MiB <= UBOOT_FDT_ADDR):
            return ("Unhandled exception: Load access fault",
                    f"U-Boot {UBOOT}'s qemu-riscv environment has fixed load "
                    f"addresses (kernel_addr_r 0x84000000, fdt_addr_r "
                    f"{UBOOT_FDT_ADDR:#x}) above a {self.low_mib()} MiB low RAM: "
                    "its distro boot faults before it starts anything")
        if self.fw == "grub-uboot":
            return ("GRUB started Linux, which did not reach the initramfs "
                    "(INITRD: ",
                    f"GRUB {GRUB} under Debian's u-boot-qemu {UBOOT} binary: "
                    "Linux logs 'INITRD: ... overlaps in-use memory region', "
                    "drops the initrd GRUB handed over and panics, on virt "
                    "too; the same source built here with Debian 12's gcc 12 "
                    "(with one or four DRAM banks) boots it")
        return None

    def numa_args(self):
        if not self.numa:
            return []
        node0 = int(self.mem * NUMA[self.numa])
        return ["-numa", f"node,cpus=0-1,mem={node0}M",
                "-numa", f"node,cpus=2-3,mem={self.mem - node0}M"]


def ci_configs():
    c = [Config("opensbi", 512)]
    c += [Config("grub-edk2", 8192),
          Config("grub-edk2-new", 8192),
          Config("grub-uboot", 4096),
          Config("grub-uboot-banks4", 8192),
          Config("grub-debian", 8192),
          Config("grub-debian-prefix", 4096),
          Config("grub-debian-prefix", 3072, low=2030)]
    c += [Config("opensbi", 4096, smp=4, aia="aplic-imsic", bar=True),
          Config("opensbi", 16384, smp=2),
          Config("uboot-booti", 4096),
          Config("uboot-bootefi", 4096),
          Config("edk2-acpi", 4096, smp=4, aia="aplic-imsic"),
          Config("edk2-noacpi", 2048),
          Config("opensbi", 4096, smp=4, numa="straddle"),
          Config("edk2-acpi", 4096, smp=4, numa="straddle")]
    return c


def full_configs():
    c = []
    for fw in ("opensbi", "uboot-booti", "uboot-bootefi", "edk2-acpi", "edk2-noacpi"):
        for mem in (512, 1024, 2048, 3072, 4096, 8192):
            c.append(Config(fw, mem, smp=1, aia="none"))
            c.append(Config(fw, mem, smp=4, aia="aplic-imsic"))
    for mem in (512, 1024, 2048, 3072, 4096, 8192):
        c.append(Config("opensbi", mem, smp=4, aia="none"))
        c.append(Config("opensbi", mem, smp=1, aia="aplic-imsic"))
    for fw in ("opensbi", "edk2-acpi"):
        c.append(Config(fw, 16384, smp=2))
        for numa in ("even", "straddle"):
            c.append(Config(fw, 4096, smp=4, numa=numa))
    c.append(Config("opensbi", 4096, smp=4, aia="aplic-imsic", bar=True))
    c.append(Config("opensbi", 4096, low=2030))
    # boot chains: GRUB, current firmware, multi-bank U-Boot
    for fw in ("grub-edk2", "grub-edk2-new", "grub-uboot", "grub-uboot-banks4",
               "opensbi-new", "edk2-new-acpi", "uboot-bootefi-banks4"):
        for mem in (2048, 4096, 8192, 16384):
            c.append(Config(fw, mem))
        for low in (64, 2030):
            c.append(Config(fw, 8192, low=low))
    for fw in ("grub-debian", "grub-debian-prefix"):
        for mem in (2048, 4096, 8192, 16384):
            c.append(Config(fw, mem))
        for low in (64, 2030):
            c.append(Config(fw, 8192, low=low))
        c.append(Config(fw, 3072, low=2030))
    return c


@dataclasses.dataclass
class Boot:
    ok: bool
    seconds: float
    error: str = ""
    memtotal: int = 0
    ranges: list = dataclasses.field(default_factory=list)
    nodes: dict = dataclasses.field(default_factory=dict)
    pci: list = dataclasses.field(default_factory=list)
    bartest: list = dataclasses.field(default_factory=list)
    bar_host: int = None
    acpi: list = None
    swiotlb: int = 0            # kB of swiotlb bounce buffers
    smbios: dict = None         # SMBIOS type -> [(start, end)] for 19, 20

    def usable(self):
        """MemTotal plus the swiotlb buffers Linux keeps out of it."""
        return self.memtotal + self.swiotlb


def parse(text, boot):
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "VS-IOMEM":
            s, e = f[1].split("-")
            boot.ranges.append((int(s, 16), int(e, 16) + 1))
        elif f[0] == "VS-MEMTOTAL":
            boot.memtotal = int(f[1])
        elif f[0] == "VS-NODE":
            boot.nodes[int(f[1])] = int(f[2])
        elif f[0] == "VS-PCI":
            boot.pci.append((f[2], f[3], int(f[4], 16), int(f[5], 16)))
        elif f[0] == "VS-SWIOTLB":
            boot.swiotlb = int(f[1]) * 2
        elif f[0] == "VS-DMI" and len(f) > 1:
            boot.smbios = smbios_ranges(bytes.fromhex(f[1]))
        elif f[0] == "VS-ACPI":
            boot.acpi = f[1:]
        elif f[0] == "VS-BARTEST":
            boot.bartest.append((int(f[2], 16), int(f[3], 16)))


def smbios_ranges(table):
    """[start, end) of the type 19 and 20 structures of an SMBIOS table."""
    out = {19: [], 20: []}
    off = 0
    while off + 4 <= len(table):
        stype, length = table[off], table[off + 1]
        if stype == 127 or length < 4:
            break
        body = table[off:off + length]
        if stype in out and length >= 15:
            start, end = (int.from_bytes(body[4:8], "little"),
                          int.from_bytes(body[8:12], "little"))
            if start == 0xFFFFFFFF and length >= 0x1F + (stype == 20) * 4:
                ext = 0x0F if stype == 19 else 0x13
                start = int.from_bytes(body[ext:ext + 8], "little")
                end = int.from_bytes(body[ext + 8:ext + 16], "little")
                out[stype].append((start, end + 1))
            else:
                out[stype].append((start * 1024, (end + 1) * 1024))
        # the formatted area is followed by strings, ended by two NULs
        nxt = table.find(b"\0\0", off + length)
        if nxt < 0:
            break
        off = nxt + 2
    return out


GRUB_IMAGES = {}


def grub_image(name):
    """The monolithic grubriscv64.efi of a Debian GRUB chain, or None if the
    pinned package can no longer be fetched (the pool lost it)."""
    if name not in GRUB_IMAGES:
        if name == "grub-debian":
            cmd = [os.path.join(TOP, "scripts/fetch-deb.sh"), "--root",
                   f"{DEBIAN_GRUB_PKG}:riscv64"]
        else:
            cmd = [os.path.join(TOP, "scripts/fetch-pool.sh"), "--root",
                   f"{DEBIAN_GRUB_PKG}:riscv64={DEBIAN_GRUB_PREFIX}"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        root = p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip() else ""
        if p.returncode == 3 or (name != "grub-debian" and not DEBIAN_GRUB_PREFIX):
            GRUB_IMAGES[name] = None
        elif not root or not os.path.exists(os.path.join(root, MONOLITHIC)):
            sys.exit(f"[boot] error: {' '.join(cmd[1:])} gave no {MONOLITHIC} (exit {p.returncode})")
        else:
            GRUB_IMAGES[name] = os.path.join(root, MONOLITHIC)
    return GRUB_IMAGES[name]


def run_stopping(cmd, log, stop):
    """Run cmd; if stop is given and appears in the console log, stop the
    boot (cmd's whole process group) there.  (returncode, stdout, stderr,
    stopped)"""
    if not stop:
        p = subprocess.run(cmd, capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr, False
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, start_new_session=True)
        stopped = False
        while p.poll() is None:
            try:
                with open(log, errors="replace") as f:
                    if stop in f.read():
                        os.killpg(p.pid, signal.SIGTERM)
                        stopped = True
                        p.wait()
                        break
            except OSError:
                pass
            time.sleep(0.5)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), stopped


def console_tail(log, n=3):
    try:
        with open(log, errors="replace") as f:
            text = re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", f.read())     # EDK2's screen control
            lines = [l.strip() for l in text.replace("\r", "\n").splitlines() if l.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def run(cfg, machine):
    fw, props, append, fwopts = FIRMWARE[cfg.fw]
    fwopts = [grub_image(o[1:]) if o.startswith("@") else o for o in fwopts]
    mopts = machine + props
    if cfg.low and machine == "virt-split":
        mopts += f",low-ram-size={cfg.low}M"
    extra = ["-M", f"aia={cfg.aia}"] + cfg.numa_args()
    tmp = tempfile.mkdtemp()
    shm = os.path.join(tmp, "shm")
    if cfg.bar:
        extra += ["-object", f"memory-backend-file,id=shm,size=1G,share=on,"
                  f"mem-path={shm}", "-device", "ivshmem-plain,memdev=shm"]
        append += " vs.bartest=0x1af4:0x1110:2"
    log = os.path.join(LOGS, f"{cfg.name}-{machine}.log")
    cmd = [os.path.join(TOP, "scripts/run-guest.sh"), "--quiet", "--log", log,
           "--machine", mopts, "--mem", f"{cfg.mem}M", "--smp", str(cfg.smp),
           "--firmware", fw, "--timeout", str(TIMEOUT),
           "--append", append.strip()] + fwopts + ["--"] + extra
    known = cfg.known_failure(machine)
    start = time.monotonic()
    rc, stdout, stderr, stopped = run_stopping(cmd, log, known and known[0] == RELOCATION_OVERFLOW
                                                and known[0])
    boot = Boot(ok=rc == 0 and not stopped, seconds=time.monotonic() - start)
    if stopped:
        boot.error = (f"stopped when the console showed '{known[0]}': "
                      f"{console_tail(log)}")
        if os.path.exists(log + ".qemu"):       # run-guest.sh was stopped too
            os.unlink(log + ".qemu")
    elif not boot.ok:
        boot.error = stderr.strip()
    parse(stdout, boot)
    if cfg.bar and os.path.exists(shm):
        with open(shm, "rb") as f:
            boot.bar_host = int.from_bytes(f.read(4), "little")
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    return boot


def check_ranges(cfg, machine, boot):
    """Return an error, or None if the ranges fit the expected regions."""
    limit = cfg.known_limit(machine)
    regions = limit[0] if limit else cfg.layout(machine)
    for s, e in boot.ranges:
        if not any(rs <= s and e <= re_ for rs, re_ in regions):
            return f"System RAM {s:#x}-{e - 1:#x} is outside {fmt(regions)}"
    for rs, re_ in regions:
        ends = [e for s, e in boot.ranges if rs <= s and e <= re_]
        if not ends:
            return f"no System RAM in {rs:#x}-{re_ - 1:#x}"
        if max(ends) != re_:
            return f"System RAM in {rs:#x}-{re_ - 1:#x} ends at {max(ends) - 1:#x}"
    return None


def fmt(regions):
    return ", ".join(f"{s:#x}-{e - 1:#x}" for s, e in regions)


def close(a, b):
    return abs(a - b) <= TOLERANCE_KIB


def check_config(ck, cfg, virt, split):
    name = cfg.name
    for machine, boot in (("virt", virt), ("virt-split", split)):
        fail = cfg.known_failure(machine)
        if fail:
            text, why = fail
            ok = not boot.ok and text in boot.error
            got = boot.error.splitlines()[0] if boot.error else "it booted"
            ck.record(ok, f"{name}/{machine}",
                      f"known failure: {why}; got: {got[:300]}")
            continue
        if not boot.ok:
            ck.record(False, f"{name}/{machine}", boot.error.replace("\n", " | ")[:400])
            continue
        err = check_ranges(cfg, machine, boot)
        limit = cfg.known_limit(machine)
        what = "known limit: " + limit[1] if limit else "layout " + fmt(cfg.layout(machine))
        ck.record(err is None, f"{name}/{machine}",
                  err or f"System RAM matches the {what}")
    if not (virt.ok and split.ok):
        return
    if cfg.fw.startswith("edk2"):
        check_acpi(ck, cfg, split)
    if "edk2" in cfg.fw:
        check_smbios(ck, cfg, split, virt)
    limit = cfg.known_limit("virt-split")
    if limit:
        low_kib = cfg.low_mib() * 1024
        ok = low_kib // 2 < split.memtotal <= low_kib
        ck.record(ok, f"{name}/memtotal",
                  f"virt-split {split.memtotal} kB, low RAM only ({low_kib} kB)")
    else:
        ck.record(close(split.usable(), virt.usable()), f"{name}/memtotal",
                  f"virt-split {split.memtotal} + {split.swiotlb} kB swiotlb, "
                  f"virt {virt.memtotal} + {virt.swiotlb} kB swiotlb "
                  f"(tolerance {TOLERANCE_KIB} kB)")
    if cfg.numa:
        nodes_ok = (sorted(split.nodes) == sorted(virt.nodes) == [0, 1] and
                    all(close(split.nodes[n], virt.nodes[n]) for n in virt.nodes))
        ck.record(nodes_ok, f"{name}/numa",
                  f"virt-split nodes {split.nodes}, virt nodes {virt.nodes}")
    if cfg.bar:
        check_bar(ck, cfg, split)


def check_acpi(ck, cfg, boot):
    """edk2-acpi must really boot Linux with ACPI (and SRAT with NUMA)."""
    tables = boot.acpi or []
    if cfg.fw.endswith("noacpi"):
        ck.record(not tables, f"{cfg.name}/acpi",
                  f"acpi=off: the guest sees ACPI tables {tables or 'none'}")
        return
    want = ["SRAT"] if cfg.numa else ["DSDT"]
    ck.record(all(t in tables for t in want), f"{cfg.name}/acpi",
              f"the guest runs on ACPI with tables {' '.join(tables) or 'none'}")


def check_smbios(ck, cfg, split, virt):
    """SMBIOS type 19 (memory array mapped address) lists the RAM regions.

    QEMU 10.2 builds no type 20 structures for any machine, so virt-split
    must have as many of those as virt: none.
    """
    got = sorted((split.smbios or {}).get(19, []))
    want = cfg.layout("virt-split")
    ck.record(got == want, f"{cfg.name}/smbios-type19",
              f"SMBIOS type 19 ranges {fmt(got) or 'none'}, want {fmt(want)}")
    t20 = [(b.smbios or {}).get(20, []) for b in (split, virt)]
    ck.record(split.smbios is not None and t20[0] == t20[1], f"{cfg.name}/smbios-type20",
              f"SMBIOS type 20 ranges: virt-split {fmt(t20[0]) or 'none'}, "
              f"virt {fmt(t20[1]) or 'none'}")


def check_bar(ck, cfg, boot):
    top = max(e for s, e in cfg.layout("virt-split"))
    bars = [b for b in boot.pci if b[0] == "0x1af4:0x1110" and b[1] == "BAR2"]
    if not bars:
        ck.record(False, f"{cfg.name}/bar", "the guest shows no ivshmem BAR2")
        return
    base = bars[0][2]
    window = (top + PCIE_WINDOW - 1) // PCIE_WINDOW * PCIE_WINDOW
    ok = (base >= top and window <= base < window + PCIE_WINDOW and
          boot.bartest == [(base, BAR_PATTERN)] and boot.bar_host == BAR_PATTERN)
    host = f"{boot.bar_host:#x}" if boot.bar_host is not None else "nothing"
    ck.record(ok, f"{cfg.name}/bar",
              f"64-bit BAR2 at {base:#x} (RAM ends {top:#x}, window {window:#x}); "
              f"guest wrote {BAR_PATTERN:#x}, host memory backend holds {host}")


def report(outdir, rows):
    os.makedirs(outdir, exist_ok=True)
    kver = debroot.kernel_release(debroot.fetch_root("linux-binary-*-riscv64:riscv64"))[1]
    md = ["# virt-split vs virt boot report", "",
          f"Debian riscv64 kernel {kver} with the project's initramfs, TCG, "
          "measured in one run on one machine.  Time is wall time from QEMU "
          "start to the guest's VS-END marker; the ratio is virt-split/virt.",
          ""]
    used = [fw for fw in FIRMWARE if any(cfg.fw == fw for cfg, *_ in rows)]
    md += ["Boot chains and the firmware versions they run (Debian packages "
           "pinned in assets.lock):", "",
           "| boot chain | firmware |", "| --- | --- |"]
    md += [f"| {fw} | {FW_VERSIONS[fw]} |" for fw in used]
    md += [""]
    md += ["| configuration | virt | virt-split | virt MemTotal kB | "
           "virt-split MemTotal kB | virt RAM ranges | virt-split RAM ranges | "
           "virt s | virt-split s | ratio |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    ratios = []
    for cfg, virt, split, ok in rows:
        ratio = split.seconds / virt.seconds if virt.ok and split.ok else None
        if ratio:
            ratios.append(ratio)
        md.append("| {} | {} | {} | {} | {} | {} | {} | {:.1f} | {:.1f} | {} |".format(
            cfg.name, status(virt, known=cfg.known_failure("virt")),
            status(split, ok, cfg.known_failure("virt-split")), virt.memtotal,
            split.memtotal, merged(virt.ranges), merged(split.ranges),
            virt.seconds, split.seconds, f"{ratio:.2f}" if ratio else "-"))
    if ratios:
        ratios.sort()
        md += ["", f"Median boot time ratio virt-split/virt over {len(ratios)} "
               f"configurations: {ratios[len(ratios) // 2]:.2f} "
               f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f})."]
    limits = {cfg.known_limit("virt-split")[1] for cfg, *_ in rows
              if cfg.known_limit("virt-split")}
    limits |= {f"{cfg.fw} on {m}: {cfg.known_failure(m)[1]}" for cfg, *_ in rows
               for m in ("virt", "virt-split") if cfg.known_failure(m)}
    if limits:
        md += ["", "Known limits of outside firmware (asserted as such):", ""]
        md += [f"- {t}" for t in sorted(limits)]
    with open(os.path.join(outdir, "boot-report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    plot(outdir, rows)


def status(boot, ok=True, known=None):
    if not boot.ok:
        return "no boot (known)" if known else "no boot"
    return "ok" if ok else "FAIL"


def merged(ranges):
    """System RAM ranges with firmware holes inside a region closed up."""
    out = []
    for s, e in sorted(ranges):
        # close firmware holes, never the hole below 4 GiB
        if out and s - out[-1][1] < 64 * MiB and not out[-1][1] <= HIGH_BASE <= s:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return "<br>".join(f"{s:#x}-{e - 1:#x}" for s, e in out)


def plot(outdir, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6.5))
    for i, (fw, marker) in enumerate(zip(FIRMWARE, "osD^v<>phP*Xd8H")):
        for machine, style in (("virt", "--"), ("virt-split", "-")):
            pts = sorted((cfg.mem / 1024, (v if machine == "virt" else s).seconds)
                         for cfg, v, s, _ in rows
                         if cfg.fw == fw and cfg.smp == 1 and cfg.aia == "none"
                         and not cfg.numa and not cfg.low and not cfg.bar
                         and v.ok and s.ok)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style,
                        marker=marker, color=plt.cm.tab20(i % 20),
                        label=f"{machine} / {fw}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("guest RAM (GiB)")
    ax.set_ylabel("boot time to init summary (s)")
    ax.set_title("Boot time against RAM size, smp 1, aia none "
                 "(dashed: virt, solid: virt-split)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "boot-time.png"), dpi=110)


def skip(results, name, text):
    line = f"SKIP boot/{name}: {text}"
    print(line, flush=True)
    with open(results, "a") as f:
        f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", choices=("ci", "full"))
    ap.add_argument("results")
    ap.add_argument("--report", metavar="DIR")
    ap.add_argument("--firmware", metavar="NAME,...",
                    help="only these boot chains: " + ", ".join(FIRMWARE))
    args = ap.parse_args()
    os.makedirs(LOGS, exist_ok=True)
    ck = Results(args.results, "boot")
    configs = ci_configs() if args.set == "ci" else full_configs()
    if args.firmware:
        only = args.firmware.split(",")
        unknown = [f for f in only if f not in FIRMWARE]
        if unknown:
            ap.error(f"unknown boot chain {', '.join(unknown)}")
        configs = [c for c in configs if c.fw in only]
    rows = []
    for cfg in configs:
        img = [o for o in FIRMWARE[cfg.fw][3] if o.startswith("@")]
        if img and grub_image(img[0][1:]) is None:
            skip(args.results, f"{cfg.name}",
                 f"{DEBIAN_GRUB_PKG} {DEBIAN_GRUB_PREFIX} is no longer in the mirror's "
                 "pool, so its measured result (docs/boot.md) is not asserted")
            continue
        virt = run(cfg, "virt")
        split = run(cfg, "virt-split")
        before = ck.failed
        check_config(ck, cfg, virt, split)
        rows.append((cfg, virt, split, ck.failed == before))
    if args.report:
        report(args.report, rows)
        with open(os.path.join(args.report, "boot-results.json"), "w") as f:
            json.dump([{"config": c.name, "virt": dataclasses.asdict(v),
                        "virt-split": dataclasses.asdict(s), "ok": ok}
                       for c, v, s, ok in rows], f, indent=1)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
