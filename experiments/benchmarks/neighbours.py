"""Neighbour masking: do the clusters follow the central galaxy? (ACC with and without masking).

The built-in engine's raw-flux galaxies (five classes, 32 px, sky 0–200 counts) get an
unrelated neighbour in a fraction of the stamps: a Sérsic source of random index (0.5–4),
radius (1.5–3 px), axis ratio and angle, 9–13 px from the centre, as bright as 0.3–1.0 times
the central galaxy's peak. Each set is read as a user would (the default ``[scaling]``), with
and without ``data.mask_neighbours``, and clustered with a cheap proxy of the model's
embedding: PCA to 20 components and a full-covariance Gaussian mixture with K = 5 (three
mixture seeds). Hungarian-matched ACC against the central galaxies' classes, mean over sets.

Usage::

    python experiments/benchmarks/neighbours.py                 # 1,500 galaxies, 2 sets
    python experiments/benchmarks/neighbours.py --tiny --out /tmp/n   # seconds, for tests
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from astropy.modeling.models import Sersic2D

from astrovader._io import write_text_atomic
from astrovader.analysis.metrics import clustering_accuracy
from astrovader.config.sections import ScalingConfig
from astrovader.data.images.neighbours import mask_neighbours
from astrovader.data.images.scaling import scale
from astrovader.data.simulated.writer import render


def with_neighbours(counts: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Raw (N, S, S, 1) counts with an unrelated Sérsic neighbour added to ``fraction`` of them."""
    rng = np.random.default_rng(seed)
    out = np.array(counts, dtype=np.float64)
    size = counts.shape[1]
    yy, xx = np.mgrid[:size, :size]
    centre = (size - 1) / 2
    for i in np.flatnonzero(rng.random(len(counts)) < fraction):
        image = out[i, ..., 0]
        peak = np.percentile(image, 99.9) - np.median(image)
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(9, 13)
        source = Sersic2D(
            amplitude=1.0,
            r_eff=rng.uniform(1.5, 3.0),
            n=rng.uniform(0.5, 4.0),
            x_0=centre + distance * np.cos(angle),
            y_0=centre + distance * np.sin(angle),
            ellip=rng.uniform(0, 0.6),
            theta=rng.uniform(0, np.pi),
        )(xx, yy)
        image += source / source.max() * peak * rng.uniform(0.3, 1.0)
    return out


def proxy_acc(images: np.ndarray, truth: np.ndarray, k: int, seeds=(0, 1, 2)) -> float:
    """ACC of PCA(20) + full-covariance GMM, mean over the mixture seeds."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    z = PCA(20, random_state=0).fit_transform(images.reshape(len(images), -1))
    found = [
        GaussianMixture(k, covariance_type="full", random_state=s).fit(z).predict(z) for s in seeds
    ]
    return float(np.mean([clustering_accuracy(truth, labels) for labels in found]))


def read(counts: np.ndarray, masked: bool) -> np.ndarray:
    """The default reading of each raw stamp, optionally with its neighbours masked."""
    scaling = ScalingConfig()
    images = []
    for i, raw in enumerate(counts):
        if masked:
            raw, _ = mask_neighbours(raw, f"stamp{i}")
        images.append(scale(raw, scaling))
    return np.stack(images)


def benchmark(n: int, size: int, sets, fraction: float, log=print) -> list[dict]:
    rows = []
    for seed in sets:
        counts, records = render(
            "builtin", n, size=size, seed=seed, bands=1, sky=(0.0, 200.0), raw=True
        )
        truth = np.array([r["class"] for r in records])
        k = len(set(truth))
        crowded = with_neighbours(counts, fraction, seed)
        for name, data, masked in (
            ("no neighbours", counts, False),
            ("neighbours", crowded, False),
            ("neighbours, masked", crowded, True),
            ("no neighbours, masked", counts, True),
        ):
            acc = proxy_acc(read(data, masked), truth, k)
            rows.append({"set": seed, "reading": name, "acc": acc})
            log(f"set {seed} {name}: ACC {acc:.3f}")
    return rows


def summarise(rows) -> str:
    lines = ["| reading | ACC (PCA20 + GMM) |", "| --- | --- |"]
    for name in dict.fromkeys(r["reading"] for r in rows):
        accs = np.array([r["acc"] for r in rows if r["reading"] == name])
        lines.append(f"| {name} | {accs.mean():.3f} ± {accs.std():.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--sets", type=int, default=2)
    parser.add_argument("--fraction", type=float, default=0.5, help="stamps given a neighbour")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    n, sets = (60, range(100, 101)) if args.tiny else (args.images, range(100, 100 + args.sets))
    rows = benchmark(n, 32, sets, args.fraction, log=lambda m: print(m, flush=True))
    table = summarise(rows)
    write_text_atomic(args.out / "neighbours.md", table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
