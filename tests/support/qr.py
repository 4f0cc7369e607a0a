"""Reading back the QR codes Runda prints: the modules of segno's inline SVG path, drawn as
a PNG, decoded by an independent decoder (zxing-cpp)."""

from __future__ import annotations

import re

import zxingcpp
from PIL import Image

_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
_PATH = re.compile(r'<path[^>]* d="([^"]+)"')
_COMMAND = re.compile(r"([MmHhVv])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?")


def svg_modules(svg: str) -> list[list[bool]]:
    """The dark modules of a segno SVG: horizontal 1-unit strokes drawn along y + 0.5."""
    width, height = map(int, _VIEWBOX.search(svg).groups())
    grid = [[False] * width for _ in range(height)]
    x = y = 0.0
    for command, a, b in _COMMAND.findall(_PATH.search(svg).group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        elif command in "Hh":
            end = float(a) if command == "H" else x + float(a)
            for column in range(int(x), int(end)):
                grid[int(y)][column] = True
            x = end
        elif command in "Vv":
            y = float(a) if command == "V" else y + float(a)
    return grid


def decode_svg(svg: str, scale: int = 8, quiet: int = 4) -> str:
    grid = svg_modules(svg)
    size = len(grid) + 2 * quiet
    image = Image.new("L", (size, size), 255)
    for row, cells in enumerate(grid):
        for column, dark in enumerate(cells):
            if dark:
                image.putpixel((column + quiet, row + quiet), 0)
    image = image.resize((size * scale, size * scale), Image.NEAREST)
    [barcode] = zxingcpp.read_barcodes(image)
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode.text
