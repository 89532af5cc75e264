from pathlib import Path

import numpy as np
import pytest
from hyperopt.pyll import stochastic

from astrovader.config import Config, to_dict
from astrovader.errors import ConfigError
from astrovader.selection.space import apply_params, load_space, plain_params

SPACES = Path(__file__).resolve().parents[2] / "experiments" / "spaces"


def samples(space, n, seed=0):
    rng = np.random.default_rng(seed)
    return [stochastic.sample(space, rng=rng) for _ in range(n)]


@pytest.mark.parametrize("name", ["paper.py", "tiny.py"])
def test_shipped_spaces_propose_valid_configurations(name):
    base = Config()
    space = load_space(SPACES / name, base)
    keys = to_dict(base)
    assert all(label.partition(".")[2] in keys[label.partition(".")[0]] for label in space)
    for params in samples(space, 30):
        plain = plain_params(base, params)
        config = apply_params(base, plain)
        for label, value in plain.items():
            section, _, key = label.partition(".")
            got = getattr(getattr(config, section), key)
            assert got == (tuple(value) if isinstance(value, list) else value)


def test_paper_space_is_centred_on_the_paper_settings():
    space = load_space(SPACES / "paper.py")
    draws = [plain_params(Config(), p) for p in samples(space, 200)]
    assert [64, 64, 16] in [d["model.filters"] for d in draws]
    assert [3, 5, 5] in [d["model.kernels"] for d in draws]
    lrs = [d["optimizer.learning_rate"] for d in draws]
    assert min(lrs) >= 1e-4 and max(lrs) <= 1e-3
    assert all(isinstance(d["model.latent_dim"], int) for d in draws)
    assert 20 in {d["model.latent_dim"] for d in draws}


def test_toml_space_bounds_are_in_the_keys_units(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        "[model]\nlatent_dim = { quniform = [4, 12, 2] }\nfilters = { choice = [[8, 8, 4]] }\n"
        "[optimizer]\nlearning_rate = { loguniform = [1e-4, 1e-2] }\n"
        "[loss]\ngmm_scale = { uniform = [0.1, 0.5] }\ngamma = 0.001\n"
        "[schedule]\nperiods = { uniformint = [1, 3] }\n"
    )
    space = load_space(path)
    assert space["loss.gamma"] == 0.001
    draws = [plain_params(Config(), p) for p in samples(space, 400)]
    lrs = np.array([d["optimizer.learning_rate"] for d in draws])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-2
    # log-uniform: half the draws lie below the geometric mean 1e-3 (uniform: 9 %)
    assert 0.4 < np.mean(lrs < 1e-3) < 0.6
    assert {d["model.latent_dim"] for d in draws} == {4, 6, 8, 10, 12}
    assert {d["schedule.periods"] for d in draws} == {1, 2, 3}
    assert all(0.1 <= d["loss.gmm_scale"] <= 0.5 for d in draws)
    assert all(d["model.filters"] == [8, 8, 4] for d in draws)


def test_plain_params_turns_whole_floats_into_ints_for_int_keys():
    params = {
        "model.latent_dim": 12.0,
        "model.filters": (np.int64(8), 8.0, 4),
        "loss.gmm_scale": np.float64(0.25),
        "optimizer.learning_rate": 1.0,
    }
    plain = plain_params(Config(), params)
    assert plain == {
        "model.latent_dim": 12,
        "model.filters": [8, 8, 4],
        "loss.gmm_scale": 0.25,
        "optimizer.learning_rate": 1.0,
    }
    assert type(plain["model.latent_dim"]) is int and type(plain["loss.gmm_scale"]) is float
    assert type(plain["optimizer.learning_rate"]) is float
    with pytest.raises(ConfigError, match=r"model\.latent_dim: expected int"):
        apply_params(Config(), plain_params(Config(), {"model.latent_dim": 2.5}))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.py", "SPACE = {\n", "cannot load the search space .SyntaxError"),
        ("bad.py", "import nothing_here_at_all\n", "ModuleNotFoundError"),
        ("bad.py", "X = 1\n", "defines no SPACE dictionary"),
        ("bad.py", "SPACE = [1]\n", "SPACE must be a non-empty dictionary"),
        ("bad.py", "SPACE = {'model.nope': 1}\n", "'model.nope' is not a configuration key"),
        ("bad.py", "SPACE = {'latent_dim': 1}\n", "'latent_dim' is not a configuration key"),
        (
            "bad.py",
            "from hyperopt import hp\nSPACE = {'model.latent_dim': hp.choice('a', [1]),"
            " 'model.n_clusters': hp.choice('a', [2])}\n",
            "not a valid Hyperopt space",
        ),
        ("bad.toml", "[model\n", "not valid TOML"),
        ("bad.toml", "[model]\nlatent_dim = { normalish = [1, 2] }\n", "unknown distribution"),
        ("bad.toml", "[model]\nlatent_dim = { uniform = [1] }\n", "uniform needs 2 numbers"),
        ("bad.toml", "[model]\nlatent_dim = { uniform = [5, 1] }\n", "not increasing"),
        ("bad.toml", "[model]\nlatent_dim = { choice = [] }\n", "non-empty list"),
        ("bad.toml", "model = 3\n", r"\[model\] must be a table"),
        ("bad.json", "{}", r"a \.py or \.toml file"),
    ],
)
def test_malformed_space_files_are_one_line_errors_naming_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_space(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_a_missing_space_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such search-space file"):
        load_space(tmp_path / "nope.py")
