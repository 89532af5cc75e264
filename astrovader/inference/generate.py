"""Stream synthetic galaxies from a model's mixture prior to a FITS cube or a PNG folder.

z is drawn batch by batch with the model's one sampler
(:mod:`astrovader.model.sampling`), decoded and written at once, so N is bounded
by the disk, not the memory; a seed gives the same images whatever the batch size.

FITS layout (written by :mod:`astrovader.data.tables.fits_writer`, standard keywords only):
the primary HDU holds float32 images (N, S, S) for grey or (N, B, S, S) for colour,
with header keys ``MIXCOMP`` (the component, −1 for the whole mixture), ``SEED`` and
the provenance (``MODEL``, ``NCLUST``, ``NLATENT``, ``IMGSIZE``, ``NBANDS``,
``SCALING``, ``AVVERS``, ``DATE``, ``COMMAND``); extension ``LATENTS`` is a binary
table with one row per image: ``z`` (J floats) and ``component``. A PNG folder holds
``000000.png``… (8-bit, round(255·x)) and ``latents.csv`` (file, component, z_0…),
plus ``generation.toml`` with the model, seed and component.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import tomli_w
from astropy.io import fits
from PIL import Image

from astrovader._io import atomic_dir, output_lock
from astrovader._progress import progress_bar
from astrovader.data.tables.fits_writer import fits_stream, table_header
from astrovader.errors import AstrovaderError
from astrovader.inference.embed import provenance_cards
from astrovader.model.sampling import check_component

__all__ = ["FITS_SUFFIXES", "generate_files"]

FITS_SUFFIXES = (".fits", ".fit", ".fts")


def _check_out(out: Path) -> bool:
    """Whether ``out`` is a FITS file (else a new PNG folder); refuse what cannot be written."""
    if out.suffix.lower() in FITS_SUFFIXES:
        return True
    if out.name.lower().endswith((".gz", ".fz")):
        raise AstrovaderError(f"{out}: compressed FITS cannot be streamed; use .fits")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AstrovaderError(f"{out}: exists and is not an empty folder")
    return False


def generate_files(
    model,
    out,
    *,
    n: int,
    component=None,
    seed=None,
    batch_size=256,
    model_name="",
    progress=True,
    command: str = "",
) -> int:
    """Write n synthetic galaxies to ``out``: a ``.fits`` file or a new PNG folder.

    Args:
        model: An :class:`~astrovader.model.vade.AstroVaDEr`.
        out: ``*.fits`` (also ``.fit``, ``.fts``) or a folder that is absent or empty.
        n: Number of images (≥ 1).
        component: Draw every z from this component; None draws it from π.
        seed: Seed of the random streams; None picks one (returned and recorded).
        batch_size: Images drawn and written at a time (the images do not depend on it).
        model_name: Recorded as ``MODEL``.
        progress: Show a progress bar.
        command: The command line, recorded as ``COMMAND``.

    Returns:
        The seed used.
    """
    if n < 1 or batch_size < 1:
        raise AstrovaderError(f"n ({n}) and batch_size ({batch_size}) must be at least 1")
    seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
    if seed < 0:
        raise AstrovaderError(f"seed must be non-negative, got {seed}")
    check_component(component, model.n_clusters)
    out = Path(out)
    fits_out = _check_out(out)
    meta = {
        "component": -1 if component is None else int(component),
        "model": str(model_name),
        "seed": seed,
        "command": command,
    }
    decoded = (
        (z, comps, model.decode(z))
        for z, comps in model.iter_latents(n, component, seed=seed, batch_size=batch_size)
    )
    with (
        output_lock(out),
        progress_bar(total=n, unit="img", desc="generating", disable=not progress) as bar,
    ):
        (_write_fits if fits_out else _write_pngs)(out, n, model, meta, decoded, bar)
    return seed


def _cube_headers(n: int, model, meta: dict) -> tuple[list[fits.Header], np.dtype]:
    s, b, j = model.image_size, model.bands, model.latent_dim
    shape = (n, s, s) if b == 1 else (n, b, s, s)
    primary = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", len(shape))])
    for axis, length in enumerate(reversed(shape), start=1):
        primary[f"NAXIS{axis}"] = length
    primary["EXTEND"] = True
    primary["MIXCOMP"] = (meta["component"], "mixture component; -1: drawn from pi")
    primary["SEED"] = (meta["seed"], "numpy SeedSequence seed")
    for card in provenance_cards(model, meta["model"], meta["command"]):
        primary.append(card)
    rows = np.dtype([("z", ">f4", (j,)), ("component", ">i4")])
    columns = [fits.Column("z", f"{j}E"), fits.Column("component", "J")]
    return [primary, table_header(columns, n, "LATENTS")], rows


def _write_fits(out: Path, n: int, model, meta: dict, decoded, bar) -> None:
    headers, rows = _cube_headers(n, model, meta)
    per_image = model.image_size**2 * model.bands * 4
    with fits_stream(out, headers) as stream:
        done = 0
        for z, comps, images in decoded:
            images = images[..., 0] if model.bands == 1 else np.moveaxis(images, -1, 1)
            stream.write(0, done * per_image, np.ascontiguousarray(images, dtype=">f4").tobytes())
            record = np.empty(len(z), rows)
            record["z"], record["component"] = z, comps
            stream.write(1, done * rows.itemsize, record.tobytes())
            done += len(z)
            bar.update(len(z))


def _write_pngs(out: Path, n: int, model, meta: dict, decoded, bar) -> None:
    with atomic_dir(out) as tmp:
        width = max(6, len(str(n - 1)))
        done = 0
        with open(tmp / "latents.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "component", *(f"z_{i}" for i in range(model.latent_dim))])
            for z, comps, images in decoded:
                pixels = np.clip(np.floor(images * 255 + 0.5), 0, 255).astype(np.uint8)
                for row, (vector, comp, image) in enumerate(zip(z, comps, pixels, strict=True)):
                    name = f"{done + row:0{width}d}.png"
                    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
                        tmp / name
                    )
                    writer.writerow([name, int(comp), *(f"{v:.7g}" for v in vector)])
                done += len(z)
                bar.update(len(z))
        record = {k: v for k, v in meta.items() if v != "" or k != "command"}
        (tmp / "generation.toml").write_text(tomli_w.dumps({**record, "n": n}))
