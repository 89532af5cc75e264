"""Long-run stability (issue 7): the paper's s3VDC schedule scaled down, on synthetic galaxies.

Table 1 of the paper is T_γ = 100, T_β = 25, T_s = 25, M = 5 (350 epochs). This run keeps
the phase ratios 4 : 1 : 1 and the five periods with T_γ = 12, T_β = 3, T_s = 3 (42 epochs),
on 3,000 built-in synthetic galaxies of 32×32 pixels and the quick-start network. It
checks that every loss stays finite, that σ² and π stay positive, and that every mixture
component keeps a non-zero weight (or says why not), and writes to ``outputs/``:
``history.csv``, ``loss_by_phase.png`` (and ``.pdf``) and ``results.md``.

Usage (a few minutes on two CPU cores)::

    nice -n 10 python experiments/stability/run_stability.py [--run DIR] [--out DIR]

The exit status is 1 when a check fails, else 0 (a dropped component with its reason
logged is not a failure).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from astrovader._io import write_text_atomic

HERE = Path(__file__).resolve().parent
SCHEDULE = {"gamma_epochs": 12, "anneal_epochs": 3, "static_epochs": 3, "periods": 5}
COUNT = 3000
MIN_WEIGHT = 1e-3  # a component below this share of Σπ counts as dropped
LOSSES = ("loss", "reconstruction", "kl", "gmm_kl")


def configure():
    """The quick-start configuration with the scaled Table-1 schedule."""
    from astrovader.cli.fit import quickstart_preset
    from astrovader.config import load_config

    sets = [f"schedule.{key}={value}" for key, value in SCHEDULE.items()]
    sets += [f"data.synthetic_count={COUNT}", "optimizer.decay_every=1"]
    return load_config(quickstart_preset(), sets)


def component_table(model, z, labels):
    """Per component: share of Σπ, images most probable in it, σ² range, nearest mean."""
    mixture = model.mixture()
    pi, mu, var = mixture["pi"], mixture["mu"], mixture["var"]
    share = pi / pi.sum()
    distance = np.linalg.norm(mu[:, None] - mu[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    rows = []
    for k in range(len(pi)):
        nearest = int(np.argmin(distance[k]))
        count = int(np.sum(labels == k))
        reason = ""
        if share[k] < MIN_WEIGHT or count == 0:
            reason = (
                f"collapsed: {count} images, mean {distance[k, nearest]:.3g} from component "
                f"{nearest} (latent spread {np.sqrt(var[k]).mean():.3g})"
            )
        rows.append(
            {
                "component": k,
                "pi": float(pi[k]),
                "share": float(share[k]),
                "images": count,
                "var_min": float(var[k].min()),
                "var_max": float(var[k].max()),
                "nearest": nearest,
                "reason": reason,
            }
        )
    return rows


def checks(rows, model, components):
    """(name, status, detail) for each criterion; status "pass", "FAIL" or "reason logged"."""
    import keras

    values = np.array([[float(r[f"{p}{t}"]) for p in ("", "val_") for t in LOSSES] for r in rows])
    weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
    mixture = model.mixture()
    dropped = [c for c in components if c["reason"]]
    status = {True: "pass", False: "FAIL"}
    return [
        ("every loss term finite, every epoch", status[bool(np.isfinite(values).all())],
         f"{values.size} values over {len(rows)} epochs"),
        ("every weight finite", status[all(np.isfinite(w).all() for w in weights)],
         f"{sum(w.size for w in weights)} values"),
        ("σ² > 0", status[bool((mixture["var"] > 0).all())],
         f"min σ² = {mixture['var'].min():.3g}"),
        ("π > 0", status[bool((mixture["pi"] > 0).all())], f"min π = {mixture['pi'].min():.3g}"),
        (f"every component ≥ {MIN_WEIGHT:g} of Σπ and most probable for some image",
         "reason logged" if dropped else "pass",
         f"{len(components) - len(dropped)} of {len(components)} components in use"
         + "".join(f"; component {c['component']}: {c['reason']}" for c in dropped)),
    ]  # fmt: skip


def write_results(out, config, rows, components, results, accuracy, seconds):
    """``results.md``: set-up, checks, final losses, the mixture and the figure."""
    s = config.schedule
    last = rows[-1]
    lines = [
        "# Long-run stability: scaled Table-1 schedule on synthetic galaxies",
        "",
        f"Schedule T_γ = {s.gamma_epochs}, T_β = {s.anneal_epochs}, T_s = {s.static_epochs}, "
        f"M = {s.periods} ({s.total_epochs} epochs; the paper's 100 : 25 : 25 × 5 scaled by "
        f"{s.gamma_epochs / 100:g}); {config.data.synthetic_count} synthetic galaxies "
        f"{config.data.image_size}×{config.data.image_size}, J = {config.model.latent_dim}, "
        f"K = {config.model.n_clusters}, filters {list(config.model.filters)}, batch "
        f"{config.training.batch_size}, lr {config.optimizer.learning_rate:g} → "
        f"{config.optimizer.min_learning_rate:g}, seed {config.training.seed}.",
        "",
        f"Wall time {seconds / 60:.1f} min on {platform.machine()} CPU "
        "(2 cores shared with other work), `nice -n 10`.",
        "",
        "| check | result | detail |",
        "|---|---|---|",
        *(f"| {name} | {status} | {detail} |" for name, status, detail in results),
        "",
        "Final epoch (train / validation):",
        "",
        "| term | train | validation |",
        "|---|---|---|",
        *(f"| {t} | {float(last[t]):.4g} | {float(last['val_' + t]):.4g} |" for t in LOSSES),
        "",
        f"Clustering accuracy against the 5 synthetic classes (Hungarian): {accuracy:.3f}.",
        "",
        "| component | π | share of Σπ | images (argmax γ) | σ² min | σ² max | reason |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {c['component']} | {c['pi']:.4g} | {c['share']:.3f} | {c['images']} | "
            f"{c['var_min']:.3g} | {c['var_max']:.3g} | {c['reason'] or '–'} |"
            for c in components
        ),
        "",
        "![losses by phase](loss_by_phase.png)",
        "",
    ]
    write_text_atomic(out / "results.md", "\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="run directory to keep (default: a temporary one)")
    parser.add_argument("--out", default=str(HERE / "outputs"), help="where results go")
    args = parser.parse_args(argv)
    from astrovader.analysis.charts import loss_curves
    from astrovader.analysis.metrics import clustering_accuracy
    from astrovader.data.simulated.sersic import synthetic_imageset
    from astrovader.model.loading import load_model
    from astrovader.training.run import fit_run
    from astrovader.training.rundir.history import read_history

    config = configure()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = None if args.run else tempfile.mkdtemp(prefix="stability-")
    run = Path(args.run or scratch) / "run"
    start = time.perf_counter()
    fit_run(config, run, verbose=2)
    seconds = time.perf_counter() - start
    rows = read_history(run / "history.csv")
    write_text_atomic(out / "history.csv", (run / "history.csv").read_text())
    loss_curves(rows, out / "loss_by_phase")
    model = load_model(run / "model.keras")
    imageset, records = synthetic_imageset(COUNT, config.data.image_size, seed=config.training.seed)
    z, _ = model.encode(imageset.images)
    labels = np.argmax(model.latent_probabilities(z), axis=1)
    accuracy = clustering_accuracy(np.array([r["class"] for r in records]), labels)
    components = component_table(model, z, labels)
    results = checks(rows, model, components)
    write_results(out, config, rows, components, results, accuracy, seconds)
    if scratch:
        shutil.rmtree(scratch)
    for name, status, detail in results:
        print(f"{status}: {name} ({detail})")
    print(f"wrote {out / 'results.md'}")
    return 1 if any(status == "FAIL" for _, status, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
