"""Safe output: atomic writes, stale temporary files, one writer per output, free space.

Every output is written to a temporary file or folder beside its target, named
``.NAME.tmp-XXXXXXXX…``, and renamed onto the target when complete
(:func:`atomic_path`, :func:`atomic_dir`), so a reader never sees half a file.

One clean-up rule for every writer: a process killed mid-write leaves its
temporaries, and the next command that writes the same output removes them when
it starts, and logs what it removed (:func:`remove_stale`). It does so holding
the output's lock, so never a file another writer is still using: a folder of
outputs (a run, a report, a search) has one writer at a time
(:func:`directory_lock`), and so has a single output file or folder
(:func:`output_lock`, a lock named after it beside it). Pre-sized FITS files and
PNG folders are temporaries like any other.

Every OS error raised while an output is written names that output (a full
disk's ``write`` names no file by itself), and the parent folders an output
created are removed again when it fails. An output that would not fit in the
free space is refused before it is written (:func:`check_free_space`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from astrovader.errors import AstrovaderError

TEMP = ".tmp-"
_STALE = re.compile(r"^\..+\.tmp-[A-Za-z0-9_]{8}")
LOCK_NAME = ".astrovader.lock"

log = logging.getLogger(__name__)


def _named(exc: OSError, path: Path) -> OSError:
    """``exc`` naming the output ``path``: when it names no file, or one of its temporaries."""
    name = None if exc.filename is None else os.fsdecode(exc.filename)
    temporary = str(path.parent / f".{path.name}{TEMP}")
    if name is None:
        name = str(path)
    elif name.startswith(temporary):  # the temporary file, or a file in the temporary folder
        rest = name[len(temporary) :]
        name = str(path) + (rest[rest.index(os.sep) :] if os.sep in rest else "")
    if name == exc.filename:
        return exc
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return OSError(exc.errno, reason, name)


@contextlib.contextmanager
def naming_errors(path: str | os.PathLike):
    """Make an OS error raised inside name the output ``path`` (not its temporary).

    A full disk or a failed ``write`` raises ``OSError`` without a file name, and
    a refused temporary is a hidden name the user never asked for; the command
    line prints the output's name, so that the user knows which output failed.
    """
    try:
        yield
    except OSError as exc:
        named = _named(exc, Path(path))
        if named is exc:
            raise
        raise named from exc


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the ones created, deepest last."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        with naming_errors(created):
            created.mkdir(exist_ok=True)
    return list(reversed(missing))


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders an output created (deepest first) while they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path beside ``path`` and rename it onto ``path`` on success.

    Args:
        path: The final file name.
        suffix: Suffix of the temporary file (some writers, such as Keras,
            insist on one); defaults to the suffix of ``path``.

    Yields:
        The temporary path to write to. On an exception it is removed and
        ``path`` is left untouched.
    """
    path = Path(path)
    created = _make_parents(path.parent)
    done = False
    with naming_errors(path):
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}{TEMP}", suffix=suffix or "".join(path.suffixes)
        )
        os.close(fd)
        os.unlink(tmp)
    try:
        with naming_errors(path):
            yield Path(tmp)
            os.replace(tmp, path)
        done = True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if not done:
            _remove_empty(created)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike):
    """Yield a new temporary folder beside ``out``, renamed onto ``out`` on success.

    ``out`` must be absent or an empty folder. The folder gets the usual
    permissions (``0777`` less the umask), not the private ones of ``mkdtemp``.

    Yields:
        The temporary folder to fill. On an exception it is removed with what it
        holds, and ``out`` is left untouched.
    """
    out = Path(out)
    created = _make_parents(out.parent)
    done = False
    with naming_errors(out):
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}{TEMP}"))
        tmp.chmod(0o777 & ~_umask())
    try:
        with naming_errors(out):
            yield tmp
            if out.is_dir():
                out.rmdir()
            os.replace(tmp, out)
        done = True
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if not done:
            _remove_empty(created)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def remove_stale(
    directory: str | os.PathLike, recursive: bool = True, name: str | None = None
) -> list[Path]:
    """Delete the temporary files and folders a killed writer left in ``directory``; log them.

    Only names of the :func:`atomic_path` form (``.NAME.tmp-XXXXXXXX…``) are
    touched. Call it while holding the lock of the directory or of the output.

    Args:
        directory: Where the temporaries are.
        recursive: Also in the sub-folders (a run, a report, a folder of outputs).
        name: Only the temporaries of this one output (``.NAME.tmp-…``), not recursive.

    Returns:
        The paths removed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    if name is not None:
        found = directory.glob(f".{glob_escape(name)}{TEMP}*")
    else:
        found = directory.rglob(".*") if recursive else directory.glob(".*")
    removed = []
    for path in sorted(found, key=lambda p: len(p.parts), reverse=True):
        if not _STALE.match(path.name) or not path.exists():
            continue
        if any(path.is_relative_to(done) for done in removed):
            continue
        with naming_errors(path):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        names = ", ".join(str(p.relative_to(directory)) for p in sorted(removed)[:3])
        more = f" and {len(removed) - 3} more" if len(removed) > 3 else ""
        log.info(
            "%s: removed %d temporary output(s) an interrupted astrovader left: %s%s",
            directory,
            len(removed),
            names,
            more,
        )
    return removed


def glob_escape(text: str) -> str:
    """``text`` with the pattern characters of ``Path.glob`` taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _acquire(path: Path):
    """Open and lock ``path``, or return the holder's process id (a string) if it is held."""
    while True:
        handle = open(path, "a+")  # kept open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                handle.close()
                raise
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            return holder
        try:  # the previous holder may have removed the file before we locked it
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                return handle
        except FileNotFoundError:
            pass
        handle.close()


@contextlib.contextmanager
def _holding(lock: Path, busy):
    """Hold ``lock`` (``fcntl.flock``, the holder's process id inside) while the block runs.

    Raises:
        AstrovaderError: another process holds it; the message is ``busy(its process id)``.
    """
    with naming_errors(lock):
        handle = _acquire(lock)
    if isinstance(handle, str):
        raise AstrovaderError(busy(handle))
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        handle.close()


@contextlib.contextmanager
def directory_lock(directory: str | os.PathLike):
    """Hold an exclusive lock on ``directory`` (created if needed) while the block runs.

    The lock is ``fcntl.flock`` on ``DIRECTORY/.astrovader.lock``, which holds the
    writer's process id and is removed when the block ends. The system releases
    the lock when the process ends, however it ends, so a crash never leaves the
    directory locked (a stale lock file is simply locked again).

    Raises:
        AstrovaderError: another process holds the lock; the message names the
            directory and that process's id.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    def busy(pid: str) -> str:
        return (
            f"{directory}: in use by another astrovader process (PID {pid}); wait for it to "
            "finish or stop it"
        )

    with _holding(directory / LOCK_NAME, busy):
        yield directory


@contextlib.contextmanager
def output_lock(path: str | os.PathLike):
    """Be the one writer of the output file or folder ``path`` while the block runs.

    The lock is ``DIR/.NAME.lock`` beside the output (as :func:`directory_lock`);
    holding it, the temporaries a killed writer of the same output left are
    removed (and logged). Missing parent folders are created, and removed again
    if the block fails while they are still empty.

    Raises:
        AstrovaderError: another process is writing the same output.
    """
    path = Path(path)
    created = _make_parents(path.parent)

    def busy(pid: str) -> str:
        return (
            f"{path}: being written by another astrovader process (PID {pid}); wait for it to "
            "finish or stop it"
        )

    done = False
    try:
        with _holding(path.parent / f".{path.name}.lock", busy):
            remove_stale(path.parent, name=path.name)
            yield path
            done = True
    finally:
        if not done:
            _remove_empty(created)


def check_free_space(directory: str | os.PathLike, needed: int, what: str) -> None:
    """Refuse to write ``needed`` bytes into ``directory`` when the disk has less room.

    Args:
        directory: Where the output goes.
        needed: Its expected size in bytes (a margin is added).
        what: The output, for the message.

    Raises:
        AstrovaderError: the free space is below ``needed`` plus a margin.
    """
    free = shutil.disk_usage(directory).free
    margin = max(needed // 2, 1 << 20)
    if free < needed + margin:
        raise AstrovaderError(
            f"{directory}: only {free / 1e6:.1f} MB free, {what} needs about "
            f"{(needed + margin) / 1e6:.1f} MB"
        )


@contextlib.contextmanager
def deferred_interrupts():
    """Hold Ctrl-C (SIGINT) back while a file is written; it takes effect right after.

    An interrupt inside h5py's writer can leave its global lock held, and the
    process then hangs at exit instead of stopping. Only the main thread receives
    SIGINT, so elsewhere (and where ``pthread_sigmask`` does not exist) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
