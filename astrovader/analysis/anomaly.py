"""The report's anomaly section: the least likely objects and the score per component.

The score is log p̂(x), the importance-sampled log-likelihood of
:mod:`astrovader.model.likelihood` (S draws from q(z | x)). The paper found a component
of corrupted images; the least likely objects are where artefacts and rare objects
are found whatever component they fall in.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from astrovader.analysis.figures import image_grid, save_figure
from astrovader.analysis.gallery import Context
from astrovader.analysis.html import Section
from astrovader.analysis.tables import write_table

__all__ = ["LISTED", "SAMPLES", "anomaly_section", "score_boxes"]

SAMPLES = 8
LISTED = 20


def score_boxes(scores: np.ndarray, labels: np.ndarray, *, k: int, stem) -> list:
    """A box plot of the score per occupied component, with its axis labelled."""
    occupied = [c for c in range(k) if np.any(labels == c)]
    fig = Figure(figsize=(1.5 + 0.5 * len(occupied), 3.5))
    ax = fig.subplots()
    ax.boxplot([scores[labels == c] for c in occupied], showfliers=True)
    ax.set_xticks(range(1, len(occupied) + 1), [str(c) for c in occupied], fontsize=7)
    ax.set_xlabel("component (argmax γ)")
    ax.set_ylabel(f"log p̂(x) (nats, S = {SAMPLES})")
    ax.set_title("Anomaly score per component", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, stem)


def anomaly_section(ctx: Context) -> Section:
    """The lowest-likelihood objects (gallery and table) and the score per component."""
    inputs = ctx.inputs
    scores = inputs.scores
    if scores is None:
        scores = inputs.model.log_likelihood(inputs.images, SAMPLES)
    order = np.argsort(scores)[:LISTED]
    shown = order[: ctx.options.n_examples * 2]
    image_grid(
        [inputs.images[shown]],
        ctx.figure("least_likely"),
        title="Least likely objects (lowest log p̂(x) first)",
        col_labels=[f"{scores[i]:.0f}" for i in shown],
    )
    score_boxes(scores, ctx.labels, k=ctx.k, stem=ctx.figure("anomaly_score"))
    columns = {
        "rank": np.arange(1, len(order) + 1),
        "id": inputs.ids[order],
        "component": ctx.labels[order],
        "log_p_x_iwae": scores[order],
    }
    write_table(columns, ctx.table("least_likely"))
    low = np.percentile(scores, 1) if len(scores) else float("nan")
    return Section(
        "Anomaly score",
        [
            f"log p̂(x) (column log_p_x_iwae; log_likelihood in clusters.csv): the "
            f"importance-sampled log-likelihood of the image with S = {SAMPLES} draws from "
            "q(z|x) (a lower bound of log p(x), up to a constant shared by all images); "
            f"median {np.median(scores):.4g}, 1st percentile {low:.4g}. Artefacts, "
            "blends and rare objects sit at the low end."
        ],
        [
            ("figures/least_likely", "The least likely objects, score above each"),
            ("figures/anomaly_score", "Distribution of the score in each component"),
        ],
        [("tables/least_likely", columns)],
    )
