"""The county's speed targets (issue 11), measured on what exists: the baseline for the engine.

Run from the repository root::

    uv run python benchmarks/bench_county.py           # about 3 minutes
    uv run python benchmarks/bench_county.py --quick   # smoke check (under a minute)

The county engine (docs/county_engine.md) is not built yet; this script measures the
reference sides of issue 11's targets and today's county path (``VillageStack``, which steps
its villages one after another), so that the engine has its yardstick ready:

1. A month of 200 villages × 300 households: each village a separate ``VillageModel`` stepped
   one after another (the reference), against ``VillageStack`` (today's county path). Target
   for the engine: at least 10× faster than the reference.
2. The same months as household-steps per second against Mesa's ``BoltzmannWealth`` at 10,000
   agents on 100×100 (as benchmarks/bench_model.py). Target for the engine: at least 12× (20×
   the goal) at 60,000 households.
3. The household metrics of every village: ``village_sim.county.metrics`` in one pass against
   each village's own ``metrics()``.
4. Building 1,000 villages × 300 households (seeds keyed by village, ``rng.village_seed``).
   Target: under 5 s.
5. ``--thousand``: a ``CountyModel`` of 1,000 villages × 300 households (100 teams, ``rotate``)
   built and run for 60 months in a fresh process: build time, ms a month, and peak memory
   (``VmHWM``) after building and at the end.

Rounds are interleaved (reference, then the others) and ratios are medians of per-round
ratios, so a slow patch on a shared machine hits both sides. BLAS pools are pinned to one
thread before numpy loads. The load average is printed at start and end.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from mesa.examples.basic.boltzmann_wealth_model.model import (  # noqa: E402
    BoltzmannScenario,
    BoltzmannWealth,
)

from village_sim import VillageModel  # noqa: E402
from village_sim.county import CountyModel  # noqa: E402
from village_sim.county import metrics as CM  # noqa: E402
from village_sim.rng import village_seed  # noqa: E402
from village_sim.stack import VillageStack  # noqa: E402

REGIME = "team_and_committee"
SEED = 42
BOLTZMANN_STEPS = 20


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def villages(n: int, households: int) -> list[dict[str, object]]:
    return [{"rng": village_seed(SEED, v), "regime": REGIME, "n_households": households}
            for v in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer villages and months")
    parser.add_argument("--thousand", action="store_true",
                        help="only part 5: 1,000 villages x 300 households, 60 months")
    parser.add_argument("--months", type=int, default=60, help="months of part 5")
    args = parser.parse_args()
    if args.thousand:
        thousand(args.months)
        return
    n_villages, households, months, rounds = (50, 300, 3, 2) if args.quick else (200, 300, 6, 3)
    print(f"bench_county: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; Python "
          f"{sys.version.split()[0]}; numpy {np.__version__}; {os.cpu_count()} CPUs"
          f"{'; QUICK' if args.quick else ''}")
    print(f"load average at start: {loadavg()}\n")
    configs = villages(n_villages, households)
    # warm-up: lazily imported code paths, outside any timing
    warm = VillageModel(rng=0, regime=REGIME, n_households=households)
    for _ in range(13):
        warm.step()

    solo_s, stack_s, boltz_rate, own_m, county_m = [], [], [], [], []
    model_s, pooled_m = [], []
    for r in range(rounds):
        model = BoltzmannWealth(BoltzmannScenario(n=10_000, width=100, height=100,
                                                  rng=SEED + r))
        model.step()
        boltz_rate.append(10_000 * BOLTZMANN_STEPS / timed(
            lambda m=model: [m.step() for _ in range(BOLTZMANN_STEPS)]))
        solos = [VillageModel(**c) for c in configs]
        solo_s.append(timed(lambda s=solos: [[v.step() for v in s] for _ in range(months)])
                      / months)
        stack = VillageStack.build(configs)
        stack_s.append(timed(lambda s=stack: [s.step() for _ in range(months)]) / months)

        def own(s: VillageStack = stack) -> None:
            for v in s.villages:
                v._metric_cache = None
                v.metrics()

        own_m.append(timed(own))
        county_m.append(timed(lambda s=stack: CM.household_metrics(s)))
        # CountyModel, the reference engine: the same villages' sizes, a team in every
        # village (as the separate villages have), the county's year and metrics included
        county = CountyModel(rng=SEED, n_villages=n_villages, teams=n_villages,
                             deployment="random", n_households=households)
        model_s.append(timed(lambda c=county: [c.step() for _ in range(months)]) / months)
        pooled_m.append(timed(lambda c=county: CM.county_metrics(c.stack)))
        print(f"   round {r + 1}: separate villages {solo_s[-1] * 1000:.0f} ms a month, stack "
              f"{stack_s[-1] * 1000:.0f} ms, Boltzmann {boltz_rate[-1]:,.0f} agent-steps/s "
              f"(load {loadavg()})")
    n_hh = n_villages * households
    med = statistics.median
    speedups = [a / b for a, b in zip(solo_s, stack_s, strict=True)]
    ratios = [n_hh / s / b for s, b in zip(stack_s, boltz_rate, strict=True)]
    solo_ratios = [n_hh / s / b for s, b in zip(solo_s, boltz_rate, strict=True)]
    print()
    print(f"| measurement ({n_villages} villages x {households} households, {months} months "
          f"after month 0, median of {rounds} rounds) | value | target (county engine) |")
    print("|---|---:|---:|")
    print(f"| separate VillageModels, one after another: ms a month | "
          f"{med(solo_s) * 1000:.0f} | reference |")
    print(f"| VillageStack (villages stepped one by one): ms a month | "
          f"{med(stack_s) * 1000:.0f} | |")
    print(f"| speed-up of the county path over separate villages | {med(speedups):.2f}x | "
          f">= 10x |")
    print(f"| household-steps/s over Boltzmann agent-steps/s: separate villages | "
          f"{med(solo_ratios):.2f}x | |")
    print(f"| same, VillageStack | {med(ratios):.2f}x | >= 12x (20x goal) |")
    print(f"| household metrics of every village: each village's metrics() / county.metrics, "
          f"ms | {med(own_m) * 1000:.0f} / {med(county_m) * 1000:.0f} | |")
    print(f"| CountyModel (reference engine, a team in every village, the county's year and "
          f"metrics): ms a month | {med(model_s) * 1000:.0f} | |")
    print(f"| the county's own metrics a month (county_metrics), ms | "
          f"{med(pooled_m) * 1000:.0f} | |")

    n_build = 200 if args.quick else 1000
    build = timed(lambda: VillageStack.build(villages(n_build, households)))
    print(f"| build {n_build} villages x {households} households (VillageStack.build), s | "
          f"{build:.2f} | < 5 s (1,000 villages) |")
    print(f"\nload average at end: {loadavg()}")


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def thousand(months: int) -> None:
    """Part 5: a county of 1,000 villages x 300 households built and run (this process)."""
    print(f"bench_county --thousand: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; Python "
          f"{sys.version.split()[0]}; numpy {np.__version__}; load {loadavg()}")
    base = _status_mib("VmRSS")
    started = time.perf_counter()
    model = CountyModel(rng=SEED, n_villages=1000, teams=100, deployment="rotate",
                        n_households=300)
    built = time.perf_counter() - started
    after_build = _status_mib("VmHWM")
    month_s = []
    for _ in range(months):
        t0 = time.perf_counter()
        model.step()
        month_s.append(time.perf_counter() - t0)
    ran = sum(month_s)
    print("| measurement (CountyModel, 1,000 villages x 300 households, 100 teams, rotate) "
          "| value |")
    print("|---|---:|")
    print(f"| households | {sum(v.n for v in model.villages):,} |")
    print(f"| build, s | {built:.2f} |")
    print(f"| {months} months, s | {ran:.1f} |")
    print(f"| a month, median (first / a deployment month), s | "
          f"{statistics.median(month_s):.2f} ({month_s[0]:.2f} / "
          f"{month_s[12] if months > 12 else float('nan'):.2f}) |")
    print(f"| memory after imports, MiB | {base:.0f} |")
    print(f"| peak memory after building, MiB | {after_build:.0f} |")
    print(f"| peak memory at the end, MiB | {_status_mib('VmHWM'):.0f} |")
    print(f"\nload average at end: {loadavg()}")


if __name__ == "__main__":
    main()
