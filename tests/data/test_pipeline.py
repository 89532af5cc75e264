"""The in-memory training pipeline: reproducible per-image flips."""

import numpy as np

from astrovader.data.pipeline import training_dataset


def _flips(image):
    return [image, image[:, ::-1], image[::-1], image[::-1, ::-1]]


def test_flips_are_per_image_reproducible_and_change_between_epochs():
    images = np.random.default_rng(0).random((64, 6, 6, 1)).astype("float32")
    first = training_dataset(images, 16, seed=5, flips=True)
    second = training_dataset(images, 16, seed=5, flips=True)
    plain = training_dataset(images, 16, seed=5, flips=False)
    epoch_a = [b.numpy() for b in first]
    np.testing.assert_array_equal(np.concatenate(epoch_a), np.concatenate(list(second)))
    sources = np.concatenate(list(plain))
    flipped = np.concatenate(epoch_a)
    kinds = []
    for source, out in zip(sources, flipped, strict=True):
        matches = [k for k, f in enumerate(_flips(source)) if np.array_equal(f, out)]
        assert matches, "every output is a flip of its source image"
        kinds.append(matches[0])
    assert set(kinds) == {0, 1, 2, 3}, "all four flips occur among 64 images"
    epoch_b = np.concatenate([b.numpy() for b in first])
    assert not np.array_equal(flipped, epoch_b)
