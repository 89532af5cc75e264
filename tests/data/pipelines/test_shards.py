"""TFRecord shards: exact round trip, order, splits, sharding and atomic writes."""

import json

import numpy as np
import pytest
from PIL import Image

from astrovader.data.images.readers import load_images
from astrovader.data.pipelines.memory import EpochCounter
from astrovader.data.pipelines.shards import (
    pack_folder,
    read_manifest,
    shard_evaluation_dataset,
    shard_training_dataset,
    to_uint8,
    write_tfrecords,
)
from astrovader.errors import InputError


def _pairs(n, size=8, bands=1, seed=0):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (n, size, size, bands), dtype=np.uint8)
    pixels[0] = 0
    pixels[1] = 255
    ids = [f"galaxy_{i:03d}_é" for i in range(n)]
    return ids, pixels


def _read_all(path, batch_size=4, keep=None):
    ids, images = [], []
    for batch_ids, batch in shard_evaluation_dataset(path, batch_size, keep=keep, with_ids=True):
        ids += [i.decode() for i in batch_ids.numpy()]
        images.append(batch.numpy())
    return ids, np.concatenate(images)


@pytest.mark.parametrize("bands", [1, 3])
def test_round_trip_is_exact_in_order_across_shards(tmp_path, bands):
    ids, pixels = _pairs(11, bands=bands)
    shard_bytes = 3 * pixels[0].nbytes
    out = write_tfrecords(
        tmp_path / "shards", zip(ids, pixels, strict=True), shard_bytes=shard_bytes, progress=False
    )
    manifest = read_manifest(out)
    assert [s["count"] for s in manifest["shards"]] == [3, 3, 3, 2]
    assert (manifest["count"], manifest["image_size"], manifest["bands"]) == (11, 8, bands)
    assert manifest["max_id_length"] == len(ids[0].encode())
    read_ids, images = _read_all(out)
    assert read_ids == ids
    assert images.dtype == np.float32
    np.testing.assert_array_equal(images, pixels.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(to_uint8(images), pixels)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_8_bit_pngs_round_trip_to_the_readers_floats(tmp_path, mode):
    folder = tmp_path / "pngs"
    (folder / "sub").mkdir(parents=True)
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for k, name in enumerate(["b", "a", "sub/c"]):
        grey = np.roll(values, k, axis=0)
        pixels = grey if mode == "L" else np.stack([grey, grey.T, 255 - grey], axis=-1)
        Image.fromarray(pixels).save(folder / f"{name}.png")
    bands = 1 if mode == "L" else 3
    imageset = load_images(folder, bands=bands, size=16, progress=False)
    for out in (
        write_tfrecords(tmp_path / "from_imageset", imageset, progress=False),
        pack_folder(folder, tmp_path / "packed", progress=False),
    ):
        ids, images = _read_all(out)
        assert ids == list(imageset.ids) == ["a", "b", "sub/c"]
        np.testing.assert_array_equal(images, imageset.images)


def test_training_batches_cover_the_kept_records_once_per_epoch(tmp_path):
    ids, pixels = _pairs(20)
    out = write_tfrecords(
        tmp_path / "s", zip(ids, pixels, strict=True), shard_bytes=6 * 64, progress=False
    )
    keep = np.ones(20, bool)
    keep[[2, 5, 11]] = False
    counter = EpochCounter()
    ds = shard_training_dataset(out, 6, seed=1, flips=False, keep=keep, counter=counter)
    expected = sorted(p.tobytes() for p in pixels[keep])
    epochs = []
    for epoch in range(2):
        counter.set(epoch)
        batches = [b.numpy() for b in ds]
        assert [len(b) for b in batches] == [6, 6, 5]
        epochs.append(np.concatenate(batches))
        assert sorted(to_uint8(s).tobytes() for s in epochs[-1]) == expected
    assert not np.array_equal(epochs[0], epochs[1]), "the order should change between epochs"
    fresh = EpochCounter(1)
    resumed = shard_training_dataset(out, 6, seed=1, flips=False, keep=keep, counter=fresh)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in resumed]), epochs[1])
    held_out_ids, _ = _read_all(out, keep=~keep)
    assert held_out_ids == [ids[i] for i in (2, 5, 11)]


def test_bad_sources_raise_and_leave_nothing(tmp_path):
    ids, pixels = _pairs(3)
    bad = [(ids[0], pixels[0]), (ids[1], pixels[1][:4])]
    with pytest.raises(InputError, match="galaxy_001_é: expected uint8 pixels of shape"):
        write_tfrecords(tmp_path / "a", bad, progress=False)
    with pytest.raises(InputError, match="expected uint8"):
        write_tfrecords(tmp_path / "a", [("x", pixels[0].astype(np.float32))], progress=False)
    with pytest.raises(InputError, match="no images to write"):
        write_tfrecords(tmp_path / "a", [], progress=False)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(InputError, match="full: exists and is not an empty directory"):
        write_tfrecords(tmp_path / "full", zip(ids, pixels, strict=True), progress=False)


def test_manifest_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"manifest\.json: not a readable TFRecord manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(InputError, match="not an astrovader-tfrecord manifest"):
        read_manifest(tmp_path)
