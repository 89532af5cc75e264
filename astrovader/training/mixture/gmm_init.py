"""Mini-batch GMM initialisation of the prior (method §5.2)."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from astrovader.errors import AstrovaderError
from astrovader.training.mixture.mixture_em import EpochViews, tied_init

__all__ = ["GMMInitialisation", "fit_mixture", "reset_optimizer"]


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


def reset_optimizer(optimizer) -> None:
    """Zero the optimizer's moments and step count (Adam restarts its bias correction).

    The learning rate and, under mixed precision, the loss scale are kept.
    """
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    for variable in inner.variables:
        name = variable.path.rsplit("/", 1)[-1]
        if name != "learning_rate":
            variable.assign(keras.ops.zeros(variable.shape, variable.dtype))


class GMMInitialisation(EpochViews, keras.callbacks.Callback):
    """At the first epoch after γ-training, embed L mini-batches and initialise the prior.

    Writes π ← weights_, μ ← means_ᵀ, σ² ← covariances_ᵀ, unfreezes the prior
    and switches on gradient clipping. Does nothing if the prior is already
    initialised (a resumed run). Beyond the paper (method §9): with ``views`` > 1
    the fit is on the μ̃ of every image's flips and quarter turns, tied by EM;
    ``restarts`` fits are made and the most likely kept; ``reset`` zeroes Adam's
    moments, so that the first joint steps are not driven by γ-training's.

    Args:
        dataset: Iterable of image batches (the training data).
        at_epoch: T_γ, the epoch at whose start the initialisation happens.
        n_batches: L, the number of mini-batches embedded.
        clip_value: Gradient clipping value switched on afterwards.
        seed: Random state of the scikit-learn fits.
        views: Tied views (1: the paper's fit on μ̃).
        restarts: Fits made; the one of highest tied log-likelihood is kept.
        reset: Reset the optimizer afterwards.
        check: ``check(embedding)`` called on the (N, J) μ̃ before the fit (the
            collapse check of :mod:`~astrovader.training.diagnostics`), or None.
        tied: The epoch's :class:`~astrovader.training.mixture.tied_views.TiedViews`
            (every training image's views), or None to embed L batches.
    """

    def __init__(
        self,
        dataset,
        at_epoch: int,
        *,
        n_batches: int,
        clip_value: float,
        seed: int = 0,
        views: int = 1,
        restarts: int = 1,
        reset: bool = False,
        check=None,
        tied=None,
    ):
        super().__init__()
        self.tied = tied
        self.dataset = dataset
        self.at_epoch = at_epoch
        self.n_batches = n_batches
        self.clip_value = clip_value
        self.seed = seed
        self.views, self.restarts, self.reset, self.check = views, restarts, reset, check
        self.mixture: GaussianMixture | None = None
        self.score: float | None = None

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
        if self.views == 1 and self.restarts == 1:
            embedding = self.embed()
            if self.check is not None:
                self.check(embedding)
            self.mixture = fit_mixture(embedding, self.model.n_clusters, self.seed)
            self.model.prior.set_from_sklearn(self.mixture)
        else:
            zv, log_var = self.views_of_epoch(epoch)
            if self.check is not None:
                self.check(zv[0])
            full = self.model.prior.covariance == "full"
            k = self.model.n_clusters
            pi, mu, var, self.score = tied_init(
                zv,
                k,
                seed=self.seed,
                restarts=self.restarts,
                fit=fit_mixture,
                log_var_v=log_var,
                full=full,
            )
            self.model.prior.set_mixture(pi, mu, var=var)
        self.model.clip_value.assign(self.clip_value)
        if self.reset:
            reset_optimizer(self.model.optimizer)
