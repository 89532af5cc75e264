"""The NumPy-facing inference API of :class:`~astrovader.model.vade.AstroVaDEr`."""

from __future__ import annotations

import numpy as np
from keras import ops


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


class InferenceMixin:
    """Batched encode, decode, cluster and generate on NumPy arrays.

    Inputs are float32 arrays (N, S, S, B) in [0, 1]; outputs are NumPy arrays.
    With the min-max transform (λ not None), γ depends on the batch it is
    computed in (SPEC eq. 17 takes min and max over the batch matrix): the
    methods use consecutive batches of ``batch_size`` inputs, 180 by default as
    in training. The argmax, and so :meth:`predict_clusters`, does not depend on it.
    """

    def encode(self, x, batch_size: int = 180):
        """μ̃ and log σ̃² of each image: two (N, J) arrays."""
        x = np.asarray(x, dtype="float32")
        means, log_vars = [], []
        for part in _batches(len(x), batch_size):
            z_mean, z_log_var = self.encoder(x[part], training=False)
            means.append(ops.convert_to_numpy(z_mean))
            log_vars.append(ops.convert_to_numpy(z_log_var))
        if not means:
            empty = np.zeros((0, self.latent_dim), "float32")
            return empty, empty.copy()
        return np.concatenate(means), np.concatenate(log_vars)

    def decode(self, z, batch_size: int = 180):
        """Images (N, S, S, B) decoded from latent vectors (N, J)."""
        z = np.asarray(z, dtype="float32")
        parts = [
            ops.convert_to_numpy(self.decoder(z[part], training=False))
            for part in _batches(len(z), batch_size)
        ]
        shape = (0, self.image_size, self.image_size, self.bands)
        return np.concatenate(parts) if parts else np.zeros(shape, "float32")

    def latent_probabilities(self, z, batch_size: int = 180):
        """γ (N, K) for latent vectors (N, J), rows summing to one."""
        z = np.asarray(z, dtype="float32")
        pi, mu, var = self.prior(None)
        parts = [
            ops.convert_to_numpy(self.gamma_layer([z[part], pi, mu, var]))
            for part in _batches(len(z), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.n_clusters), "float32")

    def cluster_probabilities(self, x, batch_size: int = 180):
        """γ (N, K) for images, from the deterministic embedding μ̃."""
        z_mean, _ = self.encode(x, batch_size)
        return self.latent_probabilities(z_mean, batch_size)

    def predict_clusters(self, x, batch_size: int = 180):
        """The most probable component of each image, (N,) int."""
        return np.argmax(self.cluster_probabilities(x, batch_size), axis=-1)

    def mixture(self) -> dict[str, np.ndarray]:
        """The prior: ``pi`` (K,), ``mu`` (K, J), ``var`` (K, J), scikit-learn's layout."""
        return self.prior.mixture()

    def sample_latents(self, n: int, component: int | None = None, seed: int | None = None):
        """Draw z ~ N(μ_c, σ²_c), with c fixed or drawn from π/Σπ (SPEC §7, generation).

        Returns:
            ``(z, components)``: (n, J) float32 and (n,) int arrays.
        """
        mix = self.mixture()
        rng = np.random.default_rng(seed)
        if component is None:
            weights = mix["pi"] / mix["pi"].sum()
            components = rng.choice(self.n_clusters, size=n, p=weights)
        else:
            if not 0 <= component < self.n_clusters:
                raise ValueError(f"component must be in [0, {self.n_clusters}), got {component}")
            components = np.full(n, component)
        noise = rng.standard_normal((n, self.latent_dim))
        z = mix["mu"][components] + np.sqrt(mix["var"][components]) * noise
        return z.astype("float32"), components

    def generate(self, n: int, component: int | None = None, seed: int | None = None):
        """Synthetic galaxies (n, S, S, B) decoded from the mixture prior."""
        z, _ = self.sample_latents(n, component, seed)
        return self.decode(z)
