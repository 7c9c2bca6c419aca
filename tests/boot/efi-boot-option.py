#!/usr/bin/env python3
"""Write the UEFI variables that make U-Boot's 'bootefi bootmgr' start
Linux with an initrd: Boot0001 (an EFI_LOAD_OPTION) and BootOrder.

U-Boot 2025.01's bootefi takes no initrd argument.  Its boot manager
serves the initrd named in a load option through EFI_LOAD_FILE2 under
the Linux initrd vendor media device path, which the kernel's EFI stub
uses.  Paths are short-form: HD(partition)/\\file.

usage: efi-boot-option.py OUTDIR DISK_SIGNATURE PART_START PART_SECTORS CMDLINE
"""
import struct
import sys
import uuid

LINUX_INITRD_MEDIA = uuid.UUID("5568e427-68fc-4f3d-ac74-ca555231cc68")
LOAD_OPTION_ACTIVE = 1


def node(dp_type, subtype, data=b""):
    return struct.pack("<BBH", dp_type, subtype, 4 + len(data)) + data


def hard_drive(signature, start, sectors):
    # Media / Hard Drive: partition 1 of an MBR disk with a 32-bit signature
    data = struct.pack("<IQQ", 1, start, sectors)
    data += struct.pack("<I", signature) + bytes(12) + bytes([1, 1])
    return node(4, 1, data)


def file_path(path):
    return node(4, 4, (path + "\0").encode("utf-16-le"))


END = node(0x7F, 0xFF)


def main():
    outdir, sig, start, sectors, cmdline = sys.argv[1:6]
    hd = hard_drive(int(sig, 0), int(start), int(sectors))
    kernel = hd + file_path("\\vmlinuz") + END
    initrd = node(4, 3, LINUX_INITRD_MEDIA.bytes_le) + hd + \
        file_path("\\initrd.img") + END
    paths = kernel + initrd
    option = struct.pack("<IH", LOAD_OPTION_ACTIVE, len(paths))
    option += "virt-split test\0".encode("utf-16-le") + paths
    option += (cmdline + "\0").encode("utf-16-le")
    with open(f"{outdir}/boot0001.bin", "wb") as f:
        f.write(option)
    with open(f"{outdir}/bootorder.bin", "wb") as f:
        f.write(struct.pack("<H", 1))


if __name__ == "__main__":
    main()
