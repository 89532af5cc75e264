"""A run's inputs: TFRecord shards split and stream like the in-memory images."""

import numpy as np
import pytest

from astrovader.config import Config
from astrovader.data.pipelines.shards import write_tfrecords
from astrovader.data.sources import load_data
from astrovader.data.tables.clusters import read_clusters
from astrovader.errors import InputError
from astrovader.training.inputs import run_inputs

N, SIZE = 30, 16


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    pixels = np.random.default_rng(4).integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)
    np.save(root / "cube.npy", pixels)
    ids = [f"{i:06d}" for i in range(N)]
    write_tfrecords(
        root / "shards", zip(ids, pixels, strict=True), shard_bytes=2000, progress=False
    )
    return root


def _config(path, **data):
    return Config().replace(
        data={"path": str(path), "image_size": SIZE, "validation_fraction": 0.2, **data},
        model={"latent_dim": 2, "n_clusters": 2, "filters": [4, 4, 4]},
        training={"batch_size": 8, "seed": 1},
    )


def _keys(batches):
    return sorted(np.rint(image * 255).astype(np.uint8).tobytes() for b in batches for image in b)


def test_shards_split_and_batch_like_the_in_memory_array(data):
    config = _config(data / "cube.npy", flips=False)
    memory = run_inputs(config, images=load_data(config, progress=False))
    shards = run_inputs(_config(data / "shards", flips=False))
    assert (shards.n_train, shards.n_val) == (memory.n_train, memory.n_val) == (24, 6)
    # In memory, the batches also bring the rows of the tied views (held per image);
    # shards keep the teacher snapshot instead.
    assert memory.tied is not None and shards.tied is None
    train_memory = [images for images, _ in memory.train]
    train_shards = list(shards.train)
    assert [len(b) for b in train_shards] == [len(b) for b in train_memory] == [8, 8, 8]
    assert _keys(train_shards) == _keys(train_memory)
    val_memory = np.concatenate(list(memory.validation))
    val_shards = np.concatenate(list(shards.validation))
    np.testing.assert_allclose(val_shards, val_memory, rtol=0, atol=1e-7)


def test_shards_of_another_size_are_refused(data):
    with pytest.raises(InputError, match=r"shards hold 16×16 images .* data\.image_size = 32"):
        run_inputs(_config(data / "shards").replace(data={"image_size": 32}))


def test_in_memory_images_must_be_given(data):
    with pytest.raises(InputError, match=r"cube\.npy' names images that are read into memory"):
        run_inputs(_config(data / "cube.npy"))


def test_clusters_of_shards_are_streamed_for_every_record(data, tmp_path):
    from astrovader.model.embedding import write_embedding
    from astrovader.model.vade import AstroVaDEr
    from astrovader.training.plan import plan_run

    model = AstroVaDEr(image_size=SIZE, latent_dim=2, n_clusters=2, filters=(4, 4, 4))
    model.prior.set_mixture([0.5, 0.5], [[0.0, 0.0], [0.01, 0.0]], var=np.full((2, 2), 0.01))
    plan = plan_run(_config(data / "shards"), tmp_path / "run")
    assert plan.kind == "shards" and plan.images is None
    stream = plan.stream(model.read_options())
    write_embedding(model, stream, out=tmp_path / "clusters.csv", batch_size=8)
    table = read_clusters(tmp_path / "clusters.csv")
    assert list(table["id"]) == [f"{i:06d}" for i in range(N)]
    x = np.load(data / "cube.npy")[..., None].astype("float32") / 255
    np.testing.assert_allclose(table["gamma"], model.cluster_probabilities(x, 8), atol=1e-5)


@pytest.mark.slow
def test_fit_trains_from_shards(data, tmp_path):
    from astrovader.cli import main

    schedule = {"gamma_epochs": 1, "gmm_batches": 2, "anneal_epochs": 1, "static_epochs": 0}
    config = _config("").replace(schedule={**schedule, "periods": 1})
    config.save(tmp_path / "tiny.toml")
    run = tmp_path / "run"
    args = ["fit", str(data / "shards"), "--config", str(tmp_path / "tiny.toml")]
    assert main([*args, "--out", str(run), "--quiet"]) == 0
    assert len(read_clusters(run / "clusters.csv")["id"]) == N
    assert f'path = "{(data / "shards").resolve()}"' in (run / "config.toml").read_text()
