"""Sweep engines: throughput (serial, processes, Dask) and client memory, against mesa.batch_run.

Run from the repository root::

    uv run python benchmarks/bench_sweep.py            # full run (several minutes)
    uv run python benchmarks/bench_sweep.py --quick    # smoke check (about a minute)

What is measured (benchmarks/README.md, "Sweeps", explains why):

0. The machine's parallel ceiling: two busy pure-Python processes at once against one alone
   (2.0 on an idle 2-core machine; less when other work shares the cores), measured before
   and after the throughput runs. No 2-worker engine can beat it.
1. Throughput: the same runs — 10,000-household villages for 180 months, a second or more
   each — through ``village-sim sweep``'s serial engine, its processes engine (2 workers) and
   its Dask engine (a LocalCluster of 2 single-threaded worker processes), and through
   ``mesa.batch_run`` with 2 processes. Runs per second after the engine has started, and
   end to end; the speed-up over serial. Target: Dask >= 1.8x serial.
2. Client memory: peak resident memory (``VmHWM``) of the process that drives the sweep — the
   client, with the LocalCluster's scheduler in it; not the worker processes — for 100 and
   1,000 small runs (30 households, 13 months), Dask and processes engines, and the same runs
   through ``mesa.batch_run`` (2 processes), which keeps every row in memory. Target: flat.

Every measurement runs in a fresh child process (so imports and memory belong to it alone),
one after the other. BLAS threads are pinned to 1 before numpy loads, in this process and so in
every child, as the sweep engines do.
"""

from __future__ import annotations

import os

from village_sim.sweep.threads import pin_blas_threads  # imports no numpy

pin_blas_threads()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REGIMES = ["committee_only", "team_and_committee"]
HEAVY = {"n_households": 10_000}
HEAVY_STEPS = 180
TINY = {"n_households": 30}
TINY_STEPS = 13
FAVORITISM = [0.1, 0.3, 0.5, 0.7, 0.9]
SPEEDUP_TARGET = 1.8


# ---------------------------------------------------------------------------- measurements
def _status(field: str) -> float:
    """A ``/proc/self/status`` memory field in MiB (``nan`` where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 if field == "VmHWM" \
        else float("nan")


def write_spec(folder: Path, name: str, base: dict[str, Any], steps: int, replicates: int,
               favoritism: list[float]) -> Path:
    lines = [f'name = "{name}"', f"regimes = {json.dumps(REGIMES)}",
             f"replicates = {replicates}", "root_seed = 1", f"steps = {steps}",
             'design = "grid"', "", "[base]"]
    lines += [f"{k} = {v}" for k, v in base.items()]
    lines += ["", "[parameters]", f"favoritism = {json.dumps(favoritism)}", ""]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def child(config: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process; returns what to report."""
    if config["kind"] == "sweep":
        from village_sim.sweep import load_spec, run_sweep, run_table

        spec = load_spec(config["spec"])
        base_rss = _status("VmRSS")
        started = time.perf_counter()
        summary = run_sweep(spec, config["out"], engine=config["engine"],
                            workers=config.get("workers"), progress=False)
        elapsed = time.perf_counter() - started
        hwm = _status("VmHWM")  # before reading the run table back, which is analysis
        table = run_table(config["out"], write=False)
        return {"runs": summary.stored_ok, "failed": summary.stored_failed,
                "elapsed_s": elapsed, "startup_s": summary.startup_s,
                "median_run_s": float(table["duration_s"].median()),
                "median_cpu_s": float(table["cpu_s"].median()),
                "hwm_mib": hwm, "base_rss_mib": base_rss}
    if config["kind"] == "batch_run":
        import mesa
        from mesa.batchrunner import batch_run

        from village_sim.experiment import replicate_seeds
        from village_sim.model import VillageModel

        base_rss = _status("VmRSS")
        started = time.perf_counter()
        rows = batch_run(
            VillageModel,
            parameters={**config["base"], "regime": REGIMES, "favoritism": config["favoritism"]},
            number_processes=config["workers"], max_steps=config["steps"],
            data_collection_period=1, display_progress=False,
            rng=replicate_seeds(1, config["replicates"]),
        )
        elapsed = time.perf_counter() - started
        runs = len({r["RunId"] for r in rows})
        return {"runs": runs, "failed": 0, "elapsed_s": elapsed, "startup_s": float("nan"),
                "median_run_s": float("nan"), "median_cpu_s": float("nan"), "rows": len(rows),
                "mesa": mesa.__version__,
                "hwm_mib": _status("VmHWM"), "base_rss_mib": base_rss}
    raise ValueError(config["kind"])


def measure(config: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its result."""
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(config)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({config}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


LOOP = "x = 0\nfor i in range(12_000_000):\n    x += i * i\n"


def parallel_ceiling() -> float:
    """How much two processes get done at once, relative to one alone, right now.

    Two pure-Python loops in two interpreters, against one alone: 2.0 on an idle 2-core
    machine, less when other work competes for the cores. It bounds any 2-worker speed-up.
    """
    def timed(n: int) -> float:
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", LOOP]) for _ in range(n)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - started

    one = timed(1)
    two = timed(2)
    return 2.0 * one / two


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs: a smoke check")
    parser.add_argument("--only", choices=("throughput", "memory"), default=None,
                        help="run one part only (e.g. to repeat the throughput part at a "
                             "quiet moment)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    heavy_steps = 24 if args.quick else HEAVY_STEPS
    heavy_reps = 2 if args.quick else 6
    sizes = (20, 100) if args.quick else (100, 1000)
    print(f"bench_sweep: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}; village-sim "
          f"{version('village-sim')}, dask {version('dask')}, distributed "
          f"{version('distributed')}, mesa {version('mesa')}, numpy {version('numpy')}, "
          f"pyarrow {version('pyarrow')}")
    print(f"load average at start: {loadavg()}\n")

    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        folder = Path(tmp)
        if args.only != "memory":
            throughput(folder, heavy_steps, heavy_reps)
        if args.only != "throughput":
            memory(folder, sizes)
    print(f"load average at end: {loadavg()}")


def throughput(folder: Path, heavy_steps: int, heavy_reps: int) -> None:
    """Part 1: runs per second of each engine, and mesa.batch_run, on runs of ~1 s."""
    heavy = write_spec(folder, "heavy", HEAVY, heavy_steps, heavy_reps, [0.5])
    n_heavy = len(REGIMES) * heavy_reps
    print(f"1. Throughput: {n_heavy} runs of {HEAVY['n_households']:,} households x "
          f"{heavy_steps} months (2 regimes x {heavy_reps} replicates)")
    print(f"   parallel ceiling now (2 busy processes vs 1): {parallel_ceiling():.2f}x")
    results: dict[str, dict[str, Any]] = {}
    for label, config in [
        ("serial", {"kind": "sweep", "engine": "serial"}),
        ("processes, 2 workers", {"kind": "sweep", "engine": "processes", "workers": 2}),
        ("dask LocalCluster, 2 workers", {"kind": "sweep", "engine": "dask", "workers": 2}),
        ("mesa.batch_run, 2 processes", {"kind": "batch_run", "workers": 2}),
    ]:
        config = {**config, "spec": str(heavy), "out": str(folder / f"t-{len(results)}"),
                  "base": HEAVY, "steps": heavy_steps, "replicates": heavy_reps,
                  "favoritism": [0.5]}
        results[label] = measure(config)
        r = results[label]
        print(f"   {label}: {r['elapsed_s']:.1f} s end to end (load {loadavg()})")
    ceiling = parallel_ceiling()
    print(f"   parallel ceiling now (2 busy processes vs 1): {ceiling:.2f}x")
    serial = results["serial"]
    serial_rate = serial["runs"] / (serial["elapsed_s"] - serial["startup_s"])
    print()
    print("| engine | runs | median s/run (CPU s) | start s | runs/s after start | "
          "x serial | runs/s end to end | x serial |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in results.items():
        timed = r["startup_s"] == r["startup_s"]  # NaN for batch_run
        startup = r["startup_s"] if timed else 0.0
        rate = r["runs"] / (r["elapsed_s"] - startup)
        e2e = r["runs"] / r["elapsed_s"]
        median = (f"{r['median_run_s']:.2f} ({r['median_cpu_s']:.2f})" if timed else "—")
        start_text = f"{r['startup_s']:.1f}" if timed else "—"
        after = f"{rate:.3f}" if timed else "—"
        ratio = f"{rate / serial_rate:.2f}" if timed else "—"
        print(f"| {label} | {r['runs']} | {median} | {start_text} | {after} | {ratio} | "
              f"{e2e:.3f} | {e2e / (serial['runs'] / serial['elapsed_s']):.2f} |")
    dask = results["dask LocalCluster, 2 workers"]
    dask_rate = dask["runs"] / (dask["elapsed_s"] - dask["startup_s"])
    verdict = "met" if dask_rate / serial_rate >= SPEEDUP_TARGET else "NOT met"
    print(f"\nTarget dask >= {SPEEDUP_TARGET}x serial (runs/s after start): {verdict} "
          f"({dask_rate / serial_rate:.2f}x; median run {serial['median_run_s']:.2f} s "
          f"serial); the machine's parallel ceiling at the time: {ceiling:.2f}x")


def memory(folder: Path, sizes: tuple[int, int]) -> None:
    """Part 2: peak memory of the driving process at two sweep sizes."""
    print(f"\n2. Client peak memory (VmHWM of the driving process), runs of "
          f"{TINY['n_households']} households x {TINY_STEPS} months")
    rows = []
    for n in sizes:
        reps = n // (len(REGIMES) * len(FAVORITISM))
        spec = write_spec(folder, f"tiny{n}", TINY, TINY_STEPS, reps, FAVORITISM)
        for label, config in [
            ("dask LocalCluster, 2 workers", {"kind": "sweep", "engine": "dask",
                                              "workers": 2}),
            ("processes, 2 workers", {"kind": "sweep", "engine": "processes",
                                      "workers": 2}),
            ("mesa.batch_run, 2 processes", {"kind": "batch_run", "workers": 2}),
        ]:
            config = {**config, "spec": str(spec), "out": str(folder / f"m-{n}-{len(rows)}"),
                      "base": TINY, "steps": TINY_STEPS, "replicates": reps,
                      "favoritism": FAVORITISM}
            r = measure(config)
            rows.append((n, label, r))
            print(f"   {n} runs, {label}: {r['elapsed_s']:.1f} s, peak {r['hwm_mib']:.1f} "
                  f"MiB (load {loadavg()})")
    print()
    print("| runs | engine | peak MiB | after imports MiB | peak - imports MiB | s |")
    print("|---:|---|---:|---:|---:|---:|")
    for n, label, r in rows:
        print(f"| {n:,} | {label} | {r['hwm_mib']:.1f} | {r['base_rss_mib']:.1f} | "
              f"{r['hwm_mib'] - r['base_rss_mib']:.1f} | {r['elapsed_s']:.1f} |")
    by = {(n, label): r for n, label, r in rows}
    small, large = sizes
    growth = (by[(large, "dask LocalCluster, 2 workers")]["hwm_mib"]
              - by[(small, "dask LocalCluster, 2 workers")]["hwm_mib"])
    verdict = "met" if growth < 20.0 else "NOT met"
    print(f"\nTarget flat client memory (dask, {small} -> {large} runs, growth < 20 MiB): "
          f"{verdict} ({growth:+.1f} MiB)")


if __name__ == "__main__":
    main()
