"""Input catalogues: a table whose rows name the stamps, with ids, sky positions and more.

Any table ``astropy.table.Table`` reads (FITS binary tables, CSV, ECSV) can drive
the input, as survey cutout collections and Zoobot users expect: one row per
stamp, with a file column (relative paths are taken from the catalogue's
folder), optionally the HDU of a multi-extension FITS file (or the row of a
``.npy`` array), an id, RA and Dec in degrees, and a pixel scale. The column
names come from ``[catalog]`` (:class:`~astrovader.config.sections.CatalogConfig`);
``"auto"`` takes the first present of :data:`CANDIDATES`, case-insensitively,
which covers a GalSim real-galaxy catalogue (``GAL_FILENAME``, ``GAL_HDU``,
``IDENT``, ``RA``, ``DEC``, ``PIXEL_SCALE``). Framework-free.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from astrovader.config.sections import CatalogConfig
from astrovader.data.images.fits import image_hdus
from astrovader.data.images.stamps import Stamp, unique
from astrovader.errors import InputError

__all__ = ["is_catalogue", "read_catalogue"]

TABLE_SUFFIXES = (".csv", ".ecsv")
CANDIDATES = {
    "path": ("path", "file", "filename", "gal_filename", "image", "cutout"),
    "hdu": ("hdu", "gal_hdu", "extension", "ext", "index"),
    "id": ("id", "ident", "objid", "object_id", "name", "dr7objid"),
    "ra": ("ra", "ra_deg", "raj2000"),
    "dec": ("dec", "dec_deg", "dej2000", "decj2000"),
    "pixel_scale": ("pixel_scale", "pixscale", "pixel_scale_arcsec"),
    "noise": ("noise_variance", "sky_variance", "variance"),
}


def is_catalogue(path: Path) -> bool:
    """Whether ``path`` is a table: a CSV/ECSV file or a FITS file without image data."""
    name = path.name.lower()
    if name.endswith(TABLE_SUFFIXES):
        return True
    if not name.endswith((".fits", ".fit", ".fts")) or not path.is_file():
        return False
    try:
        return not image_hdus(path)
    except InputError:
        return False


def _read_table(path: Path):
    from astropy.table import Table

    fmt = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv"}.get(path.suffix.lower())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Table.read(path, format=fmt) if fmt else Table.read(path)
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"{path}: cannot read the catalogue ({detail})") from None


def _column(table, path: Path, what: str, setting: str, required: bool = False, key=None):
    """The table column for ``what`` by the ``[catalog]`` setting (``auto``/``none``/a name)."""
    by_lower = {name.lower(): name for name in table.colnames}
    if setting == "none":
        found = None
    elif setting != "auto":
        found = by_lower.get(setting.lower())
        if found is None:
            raise InputError(
                f"{path}: no column {setting!r} ({key or f'catalog.{what}_column'}); it has "
                f"{', '.join(table.colnames)}"
            )
    else:
        found = next((by_lower[c] for c in CANDIDATES[what] if c in by_lower), None)
    if found is None and required:
        raise InputError(
            f"{path}: no {what} column (looked for {', '.join(CANDIDATES[what])}); set "
            f"catalog.{what}_column"
        )
    return found


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return str(value).strip()


def _band_columns(table, path: Path, settings: CatalogConfig) -> list[tuple[str, str | None]]:
    """(file column, HDU column or None) of each band, in order."""
    paths = settings.path_column
    if isinstance(paths, str):
        paths = (paths,)
    hdus = settings.hdu_column
    if isinstance(hdus, str):
        hdus = (hdus,) if len(paths) == 1 else ("none",) * len(paths)
    if len(hdus) != len(paths):
        raise InputError(
            f"{path}: catalog.hdu_column names {len(hdus)} column(s) for the "
            f"{len(paths)} of catalog.path_column"
        )
    return [
        (
            _column(table, path, "path", file, True, key="catalog.path_column"),
            _column(table, path, "hdu", hdu, key="catalog.hdu_column"),
        )
        for file, hdu in zip(paths, hdus, strict=True)
    ]


def _stamp_file(base: Path, path: Path, row: int, record, file_column, hdu_column):
    cell = record[file_column]
    if np.ma.is_masked(cell) or not _text(cell):
        raise InputError(f"{path}: row {row}: no file named (empty {file_column} column)")
    file = base / _text(cell)
    if not file.exists():
        raise InputError(f"{path}: row {row}: {file} does not exist")
    return file, (int(record[hdu_column]) if hdu_column else None)


def _band_rows(path: Path, settings: CatalogConfig, ids: list[str]) -> list[list[tuple]]:
    """For each further band catalogue, ``(file, hdu)`` of the rows of ``ids``, matched by id."""
    bands = []
    for name in settings.band_catalogs:
        other = path.parent / name
        table = _read_table(other)
        id_column = _column(table, other, "id", settings.id_column, True)
        [(file_column, hdu_column)] = _band_columns(table, other, settings)
        rows = {_text(record[id_column]): row for row, record in enumerate(table)}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise InputError(
                f"{other}: no row for id {missing[0]!r} of {path.name} "
                f"({len(missing)} of {len(ids)} missing; catalog.band_catalogs)"
            )
        bands.append(
            [
                _stamp_file(other.parent, other, rows[i], table[rows[i]], file_column, hdu_column)
                for i in ids
            ]
        )
    return bands


def read_catalogue(
    path: str | Path, settings: CatalogConfig | None = None
) -> tuple[list[Stamp], dict[str, np.ndarray]]:
    """The stamps a catalogue names and the columns to carry into the outputs.

    With several file columns (``catalog.path_column = ["F606W_FILE",
    "F814W_FILE"]``, HDU columns alike) or further per-band catalogues matched by
    id (``catalog.band_catalogs``), each row is one multi-band stamp, bands in that
    order (:mod:`astrovader.data.images.band_stack`).

    Args:
        path: The catalogue (FITS table, CSV, ECSV).
        settings: The ``[catalog]`` column names.

    Returns:
        ``(stamps, columns)``: one stamp per row, and ``ra``, ``dec`` (when present)
        and the requested ``columns`` as arrays, lower-case names.

    Raises:
        InputError: unreadable table, a missing column, a missing stamp file, or
            two rows with one id; the message names the catalogue and column.
    """
    path = Path(path)
    settings = settings or CatalogConfig()
    table = _read_table(path)
    if len(table) == 0:
        raise InputError(f"{path}: the catalogue has no rows")
    names = {
        what: _column(table, path, what, getattr(settings, f"{what}_column"), what == "path")
        for what in CANDIDATES
        if what not in ("path", "hdu")
    }
    bands = _band_columns(table, path, settings)
    if settings.band_catalogs and not names["id"]:
        raise InputError(
            f"{path}: catalog.band_catalogs are matched by id, but it has no id column"
        )
    base = path.parent
    stamps = []
    for row, record in enumerate(table):
        parts = [_stamp_file(base, path, row, record, *columns) for columns in bands]
        (file, hdu), others = parts[0], tuple(parts[1:])
        ident = _text(record[names["id"]]) if names["id"] else f"{file.stem}[{hdu or 0}]"
        scale = float(record[names["pixel_scale"]]) if names["pixel_scale"] else 0.0
        sky = float(np.sqrt(record[names["noise"]])) if names["noise"] else 0.0
        stamps.append(Stamp(ident, file, hdu, scale, others, sky))
    if settings.band_catalogs:
        further = _band_rows(path, settings, [stamp.id for stamp in stamps])
        stamps = [
            dataclasses.replace(stamp, bands=stamp.bands + tuple(band[i] for band in further))
            for i, stamp in enumerate(stamps)
        ]
    columns = {}
    for what in ("ra", "dec"):
        if names[what]:
            columns[what] = np.asarray(table[names[what]], dtype=np.float64)
    for extra in settings.columns:
        name = _column(table, path, "extra", extra, key="catalog.columns")
        columns[extra.lower()] = np.asarray(table[name])
    return unique(stamps), columns
