#!/usr/bin/python3
"""scripts/vfio-check against made-up hosts and against QEMU itself.

vfio-check takes the guest's layout from the QEMU it is given (here the
built one, --qemu); these tests check what it makes of the host.

  - fake sysfs trees (--sysfs) of an Intel host (39-bit VT-d, the MSI
    window reserved), an Intel host with an RMRR inside low RAM, an AMD
    host (HATS, the HyperTransport range reserved), a device on another
    driver and devices with 16 GiB and 32 GiB BARs: each prediction, exit
    status and suggested option is asserted, and every suggestion is fed
    back to vfio-check, which must then say OK;
  - a user without CAP_IPC_LOCK and a small memlock limit (setpriv, prlimit);
  - AMD-Vi address widths from amd-iommu/features in the formats kernels
    print (EFR alone, EFR2:EFR, EFR:EFR2) and for each HATS value;
  - bad input and QEMU's refusals: one line on stderr and exit 1 (QEMU's
    own line, not a copy of its rules); no QEMU at hand, and a QEMU
    without virt-split, each say so in one line;
  - the layouts vfio-check prints equal the /memory nodes and the 64-bit
    PCIe window of the device tree the built QEMU dumps through its
    monitor (tests/props' own FDT reader) for fixed configurations of
    virt and virt-split and for random ones (tests/props' generator;
    SEED= reruns another set); where QEMU refuses a random configuration,
    vfio-check prints QEMU's line.

  tests/vfio-check/run.py [--results FILE]
"""

import argparse
import importlib.util
import os
import re
import random
import shlex
import shutil
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
              bars=None, others=(), features=AMD_EFR_48, release=None):
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
        write(os.path.join(root, "class/iommu/ivhd0/amd-iommu/features"), features + "\n")
    if release:
        write(os.path.join(root, "kernel-release"), release + "\n")
    return root


def refused(ck, name, sysfs, opts, option):
    """QEMU refuses the options: vfio-check prints QEMU's own line on
    stderr, nothing on stdout, and exits 1."""
    rc, out, err = run(["--sysfs", sysfs, BDF] + opts.split())
    lines = err.strip().splitlines()
    ok = (rc == 1 and not out and len(lines) == 1 and
          lines[0].startswith(os.path.basename(QEMU) + ":") and option in lines[0])
    ck.record(ok, name, f"vfio-check {opts}: exit {rc} (want 1, QEMU's line naming "
              f"{option}): {err.strip()[:300]}{out[:200]}")


# amd-iommu/features as kernels print it, and the width HATS gives: EFR
# alone (before 5.12), EFR2:EFR (about 5.12-6.4, Debian 12's 6.1), EFR:EFR2
# (later); when both registers are set the release says which is which
EFR_HATS = {0: 0x58f77ef22294252, 1: 0x58f77ef22294652, 2: 0x58f77ef22294a52}
AMD_WIDTHS = [
    ("efr-only-hats0", f"{EFR_HATS[0]:x}", None, 48),
    ("efr2-efr-hats1", f"0:{EFR_HATS[1]:x}", None, 57),
    ("efr-efr2-hats2", f"{EFR_HATS[2]:x}:0", None, 64),
    ("both-set-6.1", f"1:{EFR_HATS[1]:x}", "6.1.0-99-amd64", 57),
    ("both-set-6.12", f"{EFR_HATS[1]:x}:1", "6.12.48+deb13-amd64", 57),
    ("hats-reserved", f"{EFR_HATS[0] | 0xc00:x}", None, 48),
]


def amd_widths(ck, tmp):
    for name, feat, release, bits in AMD_WIDTHS:
        root = fake_host(os.path.join(tmp, f"amd-{name}"), vendor="amd",
                         reserved=MSI + HT, features=feat, release=release)
        rc, out, err = run(["--sysfs", root, BDF, "-M", "virt-split", "-m", "4G"])
        line = re.search(r"^  IOMMU address width: .*", out, re.M)
        ck.record(rc == 0 and line is not None and
                  line.group(0).startswith(f"  IOMMU address width: {bits} bits (ivhd0"),
                  f"amd/width-{name}",
                  f"features '{feat}'{' on ' + release if release else ''}: exit {rc}, "
                  f"{line.group(0).strip() if line else 'no width line'} (want {bits} bits)"
                  + err.strip()[:200])


def run(argv, pre=(), check=CHECK, qemu=None, env=None):
    qemu = ["--qemu", qemu or QEMU] if qemu != "" else []
    p = subprocess.run(list(pre) + [check] + qemu + argv, capture_output=True, text=True,
                       env=env)
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
    refused(ck, "intel/refused", intel, "-M virt-split,highmem-mmio-size=64P -m 4G",
            "highmem-mmio-size")

    rmrr = fake_host(os.path.join(tmp, "rmrr"),
                     reserved="0x00000000b0000000 0x00000000b0ffffff direct\n" + MSI)
    predict(ck, "rmrr/virt-split-4g", rmrr, "-M virt-split -m 4G", 2,
            "covers the reserved region 0xb0000000-0xb0ffffff (direct)",
            "-M virt-split,low-ram-size=768M -m 4G")
    relax = fake_host(os.path.join(tmp, "relax"),
                      reserved="0x0000000000000000 0x0000000000ffffff direct-relaxable\n" + MSI)
    predict(ck, "relaxable/virt-split-4g", relax, "-M virt-split -m 4G", 0, "VFIO may map over it")

    amd_widths(ck, tmp)
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
                       ("no-mem", [BDF, "-M", "virt"]),
                       ("option", [BDF, "-M", "virt", "-m", "1G", "-device", "x"]),
                       ("mem", [BDF, "-M", "virt", "-m", "4Q"]),
                       ("low-ram-size", [BDF, "-M", "virt-split,low-ram-size=3M", "-m", "4G"]),
                       ("highmem-mmio-size", [BDF, "-M", "virt-split,highmem-mmio-size=24G",
                                              "-m", "4G"]),
                       ("virt-option", [BDF, "-M", "virt,low-ram-size=1G", "-m", "4G"])):
        rc, out, err = run(["--sysfs", intel] + argv)
        ck.record(rc == 1 and not out and len(err.strip().splitlines()) == 1,
                  f"bad-input/{name}", f"{' '.join(argv)}: exit {rc}: {err.strip()}")
    rc, out, err = run(["--sysfs", intel, BDF, "-M", "virt", "-m", "1G"],
                       qemu=os.path.join(tmp, "nothing-here"))
    ck.record(rc == 1 and not out and len(err.strip().splitlines()) == 1 and "--qemu" in err,
              "bad-input/qemu-path", f"--qemu a path with no QEMU: exit {rc}: {err.strip()}")
    no_qemu(ck, tmp, intel)
    without_virt_split(ck, tmp, intel)


def no_qemu(ck, tmp, intel):
    """No --qemu, a copy of vfio-check outside the checkout, no QEMU on PATH:
    one line says so (unless QEMU is installed at the default prefix, which
    it must then find)."""
    alone = os.path.join(tmp, "alone")
    os.makedirs(alone)
    copy = os.path.join(alone, "vfio-check")
    with open(CHECK) as f, open(copy, "w") as g:
        g.write(f.read())
    os.chmod(copy, 0o755)
    env = dict(os.environ, PATH=alone + ":/usr/sbin:/usr/bin:/sbin:/bin")
    env.pop("VIRT_SPLIT_QEMU", None)
    if shutil.which("qemu-system-riscv64", path=env["PATH"]):
        env["PATH"] = alone
        pre = ["/usr/bin/python3"]
    else:
        pre = []
    rc, out, err = run(["--sysfs", intel, BDF, "-M", "virt", "-m", "1G"], pre=pre,
                       check=copy, qemu="", env=env)
    installed = "/opt/virt-split/bin/qemu-system-riscv64"
    if os.access(installed, os.X_OK):
        ck.record(rc == 0 and installed in out, "no-qemu/installed",
                  f"with QEMU installed at {installed}, a copy of vfio-check outside "
                  f"the checkout uses it: exit {rc}, {err.strip()[:200]}")
        return
    ck.record(rc == 1 and not out and len(err.strip().splitlines()) == 1 and
              "no qemu-system-riscv64 found" in err, "no-qemu/none",
              f"no QEMU next to it, in a checkout, installed or on PATH: exit {rc}: "
              f"{err.strip()}")


def without_virt_split(ck, tmp, intel):
    """A QEMU without virt-split: a stand-in that answers -machine help
    with virt only and refuses other machines as QEMU does."""
    fake = os.path.join(tmp, "old-qemu", "qemu-system-riscv64")
    os.makedirs(os.path.dirname(fake))
    with open(fake, "w") as f:
        f.write("""#!/bin/sh
case " $* " in
*" -machine help "*) printf 'Supported machines are:\\nvirt                 RISC-V VirtIO board\\n'; exit 0 ;;
*" -M virt-split"*) echo "qemu-system-riscv64: unsupported machine type: \\"virt-split\\"" >&2
    echo "Use -machine help to list supported machines" >&2; exit 1 ;;
esac
exec "$VFIO_CHECK_REAL_QEMU" "$@"
""")
    os.chmod(fake, 0o755)
    env = dict(os.environ, VFIO_CHECK_REAL_QEMU=QEMU)
    rc, out, err = run(["--sysfs", intel, BDF, "-M", "virt-split", "-m", "4G"],
                       qemu=fake, env=env)
    ck.record(rc == 1 and not out and len(err.strip().splitlines()) == 1 and
              "has no machine 'virt-split'" in err, "old-qemu/virt-split",
              f"-M virt-split on a QEMU without it: exit {rc}: {err.strip()}")
    rc, out, err = run(["--sysfs", intel, BDF, "-M", "virt", "-m", "4G"], qemu=fake, env=env)
    ck.record(rc == 2 and "has no virt-split machine" in out and "try:" not in out,
              "old-qemu/virt", f"-M virt -m 4G on a QEMU without virt-split: exit {rc}, "
              + " | ".join(re.findall(r"^(?:verdict|try|\S+ has no).*", out, re.M)))


def load_props():
    spec = importlib.util.spec_from_file_location(
        "props", os.path.join(os.path.dirname(HERE), "props", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RANDOM_COUNT = int(os.environ.get("COUNT") or 20)
LAYOUTS = ["virt 2000M", "virt 4G", "virt 17G", "virt-split 4G", "virt-split 2G",
           "virt-split,low-ram-size=512M 3G", "virt-split,low-ram-size=2030M 6G",
           "virt-split,highmem-mmio-size=64G 20G", "virt-split,highmem-mmio-size=512G 2G",
           "virt-split,highmem-mmio-size=256G 8G"]


def printed_layout(out):
    """RAM ranges [(base, size)] and 64-bit window (base, size) vfio-check printed"""
    ram = [(int(a, 16), int(b, 16) + 1 - int(a, 16)) for a, b in
           re.findall(r"^  RAM +(0x[0-9a-f]+)-(0x[0-9a-f]+)", out, re.M)]
    win = re.search(r"64-bit window (0x[0-9a-f]+)-(0x[0-9a-f]+)", out)
    win = (int(win.group(1), 16), int(win.group(2), 16) + 1 - int(win.group(1), 16)) \
        if win else None
    return ram, win


def compare(ck, props, tmp, intel, name, args, accepted=None):
    """vfio-check with QEMU options args against the device tree QEMU dumps
    through its monitor; a refusal must be QEMU's own line."""
    dtb = os.path.join(tmp, "layout.dtb")
    qrc, _, qerr = props.run_qemu(QEMU, args, dtb)
    rc, out, err = run(["--sysfs", intel, BDF] + args)
    shown = " ".join(shlex.quote(a) for a in args)
    if qrc != 0 or not os.path.exists(dtb):
        lines = [l for l in qerr.splitlines() if l.strip() and "warning:" not in l]
        ok = accepted is not True and rc == 1 and not out and lines and \
            err.strip() == lines[0]
        ck.record(ok, name, f"{shown}: QEMU refuses ({lines[0] if lines else qerr.strip()}); "
                  f"vfio-check exit {rc}: {err.strip()[:300]}")
        return
    with open(dtb, "rb") as f:
        nodes, qwin = props.fdt_memory_and_window(f.read())
    os.unlink(dtb)
    qram = sorted((b, s) for b, s, _ in nodes)
    ram, win = printed_layout(out)
    same = rc in (0, 2) and qram == ram and qwin == win
    text = (f"{shown}: vfio-check exit {rc}, RAM "
            + ", ".join(f"{b:#x}+{human(s)}" for b, s in ram)
            + (f", window {win[0]:#x}+{human(win[1])}" if win else ", no window"))
    if same:
        text += "; QEMU's device tree agrees"
    else:
        text += (f"; QEMU has RAM {[(hex(b), human(s)) for b, s in qram]}, window "
                 f"{qwin and (hex(qwin[0]), human(qwin[1]))} {err.strip()[:200]}")
    ck.record(same, name, text)


def human(n):
    for unit, name in ((1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M")):
        if n % unit == 0:
            return f"{n // unit}{name}"
    return hex(n)


def against_qemu(ck, tmp):
    if not os.access(QEMU, os.X_OK):
        ck.record(False, "layout", f"no built QEMU at {QEMU}; run 'make' first")
        return
    props = load_props()
    intel = os.path.join(tmp, "intel")
    for spec in LAYOUTS:
        machine, mem = spec.split()
        compare(ck, props, tmp, intel, f"layout/{spec.replace(' ', '-')}",
                ["-M", machine, "-m", mem], accepted=True)
    seed = int(os.environ.get("SEED") or 20261202)
    rng = random.Random(seed)
    for n in range(RANDOM_COUNT):
        cfg = props.Config(rng)
        compare(ck, props, tmp, intel, f"random-{seed}/{n}", cfg.args())


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
