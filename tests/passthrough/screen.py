"""The screen of a passed-through display adapter, as L0's screendump saw it.

Linux's framebuffer console draws text with the kernel's built-in 8x16 font.
The glyphs are taken from the very kernel image L2 boots (nothing is copied
into this repository): the font is a 16-byte header {0, 0, 4096, 0} (four
little-endian words, the third one the data size) followed by 256 glyphs
of 16 bytes, one byte per row, most significant bit leftmost.  Of all such
blocks in the image, the font is the one whose glyph 0 and space are empty
and whose glyph 0xdb (the full block) is all set.

check_marker() then looks for the marker text on the screen: at every
character cell of the 8x16 grid it compares the 128 pixels of each of the
marker's glyphs, foreground and background, with the reference rendering.
A blank screen, other text, or the same text in another font fails.
"""

import struct
import zlib

FONT_W, FONT_H = 8, 16
_HEADER = struct.pack("<4I", 0, 0, 256 * FONT_H, 0)


def font_from_kernel(path):
    """{character: 16 row bytes} of the 8x16 font in the kernel image PATH."""
    with open(path, "rb") as f:
        image = f.read()
    found = []
    at = image.find(_HEADER)
    while at >= 0:
        data = image[at + len(_HEADER):at + len(_HEADER) + 256 * FONT_H]
        if (len(data) == 256 * FONT_H and data[:FONT_H] == bytes(FONT_H)
                and data[0x20 * FONT_H:0x21 * FONT_H] == bytes(FONT_H)
                and data[0xdb * FONT_H:0xdc * FONT_H] == b"\xff" * FONT_H):
            found.append(data)
        at = image.find(_HEADER, at + 1)
    if len(set(found)) != 1:
        raise ValueError(f"{path}: {len(set(found))} candidates for the 8x16 console "
                         "font, want exactly one")
    data = found[0]
    return {chr(c): data[c * FONT_H:(c + 1) * FONT_H] for c in range(256)}


def glyph_rows(font, ch):
    """The FONT_H rows of CH as tuples of 0/1 pixels."""
    return [tuple((b >> (7 - i)) & 1 for i in range(FONT_W)) for b in font[ch]]


class Image:
    """An RGB image: width, height and rows of bytes (3 per pixel)."""

    def __init__(self, width, height, pixels):
        self.width, self.height, self.pixels = width, height, pixels

    @classmethod
    def read_ppm(cls, path):
        with open(path, "rb") as f:
            data = f.read()
        # P6 <ws> width <ws> height <ws> maxval <one ws> raster
        fields, pos = [], 0
        while len(fields) < 4:
            while data[pos:pos + 1].isspace():
                pos += 1
            if data[pos:pos + 1] == b"#":
                pos = data.index(b"\n", pos) + 1
                continue
            end = pos
            while not data[end:end + 1].isspace():
                end += 1
            fields.append(data[pos:end])
            pos = end
        pos += 1
        if fields[0] != b"P6" or fields[3] != b"255":
            raise ValueError(f"{path}: not an 8-bit binary PPM ({fields[0]!r}, maxval {fields[3]!r})")
        w, h = int(fields[1]), int(fields[2])
        raster = data[pos:pos + 3 * w * h]
        if len(raster) != 3 * w * h:
            raise ValueError(f"{path}: {len(raster)} bytes of pixels, want {3 * w * h}")
        return cls(w, h, raster)

    def write_png(self, path):
        def chunk(kind, body):
            return (struct.pack(">I", len(body)) + kind + body +
                    struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
        stride = 3 * self.width
        raw = b"".join(b"\0" + self.pixels[y * stride:(y + 1) * stride]
                       for y in range(self.height))
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n"
                    + chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height,
                                                  8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))

    def foreground(self, threshold=0x40):
        """Rows of 0/1: 1 where a pixel's brightest channel reaches THRESHOLD."""
        p, w = self.pixels, self.width
        rows = []
        for y in range(self.height):
            base = 3 * w * y
            rows.append(bytes(1 if max(p[base + 3 * x], p[base + 3 * x + 1],
                                       p[base + 3 * x + 2]) >= threshold else 0
                              for x in range(w)))
        return rows


def render(font, text, width, height, col=0, row=0, fg=(0xaa, 0xaa, 0xaa)):
    """An Image of TEXT drawn at character cell (COL, ROW) on black; the
    checker's self-test draws its reference and wrong screens with it."""
    buf = bytearray(3 * width * height)
    for i, ch in enumerate(text):
        for gy, bits in enumerate(glyph_rows(font, ch)):
            y = row * FONT_H + gy
            for gx, on in enumerate(bits):
                if on:
                    x = (col + i) * FONT_W + gx
                    buf[3 * (width * y + x):3 * (width * y + x) + 3] = bytes(fg)
    return Image(width, height, bytes(buf))


def check_marker(img, font, text):
    """(found, message): whether TEXT is on the screen in the 8x16 font,
    at some character cell, every pixel of every glyph as rendered."""
    fg = img.foreground()
    lit = sum(sum(r) for r in fg)
    if lit == 0:
        return False, f"the screen is blank: none of its {img.width}x{img.height} pixels is lit"
    glyphs = [[bytes(r) for r in glyph_rows(font, ch)] for ch in text]
    cols, rows = img.width // FONT_W, img.height // FONT_H
    if len(text) > cols:
        return False, f"the marker ({len(text)} characters) is wider than the screen ({cols} columns)"
    best = (0, 0, 0)        # (matching leading characters, col, row)
    for row in range(rows):
        y0 = row * FONT_H
        for col in range(cols - len(text) + 1):
            n = 0
            for i, g in enumerate(glyphs):
                x0 = (col + i) * FONT_W
                if any(fg[y0 + gy][x0:x0 + FONT_W] != g[gy] for gy in range(FONT_H)):
                    break
                n += 1
            if n > best[0]:
                best = (n, col, row)
            if n == len(text):
                return True, (f"'{text}' is on the {img.width}x{img.height} screen at "
                              f"column {col}, row {row}: all {len(text) * FONT_W * FONT_H} "
                              f"pixels of its {len(text)} glyphs match the kernel's 8x16 font "
                              f"({lit} pixels lit on the screen)")
    n, col, row = best
    return False, (f"'{text}' is not on the {img.width}x{img.height} screen ({lit} pixels lit); "
                   f"the longest match is its first {n} characters at column {col}, row {row}")


def self_test(font, text, width=640, height=480):
    """Failures of the checker on known screens: [] if it passes the
    rendered marker and rejects a blank screen, another marker and a
    marker drawn off the character grid."""
    problems = []
    ok, msg = check_marker(render(font, text, width, height, 3, 5), font, text)
    if not ok:
        problems.append(f"the rendered marker was not found: {msg}")
    for what, img in (("a blank screen", Image(width, height, bytes(3 * width * height))),
                      ("another marker", render(font, text[:-1] + ("0" if text[-1] != "0" else "1"),
                                                width, height, 3, 5)),
                      ("the marker shifted by one pixel", Image(width, height, bytes(3) + render(
                          font, text, width, height, 3, 5).pixels[:-3]))):
        ok, msg = check_marker(img, font, text)
        if ok:
            problems.append(f"{what} passed: {msg}")
    return problems
