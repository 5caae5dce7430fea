"""Deployment rules compared on paired seeds: ``village-sim county`` (issue 11, items 3 and 4).

Each rule runs the same counties — the same seeds, so the same villages with the same shocks
(common random numbers: a village a rule leaves alone runs exactly as under ``none``) — for
whole years. The summary is :func:`village_sim.experiment.summarise` over the county's monthly
metrics (means over seeds with 95% CIs, paired differences against the first rule), and the
cost-effectiveness table answers "what does a team-year buy?":

for each rule and each baseline (``none``, and ``cash_equivalent`` when it was run), per seed,
over the final year (the window of the summary):

* ``poor_fewer``: poor people fewer than under the baseline (headcount difference × the
  county's people; persons-weighted, pre-transfer income: lasting gains, not this month's aid);
* ``kin_premium_lower``: how much lower the county's kin premium is than under the baseline;
* ``team_years``: the villages that held a team (or, under ``cash_equivalent``, its money) in
  the final year;
* ``yuan``: what those team-years cost above the baseline villages' own budgets — the team
  members' cost (``team_cost`` × members × 12) and the money each team brought (or the cash
  given instead);
* each outcome per team-year and per 10,000 yuan.

Means over seeds with 95% t intervals (none below 3 seeds), as every summary of the package.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from village_sim.county import DEPLOYMENT_RULES, CountyModel
from village_sim.county.deployment import year_one_note
from village_sim.county.metrics import COUNTY_KEY_METRICS
from village_sim.county.model import COUNTY_COLUMNS
from village_sim.dictionary import county_notes
from village_sim.experiment import (
    interval,
    plot_metrics,
    summarise,
    window_bounds,
    write_columns,
    write_csv,
    write_parquet,
    write_text,
)
from village_sim.i18n import Catalog, t

__all__ = ["COUNTY_KEY_METRICS", "CountyRun", "check_rules", "cost_effectiveness",
           "format_county_table", "rule_labels", "run_county", "run_rules", "summarise_rules",
           "window_mean", "write_county_outputs"]


WINDOW = 12
"""The final year: the window of the summary and of the cost-effectiveness table."""


@dataclass
class CountyRun:
    """One county run: its rule, replicate and seed, and what it produced."""

    rule: str
    replicate: int
    seed: int
    frame: pd.DataFrame
    village_year: pd.DataFrame
    log: pd.DataFrame
    people: float


def run_county(rule: str | Callable[..., Any], seed: int, years: int,
               county: Mapping[str, Any]) -> CountyRun:
    """Run one county for ``years`` years under deployment ``rule``.

    Raises:
        ValueError: for a bad rule, county argument or number of years.
    """
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
        raise ValueError(f"parameter 'years': got {years!r}; allowed: an integer in [1, 100]")
    model = CountyModel(rng=seed, deployment=rule, **dict(county))
    for _ in range(12 * years):
        model.step()
    name = rule if isinstance(rule, str) else getattr(rule, "__name__", "custom")
    people = float(sum(int(v.persons.sum()) for v in model.villages))
    return CountyRun(name, 0, seed, model.county_frame(), model.village_year_frame(),
                     model.deployment_log(), people)


def check_rules(rules: Sequence[str | Callable[..., Any]]) -> None:
    """Refuse no rule, an unknown rule or a rule given twice, naming them."""
    names = [r if isinstance(r, str) else getattr(r, "__name__", "custom") for r in rules]
    if not names:
        raise ValueError("parameter 'rules': got none; allowed: one or more of "
                         f"{', '.join(DEPLOYMENT_RULES)}")
    for r in rules:
        if isinstance(r, str) and r not in DEPLOYMENT_RULES:
            raise ValueError(f"parameter 'rules': got {r!r}; allowed: "
                             f"{', '.join(DEPLOYMENT_RULES)}")
    if len(set(names)) < len(names):
        raise ValueError(f"parameter 'rules': got {names}; allowed: distinct rules")


def run_rules(rules: Sequence[str | Callable[..., Any]], seeds: Sequence[int], years: int,
              county: Mapping[str, Any], progress: bool | None = False) -> list[CountyRun]:
    """Every rule on every seed (paired), seed by seed."""
    from tqdm import tqdm

    check_rules(rules)
    runs = []
    disable = None if progress is None else not progress
    with tqdm(total=len(rules) * len(seeds), desc="counties", unit="run", disable=disable,
              leave=False) as bar:
        for rep, seed in enumerate(seeds):
            for rule in rules:
                run = run_county(rule, int(seed), years, county)
                run.replicate = rep
                runs.append(run)
                bar.update(1)
    return runs


def timeseries(runs: Sequence[CountyRun]) -> pd.DataFrame:
    """The county metrics of every run, stacked: ``regime`` (the rule), seed, replicate, step."""
    frames = []
    for run in runs:
        frame = run.frame.rename(columns={"month": "step"}).copy()
        frame["step"] = frame["step"].astype(np.int64)
        frame.insert(0, "replicate", run.replicate)
        frame.insert(0, "seed", run.seed)
        frame.insert(0, "regime", run.rule)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summarise_rules(runs: Sequence[CountyRun],
                    metrics: Sequence[str] = COUNTY_KEY_METRICS,
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Means with CIs per rule, and paired differences against the first rule (final year).

    The county's own metrics (between villages) take their units from
    :data:`~village_sim.county.model.COUNTY_COLUMNS`.
    """
    summary, diffs = summarise(timeseries(runs), metrics, WINDOW)
    for table in (summary, diffs):
        own = table["metric"].isin(list(COUNTY_COLUMNS)) & (table["unit"] == "")
        table.loc[own, "unit"] = [COUNTY_COLUMNS[m][1] for m in table.loc[own, "metric"]]
    return summary, diffs


def _final_year(run: CountyRun) -> pd.DataFrame:
    frame = run.village_year
    return frame[frame["year"] == frame["year"].max()]


def window_mean(run: CountyRun, metric: str) -> float:
    """A run's mean of ``metric`` over the final year (NaN months ignored)."""
    last = int(run.frame["month"].max())
    first, _ = window_bounds(last, WINDOW)
    values = run.frame.loc[run.frame["month"] >= first, metric].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def cost_effectiveness(runs: Sequence[CountyRun]) -> pd.DataFrame:
    """What each rule's team-years buy against ``none`` and ``cash_equivalent`` (docstring).

    Returns:
        One row per (rule, baseline, quantity): mean over seeds, 95% CI, n.
    """
    by = {(r.rule, r.replicate): r for r in runs}
    rules = list(dict.fromkeys(r.rule for r in runs))
    baselines = [b for b in ("none", "cash_equivalent") if b in rules]
    rows = []
    for base in baselines:
        for rule in rules:
            if rule == base or rule == "none":  # "none" buys nothing: no team-years
                continue
            values: dict[str, list[float]] = {}
            for (name, rep), run in sorted(by.items(), key=lambda kv: kv[0][1]):
                if name != rule or (base, rep) not in by:
                    continue
                ref = by[(base, rep)]
                year = _final_year(run)
                team_years = float((year["had_team"] | (year["cash_yuan"] > 0)).sum())
                yuan = float(year["team_yuan"].sum())
                poor = (window_mean(ref, "poverty_headcount")
                        - window_mean(run, "poverty_headcount")) * run.people
                kin = window_mean(ref, "kin_premium") - window_mean(run, "kin_premium")
                got = {"team_years": team_years, "yuan": yuan, "poor_fewer": poor,
                       "kin_premium_lower": kin,
                       "poor_fewer_per_team_year": _per(poor, team_years),
                       "poor_fewer_per_10000_yuan": _per(poor, yuan / 1e4),
                       "kin_premium_lower_per_team_year": _per(kin, team_years),
                       "kin_premium_lower_per_10000_yuan": _per(kin, yuan / 1e4)}
                for key, value in got.items():
                    values.setdefault(key, []).append(value)
            for quantity, vals in values.items():
                got_i = interval(vals)
                rows.append({"rule": rule, "baseline": base, "quantity": quantity,
                             "mean": got_i.mean, "ci_low": got_i.low, "ci_high": got_i.high,
                             "n": got_i.n, "interval": got_i.method})
    return pd.DataFrame(rows, columns=["rule", "baseline", "quantity", "mean", "ci_low",
                                       "ci_high", "n", "interval"])


def _per(value: float, amount: float) -> float:
    return value / amount if amount > 0 else math.nan


def write_county_outputs(out: str | Path, runs: Sequence[CountyRun], summary: pd.DataFrame,
                         diffs: pd.DataFrame, effectiveness: pd.DataFrame,
                         parameters: str, lang: str | None = None) -> list[Path]:
    """Write the county comparison into ``out`` (files listed in the command's help).

    ``lang`` (``zh``, ``vi``, ``en``; ``None``: English, the figure's names as in the code): the
    language of ``columns.csv``'s meanings, units and window and of the figure's titles and
    legend (the rules' labels, :func:`rule_labels`). The tables' contents stay as computed.
    """
    out = Path(out)
    series = timeseries(runs)
    village_year = pd.concat([r.village_year.assign(rule=r.rule, seed=r.seed,
                                                    replicate=r.replicate) for r in runs],
                             ignore_index=True)
    log = pd.concat([r.log.assign(seed=r.seed, replicate=r.replicate) for r in runs],
                    ignore_index=True)
    tables = {"county_timeseries.csv": series, "summary.csv": summary,
              "differences.csv": diffs, "cost_effectiveness.csv": effectiveness,
              "deployment_log.csv": log}
    written = [write_csv(table, out / name) for name, table in tables.items()]
    written.append(write_parquet(village_year, out / "village_year.parquet"))
    first, last = window_bounds(int(series["step"].max()), WINDOW)
    written.append(write_columns(out, {**tables, "village_year.parquet": village_year},
                                 t("dictionary.county_window", lang, first=first, last=last),
                                 notes=county_notes(lang), lang=lang))
    written.append(write_text(parameters, out / "parameters.toml"))
    rules = list(dict.fromkeys(r.rule for r in runs))
    written.append(plot_metrics(series, out / "county_metrics.png", list(COUNTY_KEY_METRICS),
                                WINDOW, lang=lang,
                                labels=None if lang is None else rule_labels(rules, lang)))
    return written


def rule_labels(rules: Sequence[str], lang: str | None = None) -> dict[str, str]:
    """Each rule's label in ``lang`` (:meth:`~village_sim.i18n.Catalog.rule`).

    A built-in rule's words; a custom rule (a callable, named by its ``__name__``) its own name.
    """
    _ = Catalog(lang)
    return {rule: _.rule(rule) for rule in rules}


def format_county_table(summary: pd.DataFrame, diffs: pd.DataFrame,
                        effectiveness: pd.DataFrame, rules: Sequence[str], n_seeds: int,
                        years: int, rows: Sequence[str], unseen: Sequence[str] = ()) -> str:
    """What ``village-sim county`` prints: the paired table, then what a team-year buys.

    ``unseen``: the informed rules that chose only in year 1
    (:func:`village_sim.county.deployment.unseen_rules`): a note says that they deployed as
    ``random`` does.
    """
    from village_sim.experiment import MIN_SEEDS_FOR_CI, decimals, format_cell

    first, last = window_bounds(12 * years, WINDOW)
    lines = [
        f"County: {len(rules)} deployment rules x {n_seeds} seeds, {years} years. Window: the "
        f"final year (months {first}-{last}); each seed's value is its mean over the window.",
        "Cells: mean over seeds [95% CI, t over seeds; shares on the logit scale; none below "
        f"{MIN_SEEDS_FOR_CI} seeds]; diff: rule minus {rules[0]} on the same seeds (paired).",
        "",
        *rows,
    ]
    if not effectiveness.empty:
        lines += ["", "What a team-year buys (final year; poor people fewer and kin premium "
                      "lower than the baseline on the same seeds):"]
        wanted = ("team_years", "yuan", "poor_fewer", "poor_fewer_per_team_year",
                  "poor_fewer_per_10000_yuan", "kin_premium_lower_per_team_year")
        table = [["rule", "baseline", *wanted]]
        for (rule, base), group in effectiveness.groupby(["rule", "baseline"], sort=False):
            got = group.set_index("quantity")
            row = [str(rule), str(base)]
            for q in wanted:
                mean, low, high = (float(x) for x in
                                   got.loc[q, ["mean", "ci_low", "ci_high"]].to_numpy(float))
                row.append(format_cell(mean, low, high, decimals([mean]), signed=False))
            table.append(row)
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for r in table:
            lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    if unseen:
        lines += ["", f"Note: {year_one_note(unseen)} These runs measure a random "
                      "deployment; the rule's own choices begin at the first deployment after "
                      "year 1, when a term ends: run more years than a term lasts."]
    return "\n".join(lines)
