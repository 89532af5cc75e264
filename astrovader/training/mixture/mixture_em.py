"""The EM update of the mixture prior and the tied-view GMM initialisation (method §9).

With ``mixture.update = "em"`` the prior takes no gradient steps: at the start of
every joint epoch :class:`MixtureEM` takes the μ̃ and log σ̃² of the training
images' ``augment.tied_views`` flips and quarter turns (every image's, embedded
once for the epoch by :class:`~astrovader.training.mixture.tied_views.TiedViews`; for
shards, L clean mini-batches), computes each image's γ from all its views together
(E-step, eq. A1) and re-estimates π, μ, σ² from the γ-weighted posteriors
(M-step, eq. A2). At the start of each annealing phase after the first, a
component left nearly empty (fewer than ``mixture.respawn`` · N/K images) is
re-seeded by splitting the largest one in two with 2-means, so that a component
cannot die silently.
"""

from __future__ import annotations

import logging
import warnings

import keras
import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from astrovader.model import em
from astrovader.training.mixture.tied_views import embed_views
from astrovader.training.phases.schedule import ANNEAL, phase_at

log = logging.getLogger(__name__)
INIT_ITERATIONS = 50
MIN_SPLIT = 4  # images each half of a split needs (fewer: the component is not split)


def published(var) -> np.ndarray:
    """Covariances in scikit-learn's layout → the maths' (:mod:`~astrovader.model.gmm_math`).

    σ² (K, J) → (J, K); full covariances Σ (K, J, J) → their precision Cholesky factors.
    """
    var = np.asarray(var)
    if var.ndim == 2:
        return var.T
    return keras.ops.convert_to_numpy(em.precision_cholesky(var))


def sklearn_layout(var) -> np.ndarray:
    """The inverse of :func:`published`: (J, K) → σ² (K, J); P (K, J, J) → Σ (K, J, J)."""
    var = keras.ops.convert_to_numpy(var)
    if var.ndim == 2:
        return var.T
    return keras.ops.convert_to_numpy(em.covariance(var))


def em_step(zv, log_var_v, *, pi, mu, var):
    """One tied E-step and M-step, the prior in scikit-learn's layout.

    ``pi`` (K,), ``mu`` (K, J), ``var`` the variances (K, J) or full covariances
    (K, J, J), returned in the same form. Both steps use the views' posteriors
    (``log_var_v``; None for point embeddings), so the tied objective
    (:func:`~astrovader.model.em.expected_log_likelihood`) never falls.
    """
    log_gamma = em.tied_log_posterior(zv, pi, mu=mu.T, var=published(var), log_var_v=log_var_v)
    gamma = np.exp(keras.ops.convert_to_numpy(log_gamma))
    new_pi, new_mu, new_var = em.m_step(zv, log_var_v, gamma=gamma, full=np.ndim(var) == 3)
    new_pi, new_mu = (keras.ops.convert_to_numpy(a) for a in (new_pi, new_mu))
    return gamma, new_pi, new_mu.T, sklearn_layout(new_var)


def _hard_m_step(zv, log_var_v, members, full: bool):
    """μ (J,) and σ² (J,) or Σ (J, J) of the images ``members`` (a mask), all their views."""
    gamma = members.astype("float64")[:, None]
    _, mu, var = em.m_step(zv, log_var_v, gamma=gamma, full=full)
    return keras.ops.convert_to_numpy(mu)[:, 0], sklearn_layout(var)[0]


def respawn(zv, gamma, *, pi, mu, var, fraction: float, seed: int, log_var_v=None):
    """Re-seed components holding fewer than ``fraction`` · N/K images (by argmax γ).

    Each is replaced by one half of the largest component, split with 2-means on
    the mean μ̃ of its images' views. Each half takes the mean and variance of its
    own images (with their posteriors' σ̃² when ``log_var_v`` is given) and a share
    of the two components' weight proportional to its size. A component whose
    split leaves a half with fewer than ``MIN_SPLIT`` images is not split (the
    re-seeding stops there). Returns the prior and the number of components
    re-seeded.
    """
    n, k = gamma.shape
    pi, mu, var = pi.copy(), mu.copy(), var.copy()
    labels = gamma.argmax(1)
    sizes = np.bincount(labels, minlength=k)
    tied = zv.mean(0)
    reseeded = 0
    for c in np.flatnonzero(sizes < fraction * n / k):
        largest = int(np.argmax(sizes))
        chosen = labels == largest
        with warnings.catch_warnings():  # identical points: one half is empty, handled below
            warnings.simplefilter("ignore", ConvergenceWarning)
            halves = KMeans(2, n_init=3, random_state=seed).fit(tied[chosen]).labels_
        counts = np.bincount(halves, minlength=2)
        if counts.min() < MIN_SPLIT:
            break
        weight = pi[largest] + pi[c]
        for target, half in ((largest, 0), (c, 1)):
            members = np.zeros(n, bool)
            members[np.flatnonzero(chosen)[halves == half]] = True
            mu[target], var[target] = _hard_m_step(zv, log_var_v, members, var.ndim == 3)
            pi[target] = weight * counts[half] / counts.sum()
            sizes[target] = counts[half]
            labels[members] = target
        reseeded += 1
    return pi / pi.sum(), mu, var, reseeded


def from_point_fit(zv, log_var_v, *, pi, mu, var, full: bool = False):
    """An M-step on the views' posteriors from the tied responsibilities of a point fit.

    A mixture fitted to μ̃ alone has covariances without the posteriors' spread
    σ̃²; an E-step under it with σ̃² would be ruled by the latent dimensions the
    network does not use (where σ̃² ≫ σ²), so EM on the posteriors starts here
    instead. The prior in scikit-learn's layout; the M-step gives full covariances
    (K, J, J) with ``full``, else variances (K, J).
    """
    log_gamma = em.tied_log_posterior(zv, pi, mu=mu.T, var=published(var))
    gamma = np.exp(keras.ops.convert_to_numpy(log_gamma))
    pi, mu, var = em.m_step(zv, log_var_v, gamma=gamma, full=full)
    pi, mu = (keras.ops.convert_to_numpy(a) for a in (pi, mu))
    return pi, mu.T, sklearn_layout(var)


def tied_init(zv, n_clusters: int, *, seed: int, restarts: int, fit, log_var_v=None, full=False):
    """The GMM initialisation over tied views: the best of ``restarts`` fits.

    Each fit is ``fit(points, K, seed)`` (KMeans then a diagonal GaussianMixture,
    :func:`~astrovader.training.mixture.gmm_init.fit_mixture`) on every view's μ̃; its
    tied responsibilities start EM on the views' posteriors (``log_var_v``,
    :func:`from_point_fit`), so that σ² holds the posteriors' spread that the joint
    epochs' EM adds, then tied EM iterations follow.
    The fit kept is the one of highest tied log-likelihood
    (:func:`~astrovader.model.em.expected_log_likelihood`), an unsupervised
    choice. With ``full`` the covariances are full from the first M-step on.
    Returns ``(pi, mu, var, score)`` in scikit-learn's layout.
    """
    best = None
    points = zv.reshape(-1, zv.shape[-1])
    for r in range(restarts):
        mixture = fit(points, n_clusters, seed + r)
        pi, mu, var = mixture.weights_, mixture.means_, mixture.covariances_
        if log_var_v is not None or full:
            pi, mu, var = from_point_fit(zv, log_var_v, pi=pi, mu=mu, var=var, full=full)
        if len(zv) > 1 or log_var_v is not None or full:
            for _ in range(INIT_ITERATIONS):
                _, pi, mu, var = em_step(zv, log_var_v, pi=pi, mu=mu, var=var)
        score = float(
            em.expected_log_likelihood(zv, pi, mu=mu.T, var=published(var), log_var_v=log_var_v)
        )
        log.info("GMM initialisation %d of %d: tied log-likelihood %.4f", r + 1, restarts, score)
        if best is None or score > best[3]:
            best = (pi, mu, var, score)
    return best


class TeacherSnapshot(keras.callbacks.Callback):
    """Copy the encoder into the model's teacher at the start of every joint epoch.

    The tied targets of the epoch (:func:`~astrovader.model.targets.tied_target`)
    come from the teacher when the batches do not bring their views' embeddings
    (shards, validation), so they are the E-step of the epoch's start either way.

    Args:
        at_epoch: T_γ; epochs before it are γ-training.
    """

    def __init__(self, at_epoch: int):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.at_epoch and self.model.teacher is not None:
            self.model.teacher.set_weights(self.model.encoder.get_weights())


class EpochViews:
    """The tied views of an epoch, for the callbacks that fit the mixture to them.

    A subclass (:class:`MixtureEM`, the GMM initialisation) holds ``model``, ``tied``,
    ``dataset``, ``n_batches`` and ``views``.
    """

    def views_of_epoch(self, epoch: int):
        """The μ̃ and log σ̃² (V, N, J) of the tied views at the start of ``epoch``.

        Every training image's, embedded at the epoch's start (``tied``, a
        :class:`~astrovader.training.mixture.tied_views.TiedViews`), or, without them, those of
        up to ``n_batches`` batches of ``dataset`` embedded now.
        """
        if self.tied is not None and self.tied.of_epoch(epoch):
            return self.tied.arrays()
        return embed_views(self.model, self.dataset, views=self.views, limit=self.n_batches)


class MixtureEM(EpochViews, keras.callbacks.Callback):
    """At the start of every joint epoch after the first, one tied EM step (eqs. A1–A2).

    Args:
        dataset: Iterable of clean image batches (the training data).
        at_epoch: T_γ; epochs before it are γ-training.
        n_batches: L, the mini-batches embedded when there are no ``tied`` views.
        views: The tied views (1, 4 or 8).
        respawn: Re-seed components with fewer than ``respawn`` · N/K images at the
            start of each annealing phase after the first (0: never).
        seed: Random state of the 2-means splits.
        schedule: The run's ``[schedule]`` (when the annealing phases start).
        tied: The epoch's :class:`~astrovader.training.mixture.tied_views.TiedViews`, or None.
    """

    def __init__(
        self,
        dataset,
        at_epoch,
        *,
        n_batches,
        views,
        respawn=0.0,
        seed=0,
        schedule=None,
        tied=None,
    ):
        super().__init__()
        self.dataset, self.at_epoch, self.n_batches = dataset, at_epoch, n_batches
        self.views, self.fraction, self.seed = views, respawn, seed
        self.schedule, self.tied = schedule, tied
        self.reseeded = 0

    def _may_respawn(self, epoch: int) -> bool:
        if self.fraction <= 0:
            return False
        if self.schedule is None:
            return True
        state = phase_at(epoch, self.schedule)
        return state.phase == ANNEAL and state.t == 0

    def on_epoch_begin(self, epoch, logs=None):
        prior = self.model.prior
        if epoch <= self.at_epoch or not prior.is_initialized:
            return  # at T_γ the mixture was just initialised
        zv, log_var_v = self.views_of_epoch(epoch)
        current = prior.mixture()
        var = current.get("covariance", current["var"])
        gamma, pi, mu, var = em_step(zv, log_var_v, pi=current["pi"], mu=current["mu"], var=var)
        if self._may_respawn(epoch):
            pi, mu, var, count = respawn(
                zv,
                gamma,
                pi=pi,
                mu=mu,
                var=var,
                fraction=self.fraction,
                seed=self.seed + epoch,
                log_var_v=log_var_v,
            )
            if count:
                self.reseeded += count
                log.info("epoch %d: re-seeded %d near-empty component(s)", epoch + 1, count)
        prior.set_mixture(pi, mu, var=var)


__all__ = [
    "EpochViews",
    "MixtureEM",
    "TeacherSnapshot",
    "em_step",
    "from_point_fit",
    "published",
    "respawn",
    "sklearn_layout",
    "tied_init",
]
