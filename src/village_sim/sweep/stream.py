"""Runs stream back one by one, also from the middle of a chunk.

A parallel engine sends several runs per task (a chunk, ``--runs-per-task``), but a run's
result should not wait for the rest of its chunk: a worker killed (a SLURM walltime, an
``scancel``, a crash) halfway through a chunk would otherwise lose the runs it had finished,
and the progress bar would move in steps of a chunk. So each run of a chunk is also sent back
on its own as soon as it ends, by a *sender* the task carries:

* ``processes``: :class:`QueueSender` writes the result into a
  ``multiprocessing.SimpleQueue`` that the pool's workers get when they start (a plain pipe,
  written synchronously: a result sent is in the pipe even if the worker dies the next moment).
* ``dask`` and ``slurm``: :class:`DaskSender` logs it as a Dask *event* on the topic
  :data:`TOPIC` (``Worker.log_event``: the worker's batched stream to the scheduler, which
  forwards it to the subscribed client; no task, no scheduler round trip). Events of another
  sweep on the same scheduler carry another session and are ignored. A result larger than
  :data:`DASK_EVENT_BYTES` is not sent this way (the scheduler keeps the last events of a
  topic, ``distributed.admin.low-level-log-length`` of them).

The chunk's own result still holds every run: that is what a run not streamed, or streamed
but not yet arrived, is taken from. The client (:class:`Inbox`) settles each run once — by
whichever copy comes first — so a run is stored once however its copies arrive, and a chunk
that Dask runs again after losing a worker streams copies that are ignored. A run's result
does not depend on how it came back.

This module imports only the standard library (and Dask inside :class:`DaskSender`).
"""

from __future__ import annotations

import pickle
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["DASK_EVENT_BYTES", "TOPIC", "DaskSender", "Inbox", "QueueSender", "set_worker_queue"]

TOPIC = "village-sim-runs"
"""The Dask event topic on which workers stream finished runs."""

DASK_EVENT_BYTES = 256 * 1024
"""Largest pickled result streamed as a Dask event; larger ones come back with their chunk."""

_WORKER_QUEUE: Any = None
"""The processes engine's result queue, in a worker (set by :func:`set_worker_queue`)."""


def set_worker_queue(results: Any) -> None:
    """Give this worker process the queue its :class:`QueueSender` writes to."""
    global _WORKER_QUEUE
    _WORKER_QUEUE = results


class QueueSender:
    """Sends a finished run into the processes engine's queue (see module docs)."""

    def __call__(self, result: Any) -> None:
        """Send ``result`` (a no-op outside a processes engine's worker)."""
        if _WORKER_QUEUE is not None:
            _WORKER_QUEUE.put(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


class DaskSender:
    """Logs a finished run as a Dask event of the sweep's ``session`` (see module docs).

    Args:
        session: The engine's session id (the client ignores other sessions' runs).
    """

    def __init__(self, session: str):
        self.session = session

    def __call__(self, result: Any) -> None:
        """Send ``result`` (a no-op outside a Dask worker, or if it is too large)."""
        from distributed import get_worker

        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        if len(payload) > DASK_EVENT_BYTES:
            return  # it comes back with its chunk
        try:
            worker = get_worker()
        except ValueError:
            return  # not in a Dask worker (a test calling the task directly)
        worker.log_event(TOPIC, {"session": self.session, "result": payload})


class Inbox:
    """The client's side: runs and finished chunks, in the order they arrive, each run once.

    Engines put into it from other threads: :meth:`put_run` for a streamed run (pickled),
    :meth:`put_done` for a finished chunk (its future). :meth:`arrivals` yields
    ``(kind, item)``: ``("run", RunResult)`` for a streamed run that is still expected, or
    ``("done", future)``. :meth:`expect` and :meth:`settle` keep the set of runs that are in
    flight and not yet settled; a streamed run that is not (its chunk already settled it, or
    another copy came first) is dropped here.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._expected: set[str] = set()
        self._lock = threading.Lock()

    def put_run(self, payload: bytes) -> None:
        """A streamed run (pickled :class:`~village_sim.sweep.runner.RunResult`)."""
        self._queue.put(("run", payload))

    def put_done(self, future: Any) -> None:
        """A chunk's future has finished (well or not)."""
        self._queue.put(("done", future))

    def expect(self, run_ids: Iterator[str] | list[str]) -> None:
        """These runs are now in flight."""
        with self._lock:
            self._expected.update(run_ids)

    def settle(self, run_id: str) -> bool:
        """Mark a run settled; False if it already was (or was never expected)."""
        with self._lock:
            if run_id in self._expected:
                self._expected.discard(run_id)
                return True
            return False

    def next(self, timeout: float) -> tuple[str, Any] | None:
        """The next arrival, or ``None`` after ``timeout`` seconds without one.

        A streamed run that is not expected (any more) is dropped and the wait goes on.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                kind, item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if kind != "run":
                return kind, item
            result = pickle.loads(item)
            with self._lock:
                if result.run_id in self._expected:
                    return kind, result

    def arrivals(self, timeout: float = 1.0) -> Iterator[tuple[str, Any] | None]:
        """Yield arrivals as they come; ``None`` after ``timeout`` seconds without one.

        (So that the caller can look around, and a Ctrl-C is seen.)
        """
        while True:
            yield self.next(timeout)
