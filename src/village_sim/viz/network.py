"""The kinship network, drawn for a class: clans as circles, households inside, status colours.

Layout (../shared/DESIGN.md §6: never a force-directed layout of the whole graph). The layout is
computed once per village, in microseconds per household, from the clan of each household:

- clans are circles whose area is proportional to their size; up to 12 clans sit on a ring
  (the ring is widened until neighbours do not overlap), more clans are packed in rows;
- households fill their clan's circle on a sunflower (Vogel) spiral, cadres at the centre,
  then cadres' kin, then everybody else, so that favoritism shows as a cluster around the
  cadres.

Two regimes run on the same seed live in the same village, so they share one layout and a
household sits at the same place in both pictures.

Drawing: :class:`NetworkPicture` keeps one matplotlib figure per village and view. Kin ties,
clan circles, labels and the legend are the cached background; households, cadres, the team
and the selection are redrawn each month (:class:`~village_sim.viz.figure.BlitFigure`).
Colour-blind safe: the four statuses differ by shape as well as colour (circle, filled plus,
diamond, filled cross), and their colours (with the team's) stay at least 20 CAM02-UCS units
apart under simulated deuteranopia, protanopia and tritanopia (Machado et al. 2009, via
``colorspacious``; tests/test_app.py checks it). Colours from Paul Tol's and Okabe & Ito's
palettes. The poor are never drawn smaller than the smallest household above the line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import scipy.sparse as sp
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from village_sim.i18n import Catalog
from village_sim.viz.figure import CSS_DPI, BlitFigure

__all__ = [
    "STATUS_COLORS",
    "STATUS_KEYS",
    "STATUS_MARKERS",
    "TEAM_COLOR",
    "STATUS_LABELS",
    "ClanLayout",
    "LegendEntry",
    "NetworkPicture",
    "Status",
    "clan_layout",
    "legend_entries",
    "marker_svg",
    "status_codes",
]


class Status(IntEnum):
    """How a household stands against the poverty line and the list, as one colour."""

    NOT_POOR = 0
    POOR_LISTED = 1
    POOR_MISSED = 2
    NOT_POOR_LISTED = 3
    UNKNOWN = 4  # the committee has not assessed anybody yet (before month 1)


STATUS_COLORS = ("#dddddd", "#117733", "#E69F00", "#5E3C99", "#ffffff")
"""Colour of each :class:`Status`: light grey, green, orange, dark purple, white (not assessed:
never shown beside the others, the committee assesses everybody at once)."""

STATUS_MARKERS = ("o", "P", "D", "X", "o")
"""Shape of each :class:`Status`: circle (not poor), filled plus (poor, registered: receives
aid), diamond (poor, missed), filled cross (not poor, yet registered), circle (not assessed)."""

_MARKER_SCALE = (1.0, 1.2, 1.05, 1.2, 1.0)
"""Size factors so that the shapes cover about the same area as a circle."""

STATUS_LABELS: dict[str, tuple[str, ...]] = {
    "truth": (
        "not poor",
        "poor, registered",
        "poor, missed",
        "not poor, but registered",
        "",
    ),
    "committee": (
        "looks not poor to the committee",
        "looks poor, on its list",
        "looks poor, left off its list",
        "looks not poor, yet on its list",
        "not assessed yet",
    ),
}
"""Legend text of each status in each view (the truth, or what the committee sees), English."""

STATUS_KEYS: dict[str, tuple[str, ...]] = {
    "truth": ("app.status_truth_0", "app.status_truth_1", "app.status_truth_2",
              "app.status_truth_3", ""),
    "committee": ("app.status_committee_0", "app.status_committee_1", "app.status_committee_2",
                  "app.status_committee_3", "app.status_committee_4"),
}
"""Message keys of :data:`STATUS_LABELS` (``village_sim.i18n``)."""

_STATUS_RGBA = to_rgba_array(STATUS_COLORS)
_BLACK = to_rgba_array("#000000")[0]
_WHITE = to_rgba_array("#ffffff")[0]
TEAM_COLOR = "#56B4E9"
TEAM_TEXT_COLOR = "#1F5F8B"  # the sky blue is too light for text on white
SELECT_COLOR = "#000000"
TIE_COLOR = "#8a8a8a"
CADRE_TIE_COLOR = "#444444"
MAX_RING_CLANS = 12


def status_codes(poor: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """The :class:`Status` of each household from "poor" and "on the list" (boolean arrays)."""
    code = np.where(poor, Status.POOR_MISSED, Status.NOT_POOR).astype(np.int8)
    code[poor & listed] = Status.POOR_LISTED
    code[~poor & listed] = Status.NOT_POOR_LISTED
    return code


@dataclass(frozen=True)
class ClanLayout:
    """Where every household and clan is drawn (data coordinates; one unit = one spacing).

    Attributes:
        xy: (N, 2) positions of the households.
        centers: (K, 2) centres of the clan circles.
        radii: (K,) radii of the clan circles.
        extent: (xmin, xmax, ymin, ymax) of everything drawn, margins included.
    """

    xy: np.ndarray
    centers: np.ndarray
    radii: np.ndarray
    extent: tuple[float, float, float, float]

    def nearest(self, x: float, y: float, max_distance: float = 1.5) -> int | None:
        """The household drawn nearest to (x, y), or None if none lies within max_distance."""
        d2 = (self.xy[:, 0] - x) ** 2 + (self.xy[:, 1] - y) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= max_distance**2 else None


_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
_SPIRAL = 0.56  # Vogel spiral constant: neighbours about one unit apart
_GAP = 1.6  # space between clan circles


def _ring(radii: np.ndarray) -> np.ndarray:
    """Centres of circles on a ring, in order, each given an arc proportional to its width."""
    k = radii.size
    if k == 1:
        return np.zeros((1, 2))
    width = 2.0 * radii + _GAP
    angle = 2.0 * math.pi * (np.cumsum(width) - width / 2.0) / width.sum()
    ring = width.sum() / (2.0 * math.pi)
    nxt = np.roll(np.arange(k), -1)
    need = radii + radii[nxt] + _GAP
    step = np.mod(angle[nxt] - angle, 2.0 * math.pi)
    # the arc is longer than the chord: widen the ring until every neighbour pair fits
    for _ in range(200):
        chord = 2.0 * ring * np.sin(step / 2.0)
        if np.all(chord >= need):
            break
        ring *= 1.05
    return np.column_stack([ring * np.cos(angle), ring * np.sin(angle)])


def _rows(radii: np.ndarray) -> np.ndarray:
    """Centres of many circles packed in rows (largest first), about as wide as tall."""
    order = np.argsort(-radii, kind="stable")
    diam = 2.0 * radii + _GAP
    row_width = math.sqrt(float(np.sum(diam**2))) * 1.1
    centers = np.zeros((radii.size, 2))
    x = y = row_height = 0.0
    for c in order:
        if x > 0 and x + diam[c] > row_width:
            y -= row_height
            x = row_height = 0.0
        centers[c] = (x + diam[c] / 2.0, y - diam[c] / 2.0)
        x += diam[c]
        row_height = max(row_height, diam[c])
    return centers


def clan_layout(clan: np.ndarray, cadre: np.ndarray | None = None,
                cadre_kin: np.ndarray | None = None) -> ClanLayout:
    """Lay out a village by clan: no graph layout, just geometry (see the module docstring).

    Args:
        clan: Clan index of each household (0..K-1).
        cadre: Households with a cadre (drawn at the centre of their clan), optional.
        cadre_kin: Households tied by kinship to a cadre (drawn next), optional.

    Returns:
        The layout; the same arrays give the same layout.
    """
    clan = np.asarray(clan, dtype=np.int64)
    n = clan.size
    k = int(clan.max()) + 1 if n else 0
    cadre = np.zeros(n, dtype=bool) if cadre is None else np.asarray(cadre, dtype=bool)
    cadre_kin = np.zeros(n, dtype=bool) if cadre_kin is None else np.asarray(cadre_kin, bool)
    sizes = np.bincount(clan, minlength=k)
    radii = _SPIRAL * np.sqrt(np.maximum(sizes, 1)) + 0.9
    centers = _ring(radii) if k <= MAX_RING_CLANS else _rows(radii)

    # within a clan: cadres first, then their kin, then the rest, each by household id
    rank_key = np.where(cadre, 0, np.where(cadre_kin, 1, 2))
    order = np.lexsort((np.arange(n), rank_key, clan))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - np.repeat(starts, sizes)
    r = _SPIRAL * np.sqrt(position + 0.5)
    theta = position * _GOLDEN_ANGLE
    xy = centers[clan] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])

    if k:
        lo = (centers - radii[:, None]).min(axis=0) - 1.0
        hi = (centers + radii[:, None]).max(axis=0) + 1.0
    else:
        lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    return ClanLayout(xy=xy, centers=centers, radii=radii, extent=extent)


def _segments(adjacency: sp.spmatrix, xy: np.ndarray,
              rows: Sequence[int] | np.ndarray | None = None) -> list[np.ndarray]:
    """Line segments (each a 2 x 2 array) of the ties of an undirected adjacency, each once.

    With ``rows``, only the ties of those households.
    """
    if rows is None:
        upper = sp.triu(adjacency, k=1).tocoo()
        src, dst = upper.row, upper.col
    else:
        sub = sp.csr_matrix(adjacency)[rows].tocoo()
        src, dst = np.asarray(rows)[sub.row], sub.col
    return list(np.stack([xy[src], xy[dst]], axis=1))


@dataclass(frozen=True)
class LegendEntry:
    """One entry of the network's key: a marker (or a line) and its text.

    Attributes:
        marker: A matplotlib marker (``o``, ``P``, ``D``, ``X``, ``s``, ``^``), or ``-`` for a
            line.
        face: Fill colour (for a line: its colour).
        edge: Edge colour.
        edge_width: Edge width in points.
        size: Marker size in points (its width).
        label: The text.
    """

    marker: str
    face: str
    edge: str
    edge_width: float
    size: float
    label: str


def legend_entries(view: str, statuses: Sequence[int], lang: str = "en") -> list[LegendEntry]:
    """The network's key in ``lang``: the statuses shown, then cadre, kin, team and tie.

    One list for both places the key is drawn: inside the picture (matplotlib) and, in
    projector mode, once in the page for both networks (:func:`marker_svg`).
    """
    _ = Catalog(lang)
    labels = [_(k) if k else "" for k in STATUS_KEYS[view]]
    entries = [LegendEntry(STATUS_MARKERS[s], STATUS_COLORS[s], "#777777", 1.0,
                           8 * _MARKER_SCALE[s], labels[s]) for s in statuses]
    return [
        *entries,
        LegendEntry("s", "#ffffff", "#000000", 1.6, 8, _("app.legend_cadre")),
        LegendEntry("o", "#ffffff", "#000000", 1.0, 8, _("app.legend_cadre_kin")),
        LegendEntry("^", TEAM_COLOR, TEAM_COLOR, 1.0, 8, _("app.legend_team_member")),
        LegendEntry("-", CADRE_TIE_COLOR, CADRE_TIE_COLOR, 1.0, 8, _("app.legend_kin_tie")),
    ]


_SVG_SHAPES = {
    # unit shapes on a 20 x 20 box, matching matplotlib's markers
    "o": "<circle cx='10' cy='10' r='{r}'/>",
    "s": "<rect x='{a}' y='{a}' width='{w}' height='{w}'/>",
    "D": "<polygon points='10,{a} {b},10 10,{b} {a},10'/>",
    "^": "<polygon points='10,{a} {b},{b2} {a},{b2}'/>",
    "P": ("<polygon points='7.6,{a} 12.4,{a} 12.4,7.6 {b},7.6 {b},12.4 12.4,12.4 12.4,{b} "
          "7.6,{b} 7.6,12.4 {a},12.4 {a},7.6 7.6,7.6'/>"),
    "X": ("<polygon points='{a},{a3} {a3},{a} 10,6.6 {b3},{a} {b},{a3} 13.4,10 {b},{b3} "
          "{b3},{b} 10,13.4 {a3},{b} {a},{b3} 6.6,10'/>"),
    "-": "<line x1='1' y1='10' x2='19' y2='10'/>",
}


def marker_svg(entry: LegendEntry, px: int = 18) -> str:
    """An inline SVG of the entry's marker, ``px`` CSS pixels square (for the page's key)."""
    if entry.marker == "-":
        paint = f"stroke='{entry.edge}' stroke-width='2.4'"
    else:
        paint = (f"fill='{entry.face}' stroke='{entry.edge}' "
                 f"stroke-width='{1.2 * entry.edge_width:.1f}'")
    half = 8.0 * entry.size / 9.6  # the marker's half width on the 20-unit box
    a, b = 10 - half, 10 + half
    shape = _SVG_SHAPES[entry.marker].format(
        r=f"{half:.1f}", a=f"{a:.1f}", b=f"{b:.1f}", w=f"{2 * half:.1f}",
        b2=f"{10 + 0.8 * half:.1f}", a3=f"{a + 3.4:.1f}", b3=f"{b - 3.4:.1f}")
    return (f"<svg width='{px}' height='{px}' viewBox='0 0 20 20' aria-hidden='true' "
            f"style='vertical-align:middle;flex:none'><g {paint}>{shape}</g></svg>")


class NetworkPicture:
    """The kinship network of one village, one regime, redrawn each month as PNG bytes.

    Args:
        layout: Where households and clans are drawn (shared by the regimes of one village).
        kin: The kinship adjacency (N x N, symmetric).
        cadre: Boolean array: households with a cadre.
        cadre_kin: Boolean array: households tied by kinship to a cadre.
        team_size: Members of the work team (drawn beside the village while it is active).
        width_px: Width of the picture in CSS pixels (its size on the page).
        height_px: Height of the picture in CSS pixels.
        lang: Language of the labels and legend (``zh``, ``vi`` or ``en``).
        scale: Image pixels per CSS pixel (the display's pixel ratio: 2 on a "retina" screen),
            so the picture stays sharp; the drawing is the same at every scale.
        text_pt: None for the app's usual picture (title, counts and key drawn inside it, at
            8-12 points, 100 dpi). A size in points for projector mode: the picture is only
            the village, drawn at :data:`~village_sim.viz.figure.CSS_DPI` with every text at
            this size (10.5 points: 14 CSS pixels); its title, counts and key are the page's.
    """

    def __init__(self, layout: ClanLayout, kin: sp.spmatrix, cadre: np.ndarray,
                 cadre_kin: np.ndarray, team_size: int = 3, width_px: int = 640,
                 height_px: int = 600, lang: str = "en", scale: float = 1.0,
                 text_pt: float | None = None):
        self._ = Catalog(lang)
        self.lang = self._.lang
        self.layout = layout
        self.kin = sp.csr_matrix(kin)
        self.cadre = np.asarray(cadre, dtype=bool)
        self.cadre_kin = np.asarray(cadre_kin, dtype=bool)
        self.team_size = team_size
        self.bare = text_pt is not None
        small, label = (text_pt, text_pt) if text_pt is not None else (8.0, 9.0)
        self.fig = BlitFigure(width_px, height_px, dpi=CSS_DPI if self.bare else 100,
                              scale=scale)
        fig = self.fig.figure
        # projector mode: the village fills the picture (a line of text's room on top for
        # the team); otherwise title and counts above it and the key below
        top = 1.0 - 1.6 * small * CSS_DPI / 72.0 / height_px if self.bare else 0.93
        ax = self.ax = fig.add_axes((0.01, 0.01, 0.98, top - 0.01) if self.bare
                                    else (0.01, 0.17, 0.98, 0.76))
        ax.set_axis_off()
        xmin, xmax, ymin, ymax = layout.extent
        # room at the top right for the work team, and an equal aspect without distortion
        ymax += (0.04 if self.bare else 0.09) * (ymax - ymin)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_aspect("equal", adjustable="box")
        self._team_anchor = (xmax, ymax)

        xy = layout.xy
        for c, ((cx, cy), r) in enumerate(zip(layout.centers, layout.radii, strict=True)):
            ax.add_patch(Circle((cx, cy), r, facecolor="#f6f3ea", edgecolor="#b9ae94",
                                linewidth=0.8, zorder=0))
            if layout.radii.size <= 40:
                ax.text(cx, cy + r + 0.25, self._("app.clan", n=c + 1), ha="center", va="bottom",
                        fontsize=small, color="#6d6350", zorder=1)
        cadre_idx = np.flatnonzero(self.cadre)
        ax.add_collection(LineCollection(_segments(self.kin, xy), colors=TIE_COLOR,
                                         linewidths=0.35, alpha=0.35, zorder=1))
        ax.add_collection(LineCollection(_segments(self.kin, xy, cadre_idx),
                                         colors=CADRE_TIE_COLOR, linewidths=0.7, alpha=0.7,
                                         zorder=1))

        # spacing of households in pixels sets the marker size (points^2)
        fig.canvas.draw()
        to_px = ax.transData.transform
        unit_px = float(np.hypot(*(to_px((1.0, 0.0)) - to_px((0.0, 0.0)))))
        self._unit_pt = unit_px * 72.0 / fig.dpi
        other = ~self.cadre
        self._other = np.flatnonzero(other)
        self._cadres = cadre_idx
        # one collection per status (a shape each); households move between them each month
        self.nodes = [ax.scatter(np.zeros(0), np.zeros(0), s=10.0, marker=STATUS_MARKERS[k],
                                 color=STATUS_COLORS[k], zorder=3)
                      for k in range(len(Status))]
        self.cadre_nodes = ax.scatter(xy[cadre_idx, 0], xy[cadre_idx, 1], s=40.0, marker="s",
                                      edgecolors="#000000", linewidths=1.6, zorder=4)
        self.selection = ax.scatter([], [], s=(2.2 * self._unit_pt) ** 2, facecolors="none",
                                    edgecolors=SELECT_COLOR, linewidths=2.2, zorder=5)
        self.selection_ties = LineCollection([], colors=SELECT_COLOR, linewidths=1.2, zorder=2)
        ax.add_collection(self.selection_ties)
        drawn = min(team_size, 10)  # a large team is drawn as ten, the label gives the size
        if self.bare:
            # projector mode: the team's row is the strip above the village, in figure
            # fractions, so that neither its members nor its label cover a clan's name
            px_w, px_h = 1.0 / width_px, 1.0 / height_px
            row_y = 1.0 - 0.8 * small * CSS_DPI / 72.0 * px_h
            team_x = 1.0 - px_w * (6 + 16 * (np.arange(drawn) + 0.5))
            self._team_label_at = (float(team_x.min()) - 12 * px_w, row_y)
            self._team_corner = (1.0 - 6 * px_w, row_y)
            where = fig.transFigure
        else:
            tx, ty = self._team_anchor
            spread = 1.4 * max(1.0, (layout.extent[1] - layout.extent[0]) / 40.0)
            team_x = tx - spread * (np.arange(drawn) + 0.5)
            # the label sits left of the members, on their row; alone at the corner without
            # them
            self._team_label_at = (float(team_x.min()) - 0.8 * spread, ty - spread)
            self._team_corner = (tx, ty - spread)
            where = ax.transData
        self.team = ax.scatter(team_x, np.full(drawn, self._team_corner[1]), s=70.0,
                               marker="^", color=TEAM_COLOR, edgecolors="#003a5c",
                               linewidths=0.8, zorder=5, clip_on=False, transform=where)
        self.team_text = ax.text(*self._team_corner, "", ha="right", va="center",
                                 fontsize=label, color=TEAM_TEXT_COLOR, clip_on=False,
                                 transform=where)
        self.title = fig.text(0.02, 0.985, "", ha="left", va="top", fontsize=12,
                              fontweight="bold")
        self.subtitle = fig.text(0.02, 0.945, "", ha="left", va="top", fontsize=9,
                                 color="#333333")
        self.fig.animate([self.selection_ties, *self.nodes, self.cadre_nodes, self.selection,
                          self.team, self.team_text, self.title, self.subtitle])
        self._legend: Legend | None = None
        self._legend_key: tuple[str, tuple[int, ...], str] = ("", (), "")

    # ------------------------------------------------------------------ legend
    def _set_legend(self, view: str, statuses: tuple[int, ...], size_label: str) -> None:
        """(Re)build the legend if the view, statuses or size label changed.

        The legend is part of the cached background, so a change redraws the background.
        """
        key = (view, statuses, size_label)
        if key == self._legend_key or self.bare:  # projector mode: the key is the page's
            return
        if self._legend is not None:
            self._legend.remove()
        handles = [
            Line2D([], [], color=e.face, linewidth=e.edge_width, label=e.label)
            if e.marker == "-" else
            Line2D([], [], marker=e.marker, linestyle="", markersize=e.size,
                   markerfacecolor=e.face, markeredgecolor=e.edge,
                   markeredgewidth=e.edge_width, label=e.label)
            for e in legend_entries(view, statuses, self.lang)]
        self._legend = self.fig.figure.legend(
            handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False,
            bbox_to_anchor=(0.5, 0.0), handletextpad=0.4, columnspacing=1.2,
            title=self._("app.marker_size", what=size_label), title_fontsize=8,
        )
        self._legend_key = key
        self.fig.invalidate()

    # ------------------------------------------------------------------ frame
    def render(self, status: np.ndarray, size: np.ndarray, *, view: str = "truth",
               size_label: str = "income per person", team_state: str = "absent",
               selected: int | None = None, title: str = "", subtitle: str = "") -> bytes:
        """Draw one month and return PNG bytes.

        Args:
            status: :class:`Status` code of each household.
            size: Relative marker size of each household (1 = typical; clipped to 0.45-1.6).
            view: ``"truth"`` or ``"committee"`` (legend wording).
            size_label: What marker size shows (legend title).
            team_state: ``"active"`` (team drawn), ``"left"``, ``"not yet"`` or ``"absent"``.
            selected: A household to ring and whose kin ties to draw, or None.
            title: Title line (regime, month).
            subtitle: Second line (counts).
        """
        unknown = bool(np.any(status == Status.UNKNOWN))
        statuses = (0, 1, 2, 3, 4) if unknown else (0, 1, 2, 3)
        self._set_legend(view, statuses, size_label)
        colors = _STATUS_RGBA[status]
        size = np.clip(size, 0.45, 1.6)
        poor = (status == Status.POOR_LISTED) | (status == Status.POOR_MISSED)
        if poor.any() and not poor.all():  # the poor never smallest: at least the least
            size = np.where(poor, np.maximum(size, size[~poor].min()), size)  # of the others
        diameter = size * 0.75 * self._unit_pt
        others = status[self._other]
        for k, nodes in enumerate(self.nodes):
            idx = self._other[others == k]
            kin = self.cadre_kin[idx]
            nodes.set_offsets(self.layout.xy[idx])
            nodes.set_sizes((diameter[idx] * _MARKER_SCALE[k]) ** 2)
            nodes.set_facecolor(colors[idx])
            nodes.set_edgecolor(np.where(kin[:, None], _BLACK, _WHITE))
            nodes.set_linewidth(np.where(kin, 0.9, 0.3).tolist())
        self.cadre_nodes.set_facecolor(colors[self._cadres])
        self.cadre_nodes.set_sizes((np.maximum(diameter[self._cadres], 0.9 * self._unit_pt)
                                    * 1.15) ** 2)
        if selected is not None:
            self.selection.set_offsets(self.layout.xy[[selected]])
            self.selection_ties.set_segments(_segments(self.kin, self.layout.xy, [selected]))
        else:
            self.selection.set_offsets(np.zeros((0, 2)))
            self.selection_ties.set_segments([])
        self.team.set_visible(team_state == "active")
        self.team_text.set_position(self._team_label_at if team_state == "active"
                                    else self._team_corner)
        self.team_text.set_text({
            "active": self._("app.team_in_village") + (
                f" ({self.team_size})" if self.team_size > 10 else ""),
            "left": self._("app.team_left"),
            "not yet": self._("app.team_not_yet"),
        }.get(team_state, self._("app.team_none")))
        if not self.bare:  # projector mode: title and counts are the page's
            self.title.set_text(title)
            self.subtitle.set_text(subtitle)
        return self.fig.render()

    def household_at(self, x_fraction: float, y_fraction: float) -> int | None:
        """The household under a click, given as fractions of the image width and height.

        Args:
            x_fraction: 0 at the left edge of the image, 1 at the right.
            y_fraction: 0 at the top edge of the image, 1 at the bottom.
        """
        point = self.fig.data_at(self.ax, x_fraction, y_fraction)
        if point is None:
            return None
        return self.layout.nearest(point[0], point[1], max_distance=1.5)
