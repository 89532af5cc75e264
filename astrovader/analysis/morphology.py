"""Clusters in physical terms: non-parametric morphology per cluster (statmorph; framework-free).

For each image of a stated sample, the central source (photutils segmentation,
:func:`astrovader.data.images.neighbours.segments`: the segment nearest the centre) is
measured with :func:`statmorph.source_morphology` (Rodriguez-Gomez et al. 2019):
Gini, M20, concentration C, asymmetry A, smoothness S, the Sérsic index n and
half-light radius of a Sérsic fit, the non-parametric half-light radius (pixels of
the images as read), the ellipticity, the flux and the S/N per pixel. The weight
map is the sky's σ measured outside every segment; other sources are masked.

Per component: a sentence names the features whose median differs most from the
sample's (in units of the sample's interquartile range). :func:`trivial_clusters`
warns when brightness, S/N or size alone explain the partition: a one-feature
decision tree, cross-validated, predicts the components almost as well as the
partition agrees with itself.
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy.stats import sigma_clipped_stats

__all__ = [
    "FEATURES",
    "SIMPLE",
    "SKY_FLOOR",
    "TRIVIAL_SKILL",
    "distinctions",
    "measure",
    "measure_one",
    "one_feature_agreement",
    "section",
    "trivial_clusters",
]

FEATURES = {
    "gini": "Gini",
    "m20": "M20",
    "concentration": "concentration C",
    "asymmetry": "asymmetry A",
    "smoothness": "smoothness S",
    "sersic_n": "Sérsic index n",
    "sersic_rhalf": "Sérsic half-light radius (px)",
    "r_half": "half-light radius (px)",
    "ellipticity": "ellipticity",
    "flux": "flux",
    "sn": "S/N per pixel",
}
SIMPLE = {"flux": "brightness (flux)", "sn": "S/N", "r_half": "size (half-light radius)"}
"""The features that alone must not explain a partition (:func:`trivial_clusters`)."""
TRIVIAL_SKILL = 0.75
"""Fraction of the way from chance to a perfect match at which the warning fires."""
SKY_FLOOR = 1e-3


def measure_one(image: np.ndarray) -> dict[str, float]:
    """statmorph's figures of the central source of a 2-D image (NaN when none or failed)."""
    import statmorph
    from scipy.ndimage import binary_dilation

    from astrovader.data.images.neighbours import central_label, segments

    out = dict.fromkeys(FEATURES, np.nan)
    out["flag"] = -1.0
    image = np.asarray(image, np.float64)
    labels = segments(image)
    central = central_label(labels)
    if not central:
        return out
    sky = ~binary_dilation(labels > 0, iterations=2)
    pool = image[sky] if sky.sum() >= 20 else image.ravel()
    _, _, sigma = sigma_clipped_stats(pool, sigma=3.0, maxiters=5)
    weights = np.full(image.shape, max(float(sigma), SKY_FLOOR))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            [found] = statmorph.source_morphology(
                image,
                (labels == central).astype(np.int64),
                weightmap=weights,
                mask=binary_dilation((labels > 0) & (labels != central)) & (labels != central),
            )
        except Exception:
            return out
    values = {
        "gini": found.gini,
        "m20": found.m20,
        "concentration": found.concentration,
        "asymmetry": found.asymmetry,
        "smoothness": found.smoothness,
        "sersic_n": found.sersic_n,
        "sersic_rhalf": found.sersic_rhalf,
        "r_half": found.rhalf_ellip,
        "ellipticity": found.ellipticity_asymmetry,
        "flux": found.flux_ellip,
        "sn": found.sn_per_pixel,
        "flag": found.flag,
    }
    return {key: float(value) for key, value in values.items()}


def measure(images: np.ndarray, progress: bool = False) -> dict[str, np.ndarray]:
    """:func:`measure_one` of each (S, S, B) image (band mean), as columns."""
    from astrovader._progress import progress_bar

    rows = [
        measure_one(image.mean(axis=-1))
        for image in progress_bar(images, desc="morphology", disable=not progress, leave=False)
    ]
    return {key: np.array([row[key] for row in rows]) for key in (*FEATURES, "flag")}


def _iqr(values: np.ndarray) -> float:
    low, high = np.nanpercentile(values, [25, 75])
    return float(high - low)


def distinctions(values: dict, labels: np.ndarray, *, k: int, top: int = 2) -> list[str]:
    """One sentence per component with measured members: what sets it apart from the sample."""
    sentences = []
    for c in range(k):
        members = labels == c
        if not members.any():
            continue
        scores = []
        for key, name in FEATURES.items():
            column = values[key]
            mine, spread = column[members], _iqr(column)
            if not np.isfinite(mine).any() or not spread > 0:
                continue
            median, overall = np.nanmedian(mine), np.nanmedian(column)
            scores.append(((median - overall) / spread, key, name, median, overall))
        scores.sort(key=lambda item: -abs(item[0]))
        named = [
            f"{'higher' if z > 0 else 'lower'} {name.removesuffix(' (px)')} "
            f"(median {mine:.3g} against {whole:.3g})"
            for z, _, name, mine, whole in scores[:top]
            if abs(z) >= 0.5
        ]
        head = f"Component {c} ({int(members.sum())} measured):"
        if named:
            sentences.append(f"{head} {' and '.join(named)}.")
        else:
            sentences.append(
                f"{head} no feature sets it apart (every median within half an interquartile "
                "range of the sample's)."
            )
    return sentences


def one_feature_agreement(feature: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Cross-validated accuracy of a decision tree on one feature predicting ``labels``.

    The tree has at most one leaf per component (a partition of the feature into
    intervals); 5-fold cross-validation (fewer folds for small samples).
    """
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier

    keep = np.isfinite(feature)
    x, y = feature[keep, None], labels[keep]
    if len(y) < 4 or len(np.unique(y)) < 2:
        return float("nan")
    folds = KFold(min(5, len(y) // 2), shuffle=True, random_state=seed)
    tree = DecisionTreeClassifier(max_leaf_nodes=len(np.unique(y)), random_state=seed)
    return float(np.mean(cross_val_predict(tree, x, y, cv=folds) == y))


def trivial_clusters(values: dict, labels: np.ndarray, extra: tuple[str, ...] = ()) -> str | None:
    """The "trivial clusters" warning, or None.

    For flux, S/N and size (and the ``extra`` columns of ``values``, such as a
    catalogue's magnitude), a one-feature tree predicts the components
    (:func:`one_feature_agreement`); the partition agrees with itself perfectly, and
    the largest component's share is chance. The warning fires when one feature
    alone goes :data:`TRIVIAL_SKILL` of the way from chance to a perfect match.
    """
    labels = np.asarray(labels)
    if len(labels) < 4 or len(np.unique(labels)) < 2:
        return None
    chance = np.bincount(labels).max() / len(labels)
    found = []
    for key, words in {**SIMPLE, **{name: name for name in extra}}.items():
        feature = values[key]
        if key in ("flux", "sn"):
            with np.errstate(invalid="ignore", divide="ignore"):
                feature = np.log10(np.where(feature > 0, feature, np.nan))
        accuracy = one_feature_agreement(feature, labels)
        if np.isfinite(accuracy) and (accuracy - chance) >= TRIVIAL_SKILL * (1 - chance):
            found.append((accuracy, words))
    if not found:
        return None
    accuracy, words = max(found)
    return (
        f"trivial clusters: {words} alone predicts the component of {accuracy:.0%} of the "
        f"measured objects (a one-feature tree, cross-validated; chance {chance:.0%}), so the "
        "partition follows it more than morphology: read the per-component distributions "
        "before naming the clusters"
    )


def _carried(columns: dict, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The catalogue's numeric carried columns (not RA/Dec) of the sampled objects."""
    return {
        name: np.asarray(values, float)[rows]
        for name, values in columns.items()
        if name not in ("ra", "dec") and np.asarray(values).dtype.kind in "iuf"
    }


def section(ctx):
    """The report's "Morphology per component" section (None with a sample of 0)."""
    from astrovader.analysis.charts import feature_boxes
    from astrovader.analysis.html import Section
    from astrovader.analysis.tables import write_table
    from astrovader.errors import warn

    inputs, wanted = ctx.inputs, ctx.options.morph_sample
    total = len(inputs.ids)
    if not wanted:
        return None
    rows = np.arange(total)
    if wanted < total:
        rows = np.sort(np.random.default_rng(ctx.options.seed).choice(total, wanted, False))
    values = measure(inputs.images[rows], ctx.options.progress)
    labels = ctx.labels[rows]
    carried = _carried(inputs.columns, rows)
    shown = {FEATURES[key]: values[key] for key in FEATURES} | carried
    feature_boxes(
        shown, labels, k=ctx.k, stem=ctx.figure("morphology"), title="Morphology per component"
    )
    write_table(
        {"id": inputs.ids[rows], "component": labels, **values, **carried},
        ctx.table("morphology"),
    )
    brightness = {key: carried[key] for key in carried if key.startswith(("mag", "flux"))}
    warning = trivial_clusters({**values, **brightness}, labels, tuple(brightness))
    if warning:
        warn(warning)
    sample = "every object" if len(rows) == total else f"a random sample of {len(rows)}"
    text = [
        *([f"Warning: {warning}."] if warning else []),
        f"statmorph (Rodriguez-Gomez et al. 2019) on the central source of {sample} of the "
        f"{total} images, as the model reads them (pixels in [0, 1]: flux and S/N are in "
        "those units); --morph-sample sets the sample. Flag 0 is a clean measurement; NaN "
        "where no central source was found or the measurement failed.",
        *distinctions(values, labels, k=ctx.k),
    ]
    return Section(
        "Morphology per component",
        text,
        [("figures/morphology", "Distributions of each feature per component")],
        [("tables/morphology", {"id": inputs.ids[rows], "component": labels, **values})],
    )
