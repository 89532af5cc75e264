"""The clustering benchmark runs end to end in its tiny mode (two sets, 60–100 images each)."""

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
    sets = ("synthetic", "gs_survey")
    assert {(r["data"], r["method"]) for r in rows} == {(d, m) for d in sets for m in bench.METHODS}
    for row in rows:
        assert 0.0 <= float(row["acc"]) <= 1.0 and 0.0 <= float(row["nmi"]) <= 1.0
        if row["method"] == "astrovader":  # the invariance, BIC count and generation figures
            assert all(0.0 <= float(row[f"inv_{t}"]) <= 1.0 for t in ("flip", "rotate", "shift"))
            assert int(row["k_bic"]) >= 2
            assert 0.0 <= float(row["gen_min"]) <= float(row["gen_mean"]) <= 1.0
        else:
            assert row["inv_flip"] == "" and row["k_bic"] == "" and row["gen_min"] == ""
    table = (tmp_path / "clustering.md").read_text()
    assert "| gs_survey | kmeans_pixels | 1 |" in table
    # The lead table names the best baseline of each set, and its ACC is the largest.
    lead = [
        line
        for line in table.splitlines()
        if (line.startswith("| synthetic |") and "+" in line)
        or (line.startswith("| synthetic |") and "-0." in line)
    ]
    assert lead, table
    best = lead[-1].split("|")[3].strip()
    accs = {r["method"]: float(r["acc"]) for r in rows if r["data"] == "synthetic"}
    assert best in bench.BASELINES and accs[best] == max(accs[m] for m in bench.BASELINES)
