"""AstroVaDEr against two-stage baselines on labelled images (ACC, NMI, ARI; mean ± sd over seeds).

Data sets (each image set is fixed; the seeds vary the methods):

* ``synthetic``: the built-in synthetic galaxies (2,000 at 32 px, renderer seed 0, five classes);
* ``rotated``: the same five classes (renderer seed 1) with every stamp turned by an angle uniform
  in [0°, 360°) (SciPy, bilinear, reflected borders): orientation is now a nuisance;
* ``digits``: scikit-learn's 1,797 handwritten 8×8 digits resized to 16×16, ten classes.
  Flips, rotations and tied views are off for them (a mirrored or turned 2 is no digit);
* ``synthetic10k`` (``--sets synthetic10k``): 10,000 synthetic galaxies, to show the lead with data;
* the GalSim families of ``families.py`` (``gs_asinh_hard``, ``gs_asinh_soft``, ``gs_linear``,
  ``gs_raw``, ``gs_survey``, ``gs_64``): six classes in random orientation, varying the display
  stretch, the depth (down to a peak S/N of 5), sizes, seeing, neighbours and stamp size.

Every set is saved as a ``.npy`` file and read the way ``astrovader fit`` reads it (raw counts
through ``[scaling]``, sizes resized to ``data.image_size``); the baselines and probes see the
same read images.

Methods, with the same K, data and schedule:

* ``astrovader``: the package's default method with the small-image preset (``--config
  quickstart``), the cluster column of ``clusters.csv``;
* ``astrovader_init``: the same run's partition just after its GMM initialisation;
* ``astrovader_paper``: the paper's method (every option of docs/method.md §9 off,
  ``astrovader.config.PAPER_METHOD``) with the preset's schedule and network and the preset's
  former L2 factor 1e-4 (the paper's 0.01 collapses the posterior at 32 px);
* ``fresh_gmm_z``: a Gaussian mixture fitted afresh to the default run's own embedding (the z
  columns of ``clusters.csv``): full and diagonal, 5 restarts each, the lower BIC kept;
* ``gmm_l2_z`` and ``scan_z``: other partitions of the same z, without labels (#32 item 3): a
  Gaussian mixture (full and diagonal, lower BIC) of the standardised z scaled to unit length,
  and a SCAN-style step (Van Gansbeke et al. 2020) — a softmax head on the standardised z
  trained so that each image and its 20 nearest neighbours (cosine) agree, −log⟨p_i, p_j⟩,
  with the entropy of the mean assignment (weight 5) against one cluster taking all, then
  two rounds of self-labelling on the images assigned with p > 0.9;
* ``probe_z`` and ``probe_pca20``: the supervised ceilings, a logistic regression (5-fold
  cross-validated accuracy) on the run's z and on PCA to 20 components of the pixels — never
  used for a choice;
* baselines: ``pca{J}_full``/``pca{J}_diag`` and ``pca20_full``/``pca20_diag`` (PCA to J or 20
  components, then a full- or diagonal-covariance GaussianMixture), ``kmeans_pixels``, and
  ``ae_bgmm`` (Cheng et al. 2020: the same network as a plain autoencoder, then a
  BayesianGaussianMixture). The best baseline per set is named in the summary.

The ``astrovader`` rows also give the **invariance** of the partition: the fraction of images
kept in their cluster when every image is flipped, turned by a random angle, or shifted by 2 px
(``inv_flip``, ``inv_rotate``, ``inv_shift``), ``k_bic``, the K of lowest BIC among full
mixtures of 2–12 components on the run's z (the number of clusters the embedding itself
suggests, without labels), and where generated galaxies land: of 50 galaxies generated from
each component and embedded again by the model (``astrovader.analysis.gallery.landing``, the
report's table), the lowest and the mean share landing in their component over the components
holding ≥ 2% of the images (``gen_min``, ``gen_mean``; #32 asks ≥ 0.8 for each).

``--ablation`` runs the default method with one option changed at a time (one seed).

Usage::

    python experiments/benchmarks/clustering.py --sets synthetic,rotated,digits --seeds 0,1,2
    python experiments/benchmarks/clustering.py --sets gs_survey --n 1800 --tag survey
    python experiments/benchmarks/clustering.py --ablation --sets synthetic --seeds 0 --tag ablation
    python experiments/benchmarks/clustering.py --sets gs_asinh_soft,gs_survey --n 1200 --seeds 0 \
        --methods astrovader,fresh_gmm_z,probe_z --variants contrast_mu_16 --tag contrast
    python experiments/benchmarks/clustering.py --summarise     # tables of every results CSV
    python experiments/benchmarks/clustering.py --tiny --out /tmp/bench   # seconds, for tests
"""

from __future__ import annotations

import argparse
import csv
import functools
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
from astrovader.model.views import VIEW_KEYS

sys.path.insert(0, str(Path(__file__).parent))
from families import FAMILIES, read_as_fit_does
from families import render as render_family

OURS = ("astrovader", "astrovader_init", "astrovader_paper")
BASELINES = ("pcaJ_full", "pcaJ_diag", "pca20_full", "pca20_diag", "kmeans_pixels", "ae_bgmm")
REFERENCES = ("fresh_gmm_z", "probe_z", "probe_pca20")  # never baselines: one is supervised
NEIGHBOURHOODS = ("gmm_l2_z", "scan_z")  # other partitions of the run's own z (#32 item 3)
METHODS = OURS + BASELINES + REFERENCES + NEIGHBOURHOODS
FIELDS = (
    "data",
    "method",
    "seed",
    "acc",
    "nmi",
    "ari",
    "inv_flip",
    "inv_rotate",
    "inv_shift",
    "k_bic",
    "gen_min",
    "gen_mean",
)
# Orientation and handedness are the science of handwriting, not of galaxies.
SET_OPTIONS = {
    "digits": {
        "data": {"flips": False},
        "augment": {"rotate90": False, "rotate": False, "tied_views": 1},
    }
}
SURVEY_VIEWS = {
    "flux_dex": 1.5,
    "blur": 0.05,
    "snr": 5.0,
    "neighbour": 0.4,
    "zoom": 1.58,
    "shift": 0.1,
}
MILD_SURVEY_VIEWS = {
    "flux_dex": 0.5,
    "blur": 0.03,
    "snr": 10.0,
    "neighbour": 0.2,
    "zoom": 1.3,
    "shift": 0.1,
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
    # The view-agreement term (method §9c, #32): on μ̃ itself, and on a 64-wide projection.
    "contrast_mu_16": {"augment": {"contrast": 16.0}},
    "contrast_mu_64": {"augment": {"contrast": 64.0}},
    "contrast_head_16": {"augment": {"contrast": 16.0, "contrast_head": 64}},
    "contrast_head_64": {"augment": {"contrast": 64.0, "contrast_head": 64}},
    # The survey views (method §9d, #32 item 2): flux over 1.5 dex, seeing up to σ = 5% of the
    # side, peak S/N down to 5, a neighbour in 40% of views, sizes ×2.5 and shifts of ±10%;
    # alone, and under the view-agreement term.
    "survey_views": {"augment": SURVEY_VIEWS},
    "survey_contrast_64": {"augment": {**SURVEY_VIEWS, "contrast": 64.0}},
    # Milder: 0.5 dex, seeing up to 3% of the side, S/N down to 10, a neighbour in 20%.
    "survey_mild_contrast_64": {"augment": {**MILD_SURVEY_VIEWS, "contrast": 64.0}},
}


def synthetic_set(n: int, size: int, seed: int = 0, rotate: bool = False):
    """The built-in synthetic galaxies and their classes, optionally in random orientation."""
    from scipy import ndimage

    from astrovader.data.simulated.sersic import synthetic_imageset

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


def family_set(name: str, n: int, size: int | None = None):
    """A GalSim family of ``families.py`` (renderer seed 0): images, classes, the side read at."""
    return render_family(name, n, seed=0, size=size)


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


def invariance(model, pixels: np.ndarray, seed: int) -> dict[str, float]:
    """Fractions of images kept in their cluster under a flip, a random turn, a 2 px shift."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    labels = model.predict_clusters(pixels)
    flipped = pixels[:, :, ::-1]
    angles = rng.uniform(0, 360, len(pixels))
    turned = np.stack(
        [
            ndimage.rotate(im, a, reshape=False, order=1, mode="reflect")
            for im, a in zip(pixels, angles, strict=True)
        ]
    )
    axis = rng.integers(0, 2, len(pixels))
    sign = rng.choice([-2, 2], len(pixels))
    shifted = np.stack(
        [np.roll(im, s, axis=a) for im, s, a in zip(pixels, sign, axis, strict=True)]
    )
    return {
        f"inv_{name}": float(np.mean(model.predict_clusters(np.clip(x, 0, 1)) == labels))
        for name, x in (("flip", flipped), ("rotate", turned), ("shift", shifted))
    }


def generation_landing(model, labels, seed: int) -> dict[str, float]:
    """The lowest and mean share of generated galaxies landing in their component (≥ 2%)."""
    from astrovader.analysis.gallery import LANDING_MIN_SHARE, landing

    counts = landing(model, seed=seed)
    stayed = np.diag(counts) / counts.sum(axis=1)
    share = np.bincount(np.asarray(labels, int), minlength=len(counts)) / len(labels)
    held = stayed[share >= LANDING_MIN_SHARE]
    return {"gen_min": float(held.min()), "gen_mean": float(held.mean())}


def bic_clusters(z: np.ndarray, seed: int, most: int = 12) -> int:
    """The K of lowest BIC among full Gaussian mixtures of 2…``most`` components on z."""
    most = max(2, min(most, len(z) // (2 * z.shape[1] + 2)))
    bics = [
        GaussianMixture(k, covariance_type="full", n_init=2, random_state=seed).fit(z).bic(z)
        for k in range(2, most + 1)
    ]
    return int(np.argmin(bics) + 2)


def run_astrovader(config, workdir: Path, seed: int, study: bool = False):
    """Train on ``workdir/images.npy``: the final clusters, those after the GMM init, and
    (``study``) the run's z, its invariance figures and its BIC count."""
    import keras

    from astrovader.data.images.options import ReadOptions
    from astrovader.data.images.readers import load_images
    from astrovader.data.tables.clusters import read_clusters
    from astrovader.model.loading import load_model
    from astrovader.training.run import fit_run

    path = workdir / "images.npy"
    pixels = load_images(path, options=ReadOptions.from_config(config), progress=False).images

    class InitialPartition(keras.callbacks.Callback):
        labels = None

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == config.schedule.gamma_epochs:
                self.labels = self.model.predict_clusters(pixels)

    initial = InitialPartition()
    run = fit_run(
        config.replace(data={"path": str(path)}), workdir / "run", verbose=0, callbacks=(initial,)
    )
    clusters = read_clusters(run / "clusters.csv")
    order = np.argsort(clusters["id"].astype(int))
    extra = {}
    if study:
        z = np.asarray(clusters["z"], float)[order]
        model = load_model(run / "model.keras")
        extra = {
            "z": z,
            **invariance(model, pixels, seed),
            "k_bic": bic_clusters(z, seed),
            **generation_landing(model, clusters["cluster"], seed),
        }
    return clusters["cluster"][order], initial.labels, extra


def run_references(z: np.ndarray, pixels: np.ndarray, truth, k: int, seed: int) -> dict:
    """Other partitions of the run's z (unsupervised) and the two linear probes (supervised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler, normalize

    fits = [
        GaussianMixture(k, covariance_type=kind, n_init=5, random_state=seed).fit(z)
        for kind in ("full", "diag")
    ]
    best = min(fits, key=lambda g: g.bic(z))
    out = {"fresh_gmm_z": best.predict(z)}
    unit = normalize(StandardScaler().fit_transform(z))
    fits = [
        GaussianMixture(k, covariance_type=kind, n_init=5, random_state=seed).fit(unit)
        for kind in ("full", "diag")
    ]
    out["gmm_l2_z"] = min(fits, key=lambda g: g.bic(unit)).predict(unit)
    out["scan_z"] = scan_partition(z, k, seed)
    flat = pixels.reshape(len(pixels), -1)
    reduced = PCA(n_components=min(20, flat.shape[1]), random_state=seed).fit_transform(flat)
    for name, features in (("probe_z", z), ("probe_pca20", reduced)):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
        out[name] = cross_val_predict(probe, features, truth, cv=5)
    return out


def scan_partition(z: np.ndarray, k: int, seed: int, *, neighbours: int = 20, entropy=5.0):
    """A SCAN-style partition of z: neighbours agree, the mean assignment stays spread.

    A softmax head p = softmax(W x + b) on the standardised z x is trained (Adam, full
    batch, 300 steps) on −(1/N) Σ_i mean_{j ∈ kNN(i)} log ⟨p_i, p_j⟩ − ``entropy`` · H(p̄),
    the kNN by cosine; then twice on the cross-entropy of the images with max p > 0.9
    against their own argmax (self-labelling, each class weighted by its inverse count).
    """
    import tensorflow as tf
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler, normalize

    x = StandardScaler().fit_transform(z).astype("float32")
    unit = normalize(x)
    nn = NearestNeighbors(n_neighbors=min(neighbours + 1, len(x)), metric="cosine").fit(unit)
    pairs = tf.constant(nn.kneighbors(unit, return_distance=False)[:, 1:])
    rng = np.random.default_rng(seed)
    weights = tf.Variable(rng.normal(0, 0.1, (x.shape[1], k)).astype("float32"))
    bias = tf.Variable(np.zeros(k, "float32"))
    inputs = tf.constant(x)

    def probabilities():
        return tf.nn.softmax(inputs @ weights + bias)

    def train(loss_of, steps):
        optimizer = tf.keras.optimizers.Adam(0.01)
        variables = [weights, bias]

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = loss_of(probabilities())
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))

        for _ in range(steps):
            step()

    def scan_loss(p):
        agree = tf.reduce_sum(p[:, None, :] * tf.gather(p, pairs), axis=-1)
        mean = tf.reduce_mean(p, axis=0)
        spread = -tf.reduce_sum(mean * tf.math.log(mean + 1e-12))
        return -tf.reduce_mean(tf.math.log(agree + 1e-12)) - entropy * spread

    train(scan_loss, 300)
    for _ in range(2):
        p = probabilities().numpy()
        confident = p.max(axis=1) > 0.9
        if not confident.any():
            break
        target = p.argmax(axis=1)
        counts = np.bincount(target[confident], minlength=k).astype("float32")
        weight = np.where(confident, 1.0 / np.maximum(counts[target], 1.0), 0.0)
        weight = tf.constant((weight / weight.sum()).astype("float32"))
        labels = tf.constant(target)

        def self_label(p, labels=labels, weight=weight):
            picked = tf.gather(p, labels, axis=1, batch_dims=1)
            return -tf.reduce_sum(weight * tf.math.log(picked + 1e-12))

        train(self_label, 100)
    return probabilities().numpy().argmax(axis=1)


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


def benchmark(name, images, truth, config, seeds, methods, variants, log=print, size=None):
    """The methods (and ablation variants) on one data set over the seeds: result rows.

    ``size`` is the side the set is read at (``data.image_size``; default the images' own).
    """
    rows, k = [], len(np.unique(truth))
    base = merge(
        {"data": {"image_size": size or images.shape[1]}, "model": {"n_clusters": k}},
        SET_OPTIONS.get(name, {}),
    )
    with tempfile.TemporaryDirectory() as data_dir:
        pixels = read_as_fit_does(config.replace(**base), images, Path(data_dir))
        for seed in seeds:
            cfg = config.replace(**merge(base, {"training": {"seed": seed}}))
            start, labels, extra = time.perf_counter(), {}, {}

            def train(changes, study=False, cfg=cfg, seed=seed):
                with tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "images.npy").symlink_to(Path(data_dir) / "images.npy")
                    return run_astrovader(cfg.replace(**changes), Path(tmp), seed, study)

            if "astrovader" in methods:
                labels["astrovader"], labels["astrovader_init"], extra = train({}, study=True)
            if "astrovader_paper" in methods:
                labels["astrovader_paper"] = train(PAPER_SMALL)[0]
            studied = {}
            for variant, change in variants.items():
                name_v = f"ablation:{variant}"
                labels[name_v], _, studied[name_v] = train(change, study=True)
                found = run_references(studied[name_v].pop("z"), pixels, truth, k, seed)
                labels[f"probe_z:{variant}"] = found["probe_z"]
                for reference in ("fresh_gmm_z", *NEIGHBOURHOODS):
                    labels[f"{reference}:{variant}"] = found[reference]
            if "ae_bgmm" in methods:
                labels["ae_bgmm"] = run_autoencoder_bgmm(cfg.replace(**PAPER_SMALL), pixels, seed)
            if "pcaJ_full" in methods:
                labels.update(run_baselines(pixels, k, cfg.model.latent_dim, seed))
            if "z" in extra and "fresh_gmm_z" in methods:
                labels.update(run_references(extra.pop("z"), pixels, truth, k, seed))
            extra.pop("z", None)
            for method, found in labels.items():
                row = {"data": name, "method": method, "seed": seed, **scores(truth, found)}
                rows.append(
                    {**row, **(extra if method == "astrovader" else {}), **studied.get(method, {})}
                )
            log(
                f"{name} seed {seed}: {time.perf_counter() - start:.0f} s  "
                + "  ".join(f"{r['method']} {r['acc']:.3f}" for r in rows[-len(labels) :])
                + "  "
                + "  ".join(f"{key} {value:.3f}" for key, value in extra.items())
            )
    return rows


def _mean_sd(values) -> str:
    values = [float(v) for v in values if v not in ("", None)]
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if values else "—"


def summarise(rows) -> str:
    """Markdown: mean ± sd per set and method, the lead over the best baseline, the goals."""
    lines = ["| data | method | seeds | ACC | NMI | ARI |", "| --- | --- | --- | --- | --- | --- |"]
    leads = [
        "",
        "| data | astrovader ACC | best baseline | its ACC | lead | fresh GMM on z | probe z |"
        " probe PCA20 | invariance flip / turn / shift | K by BIC | generated, landed min / mean |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for data in dict.fromkeys(r["data"] for r in rows):
        means = {}
        for method in dict.fromkeys(r["method"] for r in rows if r["data"] == data):
            sel = [r for r in rows if r["data"] == data and r["method"] == method]
            means[method] = np.mean([float(r["acc"]) for r in sel])
            cells = [_mean_sd(r[m] for r in sel) for m in ("acc", "nmi", "ari")]
            lines.append(f"| {data} | {method} | {len(sel)} | " + " | ".join(cells) + " |")
        found = {m: v for m, v in means.items() if m in BASELINES}
        if found and "astrovader" in means:
            best = max(found, key=found.get)
            lead = means["astrovader"] - found[best]
            ours = [r for r in rows if r["data"] == data and r["method"] == "astrovader"]
            refs = [
                _mean_sd(r["acc"] for r in rows if r["data"] == data and r["method"] == m)
                for m in REFERENCES
            ]
            inv = " / ".join(
                _mean_sd(r.get(f"inv_{t}") for r in ours) for t in ("flip", "rotate", "shift")
            )
            ks = ", ".join(str(r.get("k_bic", "")) for r in ours if r.get("k_bic", "") != "")
            landed = " / ".join(_mean_sd(r.get(f"gen_{t}") for r in ours) for t in ("min", "mean"))
            leads.append(
                f"| {data} | {_mean_sd(r['acc'] for r in ours)} | {best} | {found[best]:.3f} | "
                f"{lead:+.3f} | {' | '.join(refs)} | {inv} | {ks or '—'} | {landed} |"
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
    parser.add_argument(
        "--variants",
        default="",
        help="comma-separated ablation variants (default with --ablation: all)",
    )
    parser.add_argument("--tag", default="", help="suffix of the results CSV")
    parser.add_argument("--summarise", action="store_true", help="only rewrite clustering.md")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--n", type=int, default=1800, help="images of each GalSim family set")
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
        sets = {
            "synthetic": lambda: synthetic_set(100, 16),
            "gs_survey": lambda: family_set("gs_survey", 60, size=16),
        }
        seeds = [0]
    else:
        sets = {
            "synthetic": lambda: synthetic_set(2000, 32),
            "rotated": lambda: synthetic_set(2000, 32, seed=1, rotate=True),
            "digits": lambda: digits_set(None, 16),
            "synthetic10k": lambda: synthetic_set(10000, 32),
            **{name: functools.partial(family_set, name, args.n) for name in FAMILIES},
        }
        sets = {name: sets[name] for name in args.sets.split(",")}
    variants = ABLATIONS if args.ablation else {}
    if args.variants:
        variants = {name: ABLATIONS[name] for name in args.variants.split(",")}
    if not args.summarise:
        rows = []
        for name, make in sets.items():
            images, truth, *size = make()
            rows += benchmark(
                name,
                images,
                truth,
                config,
                seeds,
                methods,
                variants,
                log=lambda m: print(m, flush=True),
                size=size[0] if size else None,
            )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(args.out / f"clustering{args.tag and '_' + args.tag}.csv", out.getvalue())
    table = summarise(read_rows(args.out))
    write_text_atomic(args.out / "clustering.md", table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
