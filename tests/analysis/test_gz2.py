"""Galaxy Zoo 2 matching and clean-sample counts from FITS and CSV tables."""

import numpy as np
import pytest
from astropy.table import Table

from astrovader.analysis.gz2 import GZ2Columns, gz2_counts, match, normalise_id, read_catalogue
from astrovader.errors import InputError

OBJIDS = np.array([587722981741363294, 587722981741363295, 587722981741363296, 5], dtype=np.int64)


def _table(upper=False):
    names = GZ2Columns()
    table = Table(
        {
            names.objid: OBJIDS,
            names.smooth: [0.9, 0.1, 0.05, 0.5],
            names.featured: [0.05, 0.85, 0.9, 0.5],
            names.edge_on: [0.0, 0.9, 0.1, 0.0],
            names.not_edge_on: [1.0, 0.1, 0.85, 1.0],
        }
    )
    if upper:
        table.rename_columns(table.colnames, [n.upper() for n in table.colnames])
    return table


def test_normalise_id():
    assert normalise_id(587722981741363294) == "587722981741363294"
    assert normalise_id(" 0587722981741363294 ") == "587722981741363294"
    assert normalise_id("587722981741363294.0") == "587722981741363294"
    assert normalise_id(b"12") == "12"
    assert normalise_id("gal_000012") == "gal_000012"
    assert normalise_id("1.5") == "1.5"


def test_fits_catalogue_matched_by_objid_and_counted(tmp_path):
    path = tmp_path / "gz2.fits"
    _table(upper=True).write(path)
    catalogue = read_catalogue(path)
    ids = ["587722981741363296", "x", "587722981741363294", "0587722981741363295", "5"]
    here, rows = match(ids, catalogue)
    assert list(here) == [0, 2, 3, 4] and list(rows) == [2, 0, 1, 3]
    labels = np.array([1, 0, 1, 1])
    counts = gz2_counts(labels, catalogue, rows=rows, k=3, cut=0.8, edge_cut=0.8)
    # Rows: 2 featured face-on (comp 1); 0 smooth (comp 0); 1 featured edge-on (comp 1);
    # 3 neither clean smooth nor clean featured (comp 1).
    assert list(counts["matched"]) == [1, 3, 0]
    assert list(counts["smooth"]) == [1, 0, 0]
    assert list(counts["featured"]) == [0, 2, 0]
    assert list(counts["edge_on"]) == [0, 1, 0]
    assert list(counts["not_edge_on"]) == [0, 1, 0]
    looser = gz2_counts(labels, catalogue, rows=rows, k=3, cut=0.4, edge_cut=0.8)
    assert list(looser["smooth"]) == [1, 1, 0] and list(looser["featured"]) == [0, 3, 0]


def test_csv_catalogue_with_renamed_columns(tmp_path):
    table = _table()
    table.rename_column("dr7objid", "OBJID")
    table.rename_column("t01_smooth_or_features_a01_smooth_debiased", "p_smooth")
    path = tmp_path / "gz2.csv"
    table.write(path, format="ascii.csv")
    catalogue = read_catalogue(path, GZ2Columns(objid="objid", smooth="P_SMOOTH"))
    np.testing.assert_allclose(catalogue["smooth"], [0.9, 0.1, 0.05, 0.5])
    assert list(catalogue["objid"]) == [str(v) for v in OBJIDS]


def test_catalogue_errors_name_the_file_and_column(tmp_path):
    path = tmp_path / "gz2.csv"
    _table().write(path, format="ascii.csv")
    with pytest.raises(InputError, match=r"gz2\.csv: no column 'nope' \(for edge_on\)"):
        read_catalogue(path, GZ2Columns(edge_on="nope"))
    with pytest.raises(InputError, match=r"missing\.fits: no such catalogue file"):
        read_catalogue(tmp_path / "missing.fits")
    bad = tmp_path / "bad.fits"
    bad.write_text("not a table")
    with pytest.raises(InputError, match=r"bad\.fits: cannot read"):
        read_catalogue(bad)
