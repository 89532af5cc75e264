"""The reparameterisation layer (method eq. 3)."""

from __future__ import annotations

import keras
from keras import ops

from astrovader.config.rules import OPTIONAL_SEED

__all__ = ["Reparameterize"]


@keras.saving.register_keras_serializable(package="astrovader")
class Reparameterize(keras.layers.Layer):
    """Draw z = μ̃ + exp(½ log σ̃²) ⊙ ε, ε ~ N(0, I) (method eq. 3).

    In training the layer samples; at inference it returns the deterministic
    embedding μ̃ unless ``sample=True`` is passed to ``call``.

    Args:
        seed: Seed of the layer's own ``keras.random.SeedGenerator``.
        **kwargs: Standard layer arguments.

    Call arguments:
        inputs: ``[z_mean, z_log_var]``, each (N, J).
        training: Sample when True.
        sample: Force sampling outside training.

    Returns:
        (N, J) latent vectors.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        OPTIONAL_SEED.check("seed", seed)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None, sample=False):
        z_mean, z_log_var = inputs
        if not (training or sample):
            return z_mean
        epsilon = keras.random.normal(
            ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator
        )
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
