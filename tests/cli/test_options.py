"""Integer options are checked before anything runs: one line, exit status 2."""

import pytest

from astrovader.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "OUT", "--n", "0"], "argument --n: expected a positive integer, got '0'"),
        (["simulate", "OUT", "--seed", "-1"], "expected a non-negative integer, got '-1'"),
        (["generate", "m.keras", "--n", "2.5", "--out", "x.fits"], "got '2.5'"),
        (["embed", "m.keras", "data", "--out", "t.csv", "--batch-size", "0"], "got '0'"),
        (["prepare", "raw", "OUT", "--size", "ten"], "expected a positive integer, got 'ten'"),
    ],
)
def test_bad_integers_stop_with_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err.splitlines()[-1]
    assert list(tmp_path.iterdir()) == []
