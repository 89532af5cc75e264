"""Load a saved ``.keras`` AstroVaDEr model; every failure is one line naming the file.

The archive is checked before Keras reads it, so that the usual mistakes get a
message that says what is wrong: a path that is not a file, a Keras 2 HDF5 file
(such as the paper's published weights, which ``astrovader import-weights``
converts), a truncated or corrupt archive, a model of another class, or one
saved by another major version of Keras or of astrovader. Whatever Keras itself
raises while rebuilding the model is reported the same way.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import keras

from astrovader._version import __version__
from astrovader.errors import AstrovaderError
from astrovader.model.vade import AstroVaDEr

__all__ = ["HDF5_SIGNATURE", "check_model_file", "load_model", "open_model"]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")


def _major(version: object) -> str:
    return str(version).split(".", 1)[0]


def _one_line(exc: object, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_archive(path: Path) -> tuple[dict, dict]:
    """``metadata.json`` and ``config.json`` of a checked ``.keras`` archive."""
    if not path.is_file():
        reason = "it is a directory" if path.is_dir() else "no such file"
        raise AstrovaderError(f"{path}: cannot load the model ({reason})")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(HDF5_SIGNATURE))
    except OSError as exc:
        raise AstrovaderError(f"{path}: cannot read the model ({exc.strerror})") from None
    if head == HDF5_SIGNATURE:
        raise AstrovaderError(
            f"{path}: an HDF5 (Keras 2) file, not a .keras model; published weights are "
            "converted with `astrovader import-weights`"
        )
    if not zipfile.is_zipfile(path):
        raise AstrovaderError(f"{path}: not a .keras model (not a complete zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            missing = [name for name in _MEMBERS if name not in archive.namelist()]
            if missing:
                raise AstrovaderError(f"{path}: not a .keras model (no {missing[0]} inside)")
            broken = archive.testzip()
            if broken is not None:
                raise AstrovaderError(f"{path}: corrupt .keras model (bad checksum in {broken})")
            metadata = json.loads(archive.read("metadata.json"))
            config = json.loads(archive.read("config.json"))
    except AstrovaderError:
        raise
    except Exception as exc:
        raise AstrovaderError(f"{path}: corrupt .keras model ({_one_line(exc)})") from None
    if not isinstance(metadata, dict) or not isinstance(config, dict):
        raise AstrovaderError(f"{path}: corrupt .keras model (metadata is not a JSON object)")
    return metadata, config


def check_model_file(path: str | os.PathLike) -> None:
    """Check a ``.keras`` file without building the model.

    Raises:
        AstrovaderError: not a readable, complete ``.keras`` archive; saved by
            another major version of Keras or astrovader; or holding another
            class than AstroVaDEr. The message starts with the path.
    """
    path = Path(path)
    metadata, config = _read_archive(path)
    saved_keras = metadata.get("keras_version", "unknown")
    if _major(saved_keras) != _major(keras.__version__):
        raise AstrovaderError(
            f"{path}: saved by Keras {saved_keras}, which this Keras {keras.__version__} "
            "cannot read (different major version)"
        )
    name = config.get("registered_name") or config.get("class_name")
    if name not in ("astrovader>AstroVaDEr", "AstroVaDEr"):
        raise AstrovaderError(f"{path}: holds a {name!r} model, not an AstroVaDEr model")
    options = config.get("config")
    saved = options.get("astrovader_version") if isinstance(options, dict) else None
    if saved is not None and _major(saved) != _major(__version__):
        raise AstrovaderError(
            f"{path}: saved by astrovader {saved}, incompatible with this astrovader "
            f"{__version__} (different major version)"
        )


def load_model(path: str | os.PathLike) -> AstroVaDEr:
    """Load a saved ``.keras`` AstroVaDEr model (without optimizer state).

    Args:
        path: The ``.keras`` file, e.g. ``RUN/model.keras``.

    Returns:
        The model.

    Raises:
        AstrovaderError: any reason the file cannot be loaded as an AstroVaDEr
            model (see :func:`check_model_file`), including errors raised by Keras
            while rebuilding it (unknown options, weights of the wrong shape).
    """
    path = Path(path)
    check_model_file(path)
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise AstrovaderError(f"{path}: cannot load the model ({_one_line(exc)})") from None
    if not isinstance(model, AstroVaDEr):
        raise AstrovaderError(
            f"{path}: holds a {type(model).__name__} model, not an AstroVaDEr model"
        )
    return model


def open_model(path: str | os.PathLike) -> AstroVaDEr:
    """Open a ``.keras`` file, a run directory's model or the published ``.h5`` weights.

    The published Keras 2 weights are imported on the fly.

    Raises:
        AstrovaderError: nothing usable at ``path``; the message names it.
    """
    source = Path(path)
    if source.is_dir():
        source = source / "model.keras"
    if source.suffix.lower() in (".h5", ".hdf5"):
        from astrovader.model.paper_weights import import_paper_weights

        return import_paper_weights(source)
    if not source.exists():
        raise AstrovaderError(f"{source}: no such model file")
    return load_model(source)
