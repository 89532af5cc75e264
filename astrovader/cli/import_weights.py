"""``astrovader import-weights H5 --out model.keras``: the published network as a model file."""

from __future__ import annotations

import argparse

from astrovader.cli._logging import say

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``import-weights`` command."""
    parser = subparsers.add_parser(
        "import-weights",
        help="convert the published Keras 2 HDF5 weights to a model file",
        description=(
            "Read the published AstroVaDEr weights (Keras 2.3.1 HDF5, e.g. "
            "astrovader_paper_weights.h5), including the mixture prior, into the project's "
            "model and save it as a .keras file usable by every other command."
        ),
    )
    parser.add_argument("weights", metavar="H5", help="published HDF5 weights file")
    parser.add_argument("--out", required=True, metavar="MODEL", help="output .keras file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import, save atomically and print a one-line summary."""
    from astrovader._io import atomic_path, output_lock
    from astrovader.errors import AstrovaderError
    from astrovader.model.paper_weights import import_paper_weights

    if not args.out.endswith(".keras"):
        raise AstrovaderError(f"--out {args.out}: the model file name must end in .keras")
    model = import_paper_weights(args.weights)
    with output_lock(args.out), atomic_path(args.out) as tmp:
        model.save(tmp)
    size, bands = model.image_size, model.bands
    say(
        f"wrote {args.out}: {size}×{size}×{bands} images, J = {model.latent_dim}, "
        f"K = {model.n_clusters}, Σπ = {model.mixture()['pi'].sum():.3f}"
    )
    return 0
