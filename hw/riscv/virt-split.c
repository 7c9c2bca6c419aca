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
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/riscv/boot.h"
#include "hw/riscv/fdt-common.h"
#include "hw/riscv/numa.h"
#include "hw/riscv/virt-split.h"
#include "hw/acpi/aml-build.h"
#include "hw/firmware/smbios.h"
#include "migration/vmstate.h"
#include "system/system.h"
#include "system/memory.h"

/*
 * Where RAM may go, in order; RAM offsets fill them one after the other.
 * Low RAM ends below the x86 MSI doorbell window (its size is set by
 * low-ram-size).  High RAM stops short of the HyperTransport range that
 * AMD-Vi reserves in every IOMMU group, and the rest continues at 1 TiB.
 */
static const MemMapEntry virt_split_ram_memmap[] = {
    [VIRT_SPLIT_RAM_LOW] =    { VIRT_SPLIT_LOW_RAM_BASE,
                                VIRT_SPLIT_LOW_RAM_MAX },
    [VIRT_SPLIT_RAM_HIGH] =   { VIRT_SPLIT_HIGH_RAM_BASE,
                                VIRT_SPLIT_HT_HOLE_BASE -
                                VIRT_SPLIT_HIGH_RAM_BASE },
    [VIRT_SPLIT_RAM_ABOVE_HT] = { VIRT_SPLIT_HT_HOLE_END, UINT64_MAX },
};

/* The most RAM region @i can hold */
static uint64_t virt_split_region_cap(RISCVVirtSplitState *vss, int i)
{
    return i == VIRT_SPLIT_RAM_LOW ? vss->low_ram_size
                                   : virt_split_ram_memmap[i].size;
}

/* How much RAM region @i holds: RAM fills the regions in order */
static uint64_t virt_split_region_ram(RISCVVirtSplitState *vss, int i)
{
    uint64_t left = MACHINE(vss)->ram_size;
    int r;

    for (r = 0; r < i; r++) {
        left -= MIN(left, virt_split_region_cap(vss, r));
    }
    return MIN(left, virt_split_region_cap(vss, i));
}

static uint64_t virt_split_low_ram_size(RISCVVirtSplitState *vss)
{
    return virt_split_region_ram(vss, VIRT_SPLIT_RAM_LOW);
}

/*
 * Translate the RAM offsets [@offset, @offset + @size) into guest physical
 * ranges, one per RAM region they touch.  Returns the number of ranges
 * written to @pieces.
 */
static int virt_split_ram_pieces(RISCVVirtSplitState *vss, uint64_t offset,
                                 uint64_t size,
                                 MemMapEntry pieces[VIRT_SPLIT_RAM_REGIONS])
{
    uint64_t region_start = 0, region_ram, lo, hi;
    int i, n = 0;

    for (i = 0; i < VIRT_SPLIT_RAM_REGIONS; i++) {
        region_ram = virt_split_region_ram(vss, i);
        lo = MAX(offset, region_start);
        hi = MIN(offset + size, region_start + region_ram);
        if (lo < hi) {
            pieces[n].base = virt_split_ram_memmap[i].base +
                             (lo - region_start);
            pieces[n].size = hi - lo;
            n++;
        }
        region_start += region_ram;
    }
    return n;
}

static void virt_split_fdt_add_socket_memory(RISCVVirtState *s, int socket)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);
    MachineState *ms = MACHINE(s);
    MemMapEntry pieces[VIRT_SPLIT_RAM_REGIONS];
    int i, n;

    n = virt_split_ram_pieces(vss, riscv_socket_mem_offset(ms, socket),
                              riscv_socket_mem_size(ms, socket), pieces);
    /*
     * libfdt inserts a node in front of its siblings.  Add the highest
     * range first so that memory@80000000 ends up first: U-Boot only
     * looks at the first memory node.  Each node has a single (base, size)
     * pair because EDK2 ignores memory nodes with any other "reg".
     */
    for (i = n - 1; i >= 0; i--) {
        create_fdt_socket_memory(ms->fdt, pieces[i].base, pieces[i].size,
                                 socket, riscv_numa_enabled(ms));
    }
}

static void virt_split_acpi_build_srat_memory(RISCVVirtState *s,
                                              GArray *table_data)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);
    MachineState *ms = MACHINE(s);
    MemMapEntry pieces[VIRT_SPLIT_RAM_REGIONS];
    int node, i, n;

    for (node = 0; node < ms->numa_state->num_nodes; node++) {
        n = virt_split_ram_pieces(vss, riscv_socket_mem_offset(ms, node),
                                  riscv_socket_mem_size(ms, node), pieces);
        for (i = 0; i < n; i++) {
            build_srat_memory(table_data, pieces[i].base, pieces[i].size,
                              node, MEM_AFFINITY_ENABLED);
        }
    }
}

static void virt_split_build_smbios(RISCVVirtSplitState *vss)
{
    struct smbios_phys_mem_area areas[VIRT_SPLIT_RAM_REGIONS];
    MemMapEntry pieces[VIRT_SPLIT_RAM_REGIONS];
    int i, n;

    n = virt_split_ram_pieces(vss, 0, MACHINE(vss)->ram_size, pieces);
    for (i = 0; i < n; i++) {
        areas[i].address = pieces[i].base;
        areas[i].length = pieces[i].size;
    }
    virt_build_smbios(RISCV_VIRT_MACHINE(vss), areas, n);
}

static unsigned virt_split_phys_bits(RISCVVirtState *s)
{
    return riscv_is_32bit(&s->soc[0]) ? VIRT_SPLIT_PHYS_BITS_RV32
                                      : VIRT_SPLIT_PHYS_BITS_RV64;
}

/* The end of the highest RAM range, or 0 if it is beyond @limit */
static hwaddr virt_split_ram_top(RISCVVirtSplitState *vss, uint64_t limit)
{
    MemMapEntry pieces[VIRT_SPLIT_RAM_REGIONS];
    int n = virt_split_ram_pieces(vss, 0, MACHINE(vss)->ram_size, pieces);
    MemMapEntry *last = &pieces[n - 1];

    if (last->base > limit || last->size > limit - last->base) {
        return 0;
    }
    return last->base + last->size;
}

static bool virt_split_overlaps_ht_hole(hwaddr base, uint64_t size)
{
    return base < VIRT_SPLIT_HT_HOLE_END &&
           base + size > VIRT_SPLIT_HT_HOLE_BASE;
}

/*
 * The 64-bit PCIe window goes above the top of RAM, aligned to its own
 * size, and never into the HyperTransport range.  RV32 harts cannot reach
 * a 16 GiB window, so they get 4 GiB unless the user asks for more.
 */
static void virt_split_place_high_pcie(RISCVVirtSplitState *vss)
{
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);
    unsigned phys_bits = virt_split_phys_bits(s);
    uint64_t limit = 1ULL << phys_bits;
    uint64_t size = vss->highmem_mmio_size;
    hwaddr top = virt_split_ram_top(vss, limit);
    hwaddr base;

    if (!size) {
        size = riscv_is_32bit(&s->soc[0]) ? VIRT_SPLIT_HIGHMEM_MMIO_RV32
                                          : VIRT_SPLIT_HIGHMEM_MMIO_MIN;
    }
    if (!top) {
        error_report("virt-split: -m %" PRIu64 "M puts RAM beyond the %u-bit "
                     "physical address limit 0x%" PRIx64,
                     MACHINE(vss)->ram_size / MiB, phys_bits, limit);
        exit(1);
    }
    if (size > limit / 2) {
        error_report("virt-split: highmem-mmio-size %" PRIu64 " GiB is too "
                     "large: the %u-bit physical address space allows at "
                     "most %" PRIu64 " GiB", size / GiB, phys_bits,
                     limit / 2 / GiB);
        exit(1);
    }
    base = ROUND_UP(top, size);
    if (virt_split_overlaps_ht_hole(base, size)) {
        base = ROUND_UP(VIRT_SPLIT_HT_HOLE_END, size);
    }
    if (base > limit - size) {
        error_report("virt-split: RAM up to 0x%" HWADDR_PRIx " and a %" PRIu64
                     " GiB PCIe window (highmem-mmio-size) above it exceed "
                     "the %u-bit physical address limit 0x%" PRIx64
                     "; reduce -m or highmem-mmio-size", top, size / GiB,
                     phys_bits, limit);
        exit(1);
    }
    s->high_pcie_mmio.base = base;
    s->high_pcie_mmio.size = size;
}

/* One RAMBlock, seen through one alias per region, keeps backends whole */
static void virt_split_map_ram(RISCVVirtSplitState *vss)
{
    static const char *const names[VIRT_SPLIT_RAM_REGIONS] = {
        "ram-low", "ram-high", "ram-above-ht",
    };
    MachineState *ms = MACHINE(vss);
    uint64_t offset = 0, size;
    int i;

    for (i = 0; i < VIRT_SPLIT_RAM_REGIONS; i++) {
        size = virt_split_region_ram(vss, i);
        if (!size) {
            break;
        }
        memory_region_init_alias(&vss->ram[i], OBJECT(vss), names[i],
                                 ms->ram, offset, size);
        memory_region_add_subregion(get_system_memory(),
                                    virt_split_ram_memmap[i].base,
                                    &vss->ram[i]);
        offset += size;
    }
}

static bool virt_split_pre_save(void *opaque, Error **errp)
{
    RISCVVirtSplitState *vss = opaque;

    vss->mig_low_ram_size = vss->low_ram_size;
    vss->mig_highmem_mmio_size = RISCV_VIRT_MACHINE(vss)->high_pcie_mmio.size;
    return true;
}

static bool virt_split_post_load(void *opaque, int version_id, Error **errp)
{
    RISCVVirtSplitState *vss = opaque;
    uint64_t window = RISCV_VIRT_MACHINE(vss)->high_pcie_mmio.size;

    if (vss->mig_low_ram_size != vss->low_ram_size) {
        error_setg(errp, "virt-split: the migration source has low-ram-size "
                   "%" PRIu64 " MiB, this machine %" PRIu64 " MiB: start it "
                   "with low-ram-size=%" PRIu64 "M",
                   vss->mig_low_ram_size / MiB, vss->low_ram_size / MiB,
                   vss->mig_low_ram_size / MiB);
        return false;
    }
    if (vss->mig_highmem_mmio_size != window) {
        error_setg(errp, "virt-split: the migration source has a %" PRIu64
                   " GiB PCIe window, this machine %" PRIu64 " GiB: start it "
                   "with highmem-mmio-size=%" PRIu64 "G",
                   vss->mig_highmem_mmio_size / GiB, window / GiB,
                   vss->mig_highmem_mmio_size / GiB);
        return false;
    }
    return true;
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
    .pre_save_errp = virt_split_pre_save,
    .post_load_errp = virt_split_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(mig_low_ram_size, RISCVVirtSplitState),
        VMSTATE_UINT64(mig_highmem_mmio_size, RISCVVirtSplitState),
        VMSTATE_END_OF_LIST()
    },
};

/* Firmware, kernel, initrd and device tree all go into low RAM */
static void virt_split_machine_done(Notifier *notifier, void *data)
{
    RISCVVirtState *s = container_of(notifier, RISCVVirtState, machine_done);
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);
    MachineState *ms = MACHINE(s);
    uint64_t low_size = virt_split_low_ram_size(vss);
    hwaddr start_addr, firmware_end;
    uint64_t kernel_entry, fdt_addr;
    RISCVBootInfo info;

    riscv_boot_info_init_discontig_mem(&info, &s->soc[0],
                                       VIRT_SPLIT_LOW_RAM_BASE, low_size);
    firmware_end = virt_boot_firmware(s, &info, &start_addr, &kernel_entry);

    if (ms->kernel_filename && !kernel_entry) {
        riscv_load_kernel(ms, &info,
                          riscv_calc_kernel_start_addr(&info, firmware_end),
                          true, NULL);
        kernel_entry = info.image_low_addr;
    }

    fdt_addr = riscv_compute_fdt_addr(VIRT_SPLIT_LOW_RAM_BASE, low_size, ms,
                                      &info);
    virt_boot_finish(s, start_addr, kernel_entry, fdt_addr);

    virt_split_build_smbios(vss);
    if (virt_is_acpi_enabled(s)) {
        virt_acpi_setup(s);
    }
}

static void virt_split_machine_init(MachineState *ms)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(ms);
    RISCVVirtState *s = RISCV_VIRT_MACHINE(ms);

    virt_create_sockets(s);
    virt_split_place_high_pcie(vss);
    virt_split_map_ram(vss);
    virt_create_devices(s);
    vmstate_register(NULL, 0, &vmstate_virt_split, vss);

    s->machine_done.notify = virt_split_machine_done;
    qemu_add_machine_init_done_notifier(&s->machine_done);
}

static void virt_split_get_low_ram_size(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    uint64_t size = vss->low_ram_size;

    visit_type_size(v, name, &size, errp);
}

static void virt_split_get_highmem_mmio_size(Object *obj, Visitor *v,
                                             const char *name, void *opaque,
                                             Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    uint64_t size = vss->highmem_mmio_size;

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
    if (!size || size > VIRT_SPLIT_LOW_RAM_MAX ||
        !QEMU_IS_ALIGNED(size, VIRT_SPLIT_LOW_RAM_ALIGN)) {
        error_setg(errp, "low-ram-size must be a multiple of %" PRIu64
                   " MiB between %" PRIu64 " MiB and %" PRIu64 " MiB "
                   "(low RAM must end at or below 0x%" PRIx64 ")",
                   VIRT_SPLIT_LOW_RAM_ALIGN / MiB,
                   VIRT_SPLIT_LOW_RAM_ALIGN / MiB,
                   VIRT_SPLIT_LOW_RAM_MAX / MiB, VIRT_SPLIT_MSI_WINDOW_BASE);
        return;
    }
    vss->low_ram_size = size;
}

static void virt_split_set_highmem_mmio_size(Object *obj, Visitor *v,
                                             const char *name, void *opaque,
                                             Error **errp)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(obj);
    uint64_t size;

    if (!visit_type_size(v, name, &size, errp)) {
        return;
    }
    if (!is_power_of_2(size) || size < VIRT_SPLIT_HIGHMEM_MMIO_MIN) {
        error_setg(errp, "highmem-mmio-size must be a power of 2 of at "
                   "least %" PRIu64 " GiB", VIRT_SPLIT_HIGHMEM_MMIO_MIN / GiB);
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

    mc->desc = "RISC-V VirtIO board with RAM split around the 32-bit "
               "MMIO hole (for VFIO on x86 hosts)";
    mc->init = virt_split_machine_init;
    vmc->fdt_add_socket_memory = virt_split_fdt_add_socket_memory;
    vmc->acpi_build_srat_memory = virt_split_acpi_build_srat_memory;

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
        "Size of the 64-bit PCIe MMIO window above RAM: a power of 2, "
        "at least 16 GiB (default 16 GiB; 4 GiB on RV32)");
}

static const TypeInfo virt_split_machine_typeinfo = {
    .name = TYPE_RISCV_VIRT_SPLIT_MACHINE,
    .parent = TYPE_RISCV_VIRT_MACHINE,
    .class_init = virt_split_class_init,
    .instance_init = virt_split_instance_init,
    .instance_size = sizeof(RISCVVirtSplitState),
};

static void virt_split_machine_register_types(void)
{
    type_register_static(&virt_split_machine_typeinfo);
}

type_init(virt_split_machine_register_types)
