"""Line, heat-map, bar and scatter charts (paper Figs. 2, 5, 13–14; framework-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from astrovader.analysis.figures import save_figure

__all__ = [
    "LOSS_PANELS",
    "LOSS_UNITS",
    "PHASE_COLOURS",
    "feature_boxes",
    "grouped_bars",
    "heatmap",
    "loss_curves",
    "outside_legend",
    "scatter_map",
]

LOSS_PANELS = (
    ("loss", "total loss"),
    ("reconstruction", "reconstruction (MSE × D)"),
    ("kl", "unit-Gaussian KL"),
    ("gmm_kl", "GMM KL"),
)
LOSS_UNITS = {
    "loss": "loss per image",
    "reconstruction": "squared error per image",
    "kl": "nats per image",
    "gmm_kl": "nats per image",
}
PHASE_COLOURS = {"gamma": "#e8e8e8", "anneal": "#fde3c8", "static": "#d7e8f7"}


def outside_legend(ax, **kwargs):
    """A legend to the right of the axes, so that it covers no data (``tight_layout`` keeps it)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def _column(rows, key) -> np.ndarray:
    return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])


def _shade_phases(ax, epochs, phases) -> None:
    start = 0
    for i in range(1, len(phases) + 1):
        if i == len(phases) or phases[i] != phases[start]:
            colour = PHASE_COLOURS.get(phases[start], "white")
            ax.axvspan(epochs[start] - 0.5, epochs[i - 1] + 0.5, color=colour, lw=0)
            start = i


def loss_curves(rows: list[dict], stem: str | Path) -> list[Path]:
    """Training (solid) and validation (dashed) losses per epoch, phases shaded (Fig. 2).

    Args:
        rows: ``history.csv`` rows (``epoch``, ``phase`` and the loss columns).
        stem: Output path without suffix.
    """
    epochs = _column(rows, "epoch")
    phases = [r["phase"] for r in rows]
    fig = Figure(figsize=(11.5, 6.5))
    axes = fig.subplots(2, 2).ravel()
    for ax, (key, label) in zip(axes, LOSS_PANELS, strict=True):
        keep = np.ones(len(rows), bool)
        if key == "gmm_kl" and any(p != "gamma" for p in phases):
            keep = np.array([p != "gamma" for p in phases])
        _shade_phases(ax, epochs[keep], [p for p, k in zip(phases, keep, strict=True) if k])
        ax.plot(epochs[keep], _column(rows, key)[keep], "k-", label="train")
        ax.plot(epochs[keep], _column(rows, f"val_{key}")[keep], "k--", label="validation")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel(LOSS_UNITS[key], fontsize=8)
    handles = [
        axes[0].get_lines()[0],
        axes[0].get_lines()[1],
        *(Patch(color=colour, label=phase) for phase, colour in PHASE_COLOURS.items()),
    ]
    outside_legend(axes[1], handles=handles, fontsize=7)
    fig.tight_layout()
    return save_figure(fig, stem)


def heatmap(
    matrix: np.ndarray,
    stem: str | Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    xticks=None,
    yticks=None,
    fmt: str = "{:.2f}",
) -> list[Path]:
    """A matrix drawn cell by cell with its values written in (Figs. 5, confusion)."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = matrix.shape
    fig = Figure(figsize=(1.2 + 0.55 * cols, 1.0 + 0.5 * rows))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax)
    finite = matrix[np.isfinite(matrix)]
    middle = (finite.max() + finite.min()) / 2 if finite.size else 0.0
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            colour = "black" if value > middle else "white"
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(cols), xticks if xticks is not None else range(cols), fontsize=7)
    ax.set_yticks(range(rows), yticks if yticks is not None else range(rows), fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, stem)


def grouped_bars(groups: dict[str, np.ndarray], stem: str | Path, title: str) -> list[Path]:
    """Counts per component, one bar per group side by side (Table 2, Figs. 13–14)."""
    k = len(next(iter(groups.values())))
    width = 0.8 / len(groups)
    fig = Figure(figsize=(2.8 + 0.6 * k, 3.5))
    ax = fig.subplots()
    for i, (name, counts) in enumerate(groups.items()):
        ax.bar(np.arange(k) + (i - (len(groups) - 1) / 2) * width, counts, width, label=name)
    ax.set_xticks(range(k))
    ax.set_xlabel("component")
    ax.set_ylabel("objects")
    ax.set_title(title, fontsize=10)
    outside_legend(ax, fontsize=7)
    fig.tight_layout()
    return save_figure(fig, stem)


def scatter_map(
    points: np.ndarray, labels: np.ndarray, *, stem: str | Path, title: str
) -> list[Path]:
    """A 2-D map (t-SNE) coloured by component."""
    points, labels = np.asarray(points), np.asarray(labels)
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    for c in np.unique(labels):
        mine = labels == c
        ax.scatter(points[mine, 0], points[mine, 1], s=5, label=str(c))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1 (no units: only neighbourhoods are meaningful)", fontsize=8)
    ax.set_ylabel("t-SNE 2", fontsize=8)
    ax.set_title(title, fontsize=10)
    outside_legend(ax, title="component", fontsize=7, markerscale=2)
    fig.tight_layout()
    return save_figure(fig, stem)


def feature_boxes(
    values: dict[str, np.ndarray], labels: np.ndarray, *, k: int, stem: str | Path, title: str
) -> list[Path]:
    """One panel per feature, a box per occupied component (its distribution), NaN left out."""
    occupied = [c for c in range(k) if np.any(labels == c)]
    columns = 4
    rows = -(-len(values) // columns)
    fig = Figure(figsize=(3.2 * columns, 2.4 * rows + 0.4))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, (name, column) in zip(axes, values.items(), strict=False):
        data = [column[(labels == c) & np.isfinite(column)] for c in occupied]
        ax.boxplot([d if d.size else [np.nan] for d in data], showfliers=False)
        ax.set_xticks(range(1, len(occupied) + 1), [str(c) for c in occupied], fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(values) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.supxlabel("component (argmax γ)", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, stem)
