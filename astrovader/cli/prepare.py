"""``astrovader prepare RAW_DIR OUT``: the paper's preprocessing of SDSS cutouts."""

from __future__ import annotations

import argparse

from astrovader.cli._logging import say
from astrovader.cli._options import SIDE, integer, options_from

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``prepare`` command."""
    parser = subparsers.add_parser(
        "prepare",
        help="crop, grey and resize SDSS cutouts (or FITS stamps) into 8-bit PNGs (paper §2)",
        description=(
            "Centre-crop every JPEG/PNG under RAW_DIR, optionally average the bands "
            "(--grey), resize with an antialiased bilinear filter and write 8-bit PNGs "
            "under OUT with the same relative names. Every image HDU of a FITS file is one "
            "stamp, scaled from raw flux as 'astrovader fit' scales it (default [scaling]) and "
            "named by the readers' id (file[EXTNAME]). --split-ids keeps the files whose "
            "name holds a listed SDSS OBJID (the first run of 15+ digits). With --format "
            "tfrecord the images are packed into uint8 TFRecord shards under OUT instead "
            "(decoded once; 'astrovader fit OUT' and 'embed' stream them)."
        ),
    )
    parser.add_argument("raw", metavar="RAW_DIR", help="folder of cutouts (e.g. 256×256 gri)")
    parser.add_argument("out", metavar="OUT", help="output folder")
    parser.add_argument("--crop", type=integer(1, 65536), default=192, help="centre crop (192)")
    parser.add_argument("--size", type=SIDE, default=128, help="output side (128)")
    parser.add_argument("--grey", action="store_true", help="average the bands (paper)")
    parser.add_argument(
        "--stretch",
        action="store_true",
        help="min-max stretch each image to 0-255 (as the published download script)",
    )
    parser.add_argument("--split-ids", metavar="FILE.npy", help="OBJIDs to keep (.npy)")
    parser.add_argument(
        "--format",
        choices=("png", "tfrecord"),
        default="png",
        help="8-bit PNGs (default), or uint8 TFRecord shards that fit and embed stream",
    )
    parser.add_argument("--workers", type=integer(1, 1024), help="processes (default: all cores)")
    parser.add_argument(
        "--max-pixels",
        type=integer(1, 2**31),
        default=2**26,
        help="the most pixels one image may have, checked before decoding (2^26)",
    )
    parser.add_argument(
        "--max-bytes",
        type=integer(1, 2**40),
        default=2**27,
        help="the most bytes one image may hold as stored, checked before decoding (2^27)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _load_ids(path: str):
    import numpy as np

    from astrovader.errors import InputError

    try:
        ids = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read OBJIDs ({' '.join(str(exc).split())})") from None
    if ids.dtype.kind not in "iu":
        raise InputError(f"{path}: OBJIDs must be integers, got dtype {ids.dtype}")
    return ids


def run(args: argparse.Namespace) -> int:
    """Prepare the folder and print a one-line summary."""
    from astrovader.data.prepare import PrepareOptions, prepare_directory

    ids = _load_ids(args.split_ids) if args.split_ids else None
    options = options_from(PrepareOptions, args, progress=not args.quiet, output_format=args.format)
    done = prepare_directory(args.raw, args.out, options=options, split_ids=ids)
    extra = ""
    if ids is not None:
        extra = f"; {done.not_selected} not in the split, {done.missing} split OBJIDs without image"
    what = "PNGs" if args.format == "png" else "images in TFRecord shards"
    say(f"wrote {done.written} {what} ({args.size}×{args.size}) to {args.out}{extra}")
    return 0
