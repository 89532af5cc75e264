"""The EM update of the mixture prior and the tied-view GMM initialisation (method §9).

With ``mixture.update = "em"`` the prior takes no gradient steps: at the start of
every joint epoch :class:`MixtureEM` embeds L clean mini-batches in their
``augment.tied_views`` flips and quarter turns, computes each image's γ from all
its views together (E-step, eq. A1) and re-estimates π, μ, σ² from the
γ-weighted posteriors (M-step, eq. A2). A component left with fewer than
``mixture.respawn`` · N/K images is re-seeded by splitting the largest one in two
with 2-means, so that a component cannot die silently.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf
from sklearn.cluster import KMeans

from astrovader.data.augment import dihedral_views
from astrovader.model import em

log = logging.getLogger(__name__)
INIT_ITERATIONS = 50


def _view_encoder(model, views: int):
    """A compiled ``x → (μ̃, log σ̃²)`` of the views, each (V, n, J), cached on the model."""
    cache = model.__dict__.setdefault("_view_encoders", {})
    if views not in cache:

        def encode(x):
            parts = [model.encoder(v, training=False) for v in dihedral_views(x, views)]
            return tf.stack([m for m, _ in parts]), tf.stack([lv for _, lv in parts])

        cache[views] = tf.function(encode, reduce_retracing=True)
    return cache[views]


def embed_views(model, dataset, n_batches: int, views: int):
    """μ̃ and log σ̃² of up to L batches in ``views`` flips and quarter turns: (V, N, J) each."""
    encode = _view_encoder(model, views)
    means, log_vars = [], []
    for i, batch in enumerate(dataset):
        if i >= n_batches:
            break
        x = batch[0] if isinstance(batch, tuple) else batch
        mean, log_var = encode(tf.convert_to_tensor(x))
        means.append(mean.numpy())
        log_vars.append(log_var.numpy())
    return np.concatenate(means, axis=1), np.concatenate(log_vars, axis=1)


def em_step(zv, log_var_v, pi, mu, var):
    """One tied E-step and M-step; the prior in scikit-learn's layout, (K,), (K, J), (K, J)."""
    log_gamma = em.tied_log_posterior(zv, pi, mu.T, var.T)
    gamma = np.exp(keras.ops.convert_to_numpy(log_gamma))
    new_pi, new_mu, new_var = em.m_step(zv, log_var_v, gamma)
    arrays = (keras.ops.convert_to_numpy(a) for a in (new_pi, new_mu, new_var))
    new_pi, new_mu, new_var = arrays
    return gamma, new_pi, new_mu.T, new_var.T


def respawn(zv, gamma, pi, mu, var, fraction: float, seed: int):
    """Re-seed components holding fewer than ``fraction`` · N/K images (by argmax γ).

    Each is replaced by one half of the largest component, split with 2-means on
    the μ̃ of its images' first view: the halves take the means of their images,
    the variances of the component split and half its weight each. Returns the
    prior and the number of components re-seeded.
    """
    n, k = gamma.shape
    pi, mu, var = pi.copy(), mu.copy(), var.copy()
    labels = gamma.argmax(1)
    sizes = np.bincount(labels, minlength=k)
    reseeded = 0
    for c in np.flatnonzero(sizes < fraction * n / k):
        largest = int(np.argmax(sizes))
        members = zv[0][labels == largest]
        if len(members) < 4:
            break
        halves = KMeans(2, n_init=3, random_state=seed).fit(members)
        var[c] = var[largest]
        for target, half in ((largest, 0), (c, 1)):
            points = members[halves.labels_ == half]
            mu[target] = points.mean(0)
            sizes[target] = len(points)
        pi[c] = pi[largest] = (pi[largest] + pi[c]) / 2
        labels[labels == largest] = np.where(halves.labels_ == 1, c, largest)
        reseeded += 1
    return pi / pi.sum(), mu, var, reseeded


def tied_init(zv, n_clusters: int, seed: int, restarts: int, fit):
    """The GMM initialisation over tied views: the best of ``restarts`` fits.

    Each fit is ``fit(points, K, seed)`` (KMeans then a diagonal GaussianMixture,
    :func:`~astrovader.training.gmm_init.fit_mixture`) on every view's μ̃,
    followed by tied EM iterations on point embeddings. The fit kept is the one of
    highest tied log-likelihood (:func:`~astrovader.model.em.expected_log_likelihood`),
    an unsupervised choice. Returns ``(pi, mu, var, score)`` in scikit-learn's layout.
    """
    best = None
    points = zv.reshape(-1, zv.shape[-1])
    for r in range(restarts):
        mixture = fit(points, n_clusters, seed + r)
        pi, mu, var = mixture.weights_, mixture.means_, mixture.covariances_
        if len(zv) > 1:
            for _ in range(INIT_ITERATIONS):
                _, pi, mu, var = em_step(zv, None, pi, mu, var)
        score = float(em.expected_log_likelihood(zv, pi, mu.T, var.T))
        log.info("GMM initialisation %d of %d: tied log-likelihood %.4f", r + 1, restarts, score)
        if best is None or score > best[3]:
            best = (pi, mu, var, score)
    return best


class TeacherSnapshot(keras.callbacks.Callback):
    """Copy the encoder into the model's teacher at the start of every joint epoch.

    The tied targets of the epoch (:func:`~astrovader.model.targets.tied_target`)
    come from the teacher, so they are the E-step of the epoch's start, computed
    lazily batch by batch: the same for in-memory data and for shards too large to
    hold a target per image.

    Args:
        at_epoch: T_γ; epochs before it are γ-training.
    """

    def __init__(self, at_epoch: int):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.at_epoch and self.model.teacher is not None:
            self.model.teacher.set_weights(self.model.encoder.get_weights())


class MixtureEM(keras.callbacks.Callback):
    """At the start of every joint epoch after the first, one tied EM step (eqs. A1–A2).

    Args:
        dataset: Iterable of clean image batches (the training data).
        at_epoch: T_γ; epochs before it are γ-training.
        n_batches: L, the mini-batches embedded.
        views: The tied views (1, 4 or 8).
        respawn: Re-seed components with fewer than ``respawn`` · N/K images (0: never).
        seed: Random state of the 2-means splits.
    """

    def __init__(self, dataset, at_epoch, n_batches, views, respawn=0.0, seed=0):
        super().__init__()
        self.dataset, self.at_epoch, self.n_batches = dataset, at_epoch, n_batches
        self.views, self.fraction, self.seed = views, respawn, seed
        self.reseeded = 0

    def on_epoch_begin(self, epoch, logs=None):
        prior = self.model.prior
        if epoch <= self.at_epoch or not prior.is_initialized:
            return  # at T_γ the mixture was just initialised
        zv, log_var_v = embed_views(self.model, self.dataset, self.n_batches, self.views)
        current = prior.mixture()
        gamma, pi, mu, var = em_step(zv, log_var_v, current["pi"], current["mu"], current["var"])
        if self.fraction > 0:
            pi, mu, var, count = respawn(zv, gamma, pi, mu, var, self.fraction, self.seed + epoch)
            if count:
                self.reseeded += count
                log.info("epoch %d: re-seeded %d near-empty component(s)", epoch + 1, count)
        prior.set_mixture(pi, mu, var)
