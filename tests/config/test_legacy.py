"""The published INI configuration format, mapped onto the TOML keys."""

import pytest

from astrovader.config import Config, load_config
from astrovader.config.legacy import is_legacy_config, load_any_config, read_legacy_config
from astrovader.errors import ConfigError

# The keys and values of the published astrovader-config.txt (method §1-5 quote them).
PUBLISHED = """\
[directories]
Model_Name = AstroVaDEr-Paper
train_dir = SCRATCH/Train
test_dir = SCRATCH/Test
valid_dir = SCRATCH/Valid
model_dir = SCRATCH/Models/
saved_weights = data/saved_weights.h5
[training]
batch_size = 190
n_train = 159600
n_test = 41600
gmm_steps = 200
warm_up_steps = 100
annealing_steps = 25
static_steps = 25
annealing_periods = 5
GPUs = 2
l2_regulariser = 0.01
[dataset]
side = 128
b = 1
[embedding]
latents = 20
clusters = 12
[lr_settings]
lr = 3e-4
min_lr = 1e-6
lr_decay = 0.97
lr_steps = 3
[loss_settings]
warm_up_factor = 1
loss_type = mse
scale_jank = 0.3
"""

EXPECTED = {
    "data": {"path": "SCRATCH/Train", "image_size": 128, "bands": 1},
    "training": {"batch_size": 190},
    "schedule": {
        "gmm_batches": 200,
        "gamma_epochs": 100,
        "anneal_epochs": 25,
        "static_epochs": 25,
        "periods": 5,
    },
    "model": {"l2": 0.01, "latent_dim": 20, "n_clusters": 12},
    "optimizer": {"learning_rate": 3e-4, "min_learning_rate": 1e-6, "decay_every": 3},
    "loss": {"gamma": 1.0, "reconstruction": "mse", "gmm_scale": 0.3},
}


def write(tmp_path, text, name="astrovader-config.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_published_file_gives_documented_values(tmp_path):
    config = read_legacy_config(write(tmp_path, PUBLISHED))
    for section, values in EXPECTED.items():
        for key, value in values.items():
            assert getattr(getattr(config, section), key) == value, f"{section}.{key}"
    assert isinstance(config.loss.gamma, float) and isinstance(config.training.batch_size, int)
    defaults = Config.paper()  # a published file runs the paper's method
    assert not config.augment.active and config.mixture.update == "gradient"
    assert config.loss.minmax_lambda == defaults.loss.minmax_lambda
    assert config.training.seed == defaults.training.seed
    assert config.schedule.total_epochs == 350


def test_toml_round_trip(tmp_path):
    config = read_legacy_config(write(tmp_path, PUBLISHED))
    config.save(tmp_path / "new.toml")
    assert load_config(tmp_path / "new.toml") == config


def test_missing_keys_keep_base_and_overrides_apply_after(tmp_path):
    path = write(
        tmp_path, "[embedding]\nclusters = 7\n[loss_settings]\nloss_type = binary_crossentropy\n"
    )
    base = Config().replace(model={"latent_dim": 9})
    config = read_legacy_config(path, base=base)
    assert (config.model.n_clusters, config.model.latent_dim) == (7, 9)
    assert config.loss.reconstruction == "bce"
    loaded = load_any_config(path, ["model.n_clusters=4"])
    assert loaded.model.n_clusters == 4 and loaded.loss.reconstruction == "bce"


def test_detects_the_format(tmp_path):
    assert is_legacy_config(write(tmp_path, PUBLISHED))
    assert is_legacy_config(write(tmp_path, "# c\n[dataset]\nside = 64\n", "old.ini"))
    assert not is_legacy_config(write(tmp_path, "[data]\nimage_size = 64\n", "new.txt"))
    assert not is_legacy_config(write(tmp_path, "[dataset]\nside = 64\n", "x.toml"))
    toml = write(tmp_path, "[data]\nimage_size = 64\n", "c.toml")
    assert load_any_config(toml).data.image_size == 64


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[training]\nepochs = 3\n", r"cfg\.txt: \[training\] epochs: unknown key"),
        ("[extra]\nx = 1\n", r"cfg\.txt: \[extra\]: unknown section"),
        ("[training]\nbatch_size = 19.5\n", r"\[training\] batch_size = '19\.5': expected int"),
        ("[loss_settings]\nloss_type = l1\n", r"\[loss_settings\] loss_type = 'l1': expected"),
        ("[dataset]\nb = 17\n", r"cfg\.txt: data\.bands = 17 is not allowed"),
        ("batch_size = 3\n", r"cfg\.txt: not a valid INI config"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        read_legacy_config(write(tmp_path, text, "cfg.txt"))


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match=r"none\.txt: cannot read config"):
        read_legacy_config(tmp_path / "none.txt")
