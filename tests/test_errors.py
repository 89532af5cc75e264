"""The errors and the warning: one-line messages, built-in base classes, filterable warnings."""

import os
import unicodedata
import warnings

import numpy as np
import pytest

from astrovader.errors import AstrovaderError, AstrovaderWarning, CollapseError, printable


def test_printable_escapes_every_control_character_and_nothing_else():
    name = "a\nb\r\tc\x1b[31m\x7f\x9b\u202egnp.fits é 銀河"
    assert printable(name) == "a\\nb\\r\\tc\\x1b[31m\\x7f\\x9b\\u202egnp.fits é 銀河"
    undecodable = os.fsdecode(b"bad\xffname")  # a non-UTF-8 file name
    assert printable(undecodable) == "bad\\xffname"
    shown = printable("".join(map(chr, range(0x100))))
    assert not [c for c in shown if unicodedata.category(c) == "Cc"]


def test_config_and_input_errors_are_value_errors(tmp_path):
    from astrovader.config import Config
    from astrovader.data.images.readers import load_images

    with pytest.raises(ValueError, match=r"model\.n_clusters = 0 is not allowed"):
        Config().replace(model={"n_clusters": 0})
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"bad\.png"):
        load_images(tmp_path / "bad.png", 1, size=8, progress=False)
    assert not issubclass(CollapseError, ValueError) and issubclass(CollapseError, AstrovaderError)


def _odd_stamps(folder):
    folder.mkdir()
    np.save(folder / "strips.npy", np.zeros((2, 2, 40), np.uint8))
    return folder / "strips.npy"


def test_library_warnings_are_astrovader_warnings_a_script_can_filter(tmp_path):
    from astrovader.data.images.readers import load_images

    path = _odd_stamps(tmp_path / "odd")
    with warnings.catch_warnings():
        warnings.simplefilter("error", AstrovaderWarning)
        with pytest.raises(AstrovaderWarning, match=r"strips\.npy \(every image\): 2×40 pixels"):
            load_images(path, 1, size=8, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", AstrovaderWarning)
        assert len(load_images(path, 1, size=8, progress=False)) == 2
    assert caught == []


def test_the_command_line_prints_a_library_warning_as_one_warning_line(tmp_path, capsys):
    from astrovader.cli._logging import command_logging
    from astrovader.data.images.readers import load_images

    path = _odd_stamps(tmp_path / "odd")
    with command_logging("embed"):
        load_images(path, 1, size=8, progress=False)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "astrovader embed: warning: 1 stamp(s) much smaller than data.image_size or of an "
        f"extreme aspect ratio, resized all the same (data.strict = true refuses them): {path} "
        "(every image): 2×40 pixels, an extreme aspect ratio: its centred square keeps 5.0% of it"
    ]
