"""Mini-batch GMM initialisation of the prior (method §5.2)."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from astrovader.errors import AstrovaderError


def fit_mixture(embedding: np.ndarray, n_clusters: int, seed: int = 0) -> GaussianMixture:
    """KMeans(K) for the centres, then a diagonal GaussianMixture started from them.

    Args:
        embedding: (N, J) deterministic embeddings μ̃.
        n_clusters: K.
        seed: Random state of both fits.

    Returns:
        The fitted ``GaussianMixture``.
    """
    if len(embedding) < n_clusters:
        raise AstrovaderError(
            f"model.n_clusters = {n_clusters} is more than the {len(embedding)} samples "
            "available for the GMM initialisation"
        )
    centres = KMeans(n_clusters, n_init=10, random_state=seed).fit(embedding).cluster_centers_
    mixture = GaussianMixture(
        n_clusters, covariance_type="diag", means_init=centres, random_state=seed, reg_covar=1e-6
    )
    return mixture.fit(embedding)


class GMMInitialisation(keras.callbacks.Callback):
    """At the first epoch after γ-training, embed L mini-batches and initialise the prior.

    Writes π ← weights_, μ ← means_ᵀ, σ² ← covariances_ᵀ, unfreezes the prior
    and switches on gradient clipping. Does nothing if the prior is already
    initialised (a resumed run).

    Args:
        dataset: Iterable of image batches (the training data).
        at_epoch: T_γ, the epoch at whose start the initialisation happens.
        n_batches: L, the number of mini-batches embedded.
        clip_value: Gradient clipping value switched on afterwards.
        seed: Random state of the scikit-learn fits.
    """

    def __init__(self, dataset, at_epoch: int, n_batches: int, clip_value: float, seed: int = 0):
        super().__init__()
        self.dataset = dataset
        self.at_epoch = at_epoch
        self.n_batches = n_batches
        self.clip_value = clip_value
        self.seed = seed
        self.mixture: GaussianMixture | None = None

    def embed(self) -> np.ndarray:
        """μ̃ of up to L batches of the dataset, (≤ L·N, J)."""
        parts = []
        for i, batch in enumerate(self.dataset):
            if i >= self.n_batches:
                break
            x = batch[0] if isinstance(batch, tuple) else batch
            parts.append(keras.ops.convert_to_numpy(self.model.encoder(x, training=False)[0]))
        return np.concatenate(parts)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch < self.at_epoch or self.model.prior.is_initialized:
            return
        self.mixture = fit_mixture(self.embed(), self.model.n_clusters, self.seed)
        self.model.prior.set_from_sklearn(self.mixture)
        self.model.clip_value.assign(self.clip_value)
