"""Raw flux to pixels in [0, 1]: sky, interval and stretch from astropy (framework-free).

The ``[scaling]`` section (:class:`~astrovader.config.sections.ScalingConfig`) says
what happens to a raw-flux stamp (FITS, float ``.npy``), in this order:

1. sky: with ``sky = "median"`` the sigma-clipped median of each band
   (:func:`astropy.stats.sigma_clipped_stats`, 3σ, 5 iterations) is subtracted;
2. interval: ``"sky"`` runs from ``noise_floor`` times the sky's clipped standard
   deviation above the sky (the median when the sky is not subtracted) to the
   ``upper_percentile`` of the stamp, so that the background is black whatever
   the sky level and the galaxy's brightness;
   :class:`~astropy.visualization.MinMaxInterval`,
   :class:`~astropy.visualization.AsymmetricPercentileInterval` or
   :class:`~astropy.visualization.ZScaleInterval` over all bands of the stamp
   (``scope = "image"``), or one :class:`~astropy.visualization.ManualInterval`
   for every stamp (``scope = "global"``, limits measured by :func:`measure_limits`),
   maps the values onto [0, 1] and clips;
3. stretch: :class:`~astropy.visualization.LinearStretch`, ``SqrtStretch``,
   ``LogStretch(log_a)`` or ``AsinhStretch(asinh_a)``.

``interval = "none"`` takes values that already lie in [0, 1] as they are.
Non-finite pixels stay out of every statistic and become 0.
"""

from __future__ import annotations

import numpy as np
from astropy.stats import sigma_clipped_stats
from astropy.visualization import (
    AsinhStretch,
    AsymmetricPercentileInterval,
    LinearStretch,
    LogStretch,
    ManualInterval,
    MinMaxInterval,
    SqrtStretch,
    ZScaleInterval,
)

from astrovader.config.sections import ScalingConfig
from astrovader.errors import InputError

__all__ = ["describe", "measure_limits", "scale"]


def stretch_of(scaling: ScalingConfig):
    """The astropy stretch of ``scaling.stretch``."""
    return {
        "linear": LinearStretch,
        "sqrt": SqrtStretch,
        "log": lambda: LogStretch(scaling.log_a),
        "asinh": lambda: AsinhStretch(scaling.asinh_a),
    }[scaling.stretch]()


def sky_interval(data: np.ndarray, scaling: ScalingConfig, noise: float = 0.0) -> ManualInterval:
    """From ``noise_floor`` σ above the sky to the ``upper_percentile`` (σ, sky clipped at 3σ).

    ``noise`` > 0 is the sky's σ as the data say it (a catalogue's noise variance, a
    variance or weight map), used instead of the clipped standard deviation.
    """
    finite = data[np.isfinite(data)]
    _, median, sigma = sigma_clipped_stats(finite, sigma=3.0, maxiters=5)
    sigma = noise or sigma
    high = np.percentile(finite, scaling.upper_percentile)
    floor = (0.0 if scaling.sky == "median" else median) + scaling.noise_floor * sigma
    return ManualInterval(floor, high)


def interval_of(scaling: ScalingConfig, limits=(), *, data=None, noise: float = 0.0):
    """The astropy interval: the global ``limits`` when given, else ``scaling.interval``."""
    if len(limits) == 2:
        return ManualInterval(*limits)
    if scaling.interval == "sky":
        return sky_interval(data, scaling, noise)
    if scaling.interval == "percentile":
        return AsymmetricPercentileInterval(scaling.lower_percentile, scaling.upper_percentile)
    return {"minmax": MinMaxInterval, "zscale": ZScaleInterval}[scaling.interval]()


def subtract_sky(pixels: np.ndarray, scaling: ScalingConfig) -> np.ndarray:
    """(H, W, B) pixels less each band's sigma-clipped median (unchanged for ``sky = "none"``)."""
    if scaling.sky == "none":
        return pixels
    out = np.array(pixels, dtype=np.float64)
    for band in range(out.shape[2]):
        values = out[..., band]
        if np.isfinite(values).any():
            _, median, _ = sigma_clipped_stats(values, sigma=3.0, maxiters=5)
            out[..., band] = values - median
    return out


def scale(
    pixels: np.ndarray, scaling: ScalingConfig, *, limits=(), where: str = "", noise: float = 0.0
) -> np.ndarray:
    """Raw (H, W, B) flux to float32 pixels in [0, 1] (see the module docstring).

    Args:
        pixels: Raw values; NaN and infinities are left out of the statistics and become 0.
        scaling: The ``[scaling]`` section.
        limits: A global interval (low, high) after sky subtraction; empty measures one
            on this stamp.
        where: The stamp, for messages.
        noise: The sky's σ when the data give it (0: measured; see :func:`sky_interval`).

    Raises:
        InputError: ``interval = "none"`` with values outside [0, 1].
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    if scaling.interval == "none" and not limits:
        finite = pixels[np.isfinite(pixels)]
        if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
            raise InputError(
                f"{where}: values range from {finite.min():g} to {finite.max():g}, but "
                'scaling.interval = "none" takes pixels already in [0, 1]'
            )
        return np.nan_to_num(pixels, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
    data = subtract_sky(pixels, scaling)
    if not np.isfinite(data).any():
        return np.zeros(data.shape, np.float32)
    low, high = interval_of(scaling, limits, data=data, noise=noise).get_limits(data)
    if not high > low:
        return np.zeros(data.shape, np.float32)
    normed = ManualInterval(low, high)(data, clip=True)
    out = stretch_of(scaling)(normed, clip=True)
    return np.where(np.isfinite(pixels), out, 0.0).astype(np.float32)


def measure_limits(stamps, scaling: ScalingConfig) -> tuple[float, float]:
    """One interval for every stamp (``scope = "global"``), measured on a sample.

    The interval of ``scaling.interval`` is taken over the sky-subtracted pixels
    of all sampled stamps together, as survey cutout services fix one display
    range for a whole survey.

    Args:
        stamps: Raw (H, W, B) arrays (the sample).
        scaling: The ``[scaling]`` section.

    Returns:
        (low, high).
    """
    values = np.concatenate([subtract_sky(s, scaling).ravel() for s in stamps])
    values = values[np.isfinite(values)]
    if values.size == 0 or scaling.interval == "none":
        return (0.0, 1.0)
    low, high = interval_of(scaling, (), data=values).get_limits(values)
    if not high > low:
        high = low + 1.0
    return (float(low), float(high))


def describe(scaling: ScalingConfig) -> str:
    """One line for headers and logs, e.g. ``sky median, percentile 0.5-99.5, asinh a=0.1``."""
    if scaling.interval == "none":
        return "none (pixels already in [0, 1])"
    interval = scaling.interval
    if interval == "sky":
        interval = f"sky+{scaling.noise_floor:g}sigma to percentile {scaling.upper_percentile:g}"
    if interval == "percentile":
        interval = f"percentile {scaling.lower_percentile:g}-{scaling.upper_percentile:g}"
    if scaling.limits:
        interval = f"global {scaling.limits[0]:.6g}..{scaling.limits[1]:.6g}"
    elif scaling.scope == "global":
        interval += " (global)"
    stretch = scaling.stretch
    if stretch in ("asinh", "log"):
        stretch += f" a={scaling.asinh_a if stretch == 'asinh' else scaling.log_a:g}"
    return f"sky {scaling.sky}, {interval}, {stretch}"
