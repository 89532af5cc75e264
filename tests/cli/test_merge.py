"""``embed --shard I/N`` and ``merge``: the merged parts are the one-machine table, row for row."""

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from astrovader.cli import main
from astrovader.data.tables.clusters import csv_cards

N, SIZE, BATCH = 23, 16, 5  # 5 batches: parts 1/3, 2/3, 3/3 hold 1, 2 and 2 of them


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """23 PNG stamps named by a catalogue with ids and RA/Dec, and the same pixels as .npy."""
    root = tmp_path_factory.mktemp("stamps")
    pixels = np.random.default_rng(3).integers(0, 256, (N, SIZE, SIZE), dtype=np.uint8)
    lines = ["file,id,ra,dec"]
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(root / f"s{i}.png")
        lines.append(f"s{i}.png,g{i},{150 + i / 7:.6f},{2 - i / 11:.6f}")
    (root / "catalogue.csv").write_text("\n".join(lines) + "\n")
    np.save(root / "cube.npy", pixels)
    return root / "catalogue.csv"


def _embed(model, data, out, *extra):
    argv = ["embed", str(model), str(data), "--out", str(out), "--batch-size", str(BATCH)]
    assert main([*argv, "--quiet", *extra]) == 0
    return out


def _parts(model, data, folder, suffix, *extra):
    paths = [folder / f"part{i}{suffix}" for i in range(1, 4)]
    for i, path in enumerate(paths, start=1):
        _embed(model, data, path, "--shard", f"{i}/3", *extra)
    return paths


@pytest.fixture(scope="module")
def tables(tiny_model_file, catalogue, tmp_path_factory):
    """One-machine tables and the tables of 3 parts.

    CSV: of the .npy, without scores; FITS: of the catalogue, with the scores (drawn
    batch by batch: the parts' batches must be the one-machine batches).
    """
    folder, model = tmp_path_factory.mktemp("tables"), tiny_model_file(0)
    cube, fast = catalogue.with_name("cube.npy"), ("--likelihood-samples", "0")
    return {
        "whole.csv": _embed(model, cube, folder / "whole.csv", *fast),
        ".csv": _parts(model, cube, folder, ".csv", *fast),
        "whole.fits": _embed(model, catalogue, folder / "whole.fits"),
        ".fits": _parts(model, catalogue, folder, ".fits"),
    }


@pytest.mark.slow
def test_merged_csv_parts_are_the_one_machine_table(tables, tmp_path):
    parts, whole = tables[".csv"], tables["whole.csv"]
    cards = [csv_cards(path) for path in parts]
    assert [(c["SHARD"], c["SHSTART"], c["SHTOTAL"]) for c in cards] == [
        ("1/3", 0, N),
        ("2/3", 5, N),
        ("3/3", 15, N),
    ]
    assert len({c["WEIGHTS"] for c in cards}) == 1
    merged = tmp_path / "merged.csv"
    assert main(["merge", str(merged), *map(str, parts[::-1]), "--quiet"]) == 0  # any order
    assert merged.read_bytes() == whole.read_bytes()
    assert whole.read_text().count("\n") == N + 1


def test_merged_fits_parts_are_the_one_machine_table(tables, tmp_path):
    parts, whole = tables[".fits"], tables["whole.fits"]
    with fits.open(parts[1]) as hdus:
        assert hdus["CLUSTERS"].header["SHARD"] == "2/3"
        assert (hdus[0].header["SHSTART"], hdus[0].header["SHTOTAL"]) == (5, N)
        assert hdus["CLUSTERS"].header["NAXIS2"] == 10
    merged = tmp_path / "merged.fits"
    assert main(["merge", str(merged), *map(str, parts), "--quiet"]) == 0
    with fits.open(whole) as one, fits.open(merged) as joined:
        a, b = one["CLUSTERS"], joined["CLUSTERS"]
        assert a.columns.names == [
            "id",
            "ra",
            "dec",
            "cluster",
            "gamma",
            "z",
            "log_likelihood",
            "anomaly_score",
        ]
        assert [(c.format, c.unit) for c in a.columns] == [(c.format, c.unit) for c in b.columns]
        assert a.data.tobytes() == b.data.tobytes()
        assert joined[0].header["NPARTS"] == 3 and "SHARD" not in b.header
        for key in ("MODEL", "NCLUST", "NLATENT", "IMGSIZE", "SCALING"):
            assert b.header[key] == a.header[key]
        assert b.header["COMMAND"].startswith("astrovader merge")


def test_merge_refuses_missing_duplicate_and_foreign_parts(
    tables, tiny_model_file, catalogue, tmp_path, cli_error
):
    parts, out = tables[".fits"], tmp_path / "merged.fits"
    err = cli_error(["merge", str(out), str(parts[0]), str(parts[2]), "--quiet"])
    assert f"part 2/3 is missing: given 1/3 {parts[0]}, 3/3 {parts[2]}" in err
    err = cli_error(["merge", str(out), *map(str, parts), str(parts[1]), "--quiet"])
    assert f"{parts[1]}: part 2/3 given twice (also {parts[1]})" in err
    foreign = _embed(tiny_model_file(1), catalogue, tmp_path / "foreign.fits", "--shard", "2/3")
    err = cli_error(["merge", str(out), str(parts[0]), str(foreign), str(parts[2])])
    assert f"{foreign}: WEIGHTS = " in err and "parts of different models" in err
    err = cli_error(["merge", str(out), *map(str, parts), str(tables["whole.fits"])])
    assert f"{tables['whole.fits']}: not the table of a part (no SHARD card)" in err
    err = cli_error(["merge", str(tmp_path / "m.csv"), str(tables[".csv"][0]), str(parts[1])])
    assert f"{parts[1]}: a FITS table; parts and {tmp_path / 'm.csv'} must share" in err
    err = cli_error(["merge", str(tmp_path / "m.csv"), *map(str, tables[".csv"][:2])])
    assert "part 3/3 is missing" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.fits"]  # no temporaries


def test_merge_refuses_other_columns_and_duplicate_ids(
    tables, tiny_model_file, catalogue, tmp_path, cli_error
):
    """Tables without part cards are joined in the order given, but only if they fit."""
    plain, out = tables["whole.csv"], tmp_path / "m.csv"
    scored = _embed(tiny_model_file(0), catalogue.with_name("cube.npy"), tmp_path / "b.csv")
    err = cli_error(["merge", str(out), str(plain), str(scored)])
    assert f"{scored}: its columns differ from those of {plain} (log_likelihood where" in err
    copy = tmp_path / "copy.csv"
    copy.write_bytes(plain.read_bytes())
    assert f"{copy}: id '000000' again (also in {plain})" in cli_error(
        ["merge", str(out), str(plain), str(copy), "--quiet"]
    )
    assert not out.exists()


@pytest.mark.parametrize("shard", ["0/3", "4/3", "3", "a/b"])
def test_shard_out_of_range_stops_with_one_line(shard, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["embed", "m.keras", "data", "--out", str(tmp_path / "t.csv"), "--shard", shard])
    assert stop.value.code == 2
    assert "argument --shard: shard" in capsys.readouterr().err.splitlines()[-1]
    assert list(tmp_path.iterdir()) == []
