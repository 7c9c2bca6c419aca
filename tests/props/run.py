#!/usr/bin/python3
"""Random virt-split configurations, checked against the layout's invariants.

Each configuration is a random combination of -m, low-ram-size,
highmem-mmio-size, -cpu, NUMA (mem= or memdev=), a memory backend and
virt's own options.  QEMU either starts it, and then its device tree
(dumpdtb) and the "memory" flat view (info mtree -f) must keep every
invariant below, or refuses it with one line that names the option and
the limit, and exit status 1.  A signal, an assert, a hang or a silent
start of an impossible layout is a failure.

Invariants of a started configuration:
  - the /memory nodes cover -m exactly, one (base, size) pair each;
  - low RAM is contiguous from 0x80000000 and ends by 0xfee00000;
  - high RAM is contiguous from 4 GiB, and RAM above the HyperTransport
    range is contiguous from 1 TiB and only there when high RAM is full;
  - nothing is mapped in the holes (from the end of low RAM up to 4 GiB,
    the x86 MSI window, and 0xfd_0000_0000-0xff_ffff_ffff);
  - the 64-bit PCIe window is aligned to its size, above RAM, outside the
    holes and below the physical address limit;
  - numa-node-id is on every memory node exactly when NUMA is on;
  - with RV64, RAM that fits in low RAM and the default window, the
    device tree equals virt's byte for byte.

The seed is printed; SEED=N (or --seed N) reruns another set.  A failing
configuration is printed as a command line anyone can rerun.
"""

import argparse
import os
import random
import re
import shlex
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from results import Results  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VIRT_SPLIT_BUILD", os.path.join(TOP, "build"))

KiB, MiB, GiB, TiB, PiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40, 1 << 50
LOW_BASE, MSI_WINDOW, HIGH_BASE = 0x80000000, 0xfee00000, 4 * GiB
HT_BASE, HT_END = 0xfd00000000, 1 * TiB
MSI_WINDOW_END = 0xfef00000
DEFAULT_SEED = 20261125


def size_arg(n):
    if n == 0:
        return "0"
    for unit, suffix in ((PiB, "P"), (TiB, "T"), (GiB, "G"), (MiB, "M")):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


class Config:
    """One random configuration and what QEMU must make of it."""

    def __init__(self, rng):
        self.rv32 = rng.random() < 0.2
        self.ram = self.pick_ram(rng)
        self.low = self.pick_low(rng)
        self.mmio = self.pick_mmio(rng)
        self.nodes = self.pick_numa(rng)
        # legacy mem= RAM is reserved at once: keep it to what the host has
        self.memdev = bool(self.nodes) and (self.ram > 8 * GiB or rng.random() < 0.5)
        # A backend without a reservation: the host need not have the RAM
        self.backend = not self.nodes and (self.ram > 8 * GiB or rng.random() < 0.3)
        self.props = []
        if rng.random() < 0.5:
            self.props.append("aia=" + rng.choice(["none", "aplic", "aplic-imsic"]))
        if rng.random() < 0.3:
            self.props.append("acpi=" + rng.choice(["on", "off"]))
        if rng.random() < 0.2:
            self.props.append("aclint=on")
        if rng.random() < 0.2:
            self.props.append("iommu-sys=on")

    @staticmethod
    def pick_ram(rng):
        kind = rng.random()
        if kind < 0.35:
            return rng.randrange(16, 2048, 2) * MiB
        if kind < 0.9:
            return rng.randrange(2, 64) * GiB + rng.choice([0, 512 * MiB])
        # Around the HyperTransport range; far larger RAM only costs QEMU
        # minutes of dirty-bitmap set-up before the machine is built
        return rng.choice([900, 1000, 1008, 1009, 1010, 1012, 1024, 1100,
                           2048, 3072]) * GiB

    @staticmethod
    def pick_low(rng):
        kind = rng.random()
        if kind < 0.5:
            return None
        if kind < 0.9:
            return rng.randrange(1, 1016) * 2 * MiB
        return rng.choice([0, 1 * MiB, 3 * MiB, 2032 * MiB, 3 * GiB])

    @staticmethod
    def pick_mmio(rng):
        kind = rng.random()
        if kind < 0.5:
            return None
        if kind < 0.9:
            return 1 << rng.randrange(20, 58)
        return rng.choice([0, 24 * GiB, 3 * MiB, 1 << 63])

    def pick_numa(self, rng):
        if rng.random() < 0.6 or self.ram > 4 * TiB:
            return []
        n = rng.randrange(2, 5)
        unit = 2 * MiB if self.ram % GiB else GiB
        units = self.ram // unit
        cuts = sorted(rng.randrange(0, units + 1) for _ in range(n - 1))
        return [(b - a) * unit for a, b in zip([0] + cuts, cuts + [units])]

    # What the machine accepts, from its documented limits
    def low_valid(self):
        return self.low is None or (0 < self.low <= MSI_WINDOW - LOW_BASE and
                                    self.low % (2 * MiB) == 0)

    def mmio_valid(self):
        return self.mmio is None or (self.mmio > 0 and
                                     self.mmio & (self.mmio - 1) == 0)

    def phys_limit(self):
        return 1 << (34 if self.rv32 else 56)

    def low_size(self):
        return self.low if self.low is not None else 1 * GiB

    def ram_ranges(self):
        low = min(self.ram, self.low_size())
        high = min(self.ram - low, HT_BASE - HIGH_BASE)
        above = self.ram - low - high
        return [r for r in ((LOW_BASE, low), (HIGH_BASE, high), (HT_END, above)) if r[1]]

    def window(self):
        size = self.mmio or (4 * GiB if self.rv32 else 16 * GiB)
        base, last = self.ram_ranges()[-1]
        top = base + last
        start = -(-top // size) * size
        if start < HT_END and start + size > HT_BASE:
            start = -(-HT_END // size) * size
        return top, start, size

    def fits(self):
        top, start, size = self.window()
        limit = self.phys_limit()
        return top <= limit and size <= limit and start + size <= limit

    def valid(self):
        return self.low_valid() and self.mmio_valid() and self.fits()

    def args(self):
        machine = ["virt-split"] + self.props
        if self.low is not None:
            machine.append(f"low-ram-size={size_arg(self.low)}")
        if self.mmio is not None:
            machine.append(f"highmem-mmio-size={size_arg(self.mmio)}")
        a = []
        if self.backend:
            machine.append("memory-backend=ram0")
            a += ["-object", f"memory-backend-ram,id=ram0,size={size_arg(self.ram)},reserve=off"]
        a = ["-M", ",".join(machine), "-m", size_arg(self.ram)] + a
        if self.rv32:
            a += ["-cpu", "rv32"]
        if self.nodes:
            a += ["-smp", str(len(self.nodes))]
            for i, size in enumerate(self.nodes):
                if self.memdev and not size:
                    a += ["-numa", f"node,cpus={i}"]
                elif self.memdev:
                    a += ["-object", f"memory-backend-ram,id=m{i},size={size_arg(size)},reserve=off",
                          "-numa", f"node,cpus={i},memdev=m{i}"]
                else:
                    a += ["-numa", f"node,cpus={i},mem={size_arg(size)}"]
        return a


def run_qemu(qemu, args, dtb, timeout=120):
    """Start QEMU stopped, dump its device tree and its flat views, quit."""
    cmd = [qemu, "-bios", "none", "-display", "none", "-nodefaults", "-seed", "1",
           "-S", "-serial", "none", "-monitor", "stdio"] + args
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           input=f"dumpdtb {dtb}\ninfo mtree -f\nquit\n")
    except subprocess.TimeoutExpired:
        return None, "", "timed out"
    return p.returncode, p.stdout, p.stderr


def fdt_memory_and_window(blob):
    """(/memory nodes as (base, size, numa_id), 64-bit PCIe window)."""
    magic, totalsize, off_struct, off_strings = struct.unpack(">IIII", blob[:16])
    assert magic == 0xd00dfeed, "not a device tree"
    strings = blob[off_strings:]
    pos, stack, nodes, window = off_struct, [], [], None
    while True:
        tag = struct.unpack(">I", blob[pos:pos + 4])[0]
        pos += 4
        if tag == 1:                     # FDT_BEGIN_NODE
            end = blob.index(b"\0", pos)
            stack.append({"name": blob[pos:end].decode(), "props": {}})
            pos = (end + 4) & ~3
        elif tag == 3:                   # FDT_PROP
            length, nameoff = struct.unpack(">II", blob[pos:pos + 8])
            name = strings[nameoff:strings.index(b"\0", nameoff)].decode()
            stack[-1]["props"][name] = blob[pos + 8:pos + 8 + length]
            pos = (pos + 8 + length + 3) & ~3
        elif tag == 2:                   # FDT_END_NODE
            node = stack.pop()
            props = node["props"]
            if props.get("device_type") == b"memory\0":
                reg = props["reg"]
                assert len(reg) == 16, f"{node['name']}: reg is not one (base, size) pair"
                base, size = struct.unpack(">QQ", reg)
                nid = props.get("numa-node-id")
                nodes.append((base, size, struct.unpack(">I", nid)[0] if nid else None))
            if props.get("compatible", b"").startswith(b"pci-host-ecam-generic"):
                r = props["ranges"]
                # 3 PCI address cells, 2 CPU address cells, 2 size cells
                for i in range(0, len(r) - 27, 28):
                    c = struct.unpack(">7I", r[i:i + 28])
                    if (c[0] >> 24) & 3 == 3:
                        window = (c[3] << 32 | c[4], c[5] << 32 | c[6])
        elif tag == 4:                   # FDT_NOP
            continue
        elif tag == 9:                   # FDT_END
            return nodes, window


def memory_view(mtree):
    """Ranges of the flat view of address space "memory"."""
    out, keep = [], False
    for line in mtree.replace("\r", "").splitlines():
        if line.startswith("FlatView"):
            keep = False
        elif line.startswith(' AS "memory"'):
            keep = True
        elif keep:
            m = re.match(r"\s+([0-9a-f]+)-([0-9a-f]+) \(prio [-\d]+, (\w+)\): (\S+)", line)
            if m:
                out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)))
    return out


def check_started(cfg, nodes, window, view):
    """The invariants; returns a list of what is wrong."""
    bad = []
    if sum(s for _, s, _ in nodes) != cfg.ram:
        bad.append(f"memory nodes cover {sum(s for _, s, _ in nodes):#x}, not -m {cfg.ram:#x}")
    ranges = sorted((b, s) for b, s, _ in nodes)
    merged = []
    for b, s in ranges:
        if merged and merged[-1][0] + merged[-1][1] == b:
            merged[-1] = (merged[-1][0], merged[-1][1] + s)
        else:
            merged.append((b, s))
    want = cfg.ram_ranges()
    if merged != want:
        bad.append("RAM ranges " + ", ".join(f"{b:#x}+{s:#x}" for b, s in merged) +
                   " are not " + ", ".join(f"{b:#x}+{s:#x}" for b, s in want))
    low = [r for r in merged if r[0] < HIGH_BASE]
    if low and (low[0][0] != LOW_BASE or low[0][0] + low[0][1] > MSI_WINDOW):
        bad.append("low RAM does not start at 0x80000000 or reaches the MSI window")
    numa = bool(cfg.nodes)
    if any((nid is not None) != numa for _, _, nid in nodes):
        bad.append(f"numa-node-id {'missing on' if numa else 'present on'} a memory node")
    low_end = LOW_BASE + min(cfg.ram, cfg.low_size())
    holes = [(low_end, HIGH_BASE), (MSI_WINDOW, MSI_WINDOW_END), (HT_BASE, HT_END)]
    for lo, hi, kind, name in view:
        for hs, he in holes:
            if lo < he and hi >= hs:
                bad.append(f"{name} ({kind}) {lo:#x}-{hi:#x} is mapped in the hole {hs:#x}-{he:#x}")
    if window is None:
        bad.append("no 64-bit PCIe window in the device tree")
    else:
        base, size = window
        top = max(b + s for b, s in merged)
        if base % size or base < top or base + size > cfg.phys_limit():
            bad.append(f"PCIe window {base:#x}+{size:#x} is not aligned, above RAM "
                       f"(top {top:#x}) and below {cfg.phys_limit():#x}")
        if base < HT_END and base + size > HT_BASE:
            bad.append(f"PCIe window {base:#x}+{size:#x} overlaps the HyperTransport range")
    return bad


def check_one_line_error(rc, err):
    """Exit status 1 and one line; returns (problems, that line)."""
    # QEMU's own deprecation warnings (-numa mem=) are not the error
    lines = [l for l in err.splitlines() if l.strip() and "warning:" not in l]
    if rc != 1:
        return [f"refused with exit status {rc}: {err.strip()[-200:]}"], None
    if len(lines) != 1:
        return [f"refused with {len(lines)} lines: {err.strip()[-300:]}"], None
    return [], lines[0]


def check_rejected(rc, err):
    bad, line = check_one_line_error(rc, err)
    if bad:
        return bad
    if not re.search(r"low-ram-size|highmem-mmio-size|-m \d", line):
        return [f"the error names no option: {line}"]
    if not re.search(r"\d+(\.\d+)? ?([KMGTPE]iB|M|G)\b|0x[0-9a-f]+|\d+-bit|power of 2", line):
        return [f"the error names no limit: {line}"]
    return []


def one(qemu, cfg, tmp):
    """Run one configuration; returns (outcome, problems)."""
    dtb = os.path.join(tmp, "split.dtb")
    rc, out, err = run_qemu(qemu, cfg.args(), dtb)
    if rc is None:
        return "hang", ["QEMU did not finish in 120 s"]
    if rc != 0 or not os.path.exists(dtb):
        if rc < 0:
            return "signal", [f"killed by signal {-rc}: {err.strip()[-200:]}"]
        # RAM beyond what the host can map fails before the machine is
        # built: that is QEMU's one-line error about the host, not a layout
        if "cannot set up guest memory" in err and "Cannot allocate memory" in err:
            return "host-limit", check_one_line_error(rc, err)[0]
        bad = check_rejected(rc, err)
        if cfg.valid():
            bad.append(f"a valid layout was refused: {err.strip()[-200:]}")
        return "rejected", bad
    with open(dtb, "rb") as f:
        blob = f.read()
    os.unlink(dtb)
    try:
        nodes, window = fdt_memory_and_window(blob)
    except AssertionError as e:
        return "started", [str(e)]
    bad = check_started(cfg, nodes, window, memory_view(out))
    if not cfg.valid():
        bad.append("an impossible layout was accepted")
    if (not cfg.rv32 and cfg.ram <= cfg.low_size() and cfg.mmio in (None, 16 * GiB)
            and cfg.low_valid()):
        bad += same_as_virt(qemu, cfg, blob, tmp)
    return "started", bad


def same_as_virt(qemu, cfg, blob, tmp):
    """virt-split's device tree equals virt's when all RAM is low RAM."""
    dtb = os.path.join(tmp, "virt.dtb")
    args = cfg.args()
    i = args.index("-M")
    props = [p for p in args[i + 1].split(",")[1:]
             if not p.startswith(("low-ram-size=", "highmem-mmio-size="))]
    args[i + 1] = ",".join(["virt"] + props)
    rc, _, err = run_qemu(qemu, args, dtb)
    if rc != 0 or not os.path.exists(dtb):
        return [f"virt with the same options failed: {err.strip()[-200:]}"]
    with open(dtb, "rb") as f:
        same = f.read() == blob
    os.unlink(dtb)
    return [] if same else ["the device tree differs from virt's with the same RAM"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEED") or DEFAULT_SEED))
    ap.add_argument("--count", type=int, default=int(os.environ.get("COUNT") or 300))
    ap.add_argument("--qemu", default=os.environ.get("VIRT_SPLIT_QEMU") or
                    os.path.join(BUILD, "qemu-system-riscv64"))
    ap.add_argument("--results", help="append PASS/FAIL lines to this file")
    args = ap.parse_args()
    if not os.access(args.qemu, os.X_OK):
        print(f"[props] error: no QEMU at {args.qemu}; run 'make' first", file=sys.stderr)
        return 1
    print(f"[props] seed {args.seed}, {args.count} configurations "
          f"(rerun with SEED={args.seed})", flush=True)
    rng = random.Random(args.seed)
    ck = Results(args.results, "props")
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.count):
            cfg = Config(rng)
            outcome, bad = one(args.qemu, cfg, tmp)
            counts[outcome] = counts.get(outcome, 0) + 1
            if bad:
                cmd = " ".join(shlex.quote(a) for a in [args.qemu, "-bios", "none", "-display",
                                                         "none", "-nodefaults"] + cfg.args())
                ck.record(False, f"config-{n}", f"{outcome}: {'; '.join(bad)}\n    rerun: {cmd}")
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    ck.record(ck.failed == 0, f"seed-{args.seed}",
              f"{args.count} random configurations: {summary}; {ck.failed} broke an invariant")
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
