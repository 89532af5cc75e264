"""A configuration too large for memory is refused from its values, before TensorFlow starts."""

import subprocess
import sys

import pytest

from astrovader.config import Config
from astrovader.errors import ConfigError
from astrovader.training.memory import (
    activation_values,
    check_memory,
    machine_memory,
    parameter_counts,
    training_memory,
)


@pytest.mark.parametrize(
    ("size", "bands", "model"),
    [
        (32, 1, {"filters": [8, 8, 4], "kernels": [3, 5, 5], "decoder_kernels": [5, 5, 5]}),
        (16, 3, {"filters": [4, 6, 2], "kernels": [3, 3, 5], "decoder_kernels": [3, 5, 3]}),
    ],
)
def test_parameters_and_activations_match_the_keras_model(size, bands, model):
    import numpy as np

    from astrovader.model.vade import AstroVaDEr

    config = Config().replace(
        data={"image_size": size, "bands": bands}, model={**model, "latent_dim": 5, "n_clusters": 4}
    )
    built = AstroVaDEr.from_settings(config)
    counts = parameter_counts(size, bands, model=config.model, n_clusters=4)
    assert counts["encoder"] == built.encoder.count_params()
    assert counts["decoder"] == built.decoder.count_params()
    assert counts["prior"] == 4 * (1 + 2 * 5)
    outputs = [
        layer.output
        for part in (built.encoder, built.decoder)
        for layer in part.layers
        if layer.name.startswith(("Conv", "FC3", "leaky"))  # Output, the last layer, is not kept
    ]
    values = sum(int(np.prod(tensor.shape[1:])) for tensor in outputs)
    assert activation_values(size, config.model) == values


def test_a_configuration_too_large_for_memory_is_one_line():
    huge = Config().replace(data={"image_size": 1024}, model={"filters": [4096, 4096, 4096]})
    with pytest.raises(ConfigError, match=r"needs at least \d+\.\d GiB to train .* more than the"):
        check_memory(huge)
    small = Config().replace(data={"image_size": 32}, model={"filters": [8, 8, 4]})
    check_memory(small)
    need = training_memory(small)[0]
    check_memory(small.replace(training={"max_memory": need}))
    with pytest.raises(ConfigError, match=rf"the {need / 2**30:.1f} GiB of training\.max_memory"):
        check_memory(small.replace(training={"max_memory": need - 1}))
    assert 0 < machine_memory()[0] < 2**50


def test_fit_refuses_it_before_tensorflow_is_imported(tmp_path):
    probe = (
        "import sys; from astrovader.cli import main; status = main(sys.argv[1:]); "
        "print('tensorflow' in sys.modules, status)"
    )
    argv = ["fit", "--out", str(tmp_path / "run"), "--set", "data.image_size=1024"]
    argv += ["--set", "model.filters=[4096,4096,4096]"]
    command = [sys.executable, "-c", probe, *argv]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "2"], result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs at least" in lines[0] and "lower model.filters" in lines[0]
    assert not (tmp_path / "run").exists()
