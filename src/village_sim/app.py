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
import dataclasses
import html
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import solara

from village_sim.i18n import LANGUAGES, Catalog, language_names
from village_sim.model import METRIC_NAMES
from village_sim.params import PARAM_BY_NAME, REGIMES, ParameterError
from village_sim.scenario import list_scenarios
from village_sim.viz.address import (
    county_query,
    page_from_query,
    projector_in_query,
    settings_query,
)
from village_sim.viz.charts import (
    ANY_METRIC,
    CHARTS,
    KEY_CHARTS,
    REGIME_COLORS,
    any_metric_spec,
    spec_note,
    spec_title,
)
from village_sim.viz.controller import (
    APP_PARAMETERS,
    EVENT_LABELS,
    MAX_APP_HOUSEHOLDS,
    Controller,
    Frame,
    HouseholdStory,
    Settings,
    SettingsError,
    decision_rows,
    parameter_text,
    parse_settings,
    parse_value,
    pending_fields,
    scenario_settings,
)
from village_sim.viz.county import (
    COUNTY_LIMITS,
    COUNTY_METRICS,
    COUNTY_SETTING_KEYS,
    DEFAULT_COUNTY_METRIC,
    RULE_KEYS,
    CountyController,
    CountySettings,
    county_hint,
    county_problem,
    parse_county_settings,
)
from village_sim.viz.network import marker_svg

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


VIEW_KEYS = {"truth": "app.truth", "committee": "app.committee_sees"}
SIZE_KEYS = {"income": "app.income_per_person", "aid": "app.aid_received"}
SPEEDS = (1, 2, 5, 10)
# the pictures are shown at most at their drawn size in CSS pixels (and drawn with the
# display's pixel ratio more pixels: Controller.set_scale), never blown up
NETWORK_CSS_WIDTH, CHART_CSS_WIDTH, STORY_CSS_WIDTH = "640px", "420px", "560px"


def _default_text(name: str, lang: str = "en") -> str:
    return parameter_text(PARAM_BY_NAME[name].default, lang)


def convert_texts(texts: dict[str, str], source: str, target: str) -> dict[str, str]:
    """Typed parameter texts from one language's number convention to another's.

    ``0,5`` typed in Vietnamese shows as ``0.5`` in English and back; a text that does not
    read as a value is left as typed (its error stays on screen).
    """
    out = {}
    for name, text in texts.items():
        try:
            value = parse_value(name, text, source) if text.strip() else None
        except ValueError:
            value = None
        out[name] = parameter_text(value, target) if value is not None else text
    return out


LAYOUT_CSS = (
    # Restart wraps its label instead of overflowing a narrow column (1280 px projectors)
    ".vs-restart.v-btn { height: auto !important; min-height: 36px; padding: 6px 8px !important;"
    " white-space: normal; }\n"
    ".vs-restart .v-btn__content { white-space: normal; flex: 1 1 auto; line-height: 1.25; }\n"
    # seed and Restart stay on screen while the parameters scroll by; the column around them
    # must not be a scroll box of its own (Vuetify's .col has overflow: auto), or sticky
    # would stick within it and never to the screen
    # (and min-width 0 as a scroll box has, or its widest content would widen the column)
    ".vs-main > .col:first-child { overflow: visible !important; min-width: 0; }\n"
    # projector mode: the month readable from the back of the room
    ".vs-projector [data-testid='month'] { font-size: 26px; }\n"
    ".vs-projector h4 { margin-top: 0 !important; }\n"
    # projector mode's stage: the networks (left) and the key charts (right) fill the screen
    # below the bars (page_env.vue measures where it starts); each picture is drawn at the
    # size of its box (picture.vue reports it), so its text is 14 px on screen
    ".vs-stage { display: flex; gap: 16px; min-height: 340px;"
    " height: calc(100vh - var(--vs-stage-top, 240px) - 8px); }\n"
    ".vs-stage-networks { flex: 3 1 0; min-width: 0; display: flex; flex-direction: column; }\n"
    # the networks' titles, counts and pictures in rows, so both pictures get the same box
    ".vs-stage-row { flex: 1 1 0; min-height: 0; display: grid; column-gap: 12px;"
    " grid-auto-flow: column; grid-template-rows: auto auto minmax(0, 1fr);"
    " grid-auto-columns: minmax(0, 1fr); }\n"
    ".vs-stage-charts { flex: 2 1 0; min-width: 0; display: flex; flex-direction: column;"
    " gap: 2px; }\n"
    ".vs-stage-chart { flex: 1 1 0; min-height: 0; display: flex; flex-direction: column; }\n"
    ".vs-fit { flex: 1 1 0; min-height: 0; min-width: 0; position: relative; }\n"
    ".vs-stage-title { font-size: 18px; font-weight: bold; line-height: 1.25; margin: 0; }\n"
    ".vs-stage-counts { font-size: 15px; color: #333; line-height: 1.3; }\n"
    ".vs-stage-key { display: flex; flex-wrap: wrap; gap: 2px 16px; font-size: 15px;"
    " margin-top: 4px; line-height: 1.3; }\n"
    ".vs-stage-key span { display: inline-flex; align-items: center; gap: 4px; }\n"
    # a typed value not yet running: its box is tinted until Restart applies it
    ".vs-changed .v-input__slot { background: #e8f0fe; }\n"
    ".vs-footer { position: sticky; bottom: 0; z-index: 4; background: #fff;"
    " border-top: 1px solid #bbb; box-shadow: 0 -3px 6px rgba(0,0,0,.12); padding: 6px 8px; }"
)
"""The page's layout rules (a sticky footer, a Restart button that fits)."""


def page_css() -> str:
    """The page's own CSS: layout, and Chinese falling back to the packaged font.

    The ``unicode-range`` makes the browser fetch the font (from this server, 2 MB) only when
    a Chinese character has no glyph in the fonts before it. In Jupyter there is no such
    route, and the notebook's own fonts are used.
    """
    font = _packaged_cjk_font()
    if font is None or not _under_solara_server():
        return LAYOUT_CSS
    return LAYOUT_CSS + "\n" + (
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
    fit: bool = False,
    textpx: float = 0.0,
    csswidth: int = 0,
    event_clicked: Callable[[dict[str, float]], None] | None = None,
    event_resized: Callable[[dict[str, float]], None] | None = None,
) -> None:
    """An image; when ``clickable``, a click reports where (fractions of width and height).

    Shown at most ``maxwidth`` wide and never wider than its column. ``fit``: the image sits
    in a box the page's layout sizes and reports the box's size in CSS pixels (``resized``),
    so that it can be drawn at that size (projector mode); it is shown at ``csswidth`` CSS
    pixels (the width it was drawn for; its image has the display's pixel ratio times as many
    pixels), never larger than the box.
    ``textpx``: the smallest text drawn in it, in CSS pixels at its drawn size
    (``data-text-px``, for tests of legibility).
    """


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
def ParameterInput(name: str, text: str, on_text: Callable[[str], None],
                   lang: str = "en", changed: bool = False) -> None:
    """A text box for one parameter, with its unit and allowed range, checked as typed.

    A bad value is said in plain words with the parameter's label; a value that differs from
    the running village is marked until Restart applies it.
    """
    _ = Catalog(lang)
    param = PARAM_BY_NAME[name]
    error = ""
    if text.strip():
        try:
            parse_value(name, text, lang)
        except ParameterError as err:
            err.value = text.strip()
            error = _.problem(err)
    hint = f"{name} · " + _.allowed(name) + (f" · {_.unit(param.unit)}" if param.unit else "")
    if name == "n_households":
        hint += " · " + _("app.at_most_live", n=MAX_APP_HOUSEHOLDS)
    CheckedInput(_.param(name), text, on_text, error, hint, changed, lang)


@solara.component
def Controls(controller: Controller, form: dict[str, Any],
             errors: solara.Reactive[list[ParameterError]],
             on_applied: Callable[[], None], lang: str = "en") -> None:
    """Scenario, regimes, parameters, and a sticky footer with the seed and Restart.

    A scenario starts over at once, a regime or side by side keeps the month, typed texts
    wait for Restart (marked as changed until then). Refused settings are shown by the
    toolbar (:func:`ErrorBanner`), where the eye is.
    """
    _ = Catalog(lang)

    def apply(**changes: Any) -> None:
        for key, value in changes.items():
            form[key].set(value)
        scenario = form["scenario"].value
        settings = Settings(
            regime=form["regime"].value, compare_regime=form["compare_regime"].value,
            side_by_side=form["side_by_side"].value, seed=form["seed"].value,
            parameters=dict(form["parameters"].value),
            events=scenario_settings(scenario).events if scenario else (),
            scenario=scenario, lang=lang,
        )  # side by side with a scenario, the right run is its control (plan_sides)
        try:
            controller.apply(settings)
        except SettingsError as err:
            errors.set(err.problems)
            return
        errors.set([])
        on_applied()

    def switch(**changes: Any) -> None:
        # regimes and side by side change what is shown, not the village: the month is kept
        # (a new run is replayed to it, Controller.apply) and typed texts wait for Restart
        for key, value in changes.items():
            form[key].set(value)
        try:
            controller.apply(dataclasses.replace(controller.settings, **changes),
                             keep_month=True)
        except SettingsError as err:
            errors.set(err.problems)
            return
        errors.set([])
        on_applied()

    def pick_scenario(title: str | None) -> None:
        scenario = titles.get(title or "")
        if scenario is None:  # free play: the defaults, no scheduled events
            apply(scenario=None,
                  parameters={n: _default_text(n, lang) for n in APP_PARAMETERS})
            return
        settings = scenario_settings(scenario, lang=lang)
        apply(scenario=scenario, regime=settings.regime,
              compare_regime=settings.compare_regime,
              parameters={**{n: _default_text(n, lang) for n in APP_PARAMETERS},
                          **settings.parameters})

    # regimes and scenarios are shown by their names in the chosen language
    regime_names = {_.regime(r): r for r in REGIMES}
    titles = {s.text(lang).title: s.id for s in list_scenarios()}
    scenario_title = next((t for t, i in titles.items() if i == form["scenario"].value),
                          _("app.no_scenario"))
    with solara.Card(_("app.scenario"), margin=0, style={"margin-bottom": "8px"}):
        solara.Select(label=_("app.scenario"), values=[_("app.no_scenario"), *titles],
                      value=scenario_title, on_value=pick_scenario,
                      classes=["vs-scenario-select"])
    if form["scenario"].value is not None:
        ScenarioPanel(controller, lang)
    with solara.Card(_("app.village_and_regimes"), margin=0, style={"margin-bottom": "8px"}):
        # a scenario's regime is part of it: another regime leaves the scenario (free play)
        solara.Select(label=_("app.regime_left") if form["side_by_side"].value
                      else _("app.regime"),
                      values=list(regime_names), value=_.regime(form["regime"].value),
                      on_value=lambda v: switch(regime=regime_names[v], scenario=None)
                      if regime_names[v] != form["regime"].value else None)
        solara.Switch(label=_("app.side_by_side"),
                      value=form["side_by_side"].value,
                      on_value=lambda v: switch(side_by_side=v))
        if form["side_by_side"].value and form["scenario"].value is not None:
            # side by side, a scenario runs against its control (its own regime, parameters
            # and events): the right run is named, not chosen
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(controller.labels[-1]),
                        attributes={"data-testid": "control-label"},
                        style="font-size: 14px; margin: 0 0 8px 0")
        elif form["side_by_side"].value:
            solara.Select(label=_("app.second_regime"), values=list(regime_names),
                          value=_.regime(form["compare_regime"].value),
                          on_value=lambda v: switch(compare_regime=regime_names[v]))
    changed = set(pending_fields(controller.settings, form["seed"].value,
                                 form["parameters"].value, lang))
    with solara.Card(_("app.parameters"), margin=0, style={"margin-bottom": "8px"}):
        solara.Text(_("app.parameters_help"), style={"font-size": "12px"})
        texts = form["parameters"]

        def setter(name: str) -> Callable[[str], None]:
            def set_text(value: str) -> None:
                texts.set({**texts.value, name: value})
            return set_text

        for name in APP_PARAMETERS:
            ParameterInput(name, texts.value[name], setter(name), lang, name in changed)
    with solara.Column(gap="4px", classes=["vs-footer"]):
        SeedInput(form["seed"], lang, "seed" in changed)
        solara.Button(_("app.restart"), color="primary", on_click=apply, block=True,
                      classes=["vs-restart"])


@solara.component
def SeedInput(seed: solara.Reactive[str], lang: str = "en", changed: bool = False) -> None:
    """The seed's text box: checked as typed, marked when it differs from the running one."""
    _ = Catalog(lang)
    error = ""
    try:
        parse_settings(Settings(seed=seed.value))
    except SettingsError as err:
        error = _.problem(err.problems[0])
    CheckedInput(_("app.seed"), seed.value, seed.set, error, _("app.seed_help"), changed, lang)


@solara.component
def CheckedInput(label: str, text: str, on_text: Callable[[str], None], error: str, hint: str,
                 changed: bool, lang: str = "en") -> None:
    """A text box of the form: its error in plain words, else its hint.

    Marked (and tinted) while its value differs from the running village's.
    """
    if changed and not error:
        hint = "✎ " + Catalog(lang)("app.field_changed") + " · " + hint
    solara.InputText(label=label, value=text, on_value=on_text, error=error or False,
                     message=error or hint, continuous_update=False,
                     classes=["vs-changed"] if changed else [])


@solara.component
def ErrorBanner(controller: Controller, form: dict[str, Any],
                errors: solara.Reactive[list[ParameterError]], lang: str = "en") -> None:
    """By the toolbar: what Restart refused (in plain words), and what waits for Restart."""
    _ = Catalog(lang)
    if errors.value:
        items = "".join(f"<li>{html.escape(_.problem(e))}</li>" for e in errors.value)
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>{html.escape(_('app.not_applied'))}</b>"
            f"<ul style='margin:2px 0 0 18px;padding:0'>{items}</ul>"),
            attributes={"data-testid": "error-banner", "role": "alert"},
            style="font-size: 15px; background: #fdecea; color: #611a15;"
                  " border-left: 5px solid #d32f2f; padding: 6px 10px; margin: 4px 0")
    changed = pending_fields(controller.settings, form["seed"].value, form["parameters"].value,
                             lang)
    if changed:
        names = ", ".join(_.field(name) for name in changed)
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(
            _("app.pending", fields=names, restart=_("app.restart"))),
            attributes={"data-testid": "pending", "role": "status"},
            style="font-size: 14px; background: #e8f0fe; border-left: 5px solid #1a73e8;"
                  " padding: 4px 10px; margin: 4px 0")


@solara.component
def Toolbar(controller: Controller, frame: Frame, playing: solara.Reactive[bool],
            speed: solara.Reactive[int], on_changed: Callable[[], None],
            on_reset: Callable[[], None], lang: str = "en") -> None:
    """Step, play, pause, reset, speed, and the instructor's events."""
    _ = Catalog(lang)

    def step() -> None:
        controller.step()
        on_changed()

    def trigger(kind: str) -> Callable[[], None]:
        def handler() -> None:
            controller.trigger(kind)
            on_changed()
        return handler

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px"}):
        solara.Button(_("app.step"), on_click=step, disabled=playing.value, color="primary")
        if playing.value:
            solara.Button(_("app.pause"), on_click=lambda: playing.set(False), color="warning")
        else:
            solara.Button(_("app.play"), on_click=lambda: playing.set(True), color="success")
        solara.Button(_("app.reset"), on_click=on_reset, outlined=True)
        solara.Select(label=_("app.speed"), values=list(SPEEDS),
                      value=speed.value, on_value=speed.set, style={"max-width": "190px"})
        rate = controller.meter.rate
        if playing.value and rate is not None:  # what is delivered, not only what was asked
            solara.HTML(tag="span", unsafe_innerHTML=html.escape(
                _("app.real_rate", rate=_.number(rate, ".1f"))), attributes={"data-testid": "rate"},
                style="font-size: 13px")
        solara.HTML(tag="span", unsafe_innerHTML=(
            f"<b data-testid='month'>{html.escape(_('app.month', month=frame.month))}</b> · "
            + html.escape(_("app.status", households=controller.n_households,
                            seed=controller.seed))))
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "4px"}):
        solara.Text(_("app.instructor_events"), style={"font-size": "13px"})
        for kind in EVENT_LABELS:
            solara.Button(_.event(kind), on_click=trigger(kind), outlined=True, small=True,
                          color="secondary")
    for notice in controller.notices:  # an event that does not act says so, by the buttons
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(notice),
                    attributes={"data-testid": "event-notice"},
                    style="font-size: 14px; background: #fff3cd; border-left: 4px solid #b58900;"
                          " padding: 4px 8px; margin: 2px 0")
    events = controller.events_text()
    if events:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(_("app.events", events=events)),
                    attributes={"data-testid": "events"}, style="font-size: 13px")


def picker(controller: Controller, index: int,
           on_pick: Callable[[int], None]) -> Callable[[dict[str, float]], None]:
    """What a click on network ``index`` does: pick the household under it, if any."""
    def handler(where: dict[str, float]) -> None:
        household = controller.household_at(index, float(where["x"]), float(where["y"]))
        if household is not None:
            on_pick(household)
    return handler


@solara.component
def Networks(controller: Controller, frame: Frame, on_pick: Callable[[int], None],
             lang: str = "en") -> None:
    """One network picture per regime; a click picks the household under it."""
    _ = Catalog(lang)

    with solara.Columns([1] * len(frame.networks)):
        for index, png in enumerate(frame.networks):
            Picture(src=data_url(png),
                    alt=_("app.kinship_network", regime=controller.labels[index]),
                    testid=f"network-{index}", clickable=True, maxwidth=NETWORK_CSS_WIDTH,
                    event_clicked=picker(controller, index, on_pick))


@solara.component
def ProjectorStage(controller: Controller, frame: Frame, on_pick: Callable[[int], None],
                   on_changed: Callable[[], None], lang: str = "en") -> None:
    """Projector mode's one screen: both networks and the key charts, text 14 px or more.

    The stage fills the screen below the bars. Each picture is drawn at the size of its box
    (:meth:`Controller.fit`); the runs' names (in their chart colours), the counts and one key
    for both networks are the page's text, not drawn in the pictures.
    """
    _ = Catalog(lang)

    def fitted(kind: str) -> Callable[[dict[str, float]], None]:
        def handler(size: dict[str, float]) -> None:
            if controller.fit(kind, size["width"], size["height"]):
                on_changed()
        return handler

    key = "".join(f"<span>{marker_svg(entry)}{html.escape(entry.label)}</span>"
                  for entry in frame.key if entry.label)
    with solara.Div(classes=["vs-stage"]):
        with solara.Div(classes=["vs-stage-networks"]):
            with solara.Div(classes=["vs-stage-row"]):
                for index, png in enumerate(frame.networks):  # a column each, 3 rows
                    label = controller.labels[index]
                    solara.HTML(tag="h3", unsafe_innerHTML=f"━ {html.escape(label)}",
                                attributes={"data-testid": f"network-title-{index}"},
                                classes=["vs-stage-title"],
                                style=f"color: {REGIME_COLORS[index]}")
                    solara.HTML(tag="div", unsafe_innerHTML=html.escape(frame.counts[index]),
                                classes=["vs-stage-counts"])
                    Picture(src=data_url(png),
                            alt=_("app.kinship_network", regime=label),
                            testid=f"network-{index}", clickable=True, fit=True,
                            textpx=frame.text_px.get(f"network-{index}", 0.0),
                            csswidth=frame.css_width.get(f"network-{index}", 0),
                            event_clicked=picker(controller, index, on_pick),
                            event_resized=fitted("network"))
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"<b>{html.escape(frame.key_title)}</b>" + key),
                attributes={"data-testid": "network-key"}, classes=["vs-stage-key"])
        with solara.Div(classes=["vs-stage-charts"]):
            for spec in CHARTS:
                if spec.key not in KEY_CHARTS:
                    continue
                title = spec_title(spec, lang)
                with solara.Div(classes=["vs-stage-chart"]):
                    solara.HTML(tag="h4", unsafe_innerHTML=html.escape(title),
                                attributes={"data-testid": f"chart-title-{spec.key}"},
                                classes=["vs-stage-title"])
                    Picture(src=data_url(frame.charts[spec.key]), alt=title,
                            testid=f"chart-{spec.key}", fit=True,
                            textpx=frame.text_px.get(f"chart-{spec.key}", 0.0),
                            csswidth=frame.css_width.get(f"chart-{spec.key}", 0),
                            event_resized=fitted("chart"))


@solara.component
def Charts(controller: Controller, frame: Frame, columns: int, lang: str = "en",
           on_change: Callable[[], None] = lambda: None, skip: tuple[str, ...] = (),
           key_line: bool = True) -> None:
    """The metric charts, every regime on the same axes; the last draws any metric picked.

    Each chart's title is a heading above its picture (not drawn again inside it), and the
    runs' colours are the key line above the charts. ``skip``: chart keys to leave out
    (projector mode shows the key charts on its stage). ``on_change`` is called after the
    picked metric changes (the page redraws).
    """
    _ = Catalog(lang)
    if key_line:
        key = " · ".join(
            f"<span style='color:{REGIME_COLORS[i]};font-weight:bold'>━ "
            f"{html.escape(label)}</span>" for i, label in enumerate(controller.labels))
        solara.HTML(tag="div", unsafe_innerHTML=_("app.metrics_over_time", regimes=key),
                    style="margin: 6px 0")
    names = {_.metric(m): m for m in METRIC_NAMES}

    def pick(label: str) -> None:
        controller.set_any_metric(names[label])
        on_change()

    with solara.GridFixed(columns=columns):
        for spec in [*CHARTS, any_metric_spec(controller.any_metric)]:
            if spec.key in skip:
                continue
            title = spec_title(spec, lang)
            with solara.Column(gap="0px"):
                if spec.key == ANY_METRIC:
                    # any metric of the model, picked by its name in the page's language
                    solara.Select(label=_("app.any_metric"), values=list(names),
                                  value=_.metric(controller.any_metric), on_value=pick,
                                  classes=["any-metric-select"])
                solara.HTML(tag="h4", unsafe_innerHTML=html.escape(title),
                            attributes={"data-testid": f"chart-title-{spec.key}"},
                            style="margin: 4px 0 0 0; font-size: 13px")
                Picture(src=data_url(frame.charts[spec.key]), alt=title,
                        testid=f"chart-{spec.key}", maxwidth=CHART_CSS_WIDTH)
                solara.Text(spec_note(spec, lang), style={"font-size": "11px", "color": "#555"})


@solara.component
def CurrentValues(frame: Frame, lang: str = "en") -> None:
    """The table of current values (side by side: and the difference)."""
    now = html.escape(Catalog(lang)("app.now", month=frame.month))
    solara.HTML(tag="div", unsafe_innerHTML=f"<b>{now}</b>",
                style="margin-top: 8px")
    Table(frame.header, frame.table, testid="metric-table")


@solara.component
def Downloads(controller: Controller, seed: int, month: int, lang: str = "en") -> None:
    """The run so far for analysis: time series and decisions (CSV), settings (TOML).

    Built when clicked, from the controller; sent through the page's own connection. The
    files are named by ``seed`` and ``month`` (given, so the buttons re-render as they change).
    """
    _ = Catalog(lang)
    stem = f"village_sim_seed{seed}_month{month}"
    # the same callables every render: FileDownload forgets a pending click when its data
    # changes, and a playing village re-renders this several times a second
    files = solara.use_memo(lambda: (
        ("app.download_series", "timeseries.csv",
         lambda: controller.timeseries_table().to_csv(index=False), "text/csv"),
        ("app.download_decisions", "decisions.csv",
         lambda: controller.decisions_table().to_csv(index=False), "text/csv"),
        ("app.download_settings", "settings.toml", controller.settings_toml,
         "application/toml"),
    ), [controller])
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px",
                           "margin-top": "6px"}, classes=["vs-downloads"]):
        solara.Text(_("app.download") + ":", style={"font-size": "13px"})
        for key, name, data, mime in files:
            solara.FileDownload(data, filename=f"{stem}_{name}", mime_type=mime,
                                children=[solara.Button(_(key), outlined=True, small=True)])


@solara.component
def Inspector(controller: Controller, frame: Frame,
              selected: solara.Reactive[int | None], lang: str = "en") -> None:
    """Pick a household (search the list or click the network) and read its story.

    One facts table with a column per run, the cells that differ between runs highlighted;
    below it, full width, each run's registration decisions. Opening a household scrolls its
    story into view.
    """
    _ = Catalog(lang)
    labels = solara.use_memo(
        lambda: [controller.household_label(i) for i in range(controller.n_households)],
        [controller.village, lang],
    )
    current = labels[selected.value] if selected.value is not None and \
        selected.value < len(labels) else None

    def pick(label: str | None) -> None:
        selected.set(None if not label or label not in labels else labels.index(label))

    with solara.Card(_("app.household_inspector"), margin=0):
        solara.Text(_("app.pick_household"), style={"font-size": "12px"})
        # searchable: type a number, a clan or "cadre" to narrow 2,000 households
        solara.v.Autocomplete(label=_("app.household"), items=labels, v_model=current,
                              on_v_model=pick, clearable=True, auto_select_first=True,
                              no_data_text=_("app.none"), style_="max-width: 420px",
                              class_="vs-household-select")
        if current is None:
            return
        household = int(selected.value)  # type: ignore[arg-type]
        stories = controller.stories(household)
        ScrollIntoView(token=f"{household}")
        Picture(src=data_url(controller.story_chart(household)),
                alt=_("app.household_chart_alt", id=household), testid="household-chart",
                maxwidth=STORY_CSS_WIDTH)
        header, rows, differ = story_facts(stories, lang)
        solara.HTML(tag="div", unsafe_innerHTML=_facts_html(header, rows, differ))
        for story in stories:
            ties = ", ".join(f"#{c}" for c in story.cadre_ties) or _("app.none")
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"<h4 style='margin:10px 0 2px 0'>"
                f"{html.escape(_('story.decisions_of', run=story.label))}</h4>"
                f"<div style='font-size:14px'>{html.escape(_('app.kin_ties', ties=ties))}</div>"))
            if story.decisions.empty:
                solara.Text(_("app.no_decisions"), style={"font-size": "14px"})
            else:
                dheader, drows = decision_rows(story.decisions, lang)
                Table(dheader, drows, testid="household-decisions")


def story_facts(stories: Sequence[HouseholdStory], lang: str
                ) -> tuple[list[str], list[list[str]], list[bool]]:
    """The facts of every run in one table: (header, rows, whether each row differs)."""
    _ = Catalog(lang)
    header = [_("story.facts_header"), *(story.label for story in stories)]
    rows, differ = [], []
    for key in stories[0].facts:
        values = [story.facts.get(key, "") for story in stories]
        rows.append([key, *values])
        differ.append(len(stories) > 1 and len(set(values)) > 1)
    return header, rows, differ


def _facts_html(header: list[str], rows: list[list[str]], differ: list[bool]) -> str:
    head = "".join(f"<th style='text-align:left;padding:3px 8px'>{html.escape(h)}</th>"
                   for h in header)
    body = "".join(
        f"<tr{' class=vs-differs' if d else ''}>" + "".join(
            f"<td style='padding:2px 8px;vertical-align:top"
            f"{';background:#fff1b8;font-weight:600' if d and i > 0 else ''}'>"
            f"{html.escape(c)}</td>" for i, c in enumerate(r)) + "</tr>"
        for r, d in zip(rows, differ, strict=True))
    return (f"<table data-testid='household-facts' style='border-collapse:collapse;"
            f"font-size:14px;width:100%;table-layout:auto;word-break:break-word'>"
            f"<thead><tr style='border-bottom:1px solid #999'>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


@solara.component_vue("viz/page_env.vue", vuetify=False)
def PageEnvironment(lang: str = "en",
                    event_ratio: Callable[[float], None] | None = None,
                    projector: bool = False, restore: bool = False,
                    event_restored: Callable[[bool], None] | None = None) -> None:
    """What the page and the browser tell each other, with nothing shown.

    Sets the page's ``lang`` attribute (``<html lang="zh-CN">``) to the chosen language;
    reports the display's pixel ratio (``window.devicePixelRatio``) when the page opens and
    whenever it changes, so that pictures are drawn sharp on 2x screens; remembers projector
    mode in the browser's local storage and, with ``restore``, brings it back when the page
    opens (``restored``).
    """


@solara.component_vue("viz/scroll_into_view.vue", vuetify=False)
def ScrollIntoView(token: str = "") -> None:
    """An empty marker that scrolls its card into view whenever ``token`` changes."""


def play(target: Controller | CountyController, playing: solara.Reactive[bool],
         speed: solara.Reactive[int], changed: Callable[[], None],
         cancel: threading.Event) -> None:
    """Step ``target`` at ``speed`` months a second while ``playing``, until cancelled.

    A month is stepped only once the last one is drawn: on a slow machine the page would
    otherwise fall ever further behind, and a click on Pause wait behind it. A county stops
    playing at its last month.
    """
    target.meter.reset()
    while playing.value and not cancel.is_set():
        started = time.perf_counter()
        if getattr(target, "finished", False):
            playing.set(False)
            break
        if target.drawn_version >= target.version:
            target.step()
            target.meter.tick(time.perf_counter())
            changed()
        if cancel.wait(max(0.01, 1.0 / speed.value - (time.perf_counter() - started))):
            break


@solara.component
def VillageApp(settings: Settings | None = None, controller: Controller | None = None,
               lang: str | None = None, problems: Sequence[ParameterError] = (),
               on_settings: Callable[[Settings, str, bool], None] | None = None,
               projector: bool | None = None, view: str = "village",
               county: CountySettings | None = None,
               county_metric: str = DEFAULT_COUNTY_METRIC,
               on_county: Callable[[CountyController, str], None] | None = None) -> None:
    """The whole page: language, scenario, controls, networks, charts, table and inspector.

    A switch in the header shows a county instead (:func:`CountyPage`): ``view`` ``"county"``
    opens it first, with ``county`` settings and ``county_metric``; ``on_county`` is called
    with its controller and the language whenever they change (the page's address follows).

    Args:
        settings: Initial settings (default: ``Settings()``, one regime, seed 1); ignored if
            a controller is given.
        controller: A controller to show (e.g. one a notebook also drives from code);
            default: a new one for this page.
        lang: Initial language of a new controller (default English).
        problems: What was refused before the page opened (a bad address), shown in the banner.
        on_settings: Called with the settings, the language and projector mode whenever they
            change (the page's address follows them: :func:`Page`).
        projector: Start in projector mode (True/False), or None: as this browser last had it
            (remembered in its local storage).
        view: ``"village"`` or ``"county"``: what the page shows first.
        county: The county's settings when it is first shown (default: ``CountySettings()``).
        county_metric: The metric its villages are coloured by first.
        on_county: Called with the county's controller and the language whenever they
            change.
    """
    given = controller
    controller = solara.use_memo(
        lambda: given or Controller(settings or Settings(), lang=lang or "en"), [])
    initial = controller.settings
    language = solara.use_reactive(controller.lang)
    projector_on = solara.use_reactive(bool(projector))
    controller.set_projector(projector_on.value)
    show_settings = solara.use_reactive(False)
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(5)
    selected: solara.Reactive[int | None] = solara.use_reactive(None)
    errors: solara.Reactive[list[ParameterError]] = solara.use_reactive(list(problems))
    form: dict[str, Any] = {
        "regime": solara.use_reactive(initial.regime),
        "compare_regime": solara.use_reactive(initial.compare_regime),
        "side_by_side": solara.use_reactive(initial.side_by_side),
        "seed": solara.use_reactive(initial.seed),
        "scenario": solara.use_reactive(initial.scenario),
        "parameters": solara.use_reactive(convert_texts(
            {**{name: _default_text(name, initial.lang) for name in APP_PARAMETERS},
             **initial.parameters}, initial.lang, controller.lang)),
    }
    _ = Catalog(language.value)
    names = language_names()
    codes = {names[code]: code for code in LANGUAGES}
    view_now = solara.use_reactive("county" if view == "county" else "village")
    views = {"village": _("app.view_village"), "county": _("app.view_county")}
    # the county is built the first time it is shown (a county of villages takes a moment)
    county_box: dict[str, CountyController | None] = solara.use_memo(
        lambda: {"controller": None}, [])

    def county_controller() -> CountyController:
        made = county_box["controller"]
        if made is None:
            try:
                made = CountyController(county or CountySettings(), lang=controller.lang,
                                        metric=county_metric)
            except (SettingsError, ValueError):  # the address's problems are said already
                made = CountyController(lang=controller.lang)
            made.set_scale(controller.scale)
            county_box["controller"] = made
        return made

    def publish_county() -> None:
        if on_county is not None and county_box["controller"] is not None:
            on_county(county_box["controller"], controller.lang)

    def switch_view(code: str) -> None:
        if code == view_now.value:
            return
        view_now.set(code)
        if code == "county":
            county_controller()
            publish_county()
        else:
            publish()

    def publish() -> None:
        if on_settings is not None:
            on_settings(controller.settings, controller.lang, projector_on.value)

    def set_projector(on: bool) -> None:
        controller.set_projector(on)
        projector_on.set(bool(on))
        show_settings.set(False)
        publish()

    def switch_language(name: str | None) -> None:
        if name is None:
            return
        before = controller.lang
        controller.set_lang(codes[name])
        if county_box["controller"] is not None:
            county_box["controller"].set_lang(controller.lang)
        language.set(controller.lang)
        # the typed numbers follow the reader's convention (vi: 0,5)
        form["parameters"].set(convert_texts(form["parameters"].value, before, controller.lang))
        changed()
        if view_now.value == "county":
            publish_county()
        else:
            publish()

    def changed() -> None:
        version.set(version.value + 1)

    def applied() -> None:
        playing.set(False)
        if selected.value is not None and selected.value >= controller.n_households:
            selected.set(None)
        changed()
        publish()

    def reset() -> None:
        playing.set(False)
        controller.reset()
        changed()

    def play_loop(cancel: threading.Event) -> None:
        play(controller, playing, speed, changed, cancel)

    solara.use_thread(play_loop, dependencies=[playing.value])

    with solara.Head():  # Solara: a Title belongs inside a Head
        solara.Title(_("app.title"))
    solara.Style(page_css())

    def pixel_ratio(ratio: float) -> None:
        before = controller.scale
        controller.set_scale(ratio)
        if county_box["controller"] is not None:
            county_box["controller"].set_scale(ratio)
        if controller.scale != before:
            changed()

    PageEnvironment(lang=language.value, event_ratio=pixel_ratio,
                    projector=projector_on.value, restore=projector is None,
                    event_restored=set_projector)
    showing_county = view_now.value == "county"
    on = projector_on.value and not showing_county  # projector mode: the village view's
    with solara.Column(style={"padding": "6px 10px" if on else "10px", "max-width": "1900px"},
                       classes=["vs-page", *(["vs-projector"] if on else [])]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "12px"}):
            subheading = "" if on else (  # a projector keeps the screen for the village
                "<span style='font-weight:normal;font-size:15px'>"
                f"{html.escape(_('app.subheading'))}</span>")
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"<h2 style='margin:0'>{html.escape(_('app.heading'))} {subheading}</h2>"))
            solara.Text(_("app.language") + ":", style={"font-size": "13px"})
            solara.ToggleButtonsSingle(value=names[language.value],
                                       values=[names[code] for code in LANGUAGES],
                                       on_value=switch_language, dense=True,
                                       classes=["vs-language"])
            if not showing_county:
                solara.Switch(label=_("app.projector"), value=on, on_value=set_projector,
                              classes=["vs-projector-switch"])
            if on:  # the controls collapse to this button
                solara.Button(_("app.settings_hide" if show_settings.value
                                else "app.settings_show"),
                              on_click=lambda: show_settings.set(not show_settings.value),
                              outlined=True, small=True, classes=["vs-settings-toggle"])
            # one village, or a county of villages: two buttons, the one shown filled
            with solara.Row(gap="0px", classes=["vs-view"]):
                for code, label in views.items():
                    solara.Button(label, on_click=lambda code=code: switch_view(code),
                                  small=True, outlined=code != view_now.value,
                                  color="primary" if code == view_now.value else None,
                                  classes=[f"vs-view-{code}"])
        if showing_county:
            CountyPage(county_controller(), language.value, publish_county,
                       problems=problems if view == "county" else ())
        elif on and not show_settings.value:
            LiveView(controller, version, playing, speed, selected, changed, reset,
                     language.value, form, errors, projector=True)
        else:
            with solara.Columns([1, 4], classes=["vs-main"]):
                with solara.Column():
                    Controls(controller, form, errors, applied, language.value)
                with solara.Column():
                    LiveView(controller, version, playing, speed, selected, changed, reset,
                             language.value, form, errors, projector=on)


@solara.component
def CountyPage(county: CountyController, lang: str = "en",
               on_applied: Callable[[], None] = lambda: None,
               problems: Sequence[ParameterError] = ()) -> None:
    """A county: its settings, step and play, the villages coloured by a metric, the teams.

    A click on a village opens its kinship network (the village view's picture of the
    county's own village) with a way back; the county goes on stepping meanwhile. The state is
    the :class:`~village_sim.viz.county.CountyController`'s; ``on_applied`` is called after
    new settings or another metric (the page's address follows).
    """
    _ = Catalog(lang)
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(5)
    errors: solara.Reactive[list[ParameterError]] = solara.use_reactive(list(problems))
    texts = solara.use_reactive(county.settings.texts())
    _version = version.value  # subscribe: re-render whenever the county changed

    def changed() -> None:
        version.set(version.value + 1)

    def play_loop(cancel: threading.Event) -> None:
        play(county, playing, speed, changed, cancel)

    solara.use_thread(play_loop, dependencies=[playing.value])

    def restart() -> None:
        playing.set(False)
        try:
            county.apply(CountySettings(**texts.value))
        except SettingsError as err:
            errors.set(err.problems)
            return
        errors.set([])
        changed()
        on_applied()

    def reset() -> None:
        playing.set(False)
        county.reset()
        changed()

    def step() -> None:
        county.step()
        changed()

    def set_text(name: str) -> Callable[[str], None]:
        def setter(value: str) -> None:
            texts.set({**texts.value, name: value})
        return setter

    typed = CountySettings(**texts.value)
    try:
        parse_county_settings(typed)
        typed_errors: dict[str, str] = {}
    except SettingsError as err:
        typed_errors = {e.name: county_problem(e, lang) for e in err.problems}
    running = county.settings.texts()
    rules = {_(key): rule for rule, key in RULE_KEYS.items()}
    frame = county.frame()
    with solara.Columns([1, 4], classes=["vs-main"]):
        with solara.Column():
            with solara.Card(_("app.county_settings"), margin=0):
                solara.Text(_("app.county_settings_help", restart=_("app.restart")),
                            style={"font-size": "12px"})
                for name in COUNTY_LIMITS:
                    CheckedInput(_(COUNTY_SETTING_KEYS[name]), texts.value[name],
                                 set_text(name), typed_errors.get(name, ""),
                                 county_hint(name, lang),
                                 texts.value[name].strip() != running[name], lang)
                solara.Select(label=_("app.county_rule"), values=list(rules),
                              value=_(RULE_KEYS[texts.value["rule"]]),
                              on_value=lambda label: set_text("rule")(rules[label]),
                              classes=["vs-county-rule"])
                CheckedInput(_("app.seed"), texts.value["seed"], set_text("seed"),
                             typed_errors.get("seed", ""), county_hint("seed", lang),
                             texts.value["seed"].strip() != running["seed"], lang)
                solara.Button(_("app.restart"), color="primary", on_click=restart, block=True,
                              classes=["vs-restart", "vs-county-restart"])
        with solara.Column():
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "6px"}):
                solara.Button(_("app.step"), on_click=step,
                              disabled=playing.value or frame.finished, color="primary")
                if playing.value:
                    solara.Button(_("app.pause"), on_click=lambda: playing.set(False),
                                  color="warning")
                else:
                    solara.Button(_("app.play"), on_click=lambda: playing.set(True),
                                  color="success", disabled=frame.finished)
                solara.Button(_("app.reset"), on_click=reset, outlined=True)
                solara.Select(label=_("app.speed"), values=list(SPEEDS), value=speed.value,
                              on_value=speed.set, style={"max-width": "190px"})
                values = county.values
                solara.HTML(tag="span", unsafe_innerHTML=(
                    f"<b data-testid='month'>{html.escape(_('app.month', month=frame.month))}"
                    "</b> · " + html.escape(_(
                        "app.county_status", villages=values["villages"],
                        households=int(county.model.households.sum()), teams=values["teams"],
                        seed=values["seed"]))))
            if errors.value:
                items = "".join(f"<li>{html.escape(county_problem(e, lang))}</li>"
                                for e in errors.value)
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f"<b>{html.escape(_('app.not_applied'))}</b>"
                    f"<ul style='margin:2px 0 0 18px;padding:0'>{items}</ul>"),
                    attributes={"data-testid": "error-banner", "role": "alert"},
                    style="font-size: 15px; background: #fdecea; color: #611a15;"
                          " border-left: 5px solid #d32f2f; padding: 6px 10px; margin: 4px 0")
            if frame.finished:
                solara.HTML(tag="div", unsafe_innerHTML=html.escape(_(
                    "app.county_finished", months=county.months, reset=_("app.reset"))),
                    attributes={"data-testid": "county-finished"},
                    style="font-size: 14px; background: #fff3cd; border-left: 4px solid #b58900;"
                          " padding: 4px 8px; margin: 2px 0")
            if county.selected is None:
                CountyMap(county, frame, lang, changed, on_applied)
            else:
                CountyVillage(county, lang, changed)


@solara.component
def CountyMap(county: CountyController, frame: Any, lang: str,
              on_changed: Callable[[], None], on_metric: Callable[[], None]) -> None:
    """The county's villages (a click opens one), the metric chooser and the deployment log."""
    _ = Catalog(lang)
    metrics = {_.metric(m): m for m in COUNTY_METRICS}

    def pick_metric(label: str) -> None:
        county.set_metric(metrics[label])
        on_changed()
        on_metric()

    def clicked(where: dict[str, float]) -> None:
        village = county.village_at(float(where["x"]), float(where["y"]))
        if village is not None:
            county.open_village(village)
            on_changed()

    solara.Select(label=_("app.county_metric"), values=list(metrics),
                  value=_.metric(county.metric), on_value=pick_metric,
                  classes=["vs-county-metric"], style={"max-width": "420px"})
    with solara.Columns([3, 2]):
        with solara.Column(gap="2px"):
            Picture(src=data_url(frame.png),
                    alt=_("app.county_picture_alt", metric=_.metric(county.metric)),
                    testid="county-map", clickable=True, maxwidth=f"{frame.css_width}px",
                    textpx=frame.text_px, event_clicked=clicked)
            solara.Text(_("app.county_open_hint"), style={"font-size": "13px"})
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(frame.summary),
                        attributes={"data-testid": "county-summary"},
                        style="font-size: 14px; margin-top: 4px")
        with solara.Column(gap="2px"):
            solara.HTML(tag="h4", unsafe_innerHTML=html.escape(_("app.county_log")),
                        style="margin: 4px 0")
            if frame.log_rows:
                Table(frame.log_header, frame.log_rows, testid="county-log")
            else:
                solara.Text(_("app.county_no_log"), style={"font-size": "13px"})


@solara.component
def CountyVillage(county: CountyController, lang: str, on_changed: Callable[[], None]) -> None:
    """The village opened from the county: its kinship network and values, and a way back."""
    _ = Catalog(lang)
    shown = county.village_frame()
    if shown is None:
        return

    def back() -> None:
        county.open_village(None)
        on_changed()

    solara.Button("← " + _("app.county_back"), on_click=back, outlined=True,
                  classes=["vs-county-back"])
    with solara.Columns([5, 3]):
        Picture(src=data_url(shown.png),
                alt=_("app.kinship_network", regime=_("app.county_village", n=shown.village)),
                testid="county-village-network", maxwidth=NETWORK_CSS_WIDTH)
        Table(shown.header, shown.table, testid="county-village-values")


@solara.component
def ScenarioPanel(controller: Controller, lang: str = "en") -> None:
    """The teaching scenario in force: story, objectives, what to watch, questions."""
    _ = Catalog(lang)
    scenario = controller.scenario()
    if scenario is None:
        return
    text = scenario.text(lang)
    control = scenario.text(lang).title
    try:
        from village_sim.scenario import load_control

        control = load_control(scenario).text(lang).title
    except ValueError:
        pass

    def items(values: tuple[str, ...]) -> str:
        return "<ul style='margin:2px 0 6px 18px;padding:0'>" + "".join(
            f"<li>{html.escape(v)}</li>" for v in values) + "</ul>"

    events = ", ".join(_("app.event_month", event=_.event(e.kind), month=e.month)
                       for e in scenario.events)
    body = (
        f"<h3 style='margin:0 0 4px 0'>{html.escape(text.title)}</h3>"
        "<div style='font-size:12px;color:#555'>"
        + html.escape(_("app.scenario_loaded", title=text.label, months=scenario.steps,
                        control=control)) +
        "</div>"
        f"<h4 style='margin:6px 0 2px 0'>{html.escape(_('app.story'))}</h4>"
        f"<p style='margin:0'>{html.escape(text.story)}</p>"
        f"<h4 style='margin:6px 0 2px 0'>{html.escape(_('app.objectives'))}</h4>"
        + items(text.objectives)
        + f"<h4 style='margin:6px 0 2px 0'>{html.escape(_('app.watch'))}</h4>"
        + items(text.watch)
        + f"<h4 style='margin:6px 0 2px 0'>{html.escape(_('app.questions'))}</h4>"
        + items(text.questions)
        + (f"<div style='font-size:12px'>{html.escape(_('app.scheduled_events', events=events))}"
           "</div>" if events else "")
    )
    with solara.Card(margin=0, style={"margin-bottom": "8px"}):
        solara.HTML(tag="div", unsafe_innerHTML=body, attributes={"data-testid": "scenario-text"},
                    style="font-size: 13px")


@solara.component
def LiveView(controller: Controller, version: solara.Reactive[int],
             playing: solara.Reactive[bool], speed: solara.Reactive[int],
             selected: solara.Reactive[int | None], on_changed: Callable[[], None],
             on_reset: Callable[[], None], lang: str = "en",
             form: dict[str, Any] | None = None,
             errors: solara.Reactive[list[ParameterError]] | None = None,
             projector: bool = False) -> None:
    """Everything that changes with the months: re-rendered alone when the village steps.

    ``form`` and ``errors`` (the page's inputs and what Restart refused) feed the banner by
    the toolbar. ``projector``: the networks and the key charts first, sized to be on screen
    together at 1280×720 (:data:`KEY_CHARTS`); the other charts, the table and the inspector
    below.
    """
    _ = Catalog(lang)
    view = solara.use_reactive("truth")
    size_by = solara.use_reactive("income")
    _version = version.value  # subscribe: re-render whenever the controller changed
    frame = controller.frame(view.value, size_by.value, selected.value)
    Toolbar(controller, frame, playing, speed, on_changed, on_reset, lang)
    if form is not None and errors is not None:
        ErrorBanner(controller, form, errors, lang)
    views = {_(key): code for code, key in VIEW_KEYS.items()}
    sizes = {_(key): code for code, key in SIZE_KEYS.items()}

    def toggles() -> None:
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(value=_(VIEW_KEYS[view.value]), values=list(views),
                                       on_value=lambda v: view.set(views[v]), dense=True)
            solara.ToggleButtonsSingle(value=_(SIZE_KEYS[size_by.value]), values=list(sizes),
                                       on_value=lambda v: size_by.set(sizes[v]), dense=True)

    if projector:
        # a projector: the networks and the key charts on one screen, the rest below
        ProjectorStage(controller, frame, selected.set, on_changed, lang)
        toggles()
        Inspector(controller, frame, selected, lang)
        Charts(controller, frame, columns=3, lang=lang, on_change=on_changed,
               skip=KEY_CHARTS, key_line=False)
    else:
        toggles()
        # a household's story opens next to the network(s) it was clicked in
        if len(frame.networks) == 1:  # network and charts side by side
            with solara.Columns([5, 6]):
                with solara.Column():
                    Networks(controller, frame, selected.set, lang)
                    Inspector(controller, frame, selected, lang)
                Charts(controller, frame, columns=2, lang=lang, on_change=on_changed)
        else:
            Networks(controller, frame, selected.set, lang)
            Inspector(controller, frame, selected, lang)
            Charts(controller, frame, columns=3, lang=lang, on_change=on_changed)
    CurrentValues(frame, lang)
    Downloads(controller, controller.seed, frame.month, lang)


@solara.component
def Page() -> None:
    """Entry point of ``solara run village_sim.app``.

    The page's address holds its settings (:mod:`village_sim.viz.address`): opened from a
    shared link, the page starts with them (a bad entry is said in the banner and left out);
    applied settings and the language are written back to the address.
    """
    router = solara.use_router()
    opened = solara.use_memo(lambda: page_from_query(router.search), [])

    def go(query: str) -> None:
        if query != (router.search or ""):
            router.push(f"{router.path or '/'}?{query}")

    def follow(settings: Settings, lang: str, projector: bool) -> None:
        go(settings_query(settings, lang, projector))

    def follow_county(county: CountyController, lang: str) -> None:
        go(county_query(county.settings, county.metric, lang))

    VillageApp(settings=opened.settings, lang=opened.lang, problems=opened.problems,
               on_settings=follow, projector=projector_in_query(router.search),
               view=opened.view, county=opened.county, county_metric=opened.metric,
               on_county=follow_county)
