"""``astrovader report`` on the tiny run: options reach the outputs, bad input exits 2 cleanly."""

import numpy as np
import pytest
from astropy.table import Table

from astrovader.cli import main
from astrovader.data.simulated.sersic import CLASS_NAMES
from astrovader.data.simulated.writer import write_simulation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """60 new synthetic galaxies (with labels.csv) and a GZ2-style FITS table of half of them."""
    root = tmp_path_factory.mktemp("report-cli")
    write_simulation(root / "sims", 60, size=32, seed=5, progress=False)
    ids = [f"gal_{i:06d}" for i in range(0, 60, 2)]
    (root / "nolabels.csv").write_text("id,kind\ngal_000001,1\n")
    Table(
        {
            "OBJ": ids,
            "smooth": np.full(len(ids), 0.9),
            "t01_smooth_or_features_a02_features_or_disk_debiased": np.zeros(len(ids)),
            "t02_edgeon_a04_yes_debiased": np.zeros(len(ids)),
            "t02_edgeon_a05_no_debiased": np.zeros(len(ids)),
        }
    ).write(root / "gz2.fits")
    return root


def test_report_command_on_new_data_applies_every_option(tiny_run, tiny_run_config, inputs, capsys):
    import astrovader
    from astrovader.data.images.readers import load_images

    out = inputs / "out"
    args = f"--data {inputs / 'sims'} --catalog {inputs / 'gz2.fits'} --gz2-column objid=obj "
    args += "--gz2-column smooth=SMOOTH --morph-components 0,1 --gamma-cuts 0.2,0.4 "
    args += f"--n-examples 3 --tsne-max 0 --seed 3 --quiet --out {out}"
    (out / "figures").mkdir(parents=True)  # an earlier report's figure, not drawn this time
    (out / "figures" / "tsne.png").write_bytes(b"old")
    (out / "figures" / ".tsne.pdf.tmp-abcd1234.pdf").write_bytes(b"killed")
    assert main(["report", str(tiny_run), *args.split()]) == 0
    captured = capsys.readouterr()
    assert str(out / "index.html") in captured.out
    assert "reading images" not in captured.err  # --quiet: no bar, not even the reading one
    assert sorted(p.name for p in out.rglob(".*")) == []
    # γ comes from the model on the new images, in batches of the run's batch size.
    images = load_images(inputs / "sims", 1, size=32, progress=False)
    model = astrovader.load_model(tiny_run / "model.keras")
    batch = tiny_run_config.training.batch_size
    # z is the mean μ̃ over the 8 flips and quarter turns (augment.test_views = 8).
    assert model.test_views == 8
    x = images.images
    views = [np.rot90(v, k, axes=(1, 2)) for v in (x, x[:, :, ::-1]) for k in range(4)]
    z = np.mean([model.encode(np.ascontiguousarray(v), batch)[0] for v in views], axis=0)
    gamma = model.latent_probabilities(z, batch)
    objects = Table.read(out / "tables" / "objects.fits")
    assert list(objects["id"]) == list(images.ids)
    np.testing.assert_allclose(objects["gamma_max"], gamma.max(axis=1), rtol=1e-5)
    occupancy = Table.read(out / "tables" / "occupancy.csv")
    assert [c for c in occupancy.colnames if c.startswith("n_gamma")] == [
        "n_gamma>0.2",
        "n_gamma>0.4",
    ]
    assert list(occupancy["n_gamma>0.2"]) == list((gamma > 0.2).sum(axis=0))
    deblending = Table.read(out / "tables" / "deblending.fits")
    assert len(deblending) == 3 and set(deblending["source_component"]) <= {2, 3, 4}
    assert set(deblending["target_component"]) <= {0, 1}
    # labels.csv beside the images is found and used.
    labels = Table.read(inputs / "sims" / "labels.csv")
    confusion = Table.read(out / "tables" / "confusion.csv")
    assert list(confusion["class_name"]) == list(CLASS_NAMES)
    n_components = [c for c in confusion.colnames if c.startswith("n_")]
    assert list(np.sum([confusion[c] for c in n_components], axis=0)) == list(
        np.bincount(labels["class"], minlength=5)
    )
    gz2 = Table.read(out / "tables" / "gz2.csv")
    assert gz2["matched"].sum() == 30 == gz2["smooth"].sum()
    assert not (out / "figures" / "tsne.png").exists()
    assert (out / "figures" / "gz2_edge_on.png").exists()
    page = (out / "index.html").read_text()
    assert f"labels: {inputs / 'sims' / 'labels.csv'}" in page
    assert "γ and z: computed with the run&#x27;s model" in page
    assert "Morphological components: 0, 1." in page


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--morph-components", "1,9"], "morphological component 9 is not in 0…4"),
        (["--catalog", "{root}/gz2.fits"], "gz2.fits: no column 'dr7objid' (for objid)"),
        (["--gamma-cuts", "0.5,1.5"], "cut must lie in [0, 1), got 1.5"),
        (["--labels", "{root}/gz2.fits"], "gz2.fits: cannot read as CSV"),
        (["--labels", "{root}/nolabels.csv"], "nolabels.csv: no column 'class' (needs id and"),
        (["--gz2-column", "colour=x"], "--gz2-column: unknown field 'colour'"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tiny_run, inputs, capsys, extra, message):
    root = inputs
    out = root / "bad"
    extra = [e.format(root=root) for e in extra]
    assert main(["report", str(tiny_run), "--quiet", "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_run_and_unparsable_options(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "nope: no such run directory" in capsys.readouterr().err
    (tmp_path / "half").mkdir()
    assert main(["report", str(tmp_path / "half"), "--out", str(tmp_path / "o")]) == 2
    assert "half: not a finished run (no config.toml)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["report", "run", "--gamma-cuts", "a,b"])
    assert exc.value.code == 2
    assert "expected comma-separated floats, got 'a,b'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
