"""Throughput of astrovader at the paper's configuration (128×128, batch 180).

Measures, in one run and on whatever hardware is present:

* training images/s of the AstroVaDEr step (VaDE phase: full loss, prior trainable,
  clipping on) and of a plain ``keras.Model.fit`` of the same encoder–decoder with
  an MSE loss; their ratio is the cost of the VaDE machinery (target ≤ 1.10);
* the loader alone: TFRecord shards → shuffle → batch → decode → flip → prefetch,
  and the in-memory pipeline (target: ≥ 5× the training images/s);
* embedding (γ and z) and generation images/s;
* with ``--options``, the training step under each precision and XLA setting
  (the measurements behind ``training.precision = auto`` and ``training.xla = auto``);
* on a GPU machine, the figures against the paper's (method §8).

Timings alternate the two models step block by step block and report medians,
so that a shared machine's load drifts out of the ratio.

    python experiments/benchmarks/throughput.py --quick          # a CPU: minutes
    python experiments/benchmarks/throughput.py --json out.json  # a GPU machine
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from astrovader.config import Config
from astrovader.data.pipelines.memory import EpochCounter, training_dataset
from astrovader.data.pipelines.shards import shard_training_dataset as tfrecord_dataset
from astrovader.data.pipelines.shards import write_tfrecords
from astrovader.model.vade import AstroVaDEr
from astrovader.training import distribute, precision

# method §8: the paper's figures (V100s) in images/s, and the GPUs they used.
PAPER = {"training": (1300, 2), "embedding": (4000, 3), "generation": (4600, 3)}


def _images(n, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 1), dtype=np.uint8)


def _vade(config, policy, xla):
    with precision.dtype_policy(policy):
        model = AstroVaDEr.from_settings(config)
    k, j = config.model.n_clusters, config.model.latent_dim
    rng = np.random.default_rng(0)
    model.prior.set_mixture(np.full(k, 1 / k), rng.normal(0, 1, (k, j)), var=np.ones((k, j)))
    model.kl_weight.assign(1.0)
    model.gmm_weight.assign(1.0)
    model.clip_value.assign(config.optimizer.clip_value)
    optimizer = precision.wrap_optimizer(keras.optimizers.Adam(3e-4), policy)
    model.compile(optimizer=optimizer, jit_compile=xla)
    return model


def _plain(config, policy, xla):
    """The same encoder–decoder as a plain Keras model: x → μ̃ → x̂, MSE loss."""
    with precision.dtype_policy(policy):
        net = AstroVaDEr.from_settings(config)
        encoder, decoder = net.encoder, net.decoder
        inputs = keras.Input(encoder.input_shape[1:])
        model = keras.Model(inputs, decoder(encoder(inputs)[0]))
    optimizer = precision.wrap_optimizer(keras.optimizers.Adam(3e-4), policy)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=xla)
    return model


class _StepClock(keras.callbacks.Callback):
    """Wall-clock and CPU seconds of each training step after the first of a ``fit``."""

    def on_train_begin(self, logs=None):
        self.wall, self.cpu, self.last = [], [], None

    def on_train_batch_end(self, batch, logs=None):
        now = (time.perf_counter(), time.process_time())
        if self.last is not None:
            self.wall.append(now[0] - self.last[0])
            self.cpu.append(now[1] - self.last[1])
        self.last = now


def _step_seconds(model, data, steps, supervised):
    """Median wall-clock and CPU (all threads of this process) seconds of one step.

    The first step of each ``fit`` (iterator start-up) is not counted.
    """
    ds = data.map(lambda x: (x, x)) if supervised else data
    clock = _StepClock()
    model.fit(ds, epochs=1, steps_per_epoch=steps + 1, verbose=0, shuffle=False, callbacks=[clock])
    return statistics.median(clock.wall), statistics.median(clock.cpu)


def time_training(config, args, strategy, policy, xla):
    """Images/s of the AstroVaDEr step and of the plain autoencoder, and their ratio."""
    batch = config.training.batch_size
    x = _images(batch * 2, config.data.image_size).astype("float32") / 255
    data = tf.data.Dataset.from_tensor_slices(x).repeat().batch(batch).prefetch(2)
    with strategy.scope():
        vade, plain = _vade(config, policy, xla), _plain(config, policy, xla)
    for model, supervised in ((vade, False), (plain, True)):
        _step_seconds(model, data, 1, supervised)  # trace, compile, warm up
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(_step_seconds(vade, data, args.steps, False))
        theirs.append(_step_seconds(plain, data, args.steps, True))
    wall = [a[0] / b[0] for a, b in zip(ours, theirs, strict=True)]
    cpu = [a[1] / b[1] for a, b in zip(ours, theirs, strict=True)]
    return {
        "training_images_per_s": batch / statistics.median(a[0] for a in ours),
        "plain_autoencoder_images_per_s": batch / statistics.median(b[0] for b in theirs),
        "vade_over_plain_step_time": statistics.median(wall),
        "vade_over_plain_step_time_each_repeat": wall,
        "vade_over_plain_cpu_time": statistics.median(cpu),
        "vade_over_plain_cpu_time_each_repeat": cpu,
        "model": vade,
    }


def time_loader(config, args, workdir):
    """Images/s of the TFRecord and in-memory training pipelines alone (2 epochs)."""
    size, batch = config.data.image_size, config.training.batch_size
    pixels = _images(args.loader_images, size, seed=1)
    shards = write_tfrecords(
        f"{workdir}/shards",
        ((f"g{i}", p) for i, p in enumerate(pixels)),
        count=len(pixels),
        shard_bytes=max(1, len(pixels) // 8) * pixels[0].nbytes,
        progress=False,
    )
    pipelines = {
        "loader_tfrecord_images_per_s": tfrecord_dataset(shards, batch, seed=0, flips=True),
        "loader_in_memory_images_per_s": training_dataset(
            pixels / np.float32(255), batch, seed=0, flips=True, counter=EpochCounter()
        ),
    }
    out = {}
    for name, ds in pipelines.items():
        for _ in ds.take(2):  # start the threads
            pass
        start = time.perf_counter()
        count = sum(int(b.shape[0]) for _ in range(2) for b in ds)
        out[name] = count / (time.perf_counter() - start)
    return out


def time_inference(model, config, args):
    """Images/s of embedding (γ, z) and of generation, batches of the training size."""
    batch = config.training.batch_size
    x = _images(batch * args.steps, config.data.image_size, seed=2).astype("float32") / 255
    model.embed(x[:batch], batch)
    start = time.perf_counter()
    model.embed(x, batch)
    embed = len(x) / (time.perf_counter() - start)
    for _ in model.iter_generate(batch, seed=0, batch_size=batch):
        pass
    start = time.perf_counter()
    n = sum(len(images) for images, _ in model.iter_generate(len(x), seed=0, batch_size=batch))
    return {
        "embedding_images_per_s": embed,
        "generation_images_per_s": n / (time.perf_counter() - start),
    }


def time_options(config, args, strategy, gpus):
    """Training images/s of the AstroVaDEr step under each precision and XLA setting.

    XLA is timed only with GPUs (``gpus``, their names) or ``--cpu-xla``.
    """
    out = {}
    batch = config.training.batch_size
    x = _images(batch * 2, config.data.image_size).astype("float32") / 255
    data = tf.data.Dataset.from_tensor_slices(x).repeat().batch(batch).prefetch(2)
    for policy in ("float32", "mixed_bfloat16", "mixed_float16"):
        for xla in (False, True):
            if xla and (strategy.num_replicas_in_sync > 1 or not (gpus or args.cpu_xla)):
                continue
            with strategy.scope():
                model = _vade(config, policy, xla)
            _step_seconds(model, data, 1, False)
            seconds = min(
                _step_seconds(model, data, args.steps, False)[0] for _ in range(args.repeats)
            )
            name = f"{policy}, XLA {'on' if xla else 'off'}"
            out[name] = batch / seconds
            print(f"  {name}: {out[name]:.3f} images/s", flush=True)
            del model  # one model's activations at a time: ~8 GB at 128² × 180 in float32
            keras.backend.clear_session()
            gc.collect()
    return out


def show(figures):
    """Print figures as they are measured."""
    for name, value in figures.items():
        if isinstance(value, float):
            print(f"{name:42s} {value:12.3f}", flush=True)
        elif isinstance(value, dict):
            print(f"{name}:")
            for key, v in value.items():
                print(f"  {key:40s} {v:12.3f}", flush=True)
        else:
            print(f"{name:42s} {value}", flush=True)


def report(figures, gpus, replicas):
    """Print the targets and, with GPUs, the figures against the paper's (method §8)."""
    train = figures["training_images_per_s"]
    loader = figures["loader_tfrecord_images_per_s"] / train
    overhead = figures["vade_over_plain_step_time"]
    print(f"target loader ≥ 5× training:   {loader:8.1f}×  {'PASS' if loader >= 5 else 'FAIL'}")
    print(
        f"target VaDE ≤ 1.10× plain step: {overhead:8.3f}×  {'PASS' if overhead <= 1.1 else 'FAIL'}"
    )
    if not gpus:
        print("no GPU: the paper's V100 figures (method §8) are not compared")
        return
    for key, (paper, paper_gpus) in PAPER.items():
        ours = figures[f"{key}_images_per_s"]
        per_gpu = f"per GPU: ours {ours / replicas:.0f}, paper {paper / paper_gpus:.0f}"
        print(
            f"{key:12s} ours {ours:9.0f} img/s on {replicas} × {gpus[0]}; "
            f"paper {paper} img/s on {paper_gpus} V100 ({per_gpu})"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps (a CPU)")
    parser.add_argument("--steps", type=int, help="training steps per timed block")
    parser.add_argument("--repeats", type=int, help="timed blocks per model")
    parser.add_argument("--loader-images", type=int, help="images in the loader test")
    parser.add_argument("--precision", default="auto", help="training.precision")
    parser.add_argument("--xla", default="auto", help="training.xla")
    parser.add_argument("--strategy", default="auto", help="training.strategy")
    parser.add_argument("--options", action="store_true", help="time each precision and XLA")
    parser.add_argument(
        "--cpu-xla",
        action="store_true",
        help="with --options on a CPU, time XLA too (compiling the 128² step took > 19 GB RAM)",
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    args.steps = args.steps or (2 if args.quick else 20)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.loader_images = args.loader_images or (1440 if args.quick else 18000)
    strategy = distribute.make_strategy(args.strategy)
    config = Config()  # the paper's: 128×128 grey, batch 180, J = 20, K = 12
    replicas = strategy.num_replicas_in_sync
    policy = precision.resolve_precision(args.precision)
    xla = precision.resolve_xla(args.xla, replicas)
    gpus = [
        tf.config.experimental.get_device_details(g).get("device_name", "GPU")
        for g in tf.config.list_physical_devices("GPU")
    ]
    figures = {
        "device": ", ".join(gpus) or f"CPU ({os.cpu_count()} cores)",
        "replicas": replicas,
        "precision": policy,
        "xla": "on" if xla else "off",
    }
    show(figures)
    training = time_training(config, args, strategy, policy, xla)
    model = training.pop("model")
    show(training)
    figures.update(training)
    inference = time_inference(model, config, args)
    del model
    keras.backend.clear_session()
    gc.collect()
    show(inference)
    figures.update(inference)
    with tempfile.TemporaryDirectory() as workdir:
        loader = time_loader(config, args, workdir)
    show(loader)
    figures.update(loader)
    if args.options:
        options = {"training_images_per_s_by_option": time_options(config, args, strategy, gpus)}
        show(options)
        figures.update(options)
    report(figures, gpus, replicas)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
