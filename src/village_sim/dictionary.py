"""What every column the commands write means: unit, bounds, measurement window, where defined.

Two uses:

* **Statistics that match their words.** :func:`bounds` says which metrics are shares in
  [0, 1] or differences of shares in [-1, 1], so that their confidence intervals stay inside
  (:func:`village_sim.experiment.interval`).
* **Outputs that explain themselves.** :func:`columns_frame` builds the data dictionary written
  as ``columns.csv`` beside every CSV or Parquet file of ``compare``, ``run``, ``calibrate``
  and ``report``: file, column, meaning, unit, window, and the section of docs/ODD.md that
  defines it.

Metric meanings are the English labels of :mod:`village_sim.i18n` (one wording for the app,
the figures and this dictionary); units and bounds are declared here, once per metric, and a
test checks that every metric of the model has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "DOCS",
    "METRIC_UNITS",
    "Column",
    "bounds",
    "columns_frame",
    "describe",
    "entries",
    "metric_column",
]

DOCS = "docs/ODD.md"
METRICS_DOC = f"{DOCS} section 9 (Metrics)"
LEDGER_DOC = f"{DOCS} section 8 (The money ledger)"
HOUSEHOLD_DOC = f"{DOCS} section 2 (Household state variables)"
DECISIONS_DOC = f"{DOCS} section 7.3 (Identification)"


@dataclass(frozen=True)
class Column:
    """One column: its meaning, unit, bounds (``None``: unbounded) and defining section."""

    meaning: str
    unit: str
    low: float | None = None
    high: float | None = None
    doc: str = METRICS_DOC


SHARE = ("share, 0-1", 0.0, 1.0)
DIFFERENCE = ("difference of shares, -1 to 1", -1.0, 1.0)
_LEDGER = ("released", "mobilized", "staff_funding", "carried_in", "recovered", "delivered",
           "diverted", "measures_spent", "projects_spent", "staff_costs", "carried_over",
           "fines", "returned_to_village", "divertible")
_SHARES = (
    "poverty_headcount", "poverty_gap", "poverty_severity", "gini", "poverty_headcount_post",
    "poverty_gap_post", "poverty_severity_post", "gini_post", "coverage", "exclusion_error",
    "inclusion_error_leakage", "inclusion_error_nonpoor", "mistargeting", "diverted_share",
    "missed_poor_rate", "wrongful_exit_rate", "approval", "mean_trust", "project_capture_share",
    "matched_measure_share", "missing_funds_share", "team_known_share", "perceived_detection",
    "project_capture_dared", "survey_poor_share",
)
_DIFFERENCES = ("kin_premium", "targeting_differential")
_OTHER: dict[str, tuple[str, float | None, float | None]] = {
    "amount_kin_premium": ("ratio (1 = no premium)", 0.0, None),
    "amount_kin_premium_yuan": ("yuan per household, last 12 months", None, None),
    "cost_per_exit": ("yuan per lasting exit", 0.0, None),
    "registered_count": ("households", 0.0, None),
    "exits": ("households, cumulative", 0.0, None),
    "wrongful_exits": ("households, cumulative", 0.0, None),
    "returns_to_poverty": ("households", 0.0, None),
    "detected_diversions": ("findings, cumulative", 0.0, None),
    "cadre_replacements": ("cadre seats, cumulative", 0.0, None),
    "failed_assessments": ("surveys, cumulative", 0.0, None),
    "team_visits_demanded": ("households", 0.0, None),
    "team_visits_done": ("visits in the month", 0.0, None),
    "team_active": ("1 = the team is in the village, 0 = not", 0.0, 1.0),
    "registration_favoritism_dared": ("weight (favoritism x intensity)", 0.0, None),
    "amount_favoritism_dared": ("weight (amount_favoritism x intensity)", 0.0, None),
    "project_gain_gradient": ("percentage points", None, None),
}


def _metric_units() -> dict[str, tuple[str, float | None, float | None]]:
    units: dict[str, tuple[str, float | None, float | None]] = {}
    for name in _SHARES:
        units[name] = SHARE
    for name in _DIFFERENCES:
        units[name] = DIFFERENCE
    for name in _LEDGER:
        units[name] = ("yuan in the month", None, None)
    units.update(_OTHER)
    for name in ("coverage", "exclusion_error", "inclusion_error_leakage",
                 "inclusion_error_nonpoor", "mistargeting", "targeting_differential",
                 "kin_premium"):
        units[f"{name}_at_identification"] = units[name]
    return units


METRIC_UNITS = _metric_units()
"""Metric -> (unit, lowest value, highest value); ``None`` for an open end."""


def bounds(metric: str) -> tuple[float, float] | None:
    """The closed range of a metric that is a share or a difference of shares, else ``None``.

    Only shares (0-1) and differences of shares (-1 to 1) are bounded for intervals: counts
    and yuan have an open upper end.
    """
    unit = METRIC_UNITS.get(metric)
    if unit is None or unit[1] is None or unit[2] is None:
        return None
    return (unit[1], unit[2])


def metric_column(metric: str) -> Column:
    """The dictionary entry of a metric (meaning from the English catalogue)."""
    from village_sim.i18n import Catalog

    unit, low, high = METRIC_UNITS[metric]
    meaning = Catalog("en").metric(metric)
    doc = LEDGER_DOC if unit == "yuan in the month" else METRICS_DOC
    return Column(meaning, unit, low, high, doc)


COLUMNS: dict[str, Column] = {
    # identity of a run and a month
    "regime": Column("regime: a preset of the mechanism switches", "name",
                     doc=f"{DOCS} section 10 (Regimes)"),
    "seed": Column("seed of the run (the model's random number generator)", "integer"),
    "replicate": Column("replicate: index of the paired seed (the same village and shocks in "
                        "every regime)", "index from 0"),
    "step": Column("month of the simulation (0 = the state before the first month)", "month"),
    "metric": Column("name of the metric (see the rows of the timeseries file)", "name"),
    # summaries
    "mean": Column("mean over seeds of each seed's mean over the measurement window",
                   "unit of the metric"),
    "ci_low": Column("lower end of the confidence interval of the mean (see 'interval')",
                     "unit of the metric"),
    "ci_high": Column("upper end of the confidence interval of the mean", "unit of the metric"),
    "n": Column("seeds where the metric is defined (paired: in both regimes)", "seeds"),
    "interval": Column("how the interval was computed: 't' (t distribution over seeds), "
                       "'logit t' (on the logit of shares, kept inside 0-1), 't, truncated' "
                       "(cut at the metric's bounds), 'none (n < 3)'", "text"),
    "window": Column("measurement window: the months each seed's value averages", "months"),
    "confidence": Column("confidence level of the interval", "share, 0-1", 0.0, 1.0),
    "unit": Column("unit of the metric", "text"),
    "baseline": Column("regime subtracted in a paired difference (same seeds)", "name"),
    # the household frame (docs/ODD.md section 2)
    "household_id": Column("household index", "index from 0", doc=HOUSEHOLD_DOC),
    "clan": Column("clan index", "index from 0", doc=HOUSEHOLD_DOC),
    "persons": Column("household size", "persons", 1.0, None, doc=HOUSEHOLD_DOC),
    "labour": Column("working members", "labourers", 0.0, None, doc=HOUSEHOLD_DOC),
    "per_capita_income": Column("market income of the last 12 months per person (y)",
                                "yuan per person per year", doc=HOUSEHOLD_DOC),
    "per_capita_income_post": Column("income after transfers of the last 12 months per person",
                                     "yuan per person per year", doc=HOUSEHOLD_DOC),
    "poor": Column("below the poverty line (y < z)", "true/false", doc=HOUSEHOLD_DOC),
    "registered": Column("on the poverty register (建档立卡)", "true/false", doc=HOUSEHOLD_DOC),
    "aid_received": Column("programme cash received since month 0", "yuan, cumulative",
                           doc=HOUSEHOLD_DOC),
    "diverted_received": Column("diverted money received, net of restitution",
                                "yuan, cumulative", doc=HOUSEHOLD_DOC),
    "cadre": Column("a cadre lives here", "true/false", doc=HOUSEHOLD_DOC),
    "cadre_kin": Column("kinship tie to a cadre household (cadres excluded)", "true/false",
                        doc=HOUSEHOLD_DOC),
    "cadre_friend": Column("friendship tie to a cadre household (cadres excluded)",
                           "true/false", doc=HOUSEHOLD_DOC),
    "helper": Column("responsible helper (-1: none)", "helper id", doc=HOUSEHOLD_DOC),
    "trust": Column("trust in the committee", "share, 0-1", 0.0, 1.0, doc=HOUSEHOLD_DOC),
    "cause": Column("latent cause of poverty (致贫原因)", "category", doc=HOUSEHOLD_DOC),
    "sick": Column("illness in the household", "true/false", doc=HOUSEHOLD_DOC),
    "measures_received": Column("household-specific measures received", "count",
                                doc=HOUSEHOLD_DOC),
    "team_visited": Column("ever visited by the work team", "true/false", doc=HOUSEHOLD_DOC),
    "exited": Column("exited poverty (脱贫) and not registered now", "true/false",
                     doc=HOUSEHOLD_DOC),
    "wrongful_exit": Column("exited while below the line (错退)", "true/false",
                            doc=HOUSEHOLD_DOC),
    # the decision log (docs/ODD.md 7.3)
    "year": Column("year of the decision (1 = months 1-12)", "year",
                   doc=DECISIONS_DOC),
    "month": Column("month of the decision", "month", doc=DECISIONS_DOC),
    "proposed_by": Column("who proposed the entry", "actor", doc=DECISIONS_DOC),
    "challenged_by": Column("who challenged it (empty: nobody)", "actor",
                            doc=DECISIONS_DOC),
    "outcome": Column("what became of the entry", "text", doc=DECISIONS_DOC),
    "reason": Column("why", "text", doc=DECISIONS_DOC),
}
"""Entries of columns that are not metrics (metrics: :func:`metric_column`)."""


SWEEP_DOC = "docs/sweeps.md"
_SWEEP = {
    "run_id": ("a run's identity: hash of its parameters, regime, replicate and seed",
               "16 hex digits"),
    "point": ("design point (row of design.parquet)", "index from 0"),
    "status": ("ok, or failed (the traceback is in 'error')", "text"),
    "error": ("traceback of a failed run", "text"),
    "rows": ("rows of the run's series", "count"),
    "duration_s": ("wall-clock time of the run", "seconds"),
    "cpu_s": ("CPU time of the run", "seconds"),
    "started": ("when the run started", "ISO 8601 time"),
    "finished": ("when the run finished", "ISO 8601 time"),
    "worker": ("the process that ran it", "host:pid"),
    "blas_threads": ("BLAS threads of the worker", "text"),
    "package_version": ("village-sim version that computed the run", "version"),
    "spec_hash": ("hash of the sweep spec the run belongs to", "16 hex digits"),
}


def entries(table: Mapping[str, tuple[str, str]], doc: str) -> dict[str, Column]:
    """Dictionary entries of a command's own columns, ``{name: (meaning, unit)}``, from ``doc``."""
    return {name: Column(meaning, unit, doc=doc) for name, (meaning, unit) in table.items()}


def describe(column: str) -> Column | None:
    """The dictionary entry of an output column, or ``None`` when it has none.

    Metrics, the columns of :data:`COLUMNS`, a sweep's bookkeeping columns, every parameter
    (its meaning and unit from docs/parameters.md), and a sampled design's unit-cube
    coordinates (``x__NAME``).
    """
    from village_sim.params import PARAM_BY_NAME

    if column in METRIC_UNITS:
        return metric_column(column)
    if column in COLUMNS:
        return COLUMNS[column]
    if column in _SWEEP:
        return Column(*_SWEEP[column], doc=SWEEP_DOC)
    if column in PARAM_BY_NAME:
        p = PARAM_BY_NAME[column]
        return Column(f"parameter: {p.meaning}", p.unit or "dimensionless",
                      doc="docs/parameters.md")
    if column.startswith("x__") and column[3:] in PARAM_BY_NAME:
        return Column(f"coordinate of {column[3:]} in the sampler's unit range",
                      "share of the swept range, 0-1", 0.0, 1.0, doc=SWEEP_DOC)
    for suffix, how in (("_mean", "mean over replicates"), ("_ci_low", "lower CI end"),
                        ("_ci_high", "upper CI end")):
        if column.endswith(suffix) and column[: -len(suffix)] in METRIC_UNITS:
            base = metric_column(column[: -len(suffix)])
            return Column(f"{base.meaning}: {how}", base.unit, base.low, base.high, base.doc)
    return None


WHEN = {
    "runs/<run_id>.parquet": "the month in 'step'",
    "panels/<run_id>.parquet": "the month in 'step'",
    "design.parquet": "",
    "plan.parquet": "",
    "run_table.parquet": "",
    "timeseries.csv": "the month in 'step'",
    "households.csv": "the last month of the run",
    "decisions.csv": "the month in 'month'",
    "household_panel.parquet": "the month in 'step'",
}
"""When the values of a per-month file hold (other files: the measurement window)."""
IDENTITY = {"regime", "seed", "replicate", "step", "metric", "baseline", "household_id",
            "point", "run_id", "file", "column"}


def columns_frame(files: Mapping[str, pd.DataFrame], window: str = "",
                  notes: Mapping[str, Column] | None = None) -> pd.DataFrame:
    """The data dictionary of the written tables: one row per (file, column).

    Args:
        files: File name -> the table written to it.
        window: The measurement window of summary columns (e.g. ``"months 49-60"``); empty
            for per-month columns.
        notes: Entries for columns this dictionary does not know (a command's own).

    Returns:
        Columns ``file, column, meaning, unit, window, defined_in``. A column without an
        entry is listed with an empty meaning (a test keeps that from happening).
    """
    import pandas as pd

    extra = dict(notes or {})
    rows = []
    for name, frame in files.items():
        when = WHEN.get(name, window)
        for column in frame.columns:
            entry = extra.get(str(column)) or describe(str(column))
            rows.append({
                "file": name, "column": column,
                "meaning": entry.meaning if entry else "",
                "unit": entry.unit if entry else "",
                "window": "" if column in IDENTITY else when,
                "defined_in": entry.doc if entry else "",
            })
    return pd.DataFrame(rows, columns=["file", "column", "meaning", "unit", "window",
                                       "defined_in"])
