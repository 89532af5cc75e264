"""Parameters and rendering of the synthetic galaxies (see :mod:`astrovader.data.synthetic`).

Every length is in pixels of the final stamp, every angle in degrees; all draws
come from one NumPy generator in a fixed order, so a seed fixes the set.
"""

from __future__ import annotations

import numpy as np
from astropy.modeling.models import Sersic2D
from scipy.ndimage import gaussian_filter
from scipy.special import gamma, gammaincinv

CLASS_NAMES: tuple[str, ...] = (
    "smooth",
    "disc_face_on",
    "disc_edge_on",
    "bulge_disc",
    "companion",
)
PARAMETERS: tuple[str, ...] = (
    "x_0", "y_0", "theta_deg", "r90_px", "inclination_deg", "disc_thickness",
    "bulge_fraction", "spheroid_n", "spheroid_r_eff", "spheroid_q", "disc_r_eff", "disc_q",
    "companion_n", "companion_r_eff", "companion_q", "companion_theta_deg", "companion_dx",
    "companion_dy", "companion_flux_ratio", "companion_redness", "psf_sigma_px",
    "brightness", "sky", "noise_sigma",
)  # fmt: skip
RED = np.array([1.0, 0.78, 0.55])
BLUE = np.array([0.62, 0.78, 1.0])
STRETCH = 0.01
_CHUNK = 256


def _r90_over_re(n: np.ndarray) -> np.ndarray:
    """R_p90 / R_e as SDSS Petrosian radii measure it: 2.3 at n = 1, 3.3 at n = 4.

    (The untruncated profiles' ratios, 2.3 and 5.5, would make spheroids far more
    compact than the discs of the same R_p90.)
    """
    return 2.3 + (np.asarray(n) - 1.0) / 3.0


def sample_parameters(rng: np.random.Generator, n: int, size: int) -> dict[str, np.ndarray]:
    """Draw balanced classes and every parameter of ``n`` galaxies on ``size``-pixel stamps."""
    k = len(CLASS_NAMES)
    cls = rng.permutation(np.arange(n) % k)
    u = {
        name: rng.random(n)
        for name in ("host", "incl", "thick", "bulge", "n", "q", "bulge_size", "red", "bright")
    }
    smooth = (cls == 0) | ((cls == 4) & (u["host"] < 0.5))
    p: dict[str, np.ndarray] = {"class": cls}
    centre = (size - 1) / 2
    p["x_0"] = centre + rng.normal(0, 0.015 * size, n)
    p["y_0"] = centre + rng.normal(0, 0.015 * size, n)
    p["theta_deg"] = rng.uniform(0, 180, n)
    p["r90_px"] = rng.uniform(0.16, 0.30, n) * size
    incl_low = np.select([cls == 2, cls == 3], [80.0, 0.0], 0.0)
    incl_high = np.select([cls == 2, cls == 3], [90.0, 70.0], 55.0)
    p["inclination_deg"] = np.where(smooth, np.nan, incl_low + (incl_high - incl_low) * u["incl"])
    p["disc_thickness"] = np.where(smooth, np.nan, 0.08 + 0.07 * u["thick"])
    bulge = np.select([cls == 2, cls == 3], [0.15 * u["bulge"], 0.25 + 0.25 * u["bulge"]], 0.0)
    p["bulge_fraction"] = np.where(smooth, 1.0, bulge)
    p["spheroid_n"] = np.where(smooth, 3.0 + 2.0 * u["n"], 4.0)
    p["spheroid_q"] = 0.7 + 0.3 * u["q"]
    cos_i = np.cos(np.radians(p["inclination_deg"]))
    q0 = p["disc_thickness"]
    p["disc_q"] = np.sqrt(cos_i**2 * (1 - q0**2) + q0**2)
    p["disc_r_eff"] = np.where(smooth, np.nan, p["r90_px"] / _r90_over_re(np.ones(n)))
    p["spheroid_r_eff"] = np.where(
        smooth,
        p["r90_px"] / _r90_over_re(p["spheroid_n"]),
        p["disc_r_eff"] * (0.25 + 0.15 * u["bulge_size"]),
    )
    p["spheroid_r_eff"] = np.where(p["bulge_fraction"] > 0, p["spheroid_r_eff"], np.nan)
    p["spheroid_q"] = np.where(p["bulge_fraction"] > 0, p["spheroid_q"], np.nan)
    p["spheroid_n"] = np.where(p["bulge_fraction"] > 0, p["spheroid_n"], np.nan)
    has = cls == 4
    comp_n = 1.0 + 3.0 * rng.random(n)
    dist, angle = rng.uniform(0.3, 0.42, n) * size, rng.uniform(0, 2 * np.pi, n)
    comp = {
        "companion_n": comp_n,
        "companion_r_eff": rng.uniform(0.25, 0.5, n) * p["r90_px"] / _r90_over_re(comp_n),
        "companion_q": rng.uniform(0.5, 1.0, n),
        "companion_theta_deg": rng.uniform(0, 180, n),
        "companion_dx": dist * np.cos(angle),
        "companion_dy": dist * np.sin(angle),
        "companion_flux_ratio": rng.uniform(0.3, 0.8, n),
        "companion_redness": u["red"],
    }
    p.update({key: np.where(has, value, np.nan) for key, value in comp.items()})
    p["psf_sigma_px"] = rng.uniform(0.012, 0.03, n) * size
    p["brightness"] = 0.6 + 0.4 * u["bright"]
    p["sky"] = rng.uniform(0.0, 0.03, n)
    p["noise_sigma"] = rng.uniform(0.008, 0.03, n)
    return p


def _sersic(grid, flux, r_eff, n, x_0, y_0, q, theta_deg) -> np.ndarray:
    """Sérsic images of unit-scaled total ``flux`` via astropy's Sersic2D, one per row."""
    col = [np.asarray(v, np.float32)[:, None, None] for v in (r_eff, n, x_0, y_0, q)]
    r_eff, n, x_0, y_0, q = col
    b_n = gammaincinv(2 * n, 0.5)
    total = 2 * np.pi * q * r_eff**2 * n * np.exp(b_n) * b_n ** (-2 * n) * gamma(2 * n)
    amplitude = np.asarray(flux, np.float32)[:, None, None] / total
    theta = np.radians(np.asarray(theta_deg, np.float32))[:, None, None]
    return Sersic2D.evaluate(grid[0], grid[1], amplitude, r_eff, n, x_0, y_0, 1 - q, theta)


def render(p: dict[str, np.ndarray], size: int, bands: int) -> np.ndarray:
    """Noiseless light (n, size, size, bands), integrated over pixels and PSF-blurred."""
    count = len(p["class"])
    over = max(1, -(-64 // size))
    coords = ((np.arange(size * over) + 0.5) / over - 0.5).astype(np.float32)
    grid = (coords[None, None, :], coords[None, :, None])
    bulge, disc, nan = p["bulge_fraction"], 1 - p["bulge_fraction"], np.isnan
    comps = [
        (bulge, "spheroid_r_eff", "spheroid_n", "spheroid_q", "theta_deg", RED, 0, 0),
        (disc, "disc_r_eff", None, "disc_q", "theta_deg", BLUE, 0, 0),
        (p["companion_flux_ratio"], "companion_r_eff", "companion_n", "companion_q",
         "companion_theta_deg", None, "companion_dx", "companion_dy"),
    ]  # fmt: skip
    light = np.zeros((count, size, size, bands), np.float32)
    for flux, re_key, n_key, q_key, t_key, colour, dx, dy in comps:
        rows = np.flatnonzero(~nan(flux) & (np.nan_to_num(flux) > 0))
        for start in range(0, len(rows), _CHUNK):
            r = rows[start : start + _CHUNK]
            n_val = np.ones(len(r)) if n_key is None else p[n_key][r]
            shift = (0, 0) if not dx else (p[dx][r], p[dy][r])
            fine = _sersic(grid, flux[r], p[re_key][r], n_val, p["x_0"][r] + shift[0],
                           p["y_0"][r] + shift[1], p[q_key][r], p[t_key][r])  # fmt: skip
            image = fine.reshape(len(r), size, over, size, over).mean(axis=(2, 4))
            for i, sigma in enumerate(p["psf_sigma_px"][r]):
                image[i] = gaussian_filter(image[i], sigma, mode="constant")
            if bands == 1:
                light[r, ..., 0] += image
                continue
            tint = colour
            if tint is None:
                t = p["companion_redness"][r][:, None]
                tint = t * RED + (1 - t) * BLUE
            tint = np.broadcast_to(tint, (len(r), bands)).astype(np.float32)
            light[r] += image[..., None] * tint[:, None, None]
    return light


def observe(light: np.ndarray, p: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Normalisation to the brightness, asinh stretch, sky and noise, in place."""
    for start in range(0, len(light), _CHUNK):
        part = light[start : start + _CHUNK]
        rows = slice(start, start + len(part))
        scale = (p["brightness"][rows] / part.max(axis=(1, 2, 3))).astype(np.float32)
        part *= scale[:, None, None, None] / np.float32(STRETCH)
        np.arcsinh(part, out=part)
        part *= np.float32(1 / np.arcsinh(1 / STRETCH))
        part += p["sky"][rows].astype(np.float32)[:, None, None, None]
        noise = rng.standard_normal(part.shape, np.float32)
        noise *= p["noise_sigma"][rows].astype(np.float32)[:, None, None, None]
        part += noise
        np.clip(part, 0.0, 1.0, out=part)
    return light
