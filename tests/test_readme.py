"""The README's quick start is what CI runs."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _quick_start():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```(?:bash)?\n(.*?)```", text, re.S)
    assert block, "README has no quick-start block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    fit, tests = _quick_start()
    assert "astrovader fit" in fit and "pip install" in fit
    assert "pytest" in tests and "pip install" in tests
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


@pytest.mark.slow
def test_the_notebook_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- readme-example.*?```python\n(.*?)```", text, re.S)
    assert block, "README has no notebook example"
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    clusterer, scores = namespace["clusterer"], namespace["scores"]
    assert namespace["gamma"].shape == (300, 3) and namespace["z"].shape == (300, 4)
    assert namespace["fakes"].shape == (8, 16, 16, 1) and len(namespace["outliers"]) == 10
    assert (tmp_path / "my-run" / "clusters.csv").is_file() and scores.shape == (300,)
    assert clusterer.n_clusters_ == 3
