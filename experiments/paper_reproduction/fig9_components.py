"""Paper Fig. 9 from the published weights: synthetic galaxies per mixture component.

Usage:
    python experiments/paper_reproduction/fig9_components.py OUT [--weights H5]
        [--per-component 25] [--seed 0]

Writes into OUT:
    fig9_components.png   12 panels (4 rows × 3 columns, as in the paper's Figs. 6-9),
                          each a √n × √n grid of images decoded from z ~ N(μ_c, σ²_c)
    component_means.png   the decoded mixture means μ_c, one panel per component
    component_NN.png      each component's grid as an 8-bit grey PNG (no axes)
    mean_NN.png           each decoded mean μ_c as an 8-bit grey 128×128 PNG
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from astrovader._io import atomic_path
from astrovader.model.paper_weights import import_paper_weights

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[3] / "shared/paper/astrovader_paper_weights.h5"


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(images * 255 + 0.5), 0, 255).astype(np.uint8)


def tile(images: np.ndarray, columns: int) -> np.ndarray:
    """(n, S, S) images as one (rows·S, columns·S) mosaic, row by row."""
    rows = math.ceil(len(images) / columns)
    side = images.shape[1]
    mosaic = np.zeros((rows * side, columns * side), images.dtype)
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        mosaic[r * side : (r + 1) * side, c * side : (c + 1) * side] = image
    return mosaic


def save_png(path: Path, pixels: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")


def save_figure(path: Path, panels: list[np.ndarray], titles: list[str], title: str) -> None:
    k = len(panels)
    cols = 3
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, panel, label in zip(axes.ravel(), panels, titles, strict=False):
        ax.imshow(panel, cmap="gray", vmin=0, vmax=255)
        ax.set_title(label, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="published .h5")
    parser.add_argument("--per-component", type=int, default=25, help="images per component")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws")
    args = parser.parse_args(argv)

    model = import_paper_weights(args.weights)
    mix = model.mixture()
    weights = mix["pi"] / mix["pi"].sum()
    columns = math.isqrt(args.per_component - 1) + 1
    grids, means = [], to_uint8(model.decode(mix["mu"])[..., 0])
    for c in range(model.n_clusters):
        z, _ = model.sample_latents(args.per_component, c, seed=args.seed + c)
        grids.append(tile(to_uint8(model.decode(z)[..., 0]), columns))
        save_png(args.out / f"component_{c:02d}.png", grids[-1])
        save_png(args.out / f"mean_{c:02d}.png", means[c])
    titles = [f"component {c} (π/Σπ = {w:.3f})" for c, w in enumerate(weights)]
    save_figure(
        args.out / "fig9_components.png",
        grids,
        titles,
        f"Synthetic galaxies per component (paper Fig. 9), seed {args.seed}",
    )
    save_figure(
        args.out / "component_means.png", list(means), titles, "Decoded component means μ_c"
    )
    print(
        f"wrote fig9_components.png, component_means.png and 2×{model.n_clusters} PNGs "
        f"to {args.out}"
    )


if __name__ == "__main__":
    main()
