"""A run's similarity index: kept in ``RUN/index/NAME/``, rebuilt when the model or data change.

``fit`` builds the index of the run's own objects (``RUN/index/run/``) from the μ̃
columns of ``clusters.csv``; ``embed RUN DATA`` and ``similar``/``explore --data
DATA`` build one per data set (``RUN/index/data-…/``) from its cluster table. Each
holds a :class:`~astrovader.data.latent_index.LatentIndex` (``index.json``,
``latents.npy``, the HNSW graph above 10⁵ objects), ``objects.npz`` (what a result
row shows: id, RA/Dec, cluster, max γ, anomaly score) and ``key.json``: the size,
modification time and SHA-256 of ``model.keras``, the size and modification time of
the table, and for a data set a fingerprint of its files. An index whose key no
longer matches is stale and is rebuilt on first use. The latents are the model's
clustering embedding as the table holds it (written by the model's ``embed``), so
the search follows however the model computes μ̃.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from astrovader._io import atomic_path, directory_lock, remove_stale
from astrovader.data.latent_index import LatentIndex
from astrovader.data.tables.clusters import ANOMALY, LOG_LIKELIHOOD, read_clusters
from astrovader.errors import AstrovaderError
from astrovader.training.rundir.directory import RunDirectory

__all__ = [
    "KEY",
    "OBJECTS",
    "RUN_NAME",
    "ModelIndexes",
    "Objects",
    "RunIndex",
    "build_index",
    "current",
    "data_fingerprint",
    "data_name",
    "index_dir",
    "index_key",
    "open_index",
]

log = logging.getLogger(__name__)

RUN_NAME = "run"
KEY, OBJECTS = "key.json", "objects.npz"


@dataclasses.dataclass(frozen=True)
class Objects:
    """What a result row shows about each indexed object (NaN where unknown).

    Attributes:
        ids: (N,) identifiers (text).
        ra: (N,) right ascension in degrees.
        dec: (N,) declination in degrees.
        cluster: (N,) argmax γ.
        gamma_max: (N,) the largest γ.
        score: (N,) the anomaly score (bits, method §7b; low: anomalous), or log p̂(x)
            for a table written before it existed.
    """

    ids: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    cluster: np.ndarray
    gamma_max: np.ndarray
    score: np.ndarray

    def position(self, name: str) -> int:
        """The row of the object ``name``.

        Raises:
            AstrovaderError: no object has this id.
        """
        found = np.flatnonzero(self.ids == str(name))
        if not len(found):
            raise AstrovaderError(f"id {name!r}: no such object among the {len(self.ids)} indexed")
        return int(found[0])

    @property
    def has_sky(self) -> bool:
        """Whether any object has RA/Dec."""
        return bool(np.isfinite(self.ra).any())


@dataclasses.dataclass(frozen=True)
class ModelIndexes:
    """A model file without a run directory, and the folder that holds its indexes.

    Attributes:
        model_path: The ``.keras`` (or published ``.h5``) file, part of every key.
        indexes: The indexes' folder (for example ``OUT/index`` of ``explore``).
    """

    model_path: Path
    indexes: Path


def _place(run):
    return run if isinstance(run, RunDirectory | ModelIndexes) else RunDirectory(run)


@dataclasses.dataclass
class RunIndex:
    """An index of one run's objects, with the rows it answers with.

    Attributes:
        path: Its folder.
        index: The latent index.
        objects: The objects, in index order.
        table: The cluster table it was built from.
    """

    path: Path
    index: LatentIndex
    objects: Objects
    table: Path

    def kneighbors(self, queries, n_neighbors: int = 20, *, exclude=None):
        """``(distances, indices)`` of the nearest objects (see :meth:`LatentIndex.kneighbors`)."""
        return self.index.kneighbors(queries, n_neighbors, exclude=exclude)


def index_dir(run, name: str = RUN_NAME) -> Path:
    """``RUN/index/NAME``."""
    return run.indexes / name


def data_name(data) -> str:
    """The index name of a data set: ``data-`` and a digest of its absolute path."""
    digest = hashlib.sha256(str(Path(data).resolve()).encode()).hexdigest()[:12]
    return f"data-{digest}"


def _stat(path: Path) -> dict:
    info = path.stat()
    return {"path": str(path.resolve()), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(data) -> str:
    """A digest of every file of ``data`` (names, sizes, modification times)."""
    path = Path(data)
    if not path.exists():
        raise AstrovaderError(f"{path}: no such data")
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(json.dumps(_stat(path)).encode())
        return digest.hexdigest()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            info = os.stat(os.path.join(root, name))
            relative = os.path.relpath(os.path.join(root, name), path)
            digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def index_key(run, table: Path, data=None) -> dict:
    """What an index depends on: the model file, the table and the data set."""
    model = _stat(run.model_path)
    model["sha256"] = _sha256(run.model_path)
    key = {"model": model, "table": _stat(table)}
    if data is not None:
        key["data"] = {"path": str(Path(data).resolve()), "files": data_fingerprint(data)}
    return key


def _objects(table: dict) -> Objects:
    n = len(table["id"])
    columns = table["columns"]

    def number(name):
        values = columns.get(name)
        if values is None or np.asarray(values).dtype.kind not in "fiu":
            return np.full(n, np.nan)
        return np.asarray(values, float)

    gamma = np.asarray(table["gamma"], float)
    return Objects(
        ids=np.asarray(table["id"]).astype(str),
        ra=number("ra"),
        dec=number("dec"),
        cluster=np.asarray(table["cluster"], int),
        gamma_max=gamma.max(axis=1) if gamma.size else np.full(n, np.nan),
        score=_score(table, n),
    )


def _score(table, n: int) -> np.ndarray:
    """The anomaly score column of a cluster table (log p̂(x) in older tables; NaN if none)."""
    for name in (ANOMALY, LOG_LIKELIHOOD):
        if name in table:
            return np.asarray(table[name], float)
    return np.full(n, np.nan)


def build_index(
    run, table=None, *, name: str = RUN_NAME, data=None, backend: str = "auto"
) -> RunIndex:
    """Build and save the index of a cluster table (default: the run's ``clusters.csv``).

    Args:
        run: The run directory (its ``model.keras`` is part of the key).
        table: The ``.csv`` or ``.fits`` cluster table whose ``z`` is indexed.
        name: The index's folder under ``RUN/index/``.
        data: The data set the table describes (part of the key), or None.
        backend: See :func:`~astrovader.data.latent_index.choose_backend`.
    """
    run = _place(run)
    table = Path(table) if table is not None else run.clusters_path
    key = index_key(run, table, data)
    rows = read_clusters(table)
    if not len(rows["id"]):
        raise AstrovaderError(f"{table}: the table holds no object to index")
    index = LatentIndex(rows["z"], backend)
    objects = _objects(rows)
    folder = index_dir(run, name)
    with directory_lock(folder):
        remove_stale(folder)
        (folder / KEY).unlink(missing_ok=True)  # invalid until every file is written
        index.save(folder)
        with atomic_path(folder / OBJECTS) as tmp:
            np.savez(tmp, **dataclasses.asdict(objects))
        with atomic_path(folder / KEY) as tmp:
            tmp.write_text(json.dumps({**key, "table_path": str(table)}, indent=1) + "\n")
    log.info("indexed %d objects (%s) in %s", len(index), index.backend, folder)
    return RunIndex(folder, index, objects, table)


def _saved_key(folder: Path) -> dict | None:
    try:
        return json.loads((folder / KEY).read_text())
    except (OSError, ValueError):
        return None


def current(run, name: str = RUN_NAME, data=None) -> Path | None:
    """The table of a saved index that is still valid, or None (missing or stale)."""
    run = _place(run)
    saved = _saved_key(index_dir(run, name))
    if saved is None or not Path(saved.get("table_path", "")).is_file():
        return None
    table = Path(saved["table_path"])
    key = index_key(run, table, data)
    if any(saved.get(part) != value for part, value in key.items()):
        log.info("the index %s is stale (the model or the data changed)", index_dir(run, name))
        return None
    return table


def open_index(run, name: str = RUN_NAME, *, data=None, backend: str = "auto") -> RunIndex:
    """The run's index, built (from ``clusters.csv`` for the run's own objects) when stale.

    Raises:
        AstrovaderError: a data set's index is missing or stale (it is rebuilt by
            embedding the data; see :mod:`astrovader.inference.similar`).
    """
    run = _place(run)
    table = current(run, name, data)
    if table is None:
        if name != RUN_NAME:
            raise AstrovaderError(f"{index_dir(run, name)}: no current index of {data}")
        return build_index(run, backend=backend)
    folder = index_dir(run, name)
    index = LatentIndex.load(folder)
    with np.load(folder / OBJECTS) as saved:
        objects = Objects(**{field: saved[field] for field in saved.files})
    return RunIndex(folder, index, objects, table)
