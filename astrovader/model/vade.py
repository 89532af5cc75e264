"""The AstroVaDEr model: a VAE with a Gaussian-mixture prior, trained by s3VDC (method §2–5)."""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf
from keras import ops

from astrovader._version import __version__
from astrovader.config.rules import RECONSTRUCTION, parse_minmax_lambda
from astrovader.data.augment import view_settings
from astrovader.data.reading import ReadOptions
from astrovader.model import gmm_math, replicas
from astrovader.model.api import InferenceMixin
from astrovader.model.cluster_probability import ClusterProbability
from astrovader.model.gmm_prior import GMMPrior
from astrovader.model.network import Geometry, build_decoder, build_encoder
from astrovader.model.reparameterize import Reparameterize
from astrovader.model.targets import consistency_loss, tied_target
from astrovader.model.views import RandomViews

LOSS_TERMS = ("loss", "reconstruction", "kl", "gmm_kl", "consistency")
_NETWORK = ("image_size", "bands", "latent_dim", "filters", "leaky_slope", "l2")
SETTINGS = (
    *_NETWORK,
    "n_clusters",
    "kernels",
    "decoder_kernels",
    "reconstruction",
    "minmax_lambda",
    "upsampling",
    "seed",
    "reading",
    "views",
    "gamma_from",
    "pi_simplex",
    "mixture_update",
    "tied_views",
    "consistency",
)
GAMMA_SOURCES = ("sample", "mean", "target")


@keras.saving.register_keras_serializable(package="astrovader")
class AstroVaDEr(InferenceMixin, keras.Model):
    """Variational deep embedding of galaxy images with a Gaussian-mixture prior.

    The loss of one batch is mean_n[L_rec + w_KL · L_KL + w_GMM · L_GMM] plus the
    L2 penalties (method §4), where the weights w_KL (``kl_weight``), w_GMM
    (``gmm_weight``) and the gradient clip (``clip_value``) are non-trainable
    weights set by the s3VDC schedule callbacks, not by branches in the step.

    Under a ``tf.distribute`` strategy with R replicas a step equals the
    single-device step on the same global batch (see
    :mod:`astrovader.model.replicas`): losses are weighted by each replica's
    share of the batch, gradients are summed before clipping, the γ min-max
    transform takes its min and max over the **global** batch, and each replica
    draws its own rows of the reparameterisation noise. Under mixed precision the
    mixture maths, the latent heads and the output layer stay float32, and the
    clip acts on unscaled gradients.

    Args:
        image_size: Input side S in pixels (multiple of 8).
        bands: Image bands B (1 grey, 3 colour).
        latent_dim: J.
        n_clusters: K.
        filters: Encoder filters of the three blocks.
        kernels: Encoder kernel sides of the three blocks.
        decoder_kernels: Decoder kernel sides of the three blocks.
        leaky_slope: LeakyReLU slope.
        l2: L2 factor on every kernel and bias.
        reconstruction: ``"mse"`` or ``"bce"``.
        minmax_lambda: λ of the γ transform, or ``None``/``"none"``.
        upsampling: Decoder upsampling, ``"bilinear"`` or ``"bilinear_legacy"``
            (the published network's Keras 2 behaviour, see
            :class:`~astrovader.model.network.LegacyBilinearUpSampling2D`).
        seed: Seed of the reparameterisation noise.
        reading: How the training images were read (scaling of raw flux, crop,
            band axis: :meth:`astrovader.data.reading.ReadOptions.saved`), kept so
            that every later reading of raw data matches; None for the defaults.
        views: Settings of the :class:`~astrovader.model.views.RandomViews`
            that training sees instead of the images (method §9), or None (the paper).
        gamma_from: γ of the mixture KL from the sampled z (``"sample"``, the
            paper), from μ̃ (``"mean"``) or from the tied target of the image's
            unaugmented views (``"target"``, method §9 eq. A1).
        pi_simplex: Keep π on the simplex (π / Σπ).
        mixture_update: ``"gradient"`` (the paper) or ``"em"``: the prior takes
            no gradient steps and is set by :class:`~astrovader.training.mixture_em.MixtureEM`.
        tied_views: Flips and quarter turns (1, 4 or 8) whose μ̃ share the target γ.
        consistency: Weight of KL(target ‖ γ of the view) after the GMM
            initialisation (method §9 eq. A3); 0 is off (the paper).
        **kwargs: Standard model arguments.
    """

    def __init__(
        self,
        image_size: int = 128,
        bands: int = 1,
        latent_dim: int = 20,
        n_clusters: int = 12,
        filters=(64, 64, 16),
        kernels=(3, 5, 5),
        decoder_kernels=(5, 5, 5),
        leaky_slope: float = 0.1,
        l2: float = 0.01,
        reconstruction: str = "mse",
        minmax_lambda=50.0,
        upsampling: str = "bilinear",
        seed: int | None = None,
        reading: dict | None = None,
        views: dict | None = None,
        gamma_from: str = "sample",
        pi_simplex: bool = False,
        mixture_update: str = "gradient",
        tied_views: int = 1,
        consistency: float = 0.0,
        **kwargs,
    ):
        kwargs.setdefault("name", "astrovader")
        kwargs.pop("astrovader_version", None)  # written by get_config, checked by loading
        super().__init__(**kwargs)
        RECONSTRUCTION.check("reconstruction", reconstruction)
        self.image_size, self.bands = int(image_size), int(bands)
        self.latent_dim, self.n_clusters = int(latent_dim), int(n_clusters)
        self.filters, self.kernels = tuple(filters), tuple(kernels)
        self.decoder_kernels = tuple(decoder_kernels)
        self.leaky_slope, self.l2 = float(leaky_slope), float(l2)
        self.reconstruction = reconstruction
        self.minmax_lambda = parse_minmax_lambda(minmax_lambda)
        self.upsampling = upsampling
        self.seed = seed
        self.reading = reading
        if gamma_from not in GAMMA_SOURCES:
            raise ValueError(f"gamma_from must be one of {GAMMA_SOURCES}, got {gamma_from!r}")
        if mixture_update not in ("gradient", "em"):
            raise ValueError(f"mixture_update must be 'gradient' or 'em', got {mixture_update!r}")
        if tied_views not in (1, 4, 8):
            raise ValueError(f"tied_views must be 1, 4 or 8, got {tied_views!r}")
        if not float(consistency) >= 0:
            raise ValueError(f"consistency must be non-negative, got {consistency!r}")
        self.views = dict(views) if views else None
        self.gamma_from, self.pi_simplex = gamma_from, bool(pi_simplex)
        self.mixture_update, self.tied_views = mixture_update, int(tied_views)
        self.consistency = float(consistency)
        geometry = Geometry(**{name: getattr(self, name) for name in _NETWORK})
        self.encoder = build_encoder(geometry, self.kernels)
        self.teacher = None
        if self.gamma_from == "target" or self.consistency > 0:
            # The encoder as it was at the start of the epoch: the tied targets come from
            # it (method §9), as an E-step at the epoch start would give them.
            plain = dataclasses.replace(geometry, l2=0.0)
            self.teacher = build_encoder(plain, self.kernels, name="teacher_encoder")
            self.teacher.trainable = False
        self.decoder = build_decoder(geometry, self.decoder_kernels, upsampling)
        # The sampler and the mixture compute in float32 under any dtype policy (in a
        # mixed policy Keras would otherwise read the prior's weights in 16 bits).
        self.sampler = Reparameterize(seed=seed, name="latentz_sampling", dtype="float32")
        self.prior = GMMPrior(
            self.n_clusters,
            self.latent_dim,
            simplex=self.pi_simplex,
            name="latentGMM_Layer",
            dtype="float32",
        )
        self.prior.trainable = mixture_update == "gradient"
        self.viewer = None
        if self.views:
            self.viewer = RandomViews(**self.views, seed=seed, name="views", dtype="float32")
        self.gamma_layer = ClusterProbability(self.minmax_lambda, name="get_gamma", dtype="float32")
        self.kl_weight = self._scalar("kl_weight", 0.0)
        self.gmm_weight = self._scalar("gmm_weight", 0.0)
        self.clip_value = self._scalar("clip_value", float("inf"))
        self.consistency_weight = self._scalar("consistency_weight", 0.0)
        self.epochs_done = self._scalar("epochs_done", 0.0)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOSS_TERMS}
        self.skipped_batches = keras.metrics.Sum(name="skipped_batches")
        self.skip_nonfinite = False
        self.built = True

    def _scalar(self, name, value):
        return self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(value),
            trainable=False,
            name=name,
            dtype="float32",
        )

    def build(self, input_shape=None):
        """All weights exist from construction; nothing to build."""
        self.built = True

    def call(self, inputs, training=None):
        """Reconstruct images: encode, sample z (training) or take μ̃, decode."""
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampler([z_mean, z_log_var], training=training)
        return self.decoder(z, training=training)

    def loss_terms(self, x, training=False):
        """Batch means of every loss term (method §4) and the weighted total.

        Args:
            x: (N, S, S, B) images in [0, 1].
            training: Sample z and run layers in training mode.

        Returns:
            Dict with scalars ``loss``, ``reconstruction``, ``kl``, ``gmm_kl`` and
            ``consistency``. With views, the network sees a random view of each
            image and reconstructs its target (method §9).
        """
        view, goal = self._views(x, training)
        z_mean, z_log_var = self.encoder(view, training=training)
        z = self._sample(z_mean, z_log_var, training)
        x_hat = self.decoder(z, training=training)
        pi, mu, var = self.prior(z)
        log_target = None
        if self.gamma_from == "target" or self.consistency > 0:
            log_target = tied_target(self, x, pi, mu, var)
        if self.gamma_from == "target":
            log_gamma = log_target
        else:
            log_gamma = self._log_gamma(z if self.gamma_from == "sample" else z_mean, pi, mu, var)
        rec = gmm_math.reconstruction_loss(goal, x_hat, self.reconstruction)
        kl = gmm_math.unit_gaussian_kl(z_mean, z_log_var)
        gmm = gmm_math.gmm_kl(z_mean, z_log_var, log_gamma, pi, mu, var)
        agree = ops.zeros_like(kl)
        if self.consistency > 0:
            agree = consistency_loss(log_target, z_mean, pi, mu, var)
        total = ops.mean(
            rec + self.kl_weight * kl + self.gmm_weight * gmm + self.consistency_weight * agree
        )
        if self.losses:
            total = total + ops.cast(ops.sum(self.losses), "float32")
        return {
            "loss": total,
            "reconstruction": ops.mean(rec),
            "kl": ops.mean(kl),
            "gmm_kl": ops.mean(gmm),
            "consistency": ops.mean(agree),
        }

    def _views(self, x, training):
        """(view, reconstruction target); the views of a replica are its rows of the global draw."""
        if self.viewer is None or not training:
            return x, x

        def draw(inputs):
            return ops.concatenate(self.viewer(inputs[0], training=True), axis=-1)

        both = replicas.replica_rows(draw, [x])
        return both[..., : self.bands], both[..., self.bands :]

    def _sample(self, z_mean, z_log_var, training):
        """z: μ̃ at inference; in training, fresh noise per row on every replica."""
        if not training:
            return self.sampler([z_mean, z_log_var], training=False)
        return replicas.replica_rows(
            lambda inputs: self.sampler(inputs, training=True), [z_mean, z_log_var]
        )

    def _log_gamma(self, z, pi, mu, var):
        """log γ; inside a multi-replica step the min-max transform is global.

        method eq. 17 takes min and max over the batch's (N, K) cost matrix. When the
        batch is split over replicas they are the min and max over every replica's
        costs (:func:`~astrovader.model.replicas.global_extrema`), which makes
        γ the one a single device computes for the whole batch. Elsewhere this is
        :class:`~astrovader.model.cluster_probability.ClusterProbability`.
        """
        context = tf.distribute.get_replica_context()
        if self.minmax_lambda is None or context is None or context.num_replicas_in_sync == 1:
            return self.gamma_layer([z, pi, mu, var], log=True)
        costs = gmm_math.cluster_costs(z, pi, mu, var)
        low, high = replicas.global_extrema(costs)
        span = high - low + gmm_math.MINMAX_EPSILON
        return ops.log_softmax((costs - low) / span * (-self.minmax_lambda), axis=-1)

    def _clip(self, grads):
        """Clip each gradient entry to ±clip_value, in unscaled units.

        With a ``LossScaleOptimizer`` the gradients carry the loss scale S, so the
        bound is S·clip_value, and non-finite entries are kept so that the
        optimizer sees the overflow, skips the step and lowers S.
        """
        limit = self.clip_value
        if not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            return [ops.clip(g, -limit, limit) for g in grads]
        limit = limit * ops.cast(self.optimizer.scale_loss(ops.ones((), "float32")), "float32")
        return [ops.where(ops.isfinite(g), ops.clip(g, -limit, limit), g) for g in grads]

    @property
    def metrics(self):
        return [*self.trackers.values(), self.skipped_batches]

    def _record(self, terms, weight=None, **extra):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], sample_weight=weight)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        return replicas.step_logs({**logs, **extra})

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        share = replicas.batch_share(ops.shape(x)[0])
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, training=True)
            scaled = self.optimizer.scale_loss(terms["loss"] * share)
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        if not self.skip_nonfinite:
            grads = self._clip(replicas.sum_over_replicas(grads))
            self.optimizer.apply(replicas.optimizer_share(grads), variables)
            return self._record(terms, share)
        # --on-nan skip-batch: drop a batch whose loss or gradients are not finite
        # (on any replica: the flag is summed with the gradients).
        # A LossScaleOptimizer handles non-finite gradients itself (skip, lower the scale).
        finite_terms = ops.all(ops.stack([ops.all(ops.isfinite(t)) for t in terms.values()]))
        *grads, bad = replicas.sum_over_replicas([*grads, 1.0 - ops.cast(finite_terms, "float32")])
        grads = self._clip(grads)
        finite = ops.equal(bad, 0.0)
        if not isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            finite_grads = ops.all(ops.stack([ops.all(ops.isfinite(g)) for g in grads]))
            finite = ops.logical_and(finite, finite_grads)
        replicas.apply_if(
            finite, lambda: self.optimizer.apply(replicas.optimizer_share(grads), variables)
        )
        kept = ops.cast(finite, "float32")
        self.skipped_batches.update_state((1.0 - kept) * share)
        terms = {k: ops.where(finite, v, ops.zeros_like(v)) for k, v in terms.items()}
        return self._record(terms, kept * share, skipped_batches=self.skipped_batches.result())

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        share = replicas.batch_share(ops.shape(x)[0])
        return self._record(self.loss_terms(x, training=False), share)

    def get_config(self):
        # No dtype policy: a saved model computes in the policy of the process that
        # loads it (float32 unless that process sets mixed precision).
        base = {k: v for k, v in super().get_config().items() if k != "dtype"}
        settings = {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in ((name, getattr(self, name)) for name in SETTINGS)
        }
        return {**base, "astrovader_version": __version__, **settings}

    @classmethod
    def from_settings(cls, config) -> AstroVaDEr:
        """Build the model described by an :class:`astrovader.config.Config`."""
        m, mix = config.model, config.mixture
        return cls(
            image_size=config.data.image_size,
            bands=config.data.bands,
            latent_dim=m.latent_dim,
            n_clusters=m.n_clusters,
            filters=m.filters,
            kernels=m.kernels,
            decoder_kernels=m.decoder_kernels,
            leaky_slope=m.leaky_slope,
            l2=m.l2_factor(config.data.image_size, config.data.bands),
            reconstruction=config.loss.reconstruction,
            minmax_lambda=config.loss.minmax_lambda,
            seed=config.training.seed,
            reading=ReadOptions.from_config(config).saved(),
            views=view_settings(config.augment),
            gamma_from=mix.gamma_from,
            pi_simplex=mix.pi == "simplex",
            mixture_update=mix.update,
            tied_views=config.augment.tied_views,
            consistency=config.augment.consistency,
        )

    def read_options(self, **given) -> ReadOptions:
        """How to read images for this model: its size, bands and saved reading settings."""
        return ReadOptions.from_saved(self.bands, self.image_size, self.reading, **given)
