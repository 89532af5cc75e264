"""Batches of ``(ids, images)`` from data larger than memory (folder, catalogue, ``.npy``, shards).

Only one batch (plus, for stamps, the next one being decoded) is in memory at a
time. Images come out as the readers make them (:mod:`astrovader.data.images.readers`,
with the same :class:`~astrovader.data.images.options.ReadOptions`): float32
(n, S, S, B) in [0, 1]; ids as :func:`~astrovader.data.images.readers.load_images` names
them. Catalogue columns are known up front (``columns``).

Every source reads any contiguous range of its rows and decodes only those, so
:meth:`ImageStream.part` restricts any stream to one deterministic part
(:class:`~astrovader.data.tables.parts.Part`) before anything is decoded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from astrovader.data.images import _npy
from astrovader.data.images.decode import conform, decode_stamp, warn_odd
from astrovader.data.images.files import data_kind
from astrovader.data.images.options import ReadOptions
from astrovader.data.images.readers import find_stamps
from astrovader.data.tables.clusters import id_length
from astrovader.data.tables.parts import Part
from astrovader.errors import InputError

__all__ = ["ImageStream", "memory_stream", "open_stream", "read_ids"]

Batches = Iterator[tuple[list[str], np.ndarray]]


@dataclasses.dataclass(frozen=True)
class ImageStream:
    """A data set, or a contiguous part of it, read batch by batch.

    Attributes:
        count: Number of images the stream reads.
        id_length: Longest id of the whole data set, in UTF-8 bytes (so that the
            tables of its parts have the same id width).
        read: ``read(rows, batch_size)`` iterates ``(ids, images)`` of ``rows`` (a
            range of the data set's reading order), decoding only those rows.
        columns: Catalogue columns of the rows read (``ra``, ``dec``, extras).
        rows: The rows of the data set read (default: all ``count``).
    """

    count: int
    id_length: int
    read: Callable[[range, int], Batches]
    columns: dict = dataclasses.field(default_factory=dict)
    rows: range | None = None

    def __post_init__(self):
        if self.rows is None:
            object.__setattr__(self, "rows", range(self.count))

    def batches(self, batch_size: int) -> Batches:
        """``(ids, images)`` of every row in order, ``batch_size`` at a time."""
        return self.read(self.rows, batch_size)

    def part(self, part: Part, batch_size: int) -> ImageStream:
        """Part ``part`` of this stream's rows, split along whole batches of ``batch_size``.

        See :mod:`astrovader.data.tables.parts`: the parts of a stream are disjoint and
        together hold every row; nothing is decoded here.
        """
        within = part.rows(self.count, batch_size)
        columns = {k: np.asarray(v)[within.start : within.stop] for k, v in self.columns.items()}
        rows = self.rows[within.start : within.stop]
        return dataclasses.replace(self, count=len(rows), columns=columns, rows=rows)


def _parts(rows: range, size: int):
    return [
        slice(start, min(start + size, rows.stop)) for start in range(rows.start, rows.stop, size)
    ]


def _stamps(path: Path, options: ReadOptions) -> ImageStream:
    found = find_stamps(path, options)
    stamps = found.stamps
    ids = [stamp.id for stamp in stamps]

    def read(rows: range, batch_size: int) -> Batches:
        parts = _parts(rows, batch_size)
        if not parts:
            return
        notes: list[str] = []
        with ThreadPoolExecutor() as pool:

            def submit(part):
                return [pool.submit(decode_stamp, s, options, notes=notes) for s in stamps[part]]

            pending = submit(parts[0])
            for i, part in enumerate(parts):
                current, pending = pending, submit(parts[i + 1]) if i + 1 < len(parts) else []
                yield ids[part], np.stack([future.result()[0] for future in current])
        warn_odd(notes)

    return ImageStream(len(ids), id_length(ids), read, found.columns)


def _array(path: Path, options: ReadOptions) -> ImageStream:
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    array = _npy.open_array(path, options)
    display = _npy.is_display(array)
    ids = list(_npy.array_ids(path, array.shape[0]))
    where = str(path)

    def read(rows: range, batch_size: int) -> Batches:
        for part in _parts(rows, batch_size):
            pixels = [
                _npy.row_pixels(array, i, display, options, where)[0]
                for i in range(part.start, part.stop)
            ]
            images = [
                conform(
                    np.asarray(r, np.float32),
                    options.bands,
                    size=options.size,
                    where=f"{where}[{i}]",
                )
                for i, r in zip(range(part.start, part.stop), pixels, strict=True)
            ]
            yield ids[part], np.stack(images)

    return ImageStream(len(ids), id_length(ids), read)


def _tfrecord(path: Path, options: ReadOptions) -> ImageStream:
    from astrovader.data.pipelines.shards import read_manifest, shard_evaluation_dataset

    manifest = read_manifest(path)
    if (manifest["image_size"], manifest["bands"]) != (options.size, options.bands):
        raise InputError(
            f"{path}: shards hold {manifest['image_size']}×{manifest['image_size']} images with "
            f"{manifest['bands']} band(s), the model wants {options.size}×{options.size} with "
            f"{options.bands}"
        )

    def read(rows: range, batch_size: int) -> Batches:
        if not rows:
            return
        for ids, images in shard_evaluation_dataset(path, batch_size, with_ids=True, rows=rows):
            yield [i.decode() for i in ids.numpy()], images.numpy()

    return ImageStream(manifest["count"], max(1, manifest["max_id_length"]), read)


def memory_stream(imageset) -> ImageStream:
    """An in-memory :class:`~astrovader.data.images.imageset.ImageSet` as a stream."""

    def read(rows: range, batch_size: int) -> Batches:
        for part in _parts(rows, batch_size):
            yield list(imageset.ids[part]), imageset.images[part]

    return ImageStream(len(imageset), id_length(imageset.ids), read, imageset.columns)


def open_stream(path, options: ReadOptions) -> ImageStream:
    """Open a folder, a catalogue, an image file, a ``.npy`` array or a TFRecord directory.

    Args:
        path: The data.
        options: How stamps are read (bands, size, scaling, geometry).

    Raises:
        InputError: a missing path, no images, duplicate ids, a bad array, or shards
            of another size; the message names the path.
    """
    path, kind = Path(path), data_kind(path)
    if kind == "shards":
        return _tfrecord(path, options)
    if kind == "array":
        return _array(path, options)
    return _stamps(path, options)


def read_ids(path, options: ReadOptions, ids) -> tuple[list[str], np.ndarray]:
    """The images of ``ids`` (in that order) from a folder, catalogue, ``.npy`` or shards.

    Stamps of a folder or catalogue are decoded one by one, so a few images of a
    large set are read without reading the rest; arrays and shards are streamed.

    Raises:
        InputError: an id that ``path`` does not hold.
    """
    wanted = [str(i) for i in ids]
    path = Path(path)
    found: dict[str, np.ndarray] = {}
    if data_kind(path) == "stamps":
        stamps = {stamp.id: stamp for stamp in find_stamps(path, options).stamps}
        for name in wanted:
            if name in stamps and name not in found:
                found[name] = decode_stamp(stamps[name], options)[0]
    else:
        left = set(wanted)
        for batch_ids, images in open_stream(path, options).batches(256):
            for name, image in zip(batch_ids, images, strict=True):
                if name in left:
                    found[name] = image
                    left.discard(name)
            if not left:
                break
    missing = [name for name in wanted if name not in found]
    if missing:
        raise InputError(f"{path}: holds no image with id {missing[0]!r}")
    shape = (0, options.size, options.size, options.bands)
    images = np.stack([found[name] for name in wanted]) if wanted else np.zeros(shape, np.float32)
    return wanted, images
