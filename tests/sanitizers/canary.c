/*
 * A deliberate error for each sanitizer, so that scripts/check.sh can show
 * that its report collection sees what the instrumented QEMU would report.
 *   canary asan    reads one byte past a heap block
 *   canary ubsan   overflows a signed int
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    volatile int big = INT_MAX;
    char *block;
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: %s asan|ubsan\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "ubsan")) {
        return big + argc > 0;
    }
    block = malloc(8);
    memset(block, 0, 8);
    r = block[argc + 6];
    free(block);
    return r;
}
