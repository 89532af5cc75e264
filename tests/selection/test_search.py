import json
from pathlib import Path

import pytest

from astrovader.config import Config
from astrovader.errors import AstrovaderError
from astrovader.selection.search import SEARCH_META, SearchOptions, run_search

TINY_SPACE = Path(__file__).resolve().parents[2] / "experiments" / "spaces" / "tiny.py"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "dask"}, "backend must be one of local, spark, got 'dask'"),
        ({"max_evals": 0}, "max_evals must be a positive integer, got 0"),
        ({"parallelism": -1}, "parallelism must be a positive integer, got -1"),
        ({"objective": "val_nothing"}, "objective 'val_nothing' is not one of loss, "),
    ],
)
def test_bad_search_arguments(tmp_path, options, message):
    options = {"max_evals": 1, **options}
    with pytest.raises(AstrovaderError, match=message):
        run_search(TINY_SPACE, Config(), out=tmp_path / "s", options=SearchOptions(**options))
    assert not (tmp_path / "s").exists()


def test_validation_objective_needs_a_validation_split(tmp_path):
    base = Config().replace(data={"validation_fraction": 0.0})
    with pytest.raises(AstrovaderError, match=r"needs data\.validation_fraction > 0"):
        run_search(TINY_SPACE, base, out=tmp_path / "s", options=SearchOptions(max_evals=1))


def test_a_directory_holding_another_search_is_refused_before_training(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    meta = {
        "space": TINY_SPACE.read_text(),
        "base": Config().to_toml(),
        "objective": "val_loss",
        "seed": 0,
    }
    (out / SEARCH_META).write_text(json.dumps(meta))
    with pytest.raises(AstrovaderError, match="holds a search with a different seed"):
        run_search(TINY_SPACE, Config(), out=out, options=SearchOptions(seed=1))
    with pytest.raises(AstrovaderError, match="holds a search with a different objective"):
        run_search(
            TINY_SPACE, Config(), out=out, options=SearchOptions(objective="val_reconstruction")
        )
    assert sorted(p.name for p in out.iterdir()) == [SEARCH_META]
