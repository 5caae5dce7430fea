"""Pin BLAS and OpenMP thread pools to one thread (DESIGN §7), without importing numpy.

Every engine runs one simulation per process (or per Dask worker with one thread), so a BLAS
pool of several threads per process would only oversubscribe the cores and make timings —
and, for some BLAS calls, floating-point sums — depend on the machine. The variables must be
set before numpy loads its BLAS: the command line calls :func:`pin_blas_threads` first thing,
child processes and Dask workers inherit the environment (and Dask's nanny sets them again
from ``distributed.nanny.pre-spawn-environ``), and the Dask engine's worker plugin sets them on
workers of an existing cluster
(:mod:`village_sim.sweep.dask_plugin`). If ``threadpoolctl`` is installed, pools that are already
loaded are limited too; it is optional.

This module imports only the standard library.
"""

from __future__ import annotations

import os

__all__ = ["PINNED_THREAD_VARS", "blas_threads_setting", "pin_blas_threads", "pinned_environ"]

PINNED_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def pinned_environ() -> dict[str, str]:
    """The variables that pin every known BLAS/OpenMP pool to one thread."""
    return dict.fromkeys(PINNED_THREAD_VARS, "1")


def pin_blas_threads() -> None:
    """Set the pinning variables in this process (inherited by every child it starts).

    Effective for this process only if numpy has not loaded yet (or if ``threadpoolctl`` is
    installed); always effective for processes started afterwards.
    """
    os.environ.update(pinned_environ())
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)  # pragma: no cover - optional dependency


def blas_threads_setting() -> str:
    """``OPENBLAS_NUM_THREADS`` as this process sees it (recorded with every run)."""
    return os.environ.get("OPENBLAS_NUM_THREADS", "unset")


def process_initializer() -> None:
    """Initializer of the processes engine's workers: pin threads, then import the model."""
    pin_blas_threads()
    from village_sim.sweep.runner import warm_up

    warm_up()

