"""The headline, register-as-drawn, levels and dose-response tables of docs/validation.md.

Run from the repository root::

    uv run python docs/figures/make_validation_tables.py [--seeds 20] [--dose-seeds 40]

Every regime runs on the same seeds (common random numbers, seeds 0..n-1), 300 households,
defaults, 60 months; each metric is its mean over months 49-60 (``effects.window_means_many``,
the helper the statistical tests use: the runs stepped together on the county engine, each
run's numbers its solo run's bit for bit). Differences are paired per seed with 95% t-intervals. The
dose-response table runs a team of one member making *c* visits a month against
``committee_plus_mobilization`` (the same money without a team), as
tests/test_model2.py::test_the_team_effect_grows_with_capacity_and_saturates does. Prints
Markdown.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from scipy import stats

from village_sim.effects import window_means_many

MONTHS = 60
BASE = "committee_plus_mobilization"
HEADLINE = (("team_and_committee", "committee_only"), ("team_and_committee", BASE),
            ("team_without_supervision", BASE), ("team_alone", BASE))
HEADLINE_METRICS = ("kin_premium", "diverted_share", "exclusion_error", "mistargeting",
                    "poverty_headcount")
DRAWN_METRICS = ("exclusion_error_at_identification", "inclusion_error_leakage",
                 "inclusion_error_leakage_at_identification", "kin_premium_at_identification")
LEVEL_METRICS = ("diverted_share", "kin_premium", "inclusion_error_leakage",
                 "inclusion_error_leakage_at_identification", "mean_trust", "approval",
                 "team_visits_demanded", "team_visits_done", "cadre_replacements")
DOSES = (0, 3, 12, 48, 400)
DOSE_METRICS = ("kin_premium", "diverted_share", "exclusion_error_at_identification",
                "exclusion_error")


def _runs(tasks: list[tuple[str, int, tuple[tuple[str, Any], ...]]]) -> dict:
    means = window_means_many([(regime, seed, MONTHS, dict(over)) for regime, seed, over in tasks])
    return dict(zip(tasks, means, strict=True))


def _ci(d: np.ndarray) -> str:
    d = d[~np.isnan(d)]
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"


def main() -> int:
    """Run, and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--dose-seeds", type=int, default=40)
    args = parser.parse_args()
    seeds = range(args.seeds)
    regimes = sorted({r for pair in HEADLINE for r in pair})
    res = _runs([(r, s, ()) for r in regimes for s in seeds])

    def diff(a: str, b: str, metric: str) -> np.ndarray:
        return np.array([res[(a, s, ())][metric] - res[(b, s, ())][metric] for s in seeds])

    for metrics in (HEADLINE_METRICS, DRAWN_METRICS):
        print("| comparison | " + " | ".join(m.replace("_", " ") for m in metrics) + " |")
        print("|---|" + "---|" * len(metrics))
        for a, b in HEADLINE:
            cells = " | ".join(_ci(diff(a, b, m)) for m in metrics)
            print(f"| `{a}` − `{b}` | {cells} |")
        print()
    print("| regime | " + " | ".join(LEVEL_METRICS) + " |")
    print("|---|" + "---|" * len(LEVEL_METRICS))
    for r in regimes:
        cells = " | ".join(f"{np.nanmean([res[(r, s, ())][m] for s in seeds]):.3f}"
                           for m in LEVEL_METRICS)
        print(f"| `{r}` | {cells} |")
    print()

    dose_seeds = range(args.dose_seeds)
    tasks = [(BASE, s, ()) for s in dose_seeds] + [
        ("team_and_committee", s, (("team_size", 1), ("team_visits_per_month", c)))
        for c in DOSES for s in dose_seeds]
    dres = _runs(tasks)
    print("| visits a month *c* | " + " | ".join(str(c) for c in DOSES) + " |")
    print("|---|" + "---|" * len(DOSES))
    for m in DOSE_METRICS:
        cells = []
        for c in DOSES:
            side = (("team_size", 1), ("team_visits_per_month", c))
            d = [dres[(BASE, s, ())][m] - dres[("team_and_committee", s, side)][m]
                 for s in dose_seeds]
            cells.append(f"{np.nanmean(d):.3f}")
        print(f"| {m.replace('_', ' ')} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
