"""Run functions and helpers for the sweep tests (the spec's ``run_function`` extension hook).

Workers import this module by name, so the Dask workers and client subprocesses that the tests
start get this directory on their ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from village_sim.sweep.runner import RunOutput, RunTask, run_village

FAILING_REPLICATE = 1
FAILING_REGIME = "team_and_committee"


def fail_on_one_replicate(task: RunTask) -> RunOutput:
    """The real village run, except that one (replicate, regime) raises."""
    if task.replicate == FAILING_REPLICATE and task.regime == FAILING_REGIME:
        raise RuntimeError(f"deliberate failure of replicate {task.replicate} ({task.regime})")
    return run_village(task)


def interrupted_import(task: RunTask) -> RunOutput:
    """A Ctrl-C that lands while an extension initialises, as pybind11 reports it."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as err:
        raise ImportError("initialization failed") from err


def slow_village(task: RunTask) -> RunOutput:
    """The real village run, made slower (so that a test can kill a sweep in the middle)."""
    time.sleep(float(os.environ.get("VILLAGE_SIM_TEST_DELAY", "0.25")))
    return run_village(task)


_RUNS_HERE = 0  # runs started in this worker process


def gate_after_three(task: RunTask) -> RunOutput:
    """The real village run; the 4th run of a worker process first waits until the file named
    by ``VILLAGE_SIM_TEST_GATE`` exists (so a test can look at a chunk stuck halfway)."""
    global _RUNS_HERE
    _RUNS_HERE += 1
    if _RUNS_HERE == 4:
        gate = Path(os.environ["VILLAGE_SIM_TEST_GATE"])
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return run_village(task)


def die_after_three(task: RunTask) -> RunOutput:
    """The real village run; with ``VILLAGE_SIM_TEST_DIE`` set, the 4th run of a worker process
    kills that process."""
    global _RUNS_HERE
    _RUNS_HERE += 1
    if _RUNS_HERE == 4 and os.environ.get("VILLAGE_SIM_TEST_DIE"):
        os._exit(3)
    return run_village(task)


def write_spec(path: Path, *, name: str = "tiny", replicates: int = 2, steps: int = 13,
               design: str = '"grid"', parameters: str = "favoritism = [0.2, 0.8]",
               regimes: str = '["committee_only", "team_and_committee"]',
               extra: str = "", base: str = "n_households = 30") -> Path:
    """Write a small sweep spec (tiny villages, few months) and return its path."""
    path.write_text(
        f'name = "{name}"\n'
        f"regimes = {regimes}\n"
        f"replicates = {replicates}\n"
        "root_seed = 11\n"
        f"steps = {steps}\n"
        'metrics = ["kin_premium", "diverted_share", "coverage", "poverty_headcount"]\n'
        f"design = {design}\n"
        f"{extra}\n"
        f"[base]\n{base}\n\n"
        f"[parameters]\n{parameters}\n",
        encoding="utf-8",
    )
    return path


def comparable(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The time series and the run table, sorted, without timing/environment columns."""
    from village_sim.sweep.store import ENVIRONMENT_COLUMNS, load_timeseries, run_table

    series = load_timeseries(out).sort_values(["run_id", "step"]).reset_index(drop=True)
    table = run_table(out, write=False).drop(columns=list(ENVIRONMENT_COLUMNS))
    return series, table.sort_values("run_id").reset_index(drop=True)


def assert_same_as_uninterrupted(out: Path, tmp_path: Path) -> None:
    """``out`` holds what an uninterrupted serial sweep of the same 18 runs holds (6 replicates
    x 3 favouritism levels, the real run function: a run function is not part of a run's
    identity, so a slowed-down sweep compares with a plain one)."""
    from village_sim.sweep.engines import run_sweep
    from village_sim.sweep.spec import load_spec

    plain = write_spec(tmp_path / "plain.toml", replicates=6,
                       parameters="favoritism = [0.2, 0.5, 0.8]")
    run_sweep(load_spec(plain), tmp_path / "reference", engine="serial", progress=False)
    for a, b in zip(comparable(out), comparable(tmp_path / "reference"), strict=True):
        pd.testing.assert_frame_equal(a.drop(columns=["spec_hash"], errors="ignore"),
                                      b.drop(columns=["spec_hash"], errors="ignore"))
