"""Shared test set-up: quiet TensorFlow, the paper's files beside the checkout."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def paper_dir() -> Path:
    path = SHARED / "paper"
    if not path.exists():
        pytest.skip(f"{path} is not present beside the checkout")
    return path
