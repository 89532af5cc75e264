"""Safe output: atomic writes, stale temporary files, one writer per directory, free space.

Every output is written to a temporary file beside its target, named
``.NAME.tmp-XXXXXXXX…``, and renamed onto the target when complete
(:func:`atomic_path`, :func:`atomic_dir`), so a reader never sees half a file. A
process killed mid-write leaves its temporary file; :func:`remove_stale` deletes
such files when the same command next starts on the same directory (under the
directory's lock, so never a file another writer is still using). A directory
has one writer at a time (:func:`directory_lock`); an output that would not fit
in the free space is refused before it is written (:func:`check_free_space`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}{TEMP}", suffix=suffix or "".join(path.suffixes)
    )
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def temporary_dir(out: Path) -> Path:
    """A new temporary folder beside ``out`` (for outputs that are folders)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}{TEMP}"))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def remove_stale(directory: str | os.PathLike, recursive: bool = True) -> int:
    """Delete temporary files and folders a killed writer left in ``directory``.

    Only names of the :func:`atomic_path` form (``.NAME.tmp-XXXXXXXX…``) are
    touched. Call it while holding the directory's lock.

    Returns:
        How many were removed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    found = directory.rglob(".*") if recursive else directory.glob(".*")
    removed = 0
    for path in sorted(found, key=lambda p: len(p.parts), reverse=True):
        if not _STALE.match(path.name) or not path.exists():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


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
    path = directory / LOCK_NAME
    handle = _acquire(path)
    if isinstance(handle, str):
        raise AstrovaderError(
            f"{directory}: in use by another astrovader process (PID {handle}); wait for it "
            "to finish or stop it"
        )
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield directory
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        handle.close()


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
