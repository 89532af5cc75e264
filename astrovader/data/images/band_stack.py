"""Multi-band stamps from per-band files: read each band, put it on the first band's grid, stack.

A catalogue may name one file (and HDU) column per band
(``catalog.path_column = ["F606W_FILE", "F814W_FILE"]``,
:mod:`astrovader.data.images.catalogue`): each row is then one stamp of B bands, in the
order of the columns. Bands on the first band's pixel grid (same shape, and the
same celestial WCS when both have one) are stacked as they are; a band on
another grid is resampled onto the first band's WCS with
:func:`reproject.reproject_interp` (bilinear), and refused in one line when
either band has no celestial WCS. Framework-free.
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy.io import fits

from astrovader.data.images import fits as fits_stamps
from astrovader.errors import InputError

__all__ = ["stack_bands"]


def celestial_wcs(header: fits.Header):
    """The celestial WCS of ``header``, or None."""
    from astropy.wcs import WCS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wcs = WCS(header, naxis=2)
        except Exception:
            return None
    return wcs.celestial if wcs.has_celestial else None


def same_grid(first, other, *, shape, other_shape) -> bool:
    """Whether two bands share one pixel grid (same shape, and the same WCS if both have one)."""
    if tuple(shape) != tuple(other_shape):
        return False
    if first is None or other is None:
        return True
    return bool(
        np.allclose(first.wcs.crpix, other.wcs.crpix)
        and np.allclose(first.wcs.crval, other.wcs.crval)
        and np.allclose(first.pixel_scale_matrix, other.pixel_scale_matrix)
        and first.wcs.ctype[0] == other.wcs.ctype[0]
    )


def onto_grid(band: np.ndarray, wcs, *, target_wcs, shape, where: str) -> np.ndarray:
    """One band (H', W') resampled onto ``target_wcs`` with ``shape`` (bilinear, NaN outside)."""
    from reproject import reproject_interp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resampled, footprint = reproject_interp(
            (band, wcs), target_wcs, shape_out=tuple(shape), order="bilinear"
        )
    if not footprint.any():
        raise InputError(f"{where}: the band does not overlap the first band's sky area")
    return resampled


def stack_bands(
    first: np.ndarray, header: fits.Header, *, parts, options, where: str
) -> np.ndarray:
    """The first band (H, W, b) with the other bands' stamps appended on its grid (H, W, B).

    Args:
        first: The first band's raw flux (H, W, b), as read.
        header: Its FITS header.
        parts: ``(path, hdu)`` of each further band, in order.
        options: The :class:`~astrovader.data.images.options.ReadOptions`.
        where: The stamp, for messages.

    Raises:
        InputError: a band on another grid without a celestial WCS (either band), or
            outside the first band's area; any reading error of a band's file.
    """
    target = celestial_wcs(header)
    shape = first.shape[:2]
    planes = [first]
    for number, (path, hdu) in enumerate(parts, start=2):
        name = f"{path}[{hdu}]" if hdu is not None else str(path)
        raw, other_header = fits_stamps.read_hdu(
            path, hdu, max_pixels=options.max_pixels, where=name, max_bytes=options.max_bytes
        )
        raw = fits_stamps.to_bands_last(raw, options.band_axis, name)
        wcs = celestial_wcs(other_header)
        if not same_grid(target, wcs, shape=shape, other_shape=raw.shape[:2]):
            if target is None or wcs is None:
                size = "×".join(map(str, raw.shape[1::-1]))
                raise InputError(
                    f"{where}: band {number} ({name}) is {size} pixels on another grid than "
                    f"band 1 ({'×'.join(map(str, shape[::-1]))}), and "
                    f"{'band 1' if target is None else f'band {number}'} has no celestial WCS "
                    "to reproject it with"
                )
            raw = np.stack(
                [
                    onto_grid(raw[..., k], wcs, target_wcs=target, shape=shape, where=name)
                    for k in range(raw.shape[2])
                ],
                axis=-1,
            )
        planes.append(raw)
    return np.concatenate(planes, axis=-1)
