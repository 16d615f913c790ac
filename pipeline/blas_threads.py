"""numpy's bundled OpenBLAS on one thread for a while: `with one_blas_thread(): ...`.

OpenBLAS's worker threads spin while they wait. Beside TensorFlow's threads, or beside a second analysis thread,
on a busy two-core machine, LAPACK's eigendecomposition ran 5-20x slower threaded and the replay's many
mid-sized products 3-4x slower (measured). threadpoolctl would do this but is not a dependency; these are
the two functions OpenBLAS exports for it. Where numpy has no bundled OpenBLAS this does nothing.
The setting is process-wide: callers that run threads enter it once around them, not inside each thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from pathlib import Path

import numpy as np


@functools.cache
def _thread_calls() -> tuple | None:
    """Return numpy's bundled OpenBLAS (get, set) thread-count functions, or None where it has none."""
    folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(folder.glob("*openblas*.so*")):
        try:
            library = ctypes.CDLL(str(path))  # the copy numpy already loaded: dlopen returns its handle
        except OSError:
            continue
        for suffix in ("64_", "_64_", ""):
            get = getattr(library, f"scipy_openblas_get_num_threads{suffix}", None)
            put = getattr(library, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                return get, put
    return None


@contextlib.contextmanager
def one_blas_thread():
    """Run numpy's BLAS and LAPACK calls on one thread meanwhile, then restore the count it had."""
    calls = _thread_calls()
    before = calls[0]() if calls else None
    if calls:
        calls[1](1)
    try:
        yield
    finally:
        if calls:
            calls[1](before)
