"""Cluster tables (``clusters.csv``, ``embed`` outputs): the one writer and the reader.

Columns: ``id``, ``cluster`` (argmax of γ), γ and z (μ̃), then optionally the scores
:data:`SCORES`: ``log_likelihood``, log p̂(x) in nats (:mod:`astrovader.model.likelihood`),
and ``anomaly_score``, the anomaly score corrected for input complexity in bits
(:mod:`astrovader.model.complexity`; low: anomalous). A ``.csv`` table holds
``id, cluster, p_0…p_{K−1}, z_0…z_{J−1}[, log_likelihood, anomaly_score]`` (values to 6
significant digits); a ``.fits`` table is one binary table extension ``CLUSTERS`` with
vector columns ``gamma`` (K) and ``z`` (J) in float32 and the scores in float64.
A CSV table may begin with ``#`` lines holding FITS header cards (the tables of a
data set's parts do: :mod:`astrovader.data.tables.parts`); :func:`csv_cards` reads them.
Rows are written chunk by chunk, so a table of any length needs the memory of one
chunk, and the file appears only when every announced row is written. Framework-free.
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import numpy as np
from astropy.io import fits

from astrovader._io import atomic_path
from astrovader._progress import progress_bar
from astrovader.data.tables.fits_writer import empty_primary, fits_stream, table_header
from astrovader.errors import InputError

__all__ = [
    "ANOMALY",
    "LOG_LIKELIHOOD",
    "SCORES",
    "TABLE_SUFFIXES",
    "cluster_table",
    "csv_body",
    "csv_cards",
    "id_length",
    "read_clusters",
    "write_clusters",
    "write_stream",
]

TABLE_SUFFIXES = (".csv", ".fits", ".fit", ".fts")
COMMENT = "# "
UNITS = {"ra": "deg", "dec": "deg"}
LOG_LIKELIHOOD = "log_likelihood"
ANOMALY = "anomaly_score"
SCORES = (LOG_LIKELIHOOD, ANOMALY)
"""The score columns, in order: log p̂(x) (nats) and the default anomaly score (bits)."""


def _format(values: np.ndarray) -> tuple[str, str]:
    """The FITS column format and NumPy dtype of a per-object column."""
    if values.dtype.kind == "f":
        return "D", ">f8"
    if values.dtype.kind in "iu":
        return "K", ">i8"
    if values.dtype.kind == "b":
        return "L", "?"
    width = max(1, max((len(_text(v).encode()) for v in values), default=1))
    return f"{width}A", f"S{width}"


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.10g}"
    return _text(value)


def _csv_rows(writer, n_clusters: int, latent_dim: int, columns: dict, scores: bool = False):
    header = ["id", *columns, "cluster", *(f"p_{k}" for k in range(n_clusters))]
    writer.writerow(header + [f"z_{j}" for j in range(latent_dim)] + list(SCORES) * scores)

    def write(start, ids, gamma, z, clusters, score=None):
        extra = [np.asarray(v)[start : start + len(ids)] for v in columns.values()]
        for i, (name, cluster) in enumerate(zip(ids, clusters, strict=True)):
            cells = [_cell(e[i]) for e in extra]
            numbers = [f"{v:.6g}" for v in (*gamma[i], *z[i])]
            tail = [f"{float(score[i, s]):.8g}" for s in range(len(SCORES))] if scores else []
            writer.writerow([name, *cells, int(cluster), *numbers, *tail])

    return write


def _fits_layout(count, n_clusters, latent_dim, id_length, columns, cards, scores=False):
    """The headers and the row dtype of a FITS cluster table."""
    formats = {name: _format(np.asarray(values)) for name, values in columns.items()}
    fits_columns = [
        fits.Column(name="id", format=f"{id_length}A"),
        *(fits.Column(name=n, format=f, unit=UNITS.get(n)) for n, (f, _) in formats.items()),
        fits.Column(name="cluster", format="J"),
        fits.Column(name="gamma", format=f"{n_clusters}E"),
        fits.Column(name="z", format=f"{latent_dim}E"),
        *([fits.Column(name=name, format="D") for name in SCORES] if scores else []),
    ]
    dtype = np.dtype(
        [
            ("id", f"S{id_length}"),
            *((n, d) for n, (_, d) in formats.items()),
            ("cluster", ">i4"),
            ("gamma", ">f4", (n_clusters,)),
            ("z", ">f4", (latent_dim,)),
            *([(name, ">f8") for name in SCORES] if scores else []),
        ]
    )
    primary, table = empty_primary(), table_header(fits_columns, count, "CLUSTERS")
    for card in cards:
        primary.append(card)
        table.append(card)
    return [primary, table], dtype


def _fits_rows(stream, dtype: np.dtype, columns: dict, scores: bool = False):
    def write(start, ids, gamma, z, clusters, score=None):
        rows = np.empty(len(ids), dtype)
        rows["id"] = [name.encode() for name in ids]
        for name, values in columns.items():
            part = np.asarray(values)[start : start + len(ids)]
            rows[name] = [_text(v).encode() for v in part] if dtype[name].kind == "S" else part
        rows["cluster"], rows["gamma"], rows["z"] = clusters, gamma, z
        if scores:
            for s, name in enumerate(SCORES):
                rows[name] = score[:, s]
        stream.write(1, start * dtype.itemsize, rows.tobytes())

    return write


@contextlib.contextmanager
def cluster_table(
    path,
    count: int,
    *,
    n_clusters: int,
    latent_dim: int,
    id_length: int,
    columns: dict | None = None,
    cards: list | None = None,
    scores: bool = False,
    csv_cards: bool = False,
):
    """Open a table of ``count`` rows; yield ``write(ids, gamma, z[, scores])`` to append rows.

    Args:
        path: ``.csv`` or ``.fits`` (``.fit``, ``.fts``) output.
        count: The number of rows that will be written.
        n_clusters: K, the columns of γ.
        latent_dim: J, the columns of z.
        id_length: Longest id in UTF-8 bytes (the FITS string width).
        columns: Per-object columns of all ``count`` rows, written after the id
            (``ra``/``dec`` with unit ``deg`` in FITS), lower-case names.
        cards: Header cards of a FITS table (provenance; see
            :func:`astrovader.data.tables.fits_writer.provenance`).
        scores: Add the :data:`SCORES` columns (``write`` then takes an (n, 2) array of
            them, log p̂(x) and the anomaly score).
        csv_cards: Write ``cards`` into a CSV table too, as leading ``#`` lines.

    Raises:
        InputError: another suffix, or not exactly ``count`` rows written.
    """
    path, columns = Path(path), {k.lower(): v for k, v in (columns or {}).items()}
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: the table must end in .csv or .fits, got {suffix or 'none'!r}")
    written = 0
    with contextlib.ExitStack() as stack:
        if suffix == ".csv":
            tmp = stack.enter_context(atomic_path(path))
            handle = stack.enter_context(tmp.open("w", newline=""))
            if csv_cards:
                handle.writelines(f"{COMMENT}{line}\n" for line in card_lines(cards or []))
            writer = csv.writer(handle, lineterminator="\n")
            rows = _csv_rows(writer, n_clusters, latent_dim, columns, scores)
        else:
            layout = _fits_layout(
                count, n_clusters, latent_dim, max(1, id_length), columns, cards or [], scores
            )
            stream = stack.enter_context(fits_stream(path, layout[0]))
            rows = _fits_rows(stream, layout[1], columns, scores)

        def write(ids, gamma, z, score=None):
            nonlocal written
            gamma, z = np.asarray(gamma), np.asarray(z)
            if scores:
                score = None if score is None else np.asarray(score, float)
                if score is None or score.shape != (len(gamma), len(SCORES)):
                    raise ValueError(
                        f"the table has the columns {', '.join(SCORES)}: give both scores "
                        "of every row, an (n, 2) array"
                    )
            rows(written, list(ids), gamma, z, np.argmax(gamma, axis=1), score)
            written += len(gamma)

        yield write
        if written != count:
            raise InputError(f"{path}: {written} rows written, {count} expected")


def card_lines(cards) -> list[str]:
    """Header cards as the 80-character lines of a FITS header, right-stripped."""
    image = "".join(card.image for card in cards)
    return [image[i : i + 80].rstrip() for i in range(0, len(image), 80)]


def csv_cards(path) -> fits.Header:
    """The header cards of a CSV table's leading ``#`` lines (empty if it has none)."""
    lines = []
    with Path(path).open(newline="") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line[len(COMMENT) :].rstrip("\r\n").ljust(80))
    try:
        return fits.Header.fromstring("".join(lines))
    except ValueError as exc:
        raise InputError(f"{path}: unreadable header lines ({exc})") from None


def csv_body(handle):
    """The lines of an open CSV table after its leading ``#`` lines."""
    for line in handle:
        if not line.startswith("#"):
            yield line
            break
    yield from handle


def id_length(ids) -> int:
    """The longest id in UTF-8 bytes (at least 1)."""
    return max((len(str(i).encode()) for i in ids), default=1)


def write_clusters(
    path: str | Path, ids, *, gamma: np.ndarray, z: np.ndarray, columns=None, score=None
):
    """Write a whole cluster table at once (see :func:`cluster_table`).

    ``score``: None, or the (N, 2) :data:`SCORES` of the rows.
    """
    gamma, z = np.asarray(gamma), np.asarray(z)
    shape = {"n_clusters": gamma.shape[1], "latent_dim": z.shape[1], "id_length": id_length(ids)}
    with cluster_table(
        path, len(gamma), **shape, columns=columns, scores=score is not None
    ) as write:
        write(ids, gamma, z, score)


def write_stream(
    path,
    stream,
    *,
    embed,
    shape: tuple[int, int],
    batch_size: int,
    progress=True,
    cards=None,
    scores: bool = False,
    csv_cards: bool = False,
):
    """Write the cluster table of every image of ``stream``, one batch at a time.

    Args:
        path: The ``.csv`` or ``.fits`` table.
        stream: An :class:`~astrovader.data.pipelines.stream.ImageStream`.
        embed: ``embed(images) → (gamma, z)`` for one batch (a model's ``embed``), or
            ``(gamma, z, scores)`` with ``scores`` ((n, 2): the :data:`SCORES`).
        shape: (K, J), the columns of γ and z.
        batch_size: Images per batch.
        progress: Show a progress bar.
        cards: FITS header cards (provenance).
        scores: Write the :data:`SCORES` columns (the third output of ``embed``).
        csv_cards: Write ``cards`` into a CSV table too (as leading ``#`` lines).

    Returns:
        The number of rows written.
    """
    n_clusters, latent_dim = shape
    options = {"columns": stream.columns, "cards": cards, "scores": scores, "csv_cards": csv_cards}
    with (
        cluster_table(
            path,
            stream.count,
            n_clusters=n_clusters,
            latent_dim=latent_dim,
            id_length=stream.id_length,
            **options,
        ) as write,
        progress_bar(total=stream.count, desc="embedding", unit="img", disable=not progress) as bar,
    ):
        for ids, images in stream.batches(batch_size):
            write(ids, *embed(images))
            bar.update(len(ids))
    return stream.count


def read_clusters(path: str | Path) -> dict[str, np.ndarray]:
    """Read a ``.csv`` or ``.fits`` cluster table.

    Returns:
        ``id``, ``cluster``, ``gamma`` (N, K), ``z`` (N, J), ``columns``: the
        per-object columns between ``id`` and ``cluster`` (numbers where every
        value is one), and each of the :data:`SCORES` the table has.

    Raises:
        InputError: a FITS file without a ``CLUSTERS`` table of these columns.
    """
    if Path(path).suffix.lower() in TABLE_SUFFIXES[1:]:
        return _read_fits(Path(path))
    with Path(path).open(newline="") as handle:
        rows = list(csv.reader(csv_body(handle)))
    header, body = rows[0], rows[1:]
    at = header.index("cluster")
    p_cols = [i for i, name in enumerate(header) if i > at and name.startswith("p_")]
    z_cols = [i for i, name in enumerate(header) if i > at and name.startswith("z_")]
    score = {name: header.index(name) for name in SCORES if name in header}
    columns = {}
    for i in range(1, at):
        values = np.array([r[i] for r in body])
        try:
            columns[header[i]] = values.astype(float)
        except ValueError:
            columns[header[i]] = values
    return {
        "id": np.array([r[0] for r in body]),
        "cluster": np.array([int(r[at]) for r in body]),
        "gamma": np.array([[float(r[i]) for i in p_cols] for r in body]).reshape(len(body), -1),
        "z": np.array([[float(r[i]) for i in z_cols] for r in body]).reshape(len(body), -1),
        "columns": columns,
        **{name: np.array([float(r[i]) for r in body]) for name, i in score.items()},
    }


def _read_fits(path: Path) -> dict[str, np.ndarray]:
    """A FITS cluster table (the ``CLUSTERS`` extension :func:`cluster_table` writes)."""
    from astropy.table import Table

    try:
        table = Table.read(path, hdu="CLUSTERS")
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path}: not a cluster table ({' '.join(str(exc).split())})") from None
    missing = [name for name in ("id", "cluster", "gamma", "z") if name not in table.colnames]
    if missing:
        raise InputError(f"{path}: not a cluster table (no column {missing[0]!r})")
    names = table.colnames
    between = names[names.index("id") + 1 : names.index("cluster")]
    return {
        "id": np.array([_text(v) for v in table["id"]]),
        "cluster": np.asarray(table["cluster"], int),
        "gamma": np.asarray(table["gamma"], float).reshape(len(table), -1),
        "z": np.asarray(table["z"], float).reshape(len(table), -1),
        "columns": {
            name: np.asarray(table[name])
            if table[name].dtype.kind != "S"
            else np.array([_text(v) for v in table[name]])
            for name in between
        },
        **{name: np.asarray(table[name], float) for name in SCORES if name in names},
    }
