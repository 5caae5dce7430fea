"""What every column the commands write means: unit, bounds, measurement window, where defined.

Two uses:

* **Statistics that match their words.** :func:`bounds` says which metrics are shares in
  [0, 1] or differences of shares in [-1, 1], so that their confidence intervals stay inside
  (:func:`village_sim.experiment.interval`).
* **Outputs that explain themselves.** :func:`columns_frame` builds the data dictionary written
  as ``columns.csv`` beside every CSV or Parquet file of ``compare``, ``run``, ``calibrate``
  and ``report``: file, column, meaning, unit, window, and the section of docs/ODD.md that
  defines it. Under ``--lang zh`` or ``vi`` the meanings, units and windows are in that
  language; column names, file names and the defining sections stay as they are (they are
  identifiers, and the docs are English).

Meanings are messages of :mod:`village_sim.i18n` (one wording for the app, the figures and
this dictionary): metrics' labels (``metric.NAME``), other columns' ``column.NAME``,
parameters' labels; units and bounds are declared here, once per column, with their words in
the catalogs' ``column_unit`` section (``tests/test_i18n.py`` checks both ways), and a test
checks that every metric of the model has them. A county's own columns and parameters
(:mod:`village_sim.county.model`) are declared there, in English; in another language their
meanings are the catalogs' ``column.NAME`` and parameter labels, their units ``column_unit``
and ``unit`` (:func:`county_columns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from village_sim.i18n import Catalog, t, unit_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "DESCRIBED",
    "DOCS",
    "METRIC_UNITS",
    "UNITS",
    "Column",
    "bounds",
    "columns_frame",
    "county_columns",
    "county_notes",
    "describe",
    "entries",
    "metric_column",
    "unit_words",
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
    "registration_favoritism_dared": ("weight (favouritism x intensity)", 0.0, None),
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


def metric_column(metric: str, lang: str | None = None) -> Column:
    """The dictionary entry of a metric: its label and unit in ``lang`` (default English)."""
    _ = Catalog(lang)
    unit, low, high = METRIC_UNITS[metric]
    doc = LEDGER_DOC if unit == "yuan in the month" else METRICS_DOC
    return Column(_.metric(metric), unit_words(unit, _.lang), low, high, doc)


def unit_words(unit: str, lang: str | None = None) -> str:
    """A unit of this dictionary in ``lang`` (English: as written here; none stays empty)."""
    if not unit or Catalog(lang).lang == "en":
        return unit
    return t(f"column_unit.{unit_key(unit)}", lang)


def _entry(name: str, unit: str, low: float | None = None, high: float | None = None,
           doc: str = METRICS_DOC) -> Column:
    """A column's entry, its meaning the English catalog's ``column.NAME``."""
    return Column(t(f"column.{name}", "en"), unit, low, high, doc)


COLUMNS: dict[str, Column] = {  # meanings: the catalogs" column.NAME
    # identity of a run and a month
    "regime": _entry("regime", "name", doc=f"{DOCS} section 10 (Regimes)"),
    "seed": _entry("seed", "integer"),
    "replicate": _entry("replicate", "index from 0"),
    "step": _entry("step", "month"),
    "metric": _entry("metric", "name"),
    # summaries
    "mean": _entry("mean", "unit of the metric"),
    "ci_low": _entry("ci_low", "unit of the metric"),
    "ci_high": _entry("ci_high", "unit of the metric"),
    "n": _entry("n", "seeds"),
    "interval": _entry("interval", "text"),
    "window": _entry("window", "months"),
    "confidence": _entry("confidence", "share, 0-1", 0.0, 1.0),
    "unit": _entry("unit", "text"),
    "baseline": _entry("baseline", "name"),
    # the household frame (docs/ODD.md section 2)
    "household_id": _entry("household_id", "index from 0", doc=HOUSEHOLD_DOC),
    "clan": _entry("clan", "index from 0", doc=HOUSEHOLD_DOC),
    "persons": _entry("persons", "persons", 1.0, None, doc=HOUSEHOLD_DOC),
    "labour": _entry("labour", "labourers", 0.0, None, doc=HOUSEHOLD_DOC),
    "per_capita_income": _entry("per_capita_income", "yuan per person per year",
                                doc=HOUSEHOLD_DOC),
    "per_capita_income_post": _entry("per_capita_income_post", "yuan per person per year",
                                     doc=HOUSEHOLD_DOC),
    "poor": _entry("poor", "true/false", doc=HOUSEHOLD_DOC),
    "registered": _entry("registered", "true/false", doc=HOUSEHOLD_DOC),
    "aid_received": _entry("aid_received", "yuan, cumulative", doc=HOUSEHOLD_DOC),
    "diverted_received": _entry("diverted_received", "yuan, cumulative", doc=HOUSEHOLD_DOC),
    "cadre": _entry("cadre", "true/false", doc=HOUSEHOLD_DOC),
    "cadre_kin": _entry("cadre_kin", "true/false", doc=HOUSEHOLD_DOC),
    "cadre_friend": _entry("cadre_friend", "true/false", doc=HOUSEHOLD_DOC),
    "helper": _entry("helper", "helper id", doc=HOUSEHOLD_DOC),
    "trust": _entry("trust", "share, 0-1", 0.0, 1.0, doc=HOUSEHOLD_DOC),
    "cause": _entry("cause", "category", doc=HOUSEHOLD_DOC),
    "sick": _entry("sick", "true/false", doc=HOUSEHOLD_DOC),
    "measures_received": _entry("measures_received", "count", doc=HOUSEHOLD_DOC),
    "team_visited": _entry("team_visited", "true/false", doc=HOUSEHOLD_DOC),
    "exited": _entry("exited", "true/false", doc=HOUSEHOLD_DOC),
    "wrongful_exit": _entry("wrongful_exit", "true/false", doc=HOUSEHOLD_DOC),
    # the decision log (docs/ODD.md 7.3)
    "year": _entry("year", "year", doc=DECISIONS_DOC),
    "month": _entry("month", "month", doc=DECISIONS_DOC),
    "proposed_by": _entry("proposed_by", "actor", doc=DECISIONS_DOC),
    "challenged_by": _entry("challenged_by", "actor", doc=DECISIONS_DOC),
    "outcome": _entry("outcome", "text", doc=DECISIONS_DOC),
    "reason": _entry("reason", "text", doc=DECISIONS_DOC),
}
"""Entries of columns that are not metrics (metrics: :func:`metric_column`)."""


SWEEP_DOC = "docs/sweeps.md"
_SWEEP = {  # a sweep's bookkeeping columns -> their unit (meanings: the catalogs' column.NAME)
    "run_id": "16 hex digits",
    "point": "index from 0",
    "status": "text",
    "error": "text",
    "rows": "count",
    "duration_s": "seconds",
    "cpu_s": "seconds",
    "started": "ISO 8601 time",
    "finished": "ISO 8601 time",
    "worker": "host:pid",
    "blas_threads": "text",
    "package_version": "version",
    "spec_hash": "16 hex digits",
}
DIMENSIONLESS = "dimensionless"
COORDINATE = "share of the swept range, 0-1"

UNITS = frozenset({c.unit for c in COLUMNS.values()} | set(_SWEEP.values())
                  | {u for u, _low, _high in METRIC_UNITS.values()} | {DIMENSIONLESS, COORDINATE})
"""Every unit this dictionary writes (their words in other languages: ``column_unit.KEY``)."""
DESCRIBED = frozenset(COLUMNS) | frozenset(_SWEEP)
"""Columns whose meaning is the catalogs' ``column.NAME`` (metrics and parameters have theirs)."""


def entries(table: Mapping[str, tuple[str, str]], doc: str) -> dict[str, Column]:
    """Dictionary entries of a command's own columns, ``{name: (meaning, unit)}``, from ``doc``."""
    return {name: Column(meaning, unit, doc=doc) for name, (meaning, unit) in table.items()}


def describe(column: str, lang: str | None = None) -> Column | None:
    """The dictionary entry of an output column in ``lang`` (default English), or ``None``.

    Metrics, the columns of :data:`COLUMNS`, a sweep's bookkeeping columns, every parameter
    (its meaning and unit from docs/parameters.md; in another language its label and unit),
    and a sampled design's unit-cube coordinates (``x__NAME``).
    """
    from village_sim.params import PARAM_BY_NAME

    _ = Catalog(lang)
    if column in METRIC_UNITS:
        return metric_column(column, lang)
    if column in COLUMNS:
        entry = COLUMNS[column]
        return entry if _.lang == "en" else Column(
            _(f"column.{column}"), unit_words(entry.unit, lang), entry.low, entry.high, entry.doc)
    if column in _SWEEP:
        return Column(_(f"column.{column}"), unit_words(_SWEEP[column], lang), doc=SWEEP_DOC)
    if column in PARAM_BY_NAME:
        p = PARAM_BY_NAME[column]
        if _.lang == "en":
            return Column(_("dictionary.parameter", meaning=p.meaning), p.unit or DIMENSIONLESS,
                          doc="docs/parameters.md")
        return Column(_("dictionary.parameter", meaning=_.param(column)),
                      _.unit(p.unit) if p.unit else unit_words(DIMENSIONLESS, lang),
                      doc="docs/parameters.md")
    if column.startswith("x__") and column[3:] in PARAM_BY_NAME:
        return Column(_("dictionary.coordinate", name=column[3:]), unit_words(COORDINATE, lang),
                      0.0, 1.0, doc=SWEEP_DOC)
    county = _county_column(column, lang)
    if county is not None:
        return county
    for suffix, how in (("_mean", "dictionary.replicate_mean"),
                        ("_ci_low", "dictionary.replicate_ci_low"),
                        ("_ci_high", "dictionary.replicate_ci_high")):
        if column.endswith(suffix) and column[: -len(suffix)] in METRIC_UNITS:
            base = metric_column(column[: -len(suffix)], lang)
            return Column(_(how, meaning=base.meaning), base.unit, base.low, base.high, base.doc)
    return None


COUNTY_DOC = "docs/ODD.md, 7.14"


def county_columns() -> dict[str, Column]:
    """A county's own columns that :func:`describe` takes from the county, in English.

    The entries of :data:`village_sim.county.model.COUNTY_COLUMNS` that no metric, entry of
    :data:`COLUMNS`, sweep column or parameter describes first (``year``, ``month``,
    ``persons``, ``reason`` and ``baseline`` are :data:`COLUMNS`'). In another language their
    meaning is the catalogs' ``column.NAME``, their unit ``column_unit`` (tests/test_i18n.py).
    """
    from village_sim.county.model import COUNTY_COLUMNS
    from village_sim.params import PARAM_BY_NAME

    first = METRIC_UNITS.keys() | COLUMNS.keys() | _SWEEP.keys() | PARAM_BY_NAME.keys()
    return {name: Column(*entry) for name, entry in COUNTY_COLUMNS.items() if name not in first}


def county_notes(lang: str | None = None) -> dict[str, Column]:
    """What the county's own files mean by the names other files use otherwise, in ``lang``.

    In a county's outputs ``year`` is the county year, ``month`` a deployment's, ``persons``
    a village's people, ``reason`` a deployment's, ``regime`` and ``baseline`` hold rules: the
    entries of :data:`village_sim.county.model.COUNTY_COLUMNS` that :func:`describe` gives
    another meaning. In another language: the catalogs' ``county_column.NAME``.
    """
    from village_sim.county.model import COUNTY_COLUMNS

    _ = Catalog(lang)
    own = county_columns()
    out = {}
    for name, entry in COUNTY_COLUMNS.items():
        if name in own:
            continue
        column = Column(*entry)
        out[name] = column if _.lang == "en" else Column(
            _(f"county_column.{name}"), unit_words(column.unit, lang), column.low,
            column.high, column.doc)
    return out


def _county_column(column: str, lang: str | None) -> Column | None:
    """A county's own column or parameter (docs/ODD.md 7.14), in ``lang``."""
    from village_sim.county.model import COUNTY_COLUMNS, COUNTY_PARAM_BY_NAME

    _ = Catalog(lang)
    if column in COUNTY_COLUMNS:
        entry = Column(*COUNTY_COLUMNS[column])
        return entry if _.lang == "en" else Column(
            _(f"column.{column}"), unit_words(entry.unit, lang), entry.low, entry.high, entry.doc)
    if column in COUNTY_PARAM_BY_NAME:
        p = COUNTY_PARAM_BY_NAME[column]
        if _.lang == "en":
            return Column(_("dictionary.parameter", meaning=p.meaning), p.unit or DIMENSIONLESS,
                          doc=COUNTY_DOC)
        return Column(_("dictionary.parameter", meaning=_.param(column)),
                      _.unit(p.unit) if p.unit else unit_words(DIMENSIONLESS, lang),
                      doc=COUNTY_DOC)
    return None


WHEN = {
    "runs/<run_id>.parquet": "dictionary.when_step",
    "panels/<run_id>.parquet": "dictionary.when_step",
    "design.parquet": "",
    "plan.parquet": "",
    "run_table.parquet": "",
    "timeseries.csv": "dictionary.when_step",
    "households.csv": "dictionary.when_last_month",
    "decisions.csv": "dictionary.when_month",
    "household_panel.parquet": "dictionary.when_step",
    "county_timeseries.csv": "dictionary.when_step",
    "deployment_log.csv": "dictionary.when_month",
    "village_year.parquet": "dictionary.when_year_end",
}
"""When the values of a per-month file hold, a message of the catalogs ("the month in 'step'");
other files: the measurement window."""
IDENTITY = {"regime", "seed", "replicate", "step", "metric", "baseline", "household_id",
            "point", "run_id", "file", "column", "village", "team", "rule", "event", "year",
            "month"}


def columns_frame(files: Mapping[str, pd.DataFrame], window: str = "",
                  notes: Mapping[str, Column] | None = None,
                  lang: str | None = None) -> pd.DataFrame:
    """The data dictionary of the written tables: one row per (file, column).

    Args:
        files: File name -> the table written to it.
        window: The measurement window of summary columns, in ``lang`` (e.g.
            ``"months 49-60"``); empty for per-month columns.
        notes: Entries for columns this dictionary does not know (a command's own).
        lang: Language of the meanings, units and windows (default English); file names,
            column names and the defining sections stay as they are.

    Returns:
        Columns ``file, column, meaning, unit, window, defined_in``. A column without an
        entry is listed with an empty meaning (a test keeps that from happening).
    """
    import pandas as pd

    extra = dict(notes or {})
    rows = []
    for name, frame in files.items():
        when = t(WHEN[name], lang) if WHEN.get(name) else ("" if name in WHEN else window)
        for column in frame.columns:
            entry = extra.get(str(column)) or describe(str(column), lang)
            rows.append({
                "file": name, "column": column,
                "meaning": entry.meaning if entry else "",
                "unit": entry.unit if entry else "",
                "window": "" if column in IDENTITY else when,
                "defined_in": entry.doc if entry else "",
            })
    return pd.DataFrame(rows, columns=["file", "column", "meaning", "unit", "window",
                                       "defined_in"])
