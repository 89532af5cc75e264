"""Catalogue-driven input: the real HST/AEGIS catalogue, CSV/ECSV tables, column mapping, errors."""

import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astrovader.config.sections import CatalogConfig
from astrovader.data.images.catalogue import is_catalogue, read_catalogue
from astrovader.data.images.readers import load_images
from astrovader.errors import InputError

IDENTS = ["23409", "14886", "9024", "17038", "24216"]


@pytest.fixture(scope="module")
def aegis(shared_dir):
    return shared_dir / "data" / "hst_aegis"


def test_the_galsim_catalogue_names_its_stamps(aegis):
    catalogue = aegis / "AEGIS_F606w_catalog.fits"
    assert is_catalogue(catalogue) and not is_catalogue(aegis / "AEGIS_F606w_images_01.fits")
    stamps, columns = read_catalogue(catalogue, CatalogConfig(columns=("MAG",)))
    assert [s.id for s in stamps] == IDENTS
    assert [(s.path.name, s.hdu) for s in stamps[:3]] == [
        ("AEGIS_F606w_images_01.fits", 0),
        ("AEGIS_F606w_images_01.fits", 1),
        ("AEGIS_F606w_images_01.fits", 2),
    ]
    assert all(s.pixel_scale == pytest.approx(0.03) for s in stamps)
    table = Table.read(catalogue)
    np.testing.assert_array_equal(columns["ra"], table["RA"])
    np.testing.assert_array_equal(columns["dec"], table["DEC"])
    np.testing.assert_array_equal(columns["mag"], table["MAG"])


def test_catalogue_images_are_its_stamps(aegis, minmax):
    got = load_images(
        aegis / "AEGIS_F814w_catalog.fits", 1, size=16, progress=False, scaling=minmax
    )
    assert list(got.ids) == IDENTS and set(got.columns) == {"ra", "dec"}
    with fits.open(aegis / "AEGIS_F814w_images_02.fits") as hdus:
        stamp = hdus[1].data.astype(float)
    path = aegis / "AEGIS_F814w_images_02.fits"
    folder = load_images(path, 1, size=16, progress=False, scaling=minmax)
    np.testing.assert_array_equal(got.images[4], folder.images[1])
    assert stamp.shape == (104, 103)


@pytest.mark.parametrize("suffix", [".csv", ".ecsv"])
def test_csv_and_ecsv_catalogues_with_named_columns(aegis, tmp_path, suffix):
    table = Table.read(aegis / "AEGIS_F606w_catalog.fits")
    mine = Table(
        {
            "name": [f"g{i}" for i in table["IDENT"]],
            "stamp": [str(aegis / f.strip()) for f in table["GAL_FILENAME"]],
            "ext": table["GAL_HDU"],
            "alpha": table["RA"],
            "delta": table["DEC"],
            "var": table["NOISE_VARIANCE"],
        }
    )
    mine.write(tmp_path / f"list{suffix}")
    settings = CatalogConfig(
        path_column="stamp",
        hdu_column="ext",
        id_column="name",
        ra_column="alpha",
        dec_column="delta",
        noise_column="var",
    )
    got = load_images(tmp_path / f"list{suffix}", 1, size=16, progress=False, catalog=settings)
    assert list(got.ids) == [f"g{i}" for i in IDENTS]
    np.testing.assert_allclose(got.columns["ra"], table["RA"])
    reference = load_images(aegis / "AEGIS_F606w_catalog.fits", 1, size=16, progress=False)
    np.testing.assert_array_equal(got.images, reference.images)


def test_catalogue_errors_name_the_file_and_column(aegis, tmp_path):
    with pytest.raises(
        InputError, match=r"catalog\.fits: no column 'FILE' \(catalog\.path_column\)"
    ):
        read_catalogue(aegis / "AEGIS_F606w_catalog.fits", CatalogConfig(path_column="FILE"))
    with pytest.raises(InputError, match=r"no column 'colour' \(catalog\.columns\)"):
        read_catalogue(aegis / "AEGIS_F606w_catalog.fits", CatalogConfig(columns=("colour",)))
    Table({"path": ["nothere.fits"]}).write(tmp_path / "t.csv")
    with pytest.raises(InputError, match=r"t\.csv: row 0: .*nothere\.fits does not exist"):
        read_catalogue(tmp_path / "t.csv")
    Table({"x": [1]}).write(tmp_path / "n.csv")
    with pytest.raises(InputError, match=r"n\.csv: no path column .* catalog\.path_column"):
        read_catalogue(tmp_path / "n.csv")
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match=r"bad\.csv: cannot read the catalogue"):
        read_catalogue(tmp_path / "bad.csv")


@pytest.mark.slow
def test_fit_and_embed_carry_ident_ra_dec_from_the_catalogue(aegis, tmp_path):
    from astropy.coordinates import SkyCoord

    from astrovader.cli import main
    from astrovader.data.tables.clusters import read_clusters

    tiny = [
        *("--set", "data.image_size=16", "--set", "model.n_clusters=2"),
        *("--set", "model.latent_dim=2", "--set", "model.filters=[4,4,4]"),
        *("--set", "data.validation_fraction=0", "--set", "schedule.gamma_epochs=2"),
        *("--set", "schedule.anneal_epochs=1", "--set", "schedule.static_epochs=1"),
        *("--set", "schedule.periods=1", "--set", "schedule.gmm_batches=1"),
        *("--set", "training.batch_size=5", "--set", "catalog.columns=['MAG']"),
    ]
    catalogue = aegis / "AEGIS_F606w_catalog.fits"
    run = tmp_path / "run"
    assert main(["fit", str(catalogue), "--out", str(run), "--quiet", *tiny]) == 0
    clusters = read_clusters(run / "clusters.csv")
    table = Table.read(catalogue)
    assert list(clusters["id"]) == IDENTS
    np.testing.assert_allclose(clusters["columns"]["ra"], table["RA"], rtol=1e-9)
    np.testing.assert_allclose(clusters["columns"]["dec"], table["DEC"], rtol=1e-9)
    np.testing.assert_allclose(clusters["columns"]["mag"], table["MAG"], rtol=1e-6)
    out = tmp_path / "embed.fits"
    assert main(["embed", str(run), "--out", str(out), "--quiet"]) == 0
    with warnings.catch_warnings(), fits.open(out) as hdus:
        warnings.simplefilter("error")
        hdus.verify("exception")
        data, header = hdus["CLUSTERS"].data, hdus["CLUSTERS"].header
        names = ["id", "ra", "dec", "mag", "cluster", "gamma", "z"]
        assert hdus["CLUSTERS"].columns.names == [*names, "log_likelihood", "anomaly_score"]
        assert (
            np.isfinite(data["log_likelihood"]).all() and np.isfinite(data["anomaly_score"]).all()
        )
        assert [hdus["CLUSTERS"].columns[n].unit for n in ("ra", "dec")] == ["deg", "deg"]
        assert all(len(key) <= 8 for key in header)
        assert (header["NCLUST"], header["NLATENT"], header["IMGSIZE"]) == (2, 2, 16)
        assert header["COMMAND"].startswith("astrovader embed ") and "SCALING" in header
        assert [i.strip() for i in data["id"]] == IDENTS
        mine = SkyCoord(data["ra"], data["dec"], unit="deg")
        theirs = SkyCoord(table["RA"], table["DEC"], unit="deg")
        index, separation, _ = mine.match_to_catalog_sky(theirs)
        assert list(index) == list(range(5)) and separation.arcsec.max() < 1e-6
        np.testing.assert_array_equal(data["cluster"], clusters["cluster"])


def test_an_empty_file_cell_is_named_as_empty_not_as_a_file(tmp_path):
    fits.writeto(tmp_path / "a.fits", np.zeros((4, 4), np.float32))
    (tmp_path / "t.csv").write_text("path,id\na.fits,1\n,2\n")
    with pytest.raises(InputError, match=r"t\.csv: row 1: no file named \(empty path column\)"):
        read_catalogue(tmp_path / "t.csv")
    (tmp_path / "t.csv").write_text('path,id\na.fits,1\n" ",2\n')
    with pytest.raises(InputError, match=r"t\.csv: row 1: no file named"):
        read_catalogue(tmp_path / "t.csv")
