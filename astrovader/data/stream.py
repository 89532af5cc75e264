"""Batches of ``(ids, images)`` from data larger than memory (folder, ``.npy``, TFRecord).

Only one batch (plus, for a folder, the next one being decoded) is in memory at a
time. Images come out as the readers make them (:mod:`astrovader.data.readers`):
float32 (n, S, S, B) in [0, 1]; ids as :func:`~astrovader.data.readers.load_images`
names them (relative path without suffix, or the zero-padded array index).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from astrovader.data._decode import conform
from astrovader.data.catalogue import id_length
from astrovader.data.folders import find_images, image_ids
from astrovader.data.readers import read_image
from astrovader.errors import InputError

Batches = Iterator[tuple[list[str], np.ndarray]]


@dataclasses.dataclass(frozen=True)
class ImageStream:
    """A data set read batch by batch.

    Attributes:
        count: Number of images.
        id_length: Longest id, in UTF-8 bytes.
        batches: ``batches(batch_size)`` iterates ``(ids, images)`` in order.
    """

    count: int
    id_length: int
    batches: Callable[[int], Batches]


def _parts(n: int, size: int):
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _folder(path: Path, bands: int, size: int) -> ImageStream:
    paths, skipped = find_images(path)
    if not paths:
        raise InputError(f"{path}: no images found ({skipped} other file(s) skipped)")
    ids = image_ids(path, paths)

    def batches(batch_size: int) -> Batches:
        parts = _parts(len(paths), batch_size)
        with ThreadPoolExecutor() as pool:

            def submit(part):
                return [pool.submit(read_image, p, bands, size) for p in paths[part]]

            pending = submit(parts[0])
            for i, part in enumerate(parts):
                current, pending = pending, submit(parts[i + 1]) if i + 1 < len(parts) else []
                yield ids[part], np.stack([future.result() for future in current])

    return ImageStream(len(paths), id_length(ids), batches)


def _npy(path: Path, bands: int, size: int) -> ImageStream:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise InputError(f"{path}: cannot read .npy array ({' '.join(str(exc).split())})") from None
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or 0 in array.shape:
        raise InputError(f"{path}: expected an N×H×W or N×H×W×B array, got {array.shape}")
    if array.shape[3] != bands and bands != 1:
        raise InputError(f"{path}: array has {array.shape[3]} band(s) but {bands} are wanted")
    divisor = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(array.dtype, 1.0)
    if divisor == 1.0 and array.dtype.kind != "f":
        raise InputError(
            f"{path}: unsupported dtype {array.dtype} (expected uint8, uint16 or float)"
        )
    count = array.shape[0]
    width = max(6, len(str(count - 1)))

    def batches(batch_size: int) -> Batches:
        for part in _parts(count, batch_size):
            chunk = np.asarray(array[part], dtype=np.float32) / np.float32(divisor)
            if not (np.isfinite(chunk).all() and chunk.min() >= 0.0 and chunk.max() <= 1.0):
                raise InputError(
                    f"{path}: images {part.start}–{part.stop - 1} have values outside [0, 1] or "
                    "NaN/inf (float arrays must hold pixels in [0, 1])"
                )
            if chunk.shape[1:] != (size, size, bands):
                chunk = np.stack(
                    [
                        conform(img, bands, size, f"{path}[{part.start + i}]")
                        for i, img in enumerate(chunk)
                    ]
                )
            yield [f"{i:0{width}d}" for i in range(part.start, part.stop)], chunk

    return ImageStream(count, width, batches)


def _tfrecord(path: Path, bands: int, size: int) -> ImageStream:
    from astrovader.data.tfrecord import read_manifest
    from astrovader.data.tfrecord_datasets import evaluation_dataset

    manifest = read_manifest(path)
    if (manifest["image_size"], manifest["bands"]) != (size, bands):
        raise InputError(
            f"{path}: shards hold {manifest['image_size']}×{manifest['image_size']} images with "
            f"{manifest['bands']} band(s), the model wants {size}×{size} with {bands}"
        )

    def batches(batch_size: int) -> Batches:
        for ids, images in evaluation_dataset(path, batch_size, with_ids=True):
            yield [i.decode() for i in ids.numpy()], images.numpy()

    return ImageStream(manifest["count"], max(1, manifest["max_id_length"]), batches)


def open_stream(path, bands: int, size: int) -> ImageStream:
    """Open a folder of images, a ``.npy`` array (memory-mapped) or a TFRecord directory.

    Args:
        path: The data.
        bands: Bands B wanted (1 grey, 3 colour).
        size: Side S wanted in pixels.

    Raises:
        InputError: a missing path, no images, duplicate ids, a bad array, or shards
            of another size; the message names the path.
    """
    path = Path(path)
    if (path / "manifest.json").is_file():
        return _tfrecord(path, bands, size)
    if path.is_dir():
        return _folder(path, bands, size)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix.lower() == ".npy":
        return _npy(path, bands, size)
    raise InputError(f"{path}: not a folder of images, a .npy array or a TFRecord directory")
