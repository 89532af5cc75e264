"""Cluster tables written row chunk by row chunk, atomically (framework-free).

Columns: ``id``, ``cluster`` (argmax of γ), γ and z (μ̃). A ``.csv`` table has
the layout of a run's ``clusters.csv`` (``p_0…p_{K−1}``, ``z_0…z_{J−1}``, values
to 6 significant digits) and is read by
:func:`astrovader.data.catalogue.read_clusters`; a ``.fits`` table is one binary
table extension ``CLUSTERS`` with vector columns ``gamma`` (K) and ``z`` (J) in
float32, streamed with astropy's :class:`~astropy.io.fits.StreamingHDU`.
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import numpy as np
from astropy.io import fits

from astrovader._io import atomic_path
from astrovader.errors import InputError

TABLE_SUFFIXES = (".csv", ".fits", ".fit", ".fts")


class _CsvTable:
    def __init__(self, path: Path, n_clusters: int, latent_dim: int):
        self.handle = path.open("w", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        header = ["id", "cluster", *(f"p_{k}" for k in range(n_clusters))]
        self.writer.writerow(header + [f"z_{j}" for j in range(latent_dim)])

    def write(self, ids, gamma, z, clusters):
        self.writer.writerows(
            [name, int(c), *(f"{p:.6g}" for p in probs), *(f"{v:.6g}" for v in latent)]
            for name, c, probs, latent in zip(ids, clusters, gamma, z, strict=True)
        )

    def close(self):
        self.handle.close()


class _FitsTable:
    def __init__(self, path: Path, count: int, n_clusters: int, latent_dim: int, id_length: int):
        columns = [
            fits.Column(name="id", format=f"{id_length}A"),
            fits.Column(name="cluster", format="J"),
            fits.Column(name="gamma", format=f"{n_clusters}E"),
            fits.Column(name="z", format=f"{latent_dim}E"),
        ]
        header = fits.BinTableHDU.from_columns(columns, nrows=0, name="CLUSTERS").header
        header["NAXIS2"] = count
        self.dtype = np.dtype(
            [
                ("id", f"S{id_length}"),
                ("cluster", ">i4"),
                ("gamma", ">f4", (n_clusters,)),
                ("z", ">f4", (latent_dim,)),
            ]
        )
        self.stream = fits.StreamingHDU(str(path), header)

    def write(self, ids, gamma, z, clusters):
        rows = np.empty(len(ids), self.dtype)
        rows["id"] = [name.encode() for name in ids]
        rows["cluster"], rows["gamma"], rows["z"] = clusters, gamma, z
        if len(rows):
            self.stream.write(np.frombuffer(rows.tobytes(), np.uint8))

    def close(self):
        self.stream.close()


@contextlib.contextmanager
def cluster_table(path, count: int, n_clusters: int, latent_dim: int, id_length: int):
    """Open a table of ``count`` rows; yield ``write(ids, gamma, z)`` to append rows.

    The file appears at ``path`` only when all ``count`` rows are written; on an
    error, nothing is left behind.

    Args:
        path: ``.csv`` or ``.fits`` (``.fit``, ``.fts``) output.
        count: The number of rows that will be written.
        n_clusters: K, the columns of γ.
        latent_dim: J, the columns of z.
        id_length: Longest id in UTF-8 bytes (the FITS string width).

    Raises:
        InputError: another suffix, or not exactly ``count`` rows written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: the table must end in .csv or .fits, got {suffix or 'none'!r}")
    written = 0
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            table = _CsvTable(tmp, n_clusters, latent_dim)
        else:
            table = _FitsTable(tmp, count, n_clusters, latent_dim, max(1, id_length))

        def write(ids, gamma, z):
            nonlocal written
            gamma, z = np.asarray(gamma), np.asarray(z)
            table.write(list(ids), gamma, z, np.argmax(gamma, axis=1))
            written += len(ids)

        try:
            yield write
        finally:
            table.close()
        if written != count:
            raise InputError(f"{path}: {written} rows written, {count} expected")
