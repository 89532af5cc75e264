"""Cluster tables (``clusters.csv``, ``embed`` outputs): the one writer and the reader.

Columns: ``id``, ``cluster`` (argmax of γ), γ and z (μ̃). A ``.csv`` table holds
``id, cluster, p_0…p_{K−1}, z_0…z_{J−1}`` (values to 6 significant digits); a
``.fits`` table is one binary table extension ``CLUSTERS`` with vector columns
``gamma`` (K) and ``z`` (J) in float32. Rows are written chunk by chunk, so a
table of any length needs the memory of one chunk, and the file appears only
when every announced row is written. Framework-free.
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import numpy as np
from astropy.io import fits
from tqdm.auto import tqdm

from astrovader._io import atomic_path
from astrovader.data.fits_stream import empty_primary, fits_stream, table_header
from astrovader.errors import InputError

TABLE_SUFFIXES = (".csv", ".fits", ".fit", ".fts")


def _csv_rows(writer, n_clusters: int, latent_dim: int):
    header = ["id", "cluster", *(f"p_{k}" for k in range(n_clusters))]
    writer.writerow(header + [f"z_{j}" for j in range(latent_dim)])

    def write(ids, gamma, z, clusters):
        writer.writerows(
            [name, int(c), *(f"{p:.6g}" for p in probs), *(f"{v:.6g}" for v in latent)]
            for name, c, probs, latent in zip(ids, clusters, gamma, z, strict=True)
        )

    return write


def _fits_rows(stream, n_clusters: int, latent_dim: int, id_length: int):
    dtype = np.dtype(
        [
            ("id", f"S{id_length}"),
            ("cluster", ">i4"),
            ("gamma", ">f4", (n_clusters,)),
            ("z", ">f4", (latent_dim,)),
        ]
    )
    done = 0

    def write(ids, gamma, z, clusters):
        nonlocal done
        rows = np.empty(len(ids), dtype)
        rows["id"] = [name.encode() for name in ids]
        rows["cluster"], rows["gamma"], rows["z"] = clusters, gamma, z
        stream.write(1, done * dtype.itemsize, rows.tobytes())
        done += len(rows)

    return write


def _fits_headers(count: int, n_clusters: int, latent_dim: int, id_length: int):
    columns = [
        fits.Column(name="id", format=f"{id_length}A"),
        fits.Column(name="cluster", format="J"),
        fits.Column(name="gamma", format=f"{n_clusters}E"),
        fits.Column(name="z", format=f"{latent_dim}E"),
    ]
    return [empty_primary(), table_header(columns, count, "CLUSTERS")]


@contextlib.contextmanager
def cluster_table(path, count: int, n_clusters: int, latent_dim: int, id_length: int):
    """Open a table of ``count`` rows; yield ``write(ids, gamma, z)`` to append rows.

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
    with contextlib.ExitStack() as stack:
        if suffix == ".csv":
            tmp = stack.enter_context(atomic_path(path))
            handle = stack.enter_context(tmp.open("w", newline=""))
            rows = _csv_rows(csv.writer(handle, lineterminator="\n"), n_clusters, latent_dim)
        else:
            width = max(1, id_length)
            headers = _fits_headers(count, n_clusters, latent_dim, width)
            stream = stack.enter_context(fits_stream(path, headers))
            rows = _fits_rows(stream, n_clusters, latent_dim, width)

        def write(ids, gamma, z):
            nonlocal written
            gamma, z = np.asarray(gamma), np.asarray(z)
            rows(list(ids), gamma, z, np.argmax(gamma, axis=1))
            written += len(gamma)

        yield write
        if written != count:
            raise InputError(f"{path}: {written} rows written, {count} expected")


def id_length(ids) -> int:
    """The longest id in UTF-8 bytes (at least 1)."""
    return max((len(str(i).encode()) for i in ids), default=1)


def write_clusters(path: str | Path, ids, gamma: np.ndarray, z: np.ndarray) -> None:
    """Write a whole cluster table at once (see :func:`cluster_table`)."""
    gamma, z = np.asarray(gamma), np.asarray(z)
    with cluster_table(path, len(gamma), gamma.shape[1], z.shape[1], id_length(ids)) as write:
        write(ids, gamma, z)


def write_stream(path, stream, embed, shape: tuple[int, int], batch_size: int, progress=True):
    """Write the cluster table of every image of ``stream``, one batch at a time.

    Args:
        path: The ``.csv`` or ``.fits`` table.
        stream: An :class:`~astrovader.data.stream.ImageStream`.
        embed: ``embed(images) → (gamma, z)`` for one batch (a model's ``embed``).
        shape: (K, J), the columns of γ and z.
        batch_size: Images per batch.
        progress: Show a progress bar.

    Returns:
        The number of rows written.
    """
    with (
        cluster_table(path, stream.count, *shape, stream.id_length) as write,
        tqdm(total=stream.count, desc="embedding", unit="img", disable=not progress) as bar,
    ):
        for ids, images in stream.batches(batch_size):
            write(ids, *embed(images))
            bar.update(len(ids))
    return stream.count


def read_clusters(path: str | Path) -> dict[str, np.ndarray]:
    """Read a ``.csv`` cluster table into ``id``, ``cluster``, ``gamma`` (N, K) and ``z`` (N, J)."""
    with Path(path).open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    p_cols = [i for i, name in enumerate(header) if name.startswith("p_")]
    z_cols = [i for i, name in enumerate(header) if name.startswith("z_")]
    return {
        "id": np.array([r[0] for r in body]),
        "cluster": np.array([int(r[1]) for r in body]),
        "gamma": np.array([[float(r[i]) for i in p_cols] for r in body]).reshape(len(body), -1),
        "z": np.array([[float(r[i]) for i in z_cols] for r in body]).reshape(len(body), -1),
    }
