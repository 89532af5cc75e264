"""Merging part tables (framework-free): the whole table back, or one line naming the culprit."""

import numpy as np
import pytest
from astropy.io import fits

from astrovader.data.tables.clusters import cluster_table, id_length, read_clusters, write_clusters
from astrovader.data.tables.merge import merge_tables
from astrovader.data.tables.parts import Part
from astrovader.errors import InputError

N, K, J, BATCH = 11, 3, 2, 2


@pytest.fixture
def rows():
    rng = np.random.default_rng(5)
    gamma = rng.dirichlet(np.ones(K), N)
    return {
        "ids": [f"obj{'x' * (i % 4)}{i}" for i in range(N)],  # widths differ between parts
        "gamma": gamma,
        "z": rng.normal(size=(N, J)),
        "columns": {
            "ra": np.linspace(10, 11, N),
            "field": np.array([f"f{i * 37}" for i in range(N)]),
        },
    }


def _write(path, rows, part=None, batch=BATCH, lose=0):
    """The table of ``part`` (all rows if None) as ``embed --shard`` writes it, less ``lose``."""
    window = range(N) if part is None else part.rows(N, batch)
    cards = [] if part is None else part.cards(window, N)
    window = window[: len(window) - lose]
    cut = slice(window.start, window.stop)
    ids, columns = rows["ids"][cut], {k: v[cut] for k, v in rows["columns"].items()}
    shape = {"n_clusters": K, "latent_dim": J, "id_length": id_length(ids)}
    with cluster_table(
        path, len(window), **shape, columns=columns, cards=cards, csv_cards=True
    ) as write:
        write(ids, rows["gamma"][cut], rows["z"][cut])
    return path


@pytest.mark.parametrize("suffix", [".csv", ".fits"])
def test_parts_merge_back_into_the_whole_table(rows, tmp_path, suffix):
    whole = _write(tmp_path / f"whole{suffix}", rows)
    parts = [_write(tmp_path / f"p{i}{suffix}", rows, Part(i, 4)) for i in (3, 1, 4, 2)]
    assert merge_tables(tmp_path / f"merged{suffix}", parts, progress=False) == N
    merged, expected = read_clusters(tmp_path / f"merged{suffix}"), read_clusters(whole)
    assert list(merged["id"]) == rows["ids"]
    for key in ("cluster", "gamma", "z"):
        np.testing.assert_array_equal(merged[key], expected[key])
    for key in ("ra", "field"):
        np.testing.assert_array_equal(merged["columns"][key], expected["columns"][key])
    if suffix == ".csv":
        assert (tmp_path / "merged.csv").read_bytes() == whole.read_bytes()
    else:
        with fits.open(whole) as one, fits.open(tmp_path / "merged.fits") as joined:
            assert one["CLUSTERS"].data.tobytes() == joined["CLUSTERS"].data.tobytes()
            assert one["CLUSTERS"].columns["id"].format == "7A"


def test_empty_parts_are_merged_too(rows, tmp_path):
    """More parts than batches: some parts are empty tables, and still count."""
    parts = [_write(tmp_path / f"p{i}.fits", rows, Part(i, 9)) for i in range(1, 10)]
    assert sum(Part(i, 9).rows(N, BATCH) == range(0) for i in range(1, 10)) == 3
    assert merge_tables(tmp_path / "m.fits", parts, progress=False) == N
    assert list(read_clusters(tmp_path / "m.fits")["id"]) == rows["ids"]


def test_parts_that_do_not_tile_the_table_are_refused(rows, tmp_path):
    good = [_write(tmp_path / f"p{i}.csv", rows, Part(i, 3)) for i in (1, 2, 3)]
    quarter = _write(tmp_path / "q2.csv", rows, Part(2, 4))
    with pytest.raises(
        InputError, match=r"q2\.csv: part 2/4 of 11 rows, but .*p1\.csv is part 1/3"
    ):
        merge_tables(tmp_path / "m.csv", [good[0], quarter, good[2]])
    shifted = _write(tmp_path / "s2.csv", rows, Part(2, 3), batch=3)  # another --batch-size
    with pytest.raises(InputError, match=r"s2\.csv: part 2/3 starts at row 3, but the parts"):
        merge_tables(tmp_path / "m.csv", [good[0], shifted, good[2]], progress=False)
    fits_parts = [_write(tmp_path / f"p{i}.fits", rows, Part(i, 3)) for i in (1, 2)]
    fits_parts.append(_write(tmp_path / "p3.fits", rows, Part(3, 3), lose=2))
    with pytest.raises(InputError, match=r"p3\.fits: the parts hold 9 rows, their cards say 11"):
        merge_tables(tmp_path / "m.fits", fits_parts, progress=False)
    csv_parts = [*good[:2], _write(tmp_path / "p3short.csv", rows, Part(3, 3), lose=1)]
    with pytest.raises(InputError, match=r"p3short\.csv: the parts hold 10 rows, their cards say"):
        merge_tables(tmp_path / "m.csv", csv_parts, progress=False)
    assert not (tmp_path / "m.csv").exists() and not (tmp_path / "m.fits").exists()


def test_a_file_that_is_not_a_cluster_table_is_named(rows, tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    whole = _write(tmp_path / "whole.csv", rows)
    with pytest.raises(InputError, match=r"notes\.csv: not a cluster table"):
        merge_tables(tmp_path / "m.csv", [whole, tmp_path / "notes.csv"])
    with pytest.raises(InputError, match=r"gone\.fits: no such file"):
        merge_tables(tmp_path / "m.fits", [tmp_path / "gone.fits"])
    with pytest.raises(InputError, match=r"whole\.csv: is the output too"):
        merge_tables(whole, [whole])
    columns = {"ra": [1.0], "field": ["f"]}
    write_clusters(
        tmp_path / "k4.csv", ["a"], gamma=np.full((1, 4), 0.25), z=np.zeros((1, J)), columns=columns
    )
    with pytest.raises(
        InputError, match=r"k4\.csv: its columns differ .*\(p_3 where that has z_0\)"
    ):
        merge_tables(tmp_path / "m.csv", [whole, tmp_path / "k4.csv"])
