"""Report tables written as CSV and FITS with astropy (framework-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.table import Table

from astrovader._io import atomic_path

__all__ = ["TABLE_FORMATS", "write_table"]

TABLE_FORMATS = {"csv": "ascii.csv", "fits": "fits"}


def write_table(columns: dict[str, np.ndarray], stem: str | Path) -> list[Path]:
    """Write equal-length columns as ``stem.csv`` and ``stem.fits``, each atomically.

    Args:
        columns: Column name → 1-D array (numbers or text), in display order.
        stem: Output path without suffix.

    Returns:
        The two written paths.
    """
    table = Table({name: np.asarray(values) for name, values in columns.items()})
    stem = Path(stem)
    paths = []
    for suffix, fmt in TABLE_FORMATS.items():
        path = stem.with_name(f"{stem.name}.{suffix}")
        with atomic_path(path) as tmp:
            table.write(tmp, format=fmt)
        paths.append(path)
    return paths
