"""The images of a run, as its configuration names them (framework-free)."""

from __future__ import annotations

import logging

from astrovader.config import Config
from astrovader.data.readers import ImageSet, load_images

log = logging.getLogger(__name__)


def load_data(config: Config, progress: bool = True) -> ImageSet:
    """``config.data.path`` read by :func:`load_images`, or the built-in synthetic galaxies.

    ``data.strict`` and ``data.nan_pixels`` are passed on. Skipped non-image files
    and NaN or infinite pixels replaced by 0 are each logged as a warning.

    Args:
        config: The run's configuration (data section; training seed for the synthetic set).
        progress: Show a progress bar while reading.

    Returns:
        The images (N, S, S, B) in [0, 1] with their identifiers.

    Raises:
        InputError: the data cannot be read (see :func:`load_images`).
    """
    data = config.data
    if data.path:
        imageset = load_images(
            data.path,
            bands=data.bands,
            size=data.image_size,
            progress=progress,
            strict=data.strict,
            nan_pixels=data.nan_pixels,
        )
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
