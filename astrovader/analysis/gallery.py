"""Report sections made of images: reconstructions, members, generation, walks (Figs. 3–12).

Each function takes the report's :class:`Context`, writes its figures and
tables and returns an :class:`~astrovader.analysis.html.Section`. The model is
only called through its NumPy methods (``decode``, ``generate``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from astrovader.analysis import latent
from astrovader.analysis.figures import image_grid
from astrovader.analysis.html import Section
from astrovader.analysis.inputs import ReportInputs
from astrovader.analysis.route import EXACT_LIMIT, shortest_tour
from astrovader.analysis.tables import write_table

__all__ = [
    "GENERATION_DRAWS",
    "LANDING_GOAL",
    "LANDING_MIN_SHARE",
    "Context",
    "deblending",
    "generation",
    "landing",
    "members",
    "reconstructions",
    "route_section",
    "traversal",
]


GENERATION_DRAWS = 50
LANDING_GOAL = 0.8
LANDING_MIN_SHARE = 0.02


def landing(model, draws: int = GENERATION_DRAWS, *, seed: int = 0) -> np.ndarray:
    """Where galaxies generated from each component land when the model embeds them again.

    For each component c, ``draws`` latents z ~ N(μ_c, σ²_c) (seed ``seed + c``, as
    :meth:`~astrovader.model.vade.AstroVaDEr.generate` draws them) are decoded and
    embedded by the same model (its γ of the tied test views); a generated galaxy
    lands in the component of its largest γ.

    Args:
        model: An :class:`~astrovader.model.vade.AstroVaDEr`.
        draws: Galaxies generated from each component.
        seed: Seed of the draws.

    Returns:
        (K, K) int: row c counts where the galaxies generated from c landed (each row
        sums to ``draws``); its diagonal over ``draws`` is the share that stayed.
    """
    k = model.n_clusters
    counts = np.zeros((k, k), int)
    for c in range(k):
        found = model.predict_clusters(model.generate(draws, component=c, seed=seed + c))
        counts[c] = np.bincount(found, minlength=k)
    return counts


@dataclasses.dataclass
class Context:
    """Shared state of one report: the inputs, the output folder and derived arrays."""

    inputs: ReportInputs
    out: Path
    options: object
    labels: np.ndarray
    mse: np.ndarray
    rng: np.random.Generator

    @property
    def k(self) -> int:
        """Number of mixture components."""
        return self.inputs.gamma.shape[1]

    @property
    def occupied(self) -> list[int]:
        """The components that hold at least one object by argmax γ."""
        return [int(c) for c in np.flatnonzero(np.bincount(self.labels, minlength=self.k))]

    def figure(self, name: str) -> Path:
        """Stem of a figure file."""
        return self.out / "figures" / name

    def table(self, name: str) -> Path:
        """Stem of a table file."""
        return self.out / "tables" / name

    def decode(self, z) -> np.ndarray:
        """Images decoded from latent vectors of any leading shape (..., J)."""
        z = np.asarray(z, dtype="float32")
        flat = self.inputs.model.decode(z.reshape(-1, z.shape[-1]))
        return flat.reshape(*z.shape[:-1], *flat.shape[1:])


def reconstructions(ctx: Context) -> Section:
    """Random inputs, reconstructions and residuals; the lowest and highest MSE (Figs. 3–4)."""
    x, z, n = ctx.inputs.images, ctx.inputs.z, ctx.options.n_examples
    pick = np.sort(ctx.rng.choice(len(x), size=min(n, len(x)), replace=False))
    recon = ctx.decode(z[pick])
    image_grid(
        [x[pick], recon, x[pick] - recon],
        ctx.figure("reconstructions"),
        row_labels=["input", "reconstruction", "residual"],
        title="Random objects",
        residual_rows=(2,),
    )
    order = np.argsort(ctx.mse, kind="stable")
    m = min(5, len(order))
    low, high = order[:m], order[::-1][:m]
    image_grid(
        [x[low], ctx.decode(z[low]), x[high], ctx.decode(z[high])],
        ctx.figure("mse_extremes"),
        row_labels=["lowest MSE", "reconstruction", "highest MSE", "reconstruction"],
        title="Lowest and highest reconstruction error",
    )
    picked = np.concatenate([low, high])
    columns = {
        "kind": np.array(["lowest"] * m + ["highest"] * m),
        "rank": np.concatenate([np.arange(m), np.arange(m)]),
        "id": ctx.inputs.ids[picked],
        "mse": ctx.mse[picked],
        "component": ctx.labels[picked],
    }
    write_table(columns, ctx.table("mse_extremes"))
    return Section(
        "Reconstructions",
        [f"Mean per-object MSE {ctx.mse.mean():.4g} (median {np.median(ctx.mse):.4g})."],
        [
            ("figures/reconstructions", "Inputs, reconstructions and residuals (paper Fig. 3)"),
            ("figures/mse_extremes", "The five lowest and highest per-object MSE (paper Fig. 4)"),
        ],
        [("tables/mse_extremes", columns)],
    )


def members(ctx: Context) -> Section:
    """Per component: the highest-γ objects and a random selection (Figs. 6–7)."""
    x, gamma, n = ctx.inputs.images, ctx.inputs.gamma, ctx.options.n_examples
    occupied = ctx.occupied
    top = [latent.top_members(gamma, ctx.labels, component=c, n=n) for c in range(ctx.k)]
    image_grid(
        [x[i] for i in top],
        ctx.figure("top_gamma"),
        row_labels=[
            f"{c} ({np.sum(ctx.labels == c)})" if c in occupied else f"{c} (empty)"
            for c in range(ctx.k)
        ],
        title="Highest-γ members per component (count)",
    )
    rand = [latent.random_members(ctx.labels, c, n=n, rng=ctx.rng) for c in range(ctx.k)]
    image_grid(
        [x[i] for i in rand],
        ctx.figure("random_members"),
        row_labels=[f"{c} ({np.sum(ctx.labels == c)})" for c in range(ctx.k)],
        title="Random members per component (count)",
    )
    return Section(
        "Component members",
        [],
        [
            ("figures/top_gamma", "Highest-γ members of each component (paper Fig. 7)"),
            ("figures/random_members", "Random members of each component (paper Fig. 6)"),
        ],
    )


def generation(ctx: Context) -> Section:
    """Synthetic images drawn from each mixture component (Fig. 9), and where they land.

    Besides the gallery, :data:`GENERATION_DRAWS` galaxies generated from every
    component are embedded again (:func:`landing`): ``tables/generation`` has, per
    component, its share of the objects and of its generated galaxies that land in
    it, and the text names the components holding ≥ 2% of the objects whose share
    is below 80%, where generating "from a cluster" does not give that cluster.
    """
    model, n, seed = ctx.inputs.model, ctx.options.n_examples, ctx.options.seed
    occupied = ctx.occupied
    rows = [model.generate(n, component=c, seed=seed + c) for c in occupied]
    image_grid(rows, ctx.figure("generated"), row_labels=occupied, title="z ~ N(μ_c, σ²_c)")
    counts = landing(model, seed=seed)
    stayed = np.diag(counts) / counts.sum(axis=1)
    share = np.bincount(ctx.labels, minlength=ctx.k) / max(len(ctx.labels), 1)
    elsewhere = counts - np.diag(np.diag(counts))
    columns = {
        "component": np.arange(ctx.k),
        "share_of_objects": share,
        "generated": counts.sum(axis=1),
        "landed_in_component": stayed,
        "most_landed_elsewhere": np.argmax(elsewhere, axis=1),
    }
    write_table(columns, ctx.table("generation"))
    held = share >= LANDING_MIN_SHARE
    low = [int(c) for c in np.flatnonzero(held & (stayed < LANDING_GOAL))]
    text = [
        f"Of {GENERATION_DRAWS} galaxies generated from each component and embedded again by "
        "the model, the share that lands in it: "
        + ", ".join(f"{c}: {stayed[c]:.2f}" for c in range(ctx.k))
        + ".",
        (
            f"Below {LANDING_GOAL:.0%} for components holding ≥ {LANDING_MIN_SHARE:.0%} of "
            f"the objects: {', '.join(map(str, low))}; galaxies generated from them look "
            "more like another component's."
            if low
            else f"Every component holding ≥ {LANDING_MIN_SHARE:.0%} of the objects keeps at "
            f"least {LANDING_GOAL:.0%} of its generated galaxies."
        ),
    ]
    left_out = [c for c in range(ctx.k) if c not in occupied]
    if left_out:
        text.append(f"Empty components left out of the gallery: {', '.join(map(str, left_out))}.")
    return Section(
        "Generation",
        text,
        [
            ("figures/generated", "Synthetic galaxies per component (paper Fig. 9)"),
        ],
        [("tables/generation", columns)],
    )


def route_section(ctx: Context) -> Section:
    """The shortest closed route through the highest-γ objects, decoded along it (Fig. 10)."""
    stops = np.array([latent.top_gamma(ctx.inputs.gamma, c, 1)[0] for c in range(ctx.k)])
    points = ctx.inputs.z[stops]
    order, length = shortest_tour(points)
    legs = latent.route_latents(points, order, ctx.options.steps)
    nxt = order[1:] + order[:1]
    image_grid(
        ctx.decode(legs),
        ctx.figure("route"),
        row_labels=[f"{a} → {b}" for a, b in zip(order, nxt, strict=True)],
        title="Interpolation along the shortest route",
    )
    columns = {
        "position": np.arange(ctx.k),
        "component": np.array(order),
        "id": ctx.inputs.ids[stops[order]],
        "gamma": ctx.inputs.gamma[stops[order], order],
        "distance_to_next": np.linalg.norm(points[order] - points[nxt], axis=1),
    }
    write_table(columns, ctx.table("route"))
    method = "Held–Karp (exact)" if ctx.k <= EXACT_LIMIT else "nearest neighbour + 2-opt"
    return Section(
        "Interpolation route",
        [f"Closed route length {length:.4g} in latent space ({method})."],
        [("figures/route", "Decoded linear interpolation along the route (paper Fig. 10)")],
        [("tables/route", columns)],
    )


def traversal(ctx: Context) -> Section:
    """Each latent variable from its minimum through the mean to its maximum (Fig. 11)."""
    steps = ctx.options.traversal_steps
    grid = latent.traversal_latents(ctx.inputs.z, steps)
    labels = [""] * steps
    labels[0], labels[steps // 2], labels[-1] = "min", "mean", "max"
    image_grid(
        ctx.decode(grid),
        ctx.figure("traversal"),
        row_labels=[f"z_{j}" for j in range(len(grid))],
        col_labels=labels,
        title="Latent traversals",
    )
    return Section(
        "Latent traversals",
        [],
        [
            ("figures/traversal", "Each variable varied, the others at their mean (paper Fig. 11)"),
        ],
    )


def deblending(ctx: Context, morph) -> Section:
    """Interpolation from an object with companions to a lookalike (Fig. 12)."""
    x, z = ctx.inputs.images, ctx.inputs.z
    pairs = latent.deblending_pairs(
        x, ctx.inputs.gamma, morph=morph, n_pairs=ctx.options.n_examples
    )
    occupied = set(ctx.occupied)
    pairs = [
        p for p in pairs if p["source_component"] in occupied and p["target_component"] in occupied
    ]
    which = ", ".join(map(str, morph)) if morph else "all (none given)"
    if not pairs:
        return Section("Deblending", [f"Morphological components: {which}; no pair found."])
    rows = [
        np.concatenate(
            [
                x[[p["source"]]],
                ctx.decode(latent.interpolate(z[p["source"]], z[p["target"]], ctx.options.steps)),
                x[[p["target"]]],
            ]
        )
        for p in pairs
    ]
    image_grid(
        rows,
        ctx.figure("deblending"),
        row_labels=[f"{p['source_component']} → {p['target_component']}" for p in pairs],
        title="Deblending: input, interpolation, lookalike",
    )
    columns = {
        "source_id": ctx.inputs.ids[[p["source"] for p in pairs]],
        "source_component": np.array([p["source_component"] for p in pairs], dtype=int),
        "target_id": ctx.inputs.ids[[p["target"] for p in pairs]],
        "target_component": np.array([p["target_component"] for p in pairs], dtype=int),
        "mse": np.array([p["mse"] for p in pairs], dtype=float),
    }
    write_table(columns, ctx.table("deblending"))
    return Section(
        "Deblending",
        [f"Morphological components: {which}."],
        [("figures/deblending", "Input, latent interpolation, lowest-MSE lookalike (Fig. 12)")],
        [("tables/deblending", columns)],
    )
