"""``astrovader similar``: exact neighbours in μ̃, image and sky queries, bad input (tiny run)."""

import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from astrovader.cli import main
from astrovader.data.tables.clusters import read_clusters
from astrovader.training.rundir.directory import RunDirectory
from astrovader.training.rundir.index import current, data_name, index_dir


def brute_force(z, query, n, leave_out=None):
    """The n nearest rows of z to one query, by NumPy: the independent reference."""
    d = np.sqrt(((z - query) ** 2).sum(axis=1))
    if leave_out is not None:
        d[leave_out] = np.inf
    order = np.argsort(d, kind="stable")[:n]
    return order, d[order]


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_by_id_returns_the_exact_neighbours(tiny_run, tmp_path, capsys):
    table = read_clusters(tiny_run / "clusters.csv")
    row = 7
    name = table["id"][row]
    out = tmp_path / "out"
    argv = ["similar", str(tiny_run), "--id", name, "-n", "12", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    order, distances = brute_force(table["z"], table["z"][row], 12, leave_out=row)
    rows = read_rows(out / "neighbours.csv")
    assert [r["id"] for r in rows] == list(table["id"][order])
    np.testing.assert_allclose([float(r["distance"]) for r in rows], distances, rtol=1e-5)
    assert [int(r["cluster"]) for r in rows] == list(table["cluster"][order])
    np.testing.assert_allclose(
        [float(r["anomaly_score"]) for r in rows], table["anomaly_score"][order], rtol=1e-6
    )
    for suffix in ("fits", "png", "pdf"):
        assert (out / f"neighbours.{suffix}").stat().st_size > 0
    printed = capsys.readouterr().out
    assert f"nearest to id {name}" in printed and table["id"][order[0]] in printed
    # The thumbnail sheet holds 13 images (query first): it is no blank page.
    sheet = np.asarray(Image.open(out / "neighbours.png").convert("L"), float)
    assert sheet.std() > 20


def test_a_copy_of_a_training_image_finds_that_image_first(tiny_run, tmp_path):
    images = RunDirectory(tiny_run).images(progress=False)
    row = 123
    np.save(tmp_path / "copy.npy", images.images[row : row + 1])
    out = tmp_path / "out"
    argv = ["similar", str(tiny_run), "--image", str(tmp_path / "copy.npy"), "--out", str(out)]
    assert main([*argv, "-n", "5", "--quiet"]) == 0
    rows = read_rows(out / "neighbours.csv")
    assert rows[0]["id"] == images.ids[row]
    assert float(rows[0]["distance"]) < 1e-3 < float(rows[1]["distance"])


@pytest.fixture(scope="module")
def catalogue(tiny_run, tmp_path_factory):
    """30 of the run's galaxies as 8-bit PNGs with a catalogue of ids and RA/Dec."""
    root = tmp_path_factory.mktemp("catalogue")
    images = RunDirectory(tiny_run).images(progress=False)
    rng = np.random.default_rng(4)
    rows = []
    for i in range(30):
        name = f"g{i:03d}"
        pixels = np.round(images.images[i, ..., 0] * 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"{name}.png")
        rows.append(
            {
                "file": f"{name}.png",
                "id": name,
                "ra": 150 + rng.uniform(0, 0.1),
                "dec": 2 + rng.uniform(0, 0.1),
            }
        )
    with open(root / "catalogue.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "id", "ra", "dec"])
        writer.writeheader()
        writer.writerows(rows)
    return root / "catalogue.csv", rows


@pytest.mark.slow
def test_by_sky_position_in_another_data_set_indexed_by_embed(tiny_run, catalogue, tmp_path):
    path, rows = catalogue
    table_path = tmp_path / "embedded.fits"
    argv = ["embed", str(tiny_run), str(path), "--out", str(table_path), "--quiet"]
    assert main([*argv, "--likelihood-samples", "2"]) == 0
    # embed indexed the data set: the index points at its table and is current.
    name = data_name(path)
    assert current(tiny_run, name, path) == table_path
    table = read_clusters(table_path)
    target = rows[5]
    out = tmp_path / "out"
    argv = [
        "similar",
        str(tiny_run),
        "--data",
        str(path),
        "--ra",
        str(target["ra"] + 1e-4),
        "--dec",
        str(target["dec"]),
        "--radius",
        "1",
        "-n",
        "4",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0  # 0.36 arcsec away
    found = read_rows(out / "neighbours.csv")
    row = list(table["id"]).index(target["id"])
    order, _ = brute_force(table["z"], table["z"][row], 4, leave_out=row)
    assert [r["id"] for r in found] == list(table["id"][order])
    np.testing.assert_allclose(
        [float(r["ra"]) for r in found], [rows[int(i[1:])]["ra"] for i in table["id"][order]]
    )
    # No table of its own was written: the embed table served.
    assert not (index_dir(RunDirectory(tiny_run), name) / "objects.fits").exists()


@pytest.mark.slow
def test_a_changed_data_set_or_model_makes_the_index_stale(tiny_run, catalogue, tmp_path):
    path, _ = catalogue
    argv = [
        "similar",
        str(tiny_run),
        "--data",
        str(path),
        "--id",
        "g003",
        "--out",
        str(tmp_path / "a"),
        "--quiet",
    ]
    assert main(argv) == 0
    name = data_name(path)
    assert current(tiny_run, name, path) is not None
    # Touching the catalogue changes the data's fingerprint: the index is stale, and rebuilt.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert current(tiny_run, name, path) is None
    assert main([*argv[:-2], str(tmp_path / "b"), "--quiet"]) == 0
    table = index_dir(RunDirectory(tiny_run), name) / "objects.fits"
    assert current(tiny_run, name, path) == table
    key = json.loads((table.parent / "key.json").read_text())
    assert key["model"]["sha256"] and key["data"]["path"] == str(path.resolve())
    # The run's own index: a rewritten clusters.csv makes it stale.
    run_table = RunDirectory(tiny_run).clusters_path
    assert current(tiny_run) == run_table
    stat = run_table.stat()
    os.utime(run_table, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert current(tiny_run) is None
    first = read_clusters(run_table)["id"][0]
    assert (
        main(["similar", str(tiny_run), "--id", first, "--out", str(tmp_path / "c"), "--quiet"])
        == 0
    )
    assert current(tiny_run) == run_table


def test_bad_queries_are_one_line_and_status_2(tiny_run, catalogue, cli_error, tmp_path):
    path, _ = catalogue
    out = ["--out", str(tmp_path / "out"), "--quiet"]
    line = cli_error(["similar", str(tiny_run), "--id", "no-such-galaxy", *out])
    assert "no-such-galaxy" in line and "no such object" in line
    line = cli_error(
        ["similar", str(tiny_run), "--data", str(path), "--ra", "10", "--dec", "-5", *out]
    )
    assert "no object within 1 arcsec" in line and "nearest" in line
    line = cli_error(["similar", str(tiny_run), "--ra", "10", "--dec", "-5", *out])
    assert "no RA/Dec" in line
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """A run directory of an (untrained) 3-band model: config, model, history, clusters."""
    from astrovader.config import Config
    from astrovader.data.tables.clusters import write_clusters
    from astrovader.model.vade import AstroVaDEr

    run = tmp_path_factory.mktemp("colour") / "run"
    run.mkdir()
    images = np.random.default_rng(0).uniform(size=(6, 16, 16, 3)).astype(np.float32)
    np.save(run / "images.npy", images)
    (run / "images_ids.txt").write_text("".join(f"c{i}\n" for i in range(6)))
    config = Config().replace(
        data={"image_size": 16, "bands": 3, "path": str(run / "images.npy")},
        model={"latent_dim": 3, "n_clusters": 2, "filters": [4, 4, 4]},
    )
    model = AstroVaDEr.from_settings(config)
    model.save(run / "model.keras")
    config.save(run / "config.toml")
    gamma, z = model.embed(images)
    write_clusters(run / "clusters.csv", [f"c{i}" for i in range(6)], gamma=gamma, z=z)
    (run / "history.csv").write_text("epoch,phase,loss\n")
    return run


def test_a_query_image_with_another_band_count(colour_run, pixels, cli_error, tmp_path):
    grey = pixels.save(tmp_path / "grey.png", pixels.u8(16, 16))
    line = cli_error(
        ["similar", str(colour_run), "--image", str(grey), "--out", str(tmp_path / "out")]
    )
    assert "grey.png" in line and "1 band(s) but 3 are wanted" in line
    # The same query in colour is answered.
    colour = pixels.save(tmp_path / "colour.png", pixels.u8(16, 16, 3))
    argv = ["similar", str(colour_run), "--image", str(colour), "-n", "3"]
    assert main([*argv, "--out", str(tmp_path / "ok"), "--quiet"]) == 0
