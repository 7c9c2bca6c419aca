#!/bin/bash
# Download Debian's qemu source package at the pinned version and verify it.
# Output: $CACHE/src/ holding the orig and debian tarballs.
exec "$(dirname "$0")/fetch-source.sh" qemu
