"""``astrovader simulate``: arguments, files written, summary line and errors."""

import argparse
import csv

import numpy as np
import pytest
from PIL import Image

from astrovader.cli import main, simulate
from astrovader.data.simulated.sersic import CLASS_NAMES
from astrovader.data.simulated.sersic import simulate as simulate_images


def parse(argv):
    parser = argparse.ArgumentParser(prog="astrovader")
    simulate.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_writes_images_labels_and_one_line_summary(tmp_path, capsys):
    out = tmp_path / "sim"
    args = parse(["simulate", str(out), "--n", "10", "--size", "16", "--seed", "4", "--quiet"])
    assert args.run(args) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1 and "10 synthetic galaxies" in lines[0] and str(out) in lines[0]
    assert captured.err == ""
    images, records = simulate_images(10, 16, seed=4)
    with open(out / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["id"] for row in rows] == [r["id"] for r in records]
    assert {row["class_name"] for row in rows} <= set(CLASS_NAMES)
    first = np.asarray(Image.open(out / f"{records[0]['id']}.png"))
    np.testing.assert_array_equal(first, images[0, ..., 0])


def test_colour_option(tmp_path):
    args = parse(["simulate", str(tmp_path / "c"), "--n", "3", "--size", "16", "--bands", "3"])
    assert args.run(args) == 0
    assert Image.open(tmp_path / "c" / "gal_000000.png").mode == "RGB"


@pytest.mark.parametrize(
    "extra", [["--bands", "2"], ["--n", "0"], ["--size", "-3"], ["--seed", "x"]]
)
def test_bad_arguments_exit_with_usage_error(tmp_path, extra, capsys):
    with pytest.raises(SystemExit) as exc:
        parse(["simulate", str(tmp_path / "o"), *extra])
    assert exc.value.code == 2
    assert extra[0] in capsys.readouterr().err


def test_main_reports_a_non_empty_output_directory(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("x")
    status = main(["simulate", str(tmp_path / "taken"), "--n", "2", "--size", "16", "--quiet"])
    assert status == 2
    err = capsys.readouterr().err
    assert "taken" in err and "not empty" in err
    assert main(["simulate", str(tmp_path / "new"), "--n", "2", "--size", "16", "--quiet"]) == 0
    assert len(list((tmp_path / "new").glob("*.png"))) == 2
