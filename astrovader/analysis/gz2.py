"""Galaxy Zoo 2 comparison: clean smooth/featured and edge-on samples per component (§5.4).

Framework-free. The catalogue is a FITS or CSV table read with astropy; the
default column names are those of the public GZ2 table (Hart et al. 2016) and
are matched case-insensitively. Objects are matched by OBJID: both sides are
compared as text, integers without leading zeros or a decimal part.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from astropy.table import Table

from astrovader.errors import InputError

__all__ = ["COUNT_NAMES", "GZ2Columns", "gz2_counts", "match", "normalise_id", "read_catalogue"]


@dataclasses.dataclass(frozen=True)
class GZ2Columns:
    """The catalogue columns used (override any by keyword)."""

    objid: str = "dr7objid"
    smooth: str = "t01_smooth_or_features_a01_smooth_debiased"
    featured: str = "t01_smooth_or_features_a02_features_or_disk_debiased"
    edge_on: str = "t02_edgeon_a04_yes_debiased"
    not_edge_on: str = "t02_edgeon_a05_no_debiased"


COUNT_NAMES = ("smooth", "featured", "edge_on", "not_edge_on")


def normalise_id(value) -> str:
    """An identifier as comparable text: "0587…", 587… and "587….0" all give "587…"."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    text = text.strip()
    whole, _, fraction = text.partition(".")
    if whole.lstrip("+-").isdigit() and (not fraction or fraction.isdigit()):
        if not fraction.strip("0"):
            return str(int(whole))
    return text


def read_catalogue(path: str | Path, columns: GZ2Columns = GZ2Columns()) -> dict[str, np.ndarray]:
    """Read the five columns of a GZ2 table (FITS or CSV).

    Returns:
        ``objid`` (normalised text) and one float array per field of
        :class:`GZ2Columns` other than ``objid``.

    Raises:
        InputError: unreadable file or a missing column (the message names both).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such catalogue file")
    fmt = "ascii.csv" if path.suffix.lower() in (".csv", ".txt") else None
    try:
        table = Table.read(path, format=fmt) if fmt else Table.read(path)
    except Exception as exc:
        raise InputError(f"{path}: cannot read as a FITS or CSV table ({exc})") from exc
    lower = {name.lower(): name for name in table.colnames}
    out = {}
    for field in dataclasses.fields(columns):
        wanted = getattr(columns, field.name)
        if wanted.lower() not in lower:
            raise InputError(f"{path}: no column {wanted!r} (for {field.name})")
        column = table[lower[wanted.lower()]]
        if field.name == "objid":
            out["objid"] = np.array([normalise_id(v) for v in np.asarray(column)])
        else:
            try:
                out[field.name] = np.ma.asarray(column).astype(float).filled(np.nan)
            except ValueError as exc:
                raise InputError(f"{path}: column {wanted!r} is not numeric") from exc
    return out


def match(ids, catalogue: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into ``ids``, into the catalogue) of the objects present in both."""
    position = {objid: i for i, objid in enumerate(catalogue["objid"])}
    pairs = [
        (i, position[key]) for i, key in enumerate(normalise_id(v) for v in ids) if key in position
    ]
    if not pairs:
        return np.zeros(0, int), np.zeros(0, int)
    left, right = zip(*pairs, strict=True)
    return np.array(left), np.array(right)


def gz2_counts(
    labels: np.ndarray,
    catalogue: dict[str, np.ndarray],
    *,
    rows: np.ndarray,
    k: int,
    cut: float = 0.8,
    edge_cut: float = 0.8,
) -> dict[str, np.ndarray]:
    """Per-component counts of clean GZ2 samples (paper Figs. 13–14).

    Args:
        labels: (M,) component labels of the matched objects.
        catalogue: From :func:`read_catalogue`.
        rows: (M,) catalogue rows of the matched objects.
        k: Number of components.
        cut: Debiased fraction above which an object is clean smooth / featured.
        edge_cut: Debiased fraction above which a featured object is clean
            edge-on / not edge-on.

    Returns:
        ``matched``, ``smooth``, ``featured``, ``edge_on`` and ``not_edge_on``,
        each (k,) integer counts.
    """
    labels = np.asarray(labels, dtype=int)
    values = {name: catalogue[name][rows] for name in COUNT_NAMES}
    featured = values["featured"] > cut
    masks = {
        "matched": np.ones(len(labels), bool),
        "smooth": values["smooth"] > cut,
        "featured": featured,
        "edge_on": featured & (values["edge_on"] > edge_cut),
        "not_edge_on": featured & (values["not_edge_on"] > edge_cut),
    }
    return {name: np.bincount(labels[mask], minlength=k) for name, mask in masks.items()}
