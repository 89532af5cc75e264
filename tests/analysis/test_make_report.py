"""The report of the tiny trained run: every figure and table, each value recomputed directly."""

import itertools
import re

import numpy as np
import pytest
from astropy.table import Table
from sklearn import metrics as skm
from sklearn.mixture import GaussianMixture

from astrovader.data.tables.clusters import read_clusters

FIGURES = (
    "least_typical",
    "anomaly_score",
    "losses",
    "reconstructions",
    "mse_extremes",
    "occupancy",
    "mean_gamma",
    "top_gamma",
    "random_members",
    "generated",
    "route",
    "traversal",
    "deblending",
    "tsne",
    "confusion",
    "gz2_smooth_featured",
    "gz2_edge_on",
    "morphology",
)
TABLES = (
    "least_typical",
    "mse_extremes",
    "occupancy",
    "mean_gamma",
    "route",
    "deblending",
    "generation",
    "metrics",
    "confusion",
    "gz2",
    "objects",
    "morphology",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tiny_report, tiny_run, tiny_records):
    import astrovader

    out = tiny_report["out"]
    clusters = read_clusters(tiny_run / "clusters.csv")
    images = tiny_records[0].images
    assert list(clusters["id"]) == list(tiny_records[0].ids)
    return {
        **tiny_report,
        "clusters": clusters,
        "images": images,
        "truth": np.array([r["class"] for r in tiny_records[1]]),
        "model": astrovader.load_model(tiny_run / "model.keras"),
        "tables": {name: Table.read(out / "tables" / f"{name}.csv") for name in TABLES},
    }


def test_every_figure_and_table_is_written(report):
    out = report["out"]
    for name in FIGURES:
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000, name
        assert (out / "figures" / f"{name}.pdf").read_bytes()[:4] == b"%PDF", name
    for name in TABLES:
        fits = Table.read(out / "tables" / f"{name}.fits")
        csv = report["tables"][name]
        assert fits.colnames == csv.colnames and len(fits) == len(csv), name
    assert not list(out.rglob(".*")), "temporary files left behind"


def test_page_links_only_to_relative_files_that_exist(report):
    out = report["out"]
    text = (out / "index.html").read_text()
    links = re.findall(r'(?:src|href)="([^"#][^"]*)"', text)
    assert len(links) >= 2 * len(FIGURES) + 2 * len(TABLES)
    for link in links:
        assert "://" not in link and not link.startswith("/"), link
        assert (out / link).is_file(), link
    for name in FIGURES:
        assert f'src="figures/{name}.png"' in text


def test_occupancy_table_matches_direct_counts(report):
    gamma, z = report["clusters"]["gamma"], report["clusters"]["z"]
    table = report["tables"]["occupancy"]
    k = gamma.shape[1]
    labels = gamma.argmax(axis=1)
    assert list(table["n_argmax"]) == [int(np.sum(labels == c)) for c in range(k)]
    for cut in report["options"].gamma_cuts:
        assert list(table[f"n_gamma>{cut:g}"]) == [int(np.sum(gamma[:, c] > cut)) for c in range(k)]
    pi = report["model"].mixture()["pi"]
    np.testing.assert_allclose(table["weight"], pi / pi.sum(), rtol=1e-6)
    present = sorted(set(labels))
    centres = {c: z[labels == c].mean(axis=0) for c in present}
    silhouette = []
    for point, lab in zip(z, labels, strict=True):
        a = np.linalg.norm(point - centres[lab])
        others = [np.linalg.norm(point - centres[c]) for c in present if c != lab]
        silhouette.append((min(others) - a) / max(a, min(others)) if others else np.nan)
    silhouette = np.array(silhouette)
    objects = report["tables"]["objects"]
    np.testing.assert_allclose(np.ma.filled(objects["silhouette"], np.nan), silhouette)
    for c in range(k):
        expected = silhouette[labels == c].mean() if np.any(labels == c) else np.nan
        np.testing.assert_allclose(np.ma.filled(table["mean_silhouette"], np.nan)[c], expected)


def test_generation_table_embeds_galaxies_generated_from_each_component(report):
    from astrovader.analysis.gallery import GENERATION_DRAWS

    model, table = report["model"], report["tables"]["generation"]
    k = model.n_clusters
    assert list(table["component"]) == list(range(k))
    labels = np.asarray(report["clusters"]["cluster"], int)
    np.testing.assert_allclose(
        table["share_of_objects"], np.bincount(labels, minlength=k) / len(labels)
    )
    for c in range(k):  # generated as `generate --component c --seed c` does, embedded again
        found = model.predict_clusters(model.generate(GENERATION_DRAWS, component=c, seed=c))
        assert table["landed_in_component"][c] == pytest.approx(np.mean(found == c))
        others = np.bincount(found[found != c], minlength=k)
        if others.any():
            assert table["most_landed_elsewhere"][c] == np.argmax(others)
    page = (report["out"] / "index.html").read_text()
    assert f"Of {GENERATION_DRAWS} galaxies generated from each component" in page


def test_mean_gamma_table_matches_direct_means(report):
    gamma = report["clusters"]["gamma"]
    table = report["tables"]["mean_gamma"]
    labels = gamma.argmax(axis=1)
    for c in range(gamma.shape[1]):
        row = [table[f"gamma_{k}"][c] for k in range(gamma.shape[1])]
        members = gamma[labels == c]
        assert table["n"][c] == len(members)
        if len(members):
            np.testing.assert_allclose(row, members.mean(axis=0), rtol=1e-6)
        else:
            assert all(np.ma.is_masked(v) or np.isnan(v) for v in row)


def test_metrics_match_independent_computations(report):
    gamma, z = report["clusters"]["gamma"], report["clusters"]["z"]
    truth, labels = report["truth"], gamma.argmax(axis=1)
    metric_table = report["tables"]["metrics"]
    values = dict(zip(metric_table["metric"], metric_table["value"], strict=True))
    k = gamma.shape[1]
    best = max(
        np.mean(np.array(perm)[labels] == truth) for perm in itertools.permutations(range(k))
    )
    assert values["acc"] == pytest.approx(best)
    assert values["nmi"] == pytest.approx(skm.normalized_mutual_info_score(truth, labels))
    assert values["ari"] == pytest.approx(skm.adjusted_rand_score(truth, labels))
    if len(set(labels)) > 1:
        assert values["calinski_harabasz"] == pytest.approx(skm.calinski_harabasz_score(z, labels))
    else:
        assert np.isnan(values["calinski_harabasz"])
    mix = report["model"].mixture()
    full = "covariance" in mix  # the default prior: full covariances
    gmm = GaussianMixture(k, covariance_type="full" if full else "diag")
    gmm.weights_ = mix["pi"] / mix["pi"].sum()
    gmm.means_ = mix["mu"]
    gmm.covariances_ = mix["covariance"] if full else mix["var"]
    chol = np.linalg.cholesky(gmm.covariances_) if full else None
    gmm.precisions_cholesky_ = (
        np.stack([np.linalg.inv(c).T for c in chol]) if full else 1 / np.sqrt(mix["var"])
    )
    assert values["mean_log_p_z"] == pytest.approx(gmm.score(z), rel=1e-5)
    confusion = report["tables"]["confusion"]
    for c in range(k):
        counts = [int(np.sum((truth == t) & (labels == c))) for t in range(5)]
        assert list(confusion[f"n_{c}"]) == counts


def test_reconstruction_errors_match_the_model(report):
    model, images = report["model"], report["images"]
    z = report["clusters"]["z"]
    mse = np.mean((images - model.decode(z)) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(report["tables"]["objects"]["mse"], mse, rtol=1e-4, atol=1e-7)
    extremes = report["tables"]["mse_extremes"]
    order = np.argsort(mse)
    ids = np.array(report["clusters"]["id"])
    assert list(extremes["id"][extremes["kind"] == "lowest"]) == list(ids[order[:5]])
    assert list(extremes["id"][extremes["kind"] == "highest"]) == list(ids[order[::-1][:5]])


def test_route_is_the_shortest_tour_through_the_highest_gamma_objects(report):
    gamma, z = report["clusters"]["gamma"], report["clusters"]["z"]
    ids = list(report["clusters"]["id"])
    table = report["tables"]["route"]
    k = gamma.shape[1]
    stops = [int(np.argmax(gamma[:, c])) for c in range(k)]
    assert sorted(table["component"]) == list(range(k))
    for component, name in zip(table["component"], table["id"], strict=True):
        assert gamma[ids.index(name), component] == gamma[stops[component], component]
    points = z[stops]

    def length(order):
        return sum(
            np.linalg.norm(points[a] - points[b])
            for a, b in zip(order, order[1:] + order[:1], strict=True)
        )

    best = min(length([0, *p]) for p in itertools.permutations(range(1, k)))
    assert length(list(table["component"])) == pytest.approx(best, rel=1e-5)
    assert np.sum(table["distance_to_next"]) == pytest.approx(best, rel=1e-5)


def test_deblending_targets_are_the_lowest_mse_lookalikes(report):
    gamma, images = report["clusters"]["gamma"], report["images"]
    ids = list(report["clusters"]["id"])
    labels = gamma.argmax(axis=1)
    table = report["tables"]["deblending"]
    assert len(table) >= 1
    for row in table:
        source, target = ids.index(row["source_id"]), ids.index(row["target_id"])
        pool = [i for i in np.flatnonzero(labels == row["target_component"]) if i != source]
        if not pool:
            pool = [i for i in np.argsort(-gamma[:, row["target_component"]])[:20] if i != source]
        errors = [np.mean((images[i] - images[source]) ** 2) for i in pool]
        assert target == pool[int(np.argmin(errors))]
        assert row["mse"] == pytest.approx(min(errors), rel=1e-5)


def test_gz2_counts_match_the_catalogue(report):
    catalogue = Table.read(report["catalogue"], format="ascii.csv")
    gamma = report["clusters"]["gamma"]
    ids = list(report["clusters"]["id"])
    table = report["tables"]["gz2"]
    k = gamma.shape[1]
    expected = {name: np.zeros(k, int) for name in ("matched", "smooth", "featured", "edge_on")}
    for row in catalogue:
        c = int(np.argmax(gamma[ids.index(row["dr7objid"])]))
        featured = row["t01_smooth_or_features_a02_features_or_disk_debiased"] > 0.8
        expected["matched"][c] += 1
        expected["smooth"][c] += row["t01_smooth_or_features_a01_smooth_debiased"] > 0.8
        expected["featured"][c] += featured
        expected["edge_on"][c] += featured and row["t02_edgeon_a04_yes_debiased"] > 0.8
    for name, counts in expected.items():
        assert list(table[name]) == list(counts), name
    assert 0 < table["matched"].sum() < len(ids)


def test_the_anomaly_table_lists_the_least_typical_objects_in_order(report):
    table = report["tables"]["least_typical"]
    scores = np.asarray(table["anomaly_score_bits"])
    assert len(table) == 20 and (np.diff(scores) >= 0).all() and np.isfinite(scores).all()
    ids = set(report["clusters"]["id"])
    assert all(str(i) in ids for i in table["id"])
    # The run's own images: the scores are fit's (clusters.csv), not drawn again.
    clusters = report["clusters"]
    order = np.argsort(clusters["anomaly_score"], kind="stable")[:20]
    np.testing.assert_allclose(scores, clusters["anomaly_score"][order], rtol=1e-5)
    np.testing.assert_allclose(table["log_p_x_iwae"], clusters["log_likelihood"][order], rtol=1e-5)
    assert list(table["id"]) == list(clusters["id"][order])


def test_the_least_typical_objects_come_first_in_the_report(report):
    page = (report["out"] / "index.html").read_text()
    headings = [h for h in re.findall(r"<h2>(.*?)</h2>", page) if h != "Warnings from training"]
    assert headings[0] == "Anomaly score", headings


def test_mean_gamma_rows_are_the_labels_as_the_caption_says(report):
    table = report["tables"]["mean_gamma"]
    k = len(table)
    gamma = report["clusters"]["gamma"]
    labels = gamma.argmax(axis=1)
    for c in range(k):
        if np.any(labels == c):
            row = [table[f"gamma_{j}"][c] for j in range(k)]
            np.testing.assert_allclose(row, gamma[labels == c].mean(axis=0), atol=1e-4)


def test_morphology_is_measured_on_the_stated_sample(report):
    table = report["tables"]["morphology"]
    assert len(table) == 20 and set(map(str, table["id"])) <= set(report["clusters"]["id"])
    labels = dict(zip(report["clusters"]["id"], report["clusters"]["gamma"].argmax(1), strict=True))
    assert all(labels[str(i)] == c for i, c in zip(table["id"], table["component"], strict=True))
    assert {"gini", "m20", "concentration", "sersic_n", "r_half", "flux", "sn"} <= set(
        table.colnames
    )
    text = (report["out"] / "index.html").read_text()
    assert "Morphology per component" in text and "a random sample of 20 of the" in text
    assert re.search(r"Component \d+ \(\d+ measured\):", text)
