"""The configuration sections of the methods beyond the paper (docs/method.md §9).

Each option is off in ``experiments/paper.toml``: :data:`PAPER_METHOD` lists the
values of every key, in every section, that make a configuration the paper's
method, and :meth:`~astrovader.config.core.Config.paper` applies them.
"""

from __future__ import annotations

import dataclasses

__all__ = ["PAPER_METHOD", "SURVEY_KEYS", "AugmentConfig", "MixtureConfig"]

SURVEY_KEYS = ("flux_dex", "blur", "snr", "neighbour")
"""The ``[augment]`` keys of the survey views (method §9d); 0 is off."""


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Augmentation-consistent training (method §9; beyond the paper, off in paper.toml).

    Each training image is seen as a random view (:mod:`astrovader.model.views`):
    quarter turns (``rotate90``), free rotations (``rotate``: switch both off when
    orientation is the science), shifts up to ``shift`` of the side, a zoom
    log-uniform in [1/``zoom``, ``zoom``], a brightness factor in [1 − b, 1 + b] and
    Gaussian noise up to ``noise``. The survey views (method §9d; all 0, off, by
    default) vary what a survey varies, on the pixels returned to linear flux by
    the inverse of the ``[scaling]`` stretch: a flux factor 10^−u, u uniform in
    [0, ``flux_dex``]; with probability ``neighbour`` another image of the batch
    pasted at an offset; a Gaussian PSF of σ up to ``blur`` of the side; and
    Gaussian noise at a peak S/N log-uniform in [``snr``, 100 ``snr``]. The model
    reconstructs the view without noise (``target = "view"``) or the original image
    (``"original"``). The cluster responsibilities of the view are pulled towards
    those of the whole image with weight ``consistency`` (eq. A3; for 128² grey
    images, scaled with the pixel count by ``loss.scaling`` as ``loss.gmm_scale``
    is), and an image's responsibilities come from its ``tied_views`` flips and
    quarter turns together (eq. A1; 1 = the image alone).
    After training, the γ and the embedding of every image (``clusters.csv``,
    ``embed``, the Python API) come from its ``test_views`` flips and quarter turns
    tied the same way (8: the whole dihedral group, so that a flip or a quarter
    turn of an image never moves it to another cluster; 1: the image alone, the paper).

    ``contrast`` weighs the view-agreement term (method §9c, eq. A6): every step encodes
    a second random view of each image, and NT-Xent at temperature
    ``contrast_temperature`` makes each view's μ̃ pick its partner out of the batch's
    other views, so that the latent the mixture clusters keeps what the views share
    and drops what they vary (pose, brightness, size, noise). The term is on μ̃
    itself (``contrast_head = 0``) or on a projection of it by a two-layer head of
    that width, trained with it. Given for 128² grey images and scaled with the
    pixel count like ``consistency``; 0 is off (the paper).
    """

    rotate90: bool = True
    rotate: bool = True
    shift: float = 0.06
    zoom: float = 1.18
    brightness: float = 0.15
    noise: float = 0.03
    flux_dex: float = 0.0
    blur: float = 0.0
    snr: float = 0.0
    neighbour: float = 0.0
    target: str = "view"
    consistency: float = 16.0
    tied_views: int = 4
    test_views: int = 8
    contrast: float = 0.0
    contrast_temperature: float = 0.2
    contrast_head: int = 0

    @property
    def draws_views(self) -> bool:
        """Whether training draws random views (the paper's flips aside)."""
        return (
            self.rotate90
            or self.rotate
            or self.shift > 0
            or self.zoom > 1
            or self.brightness > 0
            or self.noise > 0
            or self.surveys
        )

    @property
    def surveys(self) -> bool:
        """Whether the views vary what a survey varies (flux, seeing, S/N, neighbours; §9d)."""
        return any(getattr(self, key) > 0 for key in SURVEY_KEYS)

    @property
    def active(self) -> bool:
        """Whether training sees anything but the images (and the paper's flips)."""
        return (
            self.draws_views
            or self.consistency > 0
            or self.contrast > 0
            or self.tied_views > 1
            or self.test_views > 1
        )


@dataclasses.dataclass(frozen=True)
class MixtureConfig:
    """How the mixture prior is initialised and learned (method §9; the paper: gradient, free π).

    ``update = "em"`` re-estimates π, μ, σ² at the start of every joint epoch from
    γ-weighted statistics of the training images' embeddings (eq. A2) instead of
    learning them by gradient (``"gradient"``, the paper); ``pi = "simplex"``
    keeps π normalised. ``gamma_from`` is where the γ of the mixture KL comes
    from: the sampled z (``"sample"``, the paper), μ̃ (``"mean"``), or the image's
    responsibilities of the last E-step (``"target"``). ``respawn`` re-seeds a
    component holding fewer than ``respawn`` · N/K images by splitting the largest
    one with 2-means; ``restarts`` GMM initialisations are made and the most likely
    kept (an unsupervised choice); ``reset_optimizer`` clears Adam's moments when
    the prior is initialised. After training, ``final_fits`` fresh mixtures of the
    final embedding are compared with the learned one by BIC and the best is kept
    (:mod:`astrovader.training.mixture.final_mixture`; 0: the learned one, the paper). They
    are diagonal and full mixtures (``final_covariance = "bic"``; or only ``"diag"``
    or ``"full"``); a full winner gives the saved model a full-covariance prior.
    ``covariance = "full"`` trains with full covariances too (it needs
    ``update = "em"``; measured worse than training with the diagonal prior).
    """

    update: str = "em"
    pi: str = "simplex"
    gamma_from: str = "target"
    respawn: float = 0.05
    restarts: int = 1
    reset_optimizer: bool = True
    final_fits: int = 10
    final_covariance: str = "bic"
    covariance: str = "diag"


PAPER_METHOD: dict[str, dict] = {
    "model": {"l2": 0.01, "l2_scaling": "none"},
    "schedule": {"epoch_images": 0, "beta_per": "epoch", "stop_when_stable": 0.0},
    "loss": {"gmm_scale": 0.3, "minmax_lambda": 50.0, "scaling": "none"},
    "augment": {
        "rotate90": False,
        "rotate": False,
        "shift": 0.0,
        "zoom": 1.0,
        "brightness": 0.0,
        "noise": 0.0,
        "flux_dex": 0.0,
        "blur": 0.0,
        "snr": 0.0,
        "neighbour": 0.0,
        "target": "view",
        "consistency": 0.0,
        "tied_views": 1,
        "test_views": 1,
        "contrast": 0.0,
        "contrast_temperature": 0.2,
        "contrast_head": 0,
    },
    "mixture": {
        "update": "gradient",
        "pi": "free",
        "gamma_from": "sample",
        "respawn": 0.0,
        "restarts": 1,
        "reset_optimizer": False,
        "final_fits": 0,
        "final_covariance": "bic",
        "covariance": "diag",
    },
}
