"""Image-grid figures (paper Figs. 3–4, 6–7, 9–12) and the PNG + PDF writer (framework-free).

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so
no global backend is switched and nothing needs closing: PNG is rendered by Agg.
Every function takes NumPy arrays. Images are (S, S, B) arrays in [0, 1], grey
(B = 1) or colour (B = 3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from astrovader._io import atomic_path

__all__ = ["FIGURE_FORMATS", "image_grid", "mosaic", "save_figure", "thumbnail_sheet"]

FIGURE_FORMATS = ("png", "pdf")


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem.png`` (150 dpi) and ``stem.pdf`` atomically; return both paths."""
    stem = Path(stem)
    paths = []
    for fmt in FIGURE_FORMATS:
        path = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight")
        paths.append(path)
    return paths


def _to_rgb(image: np.ndarray, residual: bool, limit: float) -> np.ndarray:
    """One cell as RGB in [0, 1]: colour as is, other bands as their grey mean, residuals mapped.

    Residuals go through a diverging colour map of symmetric range ``limit``.
    """
    image = np.asarray(image, dtype=float)
    if residual:
        scaled = (image.mean(axis=-1) / limit + 1.0) / 2.0
        return colormaps["RdBu_r"](np.clip(scaled, 0.0, 1.0))[..., :3]
    if image.shape[-1] != 3:
        image = np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)
    return np.clip(image, 0.0, 1.0)


def mosaic(rows, residual_rows=(), pad: int = 2) -> np.ndarray:
    """The images of ``rows`` tiled on a white RGB canvas, ``pad`` pixels apart.

    Residual rows share one symmetric colour scale, the largest |residual|.
    """
    rows = [np.asarray(r) for r in rows]
    side = next((r.shape[1] for r in rows if r.size), 1)
    n_cols = max((len(r) for r in rows), default=1) or 1
    residual = [np.abs(rows[i]).max() for i in residual_rows if rows[i].size]
    limit = max(residual, default=1.0) or 1.0
    step = side + pad
    canvas = np.ones((max(len(rows), 1) * step - pad, n_cols * step - pad, 3))
    for r, stack in enumerate(rows):
        for c, image in enumerate(stack):
            cell = _to_rgb(image, r in residual_rows, limit)
            canvas[r * step : r * step + side, c * step : c * step + side] = cell
    return canvas


def image_grid(
    rows,
    stem: str | Path,
    *,
    row_labels=None,
    col_labels=None,
    title: str | None = None,
    residual_rows=(),
    cell: float = 0.9,
) -> list[Path]:
    """A grid of images, one row per entry of ``rows``, written as PNG and PDF.

    The grid is drawn as one mosaic image (fast for hundreds of cells), with
    the labels as text beside it.

    Args:
        rows: Sequence of image stacks (C_r, S, S, B); rows may differ in length.
        stem: Output path without suffix.
        row_labels: One label per row (left of the row).
        col_labels: Labels above the columns.
        title: Figure title.
        residual_rows: Indices of rows holding residuals (x − x̂), drawn with a
            diverging map symmetric about zero (band mean for colour).
        cell: Size of one image in inches.

    Returns:
        The two written paths.
    """
    rows = [np.asarray(r) for r in rows]
    canvas = mosaic(rows, residual_rows)
    side = next((r.shape[1] for r in rows if r.size), 1)
    step = side + 2
    n_rows, n_cols = max(len(rows), 1), max((len(r) for r in rows), default=1) or 1
    fig = Figure(figsize=(cell * n_cols + (0.9 if residual_rows else 0.0), cell * n_rows))
    ax = fig.add_axes((0.0, 0.0, 0.88 if residual_rows else 1.0, 1.0))
    ax.imshow(canvas, interpolation="nearest")
    if residual_rows:
        limit = max((np.abs(rows[i]).max() for i in residual_rows if rows[i].size), default=1.0)
        scale = ScalarMappable(Normalize(-(limit or 1.0), limit or 1.0), cmap="RdBu_r")
        bar = fig.colorbar(scale, cax=fig.add_axes((0.9, 0.15, 0.025, 0.7)))
        bar.set_label("residual x − x̂ (pixel value)", fontsize=7)
        bar.ax.tick_params(labelsize=6)
    ax.axis("off")
    for r, label in enumerate(row_labels if row_labels is not None else []):
        ax.text(-3, r * step + side / 2, str(label), ha="right", va="center", fontsize=7)
    for c, label in enumerate(col_labels if col_labels is not None else []):
        ax.text(c * step + side / 2, -3, str(label), ha="center", va="bottom", fontsize=7)
    if title:
        ax.set_title(title, fontsize=10, pad=14 if col_labels is not None else 6)
    return save_figure(fig, stem)


def thumbnail_sheet(
    images, captions, *, stem: str | Path, title: str | None = None, columns: int = 7
) -> list[Path]:
    """Images in rows of ``columns``, each with its caption below, as PNG and PDF.

    Args:
        images: (N, S, S, B) in [0, 1].
        captions: One text per image (a line break allowed).
        stem: Output path without suffix.
        title: Figure title.
        columns: Images per row.
    """
    images = np.asarray(images)
    n_rows = max(1, -(-len(images) // columns))
    fig = Figure(figsize=(1.25 * columns, 1.5 * n_rows + (0.4 if title else 0.0)))
    axes = fig.subplots(n_rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(_to_rgb(images[i], False, 1.0), interpolation="nearest")
            ax.set_title(str(captions[i]), fontsize=6, y=-0.02, va="top")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, stem)
