"""``astrovader report``: every analysis of the paper's Section 5 for one run (method §7).

:func:`make_report` reads the run (``config.toml``, ``model.keras``,
``history.csv``, ``clusters.csv``) and its images, checks every input, then
writes ``OUT/figures/*.{png,pdf}``, ``OUT/tables/*.{csv,fits}`` and, last,
``OUT/index.html``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from astrovader._io import directory_lock, remove_stale
from astrovader._progress import progress_bar
from astrovader.analysis import clustering, gallery, metrics, morphology
from astrovader.analysis.anomaly import anomaly_section
from astrovader.analysis.charts import loss_curves
from astrovader.analysis.gz2 import GZ2Columns, read_catalogue
from astrovader.analysis.html import Section, write_page
from astrovader.analysis.inputs import check_run, load_inputs
from astrovader.analysis.latent import per_object_mse
from astrovader.analysis.tables import write_table
from astrovader.errors import AstrovaderError

__all__ = [
    "REPORT_FILES",
    "ReportOptions",
    "check_options",
    "make_report",
    "morphological_components",
]

log = logging.getLogger(__name__)


REPORT_FILES = {"figures": (".png", ".pdf"), "tables": (".csv", ".fits"), "explorer": (".html",)}
"""The report's own sub-folders and the kinds of file it writes there."""


def _remove_earlier_report(out: Path) -> None:
    """Remove the page, figures and tables of an earlier (or interrupted) report in ``out``.

    A new report then never mixes with the figures of an older one, whatever
    options either had (a figure it does not draw this time is not left over).
    """
    found = [out / "index.html"] if (out / "index.html").is_file() else []
    for folder, suffixes in REPORT_FILES.items():
        if (out / folder).is_dir():
            found += [p for p in (out / folder).iterdir() if p.suffix in suffixes and p.is_file()]
    for path in found:
        path.unlink()
    if found:
        log.info("%s: removed %d file(s) of an earlier report", out, len(found))


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """Settings of a report.

    Attributes:
        gamma_cuts: γ thresholds of the occupancy table (paper: three).
        morph_components: Morphological components for the deblending demo;
            None picks them from labels with a ``companion`` class (the
            built-in synthetic set) or uses every component.
        n_examples: Images per row of the galleries.
        seed: Seed of the random selections, generation and t-SNE.
        steps: Images per interpolation leg (route, deblending).
        traversal_steps: Values per latent variable in the traversals.
        gz2_cut: Debiased fraction of clean smooth / featured GZ2 samples.
        edge_on_cut: Debiased fraction of clean edge-on / not-edge-on samples.
        gz2_columns: The GZ2 catalogue's column names.
        tsne_max: At most this many embeddings in the t-SNE map.
        explorer: Also write the interactive explorer (``explorer/index.html``,
            :mod:`~astrovader.analysis.explorer`) and link to it.
        morph_sample: Objects measured with statmorph (a seeded random sample; 0: none).
        progress: Show a progress bar.
    """

    gamma_cuts: tuple[float, ...] = (0.5, 0.8, 0.95)
    morph_components: tuple[int, ...] | None = None
    n_examples: int = 8
    seed: int = 0
    steps: int = 8
    traversal_steps: int = 9
    gz2_cut: float = 0.8
    edge_on_cut: float = 0.8
    gz2_columns: GZ2Columns = dataclasses.field(default_factory=GZ2Columns)
    tsne_max: int = 2000
    explorer: bool = True
    morph_sample: int = 100
    progress: bool = True


def check_options(options: ReportOptions, k: int | None = None) -> None:
    """Reject impossible options (the morphological components only once K is known)."""
    for cut in (*options.gamma_cuts, options.gz2_cut, options.edge_on_cut):
        if not 0.0 <= cut < 1.0:
            raise AstrovaderError(f"a γ or vote-fraction cut must lie in [0, 1), got {cut}")
    if options.n_examples < 1 or options.steps < 2 or options.traversal_steps < 3:
        raise AstrovaderError("n_examples must be ≥ 1, steps ≥ 2 and traversal_steps ≥ 3")
    if options.morph_sample < 0:
        raise AstrovaderError(f"--morph-sample must be ≥ 0, got {options.morph_sample}")
    bad = [c for c in options.morph_components or () if k is not None and not 0 <= c < k]
    if bad:
        raise AstrovaderError(f"morphological component {bad[0]} is not in 0…{k - 1}")


def morphological_components(ctx: gallery.Context) -> list[int]:
    """The user's morphological components, or those whose majority class is not a companion."""
    chosen = ctx.options.morph_components
    if chosen is not None:
        return sorted(set(chosen))
    names, truth = ctx.inputs.class_names, ctx.inputs.truth
    if not names or "companion" not in names:
        return []
    majority = [
        np.bincount(truth[(ctx.labels == c) & (truth >= 0)], minlength=len(names)).argmax()
        if np.any((ctx.labels == c) & (truth >= 0))
        else -1
        for c in range(ctx.k)
    ]
    return [c for c, m in enumerate(majority) if m not in (-1, names.index("companion"))]


def _reconstruction_mse(inputs, batch: int, progress: bool) -> np.ndarray:
    parts = []
    for start in progress_bar(
        range(0, len(inputs.z), batch), desc="reconstructing", disable=not progress, leave=False
    ):
        part = slice(start, start + batch)
        parts.append(per_object_mse(inputs.images[part], inputs.model.decode(inputs.z[part])))
    return np.concatenate(parts)


def _warnings(run) -> Section | None:
    """What the failure checks of ``fit`` found (``warnings.txt``), first on the page."""
    path = Path(run) / "warnings.txt"
    if not path.is_file():
        return None
    found = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return Section("Warnings from training", found) if found else None


def _losses(ctx: gallery.Context) -> Section:
    if not ctx.inputs.history:
        return Section("Training losses", ["history.csv holds no epoch."])
    loss_curves(ctx.inputs.history, ctx.figure("losses"))
    return Section(
        "Training losses",
        [
            "Solid: training; dashed: validation; shading: γ-training, annealing, static phases.",
        ],
        [("figures/losses", "Losses per epoch by phase (paper Fig. 2)")],
    )


def _explorer(run, out: Path, data, options: ReportOptions) -> Section:
    """The interactive explorer of the same objects, in ``explorer/``, and a link to it."""
    from astrovader.analysis.explorer import ExplorerOptions, make_explorer

    settings = ExplorerOptions(seed=options.seed, progress=False)
    make_explorer(run, out / "explorer", data=data, options=settings)
    return Section(
        "Explorer",
        [
            "An interactive map of every object (up to 100,000): hover for an object, click "
            "for its reconstruction and nearest neighbours in μ̃, filter by cluster, export a "
            "selection as a CSV of ids. One page, no server: `astrovader explore RUN --out "
            "DIR` writes it on its own."
        ],
        links=[("explorer/index.html", "Open the explorer (explorer/index.html)")],
    )


def _objects(ctx: gallery.Context, silhouette: np.ndarray) -> Section:
    columns = {
        "id": ctx.inputs.ids,
        **ctx.inputs.columns,
        "component": ctx.labels,
        "gamma_max": ctx.inputs.gamma.max(axis=1),
        "mse": ctx.mse,
        "silhouette": silhouette,
    }
    if ctx.inputs.truth is not None:
        columns["class"] = ctx.inputs.truth
    write_table(columns, ctx.table("objects"))
    return Section(
        "Per-object table",
        [
            "One row per object: its catalogue columns (RA, Dec in degrees, …), component "
            "(argmax γ), max γ, reconstruction MSE and simplified silhouette.",
        ],
        tables=[("tables/objects", columns)],
    )


def make_report(
    run: str | Path,
    out: str | Path,
    *,
    data=None,
    catalog=None,
    labels=None,
    options: ReportOptions = ReportOptions(),
) -> Path:
    """Write the report of a run.

    Args:
        run: The run directory.
        out: The report folder (created; files in it are replaced).
        data: Images to analyse instead of the run's own.
        catalog: A Galaxy Zoo 2 table (FITS or CSV) matched by OBJID.
        labels: A labels CSV (``id``, ``class``[, ``class_name``]).
        options: Everything else.

    Returns:
        The path of ``index.html``.
    """
    check_run(run)
    check_options(options)
    catalogue = read_catalogue(catalog, options.gz2_columns) if catalog else None
    inputs = load_inputs(run, data, labels=labels, progress=options.progress)
    check_options(options, inputs.gamma.shape[1])
    out = Path(out)
    labels_ = np.argmax(inputs.gamma, axis=1)
    mse = _reconstruction_mse(inputs, inputs.config.training.batch_size, options.progress)
    ctx = gallery.Context(inputs, out, options, labels_, mse, np.random.default_rng(options.seed))
    silhouette = metrics.simplified_silhouette(inputs.z, labels_)
    morph = morphological_components(ctx)
    steps = {
        "warnings": lambda: _warnings(run),
        "anomaly score": lambda: anomaly_section(ctx),
        "losses": lambda: _losses(ctx),
        "reconstructions": lambda: gallery.reconstructions(ctx),
        "occupancy": lambda: clustering.occupancy_section(ctx, silhouette),
        "mean γ": lambda: clustering.mean_gamma(ctx),
        "members": lambda: gallery.members(ctx),
        "generation": lambda: gallery.generation(ctx),
        "route": lambda: gallery.route_section(ctx),
        "traversals": lambda: gallery.traversal(ctx),
        "deblending": lambda: gallery.deblending(ctx, morph),
        "metrics and t-SNE": lambda: clustering.scores(ctx, silhouette),
        "Galaxy Zoo": lambda: None if catalogue is None else clustering.galaxy_zoo(ctx, catalogue),
        "morphology": lambda: morphology.section(ctx),
        "objects table": lambda: _objects(ctx, silhouette),
        "explorer": lambda: _explorer(run, out, data, options) if options.explorer else None,
    }
    sections, values = [], {}
    with directory_lock(out):
        remove_stale(out)
        _remove_earlier_report(out)
        bar = progress_bar(steps.items(), desc="report", unit="part", disable=not options.progress)
        for name, step in bar:
            bar.set_postfix_str(name)
            result = step()
            if isinstance(result, tuple):
                result, values = result
            if result is not None:
                sections.append(result)
    summary = [
        f"Run {Path(run).resolve().name}: {len(inputs.ids)} objects, K = {ctx.k} components, "
        f"J = {inputs.z.shape[1]} latent variables.",
        *inputs.notes,
        ", ".join(f"{k} = {v:.4g}" for k, v in values.items() if k != "n_labelled") + ".",
    ]
    with directory_lock(out):
        return write_page(
            out / "index.html", "AstroVaDEr report", sections=sections, summary=summary
        )
