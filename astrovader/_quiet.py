"""Keep TensorFlow's native log lines off the terminal (the program's own lines stay).

TensorFlow and absl write from C++ straight to file descriptor 2, some of it before
their log levels apply (``WARNING: All log messages before absl::InitializeLog() …``,
``E0000 … failed call to cuInit``, grappler's ``remapper failed``). :func:`quiet_native_logs`
sets the documented levels (``TF_CPP_MIN_LOG_LEVEL``) and moves descriptor 2 onto a
pipe whose reader thread drops the lines of that format and passes every other line
on; Python's ``sys.stderr`` (messages, progress bars, errors) writes to the original
terminal directly.

The command line calls it before anything imports TensorFlow (``--verbose`` leaves
descriptor 2 alone). Importing :mod:`astrovader` installs :func:`quiet_on_tensorflow_import`,
so that a script or the Python API gets the same quiet start the first time anything
imports TensorFlow; it does nothing when ``sys.stderr`` is not descriptor 2 (Jupyter,
a test runner's capture), when TensorFlow is already imported, or when the environment
variable ``ASTROVADER_TF_LOGS`` is set (to see TensorFlow's lines).
"""

from __future__ import annotations

import atexit
import importlib.abc
import io
import os
import re
import sys
import threading

NATIVE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # absl / TF C++ log lines
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|To enable the following instructions:"
    r"|This TensorFlow binary is optimized to use available CPU instructions)"
)
KEEP_LOGS = "ASTROVADER_TF_LOGS"
_installed = False


def is_native_log(line: str) -> bool:
    """Whether a stderr line is TensorFlow's or absl's native logging."""
    return bool(NATIVE.match(line))


def quiet_native_logs() -> None:
    """Silence native logging before TensorFlow is imported (see the module docstring)."""
    global _installed
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if _installed:
        return
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        read_end, write_end = os.pipe()
    except OSError:
        return
    _installed = True
    os.dup2(write_end, 2)
    os.close(write_end)
    sys.stderr = io.TextIOWrapper(
        os.fdopen(terminal, "wb", buffering=0),
        encoding="utf-8",
        errors="replace",
        line_buffering=True,
        write_through=True,
    )

    def forward():
        with os.fdopen(read_end, "rb") as pipe:
            for raw in pipe:
                line = raw.decode("utf-8", "replace")
                if not is_native_log(line):
                    os.write(terminal, raw)

    thread = threading.Thread(target=forward, name="astrovader-stderr", daemon=True)
    thread.start()

    def finish():
        try:
            os.dup2(terminal, 2)  # closes the pipe's write end: the reader drains and ends
        except OSError:
            return
        thread.join(timeout=1.0)

    atexit.register(finish)


def _stderr_is_descriptor_2() -> bool:
    try:
        return sys.stderr is sys.__stderr__ and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


class _OnTensorFlow(importlib.abc.MetaPathFinder):
    """Quiets native logs just before the first ``import tensorflow``, then removes itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "tensorflow":
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            if not os.environ.get(KEEP_LOGS) and _stderr_is_descriptor_2():
                quiet_native_logs()
        return None


def quiet_on_tensorflow_import() -> None:
    """Quiet TensorFlow's native lines when something first imports it (see the docstring)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or any(isinstance(f, _OnTensorFlow) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _OnTensorFlow())
