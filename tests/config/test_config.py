"""The TOML configuration: defaults, paper file, overrides, round trip, errors."""

import re
from pathlib import Path

import pytest

from astrovader.config import (
    PAPER_METHOD,
    Config,
    ModelConfig,
    OptimizerConfig,
    load_config,
    parse_override,
    rules,
)
from astrovader.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parents[2]


def test_paper_file_is_the_paper_method_with_every_new_option_off():
    paper = load_config(ROOT / "experiments" / "paper.toml")
    assert paper == Config.paper()
    for section, values in PAPER_METHOD.items():
        for key, value in values.items():
            assert getattr(getattr(paper, section), key) == value, f"{section}.{key}"
    assert not paper.augment.active
    assert (paper.mixture.update, paper.mixture.pi, paper.mixture.gamma_from) == (
        "gradient",
        "free",
        "sample",
    )
    # Every option beyond the paper is in PAPER_METHOD: the package defaults differ
    # from the paper in exactly those keys.
    for section in ("augment", "mixture"):
        assert set(PAPER_METHOD[section]) >= {
            k
            for k, v in vars(getattr(Config(), section)).items()
            if v != PAPER_METHOD[section].get(k)
        }


def test_paper_values():
    c = Config.paper()
    assert (c.model.latent_dim, c.model.n_clusters, c.model.filters) == (20, 12, (64, 64, 16))
    assert c.schedule.total_epochs == 350
    assert (c.loss.gamma, c.loss.gmm_scale, c.loss.minmax_lambda) == (0.0005, 0.3, 50.0)
    assert (c.model.l2, c.model.l2_scaling, c.schedule.beta_per) == (0.01, "none", "epoch")
    assert c.training.batch_size == 180


def test_the_defaults_are_the_measured_method():
    c = Config()
    assert c.augment.active and c.mixture.update == "em" and c.mixture.pi == "simplex"
    assert c.loss.minmax_lambda is None and c.schedule.beta_per == "step"


def test_l2_scales_with_the_pixel_count():
    model = Config().model
    assert model.l2_factor(128, 1) == pytest.approx(model.l2)
    assert Config(model=ModelConfig(l2=0.01)).model.l2_factor(128, 1) == pytest.approx(0.01)
    assert ModelConfig(l2=0.01).l2_factor(32, 1) == pytest.approx(0.01 / 16)
    assert ModelConfig(l2=0.01).l2_factor(64, 3) == pytest.approx(0.01 * 3 / 4)
    assert ModelConfig(l2=0.01, l2_scaling="none").l2_factor(32, 1) == 0.01


def test_toml_round_trip_with_none_lambda(tmp_path):
    config = load_config(overrides=["loss.minmax_lambda=none", "model.filters=[8, 8, 4]"])
    assert config.loss.minmax_lambda is None and config.model.filters == (8, 8, 4)
    config.save(tmp_path / "c.toml")
    assert 'minmax_lambda = "none"' in (tmp_path / "c.toml").read_text()
    assert load_config(tmp_path / "c.toml") == config


def test_override_parsing():
    assert parse_override("optimizer.learning_rate=1e-3") == ("optimizer", "learning_rate", 1e-3)
    assert parse_override("loss.reconstruction=bce") == ("loss", "reconstruction", "bce")
    assert load_config(overrides=["optimizer.learning_rate=1"]).optimizer.learning_rate == 1.0
    with pytest.raises(ConfigError, match=r"expected section\.key=value"):
        parse_override("learning_rate=1")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.n_clusters=0", "model.n_clusters = 0 is not allowed"),
        ("schedule.gamma_epochs=-1", "schedule.gamma_epochs = -1"),
        (
            "data.image_size=100",
            "data.image_size = 100 is not allowed: must be a positive multiple of 8",
        ),
        ("model.filters=[8, 8]", "model.filters"),
        ("model.filters=[8, 'a', 8]", r"model.filters\[1\]: expected int"),
        ("optimizer.min_learning_rate=1.0", "optimizer.min_learning_rate"),
        ("data.flips=1", "data.flips: expected bool"),
        ("loss.reconstruction=l1", "loss.reconstruction"),
        ("nosuch.key=1", r"unknown config section \[nosuch\]"),
    ],
)
def test_impossible_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_empty_schedule_is_refused():
    zero = [f"schedule.{k}=0" for k in ("gamma_epochs", "periods")]
    with pytest.raises(ConfigError, match="no epochs"):
        load_config(overrides=zero)


# Keys of PAPER_METHOD that runs have always written (their defaults changed, not their presence).
OLDER = {("model", "l2"), ("loss", "gmm_scale"), ("loss", "minmax_lambda")}


def test_a_run_written_before_the_new_options_keeps_the_paper_method(tmp_path):
    """A run's ``config.toml`` without the newer keys reads them as off, not as today's defaults."""
    import tomllib

    import tomli_w

    from astrovader.config import to_dict
    from astrovader.training.rundir.directory import RunDirectory

    written = Config().replace(model={"n_clusters": 7}, data={"image_size": 48})
    old = tomllib.loads(written.to_toml())
    for section, keys in PAPER_METHOD.items():  # the keys an older version did not write
        for key in keys:
            if (section, key) not in OLDER:
                old[section].pop(key)
    old = {section: keys for section, keys in old.items() if keys}
    (tmp_path / "config.toml").write_text(tomli_w.dumps(old))
    got = to_dict(RunDirectory(tmp_path).config)
    assert got["model"]["n_clusters"] == 7 and got["data"]["image_size"] == 48
    for section, keys in PAPER_METHOD.items():
        for key, value in keys.items():
            if (section, key) not in OLDER:
                assert got[section][key] == value, f"{section}.{key}"
    # A run of today reads back exactly as written.
    (tmp_path / "config.toml").write_text(written.to_toml())
    assert RunDirectory(tmp_path).config == written


def test_a_config_built_directly_is_validated_once(monkeypatch):
    with pytest.raises(ConfigError, match=r"model\.n_clusters = 0 is not allowed"):
        Config(model=ModelConfig(n_clusters=0))
    with pytest.raises(ConfigError, match=r"optimizer\.min_learning_rate = 0\.1"):
        Config(optimizer=OptimizerConfig(learning_rate=0.01, min_learning_rate=0.1))
    base, calls = Config(), []
    monkeypatch.setattr(rules, "validate", calls.append)
    changed = base.replace(model={"n_clusters": 7})
    assert changed.model.n_clusters == 7 and calls == [changed]  # once, not again by from_dict


def _model(**changes):
    from astrovader.model.vade import AstroVaDEr

    small = {"image_size": 16, "latent_dim": 2, "n_clusters": 2, "filters": (4, 4, 4)}
    return AstroVaDEr(**{**small, **changes})


def _views(**changes):
    from astrovader.model.views import RandomViews

    return RandomViews(**changes)


def _prior(**changes):
    from astrovader.model.gmm_prior import GMMPrior

    return GMMPrior(2, 2, **changes)


def _reading(**changes):
    from astrovader.data.images.options import ReadOptions

    return ReadOptions(**changes)


def _simulated(bands):
    from astrovader.data.simulated.sersic import simulate

    return simulate(5, 16, seed=0, bands=bands)


@pytest.mark.parametrize(
    ("key", "build", "argument", "value"),
    [
        ("mixture.gamma_from", _model, "gamma_from", "z"),
        ("mixture.update", _model, "mixture_update", "newton"),
        ("augment.tied_views", _model, "tied_views", 3),
        ("augment.test_views", _model, "test_views", 2),
        ("augment.consistency", _model, "consistency", -1.0),
        ("loss.reconstruction", _model, "reconstruction", "l1"),
        ("data.image_size", _model, "image_size", 20),
        ("augment.shift", _views, "shift", 0.6),
        ("augment.brightness", _views, "brightness", 0.95),
        ("augment.target", _views, "target", "clean"),
        ("mixture.covariance", _prior, "covariance", "tied"),
        ("data.bands", _reading, "bands", 17),
        ("data.band_axis", _reading, "band_axis", "middle"),
    ],
)
def test_layers_and_readers_refuse_what_the_config_refuses_in_the_same_words(
    key, build, argument, value
):
    section, name = key.split(".")
    with pytest.raises(ConfigError) as refused:
        Config().replace(**{section: {name: value}})
    expected = str(refused.value).split("must be ", 1)[1]
    with pytest.raises(ValueError, match=f"^{re.escape(f'{argument} must be {expected}')}, got"):
        build(**{argument: value})


def test_the_simulators_and_the_model_share_their_rules():
    from astrovader.config.rules import SIMULATED_BANDS_RULE

    with pytest.raises(InputError, match=r"bands must be 1 \(grey\) or 3 \(colour\), got 2"):
        _simulated(2)
    assert SIMULATED_BANDS_RULE.test(3) and not SIMULATED_BANDS_RULE.test(4)
    with pytest.raises(ValueError, match="covariance 'full' needs mixture_update 'em'"):
        _model(covariance="full", mixture_update="gradient")
    with pytest.raises(ConfigError, match=r"mixture\.covariance = 'full' is not allowed"):
        Config().replace(mixture={"covariance": "full", "update": "gradient"})
