"""What a report reads: a run directory, its images, γ and z, and optional labels."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from astrovader.config import Config
from astrovader.data.tables.clusters import SCORES
from astrovader.errors import AstrovaderError, InputError
from astrovader.training.rundir.directory import RunDirectory

__all__ = ["ReportInputs", "check_run", "load_inputs", "read_labels"]


@dataclasses.dataclass
class ReportInputs:
    """Everything the analyses need, aligned object by object.

    Attributes:
        config: The run's configuration.
        model: The trained AstroVaDEr model.
        history: ``history.csv`` rows.
        ids: (N,) object identifiers (text).
        images: (N, S, S, B) float32 images in [0, 1].
        gamma: (N, K) cluster probabilities (with the run's min-max transform).
        z: (N, J) deterministic embeddings μ̃.
        truth: (N,) true class indices (−1 where unknown) or None.
        class_names: Names of the true classes (index order) or None.
        notes: Where the data, γ and labels came from (for the page).
        columns: Catalogue columns of the objects (``ra``, ``dec``, extras).
        scores: (N, 2) log p̂(x) and the anomaly score s(x) from ``clusters.csv``
            (:data:`~astrovader.data.tables.clusters.SCORES`; S =
            :data:`~astrovader.model.likelihood.SAMPLES`, seed 0), or None when they
            must be computed.
    """

    config: Config
    model: object
    history: list[dict]
    ids: np.ndarray
    images: np.ndarray
    gamma: np.ndarray
    z: np.ndarray
    truth: np.ndarray | None = None
    class_names: list[str] | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    columns: dict = dataclasses.field(default_factory=dict)
    scores: np.ndarray | None = None


def check_run(run: str | Path) -> Path:
    """The run directory, after checking that it holds every file a report reads."""
    return RunDirectory(run).check_finished().path


def read_labels(path: str | Path, ids) -> tuple[np.ndarray, list[str]]:
    """True classes from a CSV with columns ``id``, ``class`` and optional ``class_name``.

    Integer classes keep their values (named by ``class_name`` when present);
    other classes are numbered in sorted order.

    Returns:
        (N,) class indices aligned with ``ids`` (−1 where an id has no row) and
        the class names.

    Raises:
        InputError: missing file or column, or no id in common with ``ids``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such labels file")
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or ())
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read as CSV ({exc})") from exc
    missing = {"id", "class"} - fields
    if missing:
        raise InputError(f"{path}: no column {sorted(missing)[0]!r} (needs id and class)")
    raw = [r["class"].strip() for r in rows]
    if all(v.lstrip("-").isdigit() for v in raw):
        classes = [int(v) for v in raw]
        names = {int(r["class"]): (r.get("class_name") or r["class"]).strip() for r in rows}
        class_names = [names.get(c, str(c)) for c in range(max(classes, default=-1) + 1)]
    else:
        class_names = sorted(set(raw))
        classes = [class_names.index(v) for v in raw]
    lookup = {r["id"].strip(): c for r, c in zip(rows, classes, strict=True)}
    truth = np.array([lookup.get(str(i), -1) for i in ids], dtype=int)
    if not np.any(truth >= 0):
        raise InputError(f"{path}: none of its ids is among the {len(truth)} objects")
    if np.any(truth < -1):
        raise InputError(f"{path}: class values must be non-negative")
    return truth, class_names


def load_inputs(
    run: str | Path, data: str | Path | None = None, *, labels=None, progress: bool = True
) -> ReportInputs:
    """Read a run and its images; γ and z from ``clusters.csv`` when it covers the same ids.

    Args:
        run: The run directory.
        data: Images to analyse instead of the run's own (directory, ``.npy`` or file).
        labels: A labels CSV; without it the built-in synthetic set's classes are
            used, or a ``labels.csv`` beside the images of a directory.
        progress: Show a progress bar while the images are read.
    """
    from astrovader.data.images.files import data_kind
    from astrovader.data.simulated.sersic import synthetic_imageset
    from astrovader.data.sources import load_data

    run = RunDirectory(run).check_finished()
    config = run.config
    notes, records = [], None
    if data is None and not config.data.path:
        imageset, records = synthetic_imageset(
            config.data.synthetic_count,
            config.data.image_size,
            seed=config.training.seed,
            bands=config.data.bands,
        )
        notes.append("images: the built-in synthetic set of the run")
    elif data is None:
        imageset = run.images(progress)
        notes.append(f"images: {config.data.path}")
    else:
        if data_kind(data) == "shards":
            raise AstrovaderError(
                f"{data}: TFRecord shards cannot be reported on; give the images as a folder "
                "or a .npy array"
            )
        section = dataclasses.replace(config.data, path=str(data))
        imageset = load_data(dataclasses.replace(config, data=section), progress)
        notes.append(f"images: {data}")
    ids = np.array(imageset.ids)
    model = run.model()
    clusters = run.clusters()
    scores = None
    if set(clusters["id"]) == set(ids) and len(clusters["id"]) == len(ids):
        order = {name: i for i, name in enumerate(clusters["id"])}
        rows = np.array([order[name] for name in ids])
        gamma, z = clusters["gamma"][rows], clusters["z"][rows]
        notes.append("γ and z: the run's clusters.csv")
        if all(name in clusters for name in SCORES):
            scores = np.stack([np.asarray(clusters[name], float)[rows] for name in SCORES], 1)
    else:
        gamma, z = model.embed(imageset.images, config.training.batch_size)
        notes.append("γ and z: computed with the run's model")
    inputs = ReportInputs(
        config,
        model,
        run.history(),
        ids,
        imageset.images,
        np.asarray(gamma, float),
        np.asarray(z, float),
        notes=notes,
        columns=dict(imageset.columns),
        scores=scores,
    )
    _attach_labels(inputs, labels, data, records)
    return inputs


def _attach_labels(inputs: ReportInputs, labels, data, records) -> None:
    config = inputs.config
    if labels is None and records is not None:
        from astrovader.data.simulated.sersic import CLASS_NAMES

        lookup = {r["id"]: r["class"] for r in records}
        inputs.truth = np.array([lookup.get(i, -1) for i in inputs.ids], dtype=int)
        inputs.class_names = list(CLASS_NAMES)
        inputs.notes.append("labels: the built-in synthetic set's classes")
        return
    source = data if data is not None else config.data.path
    if labels is None and source and (Path(source) / "labels.csv").is_file():
        labels = Path(source) / "labels.csv"
    if labels is not None:
        inputs.truth, inputs.class_names = read_labels(labels, inputs.ids)
        inputs.notes.append(f"labels: {labels}")
