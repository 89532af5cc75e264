"""The installed command as a user runs it: quiet, fast to fail, phases, summary, Ctrl-C."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from astrovader._quiet import is_native_log

COMMAND = shutil.which("astrovader") or str(Path(sys.executable).with_name("astrovader"))
SHORT = {
    "data": {"synthetic_count": 120},
    "model": {"n_clusters": 3},
    "schedule": {"gamma_epochs": 2, "static_epochs": 1},
}
NOISE = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|cuInit|remapper failed|oneDNN")


def test_native_log_lines_are_recognised():
    assert is_native_log(
        "E0000 00:00:1796166131.036563   25146 cuda_platform.cc:52] failed call to cuInit"
    )
    assert is_native_log("WARNING: All log messages before absl::InitializeLog() is called")
    assert not is_native_log("astrovader fit: error: /x: no such file or directory")


@pytest.mark.parametrize(
    "command",
    [
        ["fit", "{x}"],
        ["report", "{x}", "--out", "{x}r"],
        ["embed", "{x}", "--out", "{x}.csv"],
        ["pick-k", "{x}"],
    ],
)
@pytest.mark.slow
def test_a_missing_input_fails_before_tensorflow_loads(tmp_path, command):
    missing = str(tmp_path / "does-not-exist")
    probe = (
        "import sys; from astrovader.cli import main; status = main(sys.argv[1:]); "
        "print('tensorflow' in sys.modules, status)"
    )
    argv = [part.format(x=missing) for part in command]
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == ["False", "2"], result.stderr
    assert missing in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_bad_input_is_one_line_from_the_installed_command(tmp_path):
    missing = str(tmp_path / "does-not-exist")
    installed = subprocess.run([COMMAND, "fit", missing], capture_output=True, text=True)
    assert installed.returncode == 2
    assert installed.stderr.splitlines() == [
        f"astrovader fit: error: {missing}: no such file or directory"
    ]


def test_a_file_name_with_a_newline_and_escapes_gives_one_escaped_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "bad\n\x1b[2J\x1b[31mastrovader fit: done.png").write_bytes(b"not a png")
    installed = subprocess.run(
        [COMMAND, "fit", str(data), "--out", str(tmp_path / "run")], capture_output=True
    )
    assert installed.returncode == 2
    lines = installed.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("astrovader fit: error: "), lines
    assert "\x1b" not in lines[0] and "bad\\n\\x1b[2J\\x1b[31mastrovader fit: done.png" in lines[0]


@pytest.mark.slow
def test_a_tiny_fit_shows_phases_and_summary_and_no_log_noise(tmp_path, tiny_config):
    run = tmp_path / "run"
    result = subprocess.run(
        [COMMAND, "fit", *tiny_config.sets(**SHORT), "--out", str(run)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.replace("\r", "\n").splitlines()
    assert not [line for line in lines if NOISE.search(line)], result.stderr
    text = result.stderr
    assert "epochs 1–2 of 4: γ-training" in text
    assert "GMM initialisation: a 3-component Gaussian mixture" in text
    assert "annealing: the mixture term is switched in" in text and "not divergence" in text
    assert "epochs 1–4" in text  # the header counts from 1, as Keras and the bars do
    # The result and the next command on stdout (kept by `fit … > log.txt`), the rest on stderr.
    assert re.search(r"cluster\s+objects\s+share\s+mean max γ", result.stdout)
    assert not re.search(r"mean max γ|next: ", text)
    assert result.stdout.strip().splitlines()[-1] == (
        f"next: astrovader report {run} --out {run / 'report'}"
    )
    assert "warning:" not in result.stdout and "%|" not in result.stdout
    # stderr is a pipe here, as on a batch system: one plain line per epoch, no bar
    assert "\r" not in text and "step/s" not in text
    epochs = [line for line in lines if re.match(r"epoch \d+/4 ", line)]
    assert [int(line.split()[1].split("/")[0]) for line in epochs] == [1, 2, 3, 4]
    assert all("training images/s" in line and "run ETA" in line for line in epochs)
    assert "gamma" in epochs[0] and "anneal 1/1" in epochs[2] and "static 1/1" in epochs[3]
    quiet = subprocess.run(
        [COMMAND, "fit", *tiny_config.sets(**SHORT), "--out", str(run), "--overwrite", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert quiet.returncode == 0 and "step/s" not in quiet.stderr and "%|" not in quiet.stderr
    assert "next: astrovader report" in quiet.stdout


def _terminal_signals():
    """Ctrl-C as at a terminal: a test runner may have left SIGINT ignored or blocked,
    and a child inherits both."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.slow
def test_ctrl_c_names_the_resume_command(tmp_path, tiny_config):
    run = tmp_path / "run"
    args = [
        *tiny_config.sets(**SHORT),
        "--set=schedule.gamma_epochs=5000",
    ]  # never ends by itself here
    process = subprocess.Popen(
        [COMMAND, "fit", *args, "--out", str(run), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_terminal_signals,
    )
    deadline = time.monotonic() + 240
    while not (run / "history.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (run / "history.csv").exists()
    time.sleep(0.5)  # in the middle of the next epoch (or of its checkpoint write)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:  # a second Ctrl-C, as a user would press it
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=90)
    assert process.returncode == 130
    assert err.strip().splitlines()[-1] == (
        f"astrovader fit: interrupted; continue with: astrovader fit --resume {run}"
    )
