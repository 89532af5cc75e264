"""The in-memory training pipeline: reproducible per-image flips, epochs keyed by their number."""

import numpy as np

from astrovader.data.pipelines.memory import EpochCounter, training_dataset


def _flips(image):
    return [image, image[:, ::-1], image[::-1], image[::-1, ::-1]]


def _epoch(ds, counter, epoch):
    counter.set(epoch)
    return np.concatenate([b.numpy() for b in ds])


def test_flips_are_per_image_reproducible_and_change_between_epochs():
    images = np.random.default_rng(0).random((64, 6, 6, 1)).astype("float32")
    counter, other = EpochCounter(), EpochCounter()
    ds = training_dataset(images, 16, seed=5, flips=True, counter=counter)
    again = training_dataset(images, 16, seed=5, flips=True, counter=other)
    plain = training_dataset(images, 16, seed=5, flips=False, counter=other)
    first = _epoch(ds, counter, 0)
    assert len([b for b in ds]) == 4
    np.testing.assert_array_equal(first, _epoch(again, other, 0))
    kinds = []
    for source, out in zip(_epoch(plain, other, 0), first, strict=True):
        matches = [k for k, f in enumerate(_flips(source)) if np.array_equal(f, out)]
        assert matches, "every output is a flip of its source image"
        kinds.append(matches[0])
    assert set(kinds) == {0, 1, 2, 3}, "all four flips occur among 64 images"
    assert not np.array_equal(first, _epoch(ds, counter, 1)), "epochs differ"
    assert sorted(map(bytes, _epoch(plain, other, 3))) == sorted(map(bytes, images))


def test_an_epoch_is_the_same_whatever_came_before():
    images = np.random.default_rng(1).random((50, 4, 4, 1)).astype("float32")
    counter, fresh = EpochCounter(), EpochCounter()
    ds = training_dataset(images, 16, seed=3, flips=True, counter=counter)
    whole = [_epoch(ds, counter, e) for e in range(4)]
    resumed = training_dataset(images, 16, seed=3, flips=True, counter=fresh)
    np.testing.assert_array_equal(_epoch(resumed, fresh, 2), whole[2])
    np.testing.assert_array_equal(_epoch(ds, counter, 2), whole[2])
    other_seed = training_dataset(images, 16, seed=4, flips=True, counter=fresh)
    assert not np.array_equal(_epoch(other_seed, fresh, 2), whole[2])
