"""The report's anomaly section: the least typical objects first, and the score per component.

The score is s(x), log p̂(x) corrected for input complexity (method §7b,
:mod:`astrovader.model.complexity`): the model's log-likelihood of the image against a
PNG compressor's, in bits. log p̂(x) alone (method §7a) ranks simple artefacts (blank
stamps, bars, lit rows) as typical; s(x) ranks them, with noise, saturated stars and
trails, below the galaxies. The paper found a component of corrupted images; the least
typical objects are where artefacts and rare objects are found whatever component they
fall in. The section comes first in the report, so that a user sees them first.
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
    """A box plot of the anomaly score per occupied component, with its axis labelled."""
    occupied = [c for c in range(k) if np.any(labels == c)]
    fig = Figure(figsize=(1.5 + 0.5 * len(occupied), 3.5))
    ax = fig.subplots()
    ax.boxplot([scores[labels == c] for c in occupied], showfliers=True)
    ax.set_xticks(range(1, len(occupied) + 1), [str(c) for c in occupied], fontsize=7)
    ax.set_xlabel("component (argmax γ)")
    ax.set_ylabel(f"anomaly score s(x) (bits, S = {SAMPLES})")
    ax.set_title("Anomaly score per component", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, stem)


def anomaly_section(ctx: Context) -> Section:
    """The least typical objects (gallery and table) and the anomaly score per component."""
    inputs = ctx.inputs
    scores = inputs.scores
    if scores is None:
        scores = inputs.model.scores(inputs.images, SAMPLES)
    log_p, anomaly = scores[:, 0], scores[:, 1]
    order = np.argsort(anomaly, kind="stable")[:LISTED]
    shown = order[: ctx.options.n_examples * 2]
    image_grid(
        [inputs.images[shown]],
        ctx.figure("least_typical"),
        title="Least typical objects (lowest anomaly score s(x) first, bits)",
        col_labels=[f"{anomaly[i]:.0f}" for i in shown],
    )
    score_boxes(anomaly, ctx.labels, k=ctx.k, stem=ctx.figure("anomaly_score"))
    columns = {
        "rank": np.arange(1, len(order) + 1),
        "id": inputs.ids[order],
        "component": ctx.labels[order],
        "anomaly_score_bits": anomaly[order],
        "log_p_x_iwae": log_p[order],
    }
    write_table(columns, ctx.table("least_typical"))
    low = np.percentile(anomaly, 1) if len(anomaly) else float("nan")
    return Section(
        "Anomaly score",
        [
            "s(x) (column anomaly_score_bits; anomaly_score in clusters.csv): the model's "
            "log-likelihood of the image against a PNG compressor's, in bits (method §7b), "
            f"from log p̂(x) with S = {SAMPLES} draws from q(z|x) (log_p_x_iwae; "
            "log_likelihood in clusters.csv). Positive where the model describes the image "
            f"better than PNG does; median {np.median(anomaly):.4g}, 1st percentile "
            f"{low:.4g}. Artefacts, simple (blank, bars) or complex (noise, trails), blends "
            "and rare objects sit at the low end."
        ],
        [
            ("figures/least_typical", "The least typical objects, anomaly score above each"),
            ("figures/anomaly_score", "Distribution of the anomaly score in each component"),
        ],
        [("tables/least_typical", columns)],
    )
