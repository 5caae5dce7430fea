"""Which deployment rule buys the most per team-year (experiments/county/README.md).

    uv run village-sim sweep experiments/county/spec.toml --out sweeps/county
    uv run python experiments/county/analyse.py sweeps/county

Reads the county sweep (its plan, the runs' county series and village-by-year panels) and,
for each number of teams, compares the rules on the same seeds with
:func:`village_sim.county_compare.cost_effectiveness` — the same numbers ``village-sim county``
prints: poor people fewer and kin premium lower than under ``none`` and than the same money
(``cash_equivalent``), over the final year, per team-year and per 10,000 yuan; means over the
replicates with 95% t intervals. Prints Markdown tables and writes into ``--out`` (default:
this folder):

* ``effectiveness.csv``: every (teams, rule, baseline, quantity) with its interval;
* ``county_metrics.csv``: each rule's final-year county metrics by number of teams;
* ``per_team_year.png``: poor people fewer and kin premium lower per team-year, against
  ``none``, by rule and number of teams;
* ``rankings.csv``: the rules ranked on each outcome at each number of teams, and where the
  rankings disagree;
* ``rule_contrasts.csv``: every pair of rules, paired on the replicate (final-year poverty
  headcount and kin premium of one minus the other).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from village_sim.county_compare import (
    CountyRun,
    cost_effectiveness,
    summarise_rules,
    window_mean,
)
from village_sim.experiment import write_csv
from village_sim.sweep.store import SweepDirError, SweepStore, load_panels, load_timeseries

HERE = Path(__file__).resolve().parent
OUTCOMES = {  # quantity of cost_effectiveness -> higher is better
    "poor_fewer_per_team_year": True,
    "kin_premium_lower_per_team_year": True,
    "poor_fewer_per_10000_yuan": True,
}
METRICS = ("poverty_headcount", "poverty_headcount_post", "kin_premium", "diverted_share",
           "mistargeting")


def county_runs(root: Path) -> dict[int, list[CountyRun]]:
    """The stored runs, as ``CountyRun`` objects, grouped by the number of teams."""
    store, spec = SweepStore.existing(root)
    if spec.model != "county":
        raise SystemExit(f"{root}: a sweep of {spec.model}s; this analysis needs a county "
                         "sweep (model = \"county\")")
    if spec.panel_every != 12:
        raise SystemExit(f"{root}: panel_every = {spec.panel_every}; this analysis needs the "
                         "village-by-year tables (panel_every = 12)")
    plan = store.plan()
    if "teams" not in plan.columns:
        raise SystemExit(f"{root}: 'teams' is not swept; this analysis compares numbers of "
                         "teams")
    series = load_timeseries(root)
    panels = load_panels(root)
    by_run_series = dict(tuple(series.groupby("run_id")))
    by_run_panel = dict(tuple(panels.groupby("run_id")))
    out: dict[int, list[CountyRun]] = {}
    for row in plan.itertuples(index=False):
        if row.run_id not in by_run_series or row.run_id not in by_run_panel:
            continue  # a failed or missing run: left out (said by the sweep's report)
        frame = by_run_series[row.run_id].drop(columns=["run_id", "regime", "replicate",
                                                         "seed"]).rename(columns={"step": "month"})
        frame = frame.sort_values("month").reset_index(drop=True)
        year = by_run_panel[row.run_id].sort_values(["year", "village"]).reset_index(drop=True)
        out.setdefault(int(row.teams), []).append(CountyRun(
            str(row.regime), int(row.replicate), int(row.seed), frame, year, pd.DataFrame(),
            float(year.loc[year["year"] == year["year"].max(), "persons"].sum())))
    return out


def analyse(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(effectiveness, metrics, rankings)`` of a county sweep (module docstring)."""
    groups = county_runs(root)
    effectiveness, metrics, rankings = [], [], []
    for teams, runs in sorted(groups.items()):
        table = cost_effectiveness(runs)
        table.insert(0, "teams", teams)
        effectiveness.append(table)
        summary, _ = summarise_rules(runs, [m for m in METRICS if m in runs[0].frame])
        summary.insert(0, "teams", teams)
        metrics.append(summary)
        against_none = table[table["baseline"] == "none"]
        for quantity, higher in OUTCOMES.items():
            rows = against_none[against_none["quantity"] == quantity]
            order = rows.sort_values("mean", ascending=not higher)["rule"].tolist()
            rankings.append({"teams": teams, "outcome": quantity,
                             "ranking": " > ".join(order)})
    ranks = pd.DataFrame(rankings)
    if not ranks.empty:
        first = ranks.groupby("teams")["ranking"].transform(lambda r: r.str.split(" > ").str[0])
        ranks["best"] = first
        ranks["outcomes_agree_on_best"] = ranks.groupby("teams")["best"].transform(
            lambda b: b.nunique() == 1)
    return pd.concat(effectiveness, ignore_index=True), pd.concat(metrics, ignore_index=True), \
        ranks


def rule_contrasts(root: Path, metrics: tuple[str, ...] = ("poverty_headcount",
                                                             "kin_premium")) -> pd.DataFrame:
    """Every pair of rules with teams, paired on the replicate: final-year mean of A minus B.

    The rules' effects against ``none`` share its noise; their differences are measured here
    directly, on the same county and shocks (95% t interval over the replicates).
    """
    from village_sim.experiment import interval

    rows = []
    for teams, runs in sorted(county_runs(root).items()):
        value = {(r.rule, r.replicate): r for r in runs}
        rules = [r for r in dict.fromkeys(r.rule for r in runs) if r != "none"]
        for metric in metrics:
            for i, a in enumerate(rules):
                for b in rules[i + 1:]:
                    diffs = [window_mean(value[(a, rep)], metric)
                             - window_mean(value[(b, rep)], metric)
                             for (rule, rep) in value if rule == a and (b, rep) in value]
                    got = interval(diffs)
                    rows.append({"teams": teams, "metric": metric, "rule": a, "minus": b,
                                 "mean": got.mean, "ci_low": got.low, "ci_high": got.high,
                                 "n": got.n})
    return pd.DataFrame(rows)


def plot(effectiveness: pd.DataFrame, path: Path) -> Path:
    """Poor people fewer and kin premium lower per team-year against ``none``, by rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = [("poor_fewer_per_team_year", "poor people fewer per team-year"),
                  ("kin_premium_lower_per_team_year", "kin premium lower per team-year"),
                  ("poor_fewer_per_10000_yuan", "poor people fewer per 10,000 yuan")]
    fig, axes = plt.subplots(1, len(quantities), figsize=(14, 4.2), constrained_layout=True)
    table = effectiveness[effectiveness["baseline"] == "none"]
    for ax, (quantity, label) in zip(axes, quantities, strict=True):
        rows = table[table["quantity"] == quantity]
        for rule, group in rows.groupby("rule", sort=False):
            group = group.sort_values("teams")
            x = group["teams"].to_numpy(dtype=float)
            ax.plot(x, group["mean"], marker="o", label=str(rule))
            low, high = group["ci_low"].to_numpy(float), group["ci_high"].to_numpy(float)
            if np.isfinite(low).all():
                ax.fill_between(x, low, high, alpha=0.15)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("teams in the county")
        ax.set_title(label + " (vs none)")
    axes[0].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown(table: pd.DataFrame, columns: list[str]) -> str:
    """A small Markdown table of ``columns``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table[columns].itertuples(index=False):
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Analyse the sweep named on the command line; write the files; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", type=Path, help="the county sweep's folder")
    parser.add_argument("--out", type=Path, default=HERE, help="where the files go")
    args = parser.parse_args(argv)
    try:
        effectiveness, metrics, rankings = analyse(args.sweep)
    except SweepDirError as err:
        raise SystemExit(f"error: {err}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(effectiveness, args.out / "effectiveness.csv")
    write_csv(metrics, args.out / "county_metrics.csv")
    write_csv(rankings, args.out / "rankings.csv")
    contrasts = rule_contrasts(args.sweep)
    write_csv(contrasts, args.out / "rule_contrasts.csv")
    plot(effectiveness, args.out / "per_team_year.png")
    shown = effectiveness[effectiveness["quantity"].isin(list(OUTCOMES))]
    print(markdown(shown, ["teams", "rule", "baseline", "quantity", "mean", "ci_low",
                           "ci_high", "n"]))
    print()
    print(markdown(rankings, ["teams", "outcome", "ranking"]))
    print()
    print(markdown(contrasts, ["teams", "metric", "rule", "minus", "mean", "ci_low", "ci_high",
                               "n"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
