"""Every integer option is range-checked before anything runs: one line, exit status 2."""

import pytest

from astrovader.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "OUT", "--n", "0"], "--n: expected an integer from 1 to 10,000,000, got '0'"),
        (["simulate", "OUT", "--seed", "-1"], "from 0 to 4,294,967,295, got '-1'"),
        (["simulate", "OUT", "--size", "100000"], "from 1 to 4,096, got '100000'"),
        (["generate", "m.keras", "--n", "2.5", "--out", "x.fits"], "got '2.5'"),
        (["generate", "m.keras", "--n", "10000000000", "--out", "x.fits"], "to 1,000,000,000"),
        (["embed", "m.keras", "data", "--out", "t.csv", "--batch-size", "0"], "got '0'"),
        (
            ["embed", "m", "d", "--out", "t.csv", "--likelihood-samples", "-1"],
            "0 to 1,024, got '-1'",
        ),
        (["embed", "m", "d", "--out", "t.csv", "--likelihood-samples", "100000000"], "1,024, got"),
        (
            ["prepare", "raw", "OUT", "--size", "ten"],
            "expected an integer from 1 to 4,096, got 'ten'",
        ),
        (["prepare", "raw", "OUT", "--max-bytes", "0"], "from 1 to 1,099,511,627,776, got '0'"),
        (["report", "RUN", "--seed", "-3"], "--seed: expected an integer from 0 to 4,294,967,295"),
        (
            ["report", "RUN", "--tsne-max", "-1"],
            "--tsne-max: expected an integer from 0 to 1,000,000",
        ),
        (["report", "RUN", "--n-examples", "0"], "--n-examples: expected an integer from 1 to 64"),
        (["pick-k", "RUN", "--seed", "-1"], "--seed: expected an integer from 0 to 4,294,967,295"),
        (["search", "s.py", "--config", "b.toml", "--max-evals", "0", "--out", "D"], "from 1 to"),
        (
            ["search", "s.py", "--config", "b", "--max-evals", "1", "--out", "D", "--seed", "-1"],
            "0 to",
        ),
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
