"""Where the team's advantage holds and where it vanishes (experiments/sensitivity/README.md).

The conditional analysis behind the README; the Sobol indices themselves come from
`village-sim report`.

    uv run python experiments/sensitivity/analyse.py sweeps/sensitivity

Reads the sweep folder (plan, design and the runs' series) and prints, as Markdown:

* the paired contrast ``team_and_committee - committee_plus_mobilization`` of each metric,
  averaged over the design (per replicate, then a 95% t interval over the replicates — the
  replicate is the independent unit, since every design point uses the same seeds);
* the share of design points where the team does better, and where its point estimate over
  the replicates is worse by more than its own 95% interval;
* how much of the variance of the per-point means is replicate noise (the part no parameter
  can explain; Sobol indices are shares of a variance that includes it);
* the contrast by fifth of each parameter and of the team's capacity (members x visits a
  month per 100 households), with 95% intervals over replicates: where it shrinks to zero;
* the contrast over the two most influential parameters of each metric (a 4 x 4 table).

It also writes ``conditional.csv`` (every binned mean with its interval), ``conditional.png``
(the contrasts by fifth of their most influential parameters) and ``sobol.png`` (the indices of
the four headline contrasts, from the report's ``sensitivity.csv``) into ``--out`` (default:
this folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from village_sim.experiment import mean_ci, write_csv
from village_sim.params import resolve_parameters
from village_sim.sweep.report import frame_of_points, paired_differences, run_values
from village_sim.sweep.store import SweepDirError, SweepStore, load_timeseries

TEAM, BASE = "team_and_committee", "committee_plus_mobilization"
# lower is better for every contrast but trust
BETTER_LOW = {"kin_premium": True, "diverted_share": True, "exclusion_error": True,
              "poverty_headcount": True, "exclusion_error_at_identification": True,
              "mean_trust": False}
HEADLINE = ["kin_premium", "diverted_share", "exclusion_error", "poverty_headcount"]
CAPACITY = "team_capacity"
"""Derived: visits a month per 100 households (team_size x team_visits_per_month x 100 / n)."""
BINS = 5


def paired_frame(root: Path) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One row per (point, replicate): the swept values and team - base of every metric."""
    store, spec = SweepStore.existing(root)
    if list(spec.regimes) != [BASE, TEAM]:
        raise SystemExit(f"regimes: got {list(spec.regimes)}; this analysis needs "
                         f"[{BASE!r}, {TEAM!r}] (the contrast is the second minus the first)")
    values = run_values(load_timeseries(root), spec.metrics, spec.steps)
    pairs = paired_differences(frame_of_points(store.plan(), values), spec)
    n_households = resolve_parameters(BASE, **spec.base).n_households
    pairs[CAPACITY] = pairs["team_size"] * pairs["team_visits_per_month"] * 100 / n_households
    return pairs, list(spec.axis_names), list(spec.metrics)


def cell(mean: float, lo: float, hi: float) -> str:
    """``mean [low, high]`` with signs, three decimals."""
    return f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def over_replicates(sub: pd.DataFrame, metric: str) -> tuple[float, float, float, int]:
    """Mean over the points of ``sub`` per replicate, then mean and 95% t CI over replicates."""
    return mean_ci(sub.groupby("replicate")[metric].mean().to_numpy(float))


def overall(pairs: pd.DataFrame, metrics: list[str]) -> list[str]:
    """Markdown rows: design average, share of points better / clearly worse, noise share."""
    lines = ["| contrast (team − same money, no team) | design average [95% CI] | points where "
             "the team does better | points clearly worse (the point's mean over replicates "
             "beyond its 95% CI) | replicate noise share of the per-point variance |",
             "|---|---|---|---|---|"]
    for m in metrics:
        per_point = pairs.groupby("point")[m]
        means, sds, ns = per_point.mean(), per_point.std(ddof=1), per_point.count()
        noise = float((sds**2 / ns).mean() / means.var(ddof=1))
        if m in BETTER_LOW:
            sign = -1 if BETTER_LOW[m] else 1
            half = stats.t.ppf(0.975, ns - 1) * sds / np.sqrt(ns)
            better = f"{float((sign * means > 0).mean()):.0%}"
            worse = f"{float(((sign * means < 0) & (np.abs(means) > half)).mean()):.1%}"
        else:  # a metric without a better direction
            better = worse = "n/a"
        lines.append(f"| {m} | {cell(*over_replicates(pairs, m)[:3])} | {better} | {worse} | "
                     f"{noise:.2f} |")
    return lines


def binned(pairs: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    """The contrast by fifth of each parameter (points binned by the parameter's quantiles)."""
    rows = []
    for param in params:
        bins = pd.qcut(pairs[param], BINS, duplicates="drop")
        for interval, sub in pairs.groupby(bins, observed=True):
            for m in metrics:
                mean, lo, hi, n = over_replicates(sub, m)
                rows.append({"parameter": param, "low": interval.left, "high": interval.right,
                             "metric": m, "mean": mean, "ci_low": lo, "ci_high": hi,
                             "points": sub["point"].nunique(), "replicates": n})
    return pd.DataFrame(rows)


def binned_table(table: pd.DataFrame, metric: str, params: list[str]) -> list[str]:
    """Markdown rows: the contrast of ``metric`` by fifth of each of ``params``."""
    sub = table.loc[table["metric"] == metric]
    lines = [f"| {metric}: parameter | " + " | ".join(f"fifth {i + 1}" for i in range(BINS))
             + " |", "|---|" + "---|" * BINS]
    for param in params:
        rows = sub.loc[sub["parameter"] == param]
        cells = [f"{r.mean:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]<br>"
                 f"({max(r.low, 0):.3g}–{r.high:.3g})" for r in rows.itertuples()]
        lines.append(f"| {param} | " + " | ".join(cells) + " |")
    return lines


def two_way(pairs: pd.DataFrame, metric: str, a: str, b: str) -> list[str]:
    """Markdown rows: the mean contrast of ``metric`` by quarter of ``a`` and of ``b``."""
    qa = pd.qcut(pairs[a], 4, duplicates="drop")
    qb = pd.qcut(pairs[b], 4, duplicates="drop")
    grid = pairs.groupby([qa, qb], observed=True)[metric].mean().unstack(1)
    lines = [f"| {metric}: {a} ↓ / {b} → | "
             + " | ".join(f"{c.left:.3g}–{c.right:.3g}" for c in grid.columns) + " |",
             "|---|" + "---|" * grid.shape[1]]
    for idx, row in grid.iterrows():
        lines.append(f"| {max(idx.left, 0):.3g}–{idx.right:.3g} | "
                     + " | ".join(f"{v:+.3f}" for v in row) + " |")
    return lines


def plot(table: pd.DataFrame, params: dict[str, list[str]], path: Path) -> None:
    """The binned contrasts of each metric against its most influential parameters."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = list(params)
    width = max(len(p) for p in params.values())
    fig = Figure(figsize=(3.0 * width, 2.5 * len(metrics) + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(metrics), width, squeeze=False)
    for i, m in enumerate(metrics):
        for j in range(width):
            ax = axes[i, j]
            if j >= len(params[m]):
                ax.set_visible(False)
                continue
            param = params[m][j]
            sub = table.loc[(table["metric"] == m) & (table["parameter"] == param)]
            x = (sub["low"].clip(lower=0) + sub["high"]) / 2
            ax.errorbar(x, sub["mean"], yerr=[sub["mean"] - sub["ci_low"],
                                              sub["ci_high"] - sub["mean"]],
                        marker="o", ms=4, capsize=2, lw=1.4)
            ax.axhline(0, color="0.3", lw=0.8, ls="--")
            ax.set_xlabel(param, fontsize=9)
            ax.set_title(f"{m}", fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
    fig.suptitle("team_and_committee − committee_plus_mobilization by fifth of each of the "
                 "most influential parameters (mean over the other 13; 95% CI over the 5 "
                 "replicate seeds)", fontsize=9)
    fig.savefig(path, dpi=130)


def plot_indices(sens: pd.DataFrame, metrics: list[str], path: Path) -> None:
    """S1 and ST of each headline contrast, parameters sorted by ST, 95% bootstrap bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.4 * len(metrics), 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(axes, metrics, strict=True):
        sub = sens.loc[sens["metric"] == m].sort_values("ST")
        pos = np.arange(len(sub))
        ax.barh(pos + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], label="ST (total)",
                color="C1", capsize=2)
        ax.barh(pos - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], label="S1 (first order)",
                color="C0", capsize=2)
        ax.set_yticks(pos, sub["parameter"], fontsize=8)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_title(m, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(alpha=0.3, axis="x")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    fig.suptitle("Sobol indices of team_and_committee − committee_plus_mobilization "
                 "(SALib, N = 512, 5 paired seeds; 95% bootstrap intervals)", fontsize=10)
    fig.savefig(path, dpi=130)


def main(argv: list[str] | None = None) -> None:
    """Print the README's tables; write conditional.csv, conditional.png and sobol.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the sweep folder (village-sim sweep --out)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent,
                        help="where conditional.csv, conditional.png and sobol.png go")
    parser.add_argument("--top", type=int, default=4,
                        help="parameters per metric in the figure and the two-way tables "
                             "(ranked by total Sobol index)")
    args = parser.parse_args(argv)
    try:
        pairs, axes, metrics = paired_frame(args.sweep)
    except SweepDirError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"{pairs['point'].nunique()} design points × {pairs['replicate'].nunique()} "
          "replicate seeds, paired\n")
    print("\n".join(overall(pairs, metrics)) + "\n")
    params = [*axes, CAPACITY]
    table = binned(pairs, params, metrics)
    write_csv(table, args.out / "conditional.csv")
    sens = pd.read_csv(args.sweep / "report" / "sensitivity.csv")
    sens = sens.loc[sens["output"] == f"{TEAM} - {BASE}"]
    top: dict[str, list[str]] = {}
    for m in metrics:
        ranked = sens.loc[sens["metric"] == m].sort_values("ST", ascending=False)
        top[m] = list(ranked["parameter"].head(args.top))
        print("\n".join(binned_table(table, m, [*top[m], CAPACITY])) + "\n")
        if len(top[m]) >= 2:
            print("\n".join(two_way(pairs, m, top[m][0], top[m][1])) + "\n")
    headline = [m for m in HEADLINE if top.get(m)] or [m for m in metrics if top.get(m)][:4]
    plot(table, {m: top[m] for m in headline}, args.out / "conditional.png")
    plot_indices(sens, headline, args.out / "sobol.png")


if __name__ == "__main__":
    main()
