"""Anomaly scores against artefacts: the share of real galaxies scored below each artefact (#33).

A model is fitted as a notebook user fits one, ``Clusterer(n_clusters=5, image_size=32,
preset="quickstart")`` on built-in synthetic galaxies (600 by default, seed 0). Artefact
stamps are then scored with every candidate score, and each artefact's figure is the share
of the training galaxies that score below it (lower is better: 0 means every galaxy looks
more typical than the artefact; the goal is ≤ 0.05 for every artefact). Candidates (every
score is "higher = more typical"):

* ``log_p``: log p̂(x), the importance-sampled log-likelihood (method §7a), as it is;
* ``complexity``: the input-complexity correction of Serrà et al. 2020 with a PNG
  compressor, log₂ P̂(x) + L(x) in bits (method §7b; the package's default score);
* ``complexity_zlib``: the same with plain zlib (no PNG filters) as the compressor;
* ``complexity_calibrated``: the PNG correction with the decoder's variance calibrated to the
  training reconstructions (σ̂², method §7b): the package's ``anomaly_score``;
* ``typicality``: a two-sided typicality test on the reconstruction residual, −|log r(x) −
  median log r| / MAD over the training galaxies (r: the mean squared residual of x̂(μ̃));
* ``background``: a likelihood ratio log p̂(x) − log p_bg(x) against an i.i.d. pixel model
  (the training pixels' 256-bin histogram), Ren et al. 2019's idea with the simplest
  background;
* ``combined``: the lower robust z-score (against the training galaxies) of
  ``complexity_calibrated`` and ``typicality``.

The held-out class is measured with a second fit that leaves one class out of training
(``--holdout CLASS``, one component fewer): its figure is the share of training galaxies
below the held-out class's median score (goal: at most 0.5).

The built-in synthetic galaxies are noiseless renders (a tenth of their pixels are exactly
0). ``--family NAME`` takes the galaxies from a GalSim family of ``families.py`` instead
(``gs_survey``: sky noise down to a peak S/N of 5, neighbours, seeing; six classes), read
the way ``astrovader fit`` reads them, so that an artefact meets galaxies with a background.

    python experiments/benchmarks/anomaly.py --out results/anomaly.md
    python experiments/benchmarks/anomaly.py --family gs_survey --out results/anomaly_survey.md
    python experiments/benchmarks/anomaly.py --images 300 --quick   # a minute, for a look
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


ISSUE_SIX = (
    "blank",
    "all ones",
    "every fourth row lit",
    "sparse random dots",
    "vertical bar",
    "uniform noise",
)


def artefacts(galaxies: np.ndarray, *, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The artefact stamps (each (size, size, 1) in [0, 1]), built from a seeded generator."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    centre = (size - 1) / 2
    out = {}
    out["blank"] = np.zeros((size, size))
    out["all ones"] = np.ones((size, size))
    rows = np.zeros((size, size))
    rows[::4] = 1.0
    out["every fourth row lit"] = rows
    dots = np.zeros((size, size))
    dots.flat[rng.choice(size * size, size * size // 20, replace=False)] = 1.0
    out["sparse random dots"] = dots
    bar = np.zeros((size, size))
    bar[:, size // 2 - 1 : size // 2 + 1] = 1.0
    out["vertical bar"] = bar
    out["uniform noise"] = rng.uniform(0, 1, (size, size))
    r = np.hypot(yy - centre - 3.3, xx - centre + 2.1)
    star = np.clip(4.0 * np.exp(-0.5 * (r / (0.06 * size)) ** 2) + 0.3 / (1 + (r / 2) ** 2), 0, 1)
    out["saturated star"] = np.clip(star + rng.normal(0, 0.01, star.shape), 0, 1)
    base = galaxies[int(rng.integers(len(galaxies))), ..., 0]
    trail = np.exp(-0.5 * ((yy - 0.4 * xx - 0.3 * size) / 0.8) ** 2)
    out["satellite trail"] = np.clip(base + trail, 0, 1)
    masked = galaxies[int(rng.integers(len(galaxies))), ..., 0].copy()
    masked[: size // 2, : size // 2] = 0.0
    out["masked quadrant"] = masked
    return {name: np.round(image[..., None] * 255) / 255 for name, image in out.items()}


def png_bits(images: np.ndarray) -> np.ndarray:
    from astrovader.model.complexity import complexity_bits

    return complexity_bits(images)


def zlib_bits(images: np.ndarray) -> np.ndarray:
    quantised = np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)
    return np.array([8.0 * len(zlib.compress(q.tobytes(), 9)) for q in quantised])


def robust_z(values, reference):
    """(values − median) / (1.4826 MAD) of the training galaxies' scores."""
    centre = np.median(reference)
    return (values - centre) / (1.4826 * np.median(np.abs(reference - centre)) + 1e-12)


def scores(model, images, *, reference, samples: int) -> dict[str, np.ndarray]:
    """Every candidate score of ``images`` (higher = more typical)."""
    pixels = images[0].size
    both = model.scores(images, samples)  # log p̂ (trained w) and the package's anomaly score
    log_p = both[:, 0]
    quantum = pixels * np.log2(255.0)
    out = {
        "log_p": log_p,
        "complexity": png_bits(images) + log_p / np.log(2) - quantum,
        "complexity_zlib": zlib_bits(images) + log_p / np.log(2) - quantum,
        "complexity_calibrated": both[:, 1],
    }
    residual = np.log(
        np.mean((images - model.decode(model.encode(images)[0])) ** 2, axis=(1, 2, 3)) + 1e-12
    )
    centre, spread = reference["residual"]
    out["typicality"] = -np.abs(residual - centre) / spread
    hist = reference["histogram"]
    levels = np.clip(np.rint(images * 255), 0, 255).astype(int)
    out["background"] = log_p - np.log(hist[levels]).sum(axis=(1, 2, 3))
    return out


def combine(candidates: dict, reference: dict) -> np.ndarray:
    """The lower robust z of the calibrated complexity score and the typicality test."""
    return np.minimum(
        robust_z(candidates["complexity_calibrated"], reference["complexity_calibrated"]),
        robust_z(candidates["typicality"], reference["typicality"]),
    )


def reference_of(model, galaxies):
    residual = np.log(
        np.mean((galaxies - model.decode(model.encode(galaxies)[0])) ** 2, axis=(1, 2, 3)) + 1e-12
    )
    centre = np.median(residual)
    spread = np.median(np.abs(residual - centre)) * 1.4826 + 1e-12
    counts = np.bincount(
        np.clip(np.rint(galaxies * 255), 0, 255).astype(int).ravel(), minlength=256
    )
    histogram = (counts + 1.0) / (counts.sum() + 256.0) * 255.0  # a density on [0, 1]
    return {"residual": (centre, spread), "histogram": histogram}


def galaxy_set(family: str, n: int, size: int, seed: int):
    """``(galaxies, labels, class names)``: built-in synthetic galaxies or a GalSim family.

    A family is read the way ``astrovader fit`` reads it (``--config quickstart`` at the
    family's side: raw counts scaled, stamps resized).
    """
    if not family:
        from astrovader.data.simulated.sersic import CLASS_NAMES, simulate

        raw, records = simulate(n, size, seed=seed)
        return raw.astype(np.float32) / 255.0, np.array([r["class"] for r in records]), CLASS_NAMES
    import sys
    import tempfile

    from astrovader.config import load_config
    from astrovader.data.simulated.galsim_engine import GALSIM_CLASS_NAMES

    sys.path.insert(0, str(HERE))
    from families import read_as_fit_does, render

    images, labels, read_at = render(family, n, seed)
    preset = HERE.parents[1] / "astrovader" / "presets" / "quickstart.toml"
    config = load_config(str(preset)).replace(data={"image_size": read_at})
    with tempfile.TemporaryDirectory() as tmp:
        read = read_as_fit_does(config, images, Path(tmp))
    return read.astype(np.float32), labels, GALSIM_CLASS_NAMES


def fit(images, *, k, seed, quick):
    from astrovader import Clusterer

    extra = {"schedule__gamma_epochs": 4, "schedule__periods": 1} if quick else {}
    return Clusterer(
        n_clusters=k, image_size=images.shape[1], preset="quickstart", seed=seed, **extra
    ).fit(images)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument(
        "--holdout", type=int, default=4, help="class left out of the second fit (-1: none)"
    )
    parser.add_argument("--quick", action="store_true", help="a 4-epoch schedule, for a look")
    parser.add_argument("--family", default="", help="a GalSim family of families.py")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "anomaly.md")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)

    galaxies, labels, class_names = galaxy_set(args.family, args.images, args.size, args.seed)
    args.size = galaxies.shape[1]
    k = len(class_names)
    estimator = fit(galaxies, k=k, seed=args.seed, quick=args.quick)
    model = estimator.model_
    reference = reference_of(model, galaxies)
    stamps = artefacts(galaxies, size=args.size, seed=args.seed)
    names = list(stamps)
    base = scores(model, galaxies, reference=reference, samples=args.samples)
    odd = scores(
        model,
        np.stack([stamps[n] for n in names]).astype(np.float32),
        reference=reference,
        samples=args.samples,
    )
    base["combined"], odd["combined"] = combine(base, base), combine(odd, base)
    raw = {f"galaxies:{c}": v for c, v in base.items()} | {
        f"artefacts:{c}": v for c, v in odd.items()
    }
    np.savez(args.out.with_suffix(".npz"), **raw)
    api = estimator.score_samples(np.stack([stamps[n] for n in names]))
    api_base = estimator.score_samples(galaxies)
    table = {c: [float(np.mean(base[c] < v)) for v in odd[c]] for c in base}
    table["Clusterer.score_samples"] = [float(np.mean(api_base < v)) for v in api]
    held = {}
    if args.holdout >= 0:
        keep = labels != args.holdout
        other = fit(galaxies[keep], k=k - 1, seed=args.seed, quick=args.quick)
        ref = reference_of(other.model_, galaxies[keep])
        inside = scores(other.model_, galaxies[keep], reference=ref, samples=args.samples)
        outside = scores(other.model_, galaxies[~keep], reference=ref, samples=args.samples)
        inside["combined"], outside["combined"] = combine(inside, inside), combine(outside, inside)
        held = {c: float(np.mean(inside[c] < np.median(outside[c]))) for c in inside}
    candidates = list(base)
    lines = [
        f"# Anomaly scores against artefacts ({args.images} {args.family or 'synthetic'} "
        f"galaxies, {args.size} px, "
        f"seed {args.seed}, S = {args.samples}{', quick schedule' if args.quick else ''})",
        "",
        "Share of the training galaxies scored below each artefact (goal ≤ 0.05).",
        "",
        "| artefact | " + " | ".join([*candidates, "Clusterer.score_samples"]) + " |",
        "| --- |" + " --- |" * (len(candidates) + 1),
    ]
    for i, name in enumerate(names):
        cells = [f"{table[c][i]:.3f}" for c in [*candidates, "Clusterer.score_samples"]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| **mean** | "
        + " | ".join(
            f"**{np.mean(table[c]):.3f}**" for c in [*candidates, "Clusterer.score_samples"]
        )
        + " |"
    )
    six = [names.index(n) for n in ISSUE_SIX]
    lines.append(
        "| **mean of the issue's six** | "
        + " | ".join(
            f"**{np.mean(np.asarray(table[c])[six]):.3f}**"
            for c in [*candidates, "Clusterer.score_samples"]
        )
        + " |"
    )
    lines.append(
        "| **worst** | "
        + " | ".join(f"{np.max(table[c]):.3f}" for c in [*candidates, "Clusterer.score_samples"])
        + " |"
    )
    if held:
        lines.append(
            f"| held-out class `{class_names[args.holdout]}` (median; goal ≤ 0.5) | "
            + " | ".join(f"{held[c]:.3f}" for c in candidates)
            + " | — |"
        )
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(
        json.dumps({"table": table, "held_out": held, "artefacts": names}, indent=1)
    )
    print(text)


if __name__ == "__main__":
    main()
