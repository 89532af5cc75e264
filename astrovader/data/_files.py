"""File names and bytes of images: suffixes, FITS or not, whole-file reads (a leaf module)."""

from __future__ import annotations

from pathlib import Path

from astrovader.errors import InputError

FITS_SUFFIXES: tuple[str, ...] = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", *FITS_SUFFIXES)


def one_line(exc: object) -> str:
    """An exception's text on one line (libraries' messages sometimes span several)."""
    return " ".join(str(exc).split())


def image_suffix(name: str) -> str | None:
    """The image suffix that ``name`` ends with (lower case), or None."""
    lower = name.lower()
    matches = [s for s in IMAGE_SUFFIXES if lower.endswith(s)]
    return max(matches, key=len) if matches else None


def is_fits(name: str) -> bool:
    """Whether ``name`` ends with a FITS suffix (optionally gzipped)."""
    return image_suffix(name) in FITS_SUFFIXES


def check_file(path: Path, where: str) -> None:
    """A readable, non-empty regular file, or one line saying why not.

    Raises:
        InputError: a directory, a special file, a broken or self-referencing
            link, no such file, an unreadable or empty file.
    """
    if not path.is_file():
        if path.is_dir():
            reason = "it is a directory"
        elif path.exists():
            reason = "not a regular file"
        elif path.is_symlink():
            try:
                path.resolve(strict=True)
                reason = "broken symbolic link"
            except RuntimeError:
                reason = "symbolic link loop"
            except OSError:
                reason = "broken symbolic link"
        else:
            reason = "no such file"
        raise InputError(f"{where}: cannot read image ({reason})")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{where}: cannot read file ({one_line(exc.strerror or exc)})") from None
    if size == 0:
        raise InputError(f"{where}: empty file")


def read_bytes(path: Path, where: str) -> bytes:
    """The whole file; an empty or unreadable file is an error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{where}: cannot read file ({one_line(exc.strerror or exc)})") from None
    if not data:
        raise InputError(f"{where}: empty file")
    return data


TFRECORD_MANIFEST = "manifest.json"


def is_tfrecord_dir(path) -> bool:
    """Whether ``path`` is a directory of TFRecord shards (:mod:`astrovader.data.tfrecord`)."""
    return (Path(path) / TFRECORD_MANIFEST).is_file()
