"""The images of a run, as its configuration names them (framework-free)."""

from __future__ import annotations

import logging
from pathlib import Path

from astrovader.config import Config
from astrovader.data.readers import ImageSet, ReadOptions, global_limits, load_images
from astrovader.data.scaling import describe

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
    (:func:`~astrovader.data.readers.global_limits`) and written into the
    configuration, so that the run's ``config.toml`` and model keep it and every
    later reading applies the same interval. Any other configuration is returned
    as it is.
    """
    scaling = config.scaling
    if not config.data.path or scaling.scope != "global" or scaling.limits:
        return config
    from astrovader.data._files import is_tfrecord_dir

    if is_tfrecord_dir(config.data.path):
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
    (:meth:`~astrovader.data.reading.ReadOptions.from_config`). Skipped non-image
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
            log.warning(
                "%s: skipped %d non-image file(s) (data.strict = true makes them an error)",
                data.path,
                imageset.skipped,
            )
        if imageset.replaced:
            log.warning(
                '%s: replaced %d NaN or infinite pixel(s) by 0 (data.nan_pixels = "zero")',
                data.path,
                imageset.replaced,
            )
        return imageset
    from astrovader.data.synthetic import synthetic_imageset

    imageset, _ = synthetic_imageset(
        data.synthetic_count, data.image_size, config.training.seed, bands=data.bands
    )
    return imageset
