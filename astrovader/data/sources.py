"""The images of a run, as its configuration names them (framework-free)."""

from __future__ import annotations

from astrovader.config import Config
from astrovader.data.readers import ImageSet, load_images


def load_data(config: Config, progress: bool = True) -> ImageSet:
    """``config.data.path`` read by :func:`load_images`, or the built-in synthetic galaxies.

    Args:
        config: The run's configuration (data section; training seed for the synthetic set).
        progress: Show a progress bar while reading.

    Returns:
        The images (N, S, S, B) in [0, 1] with their identifiers.
    """
    if config.data.path:
        return load_images(
            config.data.path,
            bands=config.data.bands,
            size=config.data.image_size,
            progress=progress,
        )
    from astrovader.data.synthetic import synthetic_imageset

    imageset, _ = synthetic_imageset(
        config.data.synthetic_count,
        config.data.image_size,
        config.training.seed,
        bands=config.data.bands,
    )
    return imageset
