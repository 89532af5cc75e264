"""Thumbnails packed into a few sprite sheets (framework-free).

Object ``i`` is tile ``i`` of the sequence: sheet ``i // G²``, column ``i % G`` and
row ``(i // G) % G`` of a sheet of G × G tiles of ``tile`` pixels. A sheet is one
JPEG image, embedded in the explorer page as a ``data:`` URL so that the page is
one file and its scripts may read the tiles' pixels.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

__all__ = ["GRID", "QUALITY", "SpriteSheets", "thumbnails"]

GRID = 64
QUALITY = 90


def thumbnails(images, tile: int) -> np.ndarray:
    """Images (n, S, S, B) in [0, 1] as uint8 tiles (n, tile, tile, B), antialiased."""
    images = np.asarray(images, np.float32)
    out = np.empty((len(images), tile, tile, images.shape[3]), np.uint8)
    for i, image in enumerate(images):
        pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        picture = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
        if picture.size != (tile, tile):
            picture = picture.resize((tile, tile), Image.Resampling.LANCZOS)
        out[i] = np.asarray(picture).reshape(tile, tile, -1)
    return out


class SpriteSheets:
    """Sheets filled tile by tile, in object order.

    Args:
        count: Number of tiles.
        tile: Side of a tile in pixels.
        bands: 1 (grey) or 3 (colour).
        grid: Tiles per side of a sheet.
    """

    def __init__(self, count: int, tile: int, *, bands: int, grid: int = GRID):
        self.count, self.tile, self.bands, self.grid = count, tile, bands, grid
        per = grid * grid
        self.sheets = [
            np.zeros((grid * tile, grid * tile, bands), np.uint8)
            for _ in range(max(1, -(-count // per)))
        ]
        self.filled = 0

    def where(self, i) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sheet, column and row of tiles ``i``."""
        i = np.asarray(i)
        return i // (self.grid * self.grid), i % self.grid, (i // self.grid) % self.grid

    def add(self, tiles: np.ndarray) -> None:
        """Append uint8 tiles (n, tile, tile, B)."""
        t = self.tile
        for tile in tiles:
            sheet, column, row = (int(v) for v in self.where(self.filled))
            self.sheets[sheet][row * t : (row + 1) * t, column * t : (column + 1) * t] = tile
            self.filled += 1

    def tile_of(self, i: int) -> np.ndarray:
        """The uint8 tile (tile, tile, B) of object ``i``."""
        sheet, column, row = (int(v) for v in self.where(i))
        t = self.tile
        return self.sheets[sheet][row * t : (row + 1) * t, column * t : (column + 1) * t]

    def data_urls(self) -> list[str]:
        """Every sheet as a JPEG ``data:`` URL (the last one cropped to its used rows)."""
        urls = []
        for s, sheet in enumerate(self.sheets):
            used = self.count - s * self.grid * self.grid
            rows = min(self.grid, -(-used // self.grid))
            pixels = sheet[: rows * self.tile]
            picture = Image.fromarray(pixels[..., 0] if self.bands == 1 else pixels)
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=QUALITY)
            urls.append("data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode())
        return urls
