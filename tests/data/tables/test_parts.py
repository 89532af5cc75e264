"""Deterministic parts: complete, disjoint, along whole batches, for every kind of source."""

import numpy as np
import pytest
from PIL import Image

from astrovader.data.images.imageset import ImageSet
from astrovader.data.images.options import ReadOptions
from astrovader.data.pipelines.shards import write_tfrecords
from astrovader.data.pipelines.stream import memory_stream, open_stream
from astrovader.data.tables.parts import Part
from astrovader.errors import InputError

N, SIZE, BATCH, PARTS = 23, 8, 4, 3


@pytest.mark.parametrize("total", [0, 1, 4, 5, 23, 24, 100])
@pytest.mark.parametrize("batch", [1, 4, 7])
@pytest.mark.parametrize("count", [1, 2, 3, 7, 30])
def test_parts_tile_the_rows_along_whole_batches(total, batch, count):
    parts = [Part(i, count).rows(total, batch) for i in range(1, count + 1)]
    assert [row for rows in parts for row in rows] == list(range(total))
    assert all(rows.start % batch == 0 for rows in parts)
    batches = [-(-len(rows) // batch) for rows in parts]  # the last batch may be short
    assert max(batches) - min(batches) <= 1
    assert sum(batches) == -(-total // batch)


def test_part_text_is_checked():
    assert Part.parse(" 2/8 ") == Part(2, 8) and str(Part(2, 8)) == "2/8"
    for text in ("0/3", "4/3", "1/0", "-1/3"):
        with pytest.raises(InputError, match=r"expected I/N with 1 ≤ I ≤ N"):
            Part.parse(text)
    with pytest.raises(InputError, match=r"shard '2of3': expected I/N"):
        Part.parse("2of3")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The same 23 images as a PNG folder, a .npy array, TFRecord shards and in memory.

    Image 1 (in part 1) is corrupt in the folder and in the array: reading part 1
    fails, reading parts 2 and 3 must not touch it. The shards are many files, so
    a part reads only some of them.
    """
    root = tmp_path_factory.mktemp("parts")
    pixels = np.random.default_rng(0).integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)
    (root / "pngs").mkdir()
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(root / "pngs" / f"{i:06d}.png")
    (root / "pngs" / "000001.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    flux = pixels.astype(np.float32) / 255
    flux[1, 2, 2] = np.nan
    np.save(root / "cube.npy", flux)
    ids = [f"{i:06d}" for i in range(N)]
    pairs = zip(ids, pixels, strict=True)
    write_tfrecords(root / "shards", pairs, shard_bytes=3 * SIZE * SIZE, progress=False)
    images = ImageSet(np.array(ids), pixels[..., None].astype(np.float32) / 255)
    return {
        "folder": root / "pngs",
        "npy": root / "cube.npy",
        "tfrecord": root / "shards",
        "memory": images,
    }, pixels


def _open(source):
    options = ReadOptions(1, SIZE)
    return memory_stream(source) if isinstance(source, ImageSet) else open_stream(source, options)


def _read(stream):
    batches = list(stream.batches(BATCH))
    ids = [i for batch_ids, _ in batches for i in batch_ids]
    return ids, np.concatenate([images for _, images in batches])


@pytest.mark.parametrize("kind", ["folder", "npy", "tfrecord", "memory"])
def test_parts_of_every_source_are_complete_and_disjoint(sources, kind):
    found, pixels = sources
    stream = _open(found[kind])
    ids, images = [], []
    for index in (2, 3):
        part = stream.part(Part(index, PARTS), BATCH)
        assert part.id_length == 6 and part.count == len(part.rows)
        part_ids, part_images = _read(part)
        assert part_ids == [f"{i:06d}" for i in part.rows]
        ids += part_ids
        images.append(part_images)
    first = stream.part(Part(1, PARTS), BATCH)
    assert first.rows == range(0, 8)  # 6 batches of 4 in parts of 2, 2 and 2 batches
    if kind in ("folder", "npy"):  # image 1 is corrupt there: only part 1 reads it
        with pytest.raises(InputError, match=r"000001|cube\.npy"):
            _read(first)
        expected = pixels[8:, ..., None] / 255
    else:
        first_ids, first_images = _read(first)
        ids, images = first_ids + ids, [first_images, *images]
        expected = pixels[..., None] / 255
    assert ids == [f"{i:06d}" for i in range(N - len(expected), N)]
    np.testing.assert_allclose(np.concatenate(images), expected, atol=1e-6)


def test_a_part_of_shards_reads_only_the_shards_that_hold_it(sources):
    found, pixels = sources
    stream = open_stream(found["tfrecord"], ReadOptions(1, SIZE))
    first = sorted(found["tfrecord"].glob("shard-*.tfrecord"))[0]
    saved = first.read_bytes()
    try:
        first.write_bytes(b"not a TFRecord")
        ids, images = _read(stream.part(Part(3, PARTS), BATCH))
        assert ids == [f"{i:06d}" for i in range(16, N)]
        np.testing.assert_allclose(images, pixels[16:, ..., None] / 255, atol=1e-6)
    finally:
        first.write_bytes(saved)


def test_parts_of_a_catalogue_carry_their_rows_columns(tmp_path):
    images = ImageSet(
        np.array([f"g{i}" for i in range(N)]),
        np.zeros((N, SIZE, SIZE, 1), np.float32),
        columns={"ra": np.arange(N) * 1.5},
    )
    part = memory_stream(images).part(Part(2, PARTS), BATCH)
    np.testing.assert_array_equal(part.columns["ra"], np.arange(8, 16) * 1.5)
    assert _read(part)[0] == [f"g{i}" for i in range(8, 16)]
