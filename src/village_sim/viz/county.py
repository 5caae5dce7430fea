"""The app's county view: villages as a grid coloured by a metric, teams moving between them.

Issue 11, item 6. A live :class:`~village_sim.county.CountyModel` (small by default, so that it
steps smoothly): each village a cell of a grid, coloured by the metric chosen (read from the
villages' own metrics this month, :meth:`VillageStack.metrics`), with its colour key; each work
team a marker on the village it serves, where the model's deployment state puts it
(``CountyModel.deployment.village``); the moves of the year's deployment drawn as arrows (from
the model's deployment log: which team left which village, and where it went); the log's latest
entries, with the rule's reasons, in the reader's language. A click on a village opens that
village's kinship network (:class:`~village_sim.viz.controller.Run` on the county's own
``VillageModel``: the same picture as the village view, of the village as it stands in the
county). Nothing here draws a random number or decides where a team goes: positions, reasons
and values all come from the model.

Pure Python, no Solara, like :mod:`village_sim.viz.controller`: the page
(:mod:`village_sim.app`) only calls a :class:`CountyController` and shows what it returns.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch

from village_sim.county import DEPLOYMENT_RULES, CountyModel
from village_sim.i18n import Catalog
from village_sim.model import VillageModel
from village_sim.params import ParameterError
from village_sim.rng import normalize_rng
from village_sim.viz.controller import TABLE_METRICS, RateMeter, Run, SettingsError, Side
from village_sim.viz.figure import BlitFigure, display_scale, localize_ticks
from village_sim.viz.network import TEAM_COLOR

__all__ = [
    "COUNTY_LIMITS",
    "COUNTY_METRICS",
    "DEFAULT_COUNTY_METRIC",
    "MAX_COUNTY_HOUSEHOLDS",
    "RULE_KEYS",
    "CountyController",
    "CountyFrame",
    "CountyPicture",
    "CountySettings",
    "VillageFrame",
    "county_problem",
    "grid_shape",
    "parse_county_settings",
    "reason_text",
]

COUNTY_LIMITS: dict[str, tuple[int, int]] = {
    "villages": (1, 64),
    "households": (50, 400),
    "teams": (0, 64),
    "years": (1, 20),
}
"""What the county view allows for each of its whole-number settings (inclusive): a county
small enough to step live (the command line, ``village-sim county``, takes any size)."""

MAX_COUNTY_HOUSEHOLDS = 8000
"""Villages × households per village the live view steps at a few months a second at most."""

HOUSEHOLD_SPREAD = 0.2
"""Villages are drawn with ±20% of the households per village chosen (the county's size
distribution, ``distributions["n_households"]``), so that they differ as a county's do."""

COUNTY_SETTING_KEYS: dict[str, str] = {
    "villages": "app.county_villages",
    "households": "app.county_households",
    "teams": "app.county_teams",
    "rule": "app.county_rule",
    "years": "app.county_years",
    "seed": "app.seed",
}
"""Each setting of the county view -> its label's message."""

RULE_KEYS: dict[str, str] = {
    "none": "app.rule_none",
    "random": "app.rule_random",
    "poorest_first": "app.rule_poorest_first",
    "most_complaints_first": "app.rule_most_complaints_first",
    "rotate": "app.rule_rotate",
    "cash_equivalent": "app.rule_cash_equivalent",
}
"""Each built-in deployment rule (:data:`village_sim.county.DEPLOYMENT_RULES`) -> its label."""

COUNTY_METRICS: dict[str, tuple[float, float, str]] = {
    "poverty_headcount": (0.0, 0.8, "YlOrRd"),
    "poverty_headcount_post": (0.0, 0.8, "YlOrRd"),
    "poverty_gap": (0.0, 0.4, "YlOrRd"),
    "gini": (0.2, 0.5, "YlOrRd"),
    "kin_premium": (-0.4, 0.4, "PuOr_r"),
    "diverted_share": (0.0, 0.5, "YlOrRd"),
    "exclusion_error": (0.0, 1.0, "YlOrRd"),
    "inclusion_error_leakage": (0.0, 1.0, "YlOrRd"),
    "mistargeting": (0.0, 0.5, "YlOrRd"),
    "coverage": (0.0, 1.0, "YlGnBu"),
    "approval": (0.0, 1.0, "YlGnBu"),
    "mean_trust": (0.0, 1.0, "YlGnBu"),
}
"""The metrics a county can be coloured by (village metrics of ``METRIC_NAMES``): the range of
the colour key (fixed, so that a colour means the same value every month; values beyond it
take the end colours, marked by the key's arrows) and the colour map: yellow to red where more
is worse, purple to orange around 0 for the kin premium, yellow to blue where more is better
(single-hue or diverging maps that stay ordered under colour blindness)."""

DEFAULT_COUNTY_METRIC = "poverty_headcount"

UNDEFINED_COLOR = "#d9d9d9"
"""A village whose metric is undefined this month (no identification yet, an empty group)."""

CASH_COLOR = "#8a6d00"
MOVE_COLOR = "#1F5F8B"


# ---------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class CountySettings:
    """What the user typed or chose for a county: texts as typed, the rule by name.

    Attributes:
        villages: Villages in the county.
        households: Households per village (mean; each village within ±20%).
        teams: Work teams in the county's pool (3 members, 2-year terms each).
        rule: The deployment rule (:data:`village_sim.county.DEPLOYMENT_RULES`).
        years: Years the run lasts (Play stops there).
        seed: The county's seed (the same seed, the same villages and shocks).
    """

    villages: str = "30"
    households: str = "120"
    teams: str = "6"
    rule: str = "poorest_first"
    years: str = "6"
    seed: str = "1"

    def texts(self) -> dict[str, str]:
        """Setting name -> its text, in the order of the form."""
        return {name: str(getattr(self, name)) for name in COUNTY_SETTING_KEYS}


def parse_county_settings(settings: CountySettings) -> dict[str, Any]:
    """Validate county settings.

    Returns:
        ``{"villages", "households", "teams", "years", "seed"}`` as ints and ``"rule"``.

    Raises:
        SettingsError: listing every bad setting, each naming the setting, the value and what
            is allowed (:func:`county_problem` says it in the reader's language).
    """
    errors: list[ParameterError] = []
    out: dict[str, Any] = {}
    for name, (low, high) in COUNTY_LIMITS.items():
        text = str(getattr(settings, name)).strip()
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            errors.append(ParameterError(
                f"parameter {name!r}: got {text!r}; allowed: an integer in [{low}, {high}]",
                name, text, "county_range"))
        else:
            out[name] = value
    if settings.rule not in DEPLOYMENT_RULES:
        errors.append(ParameterError(
            f"parameter 'rule': got {settings.rule!r}; allowed: one of "
            f"{', '.join(DEPLOYMENT_RULES)}", "rule", settings.rule, "county_rule"))
    else:
        out["rule"] = settings.rule
    seed_text = str(settings.seed).strip()
    try:
        seed = normalize_rng(seed_text)
        if not isinstance(seed, int) or seed < 0:
            raise ValueError
        out["seed"] = seed
    except ValueError:
        errors.append(ParameterError(
            f"parameter 'seed': got {seed_text!r}; allowed: a whole number >= 0", "seed",
            seed_text, "seed"))
    if "villages" in out and "households" in out:
        total = out["villages"] * out["households"]
        if total > MAX_COUNTY_HOUSEHOLDS:
            errors.append(ParameterError(
                f"parameters 'villages' x 'households': got {out['villages']} x "
                f"{out['households']} = {total} households; allowed in the live app: at most "
                f"{MAX_COUNTY_HOUSEHOLDS} (use 'village-sim county' for more)",
                "households", out["households"], "county_total", other="villages",
                other_value=total))
    if errors:
        raise SettingsError(errors)
    return out


def county_problem(error: ParameterError, lang: str = "en") -> str:
    """A refused county setting in plain words, in ``lang``: its label, the value, what is allowed.

    Settings the village view shares (the seed) are said as the village view says them.
    """
    _ = Catalog(lang)
    label = _(COUNTY_SETTING_KEYS[error.name]) if error.name in COUNTY_SETTING_KEYS \
        else error.name
    if error.rule == "county_range":
        low, high = COUNTY_LIMITS[error.name]
        allowed = _("allowed.between", kind=_("allowed.integer"), low=low, high=high)
        text = _("problem.value", field=label, value=error.value, allowed=allowed)
    elif error.rule == "county_rule":
        text = _("problem.value", field=label, value=error.value, allowed=_(
            "allowed.choice", choices=", ".join(DEPLOYMENT_RULES)))
    elif error.rule == "county_metric":
        text = _("problem.value", field=_("app.county_metric"), value=error.value, allowed=_(
            "allowed.choice", choices=", ".join(COUNTY_METRICS)))
    elif error.rule == "county_view":
        text = _("problem.value", field="view", value=error.value,
                 allowed=_("allowed.choice", choices="village, county"))
    elif error.rule == "county_total":
        text = _("app.county_too_many", total=_.number(error.other_value, ",d"),
                 most=_.number(MAX_COUNTY_HOUSEHOLDS, ",d"))
    else:
        return _.problem(error)
    return text[:1].upper() + text[1:]


def county_hint(name: str, lang: str = "en") -> str:
    """What a county setting allows, in ``lang`` (shown under its box)."""
    _ = Catalog(lang)
    if name == "seed":
        return _("app.seed_help")
    low, high = COUNTY_LIMITS[name]
    return _("allowed.between", kind=_("allowed.integer"), low=low, high=high)


# ---------------------------------------------------------------------------- reasons
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"no estimate yet \(random order\)"), "app.county_why_no_estimate"),
    (re.compile(r"random order"), "app.county_why_random"),
    (re.compile(r"estimated poor share (?P<share>[0-9.]+) \((?P<source>survey|register)\)"),
     "app.county_why_poor"),
    (re.compile(r"(?P<n>[0-9]+) complaints, (?P<rate>[0-9.]+) per household"),
     "app.county_why_complaints"),
    (re.compile(r"never served"), "app.county_why_never"),
    (re.compile(r"last served in year (?P<year>-?[0-9]+)"), "app.county_why_last"),
    (re.compile(r"term ended"), "app.county_why_term"),
)
_SOURCE_KEYS = {"survey": "app.county_why_survey", "register": "app.county_why_register"}
_CASH_PREFIX = "cash instead of a team: "


def reason_text(reason: str, lang: str = "en") -> str:
    """The deployment log's reason (``CountyModel.deployment_log``, English) in ``lang``.

    The built-in rules' reasons (:func:`village_sim.county.deployment.priority`) and a term's
    end; anything else (a custom rule's) is shown as the model wrote it.
    """
    _ = Catalog(lang)
    if reason.startswith(_CASH_PREFIX):
        return _("app.county_why_cash", why=reason_text(reason[len(_CASH_PREFIX):], lang))
    for pattern, key in _REASONS:
        match = pattern.fullmatch(reason)
        if match is None:
            continue
        values = match.groupdict()
        if "share" in values:
            values["share"] = _.number(float(values["share"]), ".3f")
            values["source"] = _(_SOURCE_KEYS[values["source"]])
        if "rate" in values:
            values["rate"] = _.number(float(values["rate"]), ".4f")
        return _(key, **values)
    return reason


# ---------------------------------------------------------------------------- the picture
def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of the grid of ``n`` villages: as square as possible, wider than tall."""
    columns = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / columns), columns


_GAP = 0.06  # between cells, in cell widths


class CountyPicture:
    """The county's villages as a grid of cells coloured by a metric, its teams on top.

    Village ``v`` is the cell in row ``v // columns`` and column ``v % columns`` (village 0 at
    the top left), numbered as the model numbers it. Cells, values, teams, arrows and the title
    are redrawn each month; the grid's numbers, the colour key and the legend are the cached
    background (redrawn when the metric changes).

    Args:
        n_villages: Villages in the county.
        n_teams: Teams in its pool.
        metric: The metric of :data:`COUNTY_METRICS` the cells show.
        lang: Language of the texts.
        scale: Image pixels per CSS pixel (the display's pixel ratio).
        width_px: Width in CSS pixels.
        height_px: Height in CSS pixels.
    """

    def __init__(self, n_villages: int, n_teams: int, metric: str = DEFAULT_COUNTY_METRIC,
                 lang: str = "en", scale: float = 1.0, width_px: int = 720,
                 height_px: int = 640):
        if metric not in COUNTY_METRICS:
            raise ValueError(f"metric: got {metric!r}; allowed: one of "
                             f"{', '.join(COUNTY_METRICS)}")
        self._ = _ = Catalog(lang)
        self.lang = _.lang
        self.metric = metric
        self.n = n_villages
        self.rows, self.columns = grid_shape(n_villages)
        low, high, cmap_name = COUNTY_METRICS[metric]
        self.norm = Normalize(low, high, clip=True)
        self.cmap = colormaps[cmap_name]
        self.fig = BlitFigure(width_px, height_px, dpi=100, scale=scale)
        fig = self.fig.figure
        ax = self.ax = fig.add_axes((0.02, 0.11, 0.80, 0.80))
        ax.set_axis_off()
        ax.set_xlim(-_GAP, self.columns + _GAP)
        ax.set_ylim(-self.rows - _GAP, _GAP)
        ax.set_aspect("equal", adjustable="box")
        v = np.arange(n_villages)
        self.corner = np.column_stack([v % self.columns, -(v // self.columns) - 1.0])
        """(x, y) of each cell's lower left corner (data coordinates; a cell is 1 wide)."""
        self.centers = self.corner + 0.5
        side = 1.0 - 2 * _GAP
        squares = [np.array([[x, y], [x + side, y], [x + side, y + side], [x, y + side]])
                   + _GAP for x, y in self.corner]
        self.cells = PolyCollection(squares, facecolors=UNDEFINED_COLOR, edgecolors="#555555",
                                    linewidths=0.6, zorder=1)
        ax.add_collection(self.cells)
        small = 7.0 if n_villages > 36 else 8.0
        # the village's number, top left (redrawn with the cells, which would cover it)
        self.numbers = [ax.text(x + 2 * _GAP, y + 1 - 2 * _GAP, str(i), ha="left", va="top",
                                fontsize=small, zorder=2) for i, (x, y) in enumerate(self.corner)]
        self.values = [ax.text(cx, cy - 0.05, "", ha="center", va="center",
                               fontsize=small + 1, zorder=2) for cx, cy in self.centers]
        # teams: a triangle at the top right of their village's cell, numbered beneath
        self.team_xy = np.column_stack([self.corner[:, 0] + 0.78, self.corner[:, 1] + 0.74])
        self.teams = ax.scatter(np.zeros(0), np.zeros(0), s=110.0 if n_villages <= 36 else 70.0,
                                marker="^", color=TEAM_COLOR, edgecolors="#003a5c",
                                linewidths=0.9, zorder=4)
        self.cash = ax.scatter(np.zeros(0), np.zeros(0), s=90.0, marker="s", color="#f0c419",
                               edgecolors=CASH_COLOR, linewidths=0.9, zorder=4)
        self.team_labels = [ax.text(0, 0, "", ha="center", va="top", fontsize=small,
                                    color="#003a5c", fontweight="bold", zorder=5)
                            for _t in range(n_teams)]
        self.arrows = [FancyArrowPatch((0, 0), (0, 0), arrowstyle="-|>", mutation_scale=12,
                                       color=MOVE_COLOR, linewidth=1.2, linestyle="--",
                                       alpha=0.8, zorder=3, shrinkA=8, shrinkB=9,
                                       connectionstyle="arc3,rad=0.2")
                       for _t in range(n_teams)]
        for arrow in self.arrows:
            ax.add_patch(arrow)
            arrow.set_visible(False)
        self.title = fig.text(0.02, 0.985, "", ha="left", va="top", fontsize=12,
                              fontweight="bold")
        self.pool = fig.text(0.02, 0.94, "", ha="left", va="top", fontsize=9, color="#333333")
        self.fig.animate([self.cells, *self.numbers, *self.values, *self.arrows, self.teams,
                          self.cash, *self.team_labels, self.title, self.pool])
        # the colour key, in the page's language
        cax = fig.add_axes((0.86, 0.22, 0.03, 0.62))
        bar = fig.colorbar(ScalarMappable(self.norm, self.cmap), cax=cax, extend="both")
        bar.set_label(_.metric(metric), fontsize=9)
        cax.tick_params(labelsize=8)
        localize_ticks(cax, self.lang)
        handles = [
            Line2D([], [], marker="^", linestyle="", markersize=9, markerfacecolor=TEAM_COLOR,
                   markeredgecolor="#003a5c", label=_("app.county_legend_team")),
            Line2D([], [], color=MOVE_COLOR, linestyle="--", linewidth=1.4,
                   label=_("app.county_legend_moved")),
            Line2D([], [], marker="s", linestyle="", markersize=8, markerfacecolor="#f0c419",
                   markeredgecolor=CASH_COLOR, label=_("app.county_legend_cash")),
            Patch(facecolor=UNDEFINED_COLOR, edgecolor="#555555", label=_("app.undefined")),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.45, 0.005), handletextpad=0.5, columnspacing=1.4)

    def colors(self, values: np.ndarray) -> np.ndarray:
        """The RGBA colour of each village's cell for these metric values (NaN: undefined)."""
        values = np.asarray(values, dtype=float)
        out = np.asarray(self.cmap(self.norm(np.nan_to_num(values, nan=0.0))))
        out[np.isnan(values)] = np.asarray(_rgba(UNDEFINED_COLOR))
        return out

    def render(self, values: np.ndarray, team_village: np.ndarray, gives_cash: bool,
               moves: Sequence[tuple[int, int, int]], title: str, pool: str) -> bytes:
        """Draw one month and return PNG bytes.

        Args:
            values: The metric of each village (NaN: undefined).
            team_village: Where each team is (-1: in no village), as the model's deployment
                state says (under ``cash_equivalent``: the villages given its money).
            gives_cash: Whether the teams stand for money given instead (``cash_equivalent``).
            moves: (team, from village, to village) of the moves to draw as arrows.
            title: The title line.
            pool: The line under it (teams in no village).
        """
        values = np.asarray(values, dtype=float)
        colors = self.colors(values)
        self.cells.set_facecolor(colors)  # type: ignore[arg-type]
        light = _luminance(colors) > 0.45
        for text, number, value, bright in zip(self.values, self.numbers, values, light,
                                               strict=True):
            text.set_text("–" if np.isnan(value) else self._.number(float(value), ".2f"))
            text.set_color("#111111" if bright else "#ffffff")
            number.set_color("#333333" if bright else "#eeeeee")
        team_village = np.asarray(team_village, dtype=np.int64)
        placed = np.flatnonzero(team_village >= 0)
        xy = self.team_xy[team_village[placed]] if placed.size else np.zeros((0, 2))
        self.teams.set_offsets(np.zeros((0, 2)) if gives_cash else xy)
        self.cash.set_offsets(xy if gives_cash else np.zeros((0, 2)))
        for t, label in enumerate(self.team_labels):
            village = int(team_village[t]) if t < team_village.size else -1
            if village < 0:
                label.set_text("")
                continue
            x, y = self.team_xy[village]
            label.set_position((x, y - 0.11))
            label.set_text(str(t))
        for arrow in self.arrows:
            arrow.set_visible(False)
        for (_team, source, target), arrow in zip(moves, self.arrows, strict=False):
            arrow.set_positions(tuple(self.team_xy[source]), tuple(self.team_xy[target]))
            arrow.set_visible(True)
        self.title.set_text(title)
        self.pool.set_text(pool)
        return self.fig.render()

    def village_at(self, x_fraction: float, y_fraction: float) -> int | None:
        """The village under a click, given as fractions of the image's width and height.

        Args:
            x_fraction: 0 at the left edge of the image, 1 at the right.
            y_fraction: 0 at the top edge of the image, 1 at the bottom.
        """
        point = self.fig.data_at(self.ax, x_fraction, y_fraction)
        if point is None:
            return None
        column, row = math.floor(point[0]), math.floor(-point[1])
        if not (0 <= column < self.columns and 0 <= row < self.rows):
            return None
        village = row * self.columns + column
        return village if village < self.n else None

    def cell_fraction(self, village: int) -> tuple[float, float]:
        """Where village ``village``'s cell centre is, as fractions of the image (for clicks)."""
        width, height = self.fig.size()
        x, y = self.ax.transData.transform(self.centers[village])
        return float(x / width), float(1.0 - y / height)


def _rgba(color: str) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(color)


def _luminance(rgba: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgba)[:, :3]
    return rgb @ np.array([0.299, 0.587, 0.114])


# ---------------------------------------------------------------------------- a village
class CountyVillageRun(Run):
    """One village of the county, shown as the village view shows a village.

    Its kinship network and statuses are drawn from the county's own ``VillageModel`` as it
    stands (the county steps it, this never does).
    """

    def __init__(self, model: VillageModel, village: int, lang: str = "en",
                 scale: float = 1.0):
        self.village = village
        super().__init__(Side(model.p.regime, {}), 0, lang=lang, scale=scale, model=model)

    def label_in(self, lang: str) -> str:
        """``village 7``, in ``lang``."""
        return Catalog(lang)("app.county_village", n=self.village)

    def team_state(self) -> str:
        """Whether a team is in the village: ``"active"``, ``"left"`` or ``"absent"``.

        ``"active"`` while a county's team is in it, ``"left"`` after one has left,
        ``"absent"`` if none has come (the county may send one later, or never).
        """
        model = self.model
        if model.team_active:
            return "active"
        leaves = model.team_leaves
        if leaves is not None and model.team_arrives < leaves <= model.steps:
            return "left"
        return "absent"


@dataclass(frozen=True)
class VillageFrame:
    """The network of the village opened from the county, this month.

    Attributes:
        village: Its index in the county.
        png: Its kinship network (the village view's picture).
        counts: The line of counts under the picture's title.
        households: Its households (as many as the picture draws).
        header: Column titles of its table of current values.
        table: Rows (metric, value).
    """

    village: int
    png: bytes
    counts: str
    households: int
    header: list[str]
    table: list[list[str]]


@dataclass(frozen=True)
class CountyFrame:
    """What the county view shows after a month.

    Attributes:
        version: The controller's version it shows.
        month: Months simulated.
        png: The county's grid.
        values: The metric of each village shown (NaN: undefined).
        team_village: Where each team is (-1: in no village).
        log_header: Column titles of the deployment log's table.
        log_rows: Its latest entries, newest first.
        summary: The county's value of the metric and the villages holding a team.
        finished: Whether the run has reached its last month.
        text_px: The smallest text drawn, in CSS pixels.
    """

    version: int
    month: int
    png: bytes
    values: np.ndarray
    team_village: np.ndarray
    log_header: list[str]
    log_rows: list[list[str]]
    summary: str
    finished: bool
    text_px: float = 0.0
    css_width: int = 0
    moves: list[tuple[int, int, int]] = field(default_factory=list)


ARROW_MONTHS = 3
"""Months after a deployment during which its moves are drawn as arrows (then the markers
alone: a year of arrows would hide the villages' colours)."""

LOG_ROWS = 12
"""Entries of the deployment log the page shows (the latest)."""


class CountyController:
    """The county view's state for one browser session: the county, its picture, stepping.

    Every method that reads or changes the county holds :attr:`lock`, so a play loop in a
    thread and the page's events can call it concurrently.

    Args:
        settings: Initial settings (default: ``CountySettings()``).
        lang: Language of the picture and texts.
        metric: The metric the villages are coloured by (:data:`COUNTY_METRICS`).

    Raises:
        SettingsError: if the initial settings are bad.
        ValueError: for an unknown metric.
    """

    def __init__(self, settings: CountySettings | None = None, lang: str = "en",
                 metric: str = DEFAULT_COUNTY_METRIC):
        self.lang = Catalog(lang).lang
        self.scale = 1.0
        self.lock = threading.RLock()
        self.version = 0
        self.drawn_version = -1
        self.meter = RateMeter()
        self._check_metric(metric)
        self.metric = metric
        self.selected: int | None = None
        self._frame: tuple[tuple[Any, ...], CountyFrame] | None = None
        self._village: tuple[tuple[Any, ...], CountyVillageRun] | None = None
        self.apply(settings or CountySettings())

    # ------------------------------------------------------------------ settings
    def apply(self, settings: CountySettings) -> None:
        """Validate settings and start a new county with them (month 0).

        Raises:
            SettingsError: listing every bad setting; the running county is kept.
        """
        values = parse_county_settings(settings)
        households = values["households"]
        low = max(COUNTY_LIMITS["households"][0] // 2,
                  round(households * (1 - HOUSEHOLD_SPREAD)))
        high = round(households * (1 + HOUSEHOLD_SPREAD))
        model = CountyModel(rng=values["seed"], n_villages=values["villages"],
                            teams=values["teams"], deployment=values["rule"],
                            distributions={"n_households": (low, high)})
        with self.lock:
            self.model = model
            self.settings = settings
            self.values = values
            self.months = 12 * values["years"]
            self.selected = None
            self._village = None
            self.picture = self._picture()
            self._frame = None
            self.version += 1

    def reset(self) -> None:
        """Start over with the current settings (the same county, from month 0)."""
        self.apply(self.settings)

    def _picture(self) -> CountyPicture:
        return CountyPicture(self.model.n_villages, len(self.model.teams), self.metric,
                             lang=self.lang, scale=self.scale)

    @staticmethod
    def _check_metric(name: str) -> None:
        if name not in COUNTY_METRICS:
            raise ValueError(f"metric: got {name!r}; allowed: one of "
                             f"{', '.join(COUNTY_METRICS)}")

    def set_metric(self, name: str) -> None:
        """Colour the villages by metric ``name`` (:data:`COUNTY_METRICS`); the run goes on.

        Raises:
            ValueError: naming the metric and the allowed ones.
        """
        self._check_metric(name)
        with self.lock:
            if name == self.metric:
                return
            self.metric = name
            self.picture = self._picture()
            self._frame = None
            self.version += 1

    def set_lang(self, lang: str) -> None:
        """Show everything in ``lang`` from now on; the county and its history are kept."""
        code = Catalog(lang).lang
        with self.lock:
            if code == self.lang:
                return
            self.lang = code
            self._redraw()

    def set_scale(self, ratio: float) -> None:
        """Draw for a display of this pixel ratio (as :meth:`Controller.set_scale`)."""
        scale = display_scale(ratio)
        with self.lock:
            if scale == self.scale:
                return
            self.scale = scale
            self._redraw()

    def _redraw(self) -> None:
        self.picture = self._picture()
        self._village = None
        self._frame = None
        self.version += 1

    # ------------------------------------------------------------------ time
    @property
    def month(self) -> int:
        """Months simulated."""
        return int(self.model.month)

    @property
    def finished(self) -> bool:
        """Whether the run has reached its last month (``years`` × 12)."""
        return self.month >= self.months

    def step(self, months: int = 1) -> None:
        """Advance the county ``months`` months (never beyond its last month)."""
        with self.lock:
            for _ in range(months):
                if self.finished:
                    break
                self.model.step()
            self.version += 1

    # ------------------------------------------------------------------ reading the model
    def village_values(self) -> np.ndarray:
        """The metric shown, for each village this month (NaN: undefined)."""
        with self.lock:
            return np.array([float(v.metrics()[self.metric]) for v in self.model.villages])

    def team_village(self) -> np.ndarray:
        """Where each team is now, as the model's deployment state says (-1: in no village)."""
        return self.model.deployment.village.copy()

    def moves(self) -> list[tuple[int, int, int]]:
        """(team, from village, to village) of the teams the year's deployment moved.

        From the deployment log: a team that left a village and arrived in another in the
        same month, that month being the current county year's deployment and at most
        :data:`ARROW_MONTHS` months ago.
        """
        log = self.model.deployment_log()
        start = 12 * (self.model.year - 1) + 1
        if log.empty or self.month == 0 or self.month >= start + ARROW_MONTHS:
            return []
        year: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()}
            for r in log[log["month"] == start].to_dict("records")]
        left = {int(r["team"]): int(r["village"]) for r in year if r["event"] == "leaves"}
        return [(int(r["team"]), left[int(r["team"])], int(r["village"])) for r in year
                if r["event"] == "arrives" and int(r["team"]) in left
                and left[int(r["team"])] != int(r["village"])]

    def log_table(self) -> tuple[list[str], list[list[str]]]:
        """The deployment log's latest entries, newest first, in the page's language."""
        _ = Catalog(self.lang)
        header = [_("story.month"), _("app.county_col_event"), _("app.county_col_team"),
                  _("app.county_col_village"), _("app.county_col_why")]
        log = self.model.deployment_log()
        rows = []
        newest = log.sort_values(["month", "event", "team"], ascending=[False, True, True],
                                 kind="stable")
        for r in newest.head(LOG_ROWS).to_dict("records"):
            rows.append([str(int(r["month"])),
                         _("app.county_arrives" if r["event"] == "arrives"
                           else "app.county_leaves"),
                         str(int(r["team"])), str(int(r["village"])),
                         reason_text(str(r["reason"]), self.lang)])
        return header, rows

    def summary(self) -> str:
        """The county's value of the metric shown, and the villages holding a team.

        The county's value is over all its households (``CountyModel.county_frame``), where
        the county reports the metric; a village given a team's money counts as holding it.
        """
        _ = Catalog(self.lang)
        row = self.model.county_frame().iloc[-1]
        holding = int((self.model.deployment.village >= 0).sum())
        value = row.get(self.metric, math.nan)
        shown = _("app.undefined") if not math.isfinite(float(value)) \
            else _.number(float(value), ".3f")
        return _("app.county_now", metric=_.metric(self.metric), value=shown,
                 teams=holding, villages=self.model.n_villages)

    # ------------------------------------------------------------------ pictures
    def frame(self) -> CountyFrame:
        """The county's picture and tables this month (cached until something changes)."""
        with self.lock:
            key = (self.version, self.lang, self.metric)
            if self._frame is not None and self._frame[0] == key:
                return self._frame[1]
            _ = Catalog(self.lang)
            values = self.village_values()
            where = self.team_village()
            moves = self.moves()
            free = [str(t) for t in np.flatnonzero(where < 0)]
            pool = _("app.county_pool", teams=", ".join(free)) if free else ""
            title = _("app.county_title", month=self.month, year=self.model.year,
                      rule=_(RULE_KEYS[self.values["rule"]]))
            png = self.picture.render(values, where, self.model.deployment.gives_cash, moves,
                                      title, pool)
            header, rows = self.log_table()
            frame = CountyFrame(self.version, self.month, png, values, where, header, rows,
                                self.summary(), self.finished,
                                text_px=self.picture.fig.text_px(),
                                css_width=round(self.picture.fig.size()[0] / self.scale),
                                moves=moves)
            self._frame = (key, frame)
            self.drawn_version = self.version
            return frame

    def village_at(self, x_fraction: float, y_fraction: float) -> int | None:
        """The village under a click on the county's picture (fractions of its size)."""
        with self.lock:
            return self.picture.village_at(x_fraction, y_fraction)

    def open_village(self, village: int | None) -> None:
        """Show village ``village``'s network (None: back to the county).

        Raises:
            ValueError: for a village the county does not have.
        """
        with self.lock:
            if village is not None and not (
                    isinstance(village, int | np.integer)
                    and 0 <= int(village) < self.model.n_villages):
                raise ValueError(f"village: got {village!r}; allowed: 0 to "
                                 f"{self.model.n_villages - 1}")
            self.selected = None if village is None else int(village)
            self.version += 1

    def village_run(self) -> CountyVillageRun | None:
        """The opened village, as the village view draws it (None if none is open)."""
        with self.lock:
            if self.selected is None:
                return None
            key = (id(self.model), self.selected, self.lang, self.scale)
            if self._village is None or self._village[0] != key:
                run = CountyVillageRun(self.model.villages[self.selected], self.selected,
                                       lang=self.lang, scale=self.scale)
                self._village = (key, run)
            return self._village[1]

    def village_frame(self, view: str = "truth", size_by: str = "income") -> VillageFrame | None:
        """The opened village's network this month, and its current values (None: none open)."""
        with self.lock:
            run = self.village_run()
            if run is None:
                return None
            png, counts = run.render(view, size_by, None)
            _ = Catalog(self.lang)
            metrics = run.model.metrics()
            rows = [[_.metric(name), _value(name, float(metrics[name]), self.lang)]
                    for name, _label in TABLE_METRICS]
            return VillageFrame(run.village, png, counts, int(run.model.n),
                                [_("app.metric"), run.label], rows)

    # ------------------------------------------------------------------ address
    def query_items(self) -> list[tuple[str, str]]:
        """The settings in force and the metric shown, as the page's address writes them."""
        items = [(name, text.strip()) for name, text in self.settings.texts().items()]
        return [*items, ("metric", self.metric)]


def _value(metric: str, value: float, lang: str) -> str:
    _ = Catalog(lang)
    if not math.isfinite(value):
        return _("app.undefined")
    if metric == "registered_count":
        return _.number(value, ".0f")
    if metric == "team_active":
        return _("app.yes" if value else "app.no")
    return _.number(value, ".3f")


def county_settings_from_items(items: Mapping[str, str]) -> CountySettings:
    """County settings from an address's entries (absent: the defaults); unchecked."""
    base = CountySettings()
    return CountySettings(**{name: items.get(name, getattr(base, name))
                             for name in COUNTY_SETTING_KEYS})

