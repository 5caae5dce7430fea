"""Sweep engines: CPU per run, parallel efficiency against the machine's ceiling, client memory.

Run from the repository root::

    uv run python benchmarks/bench_sweep.py            # full run (about 20 minutes, 2 cores)
    uv run python benchmarks/bench_sweep.py --quick    # smoke check (about 3 minutes)
    uv run python benchmarks/bench_sweep.py --only cpu # one part: cpu, efficiency or memory

What is measured (benchmarks/README.md, "Sweeps", explains why; issue 14's targets):

1. CPU per run: the same runs (10,000-household villages, 60 months) through the serial
   engine, the processes engine and the Dask engine (a LocalCluster of 2 single-threaded
   workers), as user + system time of *every* process involved — this process (the client,
   with the Dask scheduler and nannies of a LocalCluster in it) and all its descendants
   (workers, the resource tracker), read with psutil — over the span of the sweep that runs
   the tasks (engine start and shutdown excluded), divided by the runs. Also minor page faults
   of the tree. Two diagnostic rows: Dask with Dask's default worker environment
   (``MALLOC_TRIM_THRESHOLD_=65536``, the cause of the overhead that was found), and Dask with
   one run per task. Target: Dask within 10% of serial.
2. Parallel efficiency: 3 interleaved rounds of {the machine's ceiling, serial, processes
   (2 workers), Dask (2 workers), the ceiling again} on a sweep of at least 2,000 short runs
   (300 households, 36 months; at least 120 s of serial work), each timed from the first
   submission to the last run stored. The ceiling: the sweep's own first 100 runs (about 8 s),
   nothing stored, in one process alone and then in two processes at once; two busy processes
   against one. (A pure-Python loop of about a second, used before, read anywhere from 1.19 to
   1.91 within one quiet round: too short, and not the sweep's work.) Speed-up = serial time
   over the engine's time; efficiency = speed-up over the mean ceiling of the same round; the
   median of the 3 rounds. Target: >= 90% for Dask and for processes. Also printed: Dask's
   time over the processes engine's, the direct comparison of the two parallel engines.
3. Client memory: peak resident memory (``VmHWM``) of the process that drives a Dask sweep
   whose plan holds 1,000 and 100,000 runs (30 households, 13 months); both run their first
   1,000 runs only (the plan is written and the tasks generated in full). Target: at most
   50 MiB more at 100,000.

Every measurement runs in a fresh child process (so imports and memory belong to it alone),
one after the other. BLAS threads are pinned to 1 before numpy loads, in this process and so in
every child, as the sweep engines do. The load average is printed before and after each part.
"""

from __future__ import annotations

import os

from village_sim.sweep.threads import pin_blas_threads  # imports no numpy

pin_blas_threads()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REGIMES = ["committee_only", "team_and_committee"]
HEAVY = {"n_households": 10_000}
SHORT = {"n_households": 300}
TINY = {"n_households": 30}
CPU_TARGET = 1.10  # Dask CPU per run at most 10% above serial
EFFICIENCY_TARGET = 0.90  # of the machine's ceiling
MEMORY_TARGET_MIB = 50.0


# ---------------------------------------------------------------------------- measurements
def _status(field: str) -> float:
    """A ``/proc/self/status`` memory field in MiB (``nan`` where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _minor_faults(pid: int) -> int:
    """Minor page faults of a process and of its waited-for children (``/proc/PID/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[7]) + int(fields[8])  # minflt, cminflt
    except (OSError, IndexError, ValueError):
        return 0


def tree_usage() -> dict[str, float]:
    """User and system CPU seconds and minor faults of this process and all its descendants.

    A process's own time includes all its threads; ``children_*`` adds children it has already
    waited for. Read with psutil; a process that ends between two readings takes its time
    with it, so the readings are taken while the workers are alive.
    """
    import psutil

    me = psutil.Process()
    user = system = 0.0
    faults = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        user += t.user + t.children_user
        system += t.system + t.children_system
        faults += _minor_faults(proc.pid)
    return {"user_s": user, "system_s": system, "faults": faults,
            "processes": 1 + len(me.children(recursive=True))}


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
    """One sweep in this (fresh) process; returns what to report.

    The span measured is :func:`village_sim.sweep.engines._drive`: from the first submission to
    the last run stored, with the engine started (workers alive) before and after.
    """
    import village_sim.sweep.engines as engines
    from village_sim.sweep import load_spec, run_table
    from village_sim.sweep.threads import pinned_environ

    if config.get("dask_default_environ"):  # Dask's own worker environment (diagnostic)
        engines.dask_worker_environ = (  # type: ignore[assignment]
            lambda preset: {**preset, **pinned_environ()})
    if config.get("max_runs"):  # run only the first runs of a larger plan (memory part)
        whole = engines.iter_tasks
        engines.iter_tasks = (  # type: ignore[assignment]
            lambda *a, **k: itertools.islice(whole(*a, **k), config["max_runs"]))
    span: dict[str, Any] = {}
    drive = engines._drive

    def measured_drive(*args: Any, **kwargs: Any) -> None:
        before, started = tree_usage(), time.perf_counter()
        drive(*args, **kwargs)
        span["drive_s"] = time.perf_counter() - started
        after = tree_usage()
        span.update({k: after[k] - before[k] for k in ("user_s", "system_s", "faults")})
        span["processes"] = after["processes"]

    engines._drive = measured_drive  # type: ignore[assignment]
    spec = load_spec(config["spec"])
    base_rss = _status("VmRSS")
    started = time.perf_counter()
    summary = engines.run_sweep(spec, config["out"], engine=config["engine"],
                                workers=config.get("workers"), progress=False,
                                runs_per_task=config.get("runs_per_task", "auto"))
    elapsed = time.perf_counter() - started
    hwm = _status("VmHWM")  # before reading the run table back, which is analysis
    table = run_table(config["out"], write=False)
    ran = summary.ok + summary.failed
    return {"runs": ran, "failed": summary.failed, "elapsed_s": elapsed,
            "startup_s": summary.startup_s, "median_run_s": float(table["duration_s"].median()),
            "median_cpu_s": float(table["cpu_s"].median()),
            "worker_cpu_s": float(table["cpu_s"].sum()),
            "hwm_mib": hwm, "base_rss_mib": base_rss, **span}


def measure(config: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its result."""
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(config)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({config}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


CEILING_RUNS = 100
"""Runs each process of the ceiling does (about 8 s of the efficiency part's runs)."""


def ceiling_child(config: dict[str, Any]) -> dict[str, Any]:
    """The first ``ceiling_runs`` runs of the spec, one after the other, nothing stored."""
    from village_sim.sweep import load_spec
    from village_sim.sweep.design import design_points, iter_tasks
    from village_sim.sweep.runner import execute_run, warm_up

    spec = load_spec(config["spec"])
    tasks = list(itertools.islice(iter_tasks(spec, design_points(spec), set()),
                                  config["ceiling_runs"]))
    warm_up()
    print("ready", flush=True)
    sys.stdin.readline()  # every process of the measurement starts at once
    started = time.perf_counter()
    for task in tasks:
        execute_run(task)
    return {"elapsed_s": time.perf_counter() - started}


def parallel_ceiling(spec: Path, runs: int = CEILING_RUNS) -> float:
    """How much two processes get done at once, relative to one alone, right now.

    The same runs as the sweep (the spec's first ``runs``), with nothing stored and nothing
    shared, in one process alone and then in two processes at once (each started, its imports
    done, before the clock starts): 2.0 on an idle 2-core machine whose cores do not slow each
    other down, less when other work competes for the cores or the two share a physical core
    or memory bandwidth. No 2-worker engine can beat it on these runs, whatever its overheads.
    """
    config = json.dumps({"spec": str(spec), "ceiling_runs": runs})

    def timed(n: int) -> float:
        procs = [subprocess.Popen([sys.executable, __file__, "--child", config],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(n)]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate()
            results.append(json.loads(out.strip().splitlines()[-1])["elapsed_s"])
        return max(results)

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
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs: a smoke "
                        "check (figures not comparable with the targets)")
    parser.add_argument("--only", choices=("cpu", "efficiency", "memory"), default=None,
                        help="run one part only (e.g. to repeat it at a quiet moment)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        config = json.loads(args.child)
        print(json.dumps(ceiling_child(config) if "ceiling_runs" in config else child(config)))
        return

    print(f"bench_sweep: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}; village-sim "
          f"{version('village-sim')}, dask {version('dask')}, distributed "
          f"{version('distributed')}, numpy {version('numpy')}, pyarrow {version('pyarrow')}"
          f"{'; QUICK mode' if args.quick else ''}")
    print(f"load average at start: {loadavg()}\n")
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        folder = Path(tmp)
        if args.only in (None, "cpu"):
            cpu_per_run(folder, args.quick)
        if args.only in (None, "efficiency"):
            efficiency(folder, args.quick)
        if args.only in (None, "memory"):
            memory(folder, args.quick)
    print(f"load average at end: {loadavg()}")


ENGINES = {
    "serial": {"engine": "serial"},
    "processes": {"engine": "processes", "workers": 2},
    "dask": {"engine": "dask", "workers": 2},
}


def cpu_per_run(folder: Path, quick: bool) -> None:
    """Part 1: CPU seconds per run of every process involved, same runs on every engine."""
    steps, reps = (24, 4) if quick else (60, 12)
    spec = write_spec(folder, "heavy", HEAVY, steps, reps, [0.5])
    n = len(REGIMES) * reps
    print(f"1. CPU per run: {n} runs of {HEAVY['n_households']:,} households x {steps} months "
          f"(load {loadavg()})")
    cases = [
        ("serial", ENGINES["serial"]),
        ("processes, 2 workers", ENGINES["processes"]),
        ("dask, 2 workers", ENGINES["dask"]),
        ("dask, Dask's default worker environ", {**ENGINES["dask"],
                                                  "dask_default_environ": True}),
        ("dask, 1 run per task", {**ENGINES["dask"], "runs_per_task": 1}),
    ]
    rows = []
    for i, (label, config) in enumerate(cases):
        r = measure({**config, "spec": str(spec), "out": str(folder / f"c-{i}")})
        rows.append((label, r))
        print(f"   {label}: {r['drive_s']:.1f} s (load {loadavg()})")
    serial = rows[0][1]
    per_serial = (serial["user_s"] + serial["system_s"]) / serial["runs"]
    print()
    print("| engine | runs | CPU s/run, all processes (user + system) | x serial | "
          "in the runs (worker cpu_s) | outside the runs | minor faults/run | processes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        total = (r["user_s"] + r["system_s"]) / r["runs"]
        inside = r["worker_cpu_s"] / r["runs"]
        print(f"| {label} | {r['runs']} | {total:.3f} ({r['user_s'] / r['runs']:.3f} + "
              f"{r['system_s'] / r['runs']:.3f}) | {total / per_serial:.2f} | {inside:.3f} | "
              f"{total - inside:.3f} | {r['faults'] / r['runs']:,.0f} | {r['processes']} |")
    dask = rows[2][1]
    ratio = (dask["user_s"] + dask["system_s"]) / dask["runs"] / per_serial
    verdict = "met" if ratio <= CPU_TARGET else "NOT met"
    print(f"\nTarget Dask CPU per run <= {CPU_TARGET:.2f}x serial: {verdict} ({ratio:.2f}x)\n")


def efficiency(folder: Path, quick: bool) -> None:
    """Part 2: speed-up over serial against the ceiling, 3 interleaved rounds, median."""
    steps, reps, rounds = (36, 25, 1) if quick else (36, 200, 3)
    ceiling_runs = 20 if quick else CEILING_RUNS
    favoritism = [0.1, 0.3, 0.5, 0.7, 0.9]
    spec = write_spec(folder, "short", SHORT, steps, reps, favoritism)
    n = len(REGIMES) * reps * len(favoritism)
    print(f"2. Parallel efficiency: {n:,} runs of {SHORT['n_households']} households x {steps} "
          f"months, {rounds} interleaved round(s) (load {loadavg()})")
    results: list[dict[str, Any]] = []
    for k in range(rounds):
        row: dict[str, Any] = {"ceiling": parallel_ceiling(spec, ceiling_runs),
                               "load": loadavg()}
        for label, config in ENGINES.items():
            row[label] = measure({**config, "spec": str(spec), "out": str(folder / f"e-{k}-"
                                                                           f"{label}")})
        row["ceiling_after"] = parallel_ceiling(spec, ceiling_runs)
        results.append(row)
        print(f"   round {k + 1}: ceiling {row['ceiling']:.2f} / {row['ceiling_after']:.2f}; "
              + "; ".join(f"{label} {row[label]['drive_s']:.1f} s" for label in ENGINES)
              + f" (load {loadavg()})")
    print()
    print("| round | ceiling before / after | serial s | processes s | x serial | of ceiling "
          "| dask s | x serial | of ceiling | dask / processes | CPU s/run: serial, processes, "
          "dask |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    eff: dict[str, list[float]] = {"processes": [], "dask": []}
    for k, row in enumerate(results):
        ceiling = (row["ceiling"] + row["ceiling_after"]) / 2
        serial = row["serial"]["drive_s"]
        cells = []
        for label in ("processes", "dask"):
            speedup = serial / row[label]["drive_s"]
            eff[label].append(speedup / ceiling)
            cells.append(f"{row[label]['drive_s']:.1f} | {speedup:.2f} | "
                         f"{100 * speedup / ceiling:.0f}%")
        cpu = [(row[label]["user_s"] + row[label]["system_s"]) / row[label]["runs"]
               for label in ENGINES]
        versus = row["dask"]["drive_s"] / row["processes"]["drive_s"]
        print(f"| {k + 1} | {row['ceiling']:.2f} / {row['ceiling_after']:.2f} | {serial:.1f} | "
              f"{' | '.join(cells)} | {versus:.2f} | {', '.join(f'{c:.4f}' for c in cpu)} |")
    for label, values in eff.items():
        median = statistics.median(values)
        verdict = "met" if median >= EFFICIENCY_TARGET else "NOT met"
        print(f"Target {label} >= {EFFICIENCY_TARGET:.0%} of the ceiling (median of "
              f"{len(values)}): {verdict} ({median:.0%})")
    print()


def memory(folder: Path, quick: bool) -> None:
    """Part 3: client peak memory with 1,000 and 100,000 planned runs (the first 1,000 run)."""
    sizes, ran = ((1_000, 20_000), 200) if quick else ((1_000, 100_000), 1_000)
    favoritism = [0.1, 0.3, 0.5, 0.7, 0.9]
    print(f"3. Client peak memory (VmHWM of the driving process), Dask LocalCluster of 2 "
          f"workers, runs of {TINY['n_households']} households x 13 months; the first "
          f"{ran:,} runs of each plan run (load {loadavg()})")
    rows = []
    for n in sizes:
        reps = n // (len(REGIMES) * len(favoritism))
        spec = write_spec(folder, f"tiny{n}", TINY, 13, reps, favoritism)
        r = measure({**ENGINES["dask"], "spec": str(spec), "out": str(folder / f"m-{n}"),
                     "max_runs": ran})
        rows.append((n, r))
        print(f"   {n:,} planned: {r['elapsed_s']:.1f} s, peak {r['hwm_mib']:.1f} MiB "
              f"(load {loadavg()})")
    print()
    print("| planned runs | runs run | peak MiB | after imports MiB | peak - imports MiB | s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, r in rows:
        print(f"| {n:,} | {r['runs']:,} | {r['hwm_mib']:.1f} | {r['base_rss_mib']:.1f} | "
              f"{r['hwm_mib'] - r['base_rss_mib']:.1f} | {r['elapsed_s']:.1f} |")
    growth = rows[1][1]["hwm_mib"] - rows[0][1]["hwm_mib"]
    verdict = "met" if growth <= MEMORY_TARGET_MIB else "NOT met"
    print(f"\nTarget client peak at {sizes[1]:,} planned runs <= {MEMORY_TARGET_MIB:.0f} MiB "
          f"above {sizes[0]:,}: {verdict} ({growth:+.1f} MiB)\n")


if __name__ == "__main__":
    main()
