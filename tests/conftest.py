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


TINY = {
    "data": {"image_size": 32, "synthetic_count": 400, "validation_fraction": 0.1},
    "model": {"latent_dim": 6, "n_clusters": 5, "filters": [16, 16, 8], "l2": 0.001},
    "schedule": {
        "gamma_epochs": 5,
        "gmm_batches": 20,
        "anneal_epochs": 2,
        "static_epochs": 1,
        "periods": 2,
    },
    "optimizer": {"learning_rate": 2e-3, "min_learning_rate": 1e-4, "decay_every": 2},
    "training": {"batch_size": 20, "seed": 1},
}


@pytest.fixture(scope="session")
def tiny_config():
    """A 32×32, 11-epoch configuration on 400 built-in synthetic galaxies (tests only).

    Fewer steps or the paper's L2 factor leave the posterior collapsed at this size.
    """
    from astrovader.config import Config

    return Config().replace(**TINY)


@pytest.fixture(scope="session")
def tiny_run(tiny_config, tmp_path_factory):
    """A finished run directory of the tiny configuration, trained once per session."""
    from astrovader.training.run import fit_run

    return fit_run(tiny_config, tmp_path_factory.mktemp("tiny") / "run", verbose=0)
