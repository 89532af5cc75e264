"""Clusters in physical terms: statmorph on a rendered Sérsic galaxy, the trivial-clusters check."""

import numpy as np
import pytest
from astropy.modeling.models import Sersic2D

from astrovader.analysis import morphology

N, R_EFF, ELLIP = 2.5, 8.0, 0.3


def _galaxy(n=N, r_eff=R_EFF, ellip=ELLIP, seed=0, amplitude=5.0, neighbour=False):
    yy, xx = np.mgrid[:80, :80]
    image = Sersic2D(amplitude, r_eff, n, x_0=40, y_0=39.5, ellip=ellip, theta=0.6)(xx, yy)
    if neighbour:
        image = image + Sersic2D(20, 2, 1, x_0=70, y_0=10)(xx, yy)
    return image + np.random.default_rng(seed).normal(0, 0.05, image.shape)


def test_statmorph_figures_of_a_rendered_sersic_galaxy_are_its_own():
    found = morphology.measure_one(_galaxy(neighbour=True))
    assert found["flag"] == 0
    # statmorph's Sérsic fit recovers the rendered profile (its tests allow a few per cent).
    assert found["sersic_n"] == pytest.approx(N, rel=0.03)
    assert found["sersic_rhalf"] == pytest.approx(R_EFF, rel=0.03)
    assert found["ellipticity"] == pytest.approx(ELLIP, abs=0.02)
    # A Sérsic n = 2.5 profile is concentrated (C ≈ 3.7) and symmetric (A ≈ 0).
    assert 3.3 < found["concentration"] < 4.1 and abs(found["asymmetry"]) < 0.05
    # A disc (n = 1) of the same size is less concentrated and has a lower Gini.
    disc = morphology.measure_one(_galaxy(n=1.0))
    assert disc["sersic_n"] == pytest.approx(1.0, rel=0.05)
    assert disc["concentration"] < found["concentration"] and disc["gini"] < found["gini"]


def _table(rng, n=300):
    return {
        "flux": 10 ** rng.uniform(1, 3, n),
        "sn": 10 ** rng.uniform(0.5, 2, n),
        "r_half": rng.uniform(2, 10, n),
        "sersic_n": rng.uniform(0.5, 5, n),
        **{key: rng.normal(size=n) for key in morphology.FEATURES if key not in
           ("flux", "sn", "r_half", "sersic_n")},
    }  # fmt: skip


def test_the_trivial_clusters_warning_fires_on_a_partition_by_flux_alone():
    rng = np.random.default_rng(0)
    values = _table(rng)
    by_flux = np.digitize(values["flux"], np.percentile(values["flux"], [25, 50, 75]))
    warning = morphology.trivial_clusters(values, by_flux)
    assert warning and warning.startswith("trivial clusters: brightness (flux) alone predicts")
    # Partitions by shape (Sérsic index), independent of flux, S/N and size: no warning.
    by_shape = np.digitize(values["sersic_n"], [1.5, 2.5, 3.5])
    assert morphology.trivial_clusters(values, by_shape) is None
    mixed = np.where(rng.random(300) < 0.5, by_flux, by_shape)  # half by flux: not "alone"
    assert morphology.trivial_clusters(values, mixed) is None


def test_each_component_gets_a_sentence_naming_what_sets_it_apart():
    rng = np.random.default_rng(1)
    values = _table(rng)
    n = values["sersic_n"]
    labels = np.where(n < 1.5, 0, np.where(n > 4.0, 1, 2))
    sentences = morphology.distinctions(values, labels, k=4)
    assert len(sentences) == 3  # component 3 holds nothing
    assert sentences[0].startswith("Component 0 (") and "lower Sérsic index n" in sentences[0]
    assert "higher Sérsic index n" in sentences[1]
    assert "no feature sets it apart" in sentences[2]
