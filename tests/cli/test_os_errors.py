"""A full disk stops fit, embed, generate and report with one line naming the output."""

import builtins
import errno
import io
import os

import numpy as np
import pytest

from astrovader.cli import main

SIZE = 16
FULL = os.strerror(errno.ENOSPC)


class _FullFile:
    """A file whose writes fail as on a full disk: ENOSPC, and no file name."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data):
        raise OSError(errno.ENOSPC, FULL)

    writelines = write

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


@pytest.fixture
def full_disk(monkeypatch):
    """Every output astrovader writes (its temporaries, ``.NAME.tmp-…``) hits a full disk."""
    real = builtins.open

    def open_(file, mode="r", *args, **kwargs):
        handle = real(file, mode, *args, **kwargs)
        writing = any(flag in mode for flag in "wax+")
        if writing and isinstance(file, str | os.PathLike) and ".tmp-" in os.fsdecode(file):
            return _FullFile(handle)
        return handle

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from astrovader.model.vade import AstroVaDEr

    root = tmp_path_factory.mktemp("inputs")
    model = AstroVaDEr(image_size=SIZE, latent_dim=3, n_clusters=4, filters=(4, 4, 4), seed=0)
    model.save(root / "model.keras")
    pixels = np.random.default_rng(0).integers(0, 256, (12, SIZE, SIZE), dtype=np.uint8)
    np.save(root / "small.npy", pixels)
    return root


def _one_error(capsys, command: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"astrovader {command}: error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    ("command", "name", "named"),
    [
        ("embed", "out/t.csv", "out/t.csv"),
        ("embed", "out/t.fits", "out/t.fits"),
        ("generate", "out/g.fits", "out/g.fits"),
        ("generate", "out/pngs", "out/pngs"),
    ],
)
def test_a_full_disk_names_the_output(inputs, tmp_path, full_disk, capsys, command, name, named):
    out = tmp_path / name
    extra = [str(inputs / "small.npy")] if command == "embed" else ["--n", "5"]
    assert main([command, str(inputs / "model.keras"), *extra, "--out", str(out), "--quiet"]) == 2
    assert _one_error(capsys, command).endswith(f": error: {tmp_path / named}: {FULL}")
    assert not (tmp_path / "out").exists()  # nothing left, not even the folder it made


def test_a_full_disk_stops_fit_naming_the_file(tmp_path, full_disk, capsys):
    run = tmp_path / "run"
    tiny = [
        "--set=data.image_size=16",
        "--set=training.batch_size=10",
        "--set=model.filters=[4,4,4]",
    ]
    assert main(["fit", "--out", str(run), "--quiet", *tiny]) == 2
    assert _one_error(capsys, "fit").endswith(f": error: {run / 'config.toml'}: {FULL}")


@pytest.mark.slow
def test_a_full_disk_stops_report_naming_the_file(tiny_run, tmp_path, full_disk, capsys):
    out = tmp_path / "report"
    assert main(["report", str(tiny_run), "--out", str(out), "--quiet"]) == 2
    line = _one_error(capsys, "report")
    assert f": error: {out}/" in line and line.endswith(f": {FULL}")
