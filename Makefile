# virt-split: build QEMU 10.2.2 with the virt-split machine, run it, test it.
# See README.md.

MACHINE ?= virt-split
MEM ?= 4G
SMP ?= 2
ARGS ?=

SHELL := /bin/bash
QEMU := build/qemu-system-riscv64
# make install: under /opt/virt-split, where its qemu-system-riscv64 cannot
# shadow the distribution's on PATH (docs/install.md)
PREFIX ?= /opt/virt-split
DESTDIR ?=

.PHONY: all build prepare run check check-qtest check-virt-golden check-docs check-boot check-boot-full boot-report \
        check-passthrough passthrough-report check-assets check-hole update-assets \
        check-libvirt uboot \
        patches refresh-patches virt-golden clean distclean \
        upstream upstream-asan check-upstream patches-upstream refresh-patches-upstream virt-golden-upstream \
        check-series check-sanitizers \
        check-props check-passthrough-bar check-passthrough-extra check-vfio-check install uninstall check-install

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
	@scripts/deps.sh guest boot grub uboot docs libvirt passthrough hole
	@scripts/check.sh all

check-qtest: build
	@scripts/check.sh qtest

check-virt-golden: build
	@scripts/check.sh virt-golden

check-props: build
	@scripts/check.sh props

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

# Pins that left their suite, a wrong sum, concurrent fetches, the sources
# (tests/assets)
check-assets: build
	@scripts/deps.sh guest
	@scripts/check.sh assets

# A guest touching the hole between the RAM banks (tests/hole)
check-hole: build
	@scripts/deps.sh guest hole
	@scripts/check.sh hole

# Re-pin assets.lock to the suites' current versions; shows the diff
update-assets:
	@scripts/update-assets.sh

check-passthrough: build
	@scripts/deps.sh guest passthrough
	@scripts/check.sh passthrough

# A 4 GiB BAR through VFIO and scripts/vfio-check's predictions in L1
check-passthrough-bar: build
	@scripts/deps.sh guest passthrough
	@scripts/check.sh passthrough-bar

# Install the binary, its firmware, vfio-check and the docs (scripts/install.sh)
install: build
	@scripts/install.sh install --prefix "$(PREFIX)" --destdir "$(DESTDIR)"

# Remove exactly what install put there (its manifest)
uninstall:
	@scripts/install.sh uninstall --prefix "$(PREFIX)" --destdir "$(DESTDIR)"

# install/uninstall in scratch DESTDIRs, used from outside the tree (tests/install)
check-install: build
	@scripts/deps.sh guest libvirt
	@scripts/check.sh install

# NVMe on virt 2000M and virt-split 8G, bochs-display, VGA, virtio-net and
# the e1000e alone, and the GPU and bochs-display behind AMD-Vi through VFIO
# (docs/passthrough.md)
check-passthrough-extra: build
	@scripts/deps.sh guest passthrough
	@scripts/check.sh passthrough-extra

# scripts/vfio-check against fake hosts and the built QEMU's layouts
check-vfio-check: build
	@scripts/check.sh vfio-check

# The cases of check-passthrough and check-passthrough-extra: phase times,
# NVMe throughput, the checks of each case and each L1, and the
# screendumps of the display cases: out/passthrough-report.md
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

# Upstream master (QEMU_UPSTREAM_SRC: a tarball, a git checkout, a bare git
# repository or PATH@REV; docs/upstream.md).  Without a source each of
# these targets says so in one line and does nothing.
UPSTREAM := scripts/prepare-upstream.sh --run

# master with patches/upstream/: build/upstream/qemu-system-riscv64
upstream:
	@$(UPSTREAM) scripts/build-qemu.sh --upstream

# The same with AddressSanitizer and UBSan: build/upstream/asan-obj/
upstream-asan:
	@$(UPSTREAM) scripts/build-qemu.sh --upstream-asan

check-upstream:
	@$(UPSTREAM) bash -c 'scripts/deps.sh guest boot passthrough && scripts/check.sh upstream'

# The series for master as it would be mailed, with the runner's git
# identity: out/patches-upstream/
patches-upstream:
	@scripts/make-patches-upstream.sh

refresh-patches-upstream:
	@$(UPSTREAM) env SERIES_DIR=$(CURDIR)/patches/upstream scripts/refresh-patches.sh build/upstream/src pristine

# Re-record tests/virt-golden/golden-master from pristine upstream master.
virt-golden-upstream:
	@$(UPSTREAM) bash -c 'scripts/build-qemu.sh --upstream-pristine && VIRT_GOLDEN=master tests/virt-golden/run.sh generate build/upstream/pristine/obj/qemu-system-riscv64'

# The two series carry the same changes; identity rewriting, master
# sources and subprojects (no master needed): tests/series
check-series: build
	@scripts/check.sh series

# make check's sanitizer run: master's if QEMU_UPSTREAM_SRC is set,
# otherwise 10.2.2's (build/asan-obj)
check-sanitizers: build
	@scripts/deps.sh guest boot
	@scripts/check.sh sanitizers

refresh-patches:
	@scripts/refresh-patches.sh

# Re-record tests/virt-golden from a pristine 10.2.2 build (no patches).
virt-golden:
	@scripts/build-qemu.sh --pristine
	@tests/virt-golden/run.sh generate build/pristine-obj/qemu-system-riscv64

clean:
	rm -rf build/obj build/pristine-obj build/asan-obj build/docs-obj build/guest build/boot-logs build/upstream \
	    build/*.log build/check-results out

distclean:
	rm -rf build out
