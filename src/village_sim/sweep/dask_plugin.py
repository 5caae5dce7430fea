"""Dask hooks run on the workers: BLAS pinning (DESIGN §7) and the workers' environment.

Kept in its own module so that the plugin is pickled by reference (workers import it), so that
``dask worker --preload-nanny village_sim.sweep.dask_plugin`` can name it, and so that importing
the rest of :mod:`village_sim.sweep` never imports ``distributed``.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from village_sim.sweep.engines import dask_worker_environ
from village_sim.sweep.threads import pin_blas_threads

__all__ = ["PinThreadsPlugin", "dask_setup"]


class PinThreadsPlugin(WorkerPlugin):
    """Set the thread-pinning variables on a worker (and on the processes it starts)."""

    name = "village-sim-pin-threads"

    def setup(self, worker: Any) -> None:
        """Pin the threads when the plugin is registered with (or a worker joins) the cluster."""
        pin_blas_threads()


def dask_setup(server: Any) -> None:
    """Give a nanny's worker the environment of the engine's own workers (a nanny preload).

    Run by ``dask worker --preload-nanny village_sim.sweep.dask_plugin`` (the SLURM engine's
    job scripts do; docs/cluster.md shows it for a cluster of your own) before the nanny starts
    its worker process: the worker then runs without Dask's ``MALLOC_TRIM_THRESHOLD_`` (the
    Dask engine's extra CPU per run, :func:`~village_sim.sweep.engines.dask_worker_environ`)
    and with BLAS pinned to one thread, as serial and processes runs do. Only a nanny has an
    environment to give; run as a worker preload (``--preload``) it does nothing.
    """
    if not hasattr(server, "pre_spawn_env"):
        return
    server.pre_spawn_env = dask_worker_environ(server.pre_spawn_env)
    server.env = dask_worker_environ(server.env)
