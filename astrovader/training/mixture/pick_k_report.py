"""pick-k's outputs: a table of per-fit counts, a JSON summary and a histogram (framework-free)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from matplotlib.figure import Figure

from astrovader._io import atomic_path, directory_lock, remove_stale, write_text_atomic
from astrovader.errors import AstrovaderError
from astrovader.training.mixture.pick_k import PickKResult

__all__ = [
    "COUNTS_NAME",
    "HISTOGRAM_NAME",
    "SUMMARY_NAME",
    "caveats",
    "counts_csv",
    "describe",
    "histogram_figure",
    "pick_k_out",
    "write_report",
]

COUNTS_NAME = "counts.csv"
SUMMARY_NAME = "summary.json"
HISTOGRAM_NAME = "histogram.png"


def counts_csv(result: PickKResult) -> str:
    """``fit, n_components, converged, weight_0…weight_{C−1}`` (weights in decreasing order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    weights = [f"weight_{c}" for c in range(result.weights.shape[1])]
    writer.writerow(["fit", "n_components", "converged", *weights])
    for f, (count, ok, weights) in enumerate(
        zip(result.counts, result.converged, result.weights, strict=True)
    ):
        writer.writerow([f, int(count), int(ok), *(f"{w:.6g}" for w in weights)])
    return out.getvalue()


def histogram_figure(result: PickKResult) -> Figure:
    """Bars of the number of fits per count, the consensus highlighted."""
    histogram = result.histogram()
    ks = range(min(histogram), max(histogram) + 1)
    figure = Figure(figsize=(5, 3.5), layout="constrained")
    axes = figure.add_subplot()
    colours = ["tab:orange" if k == result.consensus else "tab:blue" for k in ks]
    axes.bar(list(ks), [histogram.get(k, 0) for k in ks], color=colours)
    axes.set_xlabel(f"components with weight > {result.threshold:g}")
    axes.set_ylabel("fits")
    axes.set_xticks(list(ks))
    axes.set_title(
        f"pick-k: K = {result.consensus} ({len(result.counts)} fits of {result.batch_size} samples)"
    )
    return figure


def pick_k_out(out: str | Path) -> Path:
    """The report directory, if it can be one (it need not exist yet)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AstrovaderError(f"{out}: exists and is not a directory")
    return out


def write_report(out: str | Path, result: PickKResult, source: dict | None = None) -> Path:
    """Write ``counts.csv``, ``summary.json`` and ``histogram.png`` into ``out`` atomically.

    Args:
        out: The output directory (created if needed).
        result: The counts.
        source: What was embedded (model, data, …), recorded in the summary.

    Returns:
        The output directory.
    """
    out = pick_k_out(out)
    summary = {**result.summary(), "source": source or {}}
    with directory_lock(out):
        remove_stale(out)
        write_text_atomic(out / COUNTS_NAME, counts_csv(result))
        write_text_atomic(out / SUMMARY_NAME, json.dumps(summary, indent=2) + "\n")
        with atomic_path(out / HISTOGRAM_NAME) as tmp:
            histogram_figure(result).savefig(tmp, format="png", dpi=120)
    return out


def describe(result: PickKResult) -> str:
    """One line: the consensus, its spread, and a warning when fits hit ``max_components``."""
    s = result.spread()
    line = (
        f"K = {result.consensus} ({s['agreement']:.0%} of {len(result.counts)} fits agree; "
        f"quartiles {s['q1']:g}–{s['q3']:g}, range {s['min']}–{s['max']})"
    )
    if s["max"] == result.weights.shape[1]:
        line += "; some fits used every component: raise max_components"
    return line


def caveats(result: PickKResult) -> list[str]:
    """Warnings about a weak consensus, each with advice (empty when the answer is clear).

    Fewer than half the fits agreeing means the mini-batches disagree about the count:
    the embedding has no clear cluster structure at that scale. A mode at the top of
    the range means the truncation, not the data, set the answer.
    """
    s, found = result.spread(), []
    if s["agreement"] < 0.5:
        found.append(
            f"only {s['agreement']:.0%} of the fits agree on K = {result.consensus} (quartiles "
            f"{s['q1']:g}–{s['q3']:g}): the count is uncertain. Look at histogram.png, try "
            "more fits (--fits) or larger mini-batches (--batch-size), or choose K from the "
            "science; clusters of a VAE embedding need not be separated modes"
        )
    if result.consensus >= 0.9 * result.weights.shape[1]:
        found.append(
            f"K = {result.consensus} sits at the top of the range (max_components = "
            f"{result.weights.shape[1]}): raise max_components or raise pick_k.threshold"
        )
    return found
