"""AstroVaDEr against two-stage baselines on labelled images (ACC, NMI, ARI; mean ± std over seeds).

Data sets: (a) the built-in synthetic galaxies with their five known classes, (b) scikit-learn's
bundled handwritten digits (1,797 real 8×8 images, ten classes) resized to 16×16. Methods, on the
same data with the same K and the same number of epochs:

* ``astrovader``: the model trained by the s3VDC schedule of the quick-start preset
  (``astrovader/presets/quickstart.toml``, the small-image defaults), argmax γ;
* ``astrovader_init``: the same run's partition at the GMM initialisation (argmax γ of the prior
  fitted to the γ-trained embedding), before any joint training: the two-stage result of
  AstroVaDEr's own network, so the difference to ``astrovader`` is what joint training adds;
* ``kmeans_pixels``: k-means on the pixels;
* ``pca_gmm``: PCA to J dimensions, then a Gaussian mixture;
* ``ae_bgmm`` (Cheng et al. 2020): the same encoder–decoder trained as a plain autoencoder (MSE),
  then a Bayesian Gaussian mixture with K components on its embedding.

Usage::

    python experiments/benchmarks/clustering.py                 # full run, writes results/
    python experiments/benchmarks/clustering.py --tiny --out /tmp/bench   # seconds, for tests
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
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture

from astrovader._io import write_text_atomic
from astrovader.analysis.metrics import clustering_accuracy
from astrovader.config import load_config

METHODS = ("astrovader", "astrovader_init", "ae_bgmm", "pca_gmm", "kmeans_pixels")
# AstroVaDEr's random flips (method §1) are a symmetry of galaxy images, not of handwriting
# (a mirrored 2 is no digit): off for the digits. The other methods never augment.
FLIPS = {"synthetic": True, "digits": False}


def synthetic_set(n: int, size: int):
    """The built-in synthetic galaxies (seed 0) and their classes."""
    from astrovader.data.synthetic import synthetic_imageset

    imageset, records = synthetic_imageset(n, size, seed=0)
    return imageset.images, np.array([r["class"] for r in records])


def digits_set(n: int | None, size: int):
    """scikit-learn's handwritten digits, scaled to [0, 1] and resized to size×size."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[:n] / 16.0
    big = np.stack(
        [
            np.asarray(
                Image.fromarray(im.astype("float32"), mode="F").resize(
                    (size, size), Image.Resampling.BILINEAR
                )
            )
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
    """Train AstroVaDEr on the images (saved as .npy).

    Returns:
        argmax γ after training, and argmax γ of the prior just after its GMM initialisation.
    """
    import keras

    from astrovader.data.cluster_table import read_clusters
    from astrovader.training.run import fit_run

    class InitialPartition(keras.callbacks.Callback):
        """argmax γ at the start of epoch T_γ (after the run's GMMInitialisation callback)."""

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
    autoencoder.fit(
        images,
        images,
        epochs=config.schedule.total_epochs,
        batch_size=config.training.batch_size,
        verbose=0,
    )
    z = net.encode(images)[0]
    k = config.model.n_clusters
    return BayesianGaussianMixture(n_components=k, random_state=seed, max_iter=500).fit_predict(z)


def run_baselines(images, k: int, latent_dim: int, seed: int) -> dict[str, np.ndarray]:
    """k-means on pixels and PCA + Gaussian mixture, scikit-learn's standard settings."""
    pixels = images.reshape(len(images), -1)
    reduced = PCA(n_components=latent_dim, random_state=seed).fit_transform(pixels)
    return {
        "kmeans_pixels": KMeans(k, n_init=10, random_state=seed).fit_predict(pixels),
        "pca_gmm": GaussianMixture(k, random_state=seed).fit_predict(reduced),
    }


def benchmark(name, images, truth, config, seeds, log=print):
    """Every method on one data set over the seeds: rows of (data, method, seed, scores)."""
    rows = []
    k = len(np.unique(truth))
    for seed in seeds:
        cfg = config.replace(
            data={"image_size": images.shape[1], "flips": FLIPS[name]},
            model={"n_clusters": k},
            training={"seed": seed},
        )
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            final, initial = run_astrovader(cfg, images, Path(tmp))
        labels = {"astrovader": final, "astrovader_init": initial}
        labels["ae_bgmm"] = run_autoencoder_bgmm(cfg, images, seed)
        labels.update(run_baselines(images, k, cfg.model.latent_dim, seed))
        for method in METHODS:
            rows.append(
                {"data": name, "method": method, "seed": seed, **scores(truth, labels[method])}
            )
        log(
            f"{name} seed {seed}: {time.perf_counter() - start:.0f} s  "
            + "  ".join(f"{r['method']} ACC {r['acc']:.3f}" for r in rows[-len(METHODS) :])
        )
    return rows


def summarise(rows) -> str:
    """A markdown table of mean ± std per data set and method."""
    lines = ["| data | method | ACC | NMI | ARI |", "| --- | --- | --- | --- | --- |"]
    for data in dict.fromkeys(r["data"] for r in rows):
        for method in METHODS:
            sel = [r for r in rows if r["data"] == data and r["method"] == method]
            cells = [
                f"{np.mean([r[m] for r in sel]):.3f} ± {np.std([r[m] for r in sel]):.3f}"
                for m in ("acc", "nmi", "ari")
            ]
            lines.append(f"| {data} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    preset = resources.files("astrovader") / "presets" / "quickstart.toml"
    config = load_config(str(preset))
    if args.tiny:
        config = config.replace(
            schedule={"gamma_epochs": 1, "anneal_epochs": 1, "static_epochs": 1, "periods": 1},
            model={"filters": [4, 4, 4]},
            data={"validation_fraction": 0.1},
            training={"batch_size": 20},
        )
        sets = {"synthetic": synthetic_set(100, 16), "digits": digits_set(100, 16)}
        seeds = range(1)
    else:
        sets = {"synthetic": synthetic_set(2000, 32), "digits": digits_set(None, 16)}
        seeds = range(args.seeds)
    rows = []
    for name, (images, truth) in sets.items():
        rows += benchmark(name, images, truth, config, seeds, log=lambda m: print(m, flush=True))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(args.out / "clustering.csv", out.getvalue())
    table = summarise(rows)
    write_text_atomic(args.out / "clustering.md", table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
