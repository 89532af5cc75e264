"""The sections of the configuration: frozen, typed dataclasses with the paper's defaults.

The section and key names are an interface shared with run directories,
``--set section.key=value`` overrides and ``experiments/paper.toml``. What each
value may be is written in :mod:`astrovader.config.rules`.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "CatalogConfig",
    "DataConfig",
    "LossConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PickKConfig",
    "ScalingConfig",
    "ScheduleConfig",
    "StampGeometry",
    "TrainingConfig",
    "pixel_factor",
]


@dataclasses.dataclass(frozen=True)
class StampGeometry:
    """How one stamp is cut and bounded before it is decoded.

    The geometry keys of ``[data]`` (:class:`DataConfig`), which the readers' options
    (:class:`~astrovader.data.images.options.ReadOptions`) hold too.
    """

    crop: int = 0
    crop_arcsec: float = 0.0
    pixel_scale: float = 0.0
    band_axis: str = "auto"
    max_pixels: int = 2**26
    max_bytes: int = 2**27


@dataclasses.dataclass(frozen=True)
class _DataInputs:
    """The keys of ``[data]`` before its geometry (the order of the TOML section)."""

    image_size: int = 128
    bands: int = 1
    flips: bool = True
    validation_fraction: float = 0.03
    path: str = ""
    synthetic_count: int = 2000
    strict: bool = False
    nan_pixels: str = "error"


@dataclasses.dataclass(frozen=True)
class DataConfig(StampGeometry, _DataInputs):
    """Input images (method §1).

    ``path`` is a folder of images, one image, a ``.npy`` array, TFRecord shards
    or a catalogue table (FITS, CSV or ECSV; columns in ``[catalog]``); empty means
    the built-in synthetic set of ``synthetic_count`` images. ``strict`` makes
    non-image files in a data folder an error (else they are skipped and counted);
    ``nan_pixels`` is ``"error"`` (default) or ``"zero"`` (replace NaN/inf pixels
    by 0 and report how many).

    Geometry: ``crop`` (pixels) or ``crop_arcsec`` (arcseconds, with the pixel
    scale from the FITS WCS, the catalogue or ``pixel_scale``) centre-crops each
    stamp before it is resized; 0 keeps the largest centred square. ``band_axis``
    says where the bands of a 3-D FITS cube are: ``"auto"`` (the short axis, first
    or last), ``"first"`` (B, H, W) or ``"last"`` (H, W, B). ``max_pixels`` bounds
    the pixels of one decoded image and ``max_bytes`` its bytes as the file stores
    them (values × bytes per value), both checked before decoding. A raw stamp smaller
    than the crop is padded with noise of its own sky. ``image_arcsec`` is written
    by ``fit``: the angular side of the images read (the crop, or the side every
    stamp shares), 0 when unknown or mixed. ``mask_neighbours`` replaces every
    source of a raw stamp but the central one by sky noise (photutils segmentation;
    :mod:`astrovader.data.images.neighbours`).
    """

    image_arcsec: float = 0.0
    mask_neighbours: bool = False


@dataclasses.dataclass(frozen=True)
class ScalingConfig:
    """How raw-flux stamps (FITS, float ``.npy``) become pixels in [0, 1] (method §1).

    With astropy.visualization: the sky (``"median"``: the sigma-clipped median of
    each band, ``astropy.stats.sigma_clipped_stats``) is subtracted, an interval
    maps the values onto [0, 1] with clipping, and a stretch follows. Intervals:
    ``"sky"`` (from ``noise_floor`` times the sky's clipped standard deviation
    above the sky to the ``upper_percentile``, so that the background is black
    whatever the sky and the galaxy's brightness), ``"minmax"``, ``"percentile"``
    (``lower_percentile`` to ``upper_percentile``), ``"zscale"``, or ``"none"`` for
    values already in [0, 1]. Stretches: ``"linear"``, ``"sqrt"``, ``"log"`` with
    ``log_a``, ``"asinh"`` with ``asinh_a``.
    ``scope = "image"`` measures the interval on each stamp; ``"global"`` measures
    one interval on ``sample`` stamps and writes it to ``limits``, which every
    later reading (embed, report, resume) applies. 8- and 16-bit images (PNG,
    JPEG, integer arrays) are display images already: they are divided by 255 or
    65535 and not scaled.
    """

    sky: str = "median"
    interval: str = "sky"
    noise_floor: float = 1.0
    lower_percentile: float = 0.5
    upper_percentile: float = 100.0
    stretch: str = "asinh"
    asinh_a: float = 0.1
    log_a: float = 1000.0
    scope: str = "image"
    sample: int = 500
    limits: tuple[float, ...] = ()


@dataclasses.dataclass(frozen=True)
class CatalogConfig:
    """The columns of an input catalogue (``data.path`` a FITS, CSV or ECSV table).

    Each row names one stamp: ``path_column`` (a file, relative to the
    catalogue's folder), optionally ``hdu_column`` (the FITS HDU, or the row of
    a ``.npy`` array), ``id_column``, ``ra_column`` and ``dec_column`` (degrees)
    and ``pixel_scale_column`` (arcsec/pixel, for ``data.crop_arcsec``). ``"auto"``
    finds the usual names, case-insensitively (a GalSim real-galaxy catalogue's
    ``GAL_FILENAME``, ``GAL_HDU``, ``IDENT``, ``RA``, ``DEC``, ``PIXEL_SCALE``
    included); ``"none"`` means the catalogue has no such column. ``columns`` are
    further columns carried into ``clusters.csv``, ``embed`` tables and the report.

    Multi-band stamps from per-band files: ``path_column`` (and ``hdu_column``) may
    list one column per band (``["F606W_FILE", "F814W_FILE"]``), or
    ``band_catalogs`` name further per-band catalogues (beside this one) whose rows
    are matched by id; each row is then one stamp of those bands, in that order
    (``data.bands`` must be their number). ``noise_column`` is the sky's noise
    variance per stamp (``NOISE_VARIANCE``), which then sets the sky noise of
    ``[scaling]`` instead of measuring it.
    """

    path_column: str | tuple[str, ...] = "auto"
    hdu_column: str | tuple[str, ...] = "auto"
    id_column: str = "auto"
    ra_column: str = "auto"
    dec_column: str = "auto"
    pixel_scale_column: str = "auto"
    noise_column: str = "auto"
    band_catalogs: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def band_names(self) -> tuple[str, ...]:
        """The bands of stamps read from per-band files, in order (empty: one file)."""
        paths = (self.path_column,) if isinstance(self.path_column, str) else self.path_column
        if len(paths) == 1 and not self.band_catalogs:
            return ()
        return (*paths, *self.band_catalogs)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The encoder-decoder and the mixture (method §2).

    ``n_clusters = "auto"`` chooses K with pick-k (method §6, settings in
    ``[pick_k]``) on the γ-trained embedding at the GMM initialisation.
    """

    latent_dim: int = 20
    n_clusters: int | str = 12
    filters: tuple[int, ...] = (64, 64, 16)
    kernels: tuple[int, ...] = (3, 5, 5)
    decoder_kernels: tuple[int, ...] = (5, 5, 5)
    leaky_slope: float = 0.1
    l2: float = 0.0016
    l2_scaling: str = "pixels"

    def l2_factor(self, image_size: int, bands: int) -> float:
        """The L2 factor of every kernel and bias for images of this size and bands.

        ``l2`` itself, or with ``l2_scaling = "pixels"`` ``l2`` × D / 128² (D = S²·B
        pixels of an image): the penalty is added to D·MSE, so the paper's 0.01 at
        128² grey corresponds to 6.25·10⁻⁴ at 32² (method §9).
        """
        return self.l2 * pixel_factor(self.l2_scaling, image_size, bands)


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """The s3VDC phase lengths in epochs (method §5, paper Table 1).

    ``epoch_images`` > 0 makes every epoch of the schedule that many images (steps of
    ``training.batch_size``) whatever the size of the data, so that 2,000 and
    2,000,000 images get comparable training; 0 is one pass over the training
    images (the paper). ``beta_per = "step"`` raises the annealing weight β every
    step instead of every epoch (the paper). ``stop_when_stable`` > 0 ends training
    after a static phase over which fewer than that fraction of the images changed
    cluster (:mod:`astrovader.training.phases.stability`; 0: the whole schedule, the paper).
    """

    gamma_epochs: int = 100
    gmm_batches: int = 200
    anneal_epochs: int = 25
    static_epochs: int = 25
    periods: int = 5
    anneal_power: float = 3.0
    epoch_images: int = 0
    beta_per: str = "step"
    stop_when_stable: float = 0.0

    @property
    def total_epochs(self) -> int:
        """T_γ + M (T_β + T_s)."""
        return self.gamma_epochs + self.periods * (self.anneal_epochs + self.static_epochs)


def pixel_factor(scaling: str, image_size: int, bands: int) -> float:
    """1 for ``scaling = "none"``; S²B / 128² for ``"pixels"`` (the paper's 128² grey images)."""
    if scaling == "none":
        return 1.0
    return image_size * image_size * bands / 128**2


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Loss weights (method §3–4). ``minmax_lambda`` None is the untransformed posterior.

    With ``scaling = "pixels"`` the weights of the clustering terms, ``gmm_scale``
    and ``augment.consistency``, are given for 128² grey images and scaled with the
    pixel count D = S²B (× D / 128²), as ``model.l2`` is: they weigh against the
    reconstruction term D·MSE, which grows with D, so the balance the defaults
    were measured at holds at every image size (method §9). ``"none"`` uses them as
    they are (the paper).
    """

    reconstruction: str = "mse"
    gamma: float = 0.0005
    gmm_scale: float = 0.8
    minmax_lambda: float | None = None
    scaling: str = "pixels"

    def factor(self, image_size: int, bands: int) -> float:
        """The factor on ``gmm_scale`` and ``augment.consistency`` for these images."""
        return pixel_factor(self.scaling, image_size, bands)


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """Adam with staircase exponential decay to a floor (method §5.4)."""

    learning_rate: float = 3e-4
    min_learning_rate: float = 1e-6
    decay_every: int = 5
    clip_value: float = 1.0


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Batching, reproducibility and the hardware options.

    ``strategy``: ``auto`` (mirrored over several visible GPUs, else default),
    ``default``, ``mirrored`` or ``multiworker`` (``TF_CONFIG``). ``precision``:
    ``auto``, ``float32``, ``mixed_bfloat16`` or ``mixed_float16`` (the mixture
    maths stay float32). ``xla``: ``auto``, ``on`` or ``off``. ``max_memory``: the
    bytes training may need (0: this machine's memory), checked before it starts
    (:mod:`astrovader.training.memory`).
    """

    batch_size: int = 180
    seed: int = 0
    strategy: str = "auto"
    precision: str = "auto"
    xla: str = "auto"
    max_memory: int = 0


@dataclasses.dataclass(frozen=True)
class PickKConfig:
    """The Dirichlet-process cluster count of ``model.n_clusters = "auto"`` (method §6).

    See :func:`astrovader.training.mixture.pick_k.count_components`. ``concentration``
    None is scikit-learn's default 1/``max_components``.
    """

    fits: int = 50
    batch_size: int = 1000
    max_components: int = 30
    threshold: float = 0.01
    concentration: float | None = None
