/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU RISC-V virt-split machine: virt with RAM split around a hole
 *
 * Copyright (c) 2026 The virt-split developers
 */

#ifndef HW_RISCV_VIRT_SPLIT_H
#define HW_RISCV_VIRT_SPLIT_H

#include "hw/riscv/virt.h"

#define TYPE_RISCV_VIRT_SPLIT_MACHINE MACHINE_TYPE_NAME("virt-split")
OBJECT_DECLARE_TYPE(RISCVVirtSplitState, RISCVVirtSplitMachineClass,
                    RISCV_VIRT_SPLIT_MACHINE)

/*
 * Low RAM starts where virt's RAM does and must end at or below the x86
 * MSI doorbell window, which an x86 IOMMU never lets VFIO map.
 */
#define VIRT_SPLIT_MSI_WINDOW_BASE      UINT64_C(0xfee00000)
#define VIRT_SPLIT_LOW_RAM_DEFAULT      (1 * GiB)
#define VIRT_SPLIT_LOW_RAM_ALIGN        (2 * MiB)
#define VIRT_SPLIT_HIGH_RAM_BASE        (4 * GiB)

/*
 * AMD-Vi reserves this HyperTransport range in every IOMMU group, so
 * VFIO cannot map RAM there either; RAM that would reach it continues
 * at 1 TiB instead.
 */
#define VIRT_SPLIT_HT_HOLE_BASE         UINT64_C(0xfd00000000)
#define VIRT_SPLIT_HT_HOLE_END          UINT64_C(0x10000000000)

enum {
    VIRT_SPLIT_RAM_LOW,
    VIRT_SPLIT_RAM_HIGH,
    VIRT_SPLIT_RAM_ABOVE_HT,
    VIRT_SPLIT_RAM_REGIONS
};

struct RISCVVirtSplitMachineClass {
    RISCVVirtMachineClass parent;

    void (*parent_init)(MachineState *ms);
};

struct RISCVVirtSplitState {
    RISCVVirtState parent;

    /* Properties as set; highmem_mmio_size 0 takes the harts' default */
    uint64_t low_ram_size;
    uint64_t highmem_mmio_size;
    /* The layout of the migration source, checked on the destination */
    uint64_t mig_low_ram_size;
    uint64_t mig_highmem_mmio_size;

    MemoryRegion ram[VIRT_SPLIT_RAM_REGIONS];
};

#endif
