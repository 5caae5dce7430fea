"""Parameter sweeps: a TOML spec, a seeded design, engines from one process to a Dask cluster.

A sweep (../shared/DESIGN.md §7; docs/sweeps.md) is read from a TOML spec
(:mod:`~village_sim.sweep.spec`), expanded into design points and runs
(:mod:`~village_sim.sweep.design`), executed by an engine — serial, local processes or Dask
distributed (:mod:`~village_sim.sweep.engines`) — and streamed run by run to a Parquet
dataset that can be resumed (:mod:`~village_sim.sweep.store`). :mod:`~village_sim.sweep.report`
turns the stored runs into a Markdown and HTML report.

Modules are imported on first use (this package imports nothing heavy), so that the command
line can pin BLAS threads before numpy loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "SpecError",
    "SweepSpec",
    "build_report",
    "load_spec",
    "load_timeseries",
    "plan_runs",
    "run_sweep",
    "run_table",
]

if TYPE_CHECKING:
    from village_sim.sweep.design import plan_runs
    from village_sim.sweep.engines import run_sweep
    from village_sim.sweep.report import build_report
    from village_sim.sweep.spec import SpecError, SweepSpec, load_spec
    from village_sim.sweep.store import load_timeseries, run_table

_LAZY = {
    "SpecError": "village_sim.sweep.spec",
    "SweepSpec": "village_sim.sweep.spec",
    "load_spec": "village_sim.sweep.spec",
    "plan_runs": "village_sim.sweep.design",
    "run_sweep": "village_sim.sweep.engines",
    "build_report": "village_sim.sweep.report",
    "load_timeseries": "village_sim.sweep.store",
    "run_table": "village_sim.sweep.store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'village_sim.sweep' has no attribute {name!r}")
