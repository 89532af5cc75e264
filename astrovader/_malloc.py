"""glibc's allocator kept from returning TensorFlow's step buffers to the system.

A training step on the CPU allocates and frees the same tensors (a few MB each at
32 px, tens of MB at 128 px) at every step. With glibc's defaults a freed block at the
top of the heap (or one above the mmap threshold) goes back to the kernel, and the
next step's block of the same size arrives as fresh pages, each a page fault on its
first write: measured on a 2-core AMD EPYC, a quick-start fit of 300 images spent
33 s of its 157 CPU-s in the kernel (7.8 million minor faults). With the heap kept
(trim threshold 1 GiB, top pad 64 MiB, mmap threshold 32 MiB: the largest glibc
takes) it spent 12 s there (2.3 million faults), the user time unchanged. The memory
stays with the process for its next step, as TensorFlow's GPU allocator keeps its own.

:func:`keep_heap` applies these through ``mallopt`` where the C library has it (glibc);
elsewhere (macOS, musl) it does nothing. ``ASTROVADER_MALLOC=system`` leaves the
allocator as it is.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["ENV", "SETTINGS", "keep_heap"]

ENV = "ASTROVADER_MALLOC"
"""Set to ``system`` to keep the C library's own allocator settings."""

# mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD.
SETTINGS = ((-1, 1 << 30), (-2, 64 << 20), (-3, 32 << 20))
"""(mallopt parameter, value) pairs: trim threshold, top pad, mmap threshold."""


def keep_heap() -> bool:
    """Keep freed memory in the process (see the module docstring); True if applied."""
    if os.environ.get(ENV, "").strip().lower() == "system":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in SETTINGS)
