"""Engines that run a sweep — serial, local processes, Dask distributed — and :func:`run_sweep`.

Every engine runs the same :func:`~village_sim.sweep.runner.execute_run` on the same
:class:`~village_sim.sweep.runner.RunTask` objects, so the stored results are identical
whatever the engine (DESIGN §7; a test says so). The parallel engines keep a bounded number of
runs in flight — a sliding window: submit ``max_in_flight`` tasks, then one more each time one
finishes — so the client holds a few results at a time and its memory stays flat however many
runs a sweep has (benchmarks/README.md, "Sweeps").

The parallel engines send runs in chunks — several runs per task (:class:`Chunker`,
``--runs-per-task``) — so that the cost of a task (a scheduler round trip, pickling, the Dask
scheduler's bookkeeping) is spread over a few seconds of work however short a run is. By
default the first tasks hold one run each and, once a run has come back, each task holds as
many runs as take about :data:`TASK_SECONDS`, bounded so that every worker still gets several
tasks. Results stream per run: each run of a chunk is sent back as soon as it ends and stored
at once (:mod:`village_sim.sweep.stream`), so a chunk interrupted halfway leaves its finished
runs stored and only its missing runs to a resumed sweep.

* ``serial``: in this process.
* ``processes``: ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method
  (fresh interpreters that inherit the pinned BLAS variables).
* ``dask``: ``distributed.LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``, or
  ``distributed.Client(ADDRESS)`` for an existing scheduler (a SLURM cluster from
  dask-jobqueue, ``dask scheduler`` + ``dask worker`` by hand; docs/cluster.md).
* ``slurm``: ``dask``'s engine on a dask-jobqueue ``SLURMCluster`` it starts and stops
  (:class:`village_sim.sweep.cluster.SlurmEngine`, from a ``[cluster]`` table).
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from village_sim.outputs import raise_swallowed_interrupt
from village_sim.refusal import Refusal
from village_sim.sweep import models
from village_sim.sweep.design import count_runs, design_points, iter_plan_chunks, iter_tasks
from village_sim.sweep.runner import RunResult, RunTask, execute_chunk, execute_run, warm_up
from village_sim.sweep.spec import SweepSpec
from village_sim.sweep.store import SweepStore, package_version, write_run_table
from village_sim.sweep.stream import (
    TOPIC,
    DaskSender,
    Inbox,
    QueueSender,
    set_worker_queue,
)
from village_sim.sweep.threads import pin_blas_threads, pinned_environ, process_initializer

if TYPE_CHECKING:
    from village_sim.sweep.cluster import ClusterConfig

__all__ = [
    "AUTO",
    "ENGINES",
    "Chunker",
    "DaskEngine",
    "ProcessEngine",
    "SerialEngine",
    "SweepSummary",
    "check_runs_per_task",
    "dask_worker_environ",
    "make_engine",
    "run_sweep",
]

ENGINES = ("serial", "processes", "dask", "slurm")

LOST_ABORT = 5
"""Stop a sweep once this many runs were lost (engine errors) before any run came back."""

Outcome = RunResult | BaseException
"""A run's result, or the engine's exception when the run never came back (lost)."""

AUTO = "auto"
"""``--runs-per-task auto``: chunks sized from the measured run time (:class:`Chunker`)."""

TASK_SECONDS = 3.0
"""Work per task aimed at by ``--runs-per-task auto``, seconds."""

LATE_RUN_SECONDS = 1.0
"""When a chunk is lost, how long to wait for more of its streamed runs before the rest of it
counts as lost."""

PLAN_ROWS = 10_000
"""Rows of the run plan built in memory at a time while it is written (flat client memory)."""

TASKS_PER_WORKER = 4
"""``auto`` leaves at least this many tasks per worker of the runs still to submit (a chunk
never holds more than that allows), so the work stays balanced to the end of a sweep."""


def check_runs_per_task(value: int | str) -> int | str:
    """``value`` as ``--runs-per-task`` takes it: an integer >= 1 or ``"auto"``.

    Raises:
        Refusal: for anything else (``error.runs_per_task``).
    """
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    number: Any = value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = int(value.strip())
    if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
        return number
    raise Refusal("error.runs_per_task", value=value)


class Chunker:
    """How many runs go in the next task.

    A fixed ``runs_per_task``, or :data:`AUTO`: one run per task until a run has come back,
    then as many runs as take :data:`TASK_SECONDS` at the mean run time measured so far, at
    most the runs still to submit over :data:`TASKS_PER_WORKER` tasks per worker, at least one.
    A run's result never depends on the chunk it ran in, so the sizes only change speed.

    Args:
        runs_per_task: An integer >= 1 or ``"auto"``.
        workers: Workers (threads) sharing the runs.
        runs: Runs this session will submit (an estimate suffices: it only bounds chunks).
    """

    def __init__(self, runs_per_task: int | str, workers: int, runs: int):
        self.fixed = None if runs_per_task == AUTO else int(runs_per_task)
        self.workers = max(1, workers)
        self.unsubmitted = max(0, runs)
        self._seconds = 0.0
        self._measured = 0

    def size(self) -> int:
        """Runs for the next task."""
        if self.fixed is not None:
            return self.fixed
        if not self._measured:
            return 1
        mean = max(self._seconds / self._measured, 1e-3)
        by_time = max(1, int(TASK_SECONDS / mean))
        balanced = max(1, math.ceil(self.unsubmitted / (TASKS_PER_WORKER * self.workers)))
        return min(by_time, balanced)

    def next_chunk(self, tasks: Iterator[RunTask]) -> tuple[RunTask, ...]:
        """The next task's runs from ``tasks`` (empty when there are none left)."""
        chunk = tuple(task for _, task in zip(range(self.size()), tasks, strict=False))
        self.unsubmitted = max(0, self.unsubmitted - len(chunk))
        return chunk

    def observe(self, result: RunResult) -> None:
        """Learn a finished run's time (wall time on its worker)."""
        self._seconds += result.duration_s
        self._measured += 1



# ---------------------------------------------------------------------------- engines
@contextlib.contextmanager
def sigint_ignored_by_children() -> Iterator[None]:
    """Start worker processes that ignore SIGINT; this process keeps its Ctrl-C.

    A Ctrl-C in a terminal reaches every process of the foreground group: workers would each
    print a ``KeyboardInterrupt`` traceback (11-66 lines on Dask). An ignored signal stays
    ignored across ``fork``/``exec``, and neither Python nor asyncio installs a handler over an
    inherited SIG_IGN, so the workers never see Ctrl-C and this process decides: it stops them
    when it ends. (A blocked mask would not do: multiprocessing's spawn resets it.) Here the
    signal is also blocked meanwhile, so a Ctrl-C pressed while the workers start is held, not
    lost, and arrives as soon as they have started.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are set in the main thread only
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


QUIET_RESOURCE_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"
"""The warnings filter :func:`quiet_resource_tracker` gives multiprocessing's tracker."""


def quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker, when it starts, without its exit warnings.

    The tracker (one process, started with this process's first named semaphore) removes at
    its exit the semaphores a process registered and did not remove, with a ``UserWarning``
    each. After a Ctrl-C of a ``processes`` sweep it sometimes reported one of the engine's
    semaphores that this process had removed already ("leaked semaphore ... No such file or
    directory": seen once in a full test run under load, 2026-12-04), three lines after the
    sweep's one-line message, though every run was stored and nothing was left behind. The
    tracker is started with this process's ``-W`` options (``sys.warnoptions``): adding the
    filter here, before the engine creates its first semaphore, quiets the tracker only; the
    filters in force in this process are unchanged.
    """
    if QUIET_RESOURCE_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_RESOURCE_TRACKER)


def _started(_: int) -> int:
    """A no-op task: returns the worker's process id once its initializer has run."""
    return os.getpid()


class SerialEngine:
    """Runs every task in this process, one after the other."""

    name = "serial"

    def __init__(self) -> None:
        self.description = "serial (this process)"

    def __enter__(self) -> SerialEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def slots(self) -> int:
        """Runs that run at once."""
        return 1

    def results(self, tasks: Iterator[RunTask], chunker: Chunker | None = None,
                ) -> Iterator[tuple[RunTask, Outcome]]:
        """Yield each task with its result, in order (no tasks to schedule: no chunks)."""
        for task in tasks:
            yield task, execute_run(task)


def _process_worker_init(results: Any) -> None:
    """Initializer of the processes engine's workers: stream queue, pinned threads, model."""
    set_worker_queue(results)
    process_initializer()


class _Flight:
    """The chunks of a parallel engine in flight, and the inbox their runs come back through.

    Each run is yielded once, as soon as the first copy of its result arrives — streamed from
    the middle of its chunk, or with the chunk (:mod:`village_sim.sweep.stream`).
    """

    def __init__(self, chunker: Chunker):
        self.inbox = Inbox()
        self.chunker = chunker
        self.chunks: dict[Any, tuple[RunTask, ...]] = {}
        self._tasks: dict[str, RunTask] = {}

    def add(self, key: Any, chunk: tuple[RunTask, ...]) -> None:
        """A chunk was submitted under ``key``."""
        self.chunks[key] = chunk
        for task in chunk:
            self._tasks[task.run_id] = task
        self.inbox.expect([task.run_id for task in chunk])

    def results(self, key_of: Callable[[Any], Any],
                collect: Callable[[Any, int], list[Outcome]],
                refill: Callable[[], None]) -> Iterator[tuple[RunTask, Outcome]]:
        """Yield each run of the chunks in flight with its outcome, refilling as chunks end.

        Args:
            key_of: A finished chunk's key, from what the inbox got (its future).
            collect: A finished chunk's outcomes from its future and its number of runs, in
                the order of its runs (their results, or the engine's exception for each).
            refill: Submits chunks (through :meth:`add`) up to the engine's window.
        """
        refill()
        arrivals = self.inbox.arrivals()
        while self.chunks:
            arrival = next(arrivals)
            if arrival is None:
                continue  # nothing for a while: wait again (a Ctrl-C is seen meanwhile)
            kind, item = arrival
            if kind == "run":
                if self.inbox.settle(item.run_id):
                    self.chunker.observe(item)
                    yield self._tasks.pop(item.run_id), item
                continue
            chunk = self.chunks.pop(key_of(item))
            outcomes = collect(item, len(chunk))
            if any(not isinstance(outcome, RunResult) for outcome in outcomes):
                # lost runs: first take what the chunk had streamed and is still on its way
                # (a worker that died right after sending; the pipes are not ordered)
                yield from self._late_runs()
            for task, outcome in zip(chunk, outcomes, strict=True):
                if self.inbox.settle(task.run_id):
                    self._tasks.pop(task.run_id, None)
                    if isinstance(outcome, RunResult):
                        self.chunker.observe(outcome)
                    yield task, outcome
            refill()

    def _late_runs(self, quiet: float = LATE_RUN_SECONDS) -> Iterator[tuple[RunTask, Outcome]]:
        """Streamed runs arriving until none has for ``quiet`` seconds.

        Other arrivals (finished chunks) are put back, after them.
        """
        later = []
        while (arrival := self.inbox.next(quiet)) is not None:
            kind, item = arrival
            if kind == "run":
                if self.inbox.settle(item.run_id):
                    self.chunker.observe(item)
                    yield self._tasks.pop(item.run_id), item
            else:
                later.append(item)
        for item in later:
            self.inbox.put_done(item)


class ProcessEngine:
    """A ``ProcessPoolExecutor`` (spawn) with a sliding window of in-flight tasks (chunks of runs).

    Each run of a chunk streams back through a ``multiprocessing.SimpleQueue`` as soon as it
    ends (:mod:`village_sim.sweep.stream`).

    Args:
        workers: Worker processes.
        max_in_flight: Tasks submitted but not yet collected (default: twice ``workers``).
    """

    name = "processes"

    def __init__(self, workers: int, max_in_flight: int | None = None):
        self.workers = workers
        self.window = max_in_flight or 2 * workers
        self.description = f"processes ({workers} workers, spawn)"
        self._pool: ProcessPoolExecutor | None = None
        self._results: Any = None
        self._reader: threading.Thread | None = None
        self._inbox: Inbox | None = None
        self._flight: _Flight | None = None

    def __enter__(self) -> ProcessEngine:
        pin_blas_threads()  # children inherit the environment at spawn
        quiet_resource_tracker()  # before the first semaphore starts the tracker
        context = multiprocessing.get_context("spawn")
        self._results = context.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="village-sim run stream",
                                        daemon=True)
        self._reader.start()
        with sigint_ignored_by_children():
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context,
                initializer=_process_worker_init, initargs=(self._results,),
            )
            # start every worker now (each imports the model in its initializer), so that
            # start-up is not charged to the first runs
            list(self._pool.map(_started, range(self.workers)))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        pool = self._pool
        if pool is not None:
            pool.shutdown(wait=exc_type is None, cancel_futures=True)
        if self._reader is None:
            return

        # chunks still running (after a Ctrl-C, shutdown(wait=False) lets them finish)
        running = list(self._flight.chunks) if self._flight is not None else []

        def stop_reader() -> None:
            # only once no worker writes any more: a worker still finishing its chunk writes
            # its runs into the queue, and would block for ever on a full pipe nobody reads
            # (and hold the process's exit, which waits for it)
            wait(running)
            self._results.put(None)  # the reader stops at None

        # in a thread of its own: a worker killed while writing leaves the queue's lock held
        threading.Thread(target=stop_reader, name="village-sim stream stop",
                         daemon=True).start()
        if exc_type is None:
            self._reader.join(timeout=2.0)

    def _read(self) -> None:
        while True:
            try:
                payload = self._results.get()
            except (EOFError, OSError):
                return
            if payload is None:
                return
            inbox = self._inbox
            if inbox is not None:
                inbox.put_run(payload)

    def slots(self) -> int:
        """Runs that run at once (the worker processes)."""
        return self.workers

    def results(self, tasks: Iterator[RunTask], chunker: Chunker | None = None,
                ) -> Iterator[tuple[RunTask, Outcome]]:
        """Yield tasks with their results as each run finishes (any order)."""
        assert self._pool is not None, "use the engine as a context manager"
        flight = self._flight = _Flight(chunker or Chunker(1, 1, 0))
        self._inbox = flight.inbox
        broken = False
        sender = QueueSender()

        def refill() -> None:
            nonlocal broken
            while not broken and len(flight.chunks) < self.window:
                chunk = flight.chunker.next_chunk(tasks)
                if not chunk:
                    return
                try:
                    future = self._pool.submit(execute_chunk, chunk, sender)  # type: ignore[union-attr]
                except BrokenProcessPool:
                    broken = True  # the rest stay missing; a rerun resumes them
                    return
                flight.add(future, chunk)
                future.add_done_callback(flight.inbox.put_done)

        def collect(future: Future[list[RunResult]], runs: int) -> list[Outcome]:
            nonlocal broken
            error = future.exception()
            if error is None:
                return list(future.result())
            if isinstance(error, BrokenProcessPool):
                broken = True
            return [error] * runs

        try:
            yield from flight.results(lambda future: future, collect, refill)
        finally:
            self._inbox = None


class DaskEngine:
    """Dask distributed: a ``LocalCluster`` or an existing scheduler, with a sliding window.

    Args:
        workers: Worker processes of the ``LocalCluster`` (ignored with ``scheduler``).
        scheduler: Address of an existing scheduler (e.g. ``tcp://10.0.0.5:8786``), or a
            scheduler file path (``*.json``) as written by ``dask scheduler --scheduler-file``.
        max_in_flight: Tasks (chunks of runs) submitted but not yet collected (default: twice
            the cluster's threads, at least 4; followed as the cluster scales).
        connect_timeout: Seconds to wait for an existing scheduler.
    """

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None,
                 max_in_flight: int | None = None, connect_timeout: float = 10.0):
        self.workers = workers
        self.connect_timeout = connect_timeout
        self.scheduler = scheduler
        self.max_in_flight = max_in_flight
        self.client: Any = None
        self.cluster: Any = None
        self.description = ""
        self._threads = 0
        self._threads_checked = 0.0

    def __enter__(self) -> DaskEngine:
        import dask
        from distributed import Client, LocalCluster

        from village_sim.sweep.dask_plugin import PinThreadsPlugin

        pin_blas_threads()
        if self.scheduler:
            try:
                self.client = _connect(self.scheduler, self.connect_timeout)
            except Exception as err:  # noqa: BLE001 - whatever answered is not a scheduler
                reason = " ".join(str(err).split())[:200] or type(err).__name__
                raise ConnectionError(
                    f"--scheduler {self.scheduler}: no Dask scheduler answered within "
                    f"{self.connect_timeout:g} s (--connect-timeout): {reason}") from None
            self.description = f"dask (scheduler {self.client.scheduler.address})"
        else:
            environ = dask_worker_environ(
                dask.config.get("distributed.nanny.pre-spawn-environ", {}))
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ,
                                  **QUIET_CLUSTER}), sigint_ignored_by_children():
                self.cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    # workers log nothing below CRITICAL: their errors come back as the
                    # runs' results (or as lost runs), and on Ctrl-C a worker whose scheduler
                    # closed first would print a heartbeat traceback over the one-line
                    # message (seen on a loaded 2-core CI machine)
                    dashboard_address=None, silence_logs=logging.CRITICAL,
                    # no dashboard; the scheduler's small HTTP server (health checks) on a
                    # free port rather than 8787, which another cluster may hold
                    scheduler_kwargs={"dashboard_address": ":0"},
                )
            self.client = Client(self.cluster)
            self.description = f"dask (LocalCluster, {self.workers} workers x 1 thread)"
        self.client.register_plugin(PinThreadsPlugin(), name=PinThreadsPlugin.name)
        self.client.run(warm_up)  # workers import the model now, in parallel
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def slots(self) -> int:
        """Runs that run at once (the cluster's threads now)."""
        return sum(self.client.nthreads().values()) or self.workers

    def window(self) -> int:
        """Tasks to keep in flight now."""
        if self.max_in_flight:
            return self.max_in_flight
        now = time.monotonic()
        if now - self._threads_checked > 5.0:
            self._threads = sum(self.client.nthreads().values())
            self._threads_checked = now
        return max(4, 2 * self._threads)

    def results(self, tasks: Iterator[RunTask], chunker: Chunker | None = None,
                ) -> Iterator[tuple[RunTask, Outcome]]:
        """Yield tasks with their results as each run finishes (any order).

        Runs stream back as Dask events of this session (:mod:`village_sim.sweep.stream`),
        each chunk's result holding them all again.
        """
        flight = _Flight(chunker or Chunker(1, 1, 0))
        session = uuid.uuid4().hex[:8]
        sender = DaskSender(session)
        futures: dict[str, Any] = {}  # held: Dask cancels a task whose future is forgotten

        def streamed(event: tuple[float, Any]) -> None:
            message = event[1]
            if isinstance(message, dict) and message.get("session") == session:
                flight.inbox.put_run(message["result"])

        def refill() -> None:
            limit = self.window()
            while len(flight.chunks) < limit:
                chunk = flight.chunker.next_chunk(tasks)
                if not chunk:
                    return
                key = f"village-sim-runs-{chunk[0].run_id}-{len(chunk)}-{session}"
                future = self.client.submit(execute_chunk, chunk, sender, key=key, pure=False)
                futures[key] = future
                flight.add(key, chunk)
                future.add_done_callback(flight.inbox.put_done)

        def collect(future: Any, runs: int) -> list[Outcome]:
            futures.pop(future.key, None)
            try:
                outcomes: list[Outcome] = list(future.result())
            except BaseException as err:  # noqa: BLE001 - lost runs (worker died, cancelled)
                if isinstance(err, KeyboardInterrupt):
                    raise
                outcomes = [err] * runs
            future.release()
            return outcomes

        self.client.subscribe_topic(TOPIC, streamed)
        try:
            yield from flight.results(lambda future: future.key, collect, refill)
        finally:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(TOPIC)


QUIET_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    # the scheduler keeps the last N events of each topic, the streamed runs' included
    # (village_sim.sweep.stream): a few hundred kB, not 1,000 results
    "distributed.admin.low-level-log-length": 50,
}
"""Dask settings of the engine's ``LocalCluster``: less background work beside the runs.

Its defaults are for a cluster watched on a dashboard (which this engine does not start): the
statistical profiler samples the running task's stack every 10 ms, every event loop (the
scheduler and the nannies in the client, each worker) measures its tick every 20 ms, the system
monitor reads psutil every 0.5 s and the memory monitor every 0.1 s. Here the profiler is off
and the others run every 1-2 s (memory limits are still enforced, a second later).
"""


def dask_worker_environ(preset: dict[str, Any]) -> dict[str, Any]:
    """The environment a nanny gives its worker: Dask's preset, pinned, without malloc trimming.

    Dask's default ``distributed.nanny.pre-spawn-environ`` sets ``MALLOC_TRIM_THRESHOLD_`` to
    64 KiB (to hand freed memory back to the OS soon). Setting it also turns off glibc's
    dynamic mmap threshold, so every array above 128 KiB is mapped and unmapped afresh and
    freed heap is trimmed at once: page faults on every allocation of the model's
    10,000-household arrays. That was the Dask engine's extra CPU per run (about a third more
    than serial; benchmarks/README.md, "Sweeps", has the evidence). Workers here get the
    allocator that serial and processes runs have.
    """
    environ = {k: v for k, v in preset.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    return {**environ, **pinned_environ()}


def _connect(scheduler: str, timeout: float) -> Any:
    """A Dask ``Client`` of ``scheduler`` (address or scheduler file), or an error in time.

    Dask's own timeout covers opening the connection, not the handshake that follows: a peer
    that accepts and never answers (a hung scheduler, another service on the port) would hold
    ``Client()`` for ever. So the client is made in a daemon thread and given up on after
    ``timeout`` seconds (plus a second for the handshake); a stuck attempt cannot keep the
    process from exiting.
    """
    from distributed import Client

    box: dict[str, Any] = {}

    def attempt() -> None:
        try:
            if scheduler.endswith(".json"):
                box["client"] = Client(scheduler_file=scheduler, timeout=f"{timeout}s")
            else:
                box["client"] = Client(scheduler, timeout=f"{timeout}s")
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            box["error"] = err

    thread = threading.Thread(target=attempt, name="village-sim connect", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    if "client" in box:
        return box["client"]
    if "error" in box:
        raise box["error"]
    raise TimeoutError("no answer to the handshake")


def make_engine(engine: str, workers: int | None = None, scheduler: str | None = None,
                max_in_flight: int | None = None, connect_timeout: float = 10.0,
                cluster: ClusterConfig | None = None,
                ) -> SerialEngine | ProcessEngine | DaskEngine:
    """Build an engine by name (``serial``, ``processes``, ``dask``, ``slurm``).

    ``cluster`` (for ``slurm`` only, which needs it) is the SLURM cluster to start.

    Raises:
        ValueError: for an unknown engine, a bad worker count, or ``scheduler`` without dask.
    """
    if engine not in ENGINES:
        raise ValueError(f"--engine: got {engine!r}; allowed: {', '.join(ENGINES)}")
    if scheduler and engine != "dask":
        raise Refusal("error.scheduler_needs_dask")
    if cluster is not None and engine != "slurm":
        raise Refusal("error.cluster_needs_slurm")
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"--workers: got {n}; allowed: an integer >= 1")
    if max_in_flight is not None and max_in_flight < 1:
        raise ValueError(f"--max-in-flight: got {max_in_flight}; allowed: an integer >= 1")
    if engine == "serial":
        return SerialEngine()
    if engine == "processes":
        return ProcessEngine(n, max_in_flight)
    if not connect_timeout > 0:
        raise ValueError(f"--connect-timeout: got {connect_timeout}; allowed: seconds > 0")
    if engine == "slurm":
        from village_sim.sweep.cluster import SlurmEngine

        if cluster is None:
            raise Refusal("error.cluster_missing")
        return SlurmEngine(cluster, max_in_flight, connect_timeout)
    if scheduler and scheduler.endswith(".json") and not Path(scheduler).is_file():
        # Dask would wait for the file to appear, for ever
        raise Refusal("error.scheduler_file_missing", at="--scheduler", file=scheduler)
    return DaskEngine(n, scheduler, max_in_flight, connect_timeout)


# ---------------------------------------------------------------------------- sweeps
@dataclass
class SweepSummary:
    """What a sweep did, and what its directory now holds.

    Attributes:
        name: Sweep name.
        out: The sweep directory.
        spec_hash: Hash of the spec.
        engine: Description of the engine used.
        planned: Distinct runs the spec asks for.
        already_stored: Runs found stored when the sweep started (not run again).
        ok: Runs that succeeded in this session.
        failed: Runs that raised in this session (recorded with their traceback).
        lost: Runs the engine lost in this session (not stored; a rerun retries them).
        stored_ok: Runs stored as ``ok`` at the end.
        stored_failed: Runs stored as ``failed`` at the end.
        elapsed_s: Wall time of this session.
        startup_s: Part of ``elapsed_s`` spent starting the engine (processes, cluster).
        interrupted: Whether the session was interrupted (Ctrl-C).
        notes: Warnings worth printing.
        failures: ``(run id, regime, replicate, last line of the error)`` of failed runs.
        lost_errors: One line per lost run.
    """

    name: str
    out: Path
    spec_hash: str
    engine: str = ""
    planned: int = 0
    already_stored: int = 0
    ok: int = 0
    failed: int = 0
    lost: int = 0
    stored_ok: int = 0
    stored_failed: int = 0
    elapsed_s: float = 0.0
    startup_s: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)
    failures: list[tuple[str, str, int, str]] = field(default_factory=list)
    lost_errors: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Planned runs with no stored result."""
        return self.planned - self.stored_ok - self.stored_failed

    @property
    def exit_code(self) -> int:
        """0: every run stored ok; 1: some failed or missing; 130: interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.stored_failed or self.missing else 0

    def line(self) -> str:
        """The one-line summary printed at the end of a sweep."""
        ran = self.ok + self.failed
        running = self.elapsed_s - self.startup_s
        rate = (f" (engine start {self.startup_s:.1f} s, then {ran / running:.2f} runs/s)"
                if ran and running > 0 else "")
        head = "interrupted" if self.interrupted else "done"
        return (
            f"sweep {self.name!r} {head}: {self.planned} runs planned, {self.already_stored} "
            f"already stored; this session ran {ran} in {self.elapsed_s:.1f} s{rate} on "
            f"{self.engine}: {self.ok} ok, {self.failed} failed, {self.lost} lost. Stored: "
            f"{self.stored_ok} ok, {self.stored_failed} failed, {self.missing} missing."
        )


def _drive(active: Any, spec: SweepSpec, design: Any, skip: set[str], store: SweepStore,
           summary: SweepSummary, progress: bool | None, runs_per_task: int | str = AUTO,
           ) -> None:
    """Run the missing runs on the started engine, storing each as it comes back."""
    from tqdm import tqdm

    disable = None if progress is None else not progress
    bar = tqdm(total=summary.planned, initial=len(skip), desc=f"sweep {spec.name}", unit="run",
               disable=disable, smoothing=0.1)
    slots = active.slots() if hasattr(active, "slots") else 1
    chunker = Chunker(runs_per_task, slots, summary.planned - len(skip))
    lost_tasks = 0  # the runs of one lost chunk share its exception
    last_lost: BaseException | None = None
    try:
        for task, outcome in active.results(iter_tasks(spec, design, skip), chunker):
            raise_swallowed_interrupt()  # a Ctrl-C a finalizer swallowed stops the sweep too
            if isinstance(outcome, RunResult):
                parameters = models.resolve(spec.model, task.regime, task.overrides)
                store.commit(task, outcome, parameters)
                if outcome.status == "ok":
                    summary.ok += 1
                else:
                    summary.failed += 1
                    last = (outcome.error.strip().splitlines() or ["?"])[-1]
                    summary.failures.append((task.run_id, task.regime, task.replicate, last))
            else:
                summary.lost += 1
                lost_tasks += outcome is not last_lost
                last_lost = outcome
                summary.lost_errors.append(
                    f"{task.run_id}: {type(outcome).__name__}: {outcome}".strip())
                if lost_tasks >= LOST_ABORT and summary.ok + summary.failed == 0:
                    summary.notes.append(
                        f"stopped: the first {summary.lost} runs were all lost by the engine "
                        f"({summary.lost_errors[0]}); is village_sim installed on the "
                        "workers?")
                    break
            bar.update(1)
            if summary.failed or summary.lost:
                bar.set_postfix_str(f"failed {summary.failed}, lost {summary.lost}",
                                    refresh=False)
    finally:
        bar.close()


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    engine: str = "dask",
    workers: int | None = None,
    scheduler: str | None = None,
    max_in_flight: int | None = None,
    retry_failed: bool = False,
    progress: bool | None = None,
    connect_timeout: float = 10.0,
    cluster: ClusterConfig | None = None,
    runs_per_task: int | str = AUTO,
) -> SweepSummary:
    """Run (or resume) a sweep into ``out``.

    Runs already stored in ``out`` are skipped (failed ones too, unless ``retry_failed``);
    each finished run is stored at once. A failing run is recorded and the sweep goes on.

    Args:
        spec: The sweep spec.
        out: The sweep directory (created, or reopened to resume the same spec).
        engine: ``"serial"``, ``"processes"`` or ``"dask"``.
        workers: Worker processes for ``processes`` and a ``LocalCluster`` (default: CPUs).
        scheduler: Address of an existing Dask scheduler (``engine="dask"`` only).
        max_in_flight: Bound on tasks in flight (default: twice the workers or threads).
        retry_failed: Run again the runs stored as failed.
        progress: tqdm progress bar with ETA: True always, False never, None on a terminal.
        connect_timeout: Seconds to wait for an existing Dask scheduler.
        cluster: The SLURM cluster of ``engine="slurm"`` (default: the spec's ``[cluster]``).
        runs_per_task: Runs per task of the parallel engines: an integer >= 1, or ``"auto"``
            (about :data:`TASK_SECONDS` per task, from the measured run time; :class:`Chunker`).
            Results are the same whatever the value.

    Returns:
        The summary (its :attr:`~SweepSummary.exit_code` is the command's exit code).

    Raises:
        ValueError: for a bad engine option.
        SweepDirError: if ``out`` holds another spec or is not a sweep directory.
        ConnectionError: if the Dask scheduler cannot be reached.
    """
    pin_blas_threads()
    runs_per_task = check_runs_per_task(runs_per_task)
    if engine == "slurm" and cluster is None:
        cluster = spec.cluster
    runner = make_engine(engine, workers, scheduler, max_in_flight, connect_timeout, cluster)
    SweepStore.check(out, spec)  # another spec, or a folder of other things: refused, unwritten
    design = design_points(spec)
    summary = SweepSummary(name=spec.name, out=Path(out), spec_hash=spec.spec_hash)
    store: SweepStore | None = None
    started = time.perf_counter()
    try:
        # the engine first: a scheduler that cannot be reached stops the sweep before anything
        # is written (ConnectionError within the connect timeout)
        with runner as active:
            summary.startup_s = time.perf_counter() - started
            summary.engine = active.description
            store = SweepStore.open(out, spec)
            summary.out = store.root
            store.mark_incomplete()
            stored_version = store.manifest().get("package_version")
            if stored_version != package_version():
                summary.notes.append(
                    f"the directory was created by village-sim {stored_version}; this is "
                    f"{package_version()}: runs stored earlier were computed by it")
            # the plan is streamed to disk and the tasks generated lazily: memory does not
            # grow with the number of runs (a stored record belongs to this plan: the spec
            # hash matched); parts of PLAN_ROWS rows (about 1 kB each while a part is built)
            store.write_plan(design.frame(), iter_plan_chunks(spec, design, rows=PLAN_ROWS))
            summary.planned = count_runs(spec, design)[1]
            skip = {rid for rid, status in store.statuses().items()
                    if status == "ok" or not retry_failed}
            summary.already_stored = len(skip)
            _drive(active, spec, design, skip, store, summary, progress, runs_per_task)
    except KeyboardInterrupt:
        summary.interrupted = True
        if store is None:
            raise  # before the sweep folder was opened: nothing to report
    finally:
        summary.elapsed_s = time.perf_counter() - started
    assert store is not None
    final = store.statuses()
    summary.stored_ok = sum(1 for s in final.values() if s == "ok")
    summary.stored_failed = sum(1 for s in final.values() if s != "ok")
    store.compact()  # the runs still in per-run files into part sets (docs/sweeps.md)
    write_run_table(store.root)
    store.write_columns()
    if summary.stored_ok + summary.stored_failed == summary.planned:
        store.mark_complete(summary.planned, summary.stored_ok, summary.stored_failed)
    return summary
