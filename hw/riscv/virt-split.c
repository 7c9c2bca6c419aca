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
#include "hw/boards.h"
#include "hw/loader.h"
#include "hw/riscv/boot.h"
#include "hw/riscv/numa.h"
#include "hw/riscv/virt-split.h"
#include "hw/acpi/aml-build.h"
#include "hw/firmware/smbios.h"
#include "system/device_tree.h"
#include "system/system.h"
#include "system/memory.h"
#include <libfdt.h>

enum {
    VIRT_SPLIT_RAM_LOW,
    VIRT_SPLIT_RAM_HIGH,
};

/* Base and largest size of each RAM region; high RAM is bounded later */
static const MemMapEntry virt_split_ram_memmap[] = {
    [VIRT_SPLIT_RAM_LOW] =  { VIRT_SPLIT_LOW_RAM_BASE, VIRT_SPLIT_LOW_RAM_MAX },
    [VIRT_SPLIT_RAM_HIGH] = { VIRT_SPLIT_HIGH_RAM_BASE, UINT64_MAX },
};

static uint64_t virt_split_low_ram_size(RISCVVirtSplitState *vss)
{
    return MIN(MACHINE(vss)->ram_size, vss->low_ram_size);
}

static uint64_t virt_split_high_ram_size(RISCVVirtSplitState *vss)
{
    return MACHINE(vss)->ram_size - virt_split_low_ram_size(vss);
}

/*
 * Translate the RAM offsets [@offset, @offset + @size) into guest physical
 * ranges: offsets below the low RAM size are in low RAM, the rest continue
 * in high RAM.  Returns the number of ranges written to @pieces.
 */
static int virt_split_ram_pieces(RISCVVirtSplitState *vss, uint64_t offset,
                                 uint64_t size,
                                 MemMapEntry pieces[VIRT_SPLIT_MAX_RAM_PIECES])
{
    uint64_t low = virt_split_low_ram_size(vss);
    uint64_t end = offset + size;
    int n = 0;

    if (offset < low && size) {
        pieces[n].base = virt_split_ram_memmap[VIRT_SPLIT_RAM_LOW].base +
                         offset;
        pieces[n].size = MIN(end, low) - offset;
        n++;
    }
    if (end > low) {
        uint64_t start = MAX(offset, low);

        pieces[n].base = virt_split_ram_memmap[VIRT_SPLIT_RAM_HIGH].base +
                         (start - low);
        pieces[n].size = end - start;
        n++;
    }
    return n;
}

/* The end of the highest RAM range */
static hwaddr virt_split_ram_top(RISCVVirtSplitState *vss)
{
    MemMapEntry pieces[VIRT_SPLIT_MAX_RAM_PIECES];
    int n = virt_split_ram_pieces(vss, 0, MACHINE(vss)->ram_size, pieces);

    return pieces[n - 1].base + pieces[n - 1].size;
}

static void virt_split_fdt_add_socket_memory(RISCVVirtState *s, int socket)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);
    MachineState *ms = MACHINE(s);
    MemMapEntry pieces[VIRT_SPLIT_MAX_RAM_PIECES];
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
        riscv_create_fdt_socket_memory(ms, pieces[i].base, pieces[i].size,
                                       socket);
    }
}

static void virt_split_acpi_build_srat_memory(RISCVVirtState *s,
                                              GArray *table_data)
{
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);
    MachineState *ms = MACHINE(s);
    MemMapEntry pieces[VIRT_SPLIT_MAX_RAM_PIECES];
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
    struct smbios_phys_mem_area areas[VIRT_SPLIT_MAX_RAM_PIECES];
    MemMapEntry pieces[VIRT_SPLIT_MAX_RAM_PIECES];
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

/*
 * The 64-bit PCIe window goes above the top of RAM, aligned to its own
 * size.  RV32 harts cannot reach a 16 GiB window, so they get 4 GiB unless
 * the user asks for more.
 */
static void virt_split_place_high_pcie(RISCVVirtSplitState *vss)
{
    RISCVVirtState *s = RISCV_VIRT_MACHINE(vss);
    unsigned phys_bits = virt_split_phys_bits(s);
    uint64_t limit = 1ULL << phys_bits;
    uint64_t size = vss->highmem_mmio_size;
    hwaddr top = virt_split_ram_top(vss);

    if (!size) {
        size = riscv_is_32bit(&s->soc[0]) ? VIRT_SPLIT_HIGHMEM_MMIO_RV32
                                          : VIRT_SPLIT_HIGHMEM_MMIO_MIN;
    }
    if (top > limit) {
        error_report("virt-split: -m %" PRIu64 "M puts RAM up to 0x%"
                     HWADDR_PRIx ", which exceeds the %u-bit physical "
                     "address limit 0x%" PRIx64, MACHINE(vss)->ram_size / MiB,
                     top, phys_bits, limit);
        exit(1);
    }
    s->high_pcie_mmio.size = size;
    s->high_pcie_mmio.base = ROUND_UP(top, size);
    if (s->high_pcie_mmio.base > limit - size) {
        error_report("virt-split: RAM up to 0x%" HWADDR_PRIx " and a %" PRIu64
                     " GiB PCIe window (highmem-mmio-size) above it exceed "
                     "the %u-bit physical address limit 0x%" PRIx64
                     "; reduce -m or highmem-mmio-size", top, size / GiB,
                     phys_bits, limit);
        exit(1);
    }
}

static void virt_split_map_ram(RISCVVirtSplitState *vss)
{
    MachineState *ms = MACHINE(vss);
    MemoryRegion *sysmem = get_system_memory();
    uint64_t low = virt_split_low_ram_size(vss);
    uint64_t high = virt_split_high_ram_size(vss);

    /* One RAMBlock, seen through two windows, keeps backends and migration */
    memory_region_init_alias(&vss->ram_low, OBJECT(vss), "ram-low", ms->ram,
                             0, low);
    memory_region_add_subregion(sysmem,
                                virt_split_ram_memmap[VIRT_SPLIT_RAM_LOW].base,
                                &vss->ram_low);
    if (high) {
        memory_region_init_alias(&vss->ram_high, OBJECT(vss), "ram-high",
                                 ms->ram, low, high);
        memory_region_add_subregion(sysmem,
                            virt_split_ram_memmap[VIRT_SPLIT_RAM_HIGH].base,
                            &vss->ram_high);
    }
}

static hwaddr virt_split_low_ram_end(RISCVVirtSplitState *vss)
{
    return virt_split_ram_memmap[VIRT_SPLIT_RAM_LOW].base +
           virt_split_low_ram_size(vss);
}

static void G_NORETURN virt_split_too_big(RISCVVirtSplitState *vss,
                                          const char *what,
                                          const char *filename,
                                          uint64_t size)
{
    error_report("virt-split: %s '%s' (%" PRIu64 " bytes) does not fit in "
                 "low RAM (%" PRIu64 " MiB, 0x%" PRIx64 "-0x%" HWADDR_PRIx
                 "); raise low-ram-size", what, filename, size,
                 virt_split_low_ram_size(vss) / MiB, VIRT_SPLIT_LOW_RAM_BASE,
                 virt_split_low_ram_end(vss));
    exit(1);
}

static void virt_split_check_firmware(RISCVVirtSplitState *vss,
                                      hwaddr start, hwaddr end)
{
    MachineState *ms = MACHINE(vss);

    if (start >= VIRT_SPLIT_LOW_RAM_BASE && end > virt_split_low_ram_end(vss)) {
        virt_split_too_big(vss, "firmware",
                           ms->firmware ? ms->firmware : "default",
                           end - start);
    }
}

/*
 * Like riscv_load_initrd(), but bounded by low RAM: the initrd goes half-way
 * into low RAM above the kernel, at most 512 MiB above it, and never over
 * the kernel image itself.
 */
static void virt_split_load_initrd(RISCVVirtSplitState *vss,
                                   RISCVBootInfo *info)
{
    MachineState *ms = MACHINE(vss);
    const char *filename = ms->initrd_filename;
    hwaddr end = virt_split_low_ram_end(vss);
    hwaddr start;
    int64_t size;

    start = info->image_low_addr +
            MIN(virt_split_low_ram_size(vss) / 2, 512 * MiB);
    start = MAX(start, QEMU_ALIGN_UP(info->image_high_addr, 2 * MiB));
    size = get_image_size(filename, NULL);
    if (size < 0) {
        error_report("could not load ramdisk '%s'", filename);
        exit(1);
    }
    if (start >= end || size > end - start) {
        virt_split_too_big(vss, "initrd", filename, size);
    }
    size = load_ramdisk(filename, start, end - start);
    if (size == -1) {
        size = load_image_targphys(filename, start, end - start, NULL);
        if (size == -1) {
            error_report("could not load ramdisk '%s'", filename);
            exit(1);
        }
    }
    info->initrd_start = start;
    info->initrd_size = size;
    qemu_fdt_setprop_u64(ms->fdt, "/chosen", "linux,initrd-start", start);
    qemu_fdt_setprop_u64(ms->fdt, "/chosen", "linux,initrd-end", start + size);
}

static void virt_split_load_kernel(RISCVVirtSplitState *vss,
                                   RISCVBootInfo *info,
                                   hwaddr firmware_end)
{
    MachineState *ms = MACHINE(vss);
    hwaddr start = riscv_calc_kernel_start_addr(info, firmware_end);

    riscv_load_kernel(ms, info, start, false, NULL);
    if (info->image_high_addr > virt_split_low_ram_end(vss)) {
        virt_split_too_big(vss, "kernel", ms->kernel_filename,
                           info->image_high_addr - info->image_low_addr);
    }
    if (ms->initrd_filename) {
        virt_split_load_initrd(vss, info);
    }
}

/* The device tree goes at the end of low RAM, after kernel and initrd */
static uint64_t virt_split_place_fdt(RISCVVirtSplitState *vss,
                                     RISCVBootInfo *info)
{
    MachineState *ms = MACHINE(vss);
    hwaddr top = virt_split_low_ram_end(vss);
    hwaddr used = 0;
    uint32_t fdt_size;

    fdt_pack(ms->fdt);
    fdt_size = fdt_totalsize(ms->fdt);
    if (info->is_32bit) {
        top = MIN(top, 3 * GiB);
    }
    if (info->initrd_size) {
        used = info->initrd_start + info->initrd_size;
    } else if (info->kernel_size) {
        used = info->image_high_addr;
    }
    if (used && QEMU_ALIGN_DOWN(top - fdt_size, 2 * MiB) < used) {
        virt_split_too_big(vss, "device tree",
                           ms->dtb ? ms->dtb : "generated", fdt_size);
    }
    return riscv_compute_fdt_addr(VIRT_SPLIT_LOW_RAM_BASE,
                                  virt_split_low_ram_size(vss), ms, info);
}

static void virt_split_machine_done(Notifier *notifier, void *data)
{
    RISCVVirtState *s = container_of(notifier, RISCVVirtState, machine_done);
    RISCVVirtSplitState *vss = RISCV_VIRT_SPLIT_MACHINE(s);
    MachineState *ms = MACHINE(s);
    hwaddr start_addr, firmware_end;
    uint64_t kernel_entry, fdt_addr;
    RISCVBootInfo info;

    firmware_end = virt_boot_firmware(s, &start_addr, &kernel_entry);
    virt_split_check_firmware(vss, start_addr, firmware_end);

    riscv_boot_info_init(&info, &s->soc[0]);
    if (ms->kernel_filename && !kernel_entry) {
        virt_split_load_kernel(vss, &info, firmware_end);
        kernel_entry = info.image_low_addr;
    }

    fdt_addr = virt_split_place_fdt(vss, &info);
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
