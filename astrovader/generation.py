"""Stream synthetic galaxies from a model's mixture prior to a FITS cube or a PNG folder.

z is drawn batch by batch, decoded and written at once, so N is bounded by the
disk, not the memory. Random numbers: ``SeedSequence(seed).spawn(2)`` gives one
generator for the components (drawn with probability π/Σπ, unless one component
is fixed) and one for the unit normal noise ε, z = μ_c + σ_c ε. Each stream is
consumed in order, so a seed gives the same images whatever the batch size.

FITS layout (one file, written in place at precomputed offsets, then renamed):
the primary HDU holds float32 images (N, S, S) for grey or (N, B, S, S) for colour,
with header keys ``COMPONENT`` (−1 for the whole mixture; a HIERARCH card, read
as ``header["COMPONENT"]``), ``MODEL`` and ``SEED``; extension ``LATENTS`` is a
binary table with one row per image: ``Z`` (J floats) and ``COMPONENT``.
A PNG folder holds ``000000.png``… (8-bit, round(255·x)) and ``latents.csv``
(file, component, z_0…), plus ``generation.toml`` with the model, seed and component.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tomli_w
from astropy.io import fits
from PIL import Image
from tqdm.auto import tqdm

from astrovader._io import atomic_path
from astrovader.errors import AstrovaderError

FITS_SUFFIXES = (".fits", ".fit", ".fts")


def latent_batches(model, n: int, component: int | None, seed: int, batch_size: int):
    """Yield ``(z, components)`` batches, float32 (b, J) and int (b,), n rows in all."""
    mix = model.mixture()
    k = len(mix["pi"])
    choose, noise = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    weights = mix["pi"] / mix["pi"].sum()
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        comps = (
            np.full(size, component) if component is not None else choose.choice(k, size, p=weights)
        )
        eps = noise.standard_normal((size, mix["mu"].shape[1]))
        yield (mix["mu"][comps] + np.sqrt(mix["var"][comps]) * eps).astype(np.float32), comps


def generate(
    model, out, n: int, component=None, seed=None, batch_size=256, model_name="", progress=True
) -> int:
    """Write n synthetic galaxies to ``out``: a ``.fits`` file or a new PNG folder.

    Args:
        model: An :class:`~astrovader.model.vade.AstroVaDEr`.
        out: ``*.fits`` (also ``.fit``, ``.fts``) or a folder that is absent or empty.
        n: Number of images (≥ 1).
        component: Draw every z from this component; None draws it from π.
        seed: Seed of the random streams; None picks one (returned and recorded).
        batch_size: Images decoded at a time.
        model_name: Recorded as ``MODEL``.
        progress: Show a progress bar.

    Returns:
        The seed used.
    """
    if n < 1 or batch_size < 1:
        raise AstrovaderError(f"--n ({n}) and --batch-size ({batch_size}) must be at least 1")
    seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
    if seed < 0:
        raise AstrovaderError(f"seed must be non-negative, got {seed}")
    k = model.n_clusters
    if component is not None and not 0 <= component < k:
        raise AstrovaderError(
            f"component {component} is out of range: the model has {k} (0…{k - 1})"
        )
    out = Path(out)
    fits_out = out.suffix.lower() in FITS_SUFFIXES
    if not fits_out and out.name.lower().endswith((".gz", ".fz")):
        raise AstrovaderError(f"{out}: compressed FITS cannot be streamed; use .fits")
    if not fits_out and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AstrovaderError(f"{out}: exists and is not an empty folder")
    meta = {
        "component": -1 if component is None else int(component),
        "model": str(model_name),
        "seed": seed,
    }
    batches = latent_batches(model, n, component, seed, batch_size)
    bar = tqdm(total=n, unit="img", desc="generating", disable=not progress)
    decoded = ((z, comps, model.decode(z, batch_size=batch_size)) for z, comps in batches)
    with bar:
        (_write_fits if fits_out else _write_pngs)(out, n, model, meta, decoded, bar)
    return seed


def _padded(nbytes: int) -> int:
    return -(-nbytes // 2880) * 2880


def _write_fits(out: Path, n: int, model, meta: dict, decoded, bar) -> None:
    s, b, j = model.image_size, model.bands, model.latent_dim
    shape = (n, s, s) if b == 1 else (n, b, s, s)
    primary = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", len(shape))])
    for axis, length in enumerate(reversed(shape), start=1):
        primary[f"NAXIS{axis}"] = length
    primary["EXTEND"] = True
    primary.append(fits.Card("HIERARCH COMPONENT", meta["component"], "-1: drawn from pi"))
    primary["MODEL"] = meta["model"]
    primary["SEED"] = (meta["seed"], "numpy SeedSequence seed")
    rows = np.dtype([("Z", ">f4", (j,)), ("COMPONENT", ">i4")])
    columns = [fits.Column("Z", f"{j}E"), fits.Column("COMPONENT", "J")]
    table = fits.BinTableHDU.from_columns(columns, nrows=0, name="LATENTS").header
    table["NAXIS2"] = n
    head, table_head = (h.tostring().encode("ascii") for h in (primary, table))
    per_image = s * s * b * 4
    table_at = len(head) + _padded(n * per_image) + len(table_head)
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        handle.truncate(table_at + _padded(n * rows.itemsize))
        handle.write(head)
        handle.seek(table_at - len(table_head))
        handle.write(table_head)
        done = 0
        for z, comps, images in decoded:
            images = images[..., 0] if b == 1 else np.moveaxis(images, -1, 1)
            handle.seek(len(head) + done * per_image)
            handle.write(np.ascontiguousarray(images, dtype=">f4").tobytes())
            record = np.empty(len(z), rows)
            record["Z"], record["COMPONENT"] = z, comps
            handle.seek(table_at + done * rows.itemsize)
            handle.write(record.tobytes())
            done += len(z)
            bar.update(len(z))


def _write_pngs(out: Path, n: int, model, meta: dict, decoded, bar) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        width = max(6, len(str(n - 1)))
        done = 0
        with open(tmp / "latents.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            for z, comps, images in decoded:
                if done == 0:
                    writer.writerow(["file", "component", *(f"z_{i}" for i in range(z.shape[1]))])
                pixels = np.clip(np.floor(images * 255 + 0.5), 0, 255).astype(np.uint8)
                for row, (vector, comp, image) in enumerate(zip(z, comps, pixels, strict=True)):
                    name = f"{done + row:0{width}d}.png"
                    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
                        tmp / name
                    )
                    writer.writerow([name, int(comp), *(f"{v:.7g}" for v in vector)])
                done += len(z)
                bar.update(len(z))
        (tmp / "generation.toml").write_text(tomli_w.dumps({**meta, "n": n}))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
