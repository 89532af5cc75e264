"""Clustering raw-flux FITS stamps against the same galaxies as 8-bit PNGs (ACC, mean ± sd).

For each engine (the built-in Sérsic renderer; GalSim when installed) the same galaxies are
written twice, as a user would hand them to ``astrovader fit``:

* ``raw``: raw counts with a sky level left in (drawn from 0 to ``--sky`` counts per pixel),
  half as single-stamp FITS files and half packed 100 to a multi-extension file;
* ``png``: 8-bit display images. The built-in engine renders its own display images of the
  same galaxies (asinh stretch of the peak-normalised light, its own sky and noise); GalSim's
  are the raw counts through a display stretch that is *not* the readers' default (sky-subtracted,
  0.5–99.9 percentile interval, asinh a = 0.05), so the two readings differ.

Each set is clustered with the quick-start preset and ``model.n_clusters`` = the number of
classes (``fit DATA --config astrovader/presets/quickstart.toml --set model.n_clusters=K``, what
a user runs), and scored against the labels with Hungarian-matched ACC. Every stamp must be
read (the row count is checked). Results go to ``results/raw_vs_png.{md,csv}``.

Usage::

    python experiments/benchmarks/raw_vs_png.py                    # full run (hours on 2 cores)
    python experiments/benchmarks/raw_vs_png.py --images 1500 --seeds 2  # what results/ holds
    python experiments/benchmarks/raw_vs_png.py --tiny --out /tmp/r  # seconds, for tests
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
from astropy.io import fits
from PIL import Image

from astrovader._io import write_text_atomic
from astrovader.analysis.metrics import clustering_accuracy
from astrovader.config import load_config
from astrovader.config.sections import ScalingConfig
from astrovader.data.images.scaling import scale
from astrovader.data.simulated.writer import render
from astrovader.data.tables.clusters import read_clusters

DISPLAY = ScalingConfig(interval="percentile", upper_percentile=99.9, asinh_a=0.05)


def engines() -> list[str]:
    """The engines this machine can run."""
    try:
        import galsim  # noqa: F401
    except ImportError:
        return ["builtin"]
    return ["builtin", "galsim"]


def write_sets(engine: str, n: int, size: int, seed: int, sky: float, root: Path):
    """Write ``root/raw`` (FITS and multi-extension FITS) and ``root/png``; return the labels."""
    counts, records = render(engine, n, size=size, seed=seed, bands=1, sky=(0.0, sky), raw=True)
    if engine == "builtin":
        display, _ = render(engine, n, size=size, seed=seed, bands=1, sky=(0.0, sky), raw=False)
    else:
        display = np.stack([np.rint(scale(c, DISPLAY) * 255) for c in counts]).astype(np.uint8)
    (root / "raw").mkdir(parents=True)
    (root / "png").mkdir()
    labels = {"raw": {}, "png": {}}
    half = n // 2
    for i, record in enumerate(records):
        image = counts[i, ..., 0]
        if i < half:
            fits.writeto(root / "raw" / f"{record['id']}.fits", image)
            labels["raw"][record["id"]] = record["class"]
        Image.fromarray(display[i, ..., 0]).save(root / "png" / f"{record['id']}.png")
        labels["png"][record["id"]] = record["class"]
    for start in range(half, n, 100):
        name = f"pack_{start // 100:03d}"
        hdus = [fits.PrimaryHDU()]
        for i in range(start, min(start + 100, n)):
            header = fits.Header([("EXTNAME", records[i]["id"])])
            hdus.append(fits.ImageHDU(counts[i, ..., 0], header=header))
            labels["raw"][f"{name}[{records[i]['id']}]"] = records[i]["class"]
        fits.HDUList(hdus).writeto(root / "raw" / f"{name}.fits")
    return labels


def cluster(folder: Path, config, out: Path) -> dict:
    """Train on a folder with the preset, as ``astrovader fit`` does; the run's clusters."""
    from astrovader.data.sources import with_data_path
    from astrovader.training.run import fit_run

    run = fit_run(with_data_path(config, str(folder)), out, verbose=0)
    return read_clusters(run / "clusters.csv")


def benchmark(config, sizes, seeds, chosen=None, log=print) -> list[dict]:
    """Rows of (engine, reading, seed, n read, ACC); ``chosen`` engines or all installed."""
    rows = []
    n, size, sky = sizes
    for engine in chosen or engines():
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                labels = write_sets(engine, n, size, 100 + seed, sky, Path(tmp))
                k = len(set(labels["png"].values()))
                cfg = config.replace(
                    data={"image_size": size}, model={"n_clusters": k}, training={"seed": seed}
                )
                for reading in ("raw", "png"):
                    start = time.perf_counter()
                    found = cluster(Path(tmp) / reading, cfg, Path(tmp) / f"run_{reading}")
                    truth = np.array([labels[reading][i] for i in found["id"]])
                    acc = clustering_accuracy(truth, found["cluster"])
                    rows.append(
                        {
                            "engine": engine,
                            "reading": reading,
                            "seed": seed,
                            "read": len(found["id"]),
                            "images": n,
                            "acc": acc,
                        }
                    )
                    log(
                        f"{engine} seed {seed} {reading}: read {len(found['id'])} of {n}, "
                        f"ACC {acc:.3f} ({time.perf_counter() - start:.0f} s)"
                    )
    return rows


def summarise(rows) -> str:
    """Markdown: ACC mean ± sd per engine and reading, and the raw − PNG difference."""
    lines = ["| engine | reading | stamps read | ACC |", "| --- | --- | --- | --- |"]
    for engine in dict.fromkeys(r["engine"] for r in rows):
        accs = {}
        for reading in ("raw", "png"):
            sel = [r for r in rows if r["engine"] == engine and r["reading"] == reading]
            accs[reading] = np.array([r["acc"] for r in sel])
            read = f"{sum(r['read'] for r in sel)} of {sum(r['images'] for r in sel)}"
            cell = f"{accs[reading].mean():.3f} ± {accs[reading].std():.3f}"
            lines.append(f"| {engine} | {reading} | {read} | {cell} |")
        diff = accs["raw"] - accs["png"]
        lines.append(f"| {engine} | raw − png | | {diff.mean():+.3f} ± {diff.std():.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--images", type=int, default=3000, help="galaxies per set")
    parser.add_argument("--engines", nargs="+", choices=["builtin", "galsim"], default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    config = load_config(str(resources.files("astrovader") / "presets" / "quickstart.toml"))
    if args.tiny:
        config = config.replace(
            schedule={"gamma_epochs": 1, "anneal_epochs": 1, "static_epochs": 1, "periods": 1},
            model={"filters": [4, 4, 4]},
            training={"batch_size": 20},
        )
        sizes, seeds = (60, 16, 100.0), range(1)
    else:
        sizes, seeds = (args.images, 32, 200.0), range(args.seeds)
    rows = benchmark(config, sizes, seeds, args.engines, log=lambda m: print(m, flush=True))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(args.out / "raw_vs_png.csv", out.getvalue())
    table = summarise(rows)
    write_text_atomic(args.out / "raw_vs_png.md", table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
