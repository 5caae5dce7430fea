"""Paired-seed experiments: run regimes on common random numbers, summarise, plot, save.

The functions here are what ``village-sim compare`` and ``village-sim run`` are made of, kept
free of argument parsing and printing so that the app and sweeps can reuse them:

* :func:`replicate_seeds` derives one integer seed per replicate from a root seed;
* :func:`run_model` / :func:`run_one` run one regime on one seed;
* :func:`run_stacked` runs many (regime, seed, overrides) at once on the county engine, each
  run's monthly metrics those of its own run, bit for bit;
* :func:`run_paired` runs every regime on the *same* replicate seeds (common random numbers,
  ../shared/DESIGN.md §4), so regimes face the same villages and the same shocks;
* :func:`summarise` turns the time series into one value per seed — the mean over the final
  ``window`` months (the measurement window) — and then into means with 95% t confidence
  intervals over seeds, and paired differences against the first regime;
* :func:`plot_metrics` draws the metrics over time, one line per regime;
* :func:`write_compare_outputs` and the ``write_*`` helpers save files atomically.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from village_sim.params import PARAM_BY_NAME, REGIMES, resolve_parameters
from village_sim.refusal import Refusal, did_you_mean

if TYPE_CHECKING:
    from village_sim.model import VillageModel

__all__ = [
    "DEFAULT_REGIMES",
    "CONFIDENCE",
    "KEY_METRICS",
    "PLOT_METRICS",
    "WINDOW",
    "Interval",
    "atomic_path",
    "check_months",
    "check_overrides",
    "check_regimes",
    "difference_bounds",
    "format_cell",
    "format_number",
    "format_toml",
    "interval",
    "mean_ci",
    "plot_metrics",
    "replicate_seed",
    "replicate_seeds",
    "run_model",
    "run_one",
    "run_paired",
    "run_stacked",
    "step_bands",
    "summarise",
    "timeseries",
    "truncated",
    "window_bounds",
    "write_columns",
    "write_compare_outputs",
    "write_csv",
    "write_parquet",
    "write_text",
]

DEFAULT_REGIMES: tuple[str, ...] = ("committee_only", "team_and_committee")
"""Regimes ``compare`` runs by default; the first is the baseline of the differences."""

WINDOW = 12
"""Length of the measurement window in months: the final year of a run."""

KEY_METRICS: tuple[str, ...] = (
    "poverty_headcount",
    "poverty_gap",
    "gini",
    "coverage",
    "exclusion_error",
    "inclusion_error_nonpoor",
    "mistargeting",
    "kin_premium",
    "amount_kin_premium",
    "diverted_share",
    "missed_poor_rate",
    "approval",
    "mean_trust",
    "cost_per_exit",
)
"""Metrics summarised by ``compare`` (DESIGN §5)."""

PLOT_METRICS: tuple[str, ...] = (
    "poverty_headcount",
    "poverty_gap",
    "gini",
    "coverage",
    "inclusion_error_nonpoor",
    "kin_premium",
    "diverted_share",
    "approval",
    "mean_trust",
)
"""Metrics drawn in ``metrics.png`` (a 3 x 3 grid)."""

ID_COLUMNS: tuple[str, ...] = ("regime", "seed", "replicate", "step")


# ---------------------------------------------------------------------------- seeds, checks
def replicate_seeds(root: int, n: int) -> list[int]:
    """Derive ``n`` independent integer seeds from a root seed.

    Each replicate gets ``SeedSequence(root).spawn(n)[i].generate_state(1)[0]``, so the list
    depends only on ``root`` and ``i`` (a longer list extends a shorter one).

    Args:
        root: Root seed, a non-negative integer.
        n: Number of replicates, at least 0.

    Returns:
        One seed (a 32-bit non-negative integer) per replicate.

    Raises:
        ValueError: for a negative root or count.
    """
    if isinstance(root, bool) or not isinstance(root, int | np.integer) or root < 0:
        raise ValueError(f"root seed: got {root!r}; allowed: a non-negative integer")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"number of seeds: got {n!r}; allowed: a non-negative integer")
    return [replicate_seed(int(root), i) for i in range(int(n))]


def replicate_seed(root: int, i: int) -> int:
    """Replicate ``i``'s seed alone: ``SeedSequence(root).spawn(i + 1)[i]`` without the list.

    A spawned child is the root's entropy with the spawn key ``(i,)``, so seed ``i`` costs the
    same whatever ``i`` is: a sweep of 10^8 replicates never lists them.
    """
    return int(np.random.SeedSequence(root, spawn_key=(i,)).generate_state(1)[0])


def check_regimes(names: Sequence[str]) -> list[str]:
    """Validate a list of regime names (non-empty, known, no repeats).

    Raises:
        ValueError: naming the bad regime, with the closest valid name and the allowed ones.
    """
    names = list(names)
    if not names:
        raise Refusal("error.no_regimes", allowed=", ".join(REGIMES))
    for name in names:
        if name not in REGIMES:
            raise Refusal("error.unknown_regime", value=name,
                          hint=did_you_mean(name, REGIMES, 0.5), allowed=", ".join(REGIMES))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Refusal("error.repeated_regime", value=repeated[0])
    return names


def check_overrides(regimes: Sequence[str], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validate parameter overrides under every regime before anything runs.

    Args:
        regimes: Regime names the overrides will be combined with.
        overrides: Parameter values (``regime`` excluded).

    Returns:
        The overrides converted to their parameters' types (e.g. ``3.0`` -> ``3`` for an
        integer parameter), in the order given.

    Raises:
        ValueError: naming the parameter, the value and what is allowed.
    """
    if "regime" in overrides:
        raise ValueError("'regime' is not an override here; choose regimes separately")
    values: dict[str, Any] = {}
    checked: list[str | None] = [*regimes] or [None]
    for regime in checked:
        values = resolve_parameters(regime=regime, **overrides).as_dict()
    return {name: values[name] for name in overrides}


# ---------------------------------------------------------------------------- running
def check_months(value: Any, name: str = "steps", most: int | None = None) -> None:
    """``value`` (a month count, or a list of months up to ``most``) is whole months >= 0.

    Raises:
        ValueError: naming ``name``, the value and what is allowed.
    """
    values = value if most is not None else [value]
    bad = [m for m in values if isinstance(m, bool) or not isinstance(m, int | np.integer)
           or m < 0 or (most is not None and m > most)]
    if bad:
        allowed = ("an integer >= 0 (months)" if most is None
                   else f"integers from 0 to {most} (months)")
        raise ValueError(f"{name}: got {bad[0]!r}; allowed: {allowed}")


def run_model(
    regime: str, seed: int, steps: int, overrides: Mapping[str, Any] | None = None,
    panel_every: int = 0,
) -> VillageModel:
    """Build a model and advance it ``steps`` months.

    Args:
        regime: Regime name.
        seed: Integer seed (the model's ``rng``).
        steps: Months to run (at least 0).
        overrides: Parameter overrides (``regime`` excluded).
        panel_every: Record the household frame every ``panel_every`` months (0: never).

    Returns:
        The model after ``steps`` steps.

    Raises:
        ValueError: for a bad regime, parameter, seed or step count.
    """
    from village_sim.model import VillageModel

    overrides = dict(overrides or {})
    if "regime" in overrides:
        raise ValueError("pass the regime as the 'regime' argument, not as an override")
    check_months(steps)
    model = VillageModel(rng=seed, regime=regime, panel_every=panel_every, **overrides)
    for _ in range(int(steps)):
        model.step()
    return model


STACK_BATCH = 256
"""Runs :func:`run_stacked` steps together (at most): about 0.5 MB of state a run."""


def run_stacked(runs: Sequence[tuple[str | None, int, Mapping[str, Any]]], steps: int,
                months: Sequence[int] | None = None, progress: Any = None,
                compiled_draws: bool = False) -> list[pd.DataFrame]:
    """Run each ``(regime, seed, overrides)`` for ``steps`` months, all together.

    Up to ``STACK_BATCH`` runs are the villages of one county engine
    (:class:`village_sim.county.engine.CountyEngine`: every mechanism acts on all of them at
    once, and each village is its solo run exactly), several times faster than one run after
    another. Their metrics are taken in ``months`` only (default: every month, 0 to
    ``steps``), by :func:`village_sim.county.metrics.village_metrics_frame`, each village's own
    metrics bit for bit.

    Args:
        runs: Regime (None: the model's default), seed and parameter overrides (``regime``
            excluded) of each run.
        steps: Months to run (at least 0).
        months: The months whose metrics are wanted (from 0 to ``steps``).
        progress: Something with ``update(n)`` (a tqdm bar), told of each month stepped.
        compiled_draws: Let the engine draw and step in its compiled loops (numba) from
            ``draws.JIT_FROM_VILLAGES`` runs: the same numbers; about 10% faster stepping at 200
            runs, none at 40 (measured with the compiled draws alone), but numba's import
            costs about 1.5 s a process and its first compilation after an install about 24 s
            (with the draws' loops alone, the first ``village-sim compare`` took 25.5 s
            instead of 9.6 s), so the numpy and Python loops by default.

    Returns:
        Each run's metrics: a frame with one row per wanted month (index: the month) and a
        float column per metric (``METRIC_NAMES``), the rows its ``VillageModel``'s
        DataCollector holds for those months, bit for bit (tests/test_stacked_runs.py).

    Raises:
        ValueError: for a bad step count or month, or a run's bad regime or parameter (naming
            the run).
    """
    from village_sim.county.engine import CountyEngine
    from village_sim.county.metrics import village_metrics_frame
    from village_sim.model import METRIC_NAMES, VillageModel
    from village_sim.stack import VillageStack

    check_months(steps)
    wanted = list(range(int(steps) + 1)) if months is None else sorted({*months})
    check_months(wanted, "months", steps)
    index = pd.Index(wanted, name="month")
    out: list[pd.DataFrame] = []
    for start in range(0, len(runs), STACK_BATCH):
        villages = []
        for j, (regime, seed, overrides) in enumerate(runs[start:start + STACK_BATCH], start):
            if "regime" in overrides:
                raise ValueError(f"run {j}: pass the regime as the run's regime, not as an "
                                 "override")
            try:
                villages.append(VillageModel(rng=seed, regime=regime, **dict(overrides)))
            except (TypeError, ValueError) as err:
                raise ValueError(f"run {j} ({regime}, seed {seed}): {err}") from err
        stack = VillageStack(villages)
        engine = CountyEngine(stack, collect=False, compiled_draws=compiled_draws)
        taken = np.empty((len(villages), len(wanted), len(METRIC_NAMES)))  # runs × months
        row = 0
        for month in range(int(steps) + 1):
            if month:
                engine.step()
                if progress is not None:
                    progress.update(1)
            if row < len(wanted) and wanted[row] == month:
                # the engine's arrays for the villages' institutions and lines, and its
                # compiled loops (where it has them) for the sorts: the same table
                frame = village_metrics_frame(stack, engine.income_12, engine.transfers_12,
                                              engine, engine.loops if month else None)
                taken[:, row, :] = frame.loc[:, list(METRIC_NAMES)].to_numpy(np.float64)
                row += 1
        out.extend(pd.DataFrame(taken[j], index=index, columns=list(METRIC_NAMES))
                   for j in range(len(villages)))
    return out


def timeseries(model: VillageModel) -> pd.DataFrame:
    """The model's collected metrics with a ``step`` column first (row 0 is month 0)."""
    from village_sim.model import METRIC_NAMES

    frame = model.datacollector.get_model_vars_dataframe()
    frame = frame.reset_index(drop=True).loc[:, list(METRIC_NAMES)].astype(float)
    frame.insert(0, "step", np.arange(len(frame), dtype=np.int64))
    return frame


def run_one(
    regime: str, seed: int, steps: int, overrides: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Run one regime on one seed and return its time series.

    Args:
        regime: Regime name.
        seed: Integer seed.
        steps: Months to run.
        overrides: Parameter overrides (``regime`` excluded).

    Returns:
        ``steps + 1`` rows (months 0..steps): ``step`` then every metric of ``METRIC_NAMES``.
    """
    return timeseries(run_model(regime, seed, steps, overrides))


def run_paired(
    regimes: Sequence[str],
    seeds: Sequence[int],
    steps: int,
    overrides: Mapping[str, Any] | None = None,
    progress: bool | None = False,
) -> pd.DataFrame:
    """Run every regime on every seed (common random numbers) and stack the time series.

    Args:
        regimes: Regime names; the first is the baseline of :func:`summarise`'s differences.
        seeds: One integer seed per replicate (e.g. from :func:`replicate_seeds`); every regime
            uses the same ones, so differences are paired.
        steps: Months per run.
        overrides: Parameter overrides applied to every run (``regime`` excluded).
        progress: Show a tqdm progress bar: True always, False never, None only on a terminal.

    Returns:
        Columns ``regime, seed, replicate, step`` and every metric; rows ordered by regime (in
        the order given), replicate and step.
    """
    from tqdm import tqdm

    from village_sim.model import METRIC_NAMES

    regimes = check_regimes(regimes)
    overrides = dict(overrides or {})
    if "regime" in overrides:
        raise ValueError("pass the regime as the 'regime' argument, not as an override")
    runs = [(regime, int(seed), overrides) for seed in seeds for regime in regimes]
    if not runs:
        return pd.DataFrame(columns=[*ID_COLUMNS, *METRIC_NAMES])
    # the runs stepped together (run_stacked: each run's metrics are its own run's, bit for bit)
    batches = -(-len(runs) // STACK_BATCH)
    disable = None if progress is None else not progress
    with tqdm(total=batches * steps, desc=f"{len(runs)} runs", unit="month", disable=disable,
              leave=False) as bar:
        frames = run_stacked(runs, steps, progress=bar)
    out = []
    for r, regime in enumerate(regimes):  # rows by regime, then replicate (runs: the reverse)
        for rep, seed in enumerate(seeds):
            frame = frames[rep * len(regimes) + r].reset_index(drop=True)
            frame.insert(0, "step", np.arange(len(frame), dtype=np.int64))
            frame.insert(0, "replicate", rep)
            frame.insert(0, "seed", int(seed))
            frame.insert(0, "regime", regime)
            out.append(frame)
    return pd.concat(out, ignore_index=True)


# ---------------------------------------------------------------------------- summary
def window_bounds(last_step: int, window: int = WINDOW) -> tuple[int, int]:
    """First and last month of the measurement window of a run that ended at ``last_step``.

    The window is the final ``window`` months, never month 0 (the state before any step)
    unless the run has no steps at all.
    """
    first = max(last_step - window + 1, min(1, last_step))
    return first, last_step


class Interval(NamedTuple):
    """A mean over seeds with its confidence interval and how the interval was made."""

    mean: float
    low: float
    high: float
    n: int
    method: str
    """``t``, ``logit t``, ``t, truncated`` or ``none (n < 3)`` (``none`` when n = 0)."""


MIN_SEEDS_FOR_CI = 3
"""Below this many seeds no interval is given: with 2 the t interval spans 12.7 sd."""
CONFIDENCE = 0.95


def interval(values: np.ndarray | Sequence[float], bounds: tuple[float, float] | None = None,
             level: float = CONFIDENCE) -> Interval:
    """Mean and t confidence interval of the finite values, kept inside ``bounds``.

    * No bounds: ``mean ± t(1 - (1 - level)/2, n - 1) · sd / sqrt(n)`` (method ``t``).
    * ``bounds = (0, 1)`` (a share) and every value strictly inside: the t interval of the
      mean of ``logit(values)``, mapped back (method ``logit t``) — it cannot leave (0, 1);
      the printed mean stays the plain mean, and the interval is widened to hold it should
      the two scales disagree.
    * Other bounds (a difference of shares), or values on a bound: the t interval cut at the
      bounds (method ``t, truncated`` when it was cut, else ``t``).
    * Fewer than :data:`MIN_SEEDS_FOR_CI` values: no interval (``none (n < 3)``).

    Returns:
        The mean (NaN when no value is finite), the interval (NaN when none), n and method.
    """
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    n = int(finite.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, "none")
    mean = float(finite.mean())
    if n < MIN_SEEDS_FOR_CI:
        return Interval(mean, math.nan, math.nan, n, f"none (n < {MIN_SEEDS_FOR_CI})")
    q = float(stats.t.ppf(1 - (1 - level) / 2, n - 1))
    if bounds == (0.0, 1.0) and bool(np.all((finite > 0) & (finite < 1))):
        logits = np.log(finite / (1 - finite))
        centre = float(logits.mean())
        half = q * float(logits.std(ddof=1)) / math.sqrt(n)
        low, high = (float(1 / (1 + math.exp(-(centre + k * half)))) for k in (-1, 1))
        return Interval(mean, min(low, mean), max(high, mean), n, "logit t")
    half = q * float(finite.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None and (low < bounds[0] or high > bounds[1]):
        return Interval(mean, max(low, bounds[0]), min(high, bounds[1]), n, "t, truncated")
    return Interval(mean, low, high, n, "t")


def difference_bounds(bounds: tuple[float, float] | None) -> tuple[float, float] | None:
    """The range of a paired difference of a metric with ``bounds`` (e.g. [0, 1] -> [-1, 1])."""
    if bounds is None:
        return None
    width = bounds[1] - bounds[0]
    return (-width, width)


def step_bands(frame: pd.DataFrame, metric: str,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per month: the mean over seeds of ``metric`` and its 95% band, as :func:`interval`.

    The band of a share stays inside 0-1 (logit scale), none is drawn below 3 seeds: the
    figures show the same intervals as the tables.

    Returns:
        ``(steps, mean, low, high)``; ``low``/``high`` NaN where there is no interval.
    """
    from village_sim.dictionary import bounds

    limits = bounds(metric)
    steps, means, lows, highs = [], [], [], []
    for step, values in frame.groupby("step", sort=True)[metric]:
        got = interval(values.to_numpy(dtype=float), limits)
        steps.append(float(step))  # type: ignore[arg-type]
        means.append(got.mean)
        lows.append(got.low)
        highs.append(got.high)
    return (np.asarray(steps), np.asarray(means, dtype=float), np.asarray(lows, dtype=float),
            np.asarray(highs, dtype=float))


def mean_ci(values: np.ndarray | Sequence[float],
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float, int]:
    """``(mean, low, high, n)`` of :func:`interval` (95%; NaN interval for n < 3)."""
    return tuple(interval(values, bounds))[:4]  # type: ignore[return-value]


def decimals(values: Sequence[float]) -> int:
    """Decimals to print for numbers of this size (0 from 100 up, 3 below 1)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    big = max(finite, default=0.0)
    return 0 if big >= 100 else 1 if big >= 10 else 2 if big >= 1 else 3


def format_number(value: float, digits: int, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals; a rounded zero is ``0.000``, never ``-0.000``."""
    if round(value, digits) == 0:
        return f"{0.0:.{digits}f}"
    return f"{value:{'+' if signed else ''},.{digits}f}"


def truncated(table: pd.DataFrame, regime: str) -> bool:
    """Whether a summary row's interval (``table`` indexed by regime) was cut at its bounds."""
    return "interval" in table and str(table.at[regime, "interval"]).endswith("truncated")


def format_cell(mean: float, lo: float, hi: float, digits: int, signed: bool = False,
                truncated: bool = False) -> str:
    """``mean [lo, hi]`` for tables: starred when signed and excluding 0, ``†`` when cut."""
    if not math.isfinite(mean):
        return "undefined"
    text = format_number(mean, digits, signed)
    if math.isfinite(lo) and math.isfinite(hi):
        text += (f" [{format_number(lo, digits, signed)}, "
                 f"{format_number(hi, digits, signed)}]")
        if truncated:
            text += " †"
        if signed and (lo > 0 or hi < 0):
            text += " *"
    return text


def per_seed_values(df: pd.DataFrame, metrics: Sequence[str], window: int = WINDOW) -> pd.DataFrame:
    """Each run's mean over the measurement window, ignoring NaN months.

    Returns:
        Index (regime, replicate); one column per metric; NaN where a metric was undefined in
        every month of the window.
    """
    first, _ = window_bounds(int(df["step"].max()), window)
    in_window = df.loc[df["step"] >= first]
    grouped = in_window.groupby(["regime", "replicate"], sort=False)[list(metrics)]
    return grouped.mean()  # pandas skips NaN; an all-NaN group gives NaN


def summarise(
    df: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS, window: int = WINDOW
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Means over seeds with 95% CIs, and paired differences against the first regime.

    Each seed's value of a metric is its mean over the final ``window`` months (ignoring NaN
    months); a seed where the metric is undefined throughout the window is left out. The CI
    is :func:`interval` over the n seeds where the metric is defined (kept inside the
    metric's bounds; none for n < 3). Differences are per seed (other regime minus the first,
    on the same seed), over seeds where both are defined.

    Args:
        df: Output of :func:`run_paired` (needs ``regime``, ``replicate``, ``step``).
        metrics: Metric columns to summarise.
        window: Length of the measurement window in months.

    Returns:
        ``(summary, differences)``. ``summary`` columns: metric, regime, mean, ci_low, ci_high,
        n, interval (how it was made), confidence, window, unit. ``differences``: the same with
        baseline after regime — one row per metric and non-baseline regime.

    Raises:
        ValueError: for unknown metrics or an empty frame.
    """
    missing = [m for m in metrics if m not in df.columns]
    if missing:
        raise ValueError(f"unknown metrics {missing}; the frame has {list(df.columns)}")
    if df.empty:
        raise ValueError("no runs to summarise")
    if window < 1:
        raise ValueError(f"window: got {window!r}; allowed: an integer >= 1 (months)")
    from village_sim.dictionary import METRIC_UNITS, bounds

    regimes = list(dict.fromkeys(df["regime"]))
    values = per_seed_values(df, metrics, window)
    first, last = window_bounds(int(df["step"].max()), window)
    stated = {"confidence": CONFIDENCE, "window": f"months {first}-{last}"}
    summary_rows: list[dict[str, Any]] = []
    diff_rows: list[dict[str, Any]] = []
    base = regimes[0]
    for metric in metrics:
        table = values[metric].unstack("regime")  # rows: replicate, columns: regime
        limits = bounds(metric)
        unit = METRIC_UNITS[metric][0] if metric in METRIC_UNITS else ""
        for regime in regimes:
            got = interval(table[regime].to_numpy(dtype=float), limits)
            summary_rows.append(
                {"metric": metric, "regime": regime, "mean": got.mean, "ci_low": got.low,
                 "ci_high": got.high, "n": got.n, "interval": got.method, **stated,
                 "unit": unit}
            )
        for regime in regimes[1:]:
            diff = (table[regime] - table[base]).to_numpy(dtype=float)
            got = interval(diff, difference_bounds(limits))
            diff_rows.append(
                {"metric": metric, "regime": regime, "baseline": base, "mean": got.mean,
                 "ci_low": got.low, "ci_high": got.high, "n": got.n, "interval": got.method,
                 **stated, "unit": unit}
            )
    tail = ["interval", "confidence", "window", "unit"]
    summary = pd.DataFrame(summary_rows, columns=["metric", "regime", "mean", "ci_low",
                                                  "ci_high", "n", *tail])
    diffs = pd.DataFrame(diff_rows, columns=["metric", "regime", "baseline", "mean", "ci_low",
                                             "ci_high", "n", *tail])
    return summary, diffs


# ---------------------------------------------------------------------------- plotting
def plot_metrics(
    df: pd.DataFrame, path: str | Path, metrics: Sequence[str] = PLOT_METRICS,
    window: int = WINDOW, lang: str | None = None, labels: Mapping[str, str] | None = None,
) -> Path:
    """Draw each metric over time: one line per regime (mean over seeds), 95% band shaded.

    Uses Matplotlib's Agg canvas directly (no pyplot, no display needed). The measurement
    window is shaded grey. The file is written atomically.

    Args:
        df: Output of :func:`run_paired`.
        path: PNG file to write.
        metrics: Metrics to draw, one panel each.
        window: Length of the measurement window in months (for the shading).
        lang: Language of titles, legend and axis labels (``zh``, ``vi``, ``en``; see
            :mod:`village_sim.i18n`), drawn with the package's fonts. ``None``: metric and
            regime names as in the code.
        labels: The legend's label of each value of ``regime`` (e.g. a county's deployment
            rules, :meth:`village_sim.i18n.Catalog.rule`); a value not given: as ``lang`` says.

    Returns:
        The path written.
    """
    if lang is not None:
        from village_sim.fonts import use_fonts

        with use_fonts():
            return _plot_metrics(df, path, list(metrics), window, lang, labels)
    return _plot_metrics(df, path, list(metrics), window, None, labels)


def _plot_metrics(df: pd.DataFrame, path: str | Path, metrics: list[str], window: int,
                  lang: str | None, labels: Mapping[str, str] | None = None) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from village_sim.i18n import Catalog

    cat = Catalog(lang)
    ncols = min(3, max(1, len(metrics)))
    nrows = max(1, math.ceil(len(metrics) / ncols))
    fig = Figure(figsize=(4.0 * ncols, 2.9 * nrows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    regimes = list(dict.fromkeys(df["regime"]))
    last = int(df["step"].max()) if not df.empty else 0
    first, _ = window_bounds(last, window)
    colours = [f"C{i}" for i in range(len(regimes))]
    for k, ax in enumerate(axes.flat):
        if k >= len(metrics):
            ax.set_visible(False)
            continue
        metric = metrics[k]
        for regime, colour in zip(regimes, colours, strict=True):
            sub = df.loc[df["regime"] == regime]
            steps, mean, low, high = step_bands(sub, metric)
            ax.plot(steps, mean, color=colour, lw=1.4,
                    label=labels[regime] if labels is not None and regime in labels
                    else regime if lang is None else cat.regime(regime))
            ax.fill_between(steps, low, high, color=colour, alpha=0.2, lw=0)
        ax.axvspan(first, last, color="0.85", alpha=0.5, lw=0, zorder=0)
        ax.set_title(metric if lang is None else cat.metric(metric), fontsize=10)
        ax.set_xlabel("month" if lang is None else cat("chart.month"))
        ax.set_xlim(0, max(last, 1))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center",
                   ncols=min(len(labels), 5 if lang is None else 2), frameon=False)
    fig.suptitle(
        f"mean over seeds with 95% band; grey: measurement window (months {first}-{last})"
        if lang is None else cat("chart.compare_suptitle", first=first, last=last),
        fontsize=10,
    )
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


# ---------------------------------------------------------------------------- files
@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; move it onto ``path`` on success.

    Readers never see a half-written file; on an error the temporary file is removed and
    ``path`` is left as it was.
    """
    from village_sim.outputs import ordinary_permissions, write_point

    path = Path(path)
    write_point(path.name)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        ordinary_permissions(tmp)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(text: str, path: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as CSV (no index) atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet (no index) atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        text = repr(float(value))
        if not math.isfinite(float(value)):
            raise ValueError(f"cannot write {value!r} to TOML")
        return text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    raise ValueError(f"cannot write {value!r} to TOML")


def format_toml(overrides: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """Render parameter overrides as a TOML file that ``--params`` reads back.

    ``None`` values (e.g. ``team_leaves``: the team stays) have no TOML form; they are the
    default of every parameter that allows them, so they are written as comments.

    Args:
        overrides: Parameter values.
        header: Comment lines to put first (without the ``#``).

    Returns:
        The file's text.
    """
    lines = [f"# {line}" if line else "#" for line in header]
    if header:
        lines.append("")
    if not overrides:
        lines.append("# no overrides: every parameter has its default (see docs/parameters.md)")
    for name, value in overrides.items():
        if value is None:
            lines.append(f"# {name} = none (the default; TOML has no null)")
            continue
        unit = PARAM_BY_NAME[name].unit if name in PARAM_BY_NAME else ""
        comment = f"  # {unit}" if unit else ""
        lines.append(f"{name} = {_toml_value(value)}{comment}")
    return "\n".join(lines) + "\n"


def write_compare_outputs(
    out: str | Path,
    df: pd.DataFrame,
    summary: pd.DataFrame,
    diffs: pd.DataFrame,
    overrides: Mapping[str, Any],
    header: Sequence[str] = (),
    plot: Sequence[str] = PLOT_METRICS,
    window: int = WINDOW,
    lang: str | None = None,
) -> list[Path]:
    """Save a paired comparison: time series, summary, differences, parameters and plot.

    Args:
        out: Output directory (created if needed).
        df: Output of :func:`run_paired`.
        summary: First output of :func:`summarise`.
        diffs: Second output of :func:`summarise`.
        overrides: Parameter overrides used (written to ``parameters.toml``).
        header: Comment lines for ``parameters.toml`` (e.g. the command to repeat the run).
        plot: Metrics drawn in ``metrics.png``.
        window: Measurement window in months (for the plot shading).
        lang: Language of the plot's labels (``None``: names as in the code).

    Returns:
        The files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    first, last = window_bounds(int(df["step"].max()), window)
    tables = {"timeseries.csv": df, "summary.csv": summary, "differences.csv": diffs}
    written = [write_csv(table, out / name) for name, table in tables.items()]
    written += [
        write_columns(out, tables, _compare_window(first, last, lang), lang=lang),
        write_text(format_toml(overrides, header), out / "parameters.toml"),
        plot_metrics(df, out / "metrics.png", plot, window, lang=lang),
    ]
    return written


def _compare_window(first: int, last: int, lang: str | None) -> str:
    from village_sim.i18n import t

    return t("dictionary.compare_window", lang, first=first, last=last)


def write_columns(out: str | Path, tables: Mapping[str, pd.DataFrame], window: str = "",
                  notes: Mapping[str, Any] | None = None, lang: str | None = None) -> Path:
    """Write ``columns.csv``, the data dictionary of ``tables`` (:mod:`village_sim.dictionary`).

    Args:
        out: The folder the tables were written to.
        tables: File name -> table.
        window: The measurement window of summary columns, in words (in ``lang``).
        notes: Entries (:class:`~village_sim.dictionary.Column`) for a command's own columns.
        lang: Language of the meanings, units and windows (default English).
    """
    from village_sim.dictionary import columns_frame

    return write_csv(columns_frame(tables, window, notes, lang), Path(out) / "columns.csv")
