"""A Dask worker plugin that pins BLAS threads on every worker of the cluster (DESIGN §7).

Kept in its own module so that the plugin is pickled by reference (workers import it) and so
that importing the rest of :mod:`village_sim.sweep` never imports ``distributed``.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from village_sim.sweep.threads import pin_blas_threads

__all__ = ["PinThreadsPlugin"]


class PinThreadsPlugin(WorkerPlugin):
    """Set the thread-pinning variables on a worker (and on the processes it starts)."""

    name = "village-sim-pin-threads"

    def setup(self, worker: Any) -> None:
        """Pin the threads when the plugin is registered with (or a worker joins) the cluster."""
        pin_blas_threads()
