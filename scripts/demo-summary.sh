#!/bin/bash
# Print what the demo guest reported: its System RAM ranges and MemTotal.
STEP=run
. "$(dirname "$0")/lib.sh"

log=$(cat)
ram=$(grep '^VS-IOMEM ' <<<"$log" | sed 's/^VS-IOMEM //')
total=$(awk '/^VS-MEMTOTAL / { print $2 }' <<<"$log")
[ -n "$ram" ] && [ -n "$total" ] || die "the guest printed no memory summary"
echo "Guest /proc/iomem System RAM:"
sed 's/^/  /' <<<"$ram"
echo "Guest MemTotal: $total kB ($((total / 1024)) MiB)"
