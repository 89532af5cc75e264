"""A report of the shared tiny run, written once per session, with a GZ2-style catalogue."""

import numpy as np
import pytest
from astropy.table import Table

from astrovader.analysis.gz2 import GZ2Columns

# Debiased vote fractions (smooth, featured, edge-on, not edge-on) per synthetic class.
VOTES = {
    "smooth": (0.92, 0.05, 0.0, 0.0),
    "disc_face_on": (0.1, 0.88, 0.05, 0.9),
    "disc_edge_on": (0.05, 0.9, 0.93, 0.05),
    "bulge_disc": (0.5, 0.5, 0.1, 0.85),
    "companion": (0.7, 0.3, 0.0, 0.0),
}


def gz2_catalogue(records, path, rng):
    """A catalogue of three quarters of the objects, with noisy class-typical votes."""
    names = GZ2Columns()
    keep = [r for r in records if rng.uniform() < 0.75]
    votes = np.array([VOTES[r["class_name"]] for r in keep])
    votes = np.clip(votes + rng.normal(0, 0.06, size=votes.shape), 0, 1)
    Table(
        {
            names.objid: [r["id"] for r in keep],
            names.smooth: votes[:, 0],
            names.featured: votes[:, 1],
            names.edge_on: votes[:, 2],
            names.not_edge_on: votes[:, 3],
        }
    ).write(path, format="ascii.csv")
    return path


@pytest.fixture(scope="session")
def tiny_records(tiny_run_config):
    from astrovader.data.simulated.sersic import synthetic_imageset

    data = tiny_run_config.data
    imageset, records = synthetic_imageset(
        data.synthetic_count, data.image_size, seed=tiny_run_config.training.seed
    )
    return imageset, records


@pytest.fixture(scope="session")
def tiny_report(tiny_run, tiny_records, tmp_path_factory):
    """``make_report`` on the tiny run: built-in labels, a GZ2 CSV, a small t-SNE."""
    from astrovader.analysis.report import ReportOptions, make_report

    root = tmp_path_factory.mktemp("report")
    catalogue = gz2_catalogue(tiny_records[1], root / "gz2.csv", np.random.default_rng(0))
    options = ReportOptions(
        n_examples=4, tsne_max=120, progress=False, gamma_cuts=(0.3, 0.5, 0.9), morph_sample=20
    )
    page = make_report(tiny_run, root / "out", catalog=catalogue, options=options)
    return {"out": page.parent, "catalogue": catalogue, "options": options}
