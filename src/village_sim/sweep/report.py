"""Analysis of a sweep directory: ``report.md``, ``report.html`` and figures in ``report/``.

What the report measures (docs/sweeps.md, "Report"):

* A run's value of a metric is its mean over the final ``window`` months (12 by default,
  as ``village-sim compare`` measures), ignoring months where the metric is undefined.
* Per design point and regime: the mean over replicates with a 95% t confidence interval
  (replicates are independent villages; CI needs at least 2).
* Paired differences: each regime minus the baseline (the spec's first regime) on the same
  replicate — the same village and shocks — then mean and CI over replicates.
* Overview: per replicate, the average over design points; then mean and CI over
  replicates (the replicate is the independent unit, since every point uses the same seeds).
* Figures: each metric against each swept parameter (averaged over the other swept
  parameters), the same for the paired differences, heatmaps for two-parameter grids, and
  the monthly series for designs of at most eight points.
* Sobol designs: first-order and total indices (``SALib.analyze.sobol``); Morris designs:
  mu*, its confidence interval and sigma (``SALib.analyze.morris``) — of each regime's
  metrics and of the paired differences, on the per-point means over replicates.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from village_sim.dictionary import bounds, entries
from village_sim.experiment import (
    WINDOW,
    atomic_path,
    difference_bounds,
    mean_ci,
    window_bounds,
    write_columns,
    write_csv,
    write_text,
)
from village_sim.experiment import decimals as _digits
from village_sim.experiment import format_cell as _cell
from village_sim.sweep.spec import SweepSpec
from village_sim.sweep.store import (
    REPORT_DIR,
    SweepStore,
    load_timeseries,
    package_version,
    run_table,
)

__all__ = ["ReportFiles", "build_report", "frame_of_points", "mean_ci", "paired_differences",
           "run_values", "sweep_counts"]

MAX_PANELS = 9
"""Metrics drawn per figure (the spec's first nine)."""
MAX_POINT_TABLE = 40
"""Design points up to which the report prints the per-point tables (else: CSV only)."""
MAX_SERIES_POINTS = 8
"""Design points up to which the monthly series are drawn."""
ANALYSIS_STREAM = 0x5EED_A7A1
"""Second entropy word of the seed of SALib's bootstrap (``[root_seed, ANALYSIS_STREAM]``)."""


@dataclass
class ReportFiles:
    """What :func:`build_report` wrote.

    Attributes:
        documents: ``report.md`` and ``report.html``.
        figure_dir: The directory of figures and CSV tables.
        figures: PNG files.
        tables: CSV files.
    """

    documents: list[Path]
    figure_dir: Path
    figures: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)


# ---------------------------------------------------------------------------- statistics
def run_values(series: pd.DataFrame, metrics: Sequence[str], steps: int,
               window: int = WINDOW) -> pd.DataFrame:
    """Each run's mean of each metric over its final ``window`` months (NaN months ignored).

    Returns:
        Index ``run_id``; one column per metric.
    """
    first, _ = window_bounds(steps, window)
    in_window = series.loc[series["step"] >= first]
    return in_window.groupby("run_id", sort=True)[list(metrics)].mean()


def frame_of_points(plan: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """The plan (point, regime, replicate, ...) with each run's window values (NaN: not stored)."""
    return plan.merge(values, how="left", left_on="run_id", right_index=True)


def _summaries(frame: pd.DataFrame, spec: SweepSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per point and regime: mean/CI over replicates; and paired differences."""
    axes = list(spec.axis_names)
    rows: list[dict[str, Any]] = []
    diff_rows: list[dict[str, Any]] = []
    base = spec.baseline
    for point, group in frame.groupby("point", sort=True):
        labels = {a: group[a].iloc[0] for a in axes}
        by_regime = {r: g.set_index("replicate") for r, g in group.groupby("regime")}
        for metric in spec.metrics:
            for regime in spec.regimes:
                g = by_regime.get(regime)
                vals = g[metric].to_numpy(dtype=float) if g is not None else np.array([])
                mean, lo, hi, n = mean_ci(vals, bounds(metric))
                rows.append({"point": point, **labels, "regime": regime, "metric": metric,
                             "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
            for regime in spec.regimes[1:]:
                if regime not in by_regime or base not in by_regime:
                    continue
                diff = (by_regime[regime][metric] - by_regime[base][metric]).to_numpy(float)
                mean, lo, hi, n = mean_ci(diff, difference_bounds(bounds(metric)))
                diff_rows.append({"point": point, **labels, "regime": regime, "baseline": base,
                                  "metric": metric, "mean": mean, "ci_low": lo,
                                  "ci_high": hi, "n": n})
    columns = ["point", *axes, "regime", "metric", "mean", "ci_low", "ci_high", "n"]
    return (pd.DataFrame(rows, columns=columns),
            pd.DataFrame(diff_rows, columns=[*columns[:-5], "baseline", *columns[-5:]]))


def _overview(frame: pd.DataFrame, spec: SweepSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design-averaged values per replicate, then mean/CI over replicates."""
    metrics = list(spec.metrics)
    per_rep = frame.groupby(["regime", "replicate"])[metrics].mean()
    rows, diff_rows = [], []
    for metric in metrics:
        table = per_rep[metric].unstack("regime")
        for regime in spec.regimes:
            vals = table[regime].to_numpy(float) if regime in table else np.array([])
            mean, lo, hi, n = mean_ci(vals, bounds(metric))
            rows.append({"metric": metric, "regime": regime, "mean": mean, "ci_low": lo,
                         "ci_high": hi, "n": n})
        if spec.baseline not in table:
            continue
        for regime in spec.regimes[1:]:
            if regime not in table:
                continue
            # pair within each point first, then average the differences over points
            pairs = frame.pivot_table(index=["point", "replicate"], columns="regime",
                                      values=metric, dropna=False)
            diff = (pairs[regime] - pairs[spec.baseline]).groupby(level="replicate").mean()
            mean, lo, hi, n = mean_ci(diff.to_numpy(float), difference_bounds(bounds(metric)))
            diff_rows.append({"metric": metric, "regime": regime, "baseline": spec.baseline,
                              "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    columns = ["metric", "regime", "mean", "ci_low", "ci_high", "n"]
    return (pd.DataFrame(rows, columns=columns),
            pd.DataFrame(diff_rows, columns=["metric", "regime", "baseline", *columns[2:]]))


def paired_differences(frame: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """One row per (point, replicate, regime != baseline): swept values, paired differences.

    Every metric is the regime's value minus the baseline's on the same replicate seed;
    ``regime`` reads ``"B - A"`` (A the baseline).
    """
    axes = list(spec.axis_names)
    key = ["point", "replicate"]
    base = frame.loc[frame["regime"] == spec.baseline, key + list(spec.metrics)]
    out = []
    for regime in spec.regimes[1:]:
        other = frame.loc[frame["regime"] == regime, key + axes + list(spec.metrics)]
        merged = other.merge(base, on=key, suffixes=("", "__base"))
        for m in spec.metrics:
            merged[m] = merged[m] - merged[f"{m}__base"]
        merged = merged.drop(columns=[f"{m}__base" for m in spec.metrics])
        merged["regime"] = f"{regime} - {spec.baseline}"
        out.append(merged)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


# ---------------------------------------------------------------------------- formatting
def _table_cell(table: pd.DataFrame, row: str, digits: int, signed: bool = False) -> str:
    values = table.loc[row, ["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
    return _cell(float(values[0]), float(values[1]), float(values[2]), digits, signed)


def _label(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---------------------------------------------------------------------------- documents
class _Doc:
    """Blocks rendered both as Markdown and as HTML."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, Any]] = []

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, frame: pd.DataFrame) -> None:
        self.blocks.append(("table", frame))

    def img(self, path: str, caption: str) -> None:
        self.blocks.append(("img", (path, caption)))

    def pre(self, text: str) -> None:
        self.blocks.append(("pre", text))

    def markdown(self) -> str:
        out: list[str] = []
        for kind, data in self.blocks:
            if kind == "h":
                out += ["#" * data[0] + " " + data[1], ""]
            elif kind == "p":
                out += [data, ""]
            elif kind == "table":
                cols = [str(c) for c in data.columns]
                out.append("| " + " | ".join(cols) + " |")
                out.append("|" + "|".join("---" for _ in cols) + "|")
                for row in data.itertuples(index=False):
                    cells = [str(c).replace("|", "\\|") for c in row]
                    out.append("| " + " | ".join(cells) + " |")
                out.append("")
            elif kind == "img":
                out += [f"![{data[1]}]({data[0]})", "", f"*{data[1]}*", ""]
            elif kind == "pre":
                out += ["```", data.rstrip(), "```", ""]
        return "\n".join(out)

    def html(self, title: str) -> str:
        out = [
            "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;"
            "padding:0 1em;line-height:1.45}table{border-collapse:collapse;margin:1em 0;"
            "font-size:.85em}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}"
            "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
            "img{max-width:100%}figcaption{font-style:italic;color:#555}"
            "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}</style></head><body>",
        ]
        for kind, data in self.blocks:
            if kind == "h":
                out.append(f"<h{data[0]}>{html.escape(data[1])}</h{data[0]}>")
            elif kind == "p":
                out.append(f"<p>{_inline_html(data)}</p>")
            elif kind == "table":
                head = "".join(f"<th>{html.escape(str(c))}</th>" for c in data.columns)
                body = "".join(
                    "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                    for row in data.itertuples(index=False)
                )
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif kind == "img":
                out.append(f"<figure><img src=\"{html.escape(data[0])}\" alt=\""
                           f"{html.escape(data[1])}\"><figcaption>{html.escape(data[1])}"
                           "</figcaption></figure>")
            elif kind == "pre":
                out.append(f"<pre>{html.escape(data)}</pre>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"


def _inline_html(text: str) -> str:
    """Escape, then render Markdown's `code` spans."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


# ---------------------------------------------------------------------------- figures
def _figure(n_panels: int, width: float = 4.0, height: float = 3.0) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = min(3, max(1, n_panels))
    nrows = max(1, math.ceil(n_panels / ncols))
    fig = Figure(figsize=(width * ncols, height * nrows + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n_panels:
            ax.set_visible(False)
    return fig, axes


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float | np.integer | np.floating)
            and not isinstance(value, bool) and math.isfinite(float(value)))


def _x_positions(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x for an axis; categorical positions if any value is not a number.

    Categories (e.g. ``team_leaves`` = 24, 36, none) are ordered numbers first, ascending,
    then the rest in order of appearance.
    """
    raw = values.tolist()
    if all(_is_number(v) for v in raw):
        return values.to_numpy(dtype=float), None
    numbers = sorted({float(v) for v in raw if _is_number(v)})
    labels = [_label(v) for v in numbers]
    labels += [lab for lab in dict.fromkeys(_label(v) for v in raw if not _is_number(v))
               if lab not in labels]
    pos = {lab: i for i, lab in enumerate(labels)}
    return np.array([pos[_label(v)] for v in raw], dtype=float), labels


def _plot_against(frame: pd.DataFrame, spec: SweepSpec, axis: str, groups: Sequence[str],
                  title: str, path: Path, zero_line: bool = False) -> Path:
    """Panels per metric: each group's metric against ``axis`` (means and 95% CIs)."""
    metrics = list(spec.metrics)[:MAX_PANELS]
    fig, axes = _figure(len(metrics))
    sampled = spec.design in ("lhs", "sobol", "morris")
    x_all, ticks = _x_positions(frame[axis])
    frame = frame.assign(__x=x_all)
    for k, metric in enumerate(metrics):
        ax = axes.flat[k]
        for g, group in enumerate(groups):
            sub = frame.loc[frame["regime"] == group]
            colour = f"C{g}"
            if sampled:
                ax.scatter(sub["__x"], sub[metric], s=8, alpha=0.35, color=colour, lw=0)
                if len(sub) >= 8:
                    bins = pd.qcut(sub["__x"], q=min(8, sub["__x"].nunique()),
                                   duplicates="drop")
                    stat = sub.groupby(bins, observed=True).agg(x=("__x", "mean"),
                                                                y=(metric, "mean"))
                    ax.plot(stat["x"], stat["y"], color=colour, lw=1.6, label=group)
                else:
                    ax.plot([], [], color=colour, label=group)
                continue
            # average over the other swept parameters within each replicate, then CI
            per_rep = sub.groupby(["__x", "replicate"])[metric].mean().reset_index()
            xs, means, lows, highs = [], [], [], []
            for x, grp in per_rep.groupby("__x"):
                limits = difference_bounds(bounds(metric)) if zero_line else bounds(metric)
                mean, lo, hi, _ = mean_ci(grp[metric].to_numpy(float), limits)
                xs.append(x)
                means.append(mean)
                lows.append(lo)
                highs.append(hi)
            xs_a, m_a = np.array(xs), np.array(means)
            ax.plot(xs_a, m_a, marker="o", ms=3.5, color=colour, lw=1.4, label=group)
            lo_a, hi_a = np.array(lows), np.array(highs)
            ok = np.isfinite(lo_a) & np.isfinite(hi_a)
            if ok.any():
                ax.fill_between(xs_a[ok], lo_a[ok], hi_a[ok], color=colour, alpha=0.18, lw=0)
        if zero_line:
            ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
        if ticks is not None:
            ax.set_xticks(range(len(ticks)), ticks)
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel(axis)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4),
                   frameon=False)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _heatmaps(frame: pd.DataFrame, paired: pd.DataFrame, spec: SweepSpec, metric: str,
              path: Path) -> Path:
    """Two-parameter grid: the metric per regime, and each paired difference, as heatmaps."""
    a, b = spec.axis_names
    panels: list[tuple[str, pd.DataFrame, bool]] = []
    for regime in spec.regimes:
        sub = frame.loc[frame["regime"] == regime]
        panels.append((regime, sub, False))
    if not paired.empty:
        for name, sub in paired.groupby("regime", sort=False):
            panels.append((str(name), sub, True))
    fig, axes = _figure(len(panels), width=4.2, height=3.6)
    regime_means = [p.groupby([a, b], dropna=False)[metric].mean() for _, p, d in panels
                    if not d]
    finite = [float(v) for m in regime_means for v in m.to_numpy(float) if math.isfinite(v)]
    vmin, vmax = (min(finite), max(finite)) if finite else (0.0, 1.0)
    for k, (name, sub, is_diff) in enumerate(panels):
        ax = axes.flat[k]
        grid = sub.groupby([a, b], dropna=False)[metric].mean().unstack(b)
        data = grid.to_numpy(dtype=float)
        if is_diff:
            lim = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
            image = ax.imshow(data, origin="lower", cmap="RdBu_r", vmin=-lim or -1,
                              vmax=lim or 1, aspect="auto")
        else:
            image = ax.imshow(data, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax,
                              aspect="auto")
        digits = _digits(data[np.isfinite(data)].tolist())
        for i in range(data.shape[0]):
            for j in range(data.shape[1]):
                if math.isfinite(data[i, j]):
                    shade = float(image.norm(data[i, j]))  # 0..1 along the colour map
                    dark = 0.25 < shade < 0.75 if is_diff else shade > 0.6
                    ax.text(j, i, f"{data[i, j]:.{digits}f}", ha="center", va="center",
                            fontsize=7, color="black" if dark else "white")
        ax.set_xticks(range(grid.shape[1]), [_label(v) for v in grid.columns], fontsize=8)
        ax.set_yticks(range(grid.shape[0]), [_label(v) for v in grid.index], fontsize=8)
        ax.set_xlabel(b)
        ax.set_ylabel(a)
        ax.set_title(name, fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.85)
    fig.suptitle(f"{metric}: mean over replicates of the final-window value "
                 f"(differences: paired on the same seeds)", fontsize=10)
    return _save(fig, path)


def _plot_series(series: pd.DataFrame, plan: pd.DataFrame, spec: SweepSpec, window: int,
                 path: Path) -> Path:
    """Monthly series, one line per (point, regime): mean over replicates."""
    metrics = list(spec.metrics)[:MAX_PANELS]
    fig, axes = _figure(len(metrics), width=4.2, height=3.0)
    keyed = series.merge(plan[["run_id", "point", "regime"]].drop_duplicates("run_id"),
                         on=["run_id", "regime"])
    points = sorted(plan["point"].unique())
    styles = ["-", "--", ":", "-."]
    first, last = window_bounds(spec.steps, window)
    for k, metric in enumerate(metrics):
        ax = axes.flat[k]
        for pi, point in enumerate(points):
            labels = plan.loc[plan["point"] == point, list(spec.axis_names)].iloc[0]
            point_label = ", ".join(f"{a}={_label(labels[a])}" for a in spec.axis_names)
            for ri, regime in enumerate(spec.regimes):
                sub = keyed.loc[(keyed["point"] == point) & (keyed["regime"] == regime)]
                if sub.empty:
                    continue
                mean = sub.groupby("step")[metric].mean()
                label = f"{regime}" + (f" | {point_label}" if point_label else "")
                ax.plot(mean.index, mean.to_numpy(float), color=f"C{pi}",
                        ls=styles[ri % len(styles)], lw=1.2, label=label)
        ax.axvspan(first, last, color="0.85", alpha=0.5, lw=0, zorder=0)
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("month")
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8,
                   frameon=False)
    fig.suptitle(f"monthly means over replicates (colour: design point, line style: regime); "
                 f"grey: measurement window (months {first}-{last})", fontsize=10)
    return _save(fig, path)


# ---------------------------------------------------------------------------- sensitivity
def _analysis_seed(spec: SweepSpec) -> int:
    seq = np.random.SeedSequence([spec.root_seed, ANALYSIS_STREAM])
    return int(seq.generate_state(1)[0])


def _outputs(frame: pd.DataFrame, paired: pd.DataFrame, spec: SweepSpec,
             n_points: int) -> dict[str, pd.DataFrame]:
    """Per output (each regime, each paired difference): per-point means over replicates."""
    outputs: dict[str, pd.DataFrame] = {}
    groups = [(r, frame.loc[frame["regime"] == r]) for r in spec.regimes]
    if not paired.empty:
        groups += [(str(n), g) for n, g in paired.groupby("regime", sort=False)]
    for name, sub in groups:
        means = sub.groupby("point")[list(spec.metrics)].mean()
        outputs[name] = means.reindex(range(n_points))
    return outputs


def _sensitivity(frame: pd.DataFrame, paired: pd.DataFrame, spec: SweepSpec,
                 design: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Sobol or Morris indices per output and metric; notes on what was skipped."""
    from village_sim.sweep.design import salib_problem

    problem = salib_problem(spec)
    seed = _analysis_seed(spec)
    n_points = len(design)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    x = design[[f"x__{n}" for n in spec.axis_names]].to_numpy(dtype=float)
    for output, means in _outputs(frame, paired, spec, n_points).items():
        for metric in spec.metrics:
            y = means[metric].to_numpy(dtype=float)
            if not np.isfinite(y).all():
                notes.append(f"{output}, {metric}: undefined at {int((~np.isfinite(y)).sum())} "
                             "of the points (failed runs or a metric undefined in the window); "
                             "no indices")
                continue
            if float(np.ptp(y)) == 0.0:
                notes.append(f"{output}, {metric}: the same value at every point; no indices")
                continue
            if spec.design == "sobol":
                from SALib.analyze import sobol

                si = sobol.analyze(problem, y, calc_second_order=spec.second_order,
                                   print_to_console=False, seed=seed)
                for j, name in enumerate(spec.axis_names):
                    rows.append({"output": output, "metric": metric, "parameter": name,
                                 "S1": si["S1"][j], "S1_conf": si["S1_conf"][j],
                                 "ST": si["ST"][j], "ST_conf": si["ST_conf"][j]})
            else:
                from SALib.analyze import morris

                si = morris.analyze(problem, x, y, num_levels=spec.levels,
                                    print_to_console=False, seed=seed)
                for j, name in enumerate(spec.axis_names):
                    rows.append({"output": output, "metric": metric, "parameter": name,
                                 "mu": si["mu"][j], "mu_star": si["mu_star"][j],
                                 "mu_star_conf": si["mu_star_conf"][j],
                                 "sigma": si["sigma"][j]})
    return pd.DataFrame(rows), notes


def _plot_sensitivity(table: pd.DataFrame, spec: SweepSpec, path: Path) -> Path:
    outputs = list(dict.fromkeys(table["output"]))
    metrics = [m for m in spec.metrics if m in set(table["metric"])][:6]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.6 * len(metrics), 2.8 * len(outputs) + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(outputs), len(metrics), squeeze=False)
    names = list(spec.axis_names)
    pos = np.arange(len(names))
    for i, output in enumerate(outputs):
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            sub = table.loc[(table["output"] == output) & (table["metric"] == metric)]
            sub = sub.set_index("parameter").reindex(names)
            if spec.design == "sobol":
                ax.bar(pos - 0.2, sub["S1"], 0.4, yerr=sub["S1_conf"], label="S1", capsize=2)
                ax.bar(pos + 0.2, sub["ST"], 0.4, yerr=sub["ST_conf"], label="ST", capsize=2)
            else:
                ax.bar(pos, sub["mu_star"], 0.6, yerr=sub["mu_star_conf"], label="mu*",
                       capsize=2)
            ax.set_xticks(pos, names, rotation=30, ha="right", fontsize=7)
            ax.set_title(f"{metric}\n{output}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3, axis="y")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    kind = "Sobol indices (S1 first order, ST total), 95% bootstrap intervals" \
        if spec.design == "sobol" else "Morris mu* (mean absolute elementary effect), 95% " \
        "bootstrap intervals"
    fig.suptitle(kind, fontsize=10)
    return _save(fig, path)


# ---------------------------------------------------------------------------- the report
def sweep_counts(root: str | Path) -> dict[str, Any]:
    """How far a sweep got: planned, ok, failed and missing runs, and its ``COMPLETE`` marker.

    Raises:
        SweepDirError: if ``root`` holds no sweep.
    """
    from village_sim.sweep.design import count_runs, design_points

    store, spec = SweepStore.existing(root)
    planned = count_runs(spec, design_points(spec))[1]  # counted, not listed
    statuses = store.statuses()  # a stored record belongs to this spec (its hash matched)
    ok = sum(1 for v in statuses.values() if v == "ok")
    failed = len(statuses) - ok
    return {"planned": planned, "ok": ok, "failed": failed,
            "missing": planned - len(statuses), "marker": store.completion()}


def build_report(root: str | Path, window: int = WINDOW, out: str | Path | None = None,
                 partial: bool = False) -> ReportFiles:
    """Analyse a sweep directory and write ``report.md``, ``report.html`` and ``report/``.

    Args:
        root: The sweep directory (``--out`` of ``village-sim sweep``).
        window: Measurement window in months (each run's value is its mean over its final
            ``window`` months).
        out: The folder to write into (default: ``root``).
        partial: Average the overview over every design point with results; by default only
            over complete design points (every regime and replicate stored ok), so that an
            unfinished sweep does not mix an unbalanced subset into it.

    Returns:
        The files written.

    Raises:
        SweepDirError: if ``root`` holds no sweep.
    """
    store, spec = SweepStore.existing(root)
    dest = store.root if out is None else Path(out)
    fig_dir = dest / REPORT_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(documents=[], figure_dir=fig_dir)

    runs = run_table(store.root, write=False)  # the report writes only its own files
    series = load_timeseries(store.root)
    try:
        plan = store.plan()
        design = store.design()
    except FileNotFoundError:
        from village_sim.sweep.design import design_points, plan_runs

        points = design_points(spec)
        plan, design = plan_runs(spec, points), points.frame()
    values = run_values(series, spec.metrics, spec.steps, window)
    frame = frame_of_points(plan, values)
    paired = paired_differences(frame, spec)
    summary, diffs = _summaries(frame, spec)
    stored = frame["run_id"].isin(values.index).groupby(frame["point"]).all()
    complete_points = stored.index[stored.to_numpy()]
    overview_frame = frame if partial else frame.loc[frame["point"].isin(complete_points)]
    overview, overview_diffs = _overview(overview_frame, spec)
    files.tables += [write_csv(summary, fig_dir / "summary.csv"),
                     write_csv(diffs, fig_dir / "differences.csv"),
                     write_csv(overview, fig_dir / "overview.csv"),
                     write_csv(overview_diffs, fig_dir / "overview_differences.csv")]

    first, last = window_bounds(spec.steps, window)
    statuses = runs["status"].value_counts().to_dict() if not runs.empty else {}
    n_planned = int(plan["run_id"].nunique())
    n_ok, n_failed = int(statuses.get("ok", 0)), int(statuses.get("failed", 0))
    n_points = len(design)

    doc = _Doc()
    doc.h(1, f"Sweep report: {spec.name}")
    if spec.description:
        doc.p(spec.description.strip())
    doc.h(2, "Sweep")
    doc.table(pd.DataFrame([
        ("spec hash", spec.spec_hash),
        ("report by", f"village-sim {package_version()}"),
        ("design", f"{spec.design}" + (f", {spec.samples} samples" if spec.samples else "")),
        ("swept parameters", ", ".join(_axis_text(a) for a in spec.axes) or "none"),
        ("base parameters", ", ".join(f"{k}={_label(v)}" for k, v in spec.base.items())
         or "defaults"),
        ("model", "county: regimes are deployment rules (docs/sweeps.md)"
         if spec.model == "county" else "village"),
        ("regimes", ", ".join(spec.regimes) + f" (baseline of the differences: "
                                              f"{spec.baseline})"),
        ("design points", str(n_points)),
        ("replicates", f"{spec.replicates} (root seed {spec.root_seed}; the same seeds for "
                       "every point and regime)"),
        ("months per run", str(spec.steps)),
        ("measurement window", f"final {window} months (months {first}-{last})"),
        ("runs", f"{n_planned} planned: {n_ok} ok, {n_failed} failed, "
                 f"{n_planned - n_ok - n_failed} missing"),
    ], columns=["", "value"]))
    doc.p("A run's value of a metric is its mean over the measurement window, ignoring months "
          "where the metric is undefined. Cells: mean over replicates [95% CI, t "
          "distribution over replicates]. Differences are paired: each regime minus "
          f"{spec.baseline} on the same replicate seed "
          f"({'same county' if spec.model == 'county' else 'same village'}, same shocks); * "
          "marks a CI that excludes 0.")

    unseen = unseen_rules_note(spec)
    if unseen:
        doc.p(f"Note: {unseen}")

    if n_failed:
        failed = runs.loc[runs["status"] != "ok", ["run_id", "regime", "replicate", "error"]]
        failed = failed.assign(error=failed["error"].map(
            lambda e: (str(e).strip().splitlines() or [""])[-1]))
        doc.h(2, "Failed runs")
        doc.p(f"{n_failed} runs failed; tracebacks in `run_table.parquet` (and in "
              "`records/<run_id>.json` until compacted). They are left out of every statistic "
              "below.")
        doc.table(failed.head(20))

    doc.h(2, "Overview (averaged over design points)")
    doc.p("Per replicate, the average over design points; then mean and 95% CI over "
          "replicates.")
    if len(complete_points) < n_points:
        doc.p(f"Only {len(complete_points)} of {n_points} design points have every regime "
              "and replicate stored ok. " + (
                  "With --partial the overview averages over every point with results, an "
                  "unbalanced subset." if partial else
                  "The overview averages over those complete points only (--partial: over "
                  "every point with results)."))
    doc.table(_wide(overview, overview_diffs, spec, None))

    if n_points > 1:
        doc.h(2, "By design point")
        if n_points <= MAX_POINT_TABLE:
            for metric in spec.metrics:
                doc.h(3, metric)
                doc.table(_wide(summary.loc[summary["metric"] == metric],
                                diffs.loc[diffs["metric"] == metric], spec, metric))
        else:
            doc.p(f"{n_points} design points: the per-point tables are in "
                  f"`{REPORT_DIR}/summary.csv` and `{REPORT_DIR}/differences.csv`.")

    doc.h(2, "Figures")
    for axis in spec.axis_names:
        path = _plot_against(frame, spec, axis, spec.regimes,
                             f"metrics against {axis} (mean over replicates with 95% band; "
                             "averaged over the other swept parameters)",
                             fig_dir / f"metrics_vs_{axis}.png")
        files.figures.append(path)
        doc.img(f"{REPORT_DIR}/{path.name}", f"Metrics against {axis}, by regime.")
        if not paired.empty:
            groups = list(dict.fromkeys(paired["regime"]))
            path = _plot_against(paired, spec, axis, groups,
                                 f"paired differences against {axis} (mean over replicates "
                                 "with 95% band)", fig_dir / f"differences_vs_{axis}.png",
                                 zero_line=True)
            files.figures.append(path)
            doc.img(f"{REPORT_DIR}/{path.name}",
                    f"Paired differences (regime minus {spec.baseline}) against {axis}.")
    if spec.design == "grid" and len(spec.axes) == 2:
        for metric in list(spec.metrics)[:MAX_PANELS]:
            path = _heatmaps(frame, paired, spec, metric, fig_dir / f"heatmap_{metric}.png")
            files.figures.append(path)
            doc.img(f"{REPORT_DIR}/{path.name}", f"{metric} over the two swept parameters.")
    if n_points <= MAX_SERIES_POINTS:
        path = _plot_series(series, plan, spec, window, fig_dir / "timeseries.png")
        files.figures.append(path)
        doc.img(f"{REPORT_DIR}/{path.name}", "Monthly series, mean over replicates.")

    if spec.design in ("sobol", "morris"):
        title = "Sensitivity: Sobol indices" if spec.design == "sobol" else \
            "Sensitivity: Morris elementary effects"
        doc.h(2, title)
        table, notes = _sensitivity(frame, paired, spec, design)
        if spec.design == "sobol":
            doc.p("SALib `sobol.analyze` on each output's per-point mean over replicates: S1 "
                  "is the share of the output's variance due to the parameter alone, ST "
                  "including its interactions; ± the 95% bootstrap half-width.")
        else:
            doc.p("SALib `morris.analyze` on each output's per-point mean over replicates: "
                  "mu* is the mean absolute elementary effect (the parameter's importance), "
                  "sigma the spread of its effects (non-linearity or interactions).")
        for note in notes:
            doc.p(f"Note: {note}.")
        if not table.empty:
            files.tables.append(write_csv(table, fig_dir / "sensitivity.csv"))
            doc.table(_format_numbers(table))
            path = _plot_sensitivity(table, spec, fig_dir / "sensitivity.png")
            files.figures.append(path)
            doc.img(f"{REPORT_DIR}/{path.name}", title)

    tables = {p.name: pd.read_csv(p, nrows=0) for p in files.tables}
    files.tables.append(write_columns(fig_dir, tables, f"final {window} months of each run "
                                      f"(months {first}-{last})",
                                      entries(SENSITIVITY_COLUMNS, "docs/sweeps.md")))
    doc.h(2, "Files")
    doc.p(f"Tables: {', '.join(f'`{REPORT_DIR}/{p.name}`' for p in files.tables)} (the last "
          "one says what every column of the others means, with units); runs: "
          "`run_table.parquet` (one row per run), `runs/` and `parts/runs/` (time series, "
          "one file per run until compacted into part sets: read them with "
          "`village_sim.sweep.load_timeseries`), `plan.parquet`, `design.parquet`.")

    md = write_text(doc.markdown(), dest / "report.md")
    page = write_text(doc.html(f"Sweep report: {spec.name}"), dest / "report.html")
    files.documents = [md, page]
    return files


SENSITIVITY_COLUMNS = {
    "point": ("design point (row of design.parquet)", "index from 0"),
    "output": ("what the indices are of: a regime's level, or a paired difference 'B - A'",
               "name"),
    "parameter": ("the swept parameter", "name"),
    "S1": ("first-order Sobol index: share of the output's variance due to the parameter "
           "alone", "share of variance"),
    "S1_conf": ("95% bootstrap half-width of S1", "share of variance"),
    "ST": ("total Sobol index: share of variance involving the parameter, interactions "
           "included", "share of variance"),
    "ST_conf": ("95% bootstrap half-width of ST", "share of variance"),
    "mu": ("Morris mean elementary effect", "unit of the metric per unit range"),
    "mu_star": ("Morris mean absolute elementary effect (importance)",
                "unit of the metric per unit range"),
    "mu_star_conf": ("95% bootstrap half-width of mu*", "unit of the metric per unit range"),
    "sigma": ("Morris spread of the elementary effects (non-linearity, interactions)",
              "unit of the metric per unit range"),
}
"""Data-dictionary entries of the report's own columns (the rest: village_sim.dictionary)."""


def unseen_rules_note(spec: SweepSpec) -> str | None:
    """What to say of a county sweep's informed rules that never choose with information.

    In year 1 the county has seen nothing, and ``poorest_first``, ``most_complaints_first`` and
    ``cash_equivalent`` choose in the ``random`` rule's order; they choose by what the county
    has seen from the first deployment after year 1 (when the shortest term ends:
    :func:`village_sim.county.deployment.first_informed_month`). A sweep whose runs end before
    that month measures a random deployment under their names: None where that is not so.
    """
    if spec.model != "county":
        return None
    from village_sim.county.deployment import first_informed_month, unseen_rules, year_one_note
    from village_sim.county.teams import TeamSpec, parse_teams

    swept = "teams" in spec.axis_names  # numbers of default teams
    try:
        teams = [TeamSpec()] if swept else parse_teams(spec.base.get("teams", 0))
    except ValueError:  # not a count or tables (the spec was checked when it was loaded)
        return None
    terms = [t.term_years for t in teams]
    informed = unseen_rules(spec.regimes, terms, spec.steps)
    if not informed:
        return None
    return (f"{year_one_note(informed)} Their first choice by what the county has seen would "
            f"come in month {first_informed_month(terms)}, when the shortest term ends; these "
            f"runs end at month {spec.steps}: they measure a random deployment under those "
            "names.")


def _axis_text(axis: Any) -> str:
    if axis.values is not None:
        return f"{axis.name} in {{{', '.join(_label(v) for v in axis.values)}}}"
    return f"{axis.name} in [{_label(axis.low)}, {_label(axis.high)}]"


def _format_numbers(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "nan" if not math.isfinite(v) else f"{v:.3f}")
    return out


def _wide(summary: pd.DataFrame, diffs: pd.DataFrame, spec: SweepSpec,
          metric: str | None) -> pd.DataFrame:
    """One row per metric (overview) or per design point (one metric), regimes as columns."""
    index = ["metric"] if metric is None else ["point", *spec.axis_names]
    rows = []
    keys = list(dict.fromkeys(summary[index[0]]))
    for key in keys:
        s = summary.loc[summary[index[0]] == key].set_index("regime")
        d = diffs.loc[diffs[index[0]] == key].set_index("regime") if not diffs.empty else \
            pd.DataFrame()
        digits = _digits([float(s.at[r, "mean"]) for r in spec.regimes if r in s.index])
        row: dict[str, Any] = {c: (_label(s[c].iloc[0]) if c != "metric" else key)
                               for c in index}
        for r in spec.regimes:
            row[r] = _table_cell(s, r, digits) if r in s.index else ""
        for r in spec.regimes[1:]:
            if r in d.index:
                row[f"{r} - {spec.baseline}"] = _table_cell(d, r, digits, signed=True)
        ns = sorted({int(v) for v in s["n"]})
        row["n"] = "/".join(map(str, ns))
        rows.append(row)
    frame = pd.DataFrame(rows)
    if metric is not None and "point" in frame:
        frame = frame.drop(columns=["point"])
    return frame
