/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the RISC-V virt-split machine: RAM layout, device tree
 * memory nodes, NUMA, the PCIe window, properties and their limits.
 *
 * Copyright (c) 2026 The virt-split developers
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "elf.h"
#include <libfdt.h>

#define LOW_BASE        0x80000000ULL
#define HIGH_BASE       0x100000000ULL
#define MSI_WINDOW      0xfee00000ULL
#define HT_HOLE_BASE    0xfd00000000ULL
#define HT_HOLE_END     0x10000000000ULL
#define PATTERN         0x5a5aa5a5c3c33c3cULL
#define MAX_MEM_NODES   8

typedef struct MemNode {
    uint64_t base;
    uint64_t size;
    int numa_id;                /* -1 without numa-node-id */
} MemNode;

typedef struct Layout {
    int n;
    MemNode node[MAX_MEM_NODES];
    uint64_t pci_mmio64_base;
    uint64_t pci_mmio64_size;
} Layout;

static uint64_t fdt_read_u64(const fdt32_t *cells)
{
    return ((uint64_t)fdt32_to_cpu(cells[0]) << 32) | fdt32_to_cpu(cells[1]);
}

static void *dump_dtb(QTestState *qts)
{
    g_autofree char *path = NULL;
    g_autoptr(GError) err = NULL;
    gchar *dtb;
    gsize len;
    int fd;

    fd = g_file_open_tmp("virt-split-test-XXXXXX.dtb", &path, &err);
    g_assert_no_error(err);
    close(fd);
    qtest_qmp_assert_success(qts, "{ 'execute': 'dumpdtb',"
                             "  'arguments': { 'filename': %s } }", path);
    g_assert_true(g_file_get_contents(path, &dtb, &len, &err));
    g_assert_no_error(err);
    unlink(path);
    g_assert_cmpint(fdt_check_header(dtb), ==, 0);
    return dtb;
}

/* The /memory nodes in device tree order */
static void parse_memory_nodes(const void *fdt, Layout *l)
{
    int off, len;

    for (off = fdt_next_node(fdt, -1, NULL); off >= 0;
         off = fdt_next_node(fdt, off, NULL)) {
        const char *type = fdt_getprop(fdt, off, "device_type", NULL);
        const fdt32_t *reg, *id;

        if (!type || strcmp(type, "memory")) {
            continue;
        }
        g_assert_cmpint(l->n, <, MAX_MEM_NODES);
        reg = fdt_getprop(fdt, off, "reg", &len);
        /* EDK2 ignores memory nodes that are not exactly one pair */
        g_assert_nonnull(reg);
        g_assert_cmpint(len, ==, 4 * sizeof(fdt32_t));
        l->node[l->n].base = fdt_read_u64(reg);
        l->node[l->n].size = fdt_read_u64(reg + 2);
        id = fdt_getprop(fdt, off, "numa-node-id", &len);
        l->node[l->n].numa_id = id ? fdt32_to_cpu(*id) : -1;
        l->n++;
    }
}

/* The 64-bit memory entry of the PCIe host's "ranges" */
static void parse_pci_window(const void *fdt, Layout *l)
{
    int off = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
    const fdt32_t *r;
    int len, i;

    g_assert_cmpint(off, >=, 0);
    r = fdt_getprop(fdt, off, "ranges", &len);
    g_assert_nonnull(r);
    /* each entry: 3 PCI address cells, 2 CPU address cells, 2 size cells */
    for (i = 0; i + 7 <= len / 4; i += 7) {
        if ((fdt32_to_cpu(r[i]) >> 24 & 3) == 3) {
            l->pci_mmio64_base = fdt_read_u64(r + i + 3);
            l->pci_mmio64_size = fdt_read_u64(r + i + 5);
        }
    }
    g_assert_cmpuint(l->pci_mmio64_size, !=, 0);
}

static QTestState *start_layout(Layout *l, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static QTestState *start_layout(Layout *l, const char *fmt, ...)
{
    g_autofree char *args = NULL;
    g_autofree void *fdt = NULL;
    QTestState *qts;
    va_list ap;

    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qts = qtest_initf("-M virt-split -bios none %s", args);
    fdt = dump_dtb(qts);
    memset(l, 0, sizeof(*l));
    parse_memory_nodes(fdt, l);
    parse_pci_window(fdt, l);
    return qts;
}

static void assert_node(const Layout *l, int i, uint64_t base, uint64_t size,
                        int numa_id)
{
    g_assert_cmpint(i, <, l->n);
    g_assert_cmphex(l->node[i].base, ==, base);
    g_assert_cmphex(l->node[i].size, ==, size);
    g_assert_cmpint(l->node[i].numa_id, ==, numa_id);
}

static void assert_ram_at(QTestState *qts, uint64_t addr)
{
    qtest_writeq(qts, addr, PATTERN ^ addr);
    g_assert_cmphex(qtest_readq(qts, addr), ==, PATTERN ^ addr);
}

/* Writes to unassigned addresses are dropped and reads return zero */
static void assert_nothing_at(QTestState *qts, uint64_t addr)
{
    qtest_writeq(qts, addr, PATTERN);
    g_assert_cmphex(qtest_readq(qts, addr), ==, 0);
}

static void assert_ram_range(QTestState *qts, uint64_t base, uint64_t size)
{
    assert_ram_at(qts, base);
    assert_ram_at(qts, base + size - 8);
}

/* No flat-view region of the "memory" address space overlaps the hole */
static void assert_hole_unmapped(QTestState *qts, uint64_t start,
                                 uint64_t end)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree -f");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);
    bool in_memory_view = false;
    int i;

    for (i = 0; lines[i]; i++) {
        uint64_t lo, hi;

        if (g_str_has_prefix(lines[i], "FlatView")) {
            in_memory_view = false;
        } else if (g_str_has_prefix(lines[i], " AS \"memory\"")) {
            in_memory_view = true;
        } else if (in_memory_view &&
                   sscanf(lines[i], " %" SCNx64 "-%" SCNx64, &lo, &hi) == 2) {
            g_assert_false(lo < end && hi >= start);
        }
    }
}

static void test_split_4g(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-m 4G");

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 0, LOW_BASE, 1 * GiB, -1);
    assert_node(&l, 1, HIGH_BASE, 3 * GiB, -1);
    assert_ram_range(qts, LOW_BASE, 1 * GiB);
    assert_ram_range(qts, HIGH_BASE, 3 * GiB);
    assert_nothing_at(qts, 0xc0000000);
    assert_nothing_at(qts, MSI_WINDOW);
    assert_nothing_at(qts, 0xfffffff8);
    assert_nothing_at(qts, HIGH_BASE + 3 * GiB);
    assert_hole_unmapped(qts, 0xc0000000, HIGH_BASE);
    /* the 64-bit PCIe window stays where virt puts it for small guests */
    g_assert_cmphex(l.pci_mmio64_base, ==, 16 * GiB);
    g_assert_cmphex(l.pci_mmio64_size, ==, 16 * GiB);
    qtest_quit(qts);
}

static void test_fits_in_low_ram(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-m 512M");

    g_assert_cmpint(l.n, ==, 1);
    assert_node(&l, 0, LOW_BASE, 512 * MiB, -1);
    assert_ram_range(qts, LOW_BASE, 512 * MiB);
    assert_nothing_at(qts, LOW_BASE + 512 * MiB);
    assert_nothing_at(qts, HIGH_BASE);
    qtest_quit(qts);
}

static void test_low_ram_size_max(void)
{
    uint64_t low = 2030 * MiB;
    Layout l;
    QTestState *qts = start_layout(&l, "-M low-ram-size=2030M -m 3G");

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 0, LOW_BASE, low, -1);
    assert_node(&l, 1, HIGH_BASE, 3 * GiB - low, -1);
    g_assert_cmphex(LOW_BASE + low, ==, MSI_WINDOW);
    assert_ram_range(qts, LOW_BASE, low);
    assert_ram_range(qts, HIGH_BASE, 3 * GiB - low);
    assert_nothing_at(qts, MSI_WINDOW);
    assert_hole_unmapped(qts, MSI_WINDOW, HIGH_BASE);
    qtest_quit(qts);
}

static void test_low_ram_size_small(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-M low-ram-size=256M -m 2G");

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 0, LOW_BASE, 256 * MiB, -1);
    assert_node(&l, 1, HIGH_BASE, 1792 * MiB, -1);
    assert_ram_range(qts, LOW_BASE, 256 * MiB);
    assert_nothing_at(qts, LOW_BASE + 256 * MiB);
    assert_ram_range(qts, HIGH_BASE, 1792 * MiB);
    qtest_quit(qts);
}

static void test_numa_straddle(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-m 4G -smp 2 "
                                   "-numa node,cpus=0,mem=3G "
                                   "-numa node,cpus=1,mem=1G");

    g_assert_cmpint(l.n, ==, 3);
    assert_node(&l, 0, LOW_BASE, 1 * GiB, 0);
    assert_node(&l, 1, HIGH_BASE, 2 * GiB, 0);
    assert_node(&l, 2, HIGH_BASE + 2 * GiB, 1 * GiB, 1);
    assert_ram_range(qts, HIGH_BASE + 2 * GiB, 1 * GiB);
    qtest_quit(qts);
}

static void test_numa_memdev(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-m 4G -smp 2 "
        "-object memory-backend-ram,id=m0,size=512M "
        "-object memory-backend-ram,id=m1,size=3584M "
        "-numa node,cpus=0,memdev=m0 -numa node,cpus=1,memdev=m1");

    g_assert_cmpint(l.n, ==, 3);
    assert_node(&l, 0, LOW_BASE, 512 * MiB, 0);
    assert_node(&l, 1, LOW_BASE + 512 * MiB, 512 * MiB, 1);
    assert_node(&l, 2, HIGH_BASE, 3 * GiB, 1);
    assert_ram_range(qts, LOW_BASE, 1 * GiB);
    assert_ram_range(qts, HIGH_BASE, 3 * GiB);
    qtest_quit(qts);
}

static void test_numa_empty_node(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-m 2G -smp 3 "
                                   "-numa node,cpus=0,mem=1G "
                                   "-numa node,cpus=1,mem=0 "
                                   "-numa node,cpus=2,mem=1G");

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 0, LOW_BASE, 1 * GiB, 0);
    assert_node(&l, 1, HIGH_BASE, 1 * GiB, 2);
    qtest_quit(qts);
}

static void test_pcie_window(const void *data)
{
    uint64_t ram = (uintptr_t)data;
    uint64_t top = HIGH_BASE + ram - 1 * GiB;
    Layout l;
    /* reserve=off: the host need not have that much memory to spare */
    QTestState *qts = start_layout(&l, "-m %" PRIu64 "G -M memory-backend=ram "
        "-object memory-backend-ram,id=ram,size=%" PRIu64 "G,reserve=off",
        ram / GiB, ram / GiB);

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 1, HIGH_BASE, ram - 1 * GiB, -1);
    assert_ram_at(qts, top - 8);
    g_assert_cmphex(l.pci_mmio64_size, ==, 16 * GiB);
    g_assert_cmphex(l.pci_mmio64_base, >=, top);
    g_assert_cmphex(l.pci_mmio64_base, ==, ROUND_UP(top, 16 * GiB));
    qtest_quit(qts);
}

static uint64_t qom_get_size(QTestState *qts, const char *property)
{
    g_autoptr(QDict) rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', "
                                     "'arguments': { 'path': '/machine', "
                                     "'property': %s } }", property);

    g_assert_true(qdict_haskey(rsp, "return"));
    return qdict_get_uint(rsp, "return");
}

static void test_highmem_mmio_size(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-m 4G -M highmem-mmio-size=64G");

    g_assert_cmphex(l.pci_mmio64_base, ==, 64 * GiB);
    g_assert_cmphex(l.pci_mmio64_size, ==, 64 * GiB);
    g_assert_cmphex(qom_get_size(qts, "highmem-mmio-size"), ==, 64 * GiB);
    qtest_quit(qts);

    /* smaller than virt's 16 GiB: it fits, so it is taken */
    qts = start_layout(&l, "-m 4G -M highmem-mmio-size=8G");
    g_assert_cmphex(l.pci_mmio64_base, ==, 8 * GiB);
    g_assert_cmphex(l.pci_mmio64_size, ==, 8 * GiB);
    qtest_quit(qts);

    /* the default, written out */
    qts = start_layout(&l, "-m 4G -M highmem-mmio-size=16G");
    g_assert_cmphex(l.pci_mmio64_base, ==, 16 * GiB);
    g_assert_cmphex(l.pci_mmio64_size, ==, 16 * GiB);
    qtest_quit(qts);

    /* the largest window: the upper half of the 56-bit address space */
    qts = start_layout(&l, "-m 4G -M highmem-mmio-size=32P");
    g_assert_cmphex(l.pci_mmio64_base, ==, 1ULL << 55);
    g_assert_cmphex(l.pci_mmio64_size, ==, 1ULL << 55);
    qtest_quit(qts);
}

/*
 * RAM that would reach the HyperTransport range AMD-Vi reserves goes on
 * at 1 TiB, and the PCIe window never lands in that range either.
 */
static void test_ht_hole(const void *data)
{
    uint64_t ram = (uintptr_t)data;
    uint64_t high = MIN(ram - 1 * GiB, HT_HOLE_BASE - HIGH_BASE);
    uint64_t above = ram - 1 * GiB - high;
    uint64_t top = above ? HT_HOLE_END + above : HIGH_BASE + high;
    uint64_t window = ROUND_UP(top, 16 * GiB);
    Layout l;
    QTestState *qts = start_layout(&l, "-m %" PRIu64 "G -M memory-backend=ram "
        "-object memory-backend-ram,id=ram,size=%" PRIu64 "G,reserve=off",
        ram / GiB, ram / GiB);

    if (window < HT_HOLE_END && window + 16 * GiB > HT_HOLE_BASE) {
        window = HT_HOLE_END;
    }
    g_assert_cmpint(l.n, ==, above ? 3 : 2);
    assert_node(&l, 0, LOW_BASE, 1 * GiB, -1);
    assert_node(&l, 1, HIGH_BASE, high, -1);
    assert_ram_range(qts, LOW_BASE, 1 * GiB);
    assert_ram_range(qts, HIGH_BASE, high);
    if (above) {
        assert_node(&l, 2, HT_HOLE_END, above, -1);
        assert_ram_range(qts, HT_HOLE_END, above);
    }
    assert_nothing_at(qts, HT_HOLE_BASE);
    assert_nothing_at(qts, HT_HOLE_END - 8);
    assert_hole_unmapped(qts, 0xc0000000, HIGH_BASE);
    assert_hole_unmapped(qts, HT_HOLE_BASE, HT_HOLE_END);
    g_assert_cmphex(l.pci_mmio64_base, ==, window);
    g_assert_cmphex(l.pci_mmio64_base, >=, top);
    g_assert_false(l.pci_mmio64_base < HT_HOLE_END &&
                   l.pci_mmio64_base + l.pci_mmio64_size > HT_HOLE_BASE);
    qtest_quit(qts);
}

/* The status of the last migration, as query-migrate reports it */
static char *migration_status(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
    QDict *ret = qdict_get_qdict(rsp, "return");
    char *status = g_strdup(ret && qdict_haskey(ret, "status") ?
                            qdict_get_str(ret, "status") : "none");

    qobject_unref(rsp);
    return status;
}

static void wait_migration(QTestState *qts)
{
    for (;;) {
        g_autofree char *status = migration_status(qts);

        if (!strcmp(status, "completed")) {
            return;
        }
        g_assert_cmpstr(status, !=, "failed");
        g_usleep(20 * 1000);
    }
}

/* Wait for an incoming migration to fail; returns its error-desc */
static char *wait_migration_failure(QTestState *qts)
{
    for (;;) {
        g_autofree char *status = migration_status(qts);
        QDict *rsp, *ret;
        char *desc;

        g_assert_cmpstr(status, !=, "completed");
        if (strcmp(status, "failed")) {
            g_usleep(20 * 1000);
            continue;
        }
        rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
        ret = qdict_get_qdict(rsp, "return");
        desc = g_strdup(qdict_haskey(ret, "error-desc") ?
                        qdict_get_str(ret, "error-desc") : "");
        qobject_unref(rsp);
        return desc;
    }
}

/* A file for a migration stream; returns its name, sets *@uri */
static char *migration_file(char **uri)
{
    g_autoptr(GError) err = NULL;
    char *path = NULL;
    int fd;

    fd = g_file_open_tmp("virt-split-migrate-XXXXXX", &path, &err);
    g_assert_no_error(err);
    close(fd);
    *uri = g_strdup_printf("file:%s", path);
    return path;
}

static void migrate_stopped(QTestState *src, const char *uri)
{
    qtest_qmp_assert_success(src, "{ 'execute': 'stop' }");
    qtest_qmp_assert_success(src, "{ 'execute': 'migrate',"
                             "  'arguments': { 'uri': %s } }", uri);
    wait_migration(src);
}

/*
 * Write a distinct pattern at both ends of every RAM range, migrate the
 * stopped machine to a file and start a second QEMU from it: the
 * patterns are back and the holes still read as nothing.
 */
static void test_migrate(const void *data)
{
    const char *args = data;
    g_autofree char *uri = NULL;
    g_autofree char *path = migration_file(&uri);
    QTestState *src, *dst;
    uint64_t low_end;
    Layout l;
    int i;

    src = start_layout(&l, "%s", args);
    g_assert_cmpint(l.n, >=, 2);
    g_assert_cmphex(l.node[0].base, ==, LOW_BASE);
    low_end = LOW_BASE + l.node[0].size;
    for (i = 0; i < l.n; i++) {
        assert_ram_range(src, l.node[i].base, l.node[i].size);
    }
    migrate_stopped(src, uri);
    qtest_quit(src);

    dst = qtest_initf("-M virt-split -bios none %s -incoming %s", args, uri);
    wait_migration(dst);
    for (i = 0; i < l.n; i++) {
        uint64_t first = l.node[i].base;
        uint64_t last = l.node[i].base + l.node[i].size - 8;

        g_assert_cmphex(qtest_readq(dst, first), ==, PATTERN ^ first);
        g_assert_cmphex(qtest_readq(dst, last), ==, PATTERN ^ last);
    }
    assert_nothing_at(dst, low_end);
    assert_nothing_at(dst, MSI_WINDOW);
    assert_nothing_at(dst, 0xfffffff8);
    assert_hole_unmapped(dst, low_end, HIGH_BASE);
    qtest_quit(dst);
    unlink(path);
}

typedef struct MigrateMismatch {
    const char *src;
    const char *dst;
    const char *hint;           /* what the destination's error must say */
} MigrateMismatch;

/*
 * RAM migrates as one block of the same size whatever the layout, so a
 * destination with another low-ram-size or PCIe window must refuse the
 * stream, naming the option to fix.
 */
static void test_migrate_mismatch(const void *data)
{
    const MigrateMismatch *m = data;
    g_autofree char *uri = NULL;
    g_autofree char *path = migration_file(&uri);
    g_autofree char *desc = NULL;
    QTestState *src, *dst;

    src = qtest_initf("-M virt-split -bios none -m 768M %s", m->src);
    migrate_stopped(src, uri);
    qtest_quit(src);

    dst = qtest_initf("-M virt-split -bios none -m 768M %s -incoming defer",
                      m->dst);
    qtest_qmp_assert_success(dst, "{ 'execute': 'migrate-incoming',"
                             "  'arguments': { 'uri': %s,"
                             "                 'exit-on-error': false } }",
                             uri);
    desc = wait_migration_failure(dst);
    g_test_message("destination: %s", desc);
    g_assert_nonnull(strstr(desc, m->hint));
    qtest_quit(dst);
    unlink(path);
}

static const MigrateMismatch mismatch_low_ram = {
    "-M low-ram-size=256M", "-M low-ram-size=512M", "low-ram-size=256M",
};

static const MigrateMismatch mismatch_window = {
    "-M highmem-mmio-size=32G", "", "highmem-mmio-size=32G",
};

/* virt's own properties keep working on the subtype */
static void test_virt_options(void)
{
    QTestState *qts = qtest_init("-M virt-split,aia=aplic-imsic,aclint=on,"
                                 "iommu-sys=on,acpi=off -bios none -m 2G "
                                 "-smp 2");
    g_autofree void *fdt = dump_dtb(qts);
    static const char *const compatible[] = {
        "riscv,imsics", "riscv,aplic", "riscv,aclint-mtimer", "riscv,iommu",
    };
    Layout l = { 0 };
    int i;

    for (i = 0; i < ARRAY_SIZE(compatible); i++) {
        g_assert_cmpint(fdt_node_offset_by_compatible(fdt, -1, compatible[i]),
                        >=, 0);
    }
    parse_memory_nodes(fdt, &l);
    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 1, HIGH_BASE, 1 * GiB, -1);
    qtest_quit(qts);
}

static void test_rv32(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-cpu rv32 -m 2G");

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 0, LOW_BASE, 1 * GiB, -1);
    assert_node(&l, 1, HIGH_BASE, 1 * GiB, -1);
    /* RV32 harts reach 34 bits: a 4 GiB window fits below 16 GiB */
    g_assert_cmphex(l.pci_mmio64_base, ==, 8 * GiB);
    g_assert_cmphex(l.pci_mmio64_size, ==, 4 * GiB);
    g_assert_cmphex(qom_get_size(qts, "highmem-mmio-size"), ==, 4 * GiB);
    assert_ram_range(qts, HIGH_BASE, 1 * GiB);
    qtest_quit(qts);
}

/* Every window that fits below 16 GiB, the default written out too */
static void test_rv32_windows(void)
{
    static const struct {
        uint64_t size, base;
    } windows[] = {
        { 1 * GiB, 5 * GiB }, { 4 * GiB, 8 * GiB }, { 8 * GiB, 8 * GiB },
    };
    Layout l;
    int i;

    for (i = 0; i < ARRAY_SIZE(windows); i++) {
        QTestState *qts = start_layout(&l, "-cpu rv32 -m 2G "
                                       "-M highmem-mmio-size=%" PRIu64 "M",
                                       windows[i].size / MiB);

        g_assert_cmphex(l.pci_mmio64_base, ==, windows[i].base);
        g_assert_cmphex(l.pci_mmio64_size, ==, windows[i].size);
        qtest_quit(qts);
    }
}

/* Without 16 GiB of window above it, RV32 takes more RAM than virt does */
static void test_rv32_small_window(void)
{
    Layout l;
    QTestState *qts = start_layout(&l, "-cpu rv32 -m 11G "
                                   "-M highmem-mmio-size=2G");

    g_assert_cmpint(l.n, ==, 2);
    assert_node(&l, 1, HIGH_BASE, 10 * GiB, -1);
    g_assert_cmphex(l.pci_mmio64_base, ==, 14 * GiB);
    qtest_quit(qts);
}

/* The getters report the low RAM in use, once RAM is laid out */
static void test_low_ram_size_in_use(void)
{
    QTestState *qts = qtest_init("-M virt-split,low-ram-size=512M -bios none "
                                 "-m 2G");

    g_assert_cmphex(qom_get_size(qts, "low-ram-size"), ==, 512 * MiB);
    qtest_quit(qts);

    qts = qtest_init("-M virt-split -bios none -m 256M");
    g_assert_cmphex(qom_get_size(qts, "low-ram-size"), ==, 256 * MiB);
    qtest_quit(qts);
}

/*
 * Start QEMU with @args, expect exit status 1 and a one-line error that
 * contains @expect.  dumpdtb makes a wrongly accepted setup exit with 0
 * instead of running.
 */
static void assert_rejected(const char *args, const char *expect)
{
    g_autofree char *cmd = g_strdup_printf("%s -M virt-split -bios none "
        "-display none -nodefaults -machine dumpdtb=/dev/null %s",
        qtest_qemu_binary(NULL), args);
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) argv = NULL;
    int status;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
    g_assert_no_error(error);
    if (!strstr(err, expect) || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 1) {
        g_test_message("'%s' printed: %s", args, err);
    }
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, expect));
    g_assert_cmpint(strchr(err, '\n') - err + 1, ==, strlen(err));
}

static void test_reject_low_ram_size(void)
{
    const char *multiple = "low-ram-size must be a non-zero multiple of 2 MiB";
    const char *limit = "is too large: low RAM at 0x80000000 must end at or "
                        "below the x86 MSI window at 0xfee00000 (at most "
                        "low-ram-size=2030M)";

    assert_rejected("-M low-ram-size=2032M", limit);
    assert_rejected("-M low-ram-size=2032M", "low-ram-size 1.98 GiB");
    assert_rejected("-M low-ram-size=3G", "low-ram-size 3 GiB is too large");
    assert_rejected("-M low-ram-size=3M", multiple);
    assert_rejected("-M low-ram-size=0", multiple);
    assert_rejected("-M low-ram-size=lots", "low-ram-size");
}

static void test_reject_highmem_mmio_size(void)
{
    const char *fit = "must end at or below the 56-bit physical address "
                      "limit 0x100000000000000; reduce -m or "
                      "highmem-mmio-size";

    assert_rejected("-M highmem-mmio-size=24G",
                    "highmem-mmio-size must be a power of 2");
    assert_rejected("-M highmem-mmio-size=0",
                    "highmem-mmio-size must be a power of 2");
    assert_rejected("-m 4G -M highmem-mmio-size=64P", fit);
    assert_rejected("-m 4G -M highmem-mmio-size=64P",
                    "highmem-mmio-size 64 PiB does not fit");
    assert_rejected("-m 4G -M highmem-mmio-size=8E",
                    "highmem-mmio-size 8 EiB does not fit");
}

static void test_reject_rv32_too_much_ram(void)
{
    assert_rejected("-cpu rv32 -m 10G",
                    "highmem-mmio-size 4 GiB does not fit: the 64-bit PCIe "
                    "window goes above RAM, which ends at 0x340000000");
    assert_rejected("-cpu rv32 -m 20G",
                    "-m 20 GiB puts RAM beyond the 34-bit physical address "
                    "limit 0x400000000 of the harts");
    assert_rejected("-cpu rv32 -m 2G -M highmem-mmio-size=16G",
                    "highmem-mmio-size 16 GiB does not fit");
}

/* A temporary file of @size bytes, for boot images that must not fit */
static char *sized_tmp_file(const char *template, off_t size)
{
    g_autoptr(GError) err = NULL;
    char *path;
    int fd;

    fd = g_file_open_tmp(template, &path, &err);
    g_assert_no_error(err);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static void test_reject_big_initrd(void)
{
    g_autofree char *kernel = sized_tmp_file("virt-split-kernel-XXXXXX",
                                             64 * KiB);
    g_autofree char *initrd = sized_tmp_file("virt-split-initrd-XXXXXX",
                                             40 * MiB);
    g_autofree char *args = NULL, *expect = NULL;

    /* the initrd goes half-way into 64 MiB of low RAM: 32 MiB are left */
    args = g_strdup_printf("-M low-ram-size=64M -m 1G -kernel %s -initrd %s",
                           kernel, initrd);
    expect = g_strdup_printf("initrd '%s' (41943040 bytes at 0x82000000) "
                             "does not fit in low RAM 0x80000000-0x84000000 "
                             "(64 MiB)", initrd);
    assert_rejected(args, expect);
    unlink(kernel);
    unlink(initrd);
}

static void test_reject_big_kernel(void)
{
    g_autofree char *kernel = sized_tmp_file("virt-split-kernel-XXXXXX",
                                             20 * MiB);
    g_autofree char *args = NULL, *expect = NULL;

    args = g_strdup_printf("-M low-ram-size=16M -m 1G -kernel %s", kernel);
    expect = g_strdup_printf("kernel '%s' (20971520 bytes at 0x80000000) "
                             "does not fit in low RAM 0x80000000-0x81000000 "
                             "(16 MiB)", kernel);
    assert_rejected(args, expect);
    unlink(kernel);
}

static void test_reject_big_fdt(void)
{
    g_autofree char *kernel = sized_tmp_file("virt-split-kernel-XXXXXX",
                                             64 * KiB);
    g_autofree char *initrd = sized_tmp_file("virt-split-initrd-XXXXXX",
                                             512 * KiB);
    g_autofree char *args = NULL;

    /*
     * Kernel and initrd fill the first half of 4 MiB; the DTB would go
     * 2 MiB aligned below the end, over the initrd.
     */
    args = g_strdup_printf("-M low-ram-size=4M -m 1G -kernel %s -initrd %s",
                           kernel, initrd);
    assert_rejected(args, "must fit between 0x80280000 and 0x80400000");
    unlink(kernel);
    unlink(initrd);
}

/*
 * A riscv64 ELF executable with one PT_LOAD segment of @len bytes of
 * @data at @paddr: boot images that their own header places.
 */
static char *elf_file(uint64_t paddr, const uint8_t *data, size_t len)
{
    struct {
        Elf64_Ehdr ehdr;
        Elf64_Phdr phdr;
    } QEMU_PACKED hdr = {
        .ehdr = {
            .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
                         ELFDATA2LSB, EV_CURRENT },
            .e_type = cpu_to_le16(ET_EXEC),
            .e_machine = cpu_to_le16(EM_RISCV),
            .e_version = cpu_to_le32(EV_CURRENT),
            .e_entry = cpu_to_le64(paddr),
            .e_phoff = cpu_to_le64(sizeof(Elf64_Ehdr)),
            .e_ehsize = cpu_to_le16(sizeof(Elf64_Ehdr)),
            .e_phentsize = cpu_to_le16(sizeof(Elf64_Phdr)),
            .e_phnum = cpu_to_le16(1),
        },
        .phdr = {
            .p_type = cpu_to_le32(PT_LOAD),
            .p_flags = cpu_to_le32(PF_R | PF_X),
            .p_offset = cpu_to_le64(sizeof(hdr)),
            .p_vaddr = cpu_to_le64(paddr),
            .p_paddr = cpu_to_le64(paddr),
            .p_filesz = cpu_to_le64(len),
            .p_memsz = cpu_to_le64(len),
            .p_align = cpu_to_le64(8),
        },
    };
    g_autoptr(GError) err = NULL;
    char *path;
    int fd;

    fd = g_file_open_tmp("virt-split-elf-XXXXXX", &path, &err);
    g_assert_no_error(err);
    g_assert_cmpint(write(fd, &hdr, sizeof(hdr)), ==, sizeof(hdr));
    g_assert_cmpint(write(fd, data, len), ==, len);
    close(fd);
    return path;
}

/* An ELF kernel linked into high RAM loads there, as on any board */
static void test_elf_in_high_ram(void)
{
    static const uint8_t data[] = "virt-split: an ELF kernel in high RAM";
    uint64_t paddr = HIGH_BASE + 1 * GiB;
    g_autofree char *elf = elf_file(paddr, data, sizeof(data));
    uint8_t back[sizeof(data)];
    QTestState *qts;

    qts = qtest_initf("-M virt-split -bios none -m 4G -kernel %s", elf);
    qtest_memread(qts, paddr, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));
    qtest_quit(qts);
    unlink(elf);
}

/*
 * The boot checks for discontiguous RAM leave a board's own placement
 * alone: microchip-icicle-kit loads a kernel ELF linked into its DRAM_HI.
 */
static void test_icicle_kit_elf_in_dram_hi(void)
{
    static const uint8_t data[] = "an ELF kernel in icicle-kit's DRAM_HI";
    uint64_t paddr = 0x1000000000ULL + 16 * MiB;
    g_autofree char *elf = NULL;
    uint8_t back[sizeof(data)];
    QTestState *qts;

    if (!qtest_has_machine("microchip-icicle-kit")) {
        g_test_skip("microchip-icicle-kit is not built in");
        return;
    }
    elf = elf_file(paddr, data, sizeof(data));
    qts = qtest_initf("-M microchip-icicle-kit -bios none -m 2G -kernel %s",
                      elf);
    qtest_memread(qts, paddr, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));
    qtest_quit(qts);
    unlink(elf);
}

/* An ELF kernel linked into the hole would be lost: QEMU stops instead */
static void test_reject_elf_in_hole(void)
{
    static const uint8_t data[4 * KiB];
    g_autofree char *elf = elf_file(0xd0000000, data, sizeof(data));
    g_autofree char *args = g_strdup_printf("-m 4G -kernel %s", elf);
    g_autofree char *expect = g_strdup_printf("kernel '%s' (4096 bytes at "
                                              "0xd0000000) does not lie in "
                                              "RAM", elf);

    assert_rejected(args, expect);
    unlink(elf);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/virt-split/ram/split-4g", test_split_4g);
    qtest_add_func("/virt-split/ram/fits-in-low-ram", test_fits_in_low_ram);
    qtest_add_func("/virt-split/low-ram-size/max", test_low_ram_size_max);
    qtest_add_func("/virt-split/low-ram-size/small", test_low_ram_size_small);
    qtest_add_func("/virt-split/numa/straddle", test_numa_straddle);
    qtest_add_func("/virt-split/numa/memdev", test_numa_memdev);
    qtest_add_func("/virt-split/numa/empty-node", test_numa_empty_node);
    qtest_add_data_func("/virt-split/pcie/16g", (void *)(uintptr_t)(16 * GiB),
                        test_pcie_window);
    qtest_add_data_func("/virt-split/pcie/64g", (void *)(uintptr_t)(64 * GiB),
                        test_pcie_window);
    qtest_add_func("/virt-split/pcie/highmem-mmio-size",
                   test_highmem_mmio_size);
    qtest_add_data_func("/virt-split/ht-hole/1000g",
                        (void *)(uintptr_t)(1000 * GiB), test_ht_hole);
    qtest_add_data_func("/virt-split/ht-hole/1012g",
                        (void *)(uintptr_t)(1012 * GiB), test_ht_hole);
    qtest_add_data_func("/virt-split/ht-hole/1100g",
                        (void *)(uintptr_t)(1100 * GiB), test_ht_hole);
    qtest_add_data_func("/virt-split/ht-hole/3t",
                        (void *)(uintptr_t)(3072 * GiB), test_ht_hole);
    qtest_add_data_func("/virt-split/migrate/split",
                        "-M low-ram-size=256M -m 768M", test_migrate);
    qtest_add_data_func("/virt-split/migrate/numa-straddle",
                        "-M low-ram-size=256M -m 1G -smp 2 "
                        "-object memory-backend-ram,id=m0,size=512M "
                        "-object memory-backend-ram,id=m1,size=512M "
                        "-numa node,cpus=0,memdev=m0 "
                        "-numa node,cpus=1,memdev=m1", test_migrate);
    qtest_add_data_func("/virt-split/migrate/reject-low-ram-size",
                        &mismatch_low_ram, test_migrate_mismatch);
    qtest_add_data_func("/virt-split/migrate/reject-highmem-mmio-size",
                        &mismatch_window, test_migrate_mismatch);
    qtest_add_func("/virt-split/virt-options", test_virt_options);
    qtest_add_func("/virt-split/rv32/layout", test_rv32);
    qtest_add_func("/virt-split/rv32/windows", test_rv32_windows);
    qtest_add_func("/virt-split/rv32/small-window", test_rv32_small_window);
    qtest_add_func("/virt-split/low-ram-size/in-use",
                   test_low_ram_size_in_use);
    qtest_add_func("/virt-split/boot/elf-in-high-ram", test_elf_in_high_ram);
    qtest_add_func("/virt-split/reject/elf-in-hole", test_reject_elf_in_hole);
    qtest_add_func("/virt-split/boot/icicle-kit-elf-in-dram-hi",
                   test_icicle_kit_elf_in_dram_hi);
    qtest_add_func("/virt-split/reject/low-ram-size",
                   test_reject_low_ram_size);
    qtest_add_func("/virt-split/reject/highmem-mmio-size",
                   test_reject_highmem_mmio_size);
    qtest_add_func("/virt-split/reject/rv32-ram",
                   test_reject_rv32_too_much_ram);
    qtest_add_func("/virt-split/reject/initrd-too-big",
                   test_reject_big_initrd);
    qtest_add_func("/virt-split/reject/kernel-too-big",
                   test_reject_big_kernel);
    qtest_add_func("/virt-split/reject/fdt-does-not-fit",
                   test_reject_big_fdt);

    return g_test_run();
}
