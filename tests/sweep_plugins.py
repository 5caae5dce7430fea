"""Run functions and helpers for the sweep tests (the spec's ``run_function`` extension hook).

Workers import this module by name, so the Dask workers and client subprocesses that the tests
start get this directory on their ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from village_sim.sweep.runner import RunOutput, RunTask, run_village

FAILING_REPLICATE = 1
FAILING_REGIME = "team_and_committee"


def fail_on_one_replicate(task: RunTask) -> RunOutput:
    """The real village run, except that one (replicate, regime) raises."""
    if task.replicate == FAILING_REPLICATE and task.regime == FAILING_REGIME:
        raise RuntimeError(f"deliberate failure of replicate {task.replicate} ({task.regime})")
    return run_village(task)


def slow_village(task: RunTask) -> RunOutput:
    """The real village run, made slower (so that a test can kill a sweep in the middle)."""
    time.sleep(float(os.environ.get("VILLAGE_SIM_TEST_DELAY", "0.25")))
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
