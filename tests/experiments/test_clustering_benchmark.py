"""The clustering benchmark runs end to end in its tiny mode (100 images, 3 epochs)."""

import csv
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "benchmarks" / "clustering.py"


@pytest.mark.slow
def test_tiny_benchmark_writes_every_method_and_data_set(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("clustering_benchmark", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--tiny", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "clustering.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["data"], r["method"]) for r in rows} == {
        (d, m) for d in ("synthetic", "digits") for m in bench.METHODS
    }
    for row in rows:
        assert 0.0 <= float(row["acc"]) <= 1.0 and 0.0 <= float(row["nmi"]) <= 1.0
    table = (tmp_path / "clustering.md").read_text()
    assert table.count("\n") == 2 + 2 * len(bench.METHODS)
    assert "| digits | kmeans_pixels |" in table
