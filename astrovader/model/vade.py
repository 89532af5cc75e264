"""The AstroVaDEr model: a VAE with a Gaussian-mixture prior, trained by s3VDC (method §2–5)."""

from __future__ import annotations

import dataclasses

import keras

from astrovader._version import __version__
from astrovader.config.rules import (
    AUGMENT_RANGES,
    GAMMA_FROM,
    MIXTURE_UPDATE,
    RECONSTRUCTION,
    VIEW_COUNT,
    full_covariance_allowed,
    parse_minmax_lambda,
    uses_tied_targets,
)
from astrovader.data.images.options import ReadOptions
from astrovader.model.api import InferenceMixin
from astrovader.model.cluster_probability import ClusterProbability
from astrovader.model.gmm_prior import GMMPrior
from astrovader.model.network import (
    Geometry,
    build_decoder,
    build_encoder,
    build_projection_head,
)
from astrovader.model.reparameterize import Reparameterize
from astrovader.model.steps import LOSS_TERMS, TrainingMixin
from astrovader.model.views import RandomViews, view_settings

__all__ = ["SETTINGS", "AstroVaDEr"]

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
    "test_views",
    "covariance",
    "contrast",
    "contrast_temperature",
    "contrast_head",
    "residual_variance",
)


@keras.saving.register_keras_serializable(package="astrovader")
class AstroVaDEr(TrainingMixin, InferenceMixin, keras.Model):
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
            band axis: :meth:`astrovader.data.images.options.ReadOptions.saved`), kept so
            that every later reading of raw data matches; None for the defaults.
        views: Settings of the :class:`~astrovader.model.views.RandomViews`
            that training sees instead of the images (method §9), or None (the paper).
        gamma_from: γ of the mixture KL from the sampled z (``"sample"``, the
            paper), from μ̃ (``"mean"``) or from the tied target of the image's
            unaugmented views (``"target"``, method §9 eq. A1).
        pi_simplex: Keep π on the simplex (π / Σπ).
        mixture_update: ``"gradient"`` (the paper) or ``"em"``: the prior takes
            no gradient steps and is set by
            :class:`~astrovader.training.mixture.mixture_em.MixtureEM`.
        tied_views: Flips and quarter turns (1, 4 or 8) whose μ̃ share the target γ.
        consistency: Weight of KL(target ‖ γ of the view) after the GMM
            initialisation (method §9 eq. A3); 0 is off (the paper).
        test_views: Flips and quarter turns (1, 4 or 8) whose μ̃ are tied into the
            γ and the embedding of :meth:`embed` (1: the image alone, the paper).
        covariance: The prior's covariances, ``"diag"`` (the paper) or ``"full"``
            (set by EM only: ``mixture_update = "em"``).
        contrast: Whether the step adds the view-agreement term (> 0; its weight is
            ``contrast_weight``, set by the schedule): NT-Xent between the μ̃ of two
            random views of each image (method §9c eq. A6; needs ``views``). 0 is off.
        contrast_temperature: τ of the term.
        contrast_head: Width of the two-layer projection head the term is computed
            on (``projection_head``); 0: on μ̃ itself.
        residual_variance: σ̂², the mean squared residual of the reconstructions of
            the training images (set by :meth:`calibrate` after training): the
            variance of the anomaly score's decoder (method §7b); None: the trained
            temperature's.
        **kwargs: Standard model arguments.
    """

    def __init__(
        self,
        image_size: int = 128,
        bands: int = 1,
        *,
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
        test_views: int = 1,
        covariance: str = "diag",
        contrast: float = 0.0,
        contrast_temperature: float = 0.2,
        contrast_head: int = 0,
        residual_variance: float | None = None,
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
        GAMMA_FROM.check("gamma_from", gamma_from)
        MIXTURE_UPDATE.check("mixture_update", mixture_update)
        VIEW_COUNT.check("tied_views", tied_views)
        VIEW_COUNT.check("test_views", test_views)
        AUGMENT_RANGES["consistency"].check("consistency", consistency)
        self.views = dict(views) if views else None
        self.gamma_from, self.pi_simplex = gamma_from, bool(pi_simplex)
        self.mixture_update, self.tied_views = mixture_update, int(tied_views)
        self.consistency = float(consistency)
        self.test_views = int(test_views)
        if not full_covariance_allowed(covariance, mixture_update):
            raise ValueError("covariance 'full' needs mixture_update 'em'")
        self.covariance = covariance
        AUGMENT_RANGES["contrast"].check("contrast", contrast)
        AUGMENT_RANGES["contrast_temperature"].check("contrast_temperature", contrast_temperature)
        AUGMENT_RANGES["contrast_head"].check("contrast_head", contrast_head)
        if contrast > 0 and not self.views:
            raise ValueError("contrast > 0 needs random views (views)")
        self.contrast = float(contrast)
        self.contrast_temperature = float(contrast_temperature)
        self.contrast_head = int(contrast_head)
        self.residual_variance = None if residual_variance is None else float(residual_variance)
        geometry = Geometry(**{name: getattr(self, name) for name in _NETWORK})
        self.encoder = build_encoder(geometry, self.kernels)
        self.teacher = None
        if uses_tied_targets(self.gamma_from, self.consistency):
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
            covariance=covariance,
            name="latentGMM_Layer",
            dtype="float32",
        )
        self.prior.trainable = mixture_update == "gradient"
        self.viewer = None
        if self.views:
            self.viewer = RandomViews(**self.views, seed=seed, name="views", dtype="float32")
        self.gamma_layer = ClusterProbability(self.minmax_lambda, name="get_gamma", dtype="float32")
        self.projector = None
        if self.contrast > 0 and self.contrast_head > 0:
            self.projector = build_projection_head(self.latent_dim, self.contrast_head)
        self.kl_weight = self._scalar("kl_weight", 0.0)
        self.gmm_weight = self._scalar("gmm_weight", 0.0)
        self.clip_value = self._scalar("clip_value", float("inf"))
        self.consistency_weight = self._scalar("consistency_weight", 0.0)
        # Only where the term is on, so that models saved before it existed still load.
        self.contrast_weight = self._scalar("contrast_weight", 0.0) if self.contrast > 0 else None
        self.epochs_done = self._scalar("epochs_done", 0.0)
        # The terms logged: ``contrast`` only where it is on, so paper runs' histories keep
        # the columns they always had.
        terms = LOSS_TERMS if self.contrast > 0 else tuple(t for t in LOSS_TERMS if t != "contrast")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in terms}
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
            views=view_settings(config.augment, config.scaling),
            gamma_from=mix.gamma_from,
            pi_simplex=mix.pi == "simplex",
            mixture_update=mix.update,
            tied_views=config.augment.tied_views,
            consistency=config.augment.consistency,
            test_views=config.augment.test_views,
            covariance=mix.covariance,
            contrast=config.augment.contrast,
            contrast_temperature=config.augment.contrast_temperature,
            contrast_head=config.augment.contrast_head,
        )

    def read_options(self, **given) -> ReadOptions:
        """How to read images for this model: its size, bands and saved reading settings."""
        return ReadOptions.from_saved(self.bands, self.image_size, self.reading, **given)
