"""How fast the live app renders a month on the server: one regime and two side by side.

Run from the repository root::

    uv run python benchmarks/bench_app.py           # full run (about a minute)
    uv run python benchmarks/bench_app.py --quick   # smoke check

What a "rendered step" costs the server, for a 500-household village (the issue's figure),
measured at three depths (benchmarks/README.md, "Live app"):

1. model — ``VillageModel.step()`` of each regime (the floor);
2. controller — what a click on Step makes the server do before Solara sends anything: the
   step of each regime, one network PNG per regime, the six chart PNGs and the table
   (``Controller.step()`` then ``Controller.frame()``), broken down by part;
3. page — the whole page rendered in-process with ``solara.render`` and its Step button
   clicked: (2) plus Solara's re-render of the component tree and the widget updates (the
   PNGs as data URLs). Only the websocket transfer and the browser's drawing are left out.

Targets (issue 4): at least 5 rendered steps per second with one regime, 2.5 side by side,
at depth (3), judged on wall time. CPU time per step (``time.process_time``) is printed too:
on a shared machine it moves much less than wall time, so it says what a quiet machine does.

Each configuration is timed over 36 months (months 1-36: three identifications, and the time
axis of every chart grows twice, which redraws its background), in several rounds; the
figure is the median over rounds of the mean time per step. BLAS threads are pinned to one,
as in bench_model.py.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib.metadata import version  # noqa: E402

import ipyvuetify as v  # noqa: E402
import solara  # noqa: E402

from village_sim.app import VillageApp  # noqa: E402
from village_sim.viz.controller import Controller, Settings  # noqa: E402

HOUSEHOLDS = 500
SEED = "1"
SINGLE = ("team_and_committee",)
PAIR = ("committee_only", "team_and_committee")
TARGET = {1: 5.0, 2: 2.5}  # rendered steps per second, by number of regimes


@dataclass
class Timing:
    """Seconds per step of one configuration, one list per part, one value per round."""

    label: str
    regimes: int
    parts: dict[str, list[float]] = field(default_factory=dict)
    payload: list[int] = field(default_factory=list)  # PNG bytes per step

    def add(self, part: str, seconds_per_step: float) -> None:
        self.parts.setdefault(part, []).append(seconds_per_step)

    def ms(self, part: str) -> float:
        return 1000.0 * statistics.median(self.parts[part])

    def rate(self, part: str) -> float:
        return 1.0 / statistics.median(self.parts[part])


def settings_for(regimes: tuple[str, ...]) -> Settings:
    return Settings(regime=regimes[0], compare_regime=regimes[-1],
                    side_by_side=len(regimes) == 2, seed=SEED,
                    parameters={"n_households": str(HOUSEHOLDS)})


def time_model(regimes: tuple[str, ...], months: int, timing: Timing) -> None:
    controller = Controller(settings_for(regimes))
    models = [run.model for run in controller.runs]
    gc.collect()
    started = time.perf_counter()
    for _ in range(months):
        for model in models:
            model.step()
    timing.add("model", (time.perf_counter() - started) / months)


def time_controller(regimes: tuple[str, ...], months: int, timing: Timing) -> None:
    """Step + frame, and the same work taken apart (mirrors Controller.frame)."""
    from village_sim.viz.charts import Series

    controller = Controller(settings_for(regimes))
    controller.frame()  # month 0: every background drawn once, as when the page opens
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    payload = 0
    for _ in range(months):
        controller.step()
        frame = controller.frame()
        payload += sum(map(len, frame.networks)) + sum(map(len, frame.charts.values()))
    timing.add("controller", (time.perf_counter() - started) / months)
    timing.add("controller cpu", (time.process_time() - cpu) / months)
    timing.payload.append(payload // months)

    # the parts, on a fresh controller (same village and months)
    controller = Controller(settings_for(regimes))
    controller.frame()
    sums = dict.fromkeys(("step", "networks", "charts", "table"), 0.0)
    for _ in range(months):
        t0 = time.perf_counter()
        for run in controller.runs:
            run.step()
        t1 = time.perf_counter()
        for run in controller.runs:
            run.render("truth", "income", None)
        t2 = time.perf_counter()
        for chart in controller.charts:
            series = [Series(run.regime, {m: run.history()[m] for m in chart.spec.metrics})
                      for run in controller.runs]
            chart.render(series, controller.month)
        t3 = time.perf_counter()
        controller.table()
        t4 = time.perf_counter()
        for key, seconds in zip(sums, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            sums[key] += seconds
    for key, total in sums.items():
        timing.add(f"  {key}", total / months)


def time_page(regimes: tuple[str, ...], months: int, timing: Timing) -> None:
    controller = Controller(settings_for(regimes))
    _, rc = solara.render(VillageApp(controller=controller), handle_error=False)
    try:
        step = rc.find(v.Btn, children=["Step"])
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(months):
            step.widget.click()
        elapsed = time.perf_counter() - started
        assert controller.month == months, controller.month
        timing.add("page", elapsed / months)
        timing.add("page cpu", (time.process_time() - cpu) / months)
    finally:
        rc.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 months, one round")
    args = parser.parse_args()
    months, rounds = (12, 1) if args.quick else (36, 3)

    print(f"bench_app.py, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; solara {version('solara')}, matplotlib "
          f"{version('matplotlib')}, pillow {version('pillow')}, mesa {version('mesa')}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg")
          else "")
    print(f"{HOUSEHOLDS} households, seed {SEED}, {months} months per round, {rounds} "
          f"round(s); figures are medians over rounds of the mean per step.\n")

    print(f"one regime: {SINGLE[0]}; side by side: {PAIR[0]} | {PAIR[1]}\n")
    timings = [Timing("one regime", 1), Timing("side by side", 2)]
    for _ in range(rounds):  # interleaved: a slow patch of a shared machine hits both
        for timing, regimes in zip(timings, (SINGLE, PAIR), strict=True):
            time_model(regimes, months, timing)
            time_controller(regimes, months, timing)
            time_page(regimes, months, timing)

    parts = ["model", "controller", "  step", "  networks", "  charts", "  table", "page",
             "controller cpu", "page cpu"]
    print(f"{'ms per step':<14}" + "".join(f"{t.label:>14}" for t in timings))
    for part in parts:
        print(f"{part:<14}" + "".join(f"{t.ms(part):>14.1f}" for t in timings))
    print(f"{'PNG kB/step':<14}" + "".join(
        f"{statistics.median(t.payload) / 1024:>14.0f}" for t in timings))
    print()
    for t in timings:
        rate = t.rate("page")
        met = rate >= TARGET[t.regimes]
        print(f"{t.label}: {rate:.1f} rendered steps/s (page), {t.rate('controller'):.1f} "
              f"(controller); from CPU time alone {t.rate('page cpu'):.1f} (page) — target >= "
              f"{TARGET[t.regimes]}: {'met' if met else 'NOT met'} (judged on wall time)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg")
          else "")
    return 0  # a measurement, not a test: exit 0 whatever the verdicts


if __name__ == "__main__":
    sys.exit(main())
