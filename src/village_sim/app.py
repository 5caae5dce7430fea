"""The live app: watch favoritism (优亲厚友) happen, one regime or two side by side.

Start it with ``village-sim viz`` (or ``solara run village_sim.app``), or show it in a Jupyter
notebook with ``from village_sim.app import VillageApp; VillageApp()``
(docs/app_notebook.ipynb).

Made for training rooms without internet: every picture is drawn on the server with
matplotlib and sent as a PNG, and the page itself (Vue 2, Vuetify) comes from the
``solara-assets`` package, so no request leaves the machine.

This module is the page only: layout, controls and events. The state — model(s), history,
validation, stepping, pictures — lives in :class:`village_sim.viz.controller.Controller`, one
per browser tab (or notebook output), which is tested without a browser.

Layout follows Mesa's examples (``app.py`` beside the model, ``Page`` the entry point) and
Mesa's ``SolaraViz`` controller (step / play / pause / reset, a play loop in a thread), written
anew for two models stepping together and for pictures that need no CDN.
"""

from __future__ import annotations

import base64
import html
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara

from village_sim.params import PARAM_BY_NAME, REGIMES
from village_sim.viz.charts import CHARTS, REGIME_COLORS
from village_sim.viz.controller import (
    APP_PARAMETERS,
    EVENT_LABELS,
    MAX_APP_HOUSEHOLDS,
    Controller,
    Frame,
    HouseholdStory,
    Settings,
    SettingsError,
    parse_value,
)

__all__ = ["Page", "VillageApp"]


def _under_solara_server() -> bool:
    return "solara.server.starlette" in sys.modules or "solara.server.flask" in sys.modules


def _packaged_cjk_font() -> Path | None:
    """The CJK font shipped in ``village_sim.fonts`` (for 优亲厚友 on machines without one)."""
    try:
        from village_sim.fonts import FONT_FILE
    except ImportError:
        return None
    return FONT_FILE if FONT_FILE.is_file() else None


if "solara.server.settings" in sys.modules:  # under `solara run`
    _server_settings = sys.modules["solara.server.settings"]
    _server_settings.telemetry.mixpanel_enable = False  # no usage statistics sent out
    if _packaged_cjk_font() is not None and \
            "village_sim.fonts" not in _server_settings.assets.extra_locations:
        # served at /static/assets/<file>: Chinese renders where no CJK font is installed
        _server_settings.assets.extra_locations.append("village_sim.fonts")


VIEW_LABELS = {"the truth": "truth", "what the committee sees": "committee"}
SIZE_LABELS = {"income per person": "income", "aid received": "aid"}
SPEEDS = (1, 2, 5, 10)
CHART_NOTES = {
    "kin_premium": "how much more likely cadres' kin are registered than non-kin of the same "
                   "income decile (0: no favoritism)",
    "diverted_share": "share of the released money that cadres diverted, last 12 months",
    "exclusion_error": "share of poor households that are not registered",
    "mistargeting": "share of households wrongly treated (poor missed + non-poor registered)",
    "poverty_headcount": "share of people below the poverty line, before any transfer",
    "approval": "mean trust in the committee (monthly); approval from the yearly survey",
}


def _default_text(name: str) -> str:
    default = PARAM_BY_NAME[name].default
    return "none" if default is None else str(default).lower() if isinstance(default, bool) \
        else str(default)


def page_css() -> str:
    """The page's own CSS: Chinese falls back to the packaged font, served by the server.

    The ``unicode-range`` makes the browser fetch the font (from this server, 2 MB) only when
    a Chinese character has no glyph in the fonts before it. In Jupyter there is no such
    route, and the notebook's own fonts are used.
    """
    font = _packaged_cjk_font()
    if font is None or not _under_solara_server():
        return ""
    return (
        "@font-face { font-family: 'VillageSim CJK SC'; "
        f"src: url('static/assets/{font.name}') format('truetype'); "
        "unicode-range: U+2E80-2FDF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+FF00-FFEF; }\n"
        ".vs-page, .vs-page .v-application { font-family: Roboto, 'Noto Sans CJK SC', "
        "'Microsoft YaHei', 'PingFang SC', 'VillageSim CJK SC', sans-serif; }"
    )


def data_url(png: bytes) -> str:
    """A PNG as a ``data:`` URL (sent with the page's own websocket; no request made)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@solara.component_vue("viz/picture.vue", vuetify=False)
def Picture(
    src: str,
    alt: str = "",
    testid: str = "",
    clickable: bool = False,
    maxwidth: str = "100%",
    event_clicked: Callable[[dict[str, float]], None] | None = None,
) -> None:
    """An image; when ``clickable``, a click reports where (fractions of width and height)."""


def _table_html(header: list[str], rows: list[list[str]], testid: str) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 10px'>{html.escape(h)}</th>"
                   for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:1px 10px{';white-space:nowrap' if i == 0 else ''}'>"
                         f"{html.escape(str(c))}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return (f"<table data-testid='{testid}' style='border-collapse:collapse;font-size:13px'>"
            f"<thead><tr style='border-bottom:1px solid #999'>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


@solara.component
def Table(header: list[str], rows: list[list[str]], testid: str = "") -> None:
    """A plain HTML table (no extra JavaScript)."""
    solara.HTML(tag="div", unsafe_innerHTML=_table_html(header, rows, testid),
                style="overflow-x: auto")


@solara.component
def ParameterInput(name: str, text: str, on_text: Callable[[str], None]) -> None:
    """A text box for one parameter, with its unit and allowed range, checked as typed."""
    param = PARAM_BY_NAME[name]
    error = ""
    if text.strip():
        try:
            parse_value(name, text)
        except ValueError as err:
            error = str(err)
    hint = param.allowed() + (f" · {param.unit}" if param.unit else "")
    if name == "n_households":
        hint += f" · at most {MAX_APP_HOUSEHOLDS} live"
    solara.InputText(label=name, value=text, on_value=on_text, error=error or False,
                     message=error or hint, continuous_update=False)


@solara.component
def Controls(controller: Controller, form: dict[str, Any], errors: solara.Reactive[list[str]],
             on_applied: Callable[[], None]) -> None:
    """Regimes, seed and parameters; regime changes start over at once, texts on Restart."""

    def apply(**changes: Any) -> None:
        for key, value in changes.items():
            form[key].set(value)
        settings = Settings(
            regime=form["regime"].value, compare_regime=form["compare_regime"].value,
            side_by_side=form["side_by_side"].value, seed=form["seed"].value,
            parameters=dict(form["parameters"].value),
        )
        try:
            controller.apply(settings)
        except SettingsError as err:
            errors.set(err.messages)
            return
        errors.set([])
        on_applied()

    regimes = list(REGIMES)
    with solara.Card("Village and regimes", margin=0, style={"margin-bottom": "8px"}):
        solara.Select(label="regime" + (" (left)" if form["side_by_side"].value else ""),
                      values=regimes, value=form["regime"].value,
                      on_value=lambda v: apply(regime=v))
        solara.Switch(label="side by side: a second regime, same village and seed",
                      value=form["side_by_side"].value,
                      on_value=lambda v: apply(side_by_side=v))
        if form["side_by_side"].value:
            solara.Select(label="second regime (right)", values=regimes,
                          value=form["compare_regime"].value,
                          on_value=lambda v: apply(compare_regime=v))
        solara.InputText(label="seed", value=form["seed"], continuous_update=False,
                         message="a whole number ≥ 0: same seed, same village and shocks")
    with solara.Card("Parameters", margin=0, style={"margin-bottom": "8px"}):
        solara.Text("Typed values take effect when you press Restart (blank: the default). "
                    "Under each box: the allowed range and the unit.",
                    style={"font-size": "12px"})
        texts = form["parameters"]

        def setter(name: str) -> Callable[[str], None]:
            def set_text(value: str) -> None:
                texts.set({**texts.value, name: value})
            return set_text

        for name in APP_PARAMETERS:
            ParameterInput(name, texts.value[name], setter(name))
        solara.Button("Restart with these settings", color="primary", on_click=apply,
                      block=True)
    for message in errors.value:
        solara.Error(message, dense=True)


@solara.component
def Toolbar(controller: Controller, frame: Frame, playing: solara.Reactive[bool],
            speed: solara.Reactive[int], on_changed: Callable[[], None],
            on_reset: Callable[[], None]) -> None:
    """Step, play, pause, reset, speed, and the instructor's events."""

    def step() -> None:
        controller.step()
        on_changed()

    def trigger(kind: str) -> Callable[[], None]:
        def handler() -> None:
            controller.trigger(kind)
            on_changed()
        return handler

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px"}):
        solara.Button("Step", on_click=step, disabled=playing.value, color="primary")
        if playing.value:
            solara.Button("Pause", on_click=lambda: playing.set(False), color="warning")
        else:
            solara.Button("Play", on_click=lambda: playing.set(True), color="success")
        solara.Button("Reset", on_click=on_reset, outlined=True)
        solara.Select(label="speed (months per second)", values=list(SPEEDS),
                      value=speed.value, on_value=speed.set, style={"max-width": "190px"})
        solara.HTML(tag="span", unsafe_innerHTML=(
            f"<b data-testid='month'>month {frame.month}</b> · "
            f"{controller.n_households} households · seed {controller.seed}"))
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "4px"}):
        solara.Text("Instructor's events, next month, in every regime:",
                    style={"font-size": "13px"})
        for kind, label in EVENT_LABELS.items():
            solara.Button(label, on_click=trigger(kind), outlined=True, small=True,
                          color="secondary")
    events = controller.events_text()
    if events:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape("Events — " + events),
                    attributes={"data-testid": "events"}, style="font-size: 13px")


@solara.component
def Networks(controller: Controller, frame: Frame, on_pick: Callable[[int], None]) -> None:
    """One network picture per regime; a click picks the household under it."""

    def clicked(index: int) -> Callable[[dict[str, float]], None]:
        def handler(where: dict[str, float]) -> None:
            household = controller.household_at(index, float(where["x"]), float(where["y"]))
            if household is not None:
                on_pick(household)
        return handler

    with solara.Columns([1] * len(frame.networks)):
        for index, png in enumerate(frame.networks):
            Picture(src=data_url(png), alt=f"kinship network, {controller.regimes[index]}",
                    testid=f"network-{index}", clickable=True, maxwidth="720px",
                    event_clicked=clicked(index))


@solara.component
def Charts(controller: Controller, frame: Frame, columns: int) -> None:
    """The metric charts, every regime on the same axes."""
    key = " · ".join(
        f"<span style='color:{REGIME_COLORS[i]};font-weight:bold'>━ {html.escape(r)}</span>"
        for i, r in enumerate(controller.regimes))
    solara.HTML(tag="div", unsafe_innerHTML=f"Metrics over time: {key}",
                style="margin: 6px 0")
    with solara.GridFixed(columns=columns):
        for spec in CHARTS:
            with solara.Column(gap="0px"):
                Picture(src=data_url(frame.charts[spec.key]), alt=spec.title,
                        testid=f"chart-{spec.key}", maxwidth="480px")
                solara.Text(CHART_NOTES[spec.key], style={"font-size": "11px", "color": "#555"})


@solara.component
def CurrentValues(frame: Frame) -> None:
    """The table of current values (side by side: and the difference)."""
    solara.HTML(tag="div", unsafe_innerHTML=f"<b>Now (month {frame.month})</b>",
                style="margin-top: 8px")
    Table(frame.header, frame.table, testid="metric-table")


@solara.component
def Inspector(controller: Controller, frame: Frame,
              selected: solara.Reactive[int | None]) -> None:
    """Pick a household (list or click) and read its story under each regime."""
    labels = solara.use_memo(
        lambda: [controller.household_label(i) for i in range(controller.n_households)],
        [controller.village],
    )
    current = labels[selected.value] if selected.value is not None and \
        selected.value < len(labels) else None

    def pick(label: str | None) -> None:
        selected.set(None if label is None else labels.index(label))

    with solara.Card("Household inspector", margin=0):
        solara.Text("Pick a household here, or click one in the network.",
                    style={"font-size": "12px"})
        solara.Select(label="household", values=labels, value=current, on_value=pick,
                      style={"max-width": "320px"}, classes=["vs-household-select"])
        if current is None:
            return
        household = int(selected.value)  # type: ignore[arg-type]
        stories = controller.stories(household)
        Picture(src=data_url(controller.story_chart(household)),
                alt=f"income and aid of household {household}", testid="household-chart",
                maxwidth="640px")
        with solara.Columns([1] * len(stories)):
            for story in stories:
                StoryPanel(story)


@solara.component
def StoryPanel(story: HouseholdStory) -> None:
    """One regime's account of a household: facts, kin ties to cadres, decisions."""
    with solara.Column(gap="4px"):
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(story.regime)}</b>")
        Table(["", ""], [[k, v] for k, v in story.facts.items()], testid="household-facts")
        ties = ", ".join(f"#{c}" for c in story.cadre_ties) or "none"
        solara.Text(f"kin ties to cadre households: {ties}", style={"font-size": "13px"})
        if story.decisions.empty:
            solara.Text("registration decisions: none yet", style={"font-size": "13px"})
        else:
            rows = [[str(v) for v in row] for row in story.decisions.itertuples(index=False)]
            header = [c.replace("_", " ") for c in story.decisions.columns]
            Table(header, rows, testid="household-decisions")


@solara.component
def VillageApp(settings: Settings | None = None, controller: Controller | None = None) -> None:
    """The whole page: controls, networks, charts, table and inspector.

    Args:
        settings: Initial settings (default: ``Settings()``, one regime, seed 1); ignored if
            a controller is given.
        controller: A controller to show (e.g. one a notebook also drives from code);
            default: a new one for this page.
    """
    given = controller
    controller = solara.use_memo(lambda: given or Controller(settings or Settings()), [])
    initial = controller.settings
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(5)
    selected: solara.Reactive[int | None] = solara.use_reactive(None)
    errors: solara.Reactive[list[str]] = solara.use_reactive([])
    form = {
        "regime": solara.use_reactive(initial.regime),
        "compare_regime": solara.use_reactive(initial.compare_regime),
        "side_by_side": solara.use_reactive(initial.side_by_side),
        "seed": solara.use_reactive(initial.seed),
        "parameters": solara.use_reactive(
            {name: initial.parameters.get(name, _default_text(name)) for name in APP_PARAMETERS}),
    }

    def changed() -> None:
        version.set(version.value + 1)

    def applied() -> None:
        playing.set(False)
        if selected.value is not None and selected.value >= controller.n_households:
            selected.set(None)
        changed()

    def reset() -> None:
        playing.set(False)
        controller.reset()
        changed()

    def play_loop(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            started = time.perf_counter()
            controller.step()
            changed()
            if cancel.wait(max(0.0, 1.0 / speed.value - (time.perf_counter() - started))):
                break

    solara.use_thread(play_loop, dependencies=[playing.value])

    solara.Title("village_sim: who gets the poverty aid?")
    css = page_css()
    if css:
        solara.Style(css)
    with solara.Column(style={"padding": "10px", "max-width": "1900px"}, classes=["vs-page"]):
        solara.HTML(tag="div", unsafe_innerHTML=(
            "<h2 style='margin:0'>Who gets the poverty aid? "
            "<span style='font-weight:normal;font-size:15px'>favoritism (优亲厚友) under the "
            "village committee alone and with a resident work team (驻村工作队)</span></h2>"))
        with solara.Columns([1, 4]):
            with solara.Column():
                Controls(controller, form, errors, applied)
            with solara.Column():
                LiveView(controller, version, playing, speed, selected, changed, reset)


@solara.component
def LiveView(controller: Controller, version: solara.Reactive[int],
             playing: solara.Reactive[bool], speed: solara.Reactive[int],
             selected: solara.Reactive[int | None], on_changed: Callable[[], None],
             on_reset: Callable[[], None]) -> None:
    """Everything that changes with the months: re-rendered alone when the village steps."""
    view = solara.use_reactive("the truth")
    size_by = solara.use_reactive("income per person")
    _ = version.value  # subscribe: re-render whenever the controller changed
    frame = controller.frame(VIEW_LABELS[view.value], SIZE_LABELS[size_by.value],
                             selected.value)
    Toolbar(controller, frame, playing, speed, on_changed, on_reset)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.ToggleButtonsSingle(value=view, values=list(VIEW_LABELS), dense=True)
        solara.ToggleButtonsSingle(value=size_by, values=list(SIZE_LABELS), dense=True)
    if len(frame.networks) == 1:  # network and charts side by side
        with solara.Columns([5, 6]):
            Networks(controller, frame, selected.set)
            Charts(controller, frame, columns=2)
    else:
        Networks(controller, frame, selected.set)
        Charts(controller, frame, columns=3)
    with solara.Columns([1, 1]):
        CurrentValues(frame)
        Inspector(controller, frame, selected)


@solara.component
def Page() -> None:
    """Entry point of ``solara run village_sim.app``."""
    VillageApp()
