"""AstroVaDEr against two-stage baselines on labelled images (ACC, NMI, ARI; mean ± sd over seeds).

Data sets (each image set is fixed; the seeds vary the methods):

* ``synthetic``: the built-in synthetic galaxies (2,000 at 32 px, renderer seed 0, five classes),
  exactly as the earlier benchmark used them;
* ``rotated``: the same five classes (renderer seed 1) with every stamp turned by an angle uniform
  in [0°, 360°) (SciPy, bilinear, reflected borders): orientation is now a nuisance;
* ``digits``: scikit-learn's 1,797 handwritten 8×8 digits resized to 16×16, ten classes.
  Flips, rotations and tied views are off for them (a mirrored or turned 2 is no digit);
* ``synthetic10k`` (``--sets synthetic10k``): 10,000 synthetic galaxies, to show the lead with data.

Methods, with the same K, data and schedule:

* ``astrovader``: the package's default method with the small-image preset (``--config
  quickstart``), argmax γ of ``clusters.csv``;
* ``astrovader_init``: the same run's partition just after its GMM initialisation;
* ``astrovader_paper``: the paper's method (every option of docs/method.md §9 off,
  ``astrovader.config.PAPER_METHOD``) with the preset's schedule and network and the preset's
  former L2 factor 1e-4 (the paper's 0.01 collapses the posterior at 32 px);
* baselines: ``pca{J}_full``/``pca{J}_diag`` and ``pca20_full``/``pca20_diag`` (PCA to J or 20
  components, then a full- or diagonal-covariance GaussianMixture), ``kmeans_pixels``, and
  ``ae_bgmm`` (Cheng et al. 2020: the same network as a plain autoencoder, then a
  BayesianGaussianMixture). The best baseline per set is named in the summary.

``--ablation`` runs the default method with one option changed at a time (one seed).

Usage::

    python experiments/benchmarks/clustering.py --sets synthetic,rotated,digits --seeds 0,1,2
    python experiments/benchmarks/clustering.py --ablation --sets synthetic --seeds 0 --tag ablation
    python experiments/benchmarks/clustering.py --summarise     # tables of every results CSV
    python experiments/benchmarks/clustering.py --tiny --out /tmp/bench   # seconds, for tests
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

from astrovader._io import write_text_atomic
from astrovader.analysis.metrics import clustering_accuracy
from astrovader.config import PAPER_METHOD, load_config
from astrovader.config.core import merge
from astrovader.data.augment import VIEW_KEYS

OURS = ("astrovader", "astrovader_init", "astrovader_paper")
BASELINES = ("pcaJ_full", "pcaJ_diag", "pca20_full", "pca20_diag", "kmeans_pixels", "ae_bgmm")
METHODS = OURS + BASELINES
# Orientation and handedness are the science of handwriting, not of galaxies.
SET_OPTIONS = {
    "digits": {
        "data": {"flips": False},
        "augment": {"rotate90": False, "rotate": False, "tied_views": 1},
    }
}
PAPER_SMALL = merge(PAPER_METHOD, {"model": {"l2": 1e-4}})
ABLATIONS = {
    "no_views": {"augment": {k: PAPER_METHOD["augment"][k] for k in VIEW_KEYS if k != "target"}},
    "no_rotations": {"augment": {"rotate90": False, "rotate": False}},
    "no_zoom_brightness": {"augment": {"zoom": 1.0, "brightness": 0.0}},
    "no_consistency": {"augment": {"consistency": 0.0}},
    "untied": {"augment": {"tied_views": 1}},
    "gradient_prior": {"mixture": {"update": "gradient", "covariance": "diag"}},
    "diag_covariance": {"mixture": {"covariance": "diag"}},
    "no_final_fits": {"mixture": {"final_fits": 0}},
    "one_test_view": {"augment": {"test_views": 1}},
    "free_pi": {"mixture": {"pi": "free"}},
    "gamma_from_sample": {"mixture": {"gamma_from": "sample"}},
    "no_respawn": {"mixture": {"respawn": 0.0}},
    "no_optimizer_reset": {"mixture": {"reset_optimizer": False}},
    "minmax_50": {"loss": {"minmax_lambda": 50.0}},
    "beta_per_epoch": {"schedule": {"beta_per": "epoch"}},
    "gmm_scale_0.3": {"loss": {"gmm_scale": 0.3, "scaling": "none"}},
    "restarts_5": {"mixture": {"restarts": 5}},
}


def synthetic_set(n: int, size: int, seed: int = 0, rotate: bool = False):
    """The built-in synthetic galaxies and their classes, optionally in random orientation."""
    from scipy import ndimage

    from astrovader.data.synthetic import synthetic_imageset

    imageset, records = synthetic_imageset(n, size, seed=seed)
    images = imageset.images
    if rotate:
        angles = np.random.default_rng(seed).uniform(0, 360, len(images))
        images = np.stack(
            [
                ndimage.rotate(im, a, reshape=False, order=1, mode="reflect")
                for im, a in zip(images, angles, strict=True)
            ]
        )
    return np.clip(images, 0, 1).astype("float32"), np.array([r["class"] for r in records])


def digits_set(n: int | None, size: int):
    """scikit-learn's handwritten digits, scaled to [0, 1] and resized to size×size."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[:n] / 16.0
    resize = Image.Resampling.BILINEAR
    big = np.stack(
        [
            np.asarray(Image.fromarray(im.astype("float32"), mode="F").resize((size, size), resize))
            for im in images
        ]
    )
    return np.clip(big, 0, 1)[..., None].astype("float32"), digits.target[:n]


def scores(truth, labels) -> dict[str, float]:
    """ACC (Hungarian), NMI, ARI."""
    return {
        "acc": clustering_accuracy(truth, labels),
        "nmi": float(metrics.normalized_mutual_info_score(truth, labels)),
        "ari": float(metrics.adjusted_rand_score(truth, labels)),
    }


def run_astrovader(config, images, workdir: Path):
    """Train on the images (saved as .npy); argmax γ at the end and just after the GMM init."""
    import keras

    from astrovader.data.cluster_table import read_clusters
    from astrovader.training.run import fit_run

    class InitialPartition(keras.callbacks.Callback):
        labels = None

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == config.schedule.gamma_epochs:
                self.labels = self.model.predict_clusters(images)

    np.save(workdir / "images.npy", images)
    initial = InitialPartition()
    run = fit_run(
        config.replace(data={"path": str(workdir / "images.npy")}),
        workdir / "run",
        verbose=0,
        callbacks=(initial,),
    )
    clusters = read_clusters(run / "clusters.csv")
    order = np.argsort(clusters["id"].astype(int))
    return clusters["cluster"][order], initial.labels


def run_autoencoder_bgmm(config, images, seed: int):
    """Cheng et al. 2020: plain autoencoder (same network, MSE), then BayesianGaussianMixture."""
    import keras

    from astrovader.model.vade import AstroVaDEr

    keras.utils.set_random_seed(seed)
    net = AstroVaDEr.from_settings(config)
    inputs = keras.Input(images.shape[1:])
    autoencoder = keras.Model(inputs, net.decoder(net.encoder(inputs)[0]))
    autoencoder.compile(keras.optimizers.Adam(config.optimizer.learning_rate), loss="mse")
    epochs, batch = config.schedule.total_epochs, config.training.batch_size
    autoencoder.fit(images, images, epochs=epochs, batch_size=batch, verbose=0)
    z = net.encode(images)[0]
    k = config.model.n_clusters
    return BayesianGaussianMixture(n_components=k, random_state=seed, max_iter=500).fit_predict(z)


def run_baselines(images, k: int, latent_dim: int, seed: int) -> dict[str, np.ndarray]:
    """k-means on pixels; PCA to J and to 20 components, each + full and diagonal GMMs."""
    pixels = images.reshape(len(images), -1)
    out = {"kmeans_pixels": KMeans(k, n_init=10, random_state=seed).fit_predict(pixels)}
    for name, dims in (("pcaJ", latent_dim), ("pca20", 20)):
        reduced = PCA(n_components=min(dims, pixels.shape[1]), random_state=seed).fit_transform(
            pixels
        )
        for kind in ("full", "diag"):
            mixture = GaussianMixture(k, covariance_type=kind, n_init=3, random_state=seed)
            out[f"{name}_{kind}"] = mixture.fit_predict(reduced)
    return out


def benchmark(name, images, truth, config, seeds, methods, variants, log=print):
    """The methods (and ablation variants) on one data set over the seeds: result rows."""
    rows, k = [], len(np.unique(truth))
    base = merge(
        {"data": {"image_size": images.shape[1]}, "model": {"n_clusters": k}},
        SET_OPTIONS.get(name, {}),
    )
    for seed in seeds:
        cfg = config.replace(**merge(base, {"training": {"seed": seed}}))
        start, labels = time.perf_counter(), {}
        if "astrovader" in methods:
            with tempfile.TemporaryDirectory() as tmp:
                labels["astrovader"], labels["astrovader_init"] = run_astrovader(
                    cfg, images, Path(tmp)
                )
        if "astrovader_paper" in methods:
            with tempfile.TemporaryDirectory() as tmp:
                paper = cfg.replace(**PAPER_SMALL)
                labels["astrovader_paper"] = run_astrovader(paper, images, Path(tmp))[0]
        for variant, change in variants.items():
            with tempfile.TemporaryDirectory() as tmp:
                labels[f"ablation:{variant}"] = run_astrovader(
                    cfg.replace(**change), images, Path(tmp)
                )[0]
        if "ae_bgmm" in methods:
            labels["ae_bgmm"] = run_autoencoder_bgmm(cfg.replace(**PAPER_SMALL), images, seed)
        if "pcaJ_full" in methods:
            labels.update(run_baselines(images, k, cfg.model.latent_dim, seed))
        for method, found in labels.items():
            rows.append({"data": name, "method": method, "seed": seed, **scores(truth, found)})
        log(
            f"{name} seed {seed}: {time.perf_counter() - start:.0f} s  "
            + "  ".join(f"{r['method']} {r['acc']:.3f}" for r in rows[-len(labels) :])
        )
    return rows


def summarise(rows) -> str:
    """Markdown: mean ± sd per set and method, the best baseline and the lead over it."""
    lines = ["| data | method | seeds | ACC | NMI | ARI |", "| --- | --- | --- | --- | --- | --- |"]
    leads = [
        "",
        "| data | astrovader ACC | best baseline | its ACC | lead |",
        "| --- | --- | --- | --- | --- |",
    ]
    for data in dict.fromkeys(r["data"] for r in rows):
        means = {}
        for method in dict.fromkeys(r["method"] for r in rows if r["data"] == data):
            sel = [r for r in rows if r["data"] == data and r["method"] == method]
            means[method] = np.mean([float(r["acc"]) for r in sel])
            values = [[float(r[m]) for r in sel] for m in ("acc", "nmi", "ari")]
            cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in values]
            lines.append(f"| {data} | {method} | {len(sel)} | " + " | ".join(cells) + " |")
        found = {m: v for m, v in means.items() if m in BASELINES}
        if found and "astrovader" in means:
            best = max(found, key=found.get)
            lead = means["astrovader"] - found[best]
            leads.append(
                f"| {data} | {means['astrovader']:.3f} | {best} | {found[best]:.3f} | {lead:+.3f} |"
            )
    return "\n".join(lines + (leads if len(leads) > 3 else []))


def read_rows(folder: Path) -> list[dict]:
    """Every row of the ``clustering*.csv`` files in ``folder``."""
    rows = []
    for path in sorted(folder.glob("clustering*.csv")):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--sets", default="synthetic,rotated,digits")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--ablation", action="store_true", help="add the ablation variants")
    parser.add_argument("--tag", default="", help="suffix of the results CSV")
    parser.add_argument("--summarise", action="store_true", help="only rewrite clustering.md")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    config = load_config(
        str(Path(__file__).parents[2] / "astrovader" / "presets" / "quickstart.toml")
    )
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",")
    if args.tiny:
        config = config.replace(
            schedule={"gamma_epochs": 1, "anneal_epochs": 1, "static_epochs": 1, "periods": 1},
            model={"filters": [4, 4, 4]},
            data={"validation_fraction": 0.1},
            training={"batch_size": 20},
        )
        sets = {"synthetic": lambda: synthetic_set(100, 16), "digits": lambda: digits_set(100, 16)}
        seeds = [0]
    else:
        sets = {
            "synthetic": lambda: synthetic_set(2000, 32),
            "rotated": lambda: synthetic_set(2000, 32, seed=1, rotate=True),
            "digits": lambda: digits_set(None, 16),
            "synthetic10k": lambda: synthetic_set(10000, 32),
        }
        sets = {name: sets[name] for name in args.sets.split(",")}
    variants = ABLATIONS if args.ablation else {}
    if not args.summarise:
        rows = []
        for name, make in sets.items():
            images, truth = make()
            rows += benchmark(
                name,
                images,
                truth,
                config,
                seeds,
                methods,
                variants,
                log=lambda m: print(m, flush=True),
            )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(args.out / f"clustering{args.tag and '_' + args.tag}.csv", out.getvalue())
    table = summarise(read_rows(args.out))
    write_text_atomic(args.out / "clustering.md", table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
