"""``astrovader embed``: streamed tables equal the in-memory γ and z, for every input form."""

import numpy as np
import pytest
from astropy.table import Table
from PIL import Image

from astrovader.cli import main
from astrovader.data.pipelines.shards import write_tfrecords
from astrovader.data.tables.clusters import read_clusters

N, SIZE, BATCH = 23, 16, 5


@pytest.fixture(scope="module")
def model_file(tiny_model_file):
    """A small untrained model with a non-trivial mixture, saved as .keras."""
    return tiny_model_file(0)


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(2).integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)


@pytest.fixture(scope="module")
def expected(model_file, pixels):
    """γ and z computed in memory, with the same batches, through the eager inference API."""
    import astrovader

    model = astrovader.load_model(model_file)
    x = pixels[..., None].astype("float32") / 255
    z, _ = model.encode(x, BATCH)
    return model.cluster_probabilities(x, BATCH), z


@pytest.fixture(scope="module")
def sources(tmp_path_factory, pixels):
    root = tmp_path_factory.mktemp("data")
    (root / "pngs").mkdir()
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(root / "pngs" / f"{i:06d}.png")
    np.save(root / "cube.npy", pixels)
    ids = [f"{i:06d}" for i in range(N)]
    write_tfrecords(
        root / "shards", zip(ids, pixels, strict=True), shard_bytes=1000, progress=False
    )
    return {"folder": root / "pngs", "npy": root / "cube.npy", "tfrecord": root / "shards"}


@pytest.mark.parametrize("form", ["folder", "npy", "tfrecord"])
def test_csv_table_equals_the_in_memory_assignments(model_file, sources, expected, tmp_path, form):
    out = tmp_path / "table.csv"
    args = ["embed", str(model_file), str(sources[form]), "--out", str(out)]
    assert main([*args, "--batch-size", str(BATCH), "--quiet"]) == 0
    table = read_clusters(out)
    gamma, z = expected
    assert list(table["id"]) == [f"{i:06d}" for i in range(N)]
    np.testing.assert_allclose(table["gamma"], gamma, rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(table["z"], z, rtol=2e-5, atol=1e-7)
    np.testing.assert_array_equal(table["cluster"], gamma.argmax(axis=1))
    np.testing.assert_allclose(table["gamma"].sum(axis=1), 1.0, atol=1e-4)


def test_fits_table_holds_float32_vectors(model_file, sources, expected, tmp_path):
    out = tmp_path / "table.fits"
    args = ["embed", str(model_file), str(sources["tfrecord"]), "--out", str(out)]
    assert main([*args, "--batch-size", str(BATCH), "--quiet"]) == 0
    table = Table.read(out, hdu="CLUSTERS")
    gamma, z = expected
    assert len(table) == N and list(table["id"]) == [f"{i:06d}" for i in range(N)]
    np.testing.assert_allclose(table["gamma"], gamma, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(table["z"], z, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(table["cluster"], gamma.argmax(axis=1))


def test_errors_exit_2_and_write_nothing(model_file, sources, tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(["embed", str(model_file), str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "missing: no such file or directory" in capsys.readouterr().err
    assert main(["embed", str(model_file), str(sources["npy"]), "--out", str(tmp_path / "t.txt")])
    assert "must end in .csv or .fits" in capsys.readouterr().err
    out.write_text("keep me")
    assert main(["embed", str(model_file), str(sources["npy"]), "--out", str(out)]) == 2
    assert "exists; use --overwrite" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    bad = tmp_path / "bad.npy"
    flux = np.full((7, SIZE, SIZE), 2.0, np.float32)
    flux[5, 1, 1] = np.nan
    np.save(bad, flux)
    assert main(["embed", str(model_file), str(bad), "--out", str(tmp_path / "b.csv")]) == 2
    assert "bad.npy[5]: image has 1 NaN or infinite pixel(s)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npy", "t.csv"]
