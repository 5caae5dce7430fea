"""Runs stepped together on the county engine against the same runs one after another.

``village-sim compare`` (``experiment.run_paired``), ``village-sim effects``, calibration and the
statistical tests run their villages as the villages of one county engine
(``experiment.run_stacked``), each run's numbers its solo run's, bit for bit
(tests/test_stacked_runs.py). This script times both ways in the same process, interleaved,
and checks the numbers are the same:

1. compare's runs: two regimes on N paired seeds, every metric every month (``run_paired``
   against ``run_one`` in a loop);
2. the window means of the statistical tests and ``village-sim effects`` (``window_means_many``
   against ``window_means`` in a loop): metrics taken in the final 12 months only.

    uv run python benchmarks/bench_stacked.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd

from village_sim.effects import window_means, window_means_many
from village_sim.experiment import run_one, run_paired

REGIMES = ["committee_only", "team_and_committee"]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def one_by_one(seeds: list[int], steps: int) -> pd.DataFrame:
    frames = []
    for regime in REGIMES:
        for rep, seed in enumerate(seeds):
            frame = run_one(regime, seed, steps)
            frame.insert(0, "replicate", rep)
            frame.insert(0, "seed", seed)
            frame.insert(0, "regime", regime)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def same_means(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    return all(x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k]))
               for x, y in zip(a, b, strict=True) for k in x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, one round")
    args = parser.parse_args()
    cases = [(20, 36), (100, 60)] if not args.quick else [(20, 24)]
    rounds = 1 if args.quick else 2
    print(f"bench_stacked: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; Python "
          f"{sys.version.split()[0]}; numpy {np.__version__}; {os.cpu_count()} CPUs")
    print(f"load average at start: {loadavg()}\n")
    run_paired(REGIMES, list(range(40)), 2)  # warm-up: imports, the compiled loops' first load
    print("| runs (2 regimes x seeds, months) | one after another, s | stacked, s | speed-up "
          "| same numbers |")
    print("|---|---:|---:|---:|---|")
    for seeds, steps in cases:
        solo, stacked, same = [], [], True
        for r in range(rounds):
            s = list(range(1000 * r, 1000 * r + seeds))
            t_solo, a = timed(lambda s=s, steps=steps: one_by_one(s, steps))
            t_stacked, b = timed(lambda s=s, steps=steps: run_paired(REGIMES, s, steps))
            solo.append(t_solo)
            stacked.append(t_stacked)
            same &= a.equals(b)
        med = statistics.median
        print(f"| compare: {2 * seeds} runs x {steps} months, every metric monthly | "
              f"{med(solo):.1f} | {med(stacked):.1f} | {med(solo) / med(stacked):.1f}x | "
              f"{'yes' if same else '**NO**'} |")
    for seeds, steps in cases:
        runs = [(regime, s, steps, {}) for s in range(seeds) for regime in REGIMES]
        solo, stacked, same = [], [], True
        for _ in range(rounds):
            t_solo, a = timed(lambda runs=runs: [window_means(*run) for run in runs])
            t_stacked, b = timed(lambda runs=runs: window_means_many(runs))
            solo.append(t_solo)
            stacked.append(t_stacked)
            same &= same_means(a, b)
        med = statistics.median
        print(f"| window means: {len(runs)} runs x {steps} months, the last 12 measured | "
              f"{med(solo):.1f} | {med(stacked):.1f} | {med(solo) / med(stacked):.1f}x | "
              f"{'yes' if same else '**NO**'} |")
    print(f"\nload average at end: {loadavg()}")


if __name__ == "__main__":
    main()
