"""Time to result: images on disk → clusters.csv, against PCA + GMM, and the cost of a step (#24).

Three measurements, on whatever hardware is present:

1. **Runs** (``--runs``): for each size N (synthetic galaxies written as 8-bit PNGs at
   ``--image`` px), ``astrovader fit DIR --config quickstart`` in a subprocess, and PCA to 20
   components + a full GaussianMixture on the same PNGs in another: wall seconds, CPU seconds
   and peak memory (``resource``, the children's maximum RSS). ``--schedule short`` runs one
   γ epoch and one joint period instead of the preset's 68 epochs, to show how the time grows
   with N on a machine too small for the whole schedule at 10⁵ images.
2. **Steps** (``--steps``): CPU seconds per image of a training step of the paper's method, the
   default method (random views, the held tied targets, EM prior) and a plain autoencoder
   of the same network (MSE), at 32, 64 and 128 px; the default method's per-epoch embedding of
   the tied views; the FLOPs per image of the network, and the fraction of the peak that a
   matmul of the same precision reaches in the same process.
3. The figures as Markdown (``--out``, default ``results/time_to_result.md``) and JSON.

    python experiments/benchmarks/time_to_result.py --runs 2000 --steps 32,64
    python experiments/benchmarks/time_to_result.py --runs 20000,100000 --schedule short
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PCA_GMM = """
import sys, time, numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from astrovader.data.images.readers import load_images
from astrovader.data.images.options import ReadOptions
start = time.perf_counter()
images = load_images(sys.argv[1], options=ReadOptions(size=int(sys.argv[2])), progress=False).images
x = PCA(20, random_state=0).fit_transform(images.reshape(len(images), -1))
labels = GaussianMixture(int(sys.argv[3]), covariance_type="full", random_state=0).fit_predict(x)
print(time.perf_counter() - start)
"""


MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
use = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = round(use.ru_utime + use.ru_stime, 1)
print(json.dumps({"rc": done.returncode, "err": done.stderr[-2000:], "wall_s": round(wall, 1),
                  "cpu_s": cpu, "peak_mb": use.ru_maxrss // 1024}))
"""


def _child(command: list[str]) -> dict:
    """Wall and CPU seconds and the peak RSS (MB) of one command, measured by its own parent."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    if figures.pop("rc"):
        raise RuntimeError(f"{command[:3]} failed: {figures['err']}")
    figures.pop("err")
    return figures


def time_runs(sizes, image: int, schedule: str, workdir: Path) -> list[dict]:
    """``astrovader fit`` and PCA + GMM on N synthetic PNGs written to disk, for each N."""
    command = shutil.which("astrovader") or str(Path(sys.executable).with_name("astrovader"))
    rows = []
    for n in sizes:
        data = workdir / f"png{n}"
        if not data.exists():
            subprocess.run(
                [command, "simulate", str(data), "--n", str(n), "--size", str(image), "--quiet"],
                check=True,
                capture_output=True,
            )
        sets = ["--set", f"data.image_size={image}"]
        if schedule == "short":
            sets += [
                "--set=schedule.gamma_epochs=1",
                "--set=schedule.anneal_epochs=1",
                "--set=schedule.static_epochs=0",
                "--set=schedule.periods=1",
            ]
        run = workdir / f"run{n}"
        options = ["--config", "quickstart", *sets, "--overwrite", "--progress", "none"]
        fit = _child([command, "fit", str(data), *options, "--out", str(run)])
        epochs = 2 if schedule == "short" else 68
        baseline = _child([sys.executable, "-c", PCA_GMM, str(data), str(image), "5"])
        rows.append(
            {
                "images": n,
                "image_px": image,
                "schedule": schedule,
                "fit": fit,
                "fit_s_per_image_epoch": round(fit["wall_s"] / (n * epochs), 6),
                "pca_gmm": baseline,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _cpu(fn, repeats=3) -> float:
    fn()
    best = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best.append(time.process_time() - start)
    return min(best)


def time_steps(sizes, n: int = 256) -> list[dict]:
    """CPU seconds per image of the three steps and of the held views, and the peak fraction."""
    from astrovader.config import load_config
    from astrovader.training import precision

    policy = precision.resolve_precision("auto")
    preset = load_config(str(HERE.parents[1] / "astrovader" / "presets" / "quickstart.toml"))
    rows = []
    for size in sizes:
        rows.append(_step_figures(preset.replace(data={"image_size": size}), policy, n))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _step_figures(config, policy: str, n: int) -> dict:
    import keras
    import tensorflow as tf

    from astrovader.config import PAPER_METHOD
    from astrovader.model.vade import AstroVaDEr
    from astrovader.training import precision
    from astrovader.training.mixture.tied_views import TiedViews

    size = config.data.image_size
    x = np.random.default_rng(0).random((n, size, size, 1)).astype("float32")
    k, j = config.model.n_clusters, config.model.latent_dim

    def build(cfg):
        with precision.dtype_policy(policy):
            model = AstroVaDEr.from_settings(cfg)
        model.compile(keras.optimizers.Adam(1e-3))
        means = np.random.default_rng(1).normal(size=(k, j))
        model.prior.set_mixture(np.full(k, 1 / k), means, var=np.ones((k, j)))
        model.gmm_weight.assign(0.05)
        model.consistency_weight.assign(1.0)
        return model

    paper = build(config.replace(**PAPER_METHOD).replace(model={"l2": 1e-4}))
    default = build(config)
    tied = TiedViews(
        x, config.augment.tied_views, latent_dim=j, batch_size=config.training.batch_size
    )
    batch = config.training.batch_size
    plain_ds = tf.data.Dataset.from_tensor_slices(x).batch(batch)
    tied_ds = tf.data.Dataset.range(n).batch(batch).map(lambda r: (tf.gather(x, r), tied.rows(r)))
    with precision.dtype_policy(policy):
        inputs = keras.Input(x.shape[1:])
        plain = keras.Model(inputs, default.decoder(default.encoder(inputs)[0]))
    plain.compile(keras.optimizers.Adam(1e-3), loss="mse")
    pairs = tf.data.Dataset.from_tensor_slices((x, x)).batch(batch)
    seconds = {
        "paper": _cpu(lambda: paper.fit(plain_ds, epochs=1, verbose=0)),
        "default": _cpu(lambda: default.fit(tied_ds, epochs=1, verbose=0)),
        "plain": _cpu(lambda: plain.fit(pairs, epochs=1, verbose=0)),
        "tied_views": _cpu(lambda: tied.refresh(default, 0)),
    }
    flops = 6 * _macs(default)  # forward 2·MACs, backward twice the forward
    dtype = tf.bfloat16 if policy == "mixed_bfloat16" else tf.float32
    a = tf.cast(tf.random.normal((2048, 2048)), dtype)
    matmul = tf.function(lambda: tf.matmul(a, a))
    peak = 10 * 2 * 2048**3 / _cpu(lambda: [matmul() for _ in range(10)]) / 1e9
    per_image = {key: value / n for key, value in seconds.items()}
    achieved = flops / per_image["paper"] / 1e9
    return {
        "image_px": size,
        "policy": policy,
        "cpu_ms_per_image": {key: round(1e3 * v, 3) for key, v in per_image.items()},
        "default_epoch_over_paper": round(
            (per_image["default"] + per_image["tied_views"]) / per_image["paper"], 3
        ),
        "paper_over_plain": round(per_image["paper"] / per_image["plain"], 3),
        "train_mflop_per_image": round(flops / 1e6, 1),
        "achieved_gflops_per_cpu_s": round(achieved, 1),
        "matmul_peak_gflops_per_cpu_s": round(peak, 1),
        "fraction_of_peak": round(achieved / peak, 3),
    }


def _macs(model) -> int:
    import keras

    total = 0
    for part in (model.encoder, model.decoder):
        for layer in part.layers:
            if isinstance(layer, keras.layers.Conv2D):
                h, w, _ = layer.output.shape[1:]
                total += h * w * int(np.prod(layer.kernel.shape))
            elif isinstance(layer, keras.layers.Dense):
                total += int(np.prod(layer.kernel.shape))
    return total


def markdown(figures: dict) -> str:
    """The figures as tables."""
    lines = [f"# Time to result ({figures['machine']})", ""]
    if figures.get("runs"):
        lines += [
            "| images | px | schedule | fit wall s | fit CPU s | fit peak MB | s per image·epoch"
            " | PCA+GMM wall s | PCA+GMM peak MB |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in figures["runs"]:
            f, b = r["fit"], r["pca_gmm"]
            lines.append(
                f"| {r['images']:,} | {r['image_px']} | {r['schedule']} | {f['wall_s']} | "
                f"{f['cpu_s']} | {f['peak_mb']} | {r['fit_s_per_image_epoch']:.2e} | "
                f"{b['wall_s']} | {b['peak_mb']} |"
            )
        lines.append("")
    if figures.get("steps"):
        lines += [
            "| px | policy | paper ms/img | default ms/img | tied views ms/img | plain ms/img |"
            " default epoch / paper | MFLOP/img | GFLOP/CPU-s | matmul peak | fraction |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in figures["steps"]:
            ms = r["cpu_ms_per_image"]
            lines.append(
                f"| {r['image_px']} | {r['policy']} | {ms['paper']} | {ms['default']} | "
                f"{ms['tied_views']} | {ms['plain']} | {r['default_epoch_over_paper']} | "
                f"{r['train_mflop_per_image']} | {r['achieved_gflops_per_cpu_s']} | "
                f"{r['matmul_peak_gflops_per_cpu_s']} | {r['fraction_of_peak']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="", help="comma-separated image counts")
    parser.add_argument("--image", type=int, default=32, help="image side of the runs")
    parser.add_argument("--schedule", choices=("preset", "short"), default="preset")
    parser.add_argument("--steps", default="", help="comma-separated image sides")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "time_to_result.md")
    parser.add_argument("--workdir", type=Path, help="keep the PNGs and runs here")
    args = parser.parse_args(argv)
    figures = {"machine": f"{os.cpu_count()} CPUs, {os.uname().machine}"}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.runs:
            sizes = [int(v) for v in args.runs.split(",")]
            figures["runs"] = time_runs(sizes, args.image, args.schedule, workdir)
    if args.steps:
        figures["steps"] = time_steps([int(v) for v in args.steps.split(",")])
    text = markdown(figures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(figures, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
