"""Shared test set-up: quiet TensorFlow, the paper's files beside the checkout."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (the paper's files, real survey stamps)."""
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not present beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def paper_dir() -> Path:
    path = SHARED / "paper"
    if not path.exists():
        pytest.skip(f"{path} is not present beside the checkout")
    return path


TINY = {
    "data": {"image_size": 16, "synthetic_count": 60, "validation_fraction": 0.0},
    "model": {"latent_dim": 2, "n_clusters": 2, "filters": [4, 4, 4]},
    "schedule": {
        "gamma_epochs": 1,
        "gmm_batches": 2,
        "anneal_epochs": 1,
        "static_epochs": 0,
        "periods": 1,
    },
    "training": {"batch_size": 20},
}
# The configuration of ``tiny_run``: fewer steps or the paper's L2 factor leave the
# posterior collapsed at 32 px.
TINY_RUN = {
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
    "training": {"seed": 1},
}


class TinyConfig:
    """The tests' one small configuration: 16 px, J = K = 2, three epochs, 60 images.

    ``tiny_config(**changes)`` is that :class:`~astrovader.config.Config` with
    some keys changed (``tiny_config(model={"n_clusters": 3})``); ``tiny_config.sets(
    **changes)`` the same keys as ``--set`` options of the command line.
    """

    @staticmethod
    def changed(changes: dict) -> dict:
        from astrovader.config.core import merge

        return merge(TINY, changes)

    def __call__(self, **changes):
        from astrovader.config import Config

        return Config().replace(**self.changed(changes))

    def sets(self, **changes) -> list[str]:
        import json

        keys = self.changed(changes).items()
        return [f"--set={s}.{k}={json.dumps(v)}" for s, values in keys for k, v in values.items()]


@pytest.fixture(scope="session")
def tiny_config() -> TinyConfig:
    """``tiny_config(**changes)``: the tests' small configuration with some keys changed."""
    return TinyConfig()


@pytest.fixture(scope="session")
def tiny_run_config(tiny_config):
    """A 32×32, 11-epoch configuration on 400 built-in synthetic galaxies (``tiny_run``'s)."""
    return tiny_config(**TINY_RUN)


@pytest.fixture(scope="session")
def tiny_run(tiny_run_config, tmp_path_factory):
    """A finished run directory of ``tiny_run_config``, trained once per session."""
    from astrovader.training.run import fit_run

    return fit_run(tiny_run_config, tmp_path_factory.mktemp("tiny") / "run", verbose=0)


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory):
    """``make(seed)``: a 16 px untrained model (J = 3, K = 4, a non-trivial mixture) as .keras.

    Models of different seeds have different weights and the same shape.
    """
    import numpy as np

    from astrovader.model.vade import AstroVaDEr

    made = {}

    def make(seed: int = 0):
        if seed not in made:
            model = AstroVaDEr(
                image_size=16, latent_dim=3, n_clusters=4, filters=(4, 4, 4), seed=seed
            )
            rng = np.random.default_rng(seed + 1)
            model.prior.set_mixture(
                rng.uniform(0.1, 1.0, 4),
                rng.normal(0, 0.05, (4, 3)),
                var=rng.uniform(0.01, 0.1, (4, 3)),
            )
            made[seed] = tmp_path_factory.mktemp("model") / "model.keras"
            model.save(made[seed])
        return made[seed]

    return make


class Pixels:
    """Random test pixels and PNG writing."""

    def __init__(self, seed: int):
        import numpy as np

        self.rng = np.random.default_rng(seed)

    def u8(self, *shape):
        import numpy as np

        return self.rng.integers(0, 256, shape, dtype=np.uint8)

    def u16(self, *shape):
        import numpy as np

        return self.rng.integers(0, 65536, shape, dtype=np.uint16)

    @staticmethod
    def save(path, array):
        from PIL import Image

        Image.fromarray(array).save(path)
        return path


@pytest.fixture
def pixels():
    """Seeded random uint8/uint16 pixels and a PNG writer."""
    return Pixels(7)


@pytest.fixture
def cli_error(capsys):
    """Run ``main(argv)``, expect exit status 2 and one error line, last; return the line."""
    from astrovader.cli import main

    def run(argv):
        status = main(argv)
        err = capsys.readouterr().err
        assert status == 2, err
        assert "Traceback" not in err
        # Progress bars may precede it; the error itself is the one last line.
        lines = [line for line in err.replace("\r", "\n").splitlines() if "error:" in line]
        assert len(lines) == 1, err
        assert err.rstrip().endswith(lines[0])
        return lines[0]

    return run


@pytest.fixture(scope="session")
def minmax():
    """The per-image min-max scaling of raw flux (the reader's only scaling before [scaling])."""
    from astrovader.config.sections import ScalingConfig

    return ScalingConfig(sky="none", interval="minmax", stretch="linear")


class Warned(list):
    """The texts of the :class:`AstrovaderWarning` s raised in a ``with warned():`` block."""

    @property
    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
def warned():
    """``with warned() as said:`` records every AstrovaderWarning of the block in ``said``.

    Other warnings are left to pytest; ``said.text`` is the messages, one a line.
    """
    import contextlib
    import warnings

    from astrovader.errors import AstrovaderWarning

    @contextlib.contextmanager
    def record():
        said = Warned()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AstrovaderWarning)
            yield said
        said.extend(str(w.message) for w in caught if issubclass(w.category, AstrovaderWarning))
        for other in (w for w in caught if not issubclass(w.category, AstrovaderWarning)):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)

    return record
