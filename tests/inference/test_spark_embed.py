"""Embedding over Spark (local[2]): one task per part, merged into the one-machine table."""

import os
import shutil

import numpy as np
import pytest

from astrovader.errors import AstrovaderError

N, SIZE, BATCH = 23, 16, 5

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("java") is None and "JAVA_HOME" not in os.environ, reason="Spark needs Java"
    ),
]


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from astrovader._spark import spark_session

    session, _ = spark_session("local[2]", app="astrovader-embed-test")
    yield session
    session.stop()


def test_spark_tasks_write_the_one_machine_table(spark, tiny_model_file, tmp_path, caplog):
    from astrovader.cli import main
    from astrovader.inference import embed_parts_spark

    pixels = np.random.default_rng(4).integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)
    np.save(tmp_path / "cube.npy", pixels)
    model, whole = tiny_model_file(0), tmp_path / "whole.csv"
    argv = ["embed", str(model), str(tmp_path / "cube.npy"), "--out", str(whole), "--quiet"]
    assert main([*argv, "--batch-size", str(BATCH), "--likelihood-samples", "0"]) == 0

    out = tmp_path / "spark.csv"
    stale = tmp_path / ".spark.csv.parts.tmp-a1b2c3d4"  # the parts of a killed run
    stale.mkdir()
    (stale / "part-00001-of-00003.csv").write_text("id,cluster\n")
    settings = {"spark": spark, "batch_size": BATCH, "likelihood_samples": 0, "progress": False}
    with caplog.at_level("INFO", logger="astrovader"):
        assert embed_parts_spark(model, tmp_path / "cube.npy", out=out, parts=3, **settings) == N
    assert out.read_bytes() == whole.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.npy", "spark.csv", "whole.csv"]
    assert "removed 1 temporary output(s)" in caplog.text

    flux = pixels.astype(np.float32)
    flux[20, 3, 3] = np.nan  # in part 2 of 2: its task fails, and says why in one line
    np.save(tmp_path / "bad.npy", flux)
    with pytest.raises(AstrovaderError, match=r"^Spark task: .*bad\.npy\[20\]: image has 1 NaN"):
        embed_parts_spark(
            model, tmp_path / "bad.npy", out=tmp_path / "bad.csv", parts=2, **settings
        )
    assert not (tmp_path / "bad.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
