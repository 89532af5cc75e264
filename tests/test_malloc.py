"""glibc's allocator keeps the freed step buffers: no fresh pages, no fault per step."""

import subprocess
import sys

import pytest

from astrovader import _malloc

FAULTS = """
import resource
import numpy as np
from astrovader._malloc import keep_heap

def faults():
    # One step's buffers: 100 blocks of 1 MiB written, then all freed.
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    blocks = [np.ones(1 << 18, np.float32) for _ in range(100)]
    del blocks
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

faults(), faults()  # glibc's own thresholds adapt to the pattern
before = faults()
applied = keep_heap()
faults()  # the first step after the change grows the heap once
print(applied, before, faults())
"""


def _run(env=None):
    import os

    out = subprocess.run(
        [sys.executable, "-c", FAULTS],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    applied, before, after = out.stdout.split()
    return applied == "True", int(before), int(after)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_buffers_stay_in_the_process():
    applied, before, after = _run()
    assert applied
    # With glibc's defaults the freed 100 MiB go back to the kernel at every step, and
    # the next step writes fresh pages (25,600 of 4 KiB); kept, it writes none.
    assert before > 0.9 * 100 * 256
    assert after < before / 100


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_environment_keeps_the_systems_allocator():
    applied, before, after = _run({_malloc.ENV: "system"})
    assert not applied
    assert after > 0.9 * before
