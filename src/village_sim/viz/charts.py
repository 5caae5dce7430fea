"""Charts of the key metrics over time, one small PNG per chart, one line per regime.

Each chart keeps its matplotlib figure between months. Axes, ticks and grid are the cached
background (the title is the page's heading above the picture and the runs' colours the
page's key above the charts, so neither is drawn twice); they are redrawn only when an axis
range grows (the time axis grows a year at a time). The lines and the "now" marker are drawn
each month (:class:`~village_sim.viz.figure.BlitFigure`). Undefined values (NaN, e.g.
targeting metrics before the first identification in month 1, the survey's approval before
month 12) leave gaps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from village_sim.i18n import Catalog
from village_sim.viz.figure import CSS_DPI, BlitFigure, localize_ticks

__all__ = ["ANY_METRIC", "CHARTS", "CHART_NOTE_KEYS", "CHART_TITLE_KEYS", "KEY_CHARTS",
           "REGIME_COLORS", "ChartSpec", "MetricChart", "Series", "StoryChart", "any_metric_spec",
           "chart_note", "chart_title", "spec_note", "spec_title"]

REGIME_COLORS = ("#0072B2", "#E69F00")
"""Line colour of the first (left) and second (right) regime."""

MARK_COLOR = "#555555"
"""Colour of an event mark on the charts when the event happens in every run."""


@dataclass(frozen=True)
class ChartSpec:
    """One chart: the metrics it draws and how.

    Attributes:
        key: Identifier (used in the page, e.g. ``chart-kin_premium``).
        title: Title shown above the chart.
        metrics: Metric names of :data:`village_sim.model.METRIC_NAMES`; the first is drawn
            as a line, a second (if any) as dots in the months of the yearly survey
            (12, 24, ...), since it holds its value between surveys.
        ylim: The smallest y range shown (widened if the data leave it).
    """

    key: str
    title: str
    metrics: tuple[str, ...]
    ylim: tuple[float, float] = (0.0, 1.0)


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("kin_premium", "Kin premium (registration)", ("kin_premium",),
              ylim=(-0.1, 0.5)),
    ChartSpec("diverted_share", "Diverted share (12 months)", ("diverted_share",),
              ylim=(0.0, 0.3)),
    ChartSpec("exclusion_error", "Exclusion error (1 − coverage)", ("exclusion_error",)),
    ChartSpec("mistargeting", "Mistargeting", ("mistargeting",), ylim=(0.0, 0.5)),
    ChartSpec("poverty_headcount", "Poverty headcount (pre-transfer)",
              ("poverty_headcount",), ylim=(0.0, 0.5)),
    ChartSpec("approval", "Trust (line), approval (dots: survey)", ("mean_trust", "approval")),
)
"""The charts of the app, in page order (``title``: the English title)."""

KEY_CHARTS = ("kin_premium", "diverted_share", "exclusion_error")
"""The charts projector mode shows beside the networks: favouritism, diversion, exclusion."""

CHART_TITLE_KEYS: dict[str, str] = {
    "kin_premium": "app.chart_kin_premium",
    "diverted_share": "app.chart_diverted_share",
    "exclusion_error": "app.chart_exclusion_error",
    "mistargeting": "app.chart_mistargeting",
    "poverty_headcount": "app.chart_poverty_headcount",
    "approval": "app.chart_approval",
}
"""Message key of each chart's title (``village_sim.i18n``)."""

CHART_NOTE_KEYS: dict[str, str] = {
    "kin_premium": "app.note_kin_premium",
    "diverted_share": "app.note_diverted_share",
    "exclusion_error": "app.note_exclusion_error",
    "mistargeting": "app.note_mistargeting",
    "poverty_headcount": "app.note_poverty_headcount",
    "approval": "app.note_approval",
}
"""Message key of the one-line note under each chart."""


ANY_METRIC = "any_metric"
"""Key of the chart whose metric the user picks (any of ``METRIC_NAMES``)."""


def any_metric_spec(metric: str) -> ChartSpec:
    """The chart of one metric the user picked (titled with the metric's name)."""
    return ChartSpec(ANY_METRIC, metric, (metric,))


def spec_title(spec: ChartSpec, lang: str = "en") -> str:
    """The title of a chart in ``lang``: the picked metric's name for the any-metric chart."""
    if spec.key == ANY_METRIC:
        return Catalog(lang).metric(spec.metrics[0])
    return chart_title(spec.key, lang)


def spec_note(spec: ChartSpec, lang: str = "en") -> str:
    """The note under a chart in ``lang`` (the any-metric chart: the metric's explanation)."""
    if spec.key == ANY_METRIC:
        return Catalog(lang).metric_help(spec.metrics[0])
    return chart_note(spec.key, lang)


def chart_title(key: str, lang: str = "en") -> str:
    """The title of chart ``key`` in ``lang`` (as drawn in its PNG and shown above it)."""
    return Catalog(lang)(CHART_TITLE_KEYS[key])


def chart_note(key: str, lang: str = "en") -> str:
    """The note under chart ``key`` in ``lang``."""
    return Catalog(lang)(CHART_NOTE_KEYS[key])


@dataclass(frozen=True)
class Series:
    """One regime's values of the metrics of a chart.

    Attributes:
        label: Legend text (the regime).
        values: Metric name -> values by month (month 0 first).
    """

    label: str
    values: dict[str, Sequence[float]]


def _nice_limit(value: float, up: bool) -> float:
    """Round a limit outward to a tenth of a power of ten."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    step = 10.0 ** math.floor(math.log10(abs(value))) / 2.0
    return (math.ceil if up else math.floor)(value / step) * step


def style_axes(ax: Any, lang: str, text_pt: float = 8.0) -> None:
    """The app's chart style on ``ax``.

    Ticks (labelled at ``text_pt`` points) in the reader's number convention, a light grid
    behind the data, no top or right frame.
    """
    ax.tick_params(labelsize=text_pt, length=3, pad=2)
    localize_ticks(ax, lang)
    ax.grid(True, color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


class MetricChart:
    """One chart of :data:`CHARTS`, redrawn each month as PNG bytes.

    Args:
        spec: What the chart shows.
        labels: Legend texts of the runs drawn, in order (one or two): a regime's short name,
            or "Scenario: …" / "Control: …".
        width_px: Width of the image in pixels.
        height_px: Height of the image in pixels.
        lang: Language of the title, axis label and legend (``zh``, ``vi`` or ``en``).
        scale: Image pixels per CSS pixel (the display's pixel ratio).
        text_pt: None for the app's usual chart (100 dpi, 7-8 point text). A size in points
            for projector mode: drawn at :data:`~village_sim.viz.figure.CSS_DPI` with every
            text at this size (10.5 points: 14 CSS pixels), margins fitted to it, and no axis
            label (the months are the page's heading's).
    """

    def __init__(self, spec: ChartSpec, labels: Sequence[str], width_px: int = 420,
                 height_px: int = 250, lang: str = "en", scale: float = 1.0,
                 text_pt: float | None = None):
        _ = Catalog(lang)
        self.lang = _.lang
        self.title = spec_title(spec, self.lang)
        self.spec = spec
        self.labels = tuple(labels)
        self.fig = BlitFigure(width_px, height_px, dpi=100 if text_pt is None else CSS_DPI,
                              scale=scale)
        fig = self.fig.figure
        # the title is the page's heading above the picture, and the runs' colours are the
        # page's key above the charts: neither is drawn again inside the picture
        if text_pt is None:
            ax = self.ax = fig.add_axes((0.12, 0.15, 0.85, 0.80))
            ax.set_xlabel(_("chart.month"), fontsize=8, labelpad=1)
        else:  # margins in pixels of text: four digits left, a line of ticks below
            px = text_pt * CSS_DPI / 72.0
            left, bottom, right, top = 2.6 * px + 8, 1.2 * px + 8, 10, 0.5 * px + 4
            ax = self.ax = fig.add_axes((left / width_px, bottom / height_px,
                                         1 - (left + right) / width_px,
                                         1 - (bottom + top) / height_px))
        self._mark_pt = 7.0 if text_pt is None else text_pt
        style_axes(ax, self.lang, 8.0 if text_pt is None else text_pt)
        self._lines = []
        for r, label in enumerate(self.labels):
            color = REGIME_COLORS[r % len(REGIME_COLORS)]
            for m, metric in enumerate(spec.metrics):
                if m == 0:
                    (line,) = ax.plot([], [], color=color, linewidth=1.8, label=label)
                else:
                    (line,) = ax.plot([], [], color=color, linestyle="", marker="o",
                                      markersize=5, markeredgecolor="white")
                self._lines.append((r, metric, line))
        self.now = ax.axvline(0.0, color="#555555", linewidth=0.8, linestyle=":")
        self.fig.animate([line for _, _, line in self._lines] + [self.now])
        self._marks: tuple[Any, ...] = ()  # the marks drawn, and the axis end they fit
        self._mark_artists: list[Any] = []
        self._xmax = -1.0
        self._ylim = spec.ylim
        self._set_limits(12.0, spec.ylim)

    def _set_limits(self, xmax: float, ylim: tuple[float, float]) -> None:
        self.ax.set_xlim(0.0, xmax)
        self.ax.set_ylim(*ylim)
        self.ax.set_xticks(np.arange(0.0, xmax + 1.0, 12.0 if xmax <= 72 else 24.0))
        self._xmax, self._ylim = xmax, ylim
        self.fig.invalidate()

    def _draw_marks(self, marks: Sequence[tuple[int, str, int | None]]) -> None:
        """Mark the events within the axis.

        A dashed line at each event's month and its number in a circle on top, grey if it
        happens in every run, else in the colour of its run.
        """
        for artist in self._mark_artists:
            artist.remove()
        self._mark_artists = []
        ax = self.ax
        for month, number, run in marks:
            if month > self._xmax:
                continue  # due later: marked once the axis reaches it
            color = MARK_COLOR if run is None else REGIME_COLORS[run % len(REGIME_COLORS)]
            self._mark_artists.append(ax.axvline(month, color=color, linewidth=0.9,
                                                 linestyle=(0, (3, 2)), zorder=1))
            self._mark_artists.append(ax.text(
                month, 0.93, number, transform=ax.get_xaxis_transform(), ha="center",
                va="center", fontsize=self._mark_pt, color="white", fontweight="bold", zorder=5,
                clip_on=False,
                bbox={"boxstyle": "circle,pad=0.25", "facecolor": color, "edgecolor": "none"}))
        self._marks = (*marks, self._xmax)
        self.fig.invalidate()

    def render(self, series: Sequence[Series], month: int,
               marks: Sequence[tuple[int, str, int | None]] = ()) -> bytes:
        """Draw the chart up to ``month`` and return PNG bytes.

        Args:
            series: One :class:`Series` per regime, in the order given at construction.
            month: The current month (the "now" marker).
            marks: Events to mark: (month, number, run index or None if in every run), as
                ``Controller.event_marks`` gives them.
        """
        lo, hi = self.spec.ylim
        for r, metric, line in self._lines:
            if r >= len(series):
                line.set_data([], [])
                continue
            values = np.asarray(series[r].values[metric], dtype=np.float64)
            x = np.arange(values.size, dtype=np.float64)
            if metric != self.spec.metrics[0]:  # yearly survey: dots in survey months
                keep = np.isfinite(values) & (x % 12 == 0) & (x > 0)
                x, values = x[keep], values[keep]
            line.set_data(x, values)
            finite = values[np.isfinite(values)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        ylim = (_nice_limit(lo, up=False), _nice_limit(hi, up=True)) if (
            (lo, hi) != self.spec.ylim) else self.spec.ylim
        ylim = (min(ylim[0], self._ylim[0]), max(ylim[1], self._ylim[1]))
        xmax = 12.0 * max(1, math.ceil(month / 12.0))
        if xmax != self._xmax or ylim != self._ylim:
            self._set_limits(xmax, ylim)
        if (*marks, self._xmax) != self._marks:
            self._draw_marks(marks)
        self.now.set_xdata([month, month])
        return self.fig.render()


class StoryChart:
    """One household's income per person and aid, month by month, per run: redrawn each month.

    Built once per household (and language); axes, ticks, grid, titles, legend and the poverty
    line are the cached background, redrawn only when an axis range grows (a year at a time,
    or an income or aid above the axis). The income lines and the aid bars are drawn each
    month (:class:`~village_sim.viz.figure.BlitFigure`), so a household left open in the
    inspector costs a few milliseconds a month, not a full redraw.

    Args:
        household: The household (its id is in the title).
        labels: Legend texts of the runs, in order.
        poverty_line: The line (yuan per person per year).
        lang: Language of the titles and labels.
        scale: Image pixels per CSS pixel (the display's pixel ratio).
    """

    def __init__(self, household: int, labels: Sequence[str], poverty_line: float,
                 lang: str = "en", width_px: int = 560, height_px: int = 300,
                 scale: float = 1.0):
        from matplotlib.collections import PolyCollection

        _ = Catalog(lang)
        self.lang = _.lang
        self.household = int(household)
        self.labels = tuple(labels)
        self.fig = BlitFigure(width_px, height_px, scale=scale)
        fig = self.fig.figure
        top = self.top = fig.add_axes((0.11, 0.55, 0.86, 0.36))
        bottom = self.bottom = fig.add_axes((0.11, 0.13, 0.86, 0.3), sharex=top)
        self.lines = []
        self.bars = []
        for r, label in enumerate(self.labels):
            color = REGIME_COLORS[r % len(REGIME_COLORS)]
            (line,) = top.plot([], [], color=color, linewidth=1.8, label=label)
            self.lines.append(line)
            bars = PolyCollection([], facecolors=color, edgecolors="none", label=label)
            bottom.add_collection(bars)
            self.bars.append(bars)
        top.axhline(poverty_line, color="#D55E00", linestyle="--", linewidth=1.0,
                    label=_("app.poverty_line"))
        fig.text(0.02, 0.98, _("app.story_income_title", id=self.household), ha="left",
                 va="top", fontsize=9, fontweight="bold")
        fig.text(0.02, 0.5, _("app.story_aid_title"), ha="left", va="top", fontsize=9,
                 fontweight="bold")
        # one row while the labels fit the width; long ones (a scenario and its control in
        # Vietnamese) take two rows rather than run off the picture
        entries = [*self.labels, _("app.poverty_line")]
        top.legend(fontsize=7, frameon=False, loc="lower left",
                   ncol=len(entries) if sum(map(len, entries)) <= 60 else 2)
        bottom.set_xlabel(_("chart.month"), fontsize=8, labelpad=1)
        for ax in (top, bottom):
            style_axes(ax, self.lang)
        self.fig.animate([*self.lines, *self.bars])
        self._limits: tuple[float, float, float] = (-1.0, -1.0, -1.0)
        self._line = float(poverty_line)

    def render(self, incomes: Sequence[np.ndarray], aids: Sequence[np.ndarray],
               month: int) -> bytes:
        """Draw months 0..``month`` of each run's income and aid; return PNG bytes."""
        n = len(self.labels)
        width = 0.8 / n
        top_income, top_aid = self._line, 1.0
        for r in range(n):
            income = np.asarray(incomes[r], dtype=np.float64)
            aid = np.asarray(aids[r], dtype=np.float64)
            x = np.arange(income.size, dtype=np.float64)
            self.lines[r].set_data(x, income)
            left = np.arange(aid.size) + (r - (n - 1) / 2) * width - width / 2
            self.bars[r].set_verts([((a, 0.0), (a, h), (a + width, h), (a + width, 0.0))
                                    for a, h in zip(left, aid, strict=True) if h > 0])
            finite = income[np.isfinite(income)]
            if finite.size:
                top_income = max(top_income, float(finite.max()))
            if aid.size:
                top_aid = max(top_aid, float(aid.max()))
        limits = (max(12.0, float(month)) + 0.5, _nice_limit(top_income * 1.05, up=True),
                  _nice_limit(top_aid * 1.1, up=True))
        if limits[0] > self._limits[0] or limits[1] > self._limits[1] or \
                limits[2] > self._limits[2]:
            xmax = max(limits[0], 12.0 * math.ceil((month + 0.5) / 12.0) + 0.5)
            self._limits = (xmax, max(limits[1], self._limits[1]),
                            max(limits[2], self._limits[2]))
            self.top.set_xlim(-0.5, self._limits[0])
            self.top.set_ylim(0.0, self._limits[1])
            self.bottom.set_ylim(0.0, self._limits[2])
            self.fig.invalidate()
        return self.fig.render()
