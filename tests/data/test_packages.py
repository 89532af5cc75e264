"""data/ by job: what each sub-package owns, exports and imports."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import astrovader.data

FRAMEWORK_FREE = ("images", "simulated", "tables")
SUBPACKAGES = (*FRAMEWORK_FREE, "pipelines")


def _modules(package: str) -> list[str]:
    module = importlib.import_module(package)
    return [info.name for info in pkgutil.walk_packages(module.__path__, f"{package}.")]


def test_the_framework_free_subpackages_import_no_tensorflow():
    free = [f"astrovader.data.{name}" for name in FRAMEWORK_FREE]
    free += [m for name in FRAMEWORK_FREE for m in _modules(f"astrovader.data.{name}")]
    free += ["astrovader.data", "astrovader.data.sources", "astrovader.data.prepare"]
    free += ["astrovader.data.pipelines.split", "astrovader.data.pipelines.stream"]
    assert len(free) > 25
    code = (
        "import importlib, sys\n"
        f"for name in {free!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_pipeline_module_does_import_tensorflow():
    """The check above would see TensorFlow: the shard pipelines load it."""
    code = "import sys, astrovader.data.pipelines.shards; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("name", ["", *SUBPACKAGES])
def test_each_package_says_what_it_owns_and_exports_names_that_resolve(name):
    package = importlib.import_module("astrovader.data" + (f".{name}" if name else ""))
    assert package.__doc__ and len(package.__doc__.splitlines()) > 3
    assert package.__all__ == sorted(set(package.__all__), key=package.__all__.index)
    for exported in package.__all__:
        value = getattr(package, exported)
        module = importlib.import_module(value.__module__) if hasattr(value, "__module__") else None
        if module is not None and module.__name__.startswith("astrovader."):
            assert exported in module.__all__, f"{exported} is not in {module.__name__}.__all__"


def test_every_module_of_data_declares_its_public_names():
    modules = [m for m in _modules("astrovader.data") if not m.rpartition(".")[2].startswith("_")]
    undeclared = [m for m in modules if not hasattr(importlib.import_module(m), "__all__")]
    assert undeclared == []
    assert astrovader.data.load_data.__module__ == "astrovader.data.sources"
