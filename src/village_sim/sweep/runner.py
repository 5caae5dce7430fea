"""What runs on a worker: one simulation, its time series and panel as Parquet bytes.

:func:`execute_run` (in chunks, :func:`execute_chunk`) is what the engines send to workers. It
never raises for a failing simulation: the exception's traceback comes back in the
:class:`RunResult` with status ``"failed"``, so one bad run cannot stop a sweep. It returns the
tables already encoded as Parquet, so the client only writes bytes to disk (its memory stays
flat).

The engines send runs in chunks (:func:`execute_chunk`: several runs per task, so that a
scheduler's cost per task is spread over seconds of work, benchmarks/README.md, "Sweeps");
a chunk is only a batch of independent runs: each run's result is the same in any chunk. A
chunk's village runs of the same length are stepped together on the county engine
(:func:`execute_stacked`), each run's result still its own, bit for bit.

The simulation itself is a *run function*, by default :func:`run_village`. A spec can name
another (``run_function = "package.module:function"``, docs/sweeps.md, "Extension hook"): a
function taking a :class:`RunTask` and returning a :class:`RunOutput` — for example a model
variant, or the test suite's function that fails for one replicate.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from village_sim.outputs import caused_by_interrupt
from village_sim.sweep.threads import blas_threads_setting

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ID_COLUMNS",
    "RunOutput",
    "RunResult",
    "RunTask",
    "execute_chunk",
    "execute_stacked",
    "execute_run",
    "run_county",
    "run_village",
    "series_schema",
    "warm_up",
]

ID_COLUMNS = ("run_id", "regime", "replicate", "seed", "step")
"""Columns that identify a row of the time-series table, before the metrics."""


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to run one simulation (picklable).

    Attributes:
        run_id: The run's identity (see :func:`village_sim.sweep.design.run_id_for`).
        regime: Regime name.
        replicate: Replicate index.
        seed: The replicate's seed (the model's ``rng``).
        overrides: Parameter overrides: base parameters and the design point.
        steps: Months to run.
        record_every: Keep every ``record_every``-th month (and the first and last).
        metrics: Metric columns to keep.
        panel_every: Household frame every ``panel_every`` months (0: none).
        run_function: ``"module:function"`` that runs the simulation.
        spec_hash: Hash of the sweep spec (recorded with the run).
    """

    run_id: str
    regime: str
    replicate: int
    seed: int
    overrides: dict[str, Any]
    steps: int
    record_every: int
    metrics: tuple[str, ...]
    panel_every: int
    run_function: str
    spec_hash: str


class RunOutput(NamedTuple):
    """What a run function returns.

    Attributes:
        series: One row per month: a ``step`` column and (at least) every requested metric.
        panel: The household frames with a ``step`` column, or ``None``.
    """

    series: pd.DataFrame
    panel: pd.DataFrame | None = None


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run, as sent back to the client.

    Attributes:
        run_id: The run's identity.
        status: ``"ok"`` or ``"failed"``.
        error: The traceback of a failed run, else ``""``.
        duration_s: Wall time of the run, seconds.
        cpu_s: CPU time of the worker process during the run, seconds (``cpu_s`` well below
            ``duration_s`` means the run waited for a core).
        started: Start time (UTC, ISO 8601).
        finished: End time (UTC, ISO 8601).
        worker: ``host:pid`` of the process that ran it.
        blas_threads: ``OPENBLAS_NUM_THREADS`` as the worker saw it.
        series: The stored time series as Parquet bytes (``None`` if failed).
        panel: The household panel as Parquet bytes, or ``None``.
        rows: Rows in the stored time series.
    """

    run_id: str
    status: str
    error: str
    duration_s: float
    cpu_s: float
    started: str
    finished: str
    worker: str
    blas_threads: str
    series: bytes | None = None
    panel: bytes | None = None
    rows: int = 0


def run_village(task: RunTask) -> RunOutput:
    """The default run function: a :class:`~village_sim.model.VillageModel` run.

    Builds the model with ``rng=task.seed``, the regime and the overrides, advances it
    ``task.steps`` months, and returns every collected metric by month (month 0 included) and,
    if ``task.panel_every`` > 0, the household panel.
    """
    from village_sim import experiment

    model = experiment.run_model(task.regime, task.seed, task.steps, task.overrides,
                                 panel_every=task.panel_every)
    panel = model.household_panel() if task.panel_every else None
    return RunOutput(experiment.timeseries(model), panel)


def run_county(task: RunTask) -> RunOutput:
    """The run function of a county sweep (``model = "county"``): a ``CountyModel`` run.

    ``task.regime`` is the deployment rule; the overrides are the county's own parameters and
    the village parameters common to every village (:func:`village_sim.county.model.
    county_arguments`). Returns the county's metrics by month (month 0 included) and, if
    ``task.panel_every`` > 0, the village-by-year table (``step`` = 12 × year).
    """
    from village_sim.county.model import CountyModel, county_arguments

    model = CountyModel(rng=task.seed, deployment=task.regime,
                        **county_arguments(task.overrides))
    for _ in range(task.steps):
        model.step()
    series = model.county_frame().rename(columns={"month": "step"})
    series["step"] = series["step"].astype("int64")
    panel = None
    if task.panel_every:
        panel = model.village_year_frame()
        if len(panel):
            panel.insert(0, "step", (12 * panel["year"]).astype("int64"))
    return RunOutput(series, panel)


def warm_up() -> str:
    """Import the model (and Mesa) now, so that a worker's first run is not charged for it.

    Returns:
        The worker's ``OPENBLAS_NUM_THREADS`` setting.
    """
    import village_sim.experiment  # noqa: F401
    import village_sim.model  # noqa: F401

    return blas_threads_setting()


def series_schema(metrics: tuple[str, ...] | list[str]) -> pa.Schema:
    """The Arrow schema of every time-series file (identical across runs and engines)."""
    import pyarrow as pa

    fields = [
        pa.field("run_id", pa.string()), pa.field("regime", pa.string()),
        pa.field("replicate", pa.int64()), pa.field("seed", pa.int64()),
        pa.field("step", pa.int64()),
    ]
    fields += [pa.field(m, pa.float64()) for m in metrics]
    return pa.schema(fields)


def _series_table(task: RunTask, series: pd.DataFrame) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    missing = [c for c in ("step", *task.metrics) if c not in series.columns]
    if missing:
        raise ValueError(f"run function {task.run_function!r} returned no column(s) {missing}")
    step = series["step"].to_numpy(dtype=np.int64)
    last = int(step.max()) if step.size else 0
    keep = (step % task.record_every == 0) | (step == last)
    n = int(keep.sum())
    columns: list[Any] = [
        pa.array([task.run_id] * n, pa.string()), pa.array([task.regime] * n, pa.string()),
        pa.array(np.full(n, task.replicate, dtype=np.int64)),
        pa.array(np.full(n, task.seed, dtype=np.int64)), pa.array(step[keep]),
    ]
    columns += [pa.array(series[m].to_numpy(dtype=np.float64)[keep]) for m in task.metrics]
    return pa.Table.from_arrays(columns, schema=series_schema(task.metrics))


def _panel_table(task: RunTask, panel: pd.DataFrame) -> pa.Table:
    import pyarrow as pa

    frame = panel.copy()
    frame.insert(0, "seed", task.seed)
    frame.insert(0, "replicate", task.replicate)
    frame.insert(0, "regime", task.regime)
    frame.insert(0, "run_id", task.run_id)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def execute_run(task: RunTask) -> RunResult:
    """Run one simulation and encode its outputs; a failure is returned, never raised.

    Args:
        task: The run.

    Returns:
        ``status="ok"`` with the time series (and panel) as Parquet bytes, or
        ``status="failed"`` with the traceback in ``error``.
    """
    from village_sim.sweep.spec import resolve_run_function

    started, t0, c0 = _now(), time.perf_counter(), time.process_time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    series: bytes | None = None
    panel: bytes | None = None
    try:
        run_function = resolve_run_function(task.run_function)
        output = run_function(task)
        table = _series_table(task, output.series)
        rows = table.num_rows
        series = _parquet_bytes(table)
        if task.panel_every and output.panel is not None and len(output.panel):
            panel = _parquet_bytes(_panel_table(task, output.panel))
        status, error = "ok", ""
    except Exception as err:  # noqa: BLE001 - any failure of a run is recorded, not raised
        if caused_by_interrupt(err):  # a Ctrl-C, not a failure of the run (nothing stored)
            raise KeyboardInterrupt from err
        series = panel = None
        rows = 0
        status, error = "failed", traceback.format_exc()
    return RunResult(
        run_id=task.run_id, status=status, error=error,
        duration_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0, started=started,
        finished=_now(), worker=worker,
        blas_threads=blas_threads_setting(), series=series, panel=panel, rows=rows,
    )


def execute_chunk(tasks: tuple[RunTask, ...],
                  send: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Run several simulations (one task of an engine, many runs).

    Each run's result is the one :func:`execute_run` gives it alone: it does not depend on the
    chunk it is in or its place there (each run builds its model from its own seed). Village
    runs of the default run function without a panel that share their number of months are
    stepped together (:func:`execute_stacked`), several times faster; the others, and every run
    of a stack that failed, run one after another.

    Args:
        tasks: The runs.
        send: Called with each run's result as soon as the run ends (the runs of a stack end
            together), so that the client can store it before the chunk is done
            (:mod:`village_sim.sweep.stream`). A failure to send is not the run's failure: the
            result still comes back with the chunk.

    Returns:
        One result per run, in the order of ``tasks``.
    """
    results: list[RunResult | None] = [None] * len(tasks)

    def done(i: int, result: RunResult) -> None:
        results[i] = result
        if send is not None:
            with contextlib.suppress(Exception):
                send(result)

    groups: dict[int, list[int]] = {}
    for i, task in enumerate(tasks):
        if _stackable(task):
            groups.setdefault(task.steps, []).append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        stacked = execute_stacked(tuple(tasks[i] for i in members))
        if stacked is not None:
            for i, result in zip(members, stacked, strict=True):
                done(i, result)
    for i, task in enumerate(tasks):
        if results[i] is None:
            done(i, execute_run(task))
    return [r for r in results if r is not None]


def _stackable(task: RunTask) -> bool:
    """A village run of the default run function, without a household panel."""
    from village_sim.sweep.models import VILLAGE_RUN_FUNCTION

    return task.run_function == VILLAGE_RUN_FUNCTION and not task.panel_every


def execute_stacked(tasks: tuple[RunTask, ...]) -> list[RunResult] | None:
    """Village runs of the same months stepped together, each with its own run's result.

    The runs are the villages of one county engine (:func:`village_sim.experiment.
    run_stacked`: each village is its solo run, bit for bit), their metrics taken only in the
    months the sweep keeps. Each run's time series is the one :func:`run_village` gives it
    (tests/test_sweep_stacked.py); its ``duration_s`` and ``cpu_s`` are its share of the
    stack's (the stack's time over its runs), ``started`` and ``finished`` the stack's.

    Returns:
        One result per run, or ``None`` if the stack failed: the caller then runs each alone,
        so that a failing run fails alone, with its own traceback.
    """
    import numpy as np

    from village_sim import experiment

    started, t0, c0 = _now(), time.perf_counter(), time.process_time()
    steps = tasks[0].steps
    try:
        keep = sorted({m for task in tasks for m in range(steps + 1)
                       if m % task.record_every == 0 or m == steps})
        frames = experiment.run_stacked([(t.regime, t.seed, t.overrides) for t in tasks],
                                        steps, keep)
        series = []
        for task, frame in zip(tasks, frames, strict=True):
            frame = frame.reset_index(drop=True)
            frame.insert(0, "step", np.array(keep, dtype=np.int64))
            table = _series_table(task, frame)
            series.append((_parquet_bytes(table), table.num_rows))
    except Exception as err:  # noqa: BLE001 - the runs are run alone instead
        if caused_by_interrupt(err):
            raise KeyboardInterrupt from err
        return None
    k = len(tasks)
    duration, cpu = (time.perf_counter() - t0) / k, (time.process_time() - c0) / k
    finished, worker = _now(), f"{socket.gethostname()}:{os.getpid()}"
    return [RunResult(run_id=task.run_id, status="ok", error="", duration_s=duration,
                      cpu_s=cpu, started=started, finished=finished, worker=worker,
                      blas_threads=blas_threads_setting(), series=data, panel=None, rows=rows)
            for task, (data, rows) in zip(tasks, series, strict=True)]
