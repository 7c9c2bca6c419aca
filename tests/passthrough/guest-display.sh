#!/bin/sh
# L2 test for a passed-through display adapter: wait for the framebuffer
# its DRM driver makes, clear the console on it and write MARKER at the
# top left, then keep it on screen until L1 says that L0 has taken its
# screendump.  L1 says so by writing "PTGO" into the shared memory of an
# ivshmem-plain device (1af4:1110) that L1's QEMU gives this guest.
#   display.sh MARKER...
marker="$*"
i=0
while [ ! -e /sys/class/graphics/fb0/name ] && [ "$i" -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -e /sys/class/graphics/fb0/name ] || { echo "PT-ERROR no framebuffer (/sys/class/graphics/fb0)"; exit 1; }
card=$(ls -d /sys/class/drm/card[0-9] 2>/dev/null | head -1)
drv=$(readlink "$card/device/driver" 2>/dev/null)
echo "PT-FB $(cat /sys/class/graphics/fb0/name) ${drv##*/} $(cat /sys/class/graphics/fb0/virtual_size) $(cat /sys/class/graphics/fb0/bits_per_pixel)"
# hide the cursor, clear the screen, home, the marker
printf '\033[?25l\033[2J\033[H%s\n' "$marker" > /dev/tty0
dmesg | grep -m1 'frame buffer device' | sed 's/^/PT-FBCON /'
# straight to the serial console too, where L1 is waiting for it (the
# VS-OUT copy goes through the init's pipe)
echo "PT-SHOWN"
echo "PT-SHOWN" > /dev/ttyS0
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] && flag=$d
done
[ -n "${flag:-}" ] || { echo "PT-ERROR no ivshmem device (1af4:1110) to wait on"; exit 1; }
echo 1 > "$flag/enable"
addr=$(sed -n 3p "$flag/resource" | cut -d' ' -f1)
i=0
while [ "$(devmem "$addr" 32)" != 0x4F475450 ] && [ "$i" -lt 3000 ]; do
    sleep 0.5
    i=$((i + 1))
done
echo "PT-RELEASED $(devmem "$addr" 32)"
grep -iE 'virtio|bochs|drm' /proc/interrupts | sed 's/  */ /g; s/^/PT-IRQ/'
