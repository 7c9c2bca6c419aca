# virt-split: build QEMU 10.2.2 with the virt-split machine, run it, test it.
# See README.md.

MACHINE ?= virt-split
MEM ?= 4G
SMP ?= 2
ARGS ?=

SHELL := /bin/bash
QEMU := build/qemu-system-riscv64

.PHONY: all build prepare run check check-qtest check-virt-golden check-docs check-boot check-boot-full boot-report \
        check-libvirt check-passthrough passthrough-report uboot \
        patches refresh-patches virt-golden clean distclean

all: build

build:
	@scripts/build-qemu.sh

prepare:
	@scripts/prepare-tree.sh

run: build
	@scripts/deps.sh guest
	@echo "Booting Debian's riscv64 kernel on -M $(MACHINE) -m $(MEM) -smp $(SMP)"
	@scripts/run-guest.sh --quiet --machine $(MACHINE) --mem $(MEM) --smp $(SMP) -- $(ARGS) | \
	    scripts/demo-summary.sh

check: build
	@scripts/deps.sh guest boot grub uboot docs libvirt passthrough
	@scripts/check.sh all

check-qtest: build
	@scripts/check.sh qtest

check-virt-golden: build
	@scripts/check.sh virt-golden

check-docs: build
	@scripts/check.sh docs

check-boot: build
	@scripts/deps.sh guest boot grub uboot
	@scripts/check.sh boot

check-boot-full: build
	@scripts/deps.sh guest boot grub uboot
	@BOOT_SET=full scripts/check.sh boot

check-libvirt: build
	@scripts/deps.sh guest libvirt
	@scripts/check.sh libvirt

# U-Boot qemu-riscv64_smode with CONFIG_NR_DRAM_BANKS=4, in the download cache
uboot:
	@scripts/build-uboot.sh

check-passthrough: build
	@scripts/deps.sh guest passthrough
	@scripts/check.sh passthrough

# Phase times and NVMe throughput through VFIO: out/passthrough-report.md
passthrough-report: build
	@scripts/deps.sh guest passthrough
	@/usr/bin/python3 tests/passthrough/run --report out

# The full boot matrix with timings: out/boot-report.md and out/boot-time.png
boot-report: build
	@scripts/deps.sh guest boot grub uboot
	@mkdir -p out
	@/usr/bin/python3 tests/boot/matrix.py full build/boot-report-results --report out

patches: build
	@scripts/make-patches.sh

refresh-patches:
	@scripts/refresh-patches.sh

# Re-record tests/virt-golden from a pristine 10.2.2 build (no patches).
virt-golden:
	@scripts/build-qemu.sh --pristine
	@tests/virt-golden/run.sh generate build/pristine-obj/qemu-system-riscv64

clean:
	rm -rf build/obj build/pristine-obj build/docs-obj build/guest build/boot-logs \
	    build/*.log build/check-results out

distclean:
	rm -rf build out
