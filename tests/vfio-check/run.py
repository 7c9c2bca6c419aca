#!/usr/bin/python3
"""scripts/vfio-check against made-up hosts and against QEMU itself.

  - fake sysfs trees (--sysfs) of an Intel host (39-bit VT-d, the MSI
    window reserved), an Intel host with an RMRR inside low RAM, an AMD
    host (HATS, the HyperTransport range reserved), a device on another
    driver and devices with 16 GiB and 32 GiB BARs: each prediction, exit
    status and suggested option is asserted, and every suggestion is fed
    back to vfio-check, which must then say OK;
  - a user without CAP_IPC_LOCK and a small memlock limit (setpriv, prlimit);
  - bad input: one line on stderr and exit 1;
  - the layouts vfio-check prints equal what the built QEMU puts in its
    device tree (/memory nodes and the 64-bit PCIe window) for the same
    options, for virt and virt-split.

  tests/vfio-check/run.py [--results FILE]
"""

import argparse
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from results import Results  # noqa: E402

CHECK = os.path.join(TOP, "scripts", "vfio-check")
BUILD = os.environ.get("VIRT_SPLIT_BUILD", os.path.join(TOP, "build"))
QEMU = os.environ.get("VIRT_SPLIT_QEMU") or os.environ.get("QEMU") or \
    os.path.join(BUILD, "qemu-system-riscv64")
BDF = "0000:01:00.0"
MSI = "0x00000000fee00000 0x00000000feefffff msi\n"
HT = "0x000000fd00000000 0x000000ffffffffff reserved\n"
# VT-d CAP_REG of QEMU's intel-iommu with aw-bits=39 (MGAW 38 in 21:16)
INTEL_CAP_39 = "d2008c40660462"
# AMD-Vi EFR with HATS (bits 11:10) = 0: 4 levels, 48 bits
AMD_EFR_48 = "58f77ef22294252:0"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def bar_lines(bars):
    """/sys/bus/pci/devices/X/resource: BARs 0-5, ROM, then nothing"""
    lines = []
    for i in range(13):
        start, size, flags = bars.get(i, (0, 0, 0))
        end = start + size - 1 if size else 0
        lines.append(f"0x{start:016x} 0x{end:016x} 0x{flags:016x}")
    return "\n".join(lines) + "\n"


MEM32 = 0x40200
PREF64 = 0x14220c


def fake_host(root, vendor="intel", reserved=MSI, driver="vfio-pci",
              bars=None, others=()):
    dev = os.path.join(root, "bus/pci/devices", BDF)
    write(os.path.join(dev, "vendor"), "0x8086\n")
    write(os.path.join(dev, "device"), "0x1533\n")
    write(os.path.join(dev, "resource"), bar_lines(
        bars or {0: (0xfe000000, 1 << 20, MEM32), 2: (0x800000000, 1 << 32, PREF64)}))
    grp = os.path.join(root, "kernel/iommu_groups/7")
    write(os.path.join(grp, "reserved_regions"), reserved)
    os.makedirs(os.path.join(grp, "devices"), exist_ok=True)
    for d in (BDF,) + tuple(others):
        os.symlink(f"../../../bus/pci/devices/{d}", os.path.join(grp, "devices", d))
    os.symlink("../../../kernel/iommu_groups/7", os.path.join(dev, "iommu_group"))
    if driver:
        os.makedirs(os.path.join(root, "bus/pci/drivers", driver), exist_ok=True)
        os.symlink(f"../../drivers/{driver}", os.path.join(dev, "driver"))
    if vendor == "intel":
        write(os.path.join(root, "class/iommu/dmar0/intel-iommu/cap"), INTEL_CAP_39 + "\n")
    else:
        write(os.path.join(root, "class/iommu/ivhd0/amd-iommu/features"), AMD_EFR_48 + "\n")
    return root


def run(argv, pre=()):
    p = subprocess.run(list(pre) + [CHECK] + argv, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def suggestion(out):
    m = re.search(r"^try: (-M \S+ -m \S+)", out, re.M)
    return m.group(1).split() if m else None


def predict(ck, name, sysfs, opts, want_rc, want_text, want_try=None):
    rc, out, err = run(["--sysfs", sysfs, BDF] + opts.split())
    verdict = re.findall(r"^verdict: .*|^  - .*|^try: .*", out, re.M)
    ok = rc == want_rc and want_text in out
    alt = suggestion(out)
    if want_try is not None:
        ok = ok and alt == want_try.split()
    ck.record(ok, name, f"vfio-check {opts}: exit {rc} (want {want_rc}); "
              + " | ".join(verdict)[-500:] + (f" {err.strip()}" if err.strip() else ""))
    if alt and ok:
        rc2, out2, _ = run(["--sysfs", sysfs, BDF] + alt)
        ck.record(rc2 == 0, f"{name}/suggestion",
                  f"the suggestion '{' '.join(alt)}' then gives exit {rc2}: "
                  + " ".join(re.findall(r"^verdict: .*", out2, re.M)))
    return out


def fake_cases(ck, tmp):
    intel = fake_host(os.path.join(tmp, "intel"))
    predict(ck, "intel/virt-4g", intel, "-M virt -m 4G", 2,
            "covers the reserved region 0xfee00000-0xfeefffff (msi)", "-M virt-split -m 4G")
    predict(ck, "intel/virt-2000m", intel, "-M virt -m 2000M", 0, "verdict: OK")
    predict(ck, "intel/virt-2031m", intel, "-M virt -m 2031M", 2, "covers the reserved")
    out = predict(ck, "intel/virt-split-4g", intel, "-M virt-split -m 4G", 0, "verdict: OK")
    ck.record("RAM    0x80000000-0xbfffffff (1G)" in out and
              "RAM    0x100000000-0x1bfffffff (3G)" in out and
              "IOMMU address width: 39 bits" in out and "BAR2: 4G mem64-pref" in out,
              "intel/report", "prints RAM ranges, the 39-bit width from MGAW and the BARs")
    predict(ck, "intel/window-aw39", intel, "-M virt-split,highmem-mmio-size=512G -m 2G",
            2, "lies above the IOMMU's 39-bit limit", "-M virt-split -m 2G")
    predict(ck, "intel/ram-aw39", intel, "-M virt-split -m 600G", 2,
            "reaches above the IOMMU's 39-bit address limit")
    predict(ck, "intel/refused", intel, "-M virt-split,highmem-mmio-size=64P -m 4G", 2,
            "QEMU refuses this: highmem-mmio-size 67108864 GiB is too large")

    rmrr = fake_host(os.path.join(tmp, "rmrr"),
                     reserved="0x00000000b0000000 0x00000000b0ffffff direct\n" + MSI)
    predict(ck, "rmrr/virt-split-4g", rmrr, "-M virt-split -m 4G", 2,
            "covers the reserved region 0xb0000000-0xb0ffffff (direct)",
            "-M virt-split,low-ram-size=768M -m 4G")
    relax = fake_host(os.path.join(tmp, "relax"),
                      reserved="0x0000000000000000 0x0000000000ffffff direct-relaxable\n" + MSI)
    predict(ck, "relaxable/virt-split-4g", relax, "-M virt-split -m 4G", 0, "VFIO may map over it")

    amd = fake_host(os.path.join(tmp, "amd"), vendor="amd", reserved=MSI + HT)
    out = predict(ck, "amd/virt-split-1100g", amd, "-M virt-split -m 1100G", 0, "verdict: OK")
    ck.record("IOMMU address width: 48 bits" in out and "0x10000000000-" in out, "amd/report",
              "48 bits from HATS, RAM continues at 1 TiB past the HyperTransport range")
    predict(ck, "amd/virt-1040g", amd, "-M virt -m 1040G", 2,
            "covers the reserved region 0xfd00000000-0xffffffffff (reserved)",
            "-M virt-split -m 1040G")

    big = fake_host(os.path.join(tmp, "bar32g"),
                    bars={0: (0xfe000000, 1 << 20, MEM32), 2: (1 << 36, 32 << 30, PREF64)})
    predict(ck, "bar32g/default-window", big, "-M virt-split -m 4G", 2,
            "BARs need 32G but the 64-bit PCIe window has 16G",
            "-M virt-split,highmem-mmio-size=32G -m 4G")
    b16 = fake_host(os.path.join(tmp, "bar16g"),
                    bars={0: (0xfe000000, 1 << 20, MEM32), 2: (1 << 36, 16 << 30, PREF64),
                          4: (1 << 37, 1 << 20, PREF64)})
    predict(ck, "bar16g+1m/default-window", b16, "-M virt-split -m 4G", 2,
            "BARs need 16385M but", "-M virt-split,highmem-mmio-size=32G -m 4G")

    other = fake_host(os.path.join(tmp, "igb"), driver="igb", others=("0000:01:00.1",))
    out = predict(ck, "driver/igb", other, "-M virt-split -m 4G", 2,
                  "bound to igb, not vfio-pci")
    ck.record("every device of group 7 must be bound to vfio-pci" in out and
              "echo vfio-pci > " in out, "driver/advice",
              "says how to bind it and names the other device of the group")

    # memlock as a user without CAP_IPC_LOCK (nobody), 4 MiB limit (lowering
    # a limit needs no privilege)
    pre = ["prlimit", "--memlock=4194304", "setpriv", "--reuid=65534", "--regid=65534",
           "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    os.chmod(tmp, 0o755)
    rc, out, err = run(["--sysfs", intel, BDF, "-M", "virt-split", "-m", "4G"], pre)
    ck.record(rc == 2 and "memlock limit is 4M" in out, "memlock/user",
              f"as nobody with a 4 MiB memlock limit: exit {rc}; "
              + " ".join(l for l in out.splitlines() if "memlock" in l)[-300:] + err[-200:])
    rc, out, err = run(["--sysfs", intel, BDF, "-M", "virt-split", "-m", "2M"], pre)
    ck.record(rc == 0, "memlock/small-guest", f"2 MiB guest under a 4 MiB limit: exit {rc}")


def bad_input(ck, tmp):
    intel = os.path.join(tmp, "intel")
    for name, argv in (("address", ["01:0.0", "-M", "virt", "-m", "1G"]),
                       ("no-device", ["0000:09:00.0", "-M", "virt", "-m", "1G"]),
                       ("machine", [BDF, "-M", "sbsa-ref", "-m", "1G"]),
                       ("mem", [BDF, "-M", "virt", "-m", "4Q"]),
                       ("low-ram-size", [BDF, "-M", "virt-split,low-ram-size=3M", "-m", "4G"]),
                       ("highmem-mmio-size", [BDF, "-M", "virt-split,highmem-mmio-size=24G",
                                              "-m", "4G"]),
                       ("virt-option", [BDF, "-M", "virt,low-ram-size=1G", "-m", "4G"])):
        rc, out, err = run(["--sysfs", intel] + argv)
        ck.record(rc == 1 and not out and len(err.strip().splitlines()) == 1,
                  f"bad-input/{name}", f"{' '.join(argv)}: exit {rc}: {err.strip()}")


def load_props():
    spec = importlib.util.spec_from_file_location(
        "props", os.path.join(os.path.dirname(HERE), "props", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


LAYOUTS = ["virt 2000M", "virt 4G", "virt 17G", "virt-split 4G", "virt-split 2G",
           "virt-split,low-ram-size=512M 3G", "virt-split,low-ram-size=2030M 6G",
           "virt-split,highmem-mmio-size=64G 20G", "virt-split,highmem-mmio-size=512G 2G",
           "virt-split,highmem-mmio-size=256G 8G"]


def against_qemu(ck, tmp):
    if not os.access(QEMU, os.X_OK):
        ck.record(False, "layout", f"no built QEMU at {QEMU}; run 'make' first")
        return
    props = load_props()
    intel = os.path.join(tmp, "intel")
    for spec in LAYOUTS:
        machine, mem = spec.split()
        _, out, _ = run(["--sysfs", intel, BDF, "-M", machine, "-m", mem])
        ram = [(int(a, 16), int(b, 16) + 1 - int(a, 16)) for a, b in
               re.findall(r"^  RAM +(0x[0-9a-f]+)-(0x[0-9a-f]+)", out, re.M)]
        win = re.search(r"64-bit window (0x[0-9a-f]+)-(0x[0-9a-f]+)", out)
        win = (int(win.group(1), 16), int(win.group(2), 16) + 1 - int(win.group(1), 16)) \
            if win else None
        dtb = os.path.join(tmp, "layout.dtb")
        rc, _, err = props.run_qemu(QEMU, ["-M", machine, "-m", mem], dtb)
        if rc != 0 or not os.path.exists(dtb):
            ck.record(False, f"layout/{spec.replace(' ', '-')}",
                      f"QEMU did not start: exit {rc}: {err.strip()[-300:]}")
            continue
        with open(dtb, "rb") as f:
            nodes, qwin = props.fdt_memory_and_window(f.read())
        os.unlink(dtb)
        qram = sorted((b, s) for b, s, _ in nodes)
        same = qram == ram and qwin == win
        text = (f"-M {machine} -m {mem}: vfio-check RAM "
                + ", ".join(f"{b:#x}+{s >> 20}M" for b, s in ram)
                + (f", window {win[0]:#x}+{win[1] >> 30}G" if win else ", no window"))
        if same:
            text += "; QEMU's device tree agrees"
        else:
            text += (f"; QEMU has RAM {[(hex(b), s >> 20) for b, s in qram]}, window "
                     f"{qwin and (hex(qwin[0]), qwin[1] >> 30)}")
        ck.record(same, f"layout/{spec.replace(' ', '-')}", text)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", help="append PASS/FAIL lines to this file")
    args = ap.parse_args()
    ck = Results(args.results, "vfio-check")
    with tempfile.TemporaryDirectory() as tmp:
        fake_cases(ck, tmp)
        bad_input(ck, tmp)
        against_qemu(ck, tmp)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
