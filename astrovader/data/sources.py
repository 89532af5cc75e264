"""The images of a run, as its configuration names them (framework-free)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from astrovader.config import Config
from astrovader.config.rules import check_sample, sample_violations, training_count
from astrovader.data.images.readers import ImageSet, ReadOptions, global_limits, load_images
from astrovader.data.images.scaling import describe
from astrovader.errors import warn

__all__ = ["fit_to_images", "load_data", "with_data_path", "with_measured_limits"]

log = logging.getLogger(__name__)


def with_data_path(config: Config, data_path: str | None) -> Config:
    """The configuration with ``data.path`` recorded (absolute, so that a resume finds it)."""
    if data_path is None:
        return config
    return config.replace(data={"path": str(Path(data_path).resolve())})


def with_measured_limits(config: Config) -> Config:
    """The configuration with ``scaling.limits`` measured, for a global interval.

    With ``scaling.scope = "global"`` and no ``limits`` yet, one interval is
    measured on a sample of the raw stamps of ``data.path``
    (:func:`~astrovader.data.images.readers.global_limits`) and written into the
    configuration, so that the run's ``config.toml`` and model keep it and every
    later reading applies the same interval. Any other configuration is returned
    as it is.
    """
    scaling = config.scaling
    if not config.data.path or scaling.scope != "global" or scaling.limits:
        return config
    from astrovader.data.images.files import data_kind

    if data_kind(config.data.path) == "shards":
        return config
    limits = global_limits(config.data.path, ReadOptions.from_config(config))
    if limits is None:
        return config
    measured = config.replace(scaling={"limits": list(limits)})
    log.info("scaling: one interval for every stamp: %s", describe(measured.scaling))
    return measured


def load_data(config: Config, progress: bool = True) -> ImageSet:
    """``config.data.path`` read by :func:`load_images`, or the built-in synthetic galaxies.

    The reading follows ``[data]`` and ``[scaling]``
    (:meth:`~astrovader.data.images.options.ReadOptions.from_config`). Skipped non-image
    files and NaN or infinite pixels replaced by 0 are each logged as a warning.

    Args:
        config: The run's configuration (data section; training seed for the synthetic set).
        progress: Show a progress bar while reading.

    Returns:
        The images (N, S, S, B) in [0, 1] with their identifiers (and catalogue columns).

    Raises:
        InputError: the data cannot be read (see :func:`load_images`).
    """
    data = config.data
    if data.path:
        options = ReadOptions.from_config(with_measured_limits(config))
        imageset = load_images(data.path, progress=progress, options=options)
        if config.catalog.band_names:
            log.info("bands, in order: %s", ", ".join(config.catalog.band_names))
        if imageset.skipped:
            warn(
                f"{data.path}: skipped {imageset.skipped} non-image file(s) "
                "(data.strict = true makes them an error)"
            )
        if imageset.replaced:
            warn(
                f"{data.path}: replaced {imageset.replaced} NaN or infinite pixel(s) by 0 "
                '(data.nan_pixels = "zero")'
            )
        return imageset
    from astrovader.data.simulated.sersic import synthetic_imageset

    imageset, _ = synthetic_imageset(
        data.synthetic_count, data.image_size, seed=config.training.seed, bands=data.bands
    )
    return imageset


def fit_to_images(config: Config, images: ImageSet, quickstart: bool = False) -> Config:
    """The run's configuration checked against the images read, before training starts.

    Every key too large for the sample is refused at once
    (:func:`~astrovader.config.rules.check_sample`); with the quick-start preset the
    batch size and validation split adapt instead
    (:func:`adapt_to_sample`), each change a warning. The
    stamps' geometry is checked (:func:`angular_notes`) and the images' angular side
    recorded as ``data.image_arcsec``.

    Raises:
        ConfigError: the keys the sample cannot satisfy, each with the value that works.
    """
    if quickstart:
        config, notes = adapt_to_sample(config, len(images))
        for note in notes:
            warn(note)
    check_sample(config, len(images))
    arcsec, notes = angular_notes(config, images.geometry)
    for note in notes:
        warn(note)
    if arcsec:
        log.info("images span %.4g arcsec on a side", arcsec)
    return config.replace(data={"image_arcsec": arcsec})


def angular_notes(config: Config, geometry) -> tuple[float, list[str]]:
    """The images' angular side (0: unknown or mixed) and the warnings of their geometry.

    With pixel scales known and no ``data.crop``/``data.crop_arcsec``, stamps of
    different angular sides are each resized from their own largest square, so the
    galaxies are read at different angular scales: a warning proposes
    ``data.crop_arcsec`` (the median side). Stamps padded to the crop are counted.
    """
    data = config.data
    if geometry is None or not geometry.sides.any():
        return data.crop_arcsec, []
    notes = []
    padded = int(geometry.padded.sum())
    if padded:
        notes.append(
            f"{padded} of {len(geometry.sides)} stamps are smaller than the crop and were "
            "padded with noise of their own sky"
        )
    arcsec = geometry.arcsec
    known = arcsec[np.isfinite(arcsec)]
    if data.crop_arcsec:
        return data.crop_arcsec, notes
    scales = geometry.scales[geometry.scales > 0]
    if data.crop:
        same = scales.size == len(geometry.sides) and np.ptp(scales) <= 1e-3 * scales.max()
        return (data.crop * float(scales[0]) if same else 0.0), notes
    if known.size and known.max() > 1.05 * known.min():
        pixels = geometry.sides[geometry.sides > 0]
        scale_text = (
            f"at {scales[0]:.3g}″/px"
            if np.ptp(scales) <= 1e-3 * scales.max()
            else "at mixed scales"
        )
        notes.append(
            f"stamps span {known.min():.3g}″ to {known.max():.3g}″ ({pixels.min()} to "
            f"{pixels.max()} px {scale_text}) and each is resized from its own largest square, "
            "so the galaxies are read at different angular scales; set "
            f"data.crop_arcsec = {np.median(known):.3g} (the median side; smaller stamps are "
            "padded with noise of their own sky)"
        )
        return 0.0, notes
    whole = known.size == len(geometry.sides)
    return (float(np.median(known)) if whole else 0.0), notes


def adapt_to_sample(config: Config, n_images: int) -> tuple[Config, list[str]]:
    """The quick-start preset fitted to a small sample: ``(config, what changed)``.

    The validation split is dropped when it would leave fewer training images than
    the configuration needs, and ``training.batch_size`` is lowered to the training
    images when it exceeds them. ``model.n_clusters`` is left as it is (a choice of
    science, refused by :func:`~astrovader.config.rules.check_sample` if too large).
    """
    data, training = config.data, config.training
    changes, notes = {}, []
    n_train = training_count(n_images, data.validation_fraction)
    if n_train < n_images and sample_violations(config, n_train):
        changes["data"] = {"validation_fraction": 0.0}
        notes.append(
            f"data.validation_fraction = {data.validation_fraction:g} would leave {n_train} of "
            f"{n_images} images for training: set to 0 (no validation images)"
        )
        n_train = n_images
    if training.batch_size > n_train:
        changes["training"] = {"batch_size": n_train}
        notes.append(f"training.batch_size = {training.batch_size} lowered to the {n_train} images")
    return (config.replace(**changes) if changes else config), notes
