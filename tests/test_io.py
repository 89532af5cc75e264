"""Output locks and the one clean-up rule of astrovader/_io.py."""

import errno

import pytest

from astrovader._io import atomic_dir, atomic_path, naming_errors, output_lock
from astrovader.errors import AstrovaderError


def test_an_output_has_one_writer_and_its_next_one_removes_only_its_own_temporaries(
    tmp_path, caplog
):
    out = tmp_path / "a.csv"
    (tmp_path / ".a.csv.tmp-abcd1234.csv").write_text("killed")
    (tmp_path / ".a.csv.tmp-efgh5678").mkdir()  # a killed folder output
    (tmp_path / ".b.csv.tmp-abcd1234.csv").write_text("another output's")
    with caplog.at_level("INFO", logger="astrovader"), output_lock(out):
        with pytest.raises(AstrovaderError, match=r"a\.csv: being written by another astrovader"):
            with output_lock(out):
                pass
        with atomic_path(out) as tmp:
            tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.csv.tmp-abcd1234.csv", "a.csv"]
    assert "removed 2 temporary output(s) an interrupted astrovader left" in caplog.text


def test_os_errors_name_the_output_not_its_temporary(tmp_path):
    out = tmp_path / "made" / "pngs"
    with pytest.raises(OSError) as error, atomic_dir(out) as tmp:
        (tmp / "000.png").write_bytes(b"x")
        (tmp / "missing" / "001.png").write_bytes(b"y")
    assert error.value.filename == str(out / "missing" / "001.png")
    with pytest.raises(OSError) as error, naming_errors(out):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert error.value.filename == str(out) and error.value.errno == errno.ENOSPC
    assert not (tmp_path / "made").exists()  # the folder it created is gone with its failure
