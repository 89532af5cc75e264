"""The files of a similarity query: its neighbours table and their thumbnail sheet.

``astrovader similar`` writes ``OUT/neighbours.{csv,fits}`` and ``OUT/neighbours.{png,pdf}``
for a query answered by :mod:`astrovader.inference.similar`. Framework-free.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrovader._io import directory_lock, remove_stale
from astrovader.analysis.figures import thumbnail_sheet
from astrovader.analysis.tables import write_table

__all__ = ["write_neighbours"]


def write_neighbours(search, query, *, columns: dict, out) -> list[Path]:
    """``OUT/neighbours.{csv,fits}`` and the thumbnail sheet ``OUT/neighbours.{png,pdf}``.

    Args:
        search: The open :class:`~astrovader.inference.similar.Search` that answered.
        query: Its :class:`~astrovader.inference.similar.Query`.
        columns: The neighbours (:func:`~astrovader.inference.similar.neighbours`).
        out: The output folder (written under its lock; what a killed writer left is
            removed first).

    Returns:
        The files written.
    """
    out = Path(out)
    with directory_lock(out):
        remove_stale(out)
        return _write(search, query, columns, out)


def _write(search, query, columns: dict, out: Path) -> list[Path]:
    paths = write_table(columns, out / "neighbours")
    image = query.image
    if image is None:
        image = search.images([search.index.objects.ids[query.row]])[0]
    images = np.concatenate([image[None], search.images(columns["id"])])
    captions = ["query\n" + query.label.split(" (")[0][:24]] + [
        f"{rank}. {name[:18]}\nd = {d:.3g}"
        for rank, name, d in zip(columns["rank"], columns["id"], columns["distance"], strict=True)
    ]
    title = f"Nearest to {query.label} in μ̃ (Euclidean)"
    return paths + thumbnail_sheet(images, captions, stem=out / "neighbours", title=title)
