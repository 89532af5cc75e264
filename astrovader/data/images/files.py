"""Image files: suffixes, FITS or not, whole-file reads, and the files of a folder tree.

An image's id is its path under the folder without the image suffix, POSIX style
("a/b.fits.gz" → "a/b"); the readers, the streaming embedder and the shard packer
all name images this way. Framework-free.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from astrovader.errors import InputError, warn

__all__ = [
    "IMAGE_SUFFIXES",
    "TFRECORD_MANIFEST",
    "DataKind",
    "check_file",
    "data_kind",
    "find_images",
    "image_id",
    "image_suffix",
    "is_fits",
    "one_line",
    "read_bytes",
    "scan_folder",
]

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

DataKind = Literal["synthetic", "shards", "array", "stamps"]


def data_kind(path) -> DataKind:
    """What kind of data ``path`` names: the one place this is decided.

    Returns:
        ``"synthetic"`` for no path (the built-in galaxies), ``"shards"`` for a folder
        holding the manifest of TFRecord shards (:mod:`astrovader.data.pipelines.shards`),
        ``"array"`` for a ``.npy`` file, and ``"stamps"`` for anything else (a folder of
        images, a catalogue or one image file; a missing path is the readers' error).
    """
    if not path:
        return "synthetic"
    path = Path(path)
    if (path / TFRECORD_MANIFEST).is_file():
        return "shards"
    if path.suffix.lower() == ".npy" and not path.is_dir():
        return "array"
    return "stamps"


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _real_folders(root: Path, refuse) -> set[tuple[int, int]]:
    """The identities of the folders under ``root`` reached without symbolic links."""
    found = {_identity(root)}
    for folder, subfolders, _ in os.walk(root, onerror=refuse):
        subfolders[:] = [
            d for d in subfolders if not d.startswith(".") and not Path(folder, d).is_symlink()
        ]
        found.update(_identity(Path(folder, d)) for d in subfolders)
    return found


def scan_folder(root: Path, strict: bool = False) -> tuple[list[Path], list[Path]]:
    """Image files and other files under ``root``, each sorted by relative path.

    Symbolic links to folders are followed once: a link to a folder read
    already (inside ``root``, or through another link) or to one of its own
    parents is skipped, and the links skipped are named in a warning, so that
    no image is read twice and a loop ends.

    Raises:
        InputError: a folder that cannot be listed; with ``strict``, any symbolic
            link to a folder.
    """

    def refuse(exc: OSError) -> None:
        raise InputError(f"{exc.filename}: cannot read folder ({one_line(exc.strerror or exc)})")

    seen = _real_folders(root, refuse)
    images: list[tuple[str, Path]] = []
    others: list[tuple[str, Path]] = []
    repeated: list[Path] = []
    stack = [(root, False)]
    while stack:
        folder, linked = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            refuse(exc)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(folder, entry.name)
            if not entry.is_dir():
                kind = others if image_suffix(entry.name) is None else images
                kind.append((path.relative_to(root).as_posix(), path))
                continue
            link = entry.is_symlink()
            if link and strict:
                raise InputError(
                    f"{path}: a symbolic link to a folder, and strict checking (data.strict) "
                    "refuses them; give the folder itself"
                )
            if link or linked:
                key = _identity(path)
                if key in seen:
                    repeated.append(path)
                    continue
                seen.add(key)
            stack.append((path, linked or link))
    if repeated:
        names = ", ".join(str(p.relative_to(root)) for p in sorted(repeated)[:3])
        more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
        warn(
            f"{root}: skipped {len(repeated)} symbolic link(s) to a folder read already or to "
            f"its own parent (a loop): {names}{more}"
        )
    return [path for _, path in sorted(images)], [path for _, path in sorted(others)]


def find_images(directory: str | os.PathLike) -> tuple[list[Path], int]:
    """Image files under ``directory``, recursively, sorted by relative path.

    Hidden files and folders (name starting with ".") are ignored silently.

    Returns:
        The image paths and the number of other (non-image) files skipped.

    Raises:
        InputError: a folder that cannot be listed.
    """
    images, others = scan_folder(Path(directory))
    return images, len(others)


def safe_text(text: str) -> str:
    r"""``text`` with the undecodable bytes of a non-UTF-8 file name written as ``\xNN``.

    Python keeps such bytes as surrogate escapes, which no UTF-8 output (CSV, FITS,
    the terminal) can hold; ids and messages carry them in this escaped form.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def image_id(root: Path, path: Path) -> str:
    """An image's id: its path under ``root`` without the image suffix ("a/b.fits.gz" → "a/b").

    File names that are not UTF-8 are carried escaped (:func:`safe_text`).
    """
    return safe_text(path.relative_to(root).as_posix()[: -len(image_suffix(path.name))])


def image_ids(root: Path, paths: list[Path]) -> list[str]:
    """The ids of ``paths`` under ``root``; two images with one id are an error naming both."""
    ids = [image_id(root, path) for path in paths]
    seen: dict[str, Path] = {}
    for name, path in zip(ids, paths, strict=True):
        if name in seen:
            raise InputError(f"{path}: same id {name!r} as {seen[name]}")
        seen[name] = path
    return ids
