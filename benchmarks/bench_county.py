"""The county's speed targets (issue 11): the county engine against separate villages.

Run from the repository root::

    uv run python benchmarks/bench_county.py           # about 5 minutes
    uv run python benchmarks/bench_county.py --quick   # smoke check (under a minute)
    uv run python benchmarks/bench_county.py --thousand

1. A month of 200 villages × 300 households over a year of months 2-13 (its re-check, survey,
   year's end and next year's identification; month 1, with each model's one-time setup —
   the compiled loops' lists of generators, the kinship matrix, lazily built caches — is
   stepped before the clock starts and timed apart, as Boltzmann's first step is not timed):
   each village a separate ``VillageModel`` stepped one after another (the reference), against
   the same villages on the county engine
   (:class:`village_sim.county.engine.CountyEngine`, whose results are the separate villages',
   bit for bit; its draws, walks over ties, visit plan and optimal shares in numba's compiled
   loops where numba is installed, and timed again with numpy and Python loops), and against
   a ``CountyModel`` of as many villages with a team in each (its yearly cycle and its monthly
   metrics included). Target: at least 10× the reference.
2. The same months as household-steps per second against Mesa's ``BoltzmannWealth`` at 10,000
   agents on 100×100 (as benchmarks/bench_model.py). Target: at least 12× (20× the goal) at
   60,000 households, every mechanism on and every metric monthly. The ``CountyModel`` line is
   paired: a fresh Boltzmann model of the round, its first step untimed, takes its steps 2-21
   — the steps the reference times (bench_model.py) — one or two before each of the county's
   12 months (1, 2, 2, 1, 2, 2, ...), so that both are timed in the same state of the machine.
   Printed beside it: Boltzmann's block of steps 2-21 timed apart (the reference's protocol
   itself), and the pairing used until 2026-12-03 (one step of the block's model, its steps
   22-33, before each month), which timed another part of Boltzmann's run than the
   reference does (benchmarks/README.md, eleventh round).
3. The cost of each of the engine's phases, ms a month (yearly phases averaged over the year).
4. Building a ``CountyModel`` of 1,000 villages × 300 households (seeds keyed by village,
   ``rng.village_seed``; its villages' metrics kept yearly, so month 0 is not recorded in each
   village's DataCollector). Target: under 5 s.
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
from village_sim.county.engine import CountyEngine  # noqa: E402
from village_sim.county.phases import draws  # noqa: E402
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


def paired_steps(month: int, months: int) -> int:
    """Boltzmann steps before the county's month ``month`` (from 0): its ``BOLTZMANN_STEPS``
    timed steps spread evenly over ``months`` (20 over 12: 1, 2, 2, 1, 2, 2, ...)."""
    return (BOLTZMANN_STEPS * (month + 1)) // months - (BOLTZMANN_STEPS * month) // months


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
    n_villages, households, months, rounds = (50, 300, 3, 2) if args.quick else (200, 300, 12, 5)
    print(f"bench_county: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; Python "
          f"{sys.version.split()[0]}; numpy {np.__version__}; {os.cpu_count()} CPUs"
          f"{'; QUICK' if args.quick else ''}")
    print(f"load average at start: {loadavg()}\n")
    configs = villages(n_villages, households)
    # warm-up: lazily imported code paths, outside any timing
    warm = VillageModel(rng=0, regime=REGIME, n_households=households)
    for _ in range(13):
        warm.step()
    # and the compiled loops' first load (numba, where installed: phases.draws)
    warm_county = CountyEngine(VillageStack.build(villages(max(draws.JIT_FROM_VILLAGES, 1),
                                                           households)), collect=False)
    for _ in range(13):
        warm_county.step()
    compiled = draws.kernels(CountyEngine(VillageStack.build(configs), collect=False))
    print(f"the engine's loops: {'compiled (numba)' if compiled else 'numpy and Python'}")

    solo_s, engine_s, boltz_rate, model_s, pooled_m = [], [], [], [], []
    paired_rate: list[float] = []  # Boltzmann's steps 2-21 interleaved with CountyModel's months
    late_rate: list[float] = []  # its steps 22-33 so (the pairing until 2026-12-03)
    first_s: list[float] = []  # CountyModel's first month (its one-time setup included)
    python_s: list[float] = []
    phases: dict[str, list[float]] = {}
    for r in range(rounds):
        model = BoltzmannWealth(BoltzmannScenario(n=10_000, width=100, height=100,
                                                  rng=SEED + r))
        model.step()
        boltz_rate.append(10_000 * BOLTZMANN_STEPS / timed(
            lambda m=model: [m.step() for _ in range(BOLTZMANN_STEPS)]))
        # the reference: each village a separate VillageModel, one after another
        solos = [VillageModel(**c) for c in configs]
        for v in solos:  # month 1, untimed (as every model below)
            v.step()
        solo_s.append(timed(lambda s=solos: [[v.step() for v in s] for _ in range(months)])
                      / months)
        # the same villages on the county engine (their results are the separate ones, bit
        # for bit: tests/test_county_engine.py)
        engine = CountyEngine(VillageStack.build(configs), collect=False)
        engine.step()
        engine.seconds.clear()
        engine_s.append(timed(lambda e=engine: [e.step() for _ in range(months)]) / months)
        for phase, seconds in engine.seconds.items():
            phases.setdefault(phase, []).append(seconds / months)
        if compiled:  # the same engine without its compiled loops
            jit_from, draws.JIT_FROM_VILLAGES = draws.JIT_FROM_VILLAGES, 10**9
            engine = CountyEngine(VillageStack.build(configs), collect=False)
            engine.step()
            python_s.append(timed(lambda e=engine: [e.step() for _ in range(months)]) / months)
            draws.JIT_FROM_VILLAGES = jit_from
        # CountyModel: drawn villages of the same size, a team in every village (as the
        # separate villages have), the county's year and its metrics every month included
        county = CountyModel(rng=SEED, n_villages=n_villages, teams=n_villages,
                             deployment="random", n_households=households)
        first_s.append(timed(county.step))
        # paired with Boltzmann month by month, so both see the machine in the same state (its
        # speed moves by half within a run here, and a block of Boltzmann steps can fall in
        # another): before each month, the reference's steps 2-21 of a fresh model of the
        # round spread over the months, and one step of the block's model (its steps 22-33,
        # the pairing until 2026-12-03)
        fresh = BoltzmannWealth(BoltzmannScenario(n=10_000, width=100, height=100,
                                                  rng=SEED + r))
        fresh.step()  # its first step untimed, as the reference's
        gc.collect()
        county_t = boltz_t = late_t = 0.0
        for month in range(months):
            for _ in range(paired_steps(month, months)):
                start = time.perf_counter()
                fresh.step()
                boltz_t += time.perf_counter() - start
            start = time.perf_counter()
            model.step()
            late_t += time.perf_counter() - start
            start = time.perf_counter()
            county.step()
            county_t += time.perf_counter() - start
        model_s.append(county_t / months)
        paired_rate.append(10_000 * BOLTZMANN_STEPS / boltz_t)
        late_rate.append(10_000 * months / late_t)
        del fresh
        assert county.engine is not None
        # as CountyModel._collect calls them: the engine's sums, compiled loops and arrays
        pooled_m.append(timed(lambda c=county: CM.county_metrics(
            c.stack, *c._sums_12(), c.engine.loops, c.engine)))
        del solos, engine, county  # nothing of this round alive during the next
        print(f"   round {r + 1}: separate villages {solo_s[-1] * 1000:.0f} ms a month, engine "
              f"{engine_s[-1] * 1000:.0f} ms, CountyModel {model_s[-1] * 1000:.0f} ms, "
              f"Boltzmann {boltz_rate[-1]:,.0f} agent-steps/s ({paired_rate[-1]:,.0f} paired "
              f"with CountyModel, steps 2-21; {late_rate[-1]:,.0f} steps 22-33) "
              f"(load {loadavg()})")
    n_hh = n_villages * households
    med = statistics.median
    print()
    print(f"| measurement ({n_villages} villages x {households} households, months 2-{months + 1}, "
          f"median of {rounds} interleaved rounds) | value | target |")
    print("|---|---:|---:|")
    print(f"| separate VillageModels, one after another: ms a month | "
          f"{med(solo_s) * 1000:.0f} | reference |")
    print(f"| the same villages on the county engine: ms a month | "
          f"{med(engine_s) * 1000:.0f} | |")
    print(f"| speed-up of the engine over separate villages | "
          f"{med([a / b for a, b in zip(solo_s, engine_s, strict=True)]):.2f}x | >= 10x |")
    if python_s:
        print(f"| the engine without its compiled loops (numpy and Python ones): ms a month | "
              f"{med(python_s) * 1000:.0f} | |")
        print(f"| speed-up of the engine without compiled loops over separate villages | "
              f"{med([a / b for a, b in zip(solo_s, python_s, strict=True)]):.2f}x | |")
    print(f"| CountyModel (engine, a team in every village, the county's year and metrics): "
          f"ms a month | {med(model_s) * 1000:.0f} | |")
    print(f"| speed-up of CountyModel over separate villages | "
          f"{med([a / b for a, b in zip(solo_s, model_s, strict=True)]):.2f}x | >= 10x |")
    print(f"| the county's own metrics a month (county_metrics), ms | "
          f"{med(pooled_m) * 1000:.0f} | |")
    print(f"| CountyModel's first month (month 1, one-time setup included), ms | "
          f"{med(first_s) * 1000:.0f} | |")
    print(f"| household-steps/s over Boltzmann's agent-steps/s ({med(boltz_rate):,.0f} a "
          f"second): separate villages | "
          f"{med([n_hh / s / b for s, b in zip(solo_s, boltz_rate, strict=True)]):.2f}x | |")
    print(f"| same, county engine | "
          f"{med([n_hh / s / b for s, b in zip(engine_s, boltz_rate, strict=True)]):.2f}x | |")
    print(f"| same, CountyModel (every metric monthly; Boltzmann's steps timed apart) | "
          f"{med([n_hh / s / b for s, b in zip(model_s, boltz_rate, strict=True)]):.2f}x | |")
    print(f"| same, CountyModel (every metric monthly), paired: Boltzmann's steps 2-21 spread "
          f"over the months ({med(paired_rate):,.0f} agent-steps/s) | "
          f"{med([n_hh / s / b for s, b in zip(model_s, paired_rate, strict=True)]):.2f}x | "
          f">= 12x (20x goal) |")
    print(f"| same, paired as until 2026-12-03: Boltzmann's steps 22-33, one before each month "
          f"({med(late_rate):,.0f} agent-steps/s) | "
          f"{med([n_hh / s / b for s, b in zip(model_s, late_rate, strict=True)]):.2f}x | |")
    print("\nThe engine's phases (ms a month, median of the rounds; yearly phases averaged over "
          "the months):\n")
    print("| phase | ms a month | per village-month, us |")
    print("|---|---:|---:|")
    for phase, values in sorted(phases.items(), key=lambda kv: -med(kv[1])):
        print(f"| {phase} | {med(values) * 1000:.1f} | {med(values) / n_villages * 1e6:.0f} |")

    n_build = 200 if args.quick else 1000
    build = timed(lambda: CountyModel(rng=SEED, n_villages=n_build, n_households=households))
    print(f"| build a CountyModel of {n_build} villages x {households} households, s | "
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
