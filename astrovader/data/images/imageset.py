"""An in-memory set of images with their ids, and the parallel decoding loop (a leaf module)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from astrovader._progress import progress_bar

__all__ = ["Geometry", "ImageSet", "parallel_fill"]


@dataclass(frozen=True, eq=False)
class Geometry:
    """The raw-flux stamps' geometry before their crop (one entry per image; 0 where unknown).

    Attributes:
        sides: The shorter side of each stamp in pixels (0: not raw flux).
        scales: Arcseconds per pixel (WCS, catalogue or ``data.pixel_scale``; 0: unknown).
        padded: Stamps smaller than the crop, padded with noise of their own sky.
    """

    sides: np.ndarray
    scales: np.ndarray
    padded: np.ndarray

    @property
    def arcsec(self) -> np.ndarray:
        """The shorter side of each stamp in arcseconds (NaN: unknown)."""
        known = (self.sides > 0) & (self.scales > 0)
        return np.where(known, self.sides * self.scales, np.nan)


@dataclass(frozen=True, eq=False)
class ImageSet:
    """Images with their identifiers.

    Attributes:
        ids: One identifier per image: for a directory, the path relative to it
            without the suffix (POSIX style); for a ``.npy`` array, the zero-padded
            index ("000012"); for one file, its name without the suffix.
        images: float32 array (N, S, S, B) with values in [0, 1].
        skipped: Non-image files ignored in a directory (hidden files not counted).
        replaced: NaN or infinite pixels replaced by 0 (``nan_pixels="zero"``).
        columns: Per-object columns of an input catalogue (``ra``, ``dec`` in
            degrees, and the extra columns asked for), aligned with ``ids``.
        geometry: The raw-flux stamps' sides, pixel scales and padding (None: not known).
    """

    ids: tuple[str, ...]
    images: np.ndarray
    skipped: int = 0
    replaced: int = 0
    columns: dict = field(default_factory=dict)
    geometry: Geometry | None = None

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[0] != len(self.ids):
            raise ValueError(
                f"ImageSet: {len(self.ids)} ids for images of shape {self.images.shape}"
            )

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows) -> ImageSet:
        """The images (and columns) of ``rows``, in that order."""
        rows = np.asarray(rows, dtype=int)
        return ImageSet(
            tuple(self.ids[i] for i in rows),
            self.images[rows],
            columns={name: np.asarray(values)[rows] for name, values in self.columns.items()},
        )


def _progress(total: int, enabled: bool):
    return progress_bar(
        total=total, desc="reading images", unit="img", disable=not enabled or total < 2
    )


def parallel_fill(count: int, work, *, workers: int | None, progress: bool) -> None:
    """Call ``work(i)`` for i in range(count) on a thread pool, with a progress bar.

    The first exception is re-raised and the calls not yet started are cancelled.
    """
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with _progress(count, progress) as bar:
            for _ in pool.map(work, range(count)):
                bar.update()
    finally:
        pool.shutdown(cancel_futures=True)
