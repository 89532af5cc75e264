"""Decode one stamp to floats in [0, 1] at the wanted bands and size (framework-free).

Display images (8- and 16-bit PNG, JPEG; integer ``.npy`` rows) are divided by
255 or 65535. Raw flux (FITS stamps, float ``.npy`` rows) is cropped, averaged to
grey when one band is wanted, and scaled by :func:`astrovader.data.images.scaling.scale`.
Every decoder checks the image's pixel count against ``max_pixels`` and its bytes
(values × bytes per value, as the file stores them) against ``max_bytes`` before
it decodes anything; a PNG or JPEG file larger than twice ``max_bytes`` is not read.
Pillow reads PNG and JPEG, :mod:`astrovader.data.images._png16` 16-bit colour PNGs,
astropy FITS.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from astrovader.data.images import fits as fits_stamps
from astrovader.data.images._png16 import decode_png16, needs_png16, png_header
from astrovader.data.images.files import IMAGE_SUFFIXES, check_file, image_suffix, is_fits, one_line
from astrovader.data.images.files import read_bytes as _read_bytes
from astrovader.data.images.scaling import scale
from astrovader.errors import InputError, warn

__all__ = [
    "check_geometry",
    "conform",
    "decode_display",
    "decode_stamp",
    "prepare_raw",
    "raw_stamp",
    "raw_to_pixels",
    "warn_odd",
]

_TO_RGB = ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV")


def where_of(stamp) -> str:
    """How messages name a stamp: its file, with ``[hdu]`` for one HDU or row of several."""
    return str(stamp.path) if stamp.hdu is None else f"{stamp.path}[{stamp.hdu}]"


def _too_large(where: str, height: int, width: int, limit: int) -> None:
    if height * width > limit:
        raise InputError(
            f"{where}: {width}×{height} pixels exceed data.max_pixels = {limit} (checked "
            "before decoding)"
        )


def _too_many_bytes(where: str, nbytes: int, limit: int) -> None:
    if nbytes > limit:
        raise InputError(
            f"{where}: {nbytes} bytes decoded exceed data.max_bytes = {limit} (checked before "
            "decoding)"
        )


def _file_too_large(path: Path, where: str, max_bytes: int) -> None:
    """Refuse to read a display file larger than any image within ``max_bytes`` can be.

    A compressed image rarely exceeds its decoded bytes; twice that and 1 MiB of
    metadata is the most read.
    """
    try:
        size = path.stat().st_size
    except OSError:
        return  # reading it says why
    if size > 2 * max_bytes + 2**20:
        raise InputError(
            f"{where}: a file of {size} bytes, more than an image within data.max_bytes = "
            f"{max_bytes} can need; not read"
        )


_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PILLOW_BYTES = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}


def decode_display(
    path: Path, where: str, *, max_pixels: int, max_bytes: int = 2**27
) -> np.ndarray:
    """A PNG or JPEG file as float32 (H, W, B) in [0, 1] (alpha dropped).

    Raises:
        InputError: unreadable, empty, corrupt, truncated, zero-size, or too many
            pixels or bytes (the file or its decoded values).
    """
    _file_too_large(path, where, max_bytes)
    data = _read_bytes(path, where)
    header = png_header(data)
    if header is not None:
        width, height, depth, ctype, _ = header
        if 0 in (width, height):
            raise InputError(f"{where}: image has zero size ({height}×{width})")
        _too_large(where, height, width, max_pixels)
        samples = _PNG_SAMPLES.get(ctype, 4)
        _too_many_bytes(where, -(-width * samples * depth // 8) * height, max_bytes)
    if needs_png16(data):
        return decode_png16(data, where)
    try:
        with Image.open(io.BytesIO(data)) as image:
            _too_large(where, image.size[1], image.size[0], max_pixels)
            per_value = _PILLOW_BYTES.get(image.mode, 1)
            _too_many_bytes(
                where, image.size[0] * image.size[1] * len(image.getbands()) * per_value, max_bytes
            )
            image.load()
            pixels = _pillow_pixels(image, where)
    except InputError:
        raise
    except Image.UnidentifiedImageError:
        raise InputError(f"{where}: corrupt file or not an image Pillow can identify") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"{where}: image too large to decode ({one_line(exc)})") from None
    except Exception as exc:
        raise InputError(f"{where}: corrupt or truncated image ({one_line(exc)})") from None
    if pixels.size == 0:
        raise InputError(f"{where}: image has zero size ({pixels.shape[0]}×{pixels.shape[1]})")
    return pixels


def _pillow_pixels(image: Image.Image, where: str) -> np.ndarray:
    """Pixels of a decoded Pillow image as float32 (H, W, B), alpha dropped."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.int64)
        if values.min(initial=0) < 0 or values.max(initial=0) > 65535:
            raise InputError(f"{where}: integer pixels outside the 16-bit range")
        return (values / 65535.0).astype(np.float32)[..., None]
    if mode == "1":
        image = image.convert("L")
    elif mode in _TO_RGB:
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA", "RGBX"):
        raise InputError(f"{where}: unsupported image mode {mode!r}")
    values = np.asarray(image)
    if values.ndim == 2:
        values = values[..., None]
    else:
        values = values[..., : 1 if values.shape[2] == 2 else 3]
    return (values / 255.0).astype(np.float32)


def count_bad(raw: np.ndarray, where: str, nan_pixels: str) -> int:
    """The NaN or infinite values of a raw stamp.

    Raises:
        InputError: some, and ``nan_pixels`` is ``"error"``.
    """
    bad = int(raw.size - np.count_nonzero(np.isfinite(raw)))
    if bad and nan_pixels != "zero":
        raise InputError(
            f"{where}: image has {bad} NaN or infinite pixel(s) "
            '(set data.nan_pixels = "zero" to replace them by 0)'
        )
    return bad


def crop_side(options, pixel_scale: float, where: str) -> int:
    """The centre crop in pixels (0: none) from ``crop`` or ``crop_arcsec``."""
    if options.crop_arcsec:
        scale_ = pixel_scale or options.pixel_scale
        if not scale_:
            raise InputError(
                f"{where}: data.crop_arcsec needs a pixel scale: none in the FITS header "
                "(WCS) or the catalogue, and data.pixel_scale is 0"
            )
        return max(1, round(options.crop_arcsec / scale_))
    return options.crop


def centre_crop(pixels: np.ndarray, side: int) -> np.ndarray:
    """The centred ``side`` × ``side`` square (the whole stamp when ``side`` is 0 or larger)."""
    height, width = pixels.shape[:2]
    if not side or side >= min(height, width):
        return pixels
    top, left = (height - side) // 2, (width - side) // 2
    return pixels[top : top + side, left : left + side]


def sky_padded(raw: np.ndarray, side: int, where: str) -> np.ndarray:
    """A raw (H, W, B) stamp centred on a ``side`` × ``side`` field of its own sky's noise.

    Each band's sky is its sigma-clipped median and standard deviation
    (:func:`astropy.stats.sigma_clipped_stats`, 3σ); the noise is seeded by the
    stamp's name, so that every reading of a stamp is the same. A side longer than
    ``side`` is centre-cropped.
    """
    import zlib

    from astropy.stats import sigma_clipped_stats

    rng = np.random.default_rng(zlib.crc32(where.encode()))
    out = np.empty((side, side, raw.shape[2]), np.float64)
    for band in range(raw.shape[2]):
        values = raw[..., band]
        finite = values[np.isfinite(values)]
        _, median, sigma = (
            sigma_clipped_stats(finite, sigma=3.0, maxiters=5) if finite.size else (0, 0, 0)
        )
        out[..., band] = rng.normal(median, sigma, (side, side))
    height, width = min(raw.shape[0], side), min(raw.shape[1], side)
    top, left = (raw.shape[0] - height) // 2, (raw.shape[1] - width) // 2
    y, x = (side - height) // 2, (side - width) // 2
    out[y : y + height, x : x + width] = raw[top : top + height, left : left + width]
    return out


def prepare_raw(
    raw: np.ndarray, options, *, pixel_scale: float, where: str, info: dict | None = None
) -> np.ndarray:
    """Raw (H, W, B) flux cropped and, when one band is wanted, averaged over bands.

    With ``mask_neighbours`` every source but the central one is first replaced by
    sky noise (:mod:`astrovader.data.images.neighbours`). A stamp smaller than the crop is
    padded with noise of its own sky (:func:`sky_padded`) rather than read whole, so
    that every image spans the same angle; ``info`` (when given) receives the stamp's
    ``side`` (pixels, before the crop), its ``scale`` (arcsec/pixel, 0 unknown) and
    whether it was ``padded``.
    """
    if options.mask_neighbours:
        from astrovader.data.images.neighbours import mask_neighbours

        raw, _ = mask_neighbours(raw, where)
    side = crop_side(options, pixel_scale, where)
    if info is not None:
        info.update(side=min(raw.shape[:2]), scale=pixel_scale, padded=False)
    if side and side > min(raw.shape[:2]):
        raw = sky_padded(raw, side, where)
        if info is not None:
            info["padded"] = True
    else:
        raw = centre_crop(raw, side)
    if options.bands == 1 and raw.shape[2] > 1:
        with np.errstate(invalid="ignore"):
            raw = raw.mean(axis=2, keepdims=True)
    return raw


def raw_to_pixels(raw: np.ndarray, options, *, pixel_scale: float, where: str) -> tuple:
    """Raw (H, W, B) flux → cropped, band-averaged, scaled float32 pixels; and bad pixels."""
    bad = count_bad(raw, where, options.nan_pixels)
    raw = prepare_raw(raw, options, pixel_scale=pixel_scale, where=where)
    return scale(raw, options.scaling, limits=options.scaling.limits, where=where), bad


def raw_stamp(stamp, options, info: dict | None = None) -> np.ndarray | None:
    """A FITS stamp's cropped raw flux, as :func:`decode_stamp` scales it (None for others).

    ``info`` (when given) receives the stamp's geometry (see :func:`prepare_raw`).
    """
    path, where = Path(stamp.path), where_of(stamp)
    if not is_fits(path.name):
        return None
    check_file(path, str(path))
    raw, header = fits_stamps.read_hdu(
        path, stamp.hdu, max_pixels=options.max_pixels, where=where, max_bytes=options.max_bytes
    )
    raw = fits_stamps.to_bands_last(raw, options.band_axis, where)
    if stamp.bands:
        from astrovader.data.images.band_stack import stack_bands

        raw = stack_bands(raw, header, parts=stamp.bands, options=options, where=where)
    wanted = options.crop_arcsec or info is not None
    scale_ = stamp.pixel_scale or (fits_stamps.pixel_scale(header) if wanted else 0.0)
    scale_ = scale_ or options.pixel_scale
    return prepare_raw(raw, options, pixel_scale=scale_, where=where, info=info)


def _npy_row(path: Path, row: int, where: str, options) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        view = array[row]
        if view.ndim >= 2:
            _too_large(where, view.shape[0], view.shape[1], options.max_pixels)
        _too_many_bytes(where, view.nbytes, options.max_bytes)
        values = np.asarray(view)
    except (IndexError, ValueError, OSError) as exc:
        raise InputError(f"{where}: cannot read the array row ({one_line(exc)})") from None
    if values.ndim == 2:
        values = values[..., None]
    return values


SMALL = 4
"""A stamp is much smaller than ``data.image_size`` when upscaled more than this factor."""

ELONGATED = 4
"""An extreme aspect ratio: the longer side over this many times the shorter."""


def odd_geometry(height: int, width: int, size: int) -> str | None:
    """Why an image of ``height`` × ``width`` pixels makes a poor ``size`` stamp, or None.

    Much smaller than ``size`` (a 1×1 image becomes a constant stamp), or so
    elongated that its centred square keeps little of it (a 1×1000 strip keeps 1
    pixel of 1,000).
    """
    side = min(height, width)
    if max(height, width) > ELONGATED * side:
        return (
            f"{height}×{width} pixels, an extreme aspect ratio: its centred square keeps "
            f"{side * side / (height * width):.1%} of it"
        )
    if side * SMALL < size:
        return f"{height}×{width} pixels, much smaller than data.image_size = {size}"
    return None


def check_geometry(height: int, width: int, *, options, where: str, notes: list | None) -> None:
    """Refuse (``strict``) or note an :func:`odd_geometry` stamp.

    Raises:
        InputError: an odd stamp under ``options.strict``.
    """
    odd = odd_geometry(height, width, options.size)
    if odd and options.strict:
        raise InputError(f"{where}: {odd}; strict checking (data.strict) refuses such stamps")
    if odd and notes is not None:
        notes.append(f"{where}: {odd}")


def warn_odd(notes: list[str]) -> None:
    """Log one warning for the stamps :func:`check_geometry` noted (the first one named)."""
    if notes:
        first, more = sorted(notes)[0], len(notes) - 1
        warn(
            f"{len(notes)} stamp(s) much smaller than data.image_size or of an extreme aspect "
            f"ratio, resized all the same (data.strict = true refuses them): {first}"
            + (f"; and {more} more" if more else "")
        )


def decode_stamp(
    stamp, options, *, notes: list | None = None, info: dict | None = None
) -> tuple[np.ndarray, int]:
    """One stamp as float32 (size, size, bands) in [0, 1], and its NaN pixels replaced by 0.

    Args:
        stamp: A :class:`~astrovader.data.images.stamps.Stamp` (file, HDU or row, pixel scale).
        options: The :class:`~astrovader.data.images.options.ReadOptions`.
        notes: Where to append a line for a stamp much smaller than ``options.size`` or
            with an extreme aspect ratio (:func:`odd_geometry`).
        info: Receives a raw-flux stamp's geometry (see :func:`prepare_raw`).

    Raises:
        InputError: anything that keeps the stamp from being read, or an odd stamp
            under ``options.strict``; the message starts with the file (and ``[hdu]``).
    """
    path, where = Path(stamp.path), where_of(stamp)
    check_file(path, str(path))
    if path.suffix.lower() == ".npy":
        values = _npy_row(path, stamp.hdu or 0, where, options)
        if values.dtype.kind in "ui":
            pixels, bad = values / float(np.iinfo(values.dtype).max), 0
        else:
            pixels, bad = raw_to_pixels(
                values.astype(np.float64), options, pixel_scale=0.0, where=where
            )
    elif is_fits(path.name):
        raw = raw_stamp(stamp, options, info)
        bad = count_bad(raw, where, options.nan_pixels)
        noise = stamp.noise or fits_stamps.noise_sigma(
            path, stamp.hdu, max_pixels=options.max_pixels, max_bytes=options.max_bytes
        )
        pixels = scale(
            raw, options.scaling, limits=options.scaling.limits, where=where, noise=noise
        )
    elif image_suffix(path.name) is None:
        raise InputError(
            f"{where}: not an image file (expected one of {', '.join(IMAGE_SUFFIXES)})"
        )
    else:
        pixels = centre_crop(
            decode_display(path, where, max_pixels=options.max_pixels, max_bytes=options.max_bytes),
            crop_side(options, 0.0, where),
        )
        bad = 0
    check_geometry(pixels.shape[0], pixels.shape[1], options=options, where=where, notes=notes)
    return conform(
        np.asarray(pixels, np.float32), options.bands, size=options.size, where=where
    ), bad


def conform(pixels: np.ndarray, bands: int, *, size: int, where: str) -> np.ndarray:
    """Bring float (H, W, B) pixels in [0, 1] to (size, size, bands) float32.

    Grey from colour by averaging the bands (method §1); a grey image where colour is
    wanted is an error. A non-square image is centre-cropped to a square first (so
    that galaxies keep their axis ratio); the square is resized with Pillow's
    antialiased bilinear filter only when its side differs from ``size``.

    Raises:
        InputError: wrong band count, or zero size; the message starts with ``where``.
    """
    height, width, have = pixels.shape
    if height == 0 or width == 0:
        raise InputError(f"{where}: image has zero size ({height}×{width})")
    if have != bands:
        if bands != 1:
            raise InputError(f"{where}: image has {have} band(s) but {bands} are wanted")
        pixels = pixels.mean(axis=2, dtype=np.float64, keepdims=True)
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    pixels = pixels[top : top + side, left : left + side]
    if side != size:
        resized = np.empty((size, size, pixels.shape[2]), np.float32)
        for k in range(pixels.shape[2]):
            band = Image.fromarray(np.ascontiguousarray(pixels[..., k], dtype=np.float32))
            resized[..., k] = np.asarray(band.resize((size, size), Image.Resampling.BILINEAR))
        pixels = np.clip(resized, 0.0, 1.0)
    return np.asarray(pixels, dtype=np.float32)
