"""Writers killed at a random point leave temporaries that their next run removes and names."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from astrovader.cli import main
from astrovader.data.tables.clusters import read_clusters

COMMAND = shutil.which("astrovader") or str(Path(sys.executable).with_name("astrovader"))
SIZE = 16


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A small untrained model, a large array to be killed in and a small one to finish."""
    from astrovader.model.vade import AstroVaDEr

    root = tmp_path_factory.mktemp("inputs")
    model = AstroVaDEr(image_size=SIZE, latent_dim=3, n_clusters=4, filters=(4, 4, 4), seed=0)
    model.save(root / "model.keras")
    rng = np.random.default_rng(0)
    np.save(root / "large.npy", rng.integers(0, 256, (40000, SIZE, SIZE), dtype=np.uint8))
    np.save(root / "small.npy", rng.integers(0, 256, (30, SIZE, SIZE), dtype=np.uint8))
    return root


def _hidden(folder: Path, name: str) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def _kill_while_writing(argv: list[str], out: Path, rng) -> float:
    """Run the installed command, SIGKILL it at a random point of its write; the delay."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [COMMAND, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        deadline = time.monotonic() + 120
        while not any(".tmp-" in name for name in _hidden(out.parent, out.name)):
            assert process.poll() is None, f"{argv} ended before writing ({process.returncode})"
            assert time.monotonic() < deadline, "no temporary output appeared"
            time.sleep(0.02)
        delay = float(rng.uniform(0.0, 1.0))
        time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, f"{argv} finished before the kill"
    return delay


CASES = {
    "embed-csv": (["embed", "{model}", "{data}", "--out", "{out}", "--batch-size", "5"], "t.csv"),
    "embed-fits": (["embed", "{model}", "{data}", "--out", "{out}", "--batch-size", "5"], "t.fits"),
    "generate-fits": (
        ["generate", "{model}", "--n", "{n}", "--out", "{out}", "--seed", "1"],
        "g.fits",
    ),
    "generate-pngs": (
        ["generate", "{model}", "--n", "{n}", "--out", "{out}", "--seed", "1"],
        "pngs",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_next_run_removes_what_a_killed_one_left(inputs, tmp_path, case, capsys):
    template, name = CASES[case]
    out = tmp_path / "outputs" / name

    def argv(data, n):
        model = str(inputs / "model.keras")
        values = {"model": model, "data": str(inputs / data), "out": str(out), "n": str(n)}
        return [part.format(**values) for part in template]

    delay = _kill_while_writing(argv("large.npy", 200000), out, np.random.default_rng())
    left = _hidden(out.parent, name)
    assert any(".tmp-" in n for n in left) and not out.exists(), (delay, left)

    assert main(argv("small.npy", 12)) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert _hidden(out.parent, name) == [], (delay, err)
    assert "removed 1 temporary output(s) an interrupted astrovader left" in err
    assert next(n for n in left if ".tmp-" in n) in err
    if out.suffix == ".csv":
        assert len(read_clusters(out)["cluster"]) == 30
    elif out.suffix == ".fits":
        with fits.open(out) as hdus:
            assert len(hdus[1].data) == (30 if case == "embed-fits" else 12)
    else:
        assert len(list(out.glob("*.png"))) == 12
