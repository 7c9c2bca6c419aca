"""Debian packages of assets.lock for the Python harnesses: fetch one with
scripts/fetch-deb.sh (the pin, or what replaced it when the pin left its
suite) and find the kernel release it holds, so that no harness names a
kernel version."""

import os
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fetch_root(spec):
    """Fetch SPEC (e.g. 'linux-binary-*-riscv64:riscv64'); its unpacked root."""
    p = subprocess.run([os.path.join(TOP, "scripts/fetch-deb.sh"), "--root", spec],
                       capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"fetch-deb.sh {spec}: {p.stderr.strip()[-300:]}")
    if p.stderr.strip():
        print(p.stderr.strip(), flush=True)
    return p.stdout.strip().splitlines()[-1]


def kernel_release(root):
    """The one kernel release (uname -r) under ROOT's lib/modules."""
    rels = [(d, r) for d in ("usr/lib/modules", "lib/modules")
            if os.path.isdir(os.path.join(root, d))
            for r in sorted(os.listdir(os.path.join(root, d)))]
    if len(rels) != 1:
        raise RuntimeError(f"{root} holds {len(rels)} kernel releases, expected one")
    return rels[0]
