"""Write a simulated, labelled set of galaxies: 8-bit PNGs, raw-flux FITS or multi-extension FITS.

Engines: ``"builtin"`` (the Sérsic renderer of :mod:`astrovader.data.simulated.sersic`,
always available) and ``"galsim"`` (:mod:`astrovader.data.simulated.galsim_engine`,
PSF-convolved GalSim profiles with inclined discs and star-forming knots; needs
the ``astrovader[sim]`` extra). Formats:

* ``png``: ``OUT/<id>.png``, 8-bit. The built-in engine writes its own asinh-stretched
  display images; raw counts are scaled as the readers scale raw flux by default
  (:mod:`astrovader.data.images.scaling`).
* ``fits``: ``OUT/<id>.fits``, one raw-flux stamp (float32 counts, sky included) each.
* ``mef``: ``OUT/stamps_NNN.fits``, up to ``per_file`` stamps per file, one image
  extension each with ``EXTNAME`` = the galaxy id; the readers name them
  ``stamps_NNN[<id>]``, and so does ``labels.csv``.

``OUT/labels.csv`` gives each galaxy's id, class, class_name and parameters. The
set is written in a temporary folder beside ``OUT`` and renamed to ``OUT`` when
complete (:func:`astrovader._io.atomic_dir`): ``OUT`` is never half written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.io import fits
from PIL import Image

from astrovader._io import atomic_dir, output_lock
from astrovader._progress import progress_bar
from astrovader.config.sections import ScalingConfig
from astrovader.data.images.scaling import scale
from astrovader.data.simulated.sersic import labels_csv, simulate, simulate_flux
from astrovader.errors import InputError

__all__ = ["render", "write_simulation"]

ENGINES = ("builtin", "galsim")
FORMATS = ("png", "fits", "mef")


def render(engine: str, n: int, *, size: int, seed: int, bands: int, sky, raw: bool):
    """Images (uint8 display or float32 counts) and records from one engine."""
    if engine == "galsim":
        from astrovader.data.simulated.galsim_engine import render_galsim

        return render_galsim(n, size, seed=seed, bands=bands, sky=sky)
    if raw:
        return simulate_flux(n, size, seed=seed, bands=bands, sky=sky)
    return simulate(n, size, seed=seed, bands=bands)


def _png(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = np.rint(scale(image, ScalingConfig()) * 255.0).astype(np.uint8)
    return image[..., 0] if image.shape[-1] == 1 else image


def _hdu_data(image: np.ndarray) -> np.ndarray:
    """(H, W, B) as FITS data: (H, W) grey, (B, H, W) colour."""
    return image[..., 0] if image.shape[-1] == 1 else np.moveaxis(image, -1, 0)


def write_simulation(
    out: str | os.PathLike,
    n: int,
    *,
    size: int,
    seed: int,
    bands: int = 1,
    engine: str = "builtin",
    file_format: str = "png",
    sky: tuple[float, float] = (0.0, 0.0),
    per_file: int = 100,
    progress: bool = True,
) -> Path:
    """Simulate ``n`` galaxies and write them with ``labels.csv`` (see the module docstring).

    Raises:
        InputError: ``out`` exists and is not an empty folder, an unknown engine or
            format, or a bad argument of the engine.
    """
    out = Path(out)
    if engine not in ENGINES or file_format not in FORMATS:
        raise InputError(
            f"engine must be one of {', '.join(ENGINES)} and the format one of "
            f"{', '.join(FORMATS)}, got {engine!r} and {file_format!r}"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        kind = "not empty" if out.is_dir() else "not a directory"
        raise InputError(f"{out}: output directory exists and is {kind}")
    images, records = render(
        engine, n, size=size, seed=seed, bands=bands, sky=sky, raw=file_format != "png"
    )
    bar = progress_bar(total=n, desc="writing", unit="img", disable=not progress)
    with output_lock(out), atomic_dir(out) as tmp, bar:
        if file_format == "mef":
            for start in range(0, n, per_file):
                name = f"stamps_{start // per_file:03d}"
                hdus = [fits.PrimaryHDU()]
                for i in range(start, min(start + per_file, n)):
                    header = fits.Header([("EXTNAME", records[i]["id"])])  # case kept
                    hdus.append(fits.ImageHDU(_hdu_data(images[i]), header=header))
                    records[i]["id"] = f"{name}[{records[i]['id']}]"
                fits.HDUList(hdus).writeto(tmp / f"{name}.fits")
                bar.update(len(hdus) - 1)
        else:
            for image, record in zip(images, records, strict=True):
                target = tmp / f"{record['id']}.{file_format}"
                if file_format == "png":
                    Image.fromarray(_png(image)).save(target, format="PNG")
                else:
                    fits.PrimaryHDU(_hdu_data(image)).writeto(target)
                bar.update()
        (tmp / "labels.csv").write_text(labels_csv(records))
    return out
