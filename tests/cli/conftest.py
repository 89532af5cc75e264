"""Fixtures of the command tests: small untrained models saved as .keras files."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory):
    """``make(seed)``: a 16 px untrained model (J = 3, K = 4, a non-trivial mixture) as .keras.

    Models of different seeds have different weights and the same shape.
    """
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
                rng.uniform(0.01, 0.1, (4, 3)),
            )
            made[seed] = tmp_path_factory.mktemp("model") / "model.keras"
            model.save(made[seed])
        return made[seed]

    return make
