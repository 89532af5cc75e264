"""``astrovader embed MODEL DATA --out TABLE``: cluster assignments for data larger than memory."""

from __future__ import annotations

import argparse
from pathlib import Path

from astrovader.cli._logging import say
from astrovader.cli._options import BATCH, integer
from astrovader.config.rules import MAX_LIKELIHOOD_SAMPLES
from astrovader.errors import AstrovaderError, InputError

__all__ = ["register", "run"]


def _shard(text: str):
    """``I/N`` as a :class:`~astrovader.data.tables.parts.Part` (else argparse's one-line error)."""
    from astrovader.data.tables.parts import Part

    try:
        return Part.parse(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers) -> None:
    """Add the ``embed`` command."""
    parser = subparsers.add_parser(
        "embed",
        help="stream images through a model into a table of id, cluster, γ and z",
        description=(
            "Read DATA batch by batch (a folder of images, a .npy array, memory-mapped, or a "
            "TFRecord directory from 'astrovader prepare --format tfrecord'), and write each "
            "image's id, cluster (argmax γ), γ and z (the embedding μ̃) to TABLE: .csv (the "
            "columns of clusters.csv) or .fits (a CLUSTERS binary table with vector columns "
            "gamma and z). Memory stays bounded by one batch; the table appears only when "
            "complete. MODEL is a .keras file, a run directory or the published .h5; without "
            "DATA, a run directory's own images are embedded. With a run directory and DATA, "
            "the table is also indexed in RUN/index/ for 'astrovader similar --data DATA'."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help=".keras model, run directory or .h5")
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help="folder of images, catalogue, .npy or TFRecord directory (default, for a run "
        "directory: the run's own images)",
    )
    parser.add_argument("--out", required=True, metavar="TABLE", help="output .csv or .fits")
    parser.add_argument(
        "--batch-size",
        type=BATCH,
        default=180,
        help="images per batch (180, the paper's training batch: with the min-max transform "
        "γ depends on the batch; the cluster and z do not)",
    )
    parser.add_argument(
        "--likelihood-samples",
        type=integer(0, MAX_LIKELIHOOD_SAMPLES),
        default=8,
        metavar="S",
        help="draws of the scores: log_likelihood, an importance-sampled log p(x), and "
        "anomaly_score, the same corrected for input complexity in bits (low: anomalous) "
        f"(8; S decoder passes per image, at most {MAX_LIKELIHOOD_SAMPLES}; 0: no score columns)",
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="embed only the I-th of N contiguous parts of DATA (1 ≤ I ≤ N; e.g. "
        "$SLURM_ARRAY_TASK_ID/N), split along whole batches; the table records the part "
        "for 'astrovader merge' (and no similarity index is built)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing TABLE")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _run(model: str):
    """The run directory ``model`` names, or None for a model file."""
    from astrovader.training.rundir.directory import RunDirectory

    if not Path(model).is_dir():
        return None
    run = RunDirectory(model)
    if not run.config_path.is_file():
        raise AstrovaderError(f"{model}: not a run directory (no config.toml)")
    return run


def _data(args, run):
    """DATA, or a run's own images (its data path, or its built-in synthetic set)."""
    from astrovader.data.pipelines.stream import memory_stream

    if args.data is not None:
        return args.data
    if run is None:
        raise AstrovaderError(f"{args.model}: DATA is needed unless MODEL is a run directory")
    return run.config.data.path or memory_stream(run.images())


def run(args: argparse.Namespace) -> int:
    """Embed the data and print a one-line summary."""
    from astrovader.data.tables.clusters import TABLE_SUFFIXES

    if not Path(args.model).exists():  # before TensorFlow loads
        raise AstrovaderError(f"{args.model}: no such model file")
    from astrovader.inference.embed import embed_to_table
    from astrovader.model.loading import open_model

    out = Path(args.out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise AstrovaderError(f"{out}: the table must end in .csv or .fits")
    if out.exists() and not args.overwrite:
        raise AstrovaderError(f"{out}: exists; use --overwrite to replace it")
    from astrovader.data.images.options import ReadOptions

    run = _run(args.model)
    model = open_model(args.model)
    rows = embed_to_table(
        model,
        _data(args, run),
        out=out,
        batch_size=args.batch_size,
        progress=not args.quiet,
        model_name=args.model,
        command=args.command_line,
        options=ReadOptions.from_config(run.config) if run is not None else None,
        likelihood_samples=args.likelihood_samples,
        part=args.shard,
    )
    if run is not None and args.data is not None and args.shard is None:
        from astrovader.training.rundir.index import build_index, data_name

        build_index(run, out, name=data_name(args.data), data=args.data)
    part = "" if args.shard is None else f" of part {args.shard}"
    say(
        f"astrovader embed: wrote {rows} rows{part} (id, cluster, γ over {model.n_clusters} "
        f"components, z in {model.latent_dim} dimensions) to {out}"
    )
    return 0
