"""Teaching figures and sentences: a scenario against its control, in the room's language.

Built on :mod:`village_sim.scenario` (runs and claims), :mod:`village_sim.i18n` (labels) and
:mod:`village_sim.fonts` (glyphs for Chinese and Vietnamese). Used by the handouts, the
``run --scenario`` command and the figures of docs/teaching.md.

* :func:`scenario_figure` draws the scenario's chart metrics over time for the scenario and
  its control on the same seeds: mean lines, 95% bands, the claim window shaded, events
  marked; :func:`figure_png` turns it into PNG bytes.
* :func:`run_figure` draws one run of a scenario (``village-sim run --scenario``).
* :func:`claim_sentence` and :func:`result_sentences` say what the claim is and what was
  measured.
* :func:`wrap_text` breaks Chinese, Vietnamese and English text into lines of a given width
  in points (Chinese has no spaces, so matplotlib's own wrapping cannot be used).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from village_sim.fonts import LATIN_FAMILY, families, use_fonts
from village_sim.i18n import Catalog

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from village_sim.scenario import ClaimResult, Scenario

__all__ = [
    "claim_sentence",
    "figure_png",
    "format_value",
    "has_cjk",
    "result_sentences",
    "run_figure",
    "scenario_figure",
    "text_family",
    "text_weight",
    "wrap_text",
]

SCENARIO_COLOUR = "#1f5fa8"
CONTROL_COLOUR = "#6f6f6f"
WINDOW_COLOUR = "#f3d98b"
EVENT_COLOUR = "#b03a2e"


# ---------------------------------------------------------------------------- numbers
def format_value(value: float, reference: float | None = None, signed: bool = False,
                 lang: str | None = "en") -> str:
    """A number with as many decimals as its size (or ``reference``'s) deserves.

    Written in ``lang``'s convention (Vietnamese ``+0,166`` and ``6.763``).
    """
    if not math.isfinite(value):
        return "∞" if math.isinf(value) else "—"
    size = abs(reference if reference is not None and math.isfinite(reference) else value)
    digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3
    return Catalog(lang).digits(f"{value:{'+' if signed else ''},.{digits}f}")


# ---------------------------------------------------------------------------- sentences
def claim_sentence(scenario: Scenario, control: Scenario, lang: str | None) -> str:
    """The claim in words, e.g. "Kin premium in registration is higher than in …"."""
    _ = Catalog(lang)
    claim = scenario.claim
    return _("claim.sentence", metric=_.metric(claim.metric),
             direction=_.direction(claim.direction), control=control.text(_.lang).title,
             first=claim.window[0], last=claim.window[1])


def result_sentences(result: ClaimResult, scenario: Scenario, control: Scenario,
                     lang: str | None) -> list[str]:
    """What was measured: the claim with its paired difference, and whether it held."""
    _ = Catalog(lang)
    ref = max(abs(result.mean), abs(result.ci_low), abs(result.ci_high)) \
        if math.isfinite(result.ci_low) else result.mean
    measured = _("handout.result", n=result.n, claim=claim_sentence(scenario, control, lang),
                 diff=format_value(result.mean, ref, signed=True, lang=_.lang),
                 low=format_value(result.ci_low, ref, signed=True, lang=_.lang),
                 high=format_value(result.ci_high, ref, signed=True, lang=_.lang),
                 t=format_value(result.t, 10.0, lang=_.lang))
    df = result.n - 1
    # two decimals, as the guides print it: a t of 2.27 against 2.26 must not read 2.3 >= 2.3
    crit = _.number(result.critical_t, ".2f")
    if result.holds:
        verdict = _("handout.result_holds", t=_.number(abs(result.t), ".2f"), crit=crit,
                    df=df)
    elif not result.enough_seeds:
        verdict = _("handout.result_few", n=result.n)
    else:
        verdict = _("handout.result_fails", crit=crit, df=df)
    return [measured, verdict]


# ---------------------------------------------------------------------------- wrapping
_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKENS = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_NO_LINE_START = set("，。、；：？！）」』”’》〉】,.;:!?)")


@cache
def _renderer() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(10, 10, 72)  # 72 dpi: widths come out in points


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese (or other CJK) characters."""
    return _CJK_CHAR.search(text) is not None


def text_family(text: str, weight: str = "normal") -> list[str]:
    """Font families for ``text``: bold Latin or Vietnamese text uses DejaVu Sans Bold alone.

    The CJK subset has one weight; asking it for bold makes matplotlib log a warning, so bold
    is only used for text without CJK characters (:func:`text_weight`).
    """
    return [LATIN_FAMILY] if weight != "normal" and not has_cjk(text) else families()


def text_weight(text: str, weight: str = "normal") -> str:
    """``weight``, or ``normal`` for text with CJK characters (see :func:`text_family`)."""
    return "normal" if has_cjk(text) else weight


@cache
def _width(text: str, size: float, weight: str = "normal") -> float:
    from matplotlib.font_manager import FontProperties

    weight = text_weight(text, weight)
    prop = FontProperties(family=text_family(text, weight), size=size, weight=weight)
    width, _, _ = _renderer().get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def wrap_text(text: str, width_pt: float, size: float, weight: str = "normal") -> list[str]:
    """Break ``text`` into lines no wider than ``width_pt`` points at font ``size``.

    Latin and Vietnamese break at spaces; Chinese between any two characters, but never
    before closing punctuation (，。） etc.). Line breaks in ``text`` are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        space = False
        for token in _TOKENS.findall(paragraph):
            if token.isspace():
                space = bool(line)
                continue
            candidate = line + (" " if space else "") + token
            if not line or token in _NO_LINE_START or _width(candidate, size, weight) <= width_pt:
                line = candidate
            else:
                lines.append(line)
                line = token
            space = False
        lines.append(line)
    return lines


# ---------------------------------------------------------------------------- figures
def _mark_events(ax: Any, scenario: Scenario, label: bool, _: Catalog) -> None:
    previous = -100
    low = False
    for event in scenario.events:
        ax.axvline(event.month, color=EVENT_COLOUR, lw=0.9, ls=":", zorder=1)
        if label:
            low = not low if event.month - previous < 4 else False  # stagger close labels
            ax.text(event.month + 0.4, 0.62 if low else 0.98, _.event(event.kind),
                    transform=ax.get_xaxis_transform(), rotation=90, va="top", ha="left",
                    fontsize=6.5, color=EVENT_COLOUR, parse_math=False)
        previous = event.month


def _title(ax: Any, text: str, width_pt: float, size: float = 9.5) -> None:
    ax.set_title("\n".join(wrap_text(text, width_pt, size)), fontsize=size, parse_math=False)


def scenario_figure(frame: pd.DataFrame, scenario: Scenario, control: Scenario,
                    lang: str | None, metrics: Sequence[str] | None = None,
                    width_in: float = 10.0) -> Figure:
    """The scenario against its control: one panel per chart metric, over time.

    Args:
        frame: Output of :func:`village_sim.scenario.run_pair`.
        scenario: The scenario.
        control: Its control.
        lang: Language of every label.
        metrics: Metrics to draw (default: the scenario's ``charts``).
        width_in: Figure width in inches.

    Returns:
        A matplotlib ``Figure`` on an Agg canvas (no display needed), fonts set for the
        language; save it inside :func:`village_sim.fonts.use_fonts` or with
        :func:`figure_png`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from village_sim.experiment import step_bands

    _ = Catalog(lang)
    metrics = list(scenario.charts if metrics is None else metrics)
    ncols = 2 if len(metrics) > 1 else 1
    nrows = math.ceil(len(metrics) / ncols)
    ours = frame.loc[frame["side"] == "scenario"]
    theirs = frame.loc[frame["side"] == "control"]
    n = int(ours["replicate"].nunique())
    last = int(frame["step"].max())
    first_w, last_w = scenario.claim.window
    title = scenario.text(_.lang).title
    control_title = control.text(_.lang).title
    with use_fonts():
        fig = Figure(figsize=(width_in, 2.75 * nrows + 1.5), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        panel_pt = width_in * 72 / ncols - 40
        for k, ax in enumerate(axes.flat):
            if k >= len(metrics):
                ax.set_visible(False)
                continue
            metric = metrics[k]
            for sub, colour, style in ((theirs, CONTROL_COLOUR, "--"),
                                       (ours, SCENARIO_COLOUR, "-")):
                steps, mean, low, high = step_bands(sub, metric)
                ax.plot(steps, mean, color=colour, ls=style, lw=1.6)
                ax.fill_between(steps, low, high, color=colour, alpha=0.18, lw=0)
            if metric == scenario.claim.metric:
                ax.axvspan(first_w, last_w, color=WINDOW_COLOUR, alpha=0.45, lw=0, zorder=0)
                ax.text((first_w + last_w) / 2, 0.02, _("chart.claim_window"),
                        transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                        fontsize=7, color="#7a5c00", parse_math=False)
            ax.set_xlim(0, max(last, 1))
            ax.set_xticks(range(0, last + 1, 12))
            ax.set_xlabel(_("chart.month"), fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
            _title(ax, _.metric(metric), panel_pt)
            _mark_events(ax, scenario, label=k < ncols, _=_)
        handles = [Line2D([], [], color=SCENARIO_COLOUR, lw=1.8),
                   Line2D([], [], color=CONTROL_COLOUR, lw=1.8, ls="--")]
        fig.legend(handles, [title, control_title], loc="outside lower center", ncols=1,
                   frameon=False, fontsize=9)
        suptitle = _("chart.scenario_suptitle", scenario=title, control=control_title, n=n)
        fig.suptitle("\n".join(wrap_text(suptitle, width_in * 72 - 30, 11)), fontsize=11,
                     parse_math=False)
    return fig


def run_figure(ts: pd.DataFrame, scenario: Scenario, seed: int, lang: str | None,
               width_in: float = 10.0) -> Figure:
    """One run of a scenario: its chart metrics over time, events marked.

    Args:
        ts: ``village_sim.experiment.timeseries`` of the run.
        scenario: The scenario.
        seed: The run's seed (for the title).
        lang: Language of every label.
        width_in: Figure width in inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _ = Catalog(lang)
    metrics = list(scenario.charts)
    ncols = 2 if len(metrics) > 1 else 1
    nrows = math.ceil(len(metrics) / ncols)
    last = int(ts["step"].max())
    with use_fonts():
        fig = Figure(figsize=(width_in, 2.6 * nrows + 0.9), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        panel_pt = width_in * 72 / ncols - 40
        for k, ax in enumerate(axes.flat):
            if k >= len(metrics):
                ax.set_visible(False)
                continue
            ax.plot(ts["step"], ts[metrics[k]], color=SCENARIO_COLOUR, lw=1.5)
            ax.set_xlim(0, max(last, 1))
            ax.set_xticks(range(0, last + 1, 12))
            ax.set_xlabel(_("chart.month"), fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
            _title(ax, _.metric(metrics[k]), panel_pt)
            _mark_events(ax, scenario, label=k < ncols, _=_)
        text = _("chart.run_suptitle", title=scenario.text(_.lang).title, seed=seed)
        fig.suptitle("\n".join(wrap_text(text, width_in * 72 - 30, 11)), fontsize=11,
                     parse_math=False)
    return fig


def figure_png(fig: Figure, dpi: int = 130) -> bytes:
    """The figure as PNG bytes, drawn with the shipped fonts."""
    out = io.BytesIO()
    with use_fonts():
        fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
