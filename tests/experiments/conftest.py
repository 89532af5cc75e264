"""The benchmark scripts, loaded as modules (they live outside the package)."""

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "experiments" / "benchmarks"


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark(NAME)``: ``experiments/benchmarks/NAME.py`` as a module."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
