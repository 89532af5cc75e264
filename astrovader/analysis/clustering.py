"""Report sections of numbers: occupancy, mean γ, metrics, t-SNE, labels, GZ2.

Paper Table 2 and Figs. 5, 13–14.
"""

from __future__ import annotations

import numpy as np
from sklearn.manifold import TSNE

from astrovader.analysis import charts, metrics
from astrovader.analysis.gallery import Context
from astrovader.analysis.gz2 import gz2_counts, match
from astrovader.analysis.html import Section
from astrovader.analysis.tables import write_table

__all__ = [
    "EXACT_TSNE",
    "galaxy_zoo",
    "mean_gamma",
    "metric_notes",
    "occupancy_section",
    "scores",
    "tsne_map",
    "tsne_points",
]

EXACT_TSNE = 500


def occupancy_section(ctx: Context, silhouette: np.ndarray) -> Section:
    """Objects per component by argmax and above the γ cuts; mean silhouette (Table 2)."""
    cuts = ctx.options.gamma_cuts
    counts = metrics.occupancy(ctx.inputs.gamma, cuts)
    pi = ctx.inputs.model.mixture()["pi"]
    weight = pi / pi.sum()
    share = np.bincount(ctx.labels, minlength=ctx.k) / max(len(ctx.labels), 1)
    columns = {
        "component": np.arange(ctx.k),
        "weight": weight,
        "share": share,
        **{f"n_{name}": values for name, values in counts.items()},
        "mean_silhouette": metrics.per_component_mean(silhouette, ctx.labels, ctx.k),
    }
    write_table(columns, ctx.table("occupancy"))
    charts.grouped_bars(counts, ctx.figure("occupancy"), "Occupancy per component")
    anywhere = [int(np.any(ctx.inputs.gamma > cut, axis=1).sum()) for cut in cuts]
    text = [
        f"Objects with γ above {cut:g} in some component: {n} of {len(ctx.labels)}."
        for cut, n in zip(cuts, anywhere, strict=True)
    ]
    worst = int(np.argmax(np.abs(share - weight)))
    text.append(
        "weight is the prior π_c of the mixture; share is the fraction of objects whose argmax "
        "γ is c. They differ where components overlap or differ in width: a broad component "
        "takes the argmax of objects in the tails of narrow ones, so its share exceeds its "
        f"weight. Largest difference: component {worst}, weight {weight[worst]:.2f} against "
        f"share {share[worst]:.2f}."
    )
    empty = [c for c in range(ctx.k) if share[c] == 0]
    if empty:
        text.append(
            f"Empty components (no object by argmax γ): {', '.join(map(str, empty))}; they are "
            "left out of the galleries, generation and deblending."
        )
    return Section(
        "Occupancy",
        text,
        [("figures/occupancy", "Occupancy by argmax γ and γ cuts")],
        [("tables/occupancy", columns)],
    )


def mean_gamma(ctx: Context) -> Section:
    """The mean γ in every component of the objects labelled c (Fig. 5)."""
    matrix = metrics.mean_gamma_matrix(ctx.inputs.gamma)
    columns = {
        "component": np.arange(ctx.k),
        "n": np.bincount(ctx.labels, minlength=ctx.k),
        **{f"gamma_{c}": matrix[:, c] for c in range(ctx.k)},
    }
    write_table(columns, ctx.table("mean_gamma"))
    charts.heatmap(
        matrix,
        ctx.figure("mean_gamma"),
        xlabel="component of γ",
        ylabel="label (argmax γ)",
        title="Mean γ of each label's objects",
    )
    return Section(
        "Mean γ matrix",
        [
            "Row c (of the figure and the table): the mean γ in each component of the objects "
            "labelled c; a row without objects is blank."
        ],
        [("figures/mean_gamma", "Mean γ per label and component (paper Fig. 5)")],
        [("tables/mean_gamma", columns)],
    )


def tsne_points(z: np.ndarray, seed: int = 0) -> np.ndarray:
    """The t-SNE map (n, 2) of embeddings (n ≥ 5), exact up to :data:`EXACT_TSNE` points."""
    tsne = TSNE(
        2,
        perplexity=min(30.0, (len(z) - 1) / 3),
        init="pca",
        method="exact" if len(z) <= EXACT_TSNE else "barnes_hut",
        random_state=seed,
        n_jobs=-1,
    )
    return tsne.fit_transform(np.asarray(z, np.float64))


def tsne_map(ctx: Context) -> tuple[str, str] | None:
    """A t-SNE map of at most ``options.tsne_max`` embeddings coloured by component.

    None (no map) when fewer than five points would be drawn. Up to
    :data:`EXACT_TSNE` points use the exact gradient, faster than Barnes–Hut there
    (about 1 s against 9 s of CPU for 120 points; Barnes–Hut wins by 2,000). The
    gradient runs on every core (``n_jobs=-1``): it is the slowest part of a report,
    about 10 s of CPU for 2,000 points over scikit-learn's 1,000 iterations (500 would
    halve it but left the KL divergence 15 % higher, 0.85 against 0.74, on a
    2,000-object run, so the map keeps them).
    """
    z = ctx.inputs.z
    n = min(len(z), ctx.options.tsne_max)
    if n < 5:
        return None
    pick = np.sort(ctx.rng.choice(len(z), size=n, replace=False))
    points = tsne_points(z[pick], ctx.options.seed)
    charts.scatter_map(
        points, ctx.labels[pick], stem=ctx.figure("tsne"), title=f"t-SNE of {len(pick)} embeddings"
    )
    return ("figures/tsne", "t-SNE map coloured by component")


def metric_notes(labels, truth, k: int) -> dict[str, str]:
    """One line per headline metric: what it measures, its direction and its chance level.

    ASCII only: the table is also written as FITS.
    """
    chance = ""
    if truth is not None and len(truth):
        largest = np.bincount(truth).max() / len(truth)
        chance = f"; chance about {max(largest, 1 / k):.2f} (largest class share)"
    return {
        "calinski_harabasz": "between- over within-component dispersion of the embedding; "
        "higher is better; no fixed scale (compare runs on the same data only)",
        "simplified_silhouette": "mean (b - a)/max(a, b), a and b the distances of an "
        "embedding to its own and the nearest other centroid; in [-1, 1], about 0 at random",
        "mean_log_p_z": "mean log p(z) of the embeddings (mu) under the learned mixture "
        "prior, in nats per object; higher is a better fit of the prior (not log p(x), the "
        "anomaly score log_p_x_iwae)",
        "acc": "fraction of labelled objects in their class's component after the best "
        f"one-to-one matching{chance}",
        "nmi": "normalised mutual information of components and classes; 0 for random "
        "labels, 1 for a perfect match",
        "ari": "adjusted Rand index of components and classes; 0 for random labels by "
        "construction, 1 for a perfect match",
        "n_labelled": "objects with a known class",
    }


def scores(ctx: Context, silhouette: np.ndarray) -> tuple[Section, dict[str, float]]:
    """Clustering metrics, the t-SNE map and, with labels, the confusion matrix."""
    inputs = ctx.inputs
    known = inputs.truth >= 0 if inputs.truth is not None else None
    values = metrics.clustering_scores(inputs.z, ctx.labels)
    mix = inputs.model.mixture()
    values["simplified_silhouette"] = float(np.mean(silhouette))
    values["mean_log_p_z"] = metrics.marginal_log_likelihood(
        inputs.z, mix["pi"], mu=mix["mu"], var=mix.get("covariance", mix["var"])
    )
    section = Section("Clustering metrics")
    if known is not None:
        truth, labels = inputs.truth[known], ctx.labels[known]
        supervised = metrics.clustering_scores(inputs.z[known], labels, truth)
        values.update({key: supervised[key] for key in ("acc", "nmi", "ari")})
        values["n_labelled"] = float(known.sum())
        names = inputs.class_names
        matrix = metrics.confusion(truth, labels, n_classes=len(names), k=ctx.k)
        matching = metrics.hungarian_matching(matrix)
        matched = {t: c for c, t in matching.items()}
        columns = {
            "class": np.arange(len(names)),
            "class_name": np.array(names),
            "matched_component": np.array([matched.get(t, -1) for t in range(len(names))]),
            **{f"n_{c}": matrix[:, c] for c in range(ctx.k)},
        }
        write_table(columns, ctx.table("confusion"))
        charts.heatmap(
            matrix,
            ctx.figure("confusion"),
            xlabel="component",
            ylabel="true class",
            title="Confusion matrix",
            yticks=names,
            fmt="{:.0f}",
        )
        section.tables.append(("tables/confusion", columns))
        section.figures.append(("figures/confusion", "Objects per true class and component"))
    notes = metric_notes(ctx.labels, inputs.truth[known] if known is not None else None, ctx.k)
    table = {
        "metric": np.array(list(values)),
        "value": np.array(list(values.values())),
        "meaning": np.array([notes.get(name, "") for name in values]),
    }
    write_table(table, ctx.table("metrics"))
    section.tables.insert(0, ("tables/metrics", table))
    tsne = tsne_map(ctx)
    if tsne:
        section.figures.insert(0, tsne)
    return section, values


def galaxy_zoo(ctx: Context, catalogue) -> Section:
    """Clean GZ2 smooth/featured and edge-on/not-edge-on counts per component (Figs. 13–14)."""
    options = ctx.options
    here, rows = match(ctx.inputs.ids, catalogue)
    counts = gz2_counts(
        ctx.labels[here],
        catalogue,
        rows=rows,
        k=ctx.k,
        cut=options.gz2_cut,
        edge_cut=options.edge_on_cut,
    )
    columns = {"component": np.arange(ctx.k), **counts}
    write_table(columns, ctx.table("gz2"))
    charts.grouped_bars(
        {"smooth": counts["smooth"], "featured": counts["featured"]},
        ctx.figure("gz2_smooth_featured"),
        f"GZ2 clean samples (debiased > {options.gz2_cut:g})",
    )
    charts.grouped_bars(
        {"edge-on": counts["edge_on"], "not edge-on": counts["not_edge_on"]},
        ctx.figure("gz2_edge_on"),
        f"Featured: edge-on (debiased > {options.edge_on_cut:g})",
    )
    return Section(
        "Galaxy Zoo 2",
        [f"{len(here)} of {len(ctx.labels)} objects matched by OBJID."],
        [
            ("figures/gz2_smooth_featured", "Smooth and featured per component (paper Fig. 13)"),
            ("figures/gz2_edge_on", "Edge-on and not edge-on per component (paper Fig. 14)"),
        ],
        [("tables/gz2", columns)],
    )
