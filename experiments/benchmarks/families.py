"""Labelled GalSim galaxy sets for the clustering benchmark, rendered in families (#23).

Every family holds the engine's six classes (``astrovader.data.simulated.galsim_engine``:
elliptical, face-on disc, edge-on disc, bulge + disc, knotty disc, pair) in random
orientation, and varies what a survey varies, so that no single set can be tuned to:

* the **display**: a global asinh stretch of the sky-subtracted counts with one fixed
  interval for the whole set (as survey cutout services make their PNGs), with a hard
  (``a`` = 0.05) or a soft (``a`` = 0.5) softening; a per-image linear min-max stretch;
  or the raw counts with their sky, read through astrovader's own ``[scaling]``;
* the **depth**: fluxes over 1.4 dex, the faintest at a peak S/N of about 5;
* the **size** within a class (R90 over a factor 2.5), the **seeing** (FWHM 1.8–4.3 px)
  and **unrelated neighbours** (in 40 % of the stamps);
* the **stamp size**: 32 px, 48 px read at 32, and 64 px.

Display images are 8-bit (quantised as a PNG would be); raw sets are float32 counts,
which astrovader reads as raw flux. Each family is a function of the seed only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from astropy.visualization import AsinhStretch

from astrovader.data.simulated.galsim_engine import GalsimRanges, render_galsim


@dataclasses.dataclass(frozen=True)
class Family:
    """One way of rendering and displaying the six classes.

    Attributes:
        size: Stamp side in pixels (rendered).
        read_at: The side astrovader reads them at (``data.image_size``).
        display: ``"asinh"``, ``"linear"`` or ``"raw"``.
        softening: The asinh softening ``a`` of the display.
        ranges: The engine's brightness, size, seeing and neighbour ranges.
        sky: The sky level range in counts per pixel; (0, 0) is the engine's standard
            set (read noise only, as ``astrovader simulate --engine galsim``), otherwise
            Poisson noise on the sky and the light.
    """

    size: int = 32
    read_at: int = 32
    display: str = "asinh"
    softening: float = 0.05
    ranges: GalsimRanges = dataclasses.field(default_factory=GalsimRanges)
    sky: tuple[float, float] = (0.0, 0.0)


SURVEY = GalsimRanges(
    flux=(6e2, 1.5e4),  # 1.4 dex; the faintest reach a peak S/N of about 5 on this sky
    r90=(0.08, 0.2),  # a factor 2.5 within a class
    psf_fwhm=(0.04, 0.09),
    neighbours=0.4,
)
FAMILIES: dict[str, Family] = {
    "gs_asinh_hard": Family(),
    "gs_asinh_soft": Family(softening=0.5),
    "gs_linear": Family(display="linear"),
    "gs_raw": Family(display="raw"),
    "gs_survey": Family(size=48, read_at=32, ranges=SURVEY, sky=(20.0, 60.0)),
    "gs_64": Family(size=64, read_at=64),
}


def asinh_display(counts: np.ndarray, sky: np.ndarray, softening: float) -> np.ndarray:
    """8-bit global asinh display: sky subtracted, one interval for the whole set."""
    light = counts - sky[:, None, None, None]
    upper = np.percentile(light, 99.9)
    scaled = np.clip(light / upper, 0, 1)
    shown = AsinhStretch(a=softening)(scaled, clip=True)
    return (np.round(shown * 255) / 255).astype(np.float32)


def linear_display(counts: np.ndarray) -> np.ndarray:
    """8-bit per-image min-max linear display."""
    low = counts.min(axis=(1, 2, 3), keepdims=True)
    high = counts.max(axis=(1, 2, 3), keepdims=True)
    scaled = (counts - low) / np.maximum(high - low, 1e-12)
    return (np.round(scaled * 255) / 255).astype(np.float32)


def peak_snr(counts: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """(N,) a rough peak S/N: the brightest pixel above the sky over the sky's Poisson noise."""
    light = (counts - sky[:, None, None, None]).max(axis=(1, 2, 3))
    return light / np.sqrt(sky + np.maximum(light, 0) + 1.0)


def render(name: str, n: int, seed: int, size: int | None = None):
    """``(images, labels, read_at)`` of family ``name``: images float32 (n, S, S, 1).

    ``size`` renders and reads the family at another side (small stamps for tests).
    """
    family = FAMILIES[name]
    if size is not None:
        family = dataclasses.replace(family, size=size, read_at=size)
    counts, records = render_galsim(n, family.size, seed=seed, sky=family.sky, ranges=family.ranges)
    labels = np.array([r["class"] for r in records])
    sky = np.array([r["sky"] for r in records], np.float32)
    if family.display == "raw":
        return counts.astype(np.float32), labels, family.read_at
    if family.display == "linear":
        return linear_display(counts), labels, family.read_at
    return asinh_display(counts, sky, family.softening), labels, family.read_at


def read_as_fit_does(config, images, workdir: Path) -> np.ndarray:
    """The images as ``astrovader fit`` reads them (raw counts scaled, sides resized)."""
    from astrovader.data.images.options import ReadOptions
    from astrovader.data.images.readers import load_images

    path = workdir / "images.npy"
    np.save(path, images)
    return load_images(path, options=ReadOptions.from_config(config), progress=False).images
