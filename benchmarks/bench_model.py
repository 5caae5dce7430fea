"""Speed and memory of VillageModel against Mesa's own BoltzmannWealth example, in one process.

Run from the repository root::

    uv run python benchmarks/bench_model.py            # full run (about a minute)
    uv run python benchmarks/bench_model.py --quick    # smoke check (under 20 s)
    uv run python benchmarks/bench_model.py --profile  # also cProfile construction and a year

What is measured (benchmarks/README.md explains why):

1. Reference: Mesa's ``BoltzmannWealth`` at 10,000 agents on a 100x100 grid, the "large"
   configuration of Mesa's own benchmarks (mesa/benchmarks/configurations.py). Agent-steps per
   second over ``model.step()`` (agent activation plus Mesa's data collection), after one
   warm-up step.
2. ``VillageModel(regime="team_and_committee")`` at 1,000, 10,000 and 100,000 households:
   household-steps per second over whole monthly steps (all phases plus data collection),
   starting right after construction, and the ratio to the reference. Target: at least 10x
   the reference at 10,000 households.
3. Construction of a 10,000-household village: median of 5 builds. Target: under 1 s.
4. Peak resident memory of building and running a 100,000-household village for 12 months, in
   a fresh child process, against a child that only imports village_sim.

Timed repeats are interleaved in rounds (reference, then each village size, then the next
round), and the ratio to the reference is the median of the per-round ratios, so that a slow
patch on a shared machine hits both sides of a ratio; the ratio of the fastest rounds is shown
beside it. Timings are only as good as the machine is quiet: the load average is printed at
start and end, with a warning when other work competes for the cores. BLAS and OpenMP thread
pools are pinned to one thread before numpy is imported, as every sweep engine does (DESIGN §7).
"""

from __future__ import annotations

import os

# Pin thread pools before numpy (imported by village_sim and mesa) loads its BLAS.
PINNED_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
for _name in PINNED_THREAD_VARS:
    os.environ[_name] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib.metadata import version  # noqa: E402

import mesa  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from mesa.examples.basic.boltzmann_wealth_model.model import (  # noqa: E402
    BoltzmannScenario,
    BoltzmannWealth,
)

import village_sim  # noqa: E402
from village_sim import VillageModel  # noqa: E402
from village_sim.stack import VillageStack  # noqa: E402

try:  # optional: also limits pools that are already loaded, and reports them
    from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
except ImportError:  # pragma: no cover - depends on the environment
    threadpool_info = threadpool_limits = None

SEED = 42
REGIME = "team_and_committee"
THROUGHPUT_TARGET = 10.0  # household-steps/s at 10,000 over Boltzmann's agent-steps/s
THROUGHPUT_TARGET_N = 10_000
CONSTRUCTION_TARGET_S = 1.0
BLAS_ENV_PREFIXES = ("OPENBLAS_", "GOTO", "OMP_", "MKL_", "NVPL_", "BLIS_", "VECLIB_", "NUMEXPR_")


@dataclass(frozen=True)
class Config:
    """Sizes and repeats of one benchmark run."""

    name: str
    boltzmann_n: int
    boltzmann_side: int
    boltzmann_steps: int
    village_runs: tuple[tuple[int, int], ...]  # (households, months)
    rounds: int
    construction_n: int
    construction_builds: int
    memory_n: int
    memory_steps: int
    tracemalloc: bool  # a third child that traces allocations (slow)
    stack_villages: int = 30  # villages of 300 households, stacked vs solo (VillageStack)
    stack_months: int = 12


FULL = Config(
    name="full",
    boltzmann_n=10_000, boltzmann_side=100, boltzmann_steps=20,
    village_runs=((1_000, 24), (10_000, 24), (100_000, 12)),
    rounds=5,
    construction_n=10_000, construction_builds=5,
    memory_n=100_000, memory_steps=12, tracemalloc=True,
)
QUICK = Config(
    name="quick",
    boltzmann_n=10_000, boltzmann_side=100, boltzmann_steps=5,
    village_runs=((1_000, 12), (10_000, 12)),
    rounds=1,
    construction_n=10_000, construction_builds=3,
    memory_n=10_000, memory_steps=12, tracemalloc=False,
    stack_villages=4, stack_months=6,
)


@dataclass
class Throughput:
    """Timed rounds of one model configuration."""

    label: str
    agents: int
    steps: int
    wall: list[float] = field(default_factory=list)  # seconds per round
    build: list[float] = field(default_factory=list)  # construction seconds per round

    def rates(self) -> list[float]:
        """Agent-steps (household-steps) per second, one per round."""
        return [self.steps * self.agents / s for s in self.wall]

    def rate(self) -> float:
        """Median over rounds of agent-steps per second."""
        return statistics.median(self.rates())

    def ratio(self, ref: Throughput) -> float:
        """Median over rounds of this rate divided by the reference's rate in the same round."""
        return statistics.median(a / b for a, b in zip(self.rates(), ref.rates(), strict=True))

    def best_ratio(self, ref: Throughput) -> float:
        """This configuration's fastest round over the reference's fastest round."""
        return max(self.rates()) / max(ref.rates())

    @property
    def spread(self) -> float:
        """(slowest - fastest) / median wall time over rounds: how noisy the figure is."""
        return (max(self.wall) - min(self.wall)) / statistics.median(self.wall)


# ---------------------------------------------------------------- environment
def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total_gib() -> float | None:
    """Physical memory of the machine in GiB (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def blas_description() -> str:
    """Name and version of the BLAS numpy was built against."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except Exception:  # noqa: BLE001 - older numpy: no dict mode
        return "unknown"


def machine_busy() -> bool:
    """Whether the 1-minute load average says more than half of the cores are busy."""
    return hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1)


def load_average() -> str:
    """The 1-minute load average, and a warning when other work competes for the cores."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    busy = f" (> half of {os.cpu_count()} cores busy: expect noisy timings)"
    return f"{os.getloadavg()[0]:.2f}" + (busy if machine_busy() else "")


def source_state() -> str:
    """Where village_sim was imported from, and its git commit (read-only git commands)."""
    src = os.path.dirname(os.path.abspath(village_sim.__file__))
    try:
        git = ["git", "--no-optional-locks", "-C", src]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return src
    return f"{src} (git {head}" + (", with uncommitted changes)" if dirty else ")")


def print_environment(config: Config) -> None:
    """Date, machine, versions and thread settings."""
    now = dt.datetime.now().astimezone()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    mem = memory_total_gib()
    print(f"village_sim benchmark ({config.name} run)")
    print(f"  date        {now.isoformat(timespec='seconds')}")
    print(f"  platform    {platform.platform()}")
    print(f"  cpu         {cpu_model()}; {os.cpu_count()} logical cores"
          + (f", {usable} usable by this process" if usable is not None else "")
          + (f"; {mem:.1f} GiB RAM" if mem is not None else ""))
    print(f"  python      {platform.python_version()} ({platform.python_implementation()})")
    print(f"  packages    village_sim {village_sim.__version__}, mesa {mesa.__version__}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}, "
          f"networkx {version('networkx')}, pandas {version('pandas')}")
    print(f"  source      {source_state()}")
    print(f"  blas        {blas_description()}")
    print(f"  threads     pinned to 1 before numpy was imported: {', '.join(PINNED_THREAD_VARS)}")
    if threadpool_limits is not None:
        pools = ", ".join(f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info())
        print(f"              threadpoolctl limits applied ({pools or 'no pools loaded'})")
    else:
        print("              threadpoolctl not installed: environment variables only")
    other = sorted(k for k in os.environ
                   if k.startswith(BLAS_ENV_PREFIXES) and k not in PINNED_THREAD_VARS)
    if other:
        print("  env         left as found: " + ", ".join(f"{k}={os.environ[k]}" for k in other))
    print(f"  load avg    {load_average()} at start")
    print()


# ---------------------------------------------------------------- timing
def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of ``fn()``, after a full garbage collection (gc stays enabled)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_steps(model: mesa.Model, steps: int) -> None:
    """Advance ``model`` by ``steps`` steps."""
    for _ in range(steps):
        model.step()


def time_boltzmann(row: Throughput, side: int, seed: int) -> None:
    """One round of the reference: build (untimed), one warm-up step, then the timed steps."""
    model = BoltzmannWealth(BoltzmannScenario(n=row.agents, width=side, height=side, rng=seed))
    model.step()  # warm-up
    row.wall.append(timed(lambda: run_steps(model, row.steps)))


def time_village(row: Throughput, seed: int) -> None:
    """One round of a village: build (timed apart), then the timed months from month 1."""
    holder: list[VillageModel] = []
    row.build.append(timed(lambda: holder.append(
        VillageModel(rng=seed, regime=REGIME, n_households=row.agents))))
    row.wall.append(timed(lambda: run_steps(holder[0], row.steps)))


def throughput(config: Config) -> tuple[Throughput, list[Throughput]]:
    """Interleaved rounds of the reference and of every village size."""
    # run lazily imported code paths once, outside any timing
    run_steps(VillageModel(rng=0, regime=REGIME, n_households=300), 13)
    side = config.boltzmann_side
    ref = Throughput(f"BoltzmannWealth {side}x{side} (reference)", config.boltzmann_n,
                     config.boltzmann_steps)
    runs = [Throughput(f"VillageModel {REGIME}", n, months) for n, months in config.village_runs]
    for r in range(config.rounds):
        time_boltzmann(ref, side, SEED + r)
        for row in runs:
            time_village(row, SEED + r)
    return ref, runs


def construction(config: Config) -> list[float]:
    """Wall seconds to build a village of ``construction_n`` households, once per seed."""
    return [
        timed(lambda i=i: VillageModel(
            rng=SEED + i, regime=REGIME, n_households=config.construction_n))
        for i in range(config.construction_builds)
    ]


def stacked(config: Config) -> tuple[list[float], list[float]]:
    """Wall seconds of ``stack_months`` months of ``stack_villages`` default villages, stacked
    in one set of arrays (VillageStack) and the same villages solo, interleaved per round."""
    configs = [{"rng": SEED + i, "regime": REGIME} for i in range(config.stack_villages)]
    stack_wall, solo_wall = [], []
    for _ in range(config.rounds):
        stack = VillageStack.build(configs)
        stack_wall.append(timed(lambda stack=stack: [
            stack.step() for _ in range(config.stack_months)]))
        solos = [VillageModel(**c) for c in configs]
        solo_wall.append(timed(lambda solos=solos: [
            [v.step() for v in solos] for _ in range(config.stack_months)]))
    return stack_wall, solo_wall


# ---------------------------------------------------------------- memory
# Each child runs in a fresh interpreter so that the figure is its workload's alone, and reads
# its own peak resident set size from VmHWM in /proc/self/status (Linux). Not from getrusage:
# on Linux a child's ru_maxrss (RUSAGE_SELF in the child, and so RUSAGE_CHILDREN in the parent)
# starts from the parent's resident size at fork/exec, so it would report the benchmark process
# itself (checked: a parent holding 1 GiB makes a bare child report 1 GiB). Elsewhere ru_maxrss.
CHILD = r"""
import json, resource, sys, time
mode, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seed, regime = int(sys.argv[4]), sys.argv[5]
def peak():
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
import village_sim
from village_sim import VillageModel
out = {"import": peak()}
if mode == "run":
    model = VillageModel(rng=seed, regime=regime, n_households=n)
    out["build"] = peak()
    for _ in range(steps):
        model.step()
    out["run"] = peak()
elif mode == "tracemalloc":
    import tracemalloc
    tracemalloc.start()
    model = VillageModel(rng=seed, regime=regime, n_households=n)
    out["build"] = tracemalloc.get_traced_memory()[1]
    for _ in range(steps):
        model.step()
    out["current"], out["run"] = tracemalloc.get_traced_memory()
print(json.dumps(out))
"""


def memory(config: Config) -> dict[str, dict[str, float]]:
    """Start the memory children together (peaks are per process) and read their reports."""
    modes = ["import", "run"] + (["tracemalloc"] if config.tracemalloc else [])
    children = {
        mode: subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(config.memory_n), str(config.memory_steps),
             str(SEED), REGIME],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        )
        for mode in modes
    }
    out = {}
    for mode, proc in children.items():
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"memory child {mode!r} failed:\n{stderr}")
        out[mode] = json.loads(stdout.strip().splitlines()[-1])
    return out


def mib(nbytes: float) -> str:
    """Bytes as MiB with one decimal."""
    return f"{nbytes / 2**20:,.1f} MiB"


# ---------------------------------------------------------------- profile
def profile(n: int, months: int, top: int = 15) -> None:
    """cProfile of building a village of ``n`` households and of ``months`` steps of it."""

    def report(title: str, prof: cProfile.Profile) -> None:
        stats = pstats.Stats(prof)
        total = max(stats.total_tt, 1e-12)  # type: ignore[attr-defined]
        print(f"--- profile: {title} ({total:.3f} s under cProfile); top {top} by cumulative")
        stats.sort_stats("cumulative").print_stats(top)
        print(f"--- {title}: top 10 by own time (numpy and scipy primitives show here)")
        stats.sort_stats("tottime").print_stats(10)
        print(f"--- {title}: village_sim functions by cumulative share of the total")
        rows = []
        raw = stats.stats  # type: ignore[attr-defined]
        for (path, line, func), (_cc, _nc, _tt, cum, _callers) in raw.items():
            if f"village_sim{os.sep}" in path:
                rows.append((cum, f"{path.split(f'village_sim{os.sep}')[-1]}:{line}({func})"))
        for cum, name in sorted(rows, reverse=True)[:top]:
            print(f"  {cum / total:6.1%}  {cum:8.4f} s  {name}")
        print()

    VillageModel(rng=0, regime=REGIME, n_households=n)  # lazy imports and caches
    prof = cProfile.Profile()
    prof.enable()
    model = VillageModel(rng=SEED, regime=REGIME, n_households=n)
    prof.disable()
    report(f"construction, {n:,} households", prof)
    prof = cProfile.Profile()
    prof.enable()
    run_steps(model, months)
    prof.disable()
    report(f"{months} monthly steps, {n:,} households", prof)


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables, ratios and verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, one round: a smoke check in under 20 s")
    parser.add_argument("--profile", action="store_true",
                        help="also print cProfile of construction and 12 months at 10,000")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    if threadpool_limits is not None:
        threadpool_limits(limits=1)
    started = time.perf_counter()
    print_environment(config)
    busy = machine_busy()

    mem = memory(config)  # first, while this process is still small and idle
    ref, runs = throughput(config)
    builds = construction(config)
    stack_wall, solo_wall = stacked(config)

    print(f"Throughput: median of {config.rounds} interleaved round(s); timed steps only")
    head = (f"  {'model':<38}{'agents':>8}{'steps':>6}{'wall s':>8}{'ms/step':>9}"
            f"{'agent-steps/s':>15}{'x ref':>7}{'x best':>8}{'spread':>8}{'build s':>9}")
    print(head)
    print("  " + "-" * (len(head) - 2))
    for row in [ref, *runs]:
        wall = statistics.median(row.wall)
        build = f"{statistics.median(row.build):9.3f}" if row.build else f"{'-':>9}"
        print(f"  {row.label:<38}{row.agents:>8,}{row.steps:>6}{wall:>8.3f}"
              f"{1e3 * wall / row.steps:>9.2f}{row.rate():>15,.0f}{row.ratio(ref):>7.2f}"
              f"{row.best_ratio(ref):>8.2f}{row.spread:>8.0%}{build}")
    print(f"  reference: Mesa's 'large' BoltzmannWealth configuration, {config.boltzmann_steps} "
          f"steps after 1 warm-up step; seeds {SEED}..{SEED + config.rounds - 1}")
    covered = "; ".join(f"{n:,}: months 1-{m}" for n, m in config.village_runs)
    print(f"  village months timed ({covered}); the yearly phases run in months 1, 7 and 12")
    print("  x ref: median of per-round ratios; x best: fastest round over the reference's "
          "fastest; spread: (max - min) / median wall time")
    print()

    med = statistics.median(builds)
    print(f"Construction, {config.construction_n:,} households, {config.construction_builds} "
          f"builds: median {med:.3f} s (min {min(builds):.3f}, max {max(builds):.3f})")
    print()

    village_months = config.stack_villages * config.stack_months
    st, so = statistics.median(stack_wall), statistics.median(solo_wall)
    print(f"Stacked villages (VillageStack, what the county builds on): {config.stack_villages} "
          f"villages of 300 households, {config.stack_months} months, median of "
          f"{config.rounds} round(s)")
    print(f"  stacked {st:.3f} s ({1e3 * st / village_months:.2f} ms per village-month); the "
          f"same villages solo {so:.3f} s; stacked / solo {st / so:.2f}")
    print()

    n, s = config.memory_n, config.memory_steps
    base, used = mem["import"]["import"], mem["run"]
    print("Peak memory: fresh child processes, peak resident set size (VmHWM)")
    for label, value in (
        ("import village_sim only", base),
        (f"import + build {n:,} households", used["build"]),
        (f"import + build + {s} months", used["run"]),
        ("difference (the model's own peak)", used["run"] - base),
    ):
        print(f"  {label:<42}{mib(value):>13}")
    if "tracemalloc" in mem:
        traced = mem["tracemalloc"]
        print(f"  tracemalloc peak: build {mib(traced['build'])}, build + {s} months "
              f"{mib(traced['run'])} (Python and numpy allocations after import)")
    print()

    print("Verdicts" + (" (quick run: indicative only)" if args.quick else ""))
    target = next((r for r in runs if r.agents == THROUGHPUT_TARGET_N), None)
    if target is not None:
        ratio = target.ratio(ref)
        verdict = "met" if ratio >= THROUGHPUT_TARGET else "NOT met"
        print(f"  throughput at {THROUGHPUT_TARGET_N:,} households >= {THROUGHPUT_TARGET:g}x "
              f"BoltzmannWealth: {verdict} ({ratio:.2f}x; {target.rate():,.0f} household-steps/s"
              f" vs {ref.rate():,.0f} agent-steps/s; fastest rounds "
              f"{target.best_ratio(ref):.2f}x)")
    verdict = "met" if med < CONSTRUCTION_TARGET_S else "NOT met"
    print(f"  construction of {config.construction_n:,} households < "
          f"{CONSTRUCTION_TARGET_S:g} s: {verdict} (median {med:.3f} s)")
    print(f"  peak memory, {n:,} households and {s} months: no target "
          f"({mib(used['run'])} peak RSS, {mib(used['run'] - base)} above the import)")
    if busy or machine_busy():
        print("  note: the machine was busy during this run; rerun on a quiet machine before "
              "trusting a verdict near its threshold")
    print()
    print(f"load avg {load_average()} at end; benchmark wall time "
          f"{time.perf_counter() - started:.1f} s")

    if args.profile:
        print()
        profile(THROUGHPUT_TARGET_N, 12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
