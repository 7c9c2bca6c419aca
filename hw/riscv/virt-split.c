/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU RISC-V virt-split machine
 *
 * The virt board with its RAM split in two: low RAM at 0x80000000 below
 * the x86 MSI doorbell window, the rest at 4 GiB.  An x86 IOMMU reserves
 * 0xfee00000-0xfeefffff, so VFIO cannot map guest RAM that covers it; with
 * the hole, devices can be passed through to guests of any RAM size.
 *
 * Copyright (c) 2026 The virt-split developers
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/riscv/boot.h"
#include "hw/riscv/virt-split.h"
#include "migration/vmstate.h"
#include "system/address-spaces.h"
#include "target/riscv/cpu.h"

/* A size as an option value takes it: 16G, 512M or bytes */
static char *virt_split_size_option(uint64_t size)
{
    if (QEMU_IS_ALIGNED(size, GiB)) {
        return g_strdup_printf("%" PRIu64 "G", size / GiB);
    }
    if (QEMU_IS_ALIGNED(size, MiB)) {
        return g_strdup_printf("%" PRIu64 "M", size / MiB);
    }
    return g_strdup_printf("%" PRIu64, size);
}

/* The physical address width satp.PPN gives the harts: 34 or 56 bits */
static unsigned int virt_split_phys_bits(RISCVVirtState *s)
{
    uint64_t ppn = riscv_is_32bit(&s->soc[0]) ? SATP32_PPN : SATP64_PPN;

    return ctpop64(ppn) + PGSHIFT;
}

static uint64_t virt_split_window_size(RISCVVirtSplitState *vss)
{
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);

    if (vss->highmem_mmio_size) {
        return vss->highmem_mmio_size;
    }
    return riscv_is_32bit(&s->soc[0]) ? VIRT32_HIGH_PCIE_MMIO_SIZE
                                      : VIRT64_HIGH_PCIE_MMIO_SIZE;
}

/* Low RAM starts at virt's VIRT_DRAM and ends below the MSI window */
static bool virt_split_check_low_ram_size(RISCVVirtSplitState *vss,
                                          Error **errp)
{
    hwaddr base = RISCV_VIRT_MACHINE(vss)->memmap[VIRT_DRAM].base;
    uint64_t max = VIRT_SPLIT_MSI_WINDOW_BASE - base;
    g_autofree char *size = NULL;

    if (vss->low_ram_size > max) {
        size = size_to_str(vss->low_ram_size);
        error_setg(errp, "low-ram-size %s is too large: low RAM at 0x%"
                   HWADDR_PRIx " must end at or below the x86 MSI window at "
                   "0x%" PRIx64 " (at most low-ram-size=%" PRIu64 "M)",
                   size, base, VIRT_SPLIT_MSI_WINDOW_BASE, max / MiB);
        return false;
    }
    return true;
}

/*
 * Fill virt's RAM table.  RAM goes, in order, into low RAM (up to
 * low-ram-size), high RAM from 4 GiB up to the HyperTransport range that
 * AMD-Vi reserves in every IOMMU group, and above that range from 1 TiB.
 */
static void virt_split_fill_ram_ranges(RISCVVirtSplitState *vss)
{
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);
    const MemMapEntry regions[VIRT_SPLIT_RAM_REGIONS] = {
        [VIRT_SPLIT_RAM_LOW] = { s->memmap[VIRT_DRAM].base,
                                 vss->low_ram_size },
        [VIRT_SPLIT_RAM_HIGH] = { VIRT_SPLIT_HIGH_RAM_BASE,
                                  VIRT_SPLIT_HT_HOLE_BASE -
                                  VIRT_SPLIT_HIGH_RAM_BASE },
        [VIRT_SPLIT_RAM_ABOVE_HT] = { VIRT_SPLIT_HT_HOLE_END,
                                      UINT64_MAX - VIRT_SPLIT_HT_HOLE_END },
    };
    uint64_t left = MACHINE(vss)->ram_size;
    int i;

    s->ram_range_count = 0;
    for (i = 0; i < VIRT_SPLIT_RAM_REGIONS && left; i++) {
        s->ram_ranges[i].base = regions[i].base;
        s->ram_ranges[i].size = MIN(left, regions[i].size);
        left -= s->ram_ranges[i].size;
        s->ram_range_count++;
    }
}

static bool virt_split_overlaps_ht_hole(hwaddr base, uint64_t size)
{
    return base < VIRT_SPLIT_HT_HOLE_END &&
           base + size > VIRT_SPLIT_HT_HOLE_BASE;
}

/*
 * The 64-bit PCIe window goes above the top of RAM, aligned to its own
 * size, and never into the HyperTransport range.
 */
static bool virt_split_place_high_pcie(RISCVVirtSplitState *vss,
                                       Error **errp)
{
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);
    const MemMapEntry *last = &s->ram_ranges[s->ram_range_count - 1];
    unsigned int phys_bits = virt_split_phys_bits(s);
    uint64_t limit = 1ULL << phys_bits;
    uint64_t size = virt_split_window_size(vss);
    g_autofree char *ram = NULL;
    g_autofree char *window = NULL;
    hwaddr top, base = 0;

    if (last->base >= limit || last->size > limit - last->base) {
        ram = size_to_str(MACHINE(vss)->ram_size);
        error_setg(errp, "-m %s puts RAM beyond the %u-bit physical address "
                   "limit 0x%" PRIx64 " of the harts", ram, phys_bits, limit);
        return false;
    }
    top = last->base + last->size;
    if (size <= limit) {
        base = ROUND_UP(top, size);
        if (virt_split_overlaps_ht_hole(base, size)) {
            base = ROUND_UP(VIRT_SPLIT_HT_HOLE_END, size);
        }
    }
    if (size > limit || base > limit - size) {
        window = size_to_str(size);
        error_setg(errp, "highmem-mmio-size %s does not fit: the 64-bit PCIe "
                   "window goes above RAM, which ends at 0x%" HWADDR_PRIx
                   ", aligned to its size, and must end at or below the "
                   "%u-bit physical address limit 0x%" PRIx64 "; reduce -m "
                   "or highmem-mmio-size", window, top, phys_bits, limit);
        return false;
    }
    s->high_pcie_mmio.base = base;
    s->high_pcie_mmio.size = size;
    return true;
}

/* One RAMBlock, seen through one alias per range, keeps backends whole */
static void virt_split_map_ranges(RISCVVirtSplitState *vss)
{
    static const char *const names[VIRT_SPLIT_RAM_REGIONS] = {
        "ram-low", "ram-high", "ram-above-ht",
    };
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);
    MachineState *ms = MACHINE(vss);
    uint64_t offset = 0;
    int i;

    for (i = 0; i < s->ram_range_count; i++) {
        memory_region_init_alias(&vss->ram[i], OBJECT(vss), names[i],
                                 ms->ram, offset, s->ram_ranges[i].size);
        memory_region_add_subregion(get_system_memory(),
                                    s->ram_ranges[i].base, &vss->ram[i]);
        offset += s->ram_ranges[i].size;
    }
}

static bool virt_split_map_ram(RISCVVirtState *s, Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);

    if (!virt_split_check_low_ram_size(vss, errp)) {
        return false;
    }
    virt_split_fill_ram_ranges(vss);
    if (!virt_split_place_high_pcie(vss, errp)) {
        return false;
    }
    virt_split_map_ranges(vss);
    return true;
}

static int virt_split_pre_save(void *opaque)
{
    RISCVVirtSplitState *vss = opaque;
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);

    vss->mig_low_ram_size = s->ram_ranges[0].size;
    vss->mig_highmem_mmio_size = s->high_pcie_mmio.size;
    return 0;
}

static bool virt_split_check_migrated(const char *what, const char *option,
                                      uint64_t source, uint64_t here,
                                      Error **errp)
{
    g_autofree char *source_str = NULL;
    g_autofree char *here_str = NULL;
    g_autofree char *value = NULL;

    if (source == here) {
        return true;
    }
    source_str = size_to_str(source);
    here_str = size_to_str(here);
    value = virt_split_size_option(source);
    error_setg(errp, "virt-split: the migration source has %s of %s, this "
               "machine %s: start it with %s=%s", what, source_str, here_str,
               option, value);
    return false;
}

static bool virt_split_post_load(void *opaque, int version_id, Error **errp)
{
    RISCVVirtSplitState *vss = opaque;
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);

    return virt_split_check_migrated("low RAM", "low-ram-size",
                                     vss->mig_low_ram_size,
                                     s->ram_ranges[0].size, errp) &&
           virt_split_check_migrated("a 64-bit PCIe window",
                                     "highmem-mmio-size",
                                     vss->mig_highmem_mmio_size,
                                     s->high_pcie_mmio.size, errp);
}

/*
 * RAM migrates as one RAMBlock, which fits any low-ram-size, so the
 * layout travels too: a destination with another one refuses the stream
 * rather than run the guest with its RAM and BARs moved.
 */
static const VMStateDescription vmstate_virt_split = {
    .name = "virt-split",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = virt_split_pre_save,
    .post_load_errp = virt_split_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(mig_low_ram_size, RISCVVirtSplitState),
        VMSTATE_UINT64(mig_highmem_mmio_size, RISCVVirtSplitState),
        VMSTATE_END_OF_LIST()
    },
};

static void virt_split_machine_init(MachineState *ms)
{
    RISCVVirtSplitMachineClass *vsc = RISCV_VIRT_SPLIT_MACHINE_GET_CLASS(ms);

    vsc->parent_init(ms);
    vmstate_register(NULL, 0, &vmstate_virt_split, ms);
}

/* Once RAM is laid out, the size of low RAM in use */
static void virt_split_get_low_ram_size(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    RISCVVirtState *s = RISCV_VIRT_MACHINE(obj);
    uint64_t size = s->ram_range_count ? s->ram_ranges[0].size
                                       : vss->low_ram_size;

    visit_type_size(v, name, &size, errp);
}

/* Once RAM is laid out, the size of the window in use */
static void virt_split_get_highmem_mmio_size(Object *obj, Visitor *v,
                                             const char *name, void *opaque,
                                             Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    RISCVVirtState *s = RISCV_VIRT_MACHINE(obj);
    uint64_t size = s->high_pcie_mmio.size ?: vss->highmem_mmio_size;

    visit_type_size(v, name, &size, errp);
}

static void virt_split_set_low_ram_size(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    uint64_t size;

    if (!visit_type_size(v, name, &size, errp)) {
        return;
    }
    if (!size || !QEMU_IS_ALIGNED(size, VIRT_SPLIT_LOW_RAM_ALIGN)) {
        error_setg(errp, "low-ram-size must be a non-zero multiple of "
                   "%" PRIu64 " MiB", VIRT_SPLIT_LOW_RAM_ALIGN / MiB);
        return;
    }
    vss->low_ram_size = size;
}

static void virt_split_set_highmem_mmio_size(Object *obj, Visitor *v,
                                             const char *name, void *opaque,
                                             Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    g_autofree char *lower = NULL;
    g_autofree char *upper = NULL;
    uint64_t size;

    if (!visit_type_size(v, name, &size, errp)) {
        return;
    }
    if (!size) {
        error_setg(errp, "highmem-mmio-size must be a power of 2, not 0");
        return;
    }
    if (!is_power_of_2(size)) {
        lower = size_to_str(pow2floor(size));
        upper = size_to_str(pow2ceil(size));
        error_setg(errp, "highmem-mmio-size must be a power of 2, such as %s%s"
                   "%s", lower, size >> 63 ? "" : " or ",
                   size >> 63 ? "" : upper);
        return;
    }
    vss->highmem_mmio_size = size;
}

static void virt_split_instance_init(Object *obj)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);

    vss->low_ram_size = VIRT_SPLIT_LOW_RAM_DEFAULT;
}

static void virt_split_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    RISCVVirtMachineClass *vmc = RISCV_VIRT_MACHINE_CLASS(oc);
    RISCVVirtSplitMachineClass *vsc = RISCV_VIRT_SPLIT_MACHINE_CLASS(oc);

    mc->desc = "RISC-V VirtIO board with RAM split around the 32-bit "
               "MMIO hole (for VFIO on x86 hosts)";
    vsc->parent_init = mc->init;
    mc->init = virt_split_machine_init;
    vmc->map_ram = virt_split_map_ram;

    object_class_property_add(oc, "low-ram-size", "size",
                              virt_split_get_low_ram_size,
                              virt_split_set_low_ram_size, NULL, NULL);
    object_class_property_set_description(oc, "low-ram-size",
        "Size of the RAM below 4 GiB, at 0x80000000: a multiple of 2 MiB, "
        "at most 2030 MiB (default 1 GiB)");
    object_class_property_add(oc, "highmem-mmio-size", "size",
                              virt_split_get_highmem_mmio_size,
                              virt_split_set_highmem_mmio_size, NULL, NULL);
    object_class_property_set_description(oc, "highmem-mmio-size",
        "Size of the 64-bit PCIe MMIO window above RAM: a power of 2 "
        "(default 16 GiB, 4 GiB on RV32)");
}

static const TypeInfo virt_split_machine_typeinfo = {
    .name = TYPE_RISCV_VIRT_SPLIT_MACHINE,
    .parent = TYPE_RISCV_VIRT_MACHINE,
    .class_init = virt_split_class_init,
    .class_size = sizeof(RISCVVirtSplitMachineClass),
    .instance_init = virt_split_instance_init,
    .instance_size = sizeof(RISCVVirtSplitState),
};

static void virt_split_machine_register_types(void)
{
    type_register_static(&virt_split_machine_typeinfo);
}

type_init(virt_split_machine_register_types)
