"""Tests of the live app without a browser: layout, pictures, controller, Solara components,
and the example notebook (executed with nbclient).

The browser tests (tests/test_browser.py) load the same page in headless Chromium.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import ipyvuetify as v
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import solara
from matplotlib.text import Text

import village_sim
from village_sim.app import VillageApp, data_url
from village_sim.codes import Outcome
from village_sim.events import Event
from village_sim.i18n import APP_KEYS, LANGUAGES, Catalog, language_names, messages, t
from village_sim.model import METRIC_NAMES
from village_sim.params import PARAM_BY_NAME, REGIMES, resolve_parameters
from village_sim.scenario import (
    list_scenarios,
    load_control,
    load_scenario,
    run_pair,
    scenario_ids,
)
from village_sim.viz.address import settings_from_query, settings_query
from village_sim.viz.charts import CHARTS, chart_title
from village_sim.viz.controller import (
    APP_PARAMETERS,
    EVENT_LABELS,
    MAX_APP_HOUSEHOLDS,
    Controller,
    RateMeter,
    Settings,
    SettingsError,
    control_overrides,
    event_effect,
    parameter_text,
    parse_settings,
    parse_value,
    pending_fields,
    plan_sides,
    scenario_settings,
)
from village_sim.viz.network import Status, clan_layout, status_codes

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
SMALL = {"n_households": "120"}


# ---------------------------------------------------------------------------- layout
CVD_TYPES = ("deuteranomaly", "protanomaly", "tritanomaly")  # at severity 100: -anopia
MIN_DELTA_E = 20.0  # CAM02-UCS units; the old palette had 3.0 (purple vs team, protanopia)


def simulated_distance(a: str, b: str) -> float:
    """The smallest CAM02-UCS distance between two colours, seen with normal vision and under
    simulated deuteranopia, protanopia and tritanopia (Machado et al. 2009)."""
    import warnings

    from matplotlib.colors import to_rgb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # colorspacious 1.1.2's docstrings
        import colorspacious

    out = []
    for cvd in (None, *CVD_TYPES):
        seen = []
        for colour in (a, b):
            rgb = np.array(to_rgb(colour))
            if cvd is not None:
                space = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
                rgb = np.clip(colorspacious.cspace_convert(rgb, space, "sRGB1"), 0, 1)
            seen.append(colorspacious.cspace_convert(rgb, "sRGB1", "CAM02-UCS"))
        out.append(float(np.linalg.norm(seen[0] - seen[1])))
    return min(out)


def test_status_colours_and_team_stay_apart_for_colour_blind_students() -> None:
    from village_sim.viz.network import STATUS_COLORS, STATUS_MARKERS, TEAM_COLOR

    shown = [STATUS_COLORS[s] for s in (Status.NOT_POOR, Status.POOR_LISTED, Status.POOR_MISSED,
                                        Status.NOT_POOR_LISTED)] + [TEAM_COLOR]
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            assert simulated_distance(a, b) >= MIN_DELTA_E, (a, b, simulated_distance(a, b))
    # the check can fail: the old purple and team blue are 3 units apart under protanopia
    assert simulated_distance("#9B59B6", "#0072B2") < 5.0
    # and the four statuses differ by shape too, none a square (cadres) or a triangle (team)
    four = STATUS_MARKERS[:4]
    assert len(set(four)) == 4 and not set(four) & {"s", "^"}


def test_the_poor_are_never_drawn_smallest() -> None:
    from village_sim.viz.network import _MARKER_SCALE

    controller = Controller(Settings(parameters={"n_households": "600"}))
    controller.step(13)
    run = controller.runs[0]
    run.render("truth", "income", None)
    status = run.status("truth")
    picture = run.picture
    drawn = np.zeros(run.model.n)
    for k, nodes in enumerate(picture.nodes):
        idx = picture._other[status[picture._other] == k]
        assert np.allclose(nodes.get_offsets(), run.layout.xy[idx])  # each in its shape
        drawn[idx] = np.sqrt(nodes.get_sizes()) / _MARKER_SCALE[k]
    poor = np.isin(status, (Status.POOR_LISTED, Status.POOR_MISSED)) & ~run.model.cadre
    rest = ~poor & ~run.model.cadre
    assert poor.any() and rest.any()
    assert drawn[poor].min() >= drawn[rest].min() - 1e-9
    # by income alone the poor would be the smallest
    sizes = np.clip(run.sizes("income"), 0.45, 1.6)
    assert sizes[poor].min() < sizes[rest].min()


@pytest.mark.parametrize("n_clans", [1, 2, 6, 12, 40])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clan_layout_geometry(n_clans: int, seed: int) -> None:
    """Households sit inside their clan's circle, apart; clan circles do not overlap."""
    rng = np.random.default_rng(seed)
    n = 400
    clan = rng.permutation(np.arange(n) % n_clans)
    cadre = np.zeros(n, dtype=bool)
    cadre[rng.choice(n, 5, replace=False)] = True
    layout = clan_layout(clan, cadre)
    d = np.linalg.norm(layout.xy - layout.centers[clan], axis=1)
    assert np.all(d <= layout.radii[clan])
    pair = np.linalg.norm(layout.xy[:, None] - layout.xy[None], axis=2)
    np.fill_diagonal(pair, np.inf)
    assert pair.min() > 0.5  # one unit is the spacing; no two households on top of another
    centre = np.linalg.norm(layout.centers[:, None] - layout.centers[None], axis=2)
    reach = layout.radii[:, None] + layout.radii[None]
    off = ~np.eye(n_clans, dtype=bool)
    assert np.all(centre[off] >= reach[off])
    xmin, xmax, ymin, ymax = layout.extent
    assert xmin <= layout.xy[:, 0].min() and layout.xy[:, 0].max() <= xmax
    assert ymin <= layout.xy[:, 1].min() and layout.xy[:, 1].max() <= ymax
    # cadres at the centre of their clan: nearer than any non-cadre of the same clan
    for c in np.unique(clan[cadre]):
        members = clan == c
        assert d[cadre & members].max() <= d[~cadre & members].min()
    again = clan_layout(clan, cadre)
    assert np.array_equal(again.xy, layout.xy)


def test_status_codes() -> None:
    poor = np.array([True, True, False, False])
    listed = np.array([True, False, True, False])
    assert status_codes(poor, listed).tolist() == [
        Status.POOR_LISTED, Status.POOR_MISSED, Status.NOT_POOR_LISTED, Status.NOT_POOR]


# ---------------------------------------------------------------------------- settings
def test_parse_settings_accepts_texts() -> None:
    regimes, seed, overrides = parse_settings(Settings(
        regime="committee_only", compare_regime="team_alone", side_by_side=True, seed=" 7 ",
        parameters={"n_households": "200", "favoritism": "0.8", "quota": ""}))
    assert regimes == ["committee_only", "team_alone"]
    assert seed == 7
    assert overrides == {"n_households": 200, "favoritism": 0.8}
    assert isinstance(overrides["n_households"], int)


@pytest.mark.parametrize(("settings", "expected"), [
    (Settings(seed="abc"), ["seed: parameter 'rng': got 'abc'"]),
    (Settings(seed="-3"), ["seed: parameter 'rng': got '-3'"]),
    (Settings(seed="1.5"), ["seed: parameter 'rng': got '1.5'"]),
    (Settings(parameters={"favoritism": "2"}),
     ["parameter 'favoritism': got 2; allowed: a number in [0, 1]"]),
    (Settings(parameters={"n_households": "5"}),
     ["parameter 'n_households': got 5; allowed: an integer in [10, 1000000]"]),
    (Settings(parameters={"n_households": "12.5"}), ["parameter 'n_households': got 12.5"]),
    (Settings(parameters={"quota": "lots"}), ["parameter 'quota': got 'lots'"]),
    (Settings(parameters={"n_households": str(MAX_APP_HOUSEHOLDS + 1)}),
     [f"allowed in the live app: at most {MAX_APP_HOUSEHOLDS}"]),
    (Settings(regime="nobody"), ["regime: got 'nobody'"]),
    (Settings(seed="x", parameters={"quota": "-1", "sanction": "1e9"}),
     ["seed:", "parameter 'quota'", "parameter 'sanction'"]),
])
def test_parse_settings_refuses_bad_input(settings: Settings, expected: list[str]) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(settings)
    messages = info.value.messages
    assert len(messages) == len(expected)
    for message, part in zip(messages, expected, strict=True):
        assert part in message


PROBLEM_CASES = [  # (settings, rule of each problem)
    (Settings(seed="one"), ["seed"]),
    (Settings(regime="nobody"), ["regime"]),
    (Settings(parameters={"favoritism": "3"}), ["range"]),
    (Settings(parameters={"n_households": "12.5"}), ["range"]),
    (Settings(parameters={"quota_control": "maybe"}), ["bool"]),
    (Settings(parameters={"quota_mode": "sometimes"}), ["choice"]),
    (Settings(parameters={"n_households": str(MAX_APP_HOUSEHOLDS + 1)}), ["live_max"]),
    (Settings(parameters={"team_arrives": "10", "team_leaves": "5"}), ["after"]),
    (Settings(parameters={"measure_share": "0.7", "project_share": "0.6"}),
     ["sum_at_most_1"]),
    (Settings(parameters={"committee_size": "20", "n_households": "15"}), ["fewer_than"]),
    (Settings(parameters={"favouritism": "0.5"}), ["unknown"]),
]


@pytest.mark.parametrize(("settings", "rules"), PROBLEM_CASES)
def test_every_refusal_names_the_field_and_value_in_every_language(settings: Settings,
                                                                   rules: list[str]) -> None:
    """Issue 15 item 4: a refusal is said with the field's label, the value and what is
    allowed, in plain words of the reader's language; the English API message is unchanged."""
    with pytest.raises(SettingsError) as info:
        parse_settings(settings)
    problems = info.value.problems
    assert [p.rule for p in problems] == rules
    assert [str(p) for p in problems] == info.value.messages
    typed = {**settings.parameters, "seed": settings.seed, "regime": settings.regime}
    for problem in problems:
        for lang in LANGUAGES:
            _ = Catalog(lang)
            text = _.problem(problem)
            assert text[0] == text[0].upper(), text  # a sentence
            if problem.rule != "unknown":
                assert _.field(problem.name).lower() in text.lower(), (lang, text)
            if problem.rule in ("seed", "range", "bool", "choice"):
                assert f"“{typed[problem.name]}”" in text, (lang, text)
            if problem.rule == "unknown":
                assert f"“{problem.name}”" in text, (lang, text)
            if problem.other:
                assert _.field(problem.other) in text, (lang, text)
            if lang != "en":
                assert not re.search(r"\b(allowed|parameter|got|number|month)\b", text), text
                assert "'" not in text, text  # no Python reprs


def test_parameter_errors_survive_pickling() -> None:
    """Sweep workers send errors back to the parent process."""
    import pickle

    with pytest.raises(SettingsError) as info:
        parse_settings(Settings(seed="x", parameters={"favoritism": "3"}))
    back = pickle.loads(pickle.dumps(info.value))
    assert back.messages == info.value.messages
    assert [(p.name, p.value, p.rule) for p in back.problems] == \
        [("seed", "x", "seed"), ("favoritism", "3", "range")]
    with pytest.raises(ValueError) as raised:
        resolve_parameters(team_arrives=10, team_leaves=5)
    again = pickle.loads(pickle.dumps(raised.value))
    assert (str(again), again.rule, again.other) == (str(raised.value), "after", "team_arrives")


def test_pending_fields_compare_meaning_not_spelling() -> None:
    running = Settings(seed="1", parameters={"favoritism": "0.5"})
    assert pending_fields(running, "01", {"favoritism": "0.50", "quota": ""}) == []
    assert pending_fields(running, "2", {"favoritism": "0.5"}) == ["seed"]
    assert pending_fields(running, "1", {"favoritism": "0.6", "quota": "0.3"}) == \
        ["favoritism"]  # 0.3 is the quota's default: not a change
    assert pending_fields(running, "1", {"quota": "0.2"}) == ["quota"]
    assert pending_fields(running, "one", {"favoritism": "lots"}) == ["seed", "favoritism"]
    assert pending_fields(Settings(), "1", {"favoritism": _default(
        "favoritism")}) == []


def _default(name: str) -> str:
    value = PARAM_BY_NAME[name].default
    return "none" if value is None else str(value)


def test_parse_value_matches_the_parameter_table() -> None:
    for name in APP_PARAMETERS:
        default = PARAM_BY_NAME[name].default
        assert parse_value(name, str(default)) == default
    assert parse_value("team_visits_per_month", "6") == 6
    assert parse_value("audit_probability", "1e-2") == pytest.approx(0.01)
    with pytest.raises(ValueError, match="team_visits_per_month"):
        parse_value("team_visits_per_month", "6.5")


# ---------------------------------------------------------------------------- controller
def test_controller_steps_and_pictures_change() -> None:
    controller = Controller(Settings(parameters=SMALL))
    first = controller.frame()
    assert controller.month == first.month == 0
    assert len(first.networks) == 1
    assert set(first.charts) == {spec.key for spec in CHARTS} | {"any_metric"}
    for png in [*first.networks, *first.charts.values()]:
        assert png.startswith(PNG)
    assert controller.frame() is first  # cached until something changes
    controller.step(10)
    later = controller.frame()
    assert later.month == 10
    assert later.networks[0] != first.networks[0]
    for key in first.charts:
        assert later.charts[key] != first.charts[key], key
    assert len(controller.runs[0].income) == 11
    header, rows = controller.table()
    assert header == ["metric", t("regime_short.committee_only", "en")]
    assert [r[0] for r in rows][0] == t("metric.kin_premium", "en")


def test_side_by_side_shares_village_layout_and_shocks() -> None:
    controller = Controller(Settings(side_by_side=True, seed="3", parameters=SMALL))
    left, right = (run.model for run in controller.runs)
    assert controller.regimes == ["committee_only", "team_and_committee"]
    assert controller.runs[0].layout is controller.runs[1].layout
    for name in ("clan", "persons", "labour", "cadre", "cadre_kin"):
        assert np.array_equal(getattr(left, name), getattr(right, name))
    assert (left.kin != right.kin).nnz == 0
    controller.step()
    # month 1's market income comes before any regime has acted: common random numbers
    assert np.array_equal(left.per_capita_income(), right.per_capita_income())
    controller.step(12)
    assert left.steps == right.steps == 13
    frame = controller.frame()
    assert len(frame.networks) == 2 and frame.networks[0] != frame.networks[1]
    assert frame.header[-1] == "difference"
    team_row = [r for r in frame.table if r[0] == t("metric.team_active", "en")][0]
    assert team_row[1:3] == ["no", "yes"]


def test_bad_settings_keep_the_running_simulation() -> None:
    controller = Controller(Settings(parameters=SMALL))
    controller.step(3)
    with pytest.raises(SettingsError):
        controller.apply(Settings(seed="x", parameters=SMALL))
    assert controller.month == 3
    controller.apply(Settings(seed="2", parameters={"n_households": "60"}))
    assert controller.month == 0 and controller.n_households == 60 and controller.seed == 2


def test_committee_view() -> None:
    controller = Controller(Settings(parameters=SMALL))
    run = controller.runs[0]
    assert np.all(run.status("committee") == Status.UNKNOWN)
    controller.step()
    listed = run.committee_list()
    assert listed is not None and listed.sum() > 0
    view = run.status("committee")
    assert not np.any(view == Status.UNKNOWN)
    z = run.model.p.poverty_line
    assert np.array_equal(view, status_codes(run.model.committee.estimate < z, listed))
    # favoritism shows where the two views part: listed though it sees them as not poor
    assert controller.frame(view="committee").networks[0] != controller.frame().networks[0]

    alone = Controller(Settings(regime="team_alone", parameters=SMALL))
    alone.step()
    assert alone.runs[0].committee_list() is None  # the team lists alone
    assert not np.any(alone.runs[0].status("committee") == Status.UNKNOWN)


def test_team_events_move_the_team_window() -> None:
    controller = Controller(Settings(regime="team_and_committee", parameters=SMALL))
    run = controller.runs[0]
    controller.step(2)
    assert run.team_state() == "active"
    controller.team_leaves_now()
    controller.step()
    assert run.team_state() == "left" and not run.model.team_active
    controller.team_arrives_now()
    assert run.team_state() == "left"  # events apply at the start of their month
    assert "Work team arrives (month 4)" in controller.events_text()
    controller.step()
    assert run.team_state() == "active"
    assert controller.events_text() == (
        "happened: [1] Work team leaves (month 3), [2] Work team arrives (month 4)")
    controller.trigger("flood")
    controller.step()
    assert [e.kind for e in run.model.events_applied][-1] == "flood"
    with pytest.raises(ValueError, match="event"):
        controller.trigger("earthquake")
    alone = Controller(Settings(regime="committee_only", parameters=SMALL))
    alone.team_arrives_now()
    alone.step()
    assert alone.runs[0].team_state() == "absent"


def test_an_event_that_does_not_act_says_so_and_a_double_click_counts_once() -> None:
    controller = Controller(Settings(regime="committee_only", side_by_side=True,
                                     compare_regime="team_and_committee", parameters=SMALL))
    controller.step(2)
    left, right = controller.runs
    # no team on the left: the arrival is not scheduled there, and a notice names the side
    # ... and the team is already in the village on the right: two notices, nothing scheduled
    notices = controller.trigger("team_arrives")
    assert notices == [
        t("app.event_no_effect", "en", event="Work team arrives", run=left.label,
          reason=t("app.reason_no_team", "en")),
        t("app.event_no_effect", "en", event="Work team arrives", run=right.label,
          reason=t("app.reason_team_there", "en"))]
    assert left.model.events == [] == right.model.events
    assert controller.instructor == [Event(3, "team_arrives")]  # replayed in a run added later
    assert controller.trigger("flood") == []
    assert controller.trigger("flood") == [  # a double click: one flood, and it says so
        t("app.event_no_effect", "en", event="Flood", run=run.label,
          reason=t("app.reason_already", "en", month=3)) for run in controller.runs]
    assert [e.kind for e in left.model.events] == ["flood"] == [e.kind
                                                                for e in right.model.events]
    assert controller.instructor == [Event(3, "team_arrives"), Event(3, "flood")]
    controller.step()
    assert controller.notices == []  # notices last until the next month
    assert controller.trigger("team_leaves")[0].startswith("Work team leaves: nothing happens")
    controller.step()
    assert not right.model.team_active
    assert event_effect(right.model, "team_leaves") == "team_gone"
    assert event_effect(right.model, "team_arrives") is None  # it may come back
    # without a team but with its money (committee_plus_mobilization) the window still acts
    money = Controller(Settings(regime="committee_plus_mobilization", parameters=SMALL))
    assert event_effect(money.runs[0].model, "team_leaves") is None
    assert event_effect(money.runs[0].model, "team_arrives") == "team_there"


def test_switching_side_by_side_or_a_regime_keeps_the_month() -> None:
    """A new run is replayed to the month with the instructor's events so far: exactly the
    run it would have been had it been on screen from the start."""
    def play(controller: Controller) -> None:
        controller.step(3)
        controller.trigger("flood")
        controller.trigger("team_leaves")  # acts on the right only (no team on the left)
        controller.step(4)
        controller.trigger("audit_now")
        controller.step(6)

    single = Controller(Settings(regime="committee_only", parameters=SMALL))
    play(single)
    left = single.runs[0]
    single.apply(dataclasses.replace(single.settings, side_by_side=True), keep_month=True)
    assert single.month == 13 and single.runs[0] is left  # the left run goes on untouched
    both = Controller(Settings(regime="committee_only", side_by_side=True, parameters=SMALL))
    play(both)
    for ours, theirs in zip(single.runs, both.runs, strict=True):
        assert ours.month == theirs.month == 13
        a = pd.DataFrame(ours.history())[list(METRIC_NAMES)].to_numpy(dtype=float)
        b = pd.DataFrame(theirs.history())[list(METRIC_NAMES)].to_numpy(dtype=float)
        assert np.array_equal(a, b, equal_nan=True)
        assert ours.model.events_applied == theirs.model.events_applied
        assert np.array_equal(np.array(ours.income), np.array(theirs.income))
    assert Event(4, "team_leaves") in single.runs[1].model.events_applied
    assert Event(4, "team_leaves") not in single.runs[0].model.events_applied
    # a regime change on the left keeps the month and the right run
    right = single.runs[1]
    single.apply(dataclasses.replace(single.settings, regime="team_alone"), keep_month=True)
    assert single.month == 13 and single.runs[1] is right and single.regimes[0] == "team_alone"
    assert Event(4, "team_leaves") in single.runs[0].model.events_applied  # replayed there
    # Restart (the default) starts over, and forgets the instructor's events
    single.apply(single.settings)
    assert single.month == 0 and single.instructor == []


def test_events_are_numbered_and_marked_on_the_charts() -> None:
    controller = Controller(scenario_settings("floods_and_illness", side_by_side=True))
    scheduled = load_scenario("floods_and_illness").events
    marks = controller.event_marks()
    # the scenario's events happen on the left only (its control has none): coloured marks
    assert [(m, run) for m, _, run in marks] == [(e.month, 0) for e in scheduled]
    assert [n for _, n, _ in marks] == [str(k) for k in range(1, len(scheduled) + 1)]
    first = controller.frame().charts["kin_premium"]
    controller.trigger("audit_now")
    assert controller.event_marks()[0] == (1, "1", None)  # in every run: grey, first in order
    assert controller.frame().charts["kin_premium"] != first  # drawn
    text = controller.events_text()
    assert text.startswith("coming: [1] Audit from above (month 1), [2] ")
    assert t("app.event_only", "en", runs=controller.labels[0]) in text


def test_rate_meter_reports_the_months_actually_played() -> None:
    meter = RateMeter(window=5)
    assert meter.rate is None
    for k in range(5):
        meter.tick(10.0 + 0.25 * k)  # 4 months a second
    assert meter.rate == pytest.approx(4.0)
    meter.tick(12.0)  # a slow frame: the window slides
    assert meter.rate == pytest.approx(4 / 1.75)
    meter.reset()
    assert meter.rate is None


@pytest.mark.parametrize("settings", [
    Settings(parameters={**SMALL, "favoritism": "0.8", "quota": "0.25"}, seed="3"),
    scenario_settings("team_leaves", side_by_side=True, seed="2"),
], ids=["free_play", "scenario_and_control"])
def test_downloaded_settings_repeat_the_page_run_exactly(settings: Settings,
                                                         tmp_path: Path) -> None:
    """Issue 15 item 7: the settings file the page gives is a --params file from which
    ``village-sim run`` repeats the left run month by month, bit for bit."""
    controller = Controller(settings)
    controller.step(14)
    series = controller.timeseries_table()
    assert list(series.columns[:5]) == ["run", "role", "regime", "scenario", "seed"]
    assert sorted(series["run"].unique()) == list(range(len(controller.runs)))
    assert (series.groupby("run")["step"].max() == 14).all()
    text = controller.settings_toml()
    (tmp_path / "settings.toml").write_text(text, encoding="utf-8")
    command = next(line.strip("# ").strip() for line in text.splitlines()
                   if "village-sim run" in line)
    args = command.split()[1:]
    args[args.index("settings.toml")] = str(tmp_path / "settings.toml")
    code, _out, err = run_cli([*args, "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0, err
    repeated = pd.read_csv(tmp_path / "out" / "timeseries.csv")
    left = series[series["run"] == 0].drop(columns=["run", "role", "scenario"])
    left = left.reset_index(drop=True)
    assert list(repeated.columns) == list(left.columns)
    pd.testing.assert_frame_equal(repeated, left, check_dtype=False, rtol=0, atol=1e-12)
    decisions = controller.decisions_table()
    again = pd.read_csv(tmp_path / "out" / "decisions.csv")
    mine = decisions[decisions["run"] == 0].drop(
        columns=["run", "role", "regime", "scenario", "seed"]).reset_index(drop=True)
    assert len(mine) == len(again) > 0
    assert (mine["household_id"].to_numpy() == again["household_id"].to_numpy()).all()
    if len(controller.runs) == 2:
        assert "Run 1 (\"Control: " in text


def test_settings_file_names_what_the_command_cannot_repeat() -> None:
    controller = Controller(Settings(parameters=SMALL, regime="committee_only",
                                     compare_regime="team_alone", side_by_side=True))
    controller.step(2)
    controller.trigger("flood")
    text = controller.settings_toml()
    assert "Instructor's events, not repeated by that command: flood in month 3." in text
    assert "Run 1 (\"" + t("regime_short.team_alone", "en") + "\"): regime team_alone" in text


ADDRESS_CASES = [
    Settings(),
    Settings(regime="team_alone", seed="42", parameters={"favoritism": "0.8", "quota": "0.3"}),
    Settings(regime="committee_only", compare_regime="team_without_supervision",
             side_by_side=True, seed="7", parameters={"team_leaves": "24", "n_households": "150"}),
    scenario_settings("team_leaves", side_by_side=True, seed="3"),
    dataclasses.replace(scenario_settings("clan_village"), parameters={
        **scenario_settings("clan_village").parameters, "sanction": "2"}),
]


@pytest.mark.parametrize("settings", ADDRESS_CASES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_address_reopens_the_same_view(settings: Settings, lang: str) -> None:
    """Issue 15 item 7: settings -> address -> settings runs the same villages."""
    query = settings_query(settings, lang)
    again, shown_lang, problems = settings_from_query(query)
    assert problems == [] and shown_lang == lang
    def meaning(s: Settings) -> list[tuple[Any, ...]]:  # defaults written or not: same runs
        seed, sides = plan_sides(s)
        return [(seed, side.regime, resolve_parameters(side.regime, **side.overrides),
                 side.events, side.role, side.scenario) for side in sides]

    assert meaning(again) == meaning(settings)
    assert again.scenario == settings.scenario and again.side_by_side == settings.side_by_side
    if settings.parameters.get("favoritism") == "0.8":
        assert "favoritism=0.8" in query
    assert "quota=" not in query  # defaults are not written (0.3 is the quota's default)


def test_a_bad_address_opens_the_page_with_what_is_good() -> None:
    settings, lang, problems = settings_from_query(
        "lang=xx&seed=abc&regime=team_alone&favoritism=3&quota=0.2&bogus=1"
        "&scenario=..%2F..%2Fetc%2Fpasswd")
    assert lang is None
    assert sorted(p.rule for p in problems) == ["language", "range", "scenario", "seed",
                                                "unknown"]
    assert settings.regime == "team_alone" and settings.seed == "1"
    assert settings.parameters == {"quota": "0.2"} and settings.scenario is None
    for problem in problems:
        for code in LANGUAGES:
            assert Catalog(code).problem(problem)  # each said in every language
    # a combination refused: the parameters that make it go, the rest stays
    settings, _lang, problems = settings_from_query("team_arrives=10&team_leaves=5&seed=4")
    assert [p.rule for p in problems] == ["after"]
    assert settings.seed == "4" and "team_leaves" not in settings.parameters
    Controller(settings)  # and it runs


def test_click_maps_to_the_household_drawn_there() -> None:
    controller = Controller(Settings(side_by_side=True, parameters=SMALL))
    controller.frame()
    picture = controller.runs[1].picture
    width, height = picture.fig.size()
    for household in (0, 17, 119):
        x, y = picture.ax.transData.transform(controller.runs[1].layout.xy[household])
        assert controller.household_at(1, x / width, 1.0 - y / height) == household
    assert controller.household_at(0, 0.001, 0.001) is None
    assert controller.household_at(0, 1.5, 0.5) is None


def test_household_story() -> None:
    controller = Controller(Settings(side_by_side=True, parameters=SMALL))
    controller.step(14)
    model = controller.runs[0].model
    household = int(np.flatnonzero(model.registered)[0])
    stories = controller.stories(household)
    assert [s.regime for s in stories] == controller.regimes
    story = stories[0]
    assert story.income.size == story.aid.size == 15
    assert story.income[-1] == pytest.approx(model.per_capita_income()[household])
    assert story.aid.sum() == pytest.approx(model.aid_received[household])
    assert story.facts["registered now"] == "yes"
    assert {"helper", "cause", "team visit"} <= {w for k in story.facts for w in
                                                 ("helper", "cause", "team visit") if w in k}
    assert list(story.decisions.columns) == ["year", "month", "proposed_by", "challenged_by",
                                             "outcome", "reason"]
    assert "registered" in set(story.decisions["outcome"])
    kin = model.kin
    ties = kin.indices[kin.indptr[household]:kin.indptr[household + 1]]
    assert story.cadre_ties == [int(j) for j in ties if model.cadre[j]]
    assert controller.story_chart(household).startswith(PNG)
    with pytest.raises(ValueError, match="household"):
        controller.stories(10_000)


def test_the_story_chart_kept_open_draws_what_a_fresh_one_draws() -> None:
    """The household's chart is blitted month by month (only lines and bars redrawn): after
    30 months it is pixel for pixel the chart drawn from scratch on the same data."""
    from village_sim.viz.charts import StoryChart

    controller = Controller(Settings(side_by_side=True, parameters=SMALL))
    household = 7
    first = controller.story_chart(household)
    for _ in range(30):
        controller.step()
        kept = controller.story_chart(household)
    assert kept != first
    stories = controller.stories(household)
    fresh = StoryChart(household, [s.label for s in stories],
                       controller.runs[0].model.p.poverty_line).render(
        [s.income for s in stories], [s.aid for s in stories], controller.month)
    assert kept == fresh


def _png_size(png: bytes) -> tuple[int, int]:
    import struct

    return struct.unpack(">II", png[16:24])


def test_pictures_are_drawn_for_the_displays_pixel_ratio() -> None:
    """Issue 15 item 2: on a 2x screen every picture has twice the pixels each way and the
    same drawing (a click still finds the household drawn there)."""
    controller = Controller(Settings(side_by_side=True, parameters=SMALL))
    controller.step(13)
    one = controller.frame()
    sizes = [_png_size(png) for png in [*one.networks, *one.charts.values()]]
    story = _png_size(controller.story_chart(3))
    controller.set_scale(2.0)
    two = controller.frame()
    assert controller.month == 13 and controller.scale == 2.0
    assert [_png_size(png) for png in [*two.networks, *two.charts.values()]] == \
        [(2 * w, 2 * h) for w, h in sizes]
    assert _png_size(controller.story_chart(3)) == (2 * story[0], 2 * story[1])
    picture = controller.runs[0].picture
    width, height = picture.fig.size()
    for household in (0, 17, 119):
        x, y = picture.ax.transData.transform(controller.runs[0].layout.xy[household])
        assert controller.household_at(0, x / width, 1.0 - y / height) == household
    for given, kept in ((1.3, 1.25), (10, 3.0), (0.5, 1.0), ("x", 1.0), (float("nan"), 1.0)):
        controller.set_scale(given)  # type: ignore[arg-type]
        assert controller.scale == kept, given


def test_projector_pictures_are_drawn_at_their_box_with_14_px_text() -> None:
    """Issue 15 item 2: in projector mode the networks and the key charts are drawn at the CSS
    size of the box the page shows them in, every text in them at 14 CSS pixels or more
    (10.5 pt at 96 dpi), sharp at the display's ratio; titles, counts and the key move to
    the page (one key for both networks); the other charts and the usual mode are as before."""
    from village_sim.viz.charts import KEY_CHARTS

    controller = Controller(Settings(parameters=SMALL, side_by_side=True))
    controller.step(13)
    usual = controller.frame()
    assert min(usual.text_px.values()) < 12  # the usual pictures: 7-8 pt at 100 dpi
    assert not controller.fit("network", 368, 292)  # remembered, nothing redrawn yet
    controller.fit("chart", 500, 115)
    controller.set_projector(True)
    frame = controller.frame()
    assert [_png_size(png) for png in frame.networks] == [(368, 288)] * 2  # down to 8 px
    for key, png in frame.charts.items():
        drawn = (496, 112) if key in KEY_CHARTS else _png_size(usual.charts[key])
        assert _png_size(png) == drawn, key
    for name in ["network-0", "network-1", *(f"chart-{k}" for k in KEY_CHARTS)]:
        assert frame.text_px[name] >= 14.0, (name, frame.text_px[name])
    assert frame.css_width["network-0"] == 368 and frame.css_width["chart-kin_premium"] == 496
    # the pictures hold no title, counts or key: those are the page's (counts per run, one key)
    texts = [x.get_text() for x in controller.runs[0].picture.fig.figure.findobj(Text)
             if x.get_visible() and x.get_text().strip()]
    assert not any(controller.labels[0] in text for text in texts), texts
    assert len(frame.counts) == 2 and all(c for c in frame.counts)
    labels = [entry.label for entry in frame.key]
    assert labels[:4] == [t(f"app.status_truth_{k}", "en") for k in range(4)]
    assert t("app.legend_team_member", "en") in labels
    # a click still finds the household under it
    picture = controller.runs[1].picture
    width, height = picture.fig.size()
    for household in (0, 17, 119):
        x, y = picture.ax.transData.transform(controller.runs[1].layout.xy[household])
        assert controller.household_at(1, x / width, 1.0 - y / height) == household
    # sharp on a 2x screen, same size on the page
    controller.set_scale(2.0)
    two = controller.frame()
    assert [_png_size(png) for png in two.networks] == [(736, 576)] * 2
    assert two.text_px["network-0"] >= 14.0 and two.css_width["network-0"] == 368
    # a resized box redraws; nonsense and boxes too small to draw in are ignored
    assert controller.fit("network", 400.9, 300)
    for bad in ((0, 300), (100, 100), ("x", 300), (float("nan"), 300), (1e9, 300)):
        assert not controller.fit("network", *bad), bad  # type: ignore[arg-type]
    assert controller.fits["network"] == (400, 296)
    with pytest.raises(ValueError, match="kind"):
        controller.fit("table", 300, 300)
    # the usual mode again: the usual pictures, the month and village kept
    controller.set_projector(False)
    back = controller.frame()
    assert controller.month == 13
    assert [_png_size(png) for png in back.networks] == \
        [(2 * w, 2 * h) for w, h in map(_png_size, usual.networks)]


def test_frame_refuses_unknown_view() -> None:
    controller = Controller(Settings(parameters=SMALL))
    with pytest.raises(ValueError, match="view"):
        controller.frame(view="rumour")
    with pytest.raises(ValueError, match="size_by"):
        controller.frame(size_by="height")
    assert controller.frame(size_by="aid").networks[0].startswith(PNG)


@pytest.mark.parametrize("regime", list(REGIMES))
def test_every_regime_runs_in_the_app(regime: str) -> None:
    controller = Controller(Settings(regime=regime, parameters=SMALL))
    controller.step(13)
    for view in ("truth", "committee"):
        frame = controller.frame(view=view, size_by="aid", selected=5)
        assert frame.networks[0].startswith(PNG)


# ---------------------------------------------------------------------------- components
PICTURES = ["network-0", "network-1", "household-chart", "chart-any_metric"] + [
    f"chart-{c.key}" for c in CHARTS]


def pictures(rc) -> dict[str, str]:
    """testid -> image source of every picture on the page."""
    out = {}
    for testid in PICTURES:
        found = rc.find(testid=testid).widgets
        assert len(found) <= 1
        if found:
            out[testid] = found[0].src
    return out


def html_texts(rc) -> list[str]:
    return [w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets]


def texts_by_testid(rc, testid: str) -> list[str]:
    """The HTML of the page's elements with that data-testid."""
    return [w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets
            if (w.attributes or {}).get("data-testid") == testid]


def month_shown(rc) -> str:
    for text in html_texts(rc):
        if "data-testid='month'" in text:
            return text.split("data-testid='month'>")[1].split("<")[0]
    raise AssertionError("the page shows no month")


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


@pytest.fixture
def app():
    controller = Controller(Settings(parameters=SMALL))
    box, rc = solara.render(VillageApp(controller=controller), handle_error=False)
    yield rc, controller
    rc.close()


def test_page_shows_network_charts_table_and_controls(app) -> None:
    rc, controller = app
    shown = pictures(rc)
    # the fixed charts and the chart of any metric the user picks (Model 2: new metrics)
    assert set(shown) == {"network-0", "chart-any_metric"} | {f"chart-{c.key}" for c in CHARTS}
    frame = controller.frame()
    assert shown["network-0"] == data_url(frame.networks[0])
    for key, png in frame.charts.items():
        assert shown[f"chart-{key}"] == data_url(png)
    for label in ("Step", "Play", "Reset", "Restart with these settings",
                  *(t(f"event.{kind}", "en") for kind in EVENT_LABELS)):
        rc.find(v.Btn, children=[label]).assert_single()
    for name in APP_PARAMETERS:
        rc.find(v.TextField, label=t(f"param.{name}", "en")).assert_single()
    rc.find(v.TextField, label="seed").assert_single()
    assert month_shown(rc) == "month 0"
    tables = [t for t in html_texts(rc) if "data-testid='metric-table'" in t]
    assert len(tables) == 1 and "Kin premium in registration" in tables[0]


def test_step_button_changes_every_picture(app) -> None:
    rc, controller = app
    before = pictures(rc)
    for _ in range(3):
        click(rc, "Step")
    assert controller.month == 3 and month_shown(rc) == "month 3"
    after = pictures(rc)
    for key in before:
        assert after[key] != before[key], key
    click(rc, "Reset")
    assert controller.month == 0 and month_shown(rc) == "month 0"


def test_play_and_pause(app) -> None:
    rc, controller = app
    rc.find(v.Select, label="speed (months per second)").widget.v_model = 10
    click(rc, "Play")
    rc.find(v.Btn, children=["Pause"]).assert_single()
    deadline = time.monotonic() + 30
    while controller.month < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    click(rc, "Pause")
    time.sleep(0.3)
    stopped = controller.month
    assert stopped >= 3
    time.sleep(0.5)
    assert controller.month == stopped
    assert month_shown(rc) == f"month {stopped}"


def test_side_by_side_switch_adds_a_second_network(app) -> None:
    rc, controller = app
    rc.find(v.Switch, label=t("app.side_by_side", "en")).widget.v_model = True
    assert controller.regimes == ["committee_only", "team_and_committee"]
    shown = pictures(rc)
    assert {"network-0", "network-1"} <= set(shown)
    assert shown["network-0"] != shown["network-1"]
    rc.find(v.Select, label="second regime (right)").widget.v_model = \
        t("regime.team_alone", "en")
    assert controller.regimes == ["committee_only", "team_alone"]
    click(rc, "Step")
    assert controller.month == 1 and month_shown(rc) == "month 1"
    # while teaching, switching keeps the month (the new run is replayed to it)
    click(rc, "Step")
    left = controller.runs[0]
    rc.find(v.Select, label="second regime (right)").widget.v_model = \
        t("regime.team_without_supervision", "en")
    assert controller.regimes == ["committee_only", "team_without_supervision"]
    assert controller.month == 2 and month_shown(rc) == "month 2"
    assert controller.runs[0] is left and controller.runs[1].month == 2
    rc.find(v.Switch, label=t("app.side_by_side", "en")).widget.v_model = False
    assert controller.month == 2 and controller.runs == [left]
    # typed texts wait for Restart: a switch does not apply them
    field = rc.find(v.TextField, label=t("param.favoritism", "en")).widget
    field.v_model = "0.9"
    field.fire_event("focusout", None)
    rc.find(v.Switch, label=t("app.side_by_side", "en")).widget.v_model = True
    assert controller.month == 2 and controller.runs[1].model.p.favoritism != 0.9
    click(rc, t("app.restart", "en"))
    assert controller.month == 0 and controller.runs[1].model.p.favoritism == 0.9


def test_views_and_sizes_change_the_network(app) -> None:
    rc, controller = app
    click(rc, "Step")
    truth = pictures(rc)["network-0"]
    # toggles: language, view, size
    rc.find(v.BtnToggle).widgets[1].v_model = 1  # "what the committee sees"
    committee = pictures(rc)["network-0"]
    assert committee != truth
    assert committee == data_url(controller.frame(view="committee").networks[0])
    rc.find(v.BtnToggle).widgets[2].v_model = 1  # size by aid received
    assert pictures(rc)["network-0"] == data_url(
        controller.frame(view="committee", size_by="aid").networks[0])


def test_bad_parameter_shows_an_error_and_keeps_running(app) -> None:
    """Issue 15 item 4: the field's label and plain words, by the toolbar; changes marked."""
    rc, controller = app
    click(rc, "Step")
    label = t("param.favoritism", "en")
    field = rc.find(v.TextField, label=label).widget
    field.v_model = "3"
    field.fire_event("focusout", None)
    field = rc.find(v.TextField, label=label).widget
    assert field.error is True
    assert field.messages == [
        "Favouritism in registration: “3” is not allowed. Allowed: a number from 0 to 1."]
    # typed but not applied: marked on the page until Restart
    pending = texts_by_testid(rc, "pending")
    assert len(pending) == 1 and label in pending[0] and "Restart with these settings" in \
        pending[0]
    seed = rc.find(v.TextField, label="seed").widget
    seed.v_model = "one"
    seed.fire_event("focusout", None)
    assert rc.find(v.TextField, label="seed").widget.error is True
    click(rc, "Restart with these settings")
    banner = texts_by_testid(rc, "error-banner")
    assert len(banner) == 1
    assert "Favouritism in registration: “3” is not allowed. Allowed: a number from 0 to 1." \
        in html.unescape(banner[0])
    assert "Seed: “one” is not a whole number of 0 or more." in html.unescape(banner[0])
    assert "parameter '" not in banner[0] and "numpy" not in banner[0]  # no code names
    assert rc.find(v.Alert).widgets == []  # one place for errors: the banner
    assert controller.month == 1 and month_shown(rc) == "month 1"  # kept running
    field.v_model = "0.9"
    field.fire_event("focusout", None)
    seed.v_model = "5"
    seed.fire_event("focusout", None)
    click(rc, "Restart with these settings")
    assert texts_by_testid(rc, "error-banner") == []
    assert texts_by_testid(rc, "pending") == []  # applied: nothing waits any more
    assert controller.month == 0 and controller.seed == 5
    assert controller.runs[0].model.p.favoritism == 0.9


@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_refused_settings_are_said_in_the_readers_language(lang: str) -> None:
    controller = Controller(Settings(parameters=SMALL), lang=lang)
    box, rc = solara.render(VillageApp(controller=controller), handle_error=False)
    try:
        _ = Catalog(lang)
        field = rc.find(v.TextField, label=_.param("favoritism")).widget
        field.v_model = "3"
        field.fire_event("focusout", None)
        rc.find(v.Btn, children=[_("app.restart")]).widget.click()
        banner = html.unescape(texts_by_testid(rc, "error-banner")[0])
        assert _("app.not_applied") in banner
        assert _.param("favoritism") in banner and "“3”" in banner
        assert not re.search(r"\b(allowed|parameter|got|number)\b", banner), banner
    finally:
        rc.close()


def test_click_on_network_opens_the_inspector(app) -> None:
    rc, controller = app
    for _ in range(13):
        click(rc, "Step")
    model = controller.runs[0].model
    household = int(np.flatnonzero(model.registered)[0])
    picture = controller.runs[0].picture
    width, height = picture.fig.size()
    x, y = picture.ax.transData.transform(controller.runs[0].layout.xy[household])
    rc.find(testid="network-0").widget.vue_clicked({"x": x / width, "y": 1.0 - y / height})
    # the picker is searchable (an autocomplete over every household)
    assert rc.find(v.Autocomplete, label="household").widget.v_model == \
        controller.household_label(household)
    shown = pictures(rc)
    assert shown["household-chart"] == data_url(controller.story_chart(household))
    assert shown["network-0"] == data_url(controller.frame(selected=household).networks[0])
    texts = html_texts(rc)
    assert any("household-decisions" in t and "registered" in t for t in texts)
    facts = [t for t in texts if "household-facts" in t]
    assert len(facts) == 1 and "responsible helper" in facts[0]
    # the list picks too
    rc.find(v.Autocomplete, label="household").widget.v_model = controller.household_label(3)
    assert pictures(rc)["household-chart"] == data_url(controller.story_chart(3))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_inspector_compares_runs_in_one_table_in_the_readers_language(lang: str) -> None:
    """Issue 15 items 3 and 8: one facts table with a column per run, the rows that differ
    between runs highlighted; decisions below with their words from the catalog."""
    controller = Controller(Settings(side_by_side=True, parameters=SMALL,
                                     regime="committee_only",
                                     compare_regime="team_and_committee"), lang=lang)
    controller.step(26)
    _ = Catalog(lang)
    box, rc = solara.render(VillageApp(controller=controller), handle_error=False)
    try:
        # a household the two regimes treated differently
        registered = [set(run.model.registered.nonzero()[0]) for run in controller.runs]
        household = min(registered[0] ^ registered[1])
        rc.find(v.Autocomplete, label=_("app.household")).widget.v_model = \
            controller.household_label(household)
        table = next(x for x in html_texts(rc) if "data-testid='household-facts'" in x)
        for run in controller.runs:
            assert html.escape(run.label) in table
        row = next(r for r in table.split("<tr")
                   if html.escape(_("story.registered")) in r)
        assert "vs-differs" in row and "background:#fff1b8" in row  # the difference, marked
        same = next(r for r in table.split("<tr") if html.escape(_("story.persons")) in r)
        assert "vs-differs" not in same
        decisions = [x for x in html_texts(rc) if "data-testid='household-decisions'" in x]
        assert 1 <= len(decisions) <= 2
        words = {_.outcome(o.name.lower()) for o in Outcome}
        assert any(html.escape(w) in d for w in words for d in decisions)
        if lang != "en":
            english = {"registered", "committee", "estimated poor", "yes", "never", "yuan",
                       "helper", "clan", "favoured"}
            shown = html.unescape(" ".join(decisions) + table)
            assert not {w for w in english if re.search(rf"\b{w}\b", shown)}, shown
    finally:
        rc.close()


def test_instructor_event_buttons(app) -> None:
    rc, controller = app
    rc.find(v.Select, label="regime").widget.v_model = t("regime.team_and_committee", "en")
    assert controller.regimes == ["team_and_committee"]
    click(rc, "Step")
    click(rc, "Work team leaves")
    click(rc, "Step")
    assert controller.runs[0].team_state() == "left"
    click(rc, "Work team arrives")
    click(rc, "Step")
    assert controller.runs[0].team_state() == "active"
    click(rc, "Flood")
    texts = html_texts(rc)
    assert any("coming: [3] Flood (month 4)" in t for t in texts)
    assert texts_by_testid(rc, "event-notice") == []
    click(rc, "Flood")  # a double click: one flood, and the page says so by the buttons
    notices = texts_by_testid(rc, "event-notice")
    assert len(notices) == 1 and "it is already due in month 4" in notices[0]
    assert [e.kind for e in controller.runs[0].model.events] == ["flood"]
    click(rc, "Step")
    texts = html_texts(rc)
    assert any("happened: [1] Work team leaves (month 2), [2] Work team arrives (month 3), "
               "[3] Flood (month 4)" in t for t in texts)
    assert texts_by_testid(rc, "event-notice") == []


# ---------------------------------------------------------------------------- languages, scenarios
def _english_phrases(lang: str) -> set[str]:
    """Phrases of the English catalog that must not appear in a page in ``lang``.

    The literal parts of each English message (between its {fields}) that have at least two
    words and eight characters, minus those the other catalog shares (names of languages).
    """
    import string

    other = set(messages(lang).values())
    phrases = set()
    for key, text in messages("en").items():
        if text in other or key.startswith("lang."):
            continue
        for literal, *_rest in string.Formatter().parse(text):
            for part in re.split(r"[:;·()“”\"]", literal):
                part = part.strip(" ,.—-")
                if " " in part and len(part) >= 8 and re.search(r"[a-z]{3}", part):
                    phrases.add(part)
    return phrases


def _page_text(rc) -> str:
    """Every text the page shows: HTML (tags dropped), buttons, labels, hints, lists."""
    parts = [re.sub(r"<[^>]+>", " ", html.unescape(w.unsafe_innerHTML or ""))
             for w in rc.find(solara.widgets.HTML).widgets]
    for widget in rc.find(v.Btn).widgets:
        parts.extend(str(c) for c in widget.children if isinstance(c, str))
    for kind in (v.TextField, v.Select, v.Autocomplete):
        for widget in rc.find(kind).widgets:
            parts.append(str(widget.label or ""))
            parts.extend(str(m) for m in (widget.messages or []) if isinstance(m, str))
            parts.extend(str(i) for i in (getattr(widget, "items", None) or [])
                         if isinstance(i, str))
    for widget in rc.find(v.Html).widgets:
        parts.extend(str(c) for c in widget.children if isinstance(c, str))
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["zh", "vi", "en"])
def test_no_english_left_in_the_page(lang: str) -> None:
    """Issue 15 item 8: walk the page in zh and vi — free play side by side, a household
    open, an event, a refused value, a scenario — and find no English catalog phrase.

    The same walk in English is the check of the check: there it must find many.
    """
    _ = Catalog(lang)
    controller = Controller(Settings(parameters=SMALL), lang=lang)
    box, rc = solara.render(VillageApp(controller=controller), handle_error=False)
    english = _english_phrases("vi" if lang == "en" else lang)
    seen: list[str] = []
    try:
        rc.find(v.Switch, label=_("app.side_by_side")).widget.v_model = True
        for _i in range(13):
            rc.find(v.Btn, children=[_("app.step")]).widget.click()
        rc.find(v.Btn, children=[_.event("flood")]).widget.click()
        rc.find(v.Btn, children=[_.event("team_arrives")]).widget.click()  # says why not
        household = int(np.flatnonzero(controller.runs[0].model.registered)[0])
        rc.find(v.Autocomplete, label=_("app.household")).widget.v_model = \
            controller.household_label(household)
        seen.append(_page_text(rc))
        field = rc.find(v.TextField, label=_.param("favoritism")).widget
        field.v_model = "3"
        field.fire_event("focusout", None)
        rc.find(v.Btn, children=[_("app.restart")]).widget.click()
        seen.append(_page_text(rc))
        scenario = load_scenario("team_leaves")
        rc.find(v.Select, label=_("app.scenario")).widget.v_model = scenario.text(lang).title
        rc.find(v.Btn, children=[_("app.step")]).widget.click()
        seen.append(_page_text(rc))
    finally:
        rc.close()
    text = "\n".join(seen)
    left = sorted(p for p in english if p in text)
    if lang == "en":
        assert len(left) >= 60, left  # the walk shows the page's phrases; the search finds them
    else:
        assert not left, f"English left in the {lang} page: {left}"


def test_numbers_in_the_readers_convention() -> None:
    """Issue 15 item 10: Vietnamese writes 1.308 and 0,308 and reads a decimal comma."""
    from village_sim.viz.figure import localize_ticks

    vi, en, zh = Catalog("vi"), Catalog("en"), Catalog("zh")
    assert vi.number(1308.0, ",.0f") == "1.308" and vi.number(0.3084, ".3f") == "0,308"
    assert en.number(1308.0, ",.0f") == "1,308" and en.number(0.3084, ".3f") == "0.308"
    assert zh.number(-1308.0, "+,.0f") == "-1,308"
    assert parse_value("favoritism", "0,8", "vi") == 0.8
    assert parse_value("favoritism", "0.8", "vi") == 0.8  # a dot is read as a decimal too
    with pytest.raises(ValueError):
        parse_value("favoritism", "0,8", "en")  # in English 0,8 is not a number
    assert parameter_text(0.35, "vi") == "0,35" and parameter_text(300, "vi") == "300"
    assert "0,99" in vi.allowed("reference_trust") and "0.99" in en.allowed("reference_trust")
    with pytest.raises(SettingsError) as info:
        parse_settings(Settings(parameters={"measure_share": "0.7", "project_share": "0.6"}))
    assert "0,7 + 0,6" in vi.problem(info.value.problems[0])
    assert "0.7 + 0.6" in en.problem(info.value.problems[0])
    controller = Controller(Settings(parameters=SMALL), lang="vi")
    controller.step(3)
    header, rows = controller.table()
    values = [cell for row in rows for cell in row[1:] if cell[-1:].isdigit()]
    assert values and all("." not in v for v in values if v.count(",") == 1), values
    assert any("," in v for v in values)
    figure = plt.figure()
    ax = figure.add_subplot()
    ax.plot([0, 1], [0.0, 0.35])
    localize_ticks(ax, "vi")
    figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any("," in label for label in labels) and not any("." in x for x in labels)
    plt.close(figure)


def test_typed_numbers_follow_the_language_switch() -> None:
    controller = Controller(Settings(parameters=SMALL), lang="vi")
    box, rc = solara.render(VillageApp(controller=controller), handle_error=False)
    try:
        vi = Catalog("vi")
        field = rc.find(v.TextField, label=vi.param("favoritism")).widget
        assert field.v_model == "0,5"  # the default, shown as a Vietnamese reader writes it
        field.v_model = "0,8"
        field.fire_event("focusout", None)
        assert not rc.find(v.TextField, label=vi.param("favoritism")).widget.error
        rc.find(v.Btn, children=[vi("app.restart")]).widget.click()
        assert controller.runs[0].model.p.favoritism == 0.8
        rc.find(v.BtnToggle).widgets[0].v_model = LANGUAGES.index("en")
        field = rc.find(v.TextField, label=t("param.favoritism", "en")).widget
        assert field.v_model == "0.8"
        assert texts_by_testid(rc, "pending") == []  # the same value, written the English way
    finally:
        rc.close()


def test_app_keys_are_exactly_the_keys_the_app_uses() -> None:
    import re

    package = Path(village_sim.__file__).parent
    sources = [package / "app.py", *sorted((package / "viz").glob("*.py"))]
    used = set()
    for path in sources:
        used |= set(re.findall(r"""["'](app\.[a-z0-9_]+)["']""", path.read_text("utf-8")))
    assert used == set(APP_KEYS), (sorted(used - set(APP_KEYS)), sorted(set(APP_KEYS) - used))


def test_language_switch_redraws_charts_table_and_texts() -> None:
    controller = Controller(Settings(parameters=SMALL, side_by_side=True))
    controller.step(2)
    controller.trigger("flood")
    english = controller.frame()
    assert english.table[0][0] == t("metric.kin_premium", "en")
    assert controller.charts[0].title == "Kin premium (registration)"
    for lang in ("zh", "vi"):
        controller.set_lang(lang)
        frame = controller.frame()
        assert controller.month == 2  # the village and its history are kept
        # the chart's title and the runs' key are the page's (heading, key line), in the
        # language; the picture draws neither again (issue 15 item 2)
        title = controller.charts[0].title
        assert title == chart_title("kin_premium", lang) == t("app.chart_kin_premium", lang)
        assert title != "Kin premium (registration)"
        chart = controller.charts[0]
        assert chart.fig.figure.texts == [] and chart.ax.get_legend() is None
        assert chart.ax.get_xlabel() == t("chart.month", lang)
        labels = list(chart.labels)
        assert labels == controller.labels == [t("regime_short.committee_only", lang),
                                               t("regime_short.team_and_committee", lang)]
        assert [row[0] for row in frame.table] == [t(f"metric.{m}", lang)
                                                   for m in ("kin_premium",
                                                             "amount_kin_premium",
                                                             "diverted_share", "coverage",
                                                             "exclusion_error",
                                                             "inclusion_error_leakage",
                                                             "mistargeting",
                                                             "poverty_headcount", "approval",
                                                             "mean_trust", "registered_count",
                                                             "team_active")]
        assert frame.header == [t("app.metric", lang), t("regime_short.committee_only", lang),
                                t("regime_short.team_and_committee", lang),
                                t("app.difference", lang)]
        for key, png in frame.charts.items():
            assert png != english.charts[key], (lang, key)
        assert frame.networks[0] != english.networks[0]
        assert t("event.flood", lang) in controller.events_text()
    with pytest.raises(ValueError, match="language"):
        controller.set_lang("fr")


def test_scenario_sets_parameters_regimes_and_events() -> None:
    scenario = load_scenario("clan_village")
    control = load_control(scenario)
    settings = scenario_settings("clan_village")
    assert settings.regime == scenario.regime
    assert settings.compare_regime == control.regime
    controller = Controller(Settings(parameters=SMALL))
    controller.load_scenario("clan_village", side_by_side=True)
    left, right = controller.runs
    for name, value in scenario.overrides().items():
        assert getattr(left.model.p, name) == value, name
    # the right run is the control, with its own parameters: clan_village sets n_clans = 3
    # (one dominant clan), its control "committee_alone" does not
    assert scenario.overrides()["n_clans"] != resolve_parameters(**control.parameters).n_clans
    assert right.model.p.n_clans == resolve_parameters(**control.parameters).n_clans
    assert controller.regimes == [scenario.regime, control.regime]
    assert [left.side.role, right.side.role] == ["scenario", "control"]
    floods = load_scenario("floods_and_illness")
    controller.load_scenario("floods_and_illness")
    assert controller.settings.scenario == "floods_and_illness"
    assert controller.runs[0].model.events == list(floods.events) != []
    # its control (team and committee) has no floods: the difference is the floods
    assert controller.runs[1].model.events == list(load_control(floods).events) == []
    controller.step(14)
    assert Event(14, "flood") in controller.runs[0].model.events_applied
    assert controller.runs[1].model.events_applied == []
    assert all(scenario_settings(s.id).scenario == s.id for s in list_scenarios())


@pytest.mark.parametrize("sid", scenario_ids())
def test_side_by_side_a_scenario_runs_against_its_own_control(sid: str) -> None:
    """Issue 15, item 1: the right run is the control scenario — its regime, parameters and
    events — on the same seed, month for month the pair whose claim test_scenarios measures,
    and the two sides differ in the claim's window (and are equal before ``identical_until``).
    """
    scenario = load_scenario(sid)
    control = load_control(scenario)
    seed = 11
    last = scenario.claim.window[1]
    controller = Controller(scenario_settings(sid, side_by_side=True, seed=str(seed)))
    assert [run.side.role for run in controller.runs] == ["scenario", "control"]
    for lang in LANGUAGES:
        controller.set_lang(lang)
        assert controller.labels == [
            t("app.side_scenario", lang, title=scenario.text(lang).label),
            t("app.side_control", lang, title=control.text(lang).label)]
        assert controller.table()[0][1:3] == controller.labels
    controller.step(last)
    expected = run_pair(scenario, control, [seed], steps=last)
    for run, side in zip(controller.runs, ("scenario", "control"), strict=True):
        ours = pd.DataFrame(run.history())[list(METRIC_NAMES)].to_numpy(dtype=float)
        theirs = expected.loc[expected["side"] == side, list(METRIC_NAMES)].to_numpy(dtype=float)
        assert np.array_equal(ours, theirs, equal_nan=True), (sid, side)
    metric = scenario.claim.metric
    first = scenario.claim.window[0]
    values = [np.nanmean(np.asarray(run.history()[metric][first:last + 1], dtype=float))
              for run in controller.runs]
    assert values[0] != values[1], (sid, metric, values)
    until = scenario.claim.identical_until
    if until is not None:
        left, right = (pd.DataFrame(run.history())[list(METRIC_NAMES)].iloc[:until + 1]
                       .to_numpy(dtype=float) for run in controller.runs)
        assert np.array_equal(left, right, equal_nan=True)


def test_form_parameters_reach_the_control_unless_they_are_the_treatment() -> None:
    fair = load_scenario("fair_committee")
    control = load_control(fair)  # committee_alone: the same regime, favouritism at default
    assert fair.overrides()["favoritism"] != resolve_parameters(**control.parameters).favoritism
    settings = scenario_settings("fair_committee", side_by_side=True)
    typed = {**settings.parameters, "n_households": "150", "favoritism": "0.4"}
    controller = Controller(dataclasses.replace(settings, parameters=typed))
    left, right = (run.model.p for run in controller.runs)
    assert left.n_households == right.n_households == 150  # the same village, smaller
    assert left.favoritism == 0.4  # the scenario's treatment, as typed
    assert right.favoritism == resolve_parameters(**control.parameters).favoritism
    assert control_overrides(fair, control, {"favoritism": 0.4}) == control.overrides()


def test_language_switch_and_scenario_picker_in_the_page(app) -> None:
    rc, controller = app
    before = pictures(rc)

    def heading(key: str) -> str:
        return next(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                    if (w.attributes or {}).get("data-testid") == f"chart-title-{key}")

    assert heading("kin_premium") == t("app.chart_kin_premium", "en")
    names = language_names()
    toggle = rc.find(v.BtnToggle).widgets[0]  # the language switch: 中文, Tiếng Việt, English
    assert [names[c] for c in LANGUAGES] == ["中文", "Tiếng Việt", "English"]
    toggle.v_model = LANGUAGES.index("zh")
    assert controller.lang == "zh"
    assert heading("kin_premium") == t("app.chart_kin_premium", "zh")
    for kind in EVENT_LABELS:
        rc.find(v.Btn, children=[t(f"event.{kind}", "zh")]).assert_single()
    for key in ("app.step", "app.play", "app.reset", "app.restart"):
        rc.find(v.Btn, children=[t(key, "zh")]).assert_single()
    table = next(x for x in html_texts(rc) if "data-testid='metric-table'" in x)
    assert t("metric.kin_premium", "zh") in table and t("metric.mean_trust", "zh") in table
    after = pictures(rc)
    for key in before:
        assert after[key] != before[key], key
    click(rc, t("app.step", "zh"))
    assert month_shown(rc) == t("app.month", "zh", month=1)
    # pick a scenario, by its Chinese title
    scenario = load_scenario("floods_and_illness")
    rc.find(v.Select, label=t("app.scenario", "zh")).widget.v_model = scenario.text("zh").title
    assert controller.settings.scenario == scenario.id and controller.month == 0
    assert controller.runs[0].model.events == list(scenario.events)
    assert controller.regimes == [scenario.regime]
    text = next(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                if (w.attributes or {}).get("data-testid") == "scenario-text")
    zh = scenario.text("zh")
    import html as html_module

    for part in (zh.title, zh.story, *zh.objectives, *zh.watch, *zh.questions):
        assert html_module.escape(part) in text
    assert scenario.id not in text  # the scenario by its name, never its file's id
    toggle.v_model = LANGUAGES.index("vi")
    text = next(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                if (w.attributes or {}).get("data-testid") == "scenario-text")
    assert html_module.escape(scenario.text("vi").questions[0]) in text
    assert scenario.id not in text
    assert heading("kin_premium") == t("app.chart_kin_premium", "vi")
    # back to free play
    rc.find(v.Select, label=t("app.scenario", "vi")).widget.v_model = t("app.no_scenario", "vi")
    assert controller.settings.scenario is None and controller.runs[0].model.events == []


# ---------------------------------------------------------------------------- notebook
def test_notebook_renders_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/app_notebook.ipynb runs top to bottom in a kernel of this environment."""
    import nbformat
    from nbclient import NotebookClient

    # a kernel spec that runs this interpreter (the project's venv), whatever else is installed
    kernels = tmp_path / "jupyter" / "kernels" / "village-sim-test"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "village-sim (test)", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(ROOT / "docs" / "app_notebook.ipynb", as_version=4)
    client = NotebookClient(notebook, kernel_name="village-sim-test", timeout=300,
                            resources={"metadata": {"path": str(ROOT / "docs")}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    widget_views = [o for o in outputs if "application/vnd.jupyter.widget-view+json"
                    in o.get("data", {})]
    assert widget_views, "the page was not displayed as a widget"
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("Kin premium" in o.get("data", {}).get("text/plain", "") for o in outputs)
    assert os.environ.get("JUPYTER_PATH") == str(tmp_path / "jupyter")


# ---------------------------------------------------------------------------- village-sim viz
def run_cli(args: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from village_sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_viz_refuses_bad_ports() -> None:
    import socket

    code, out, _ = run_cli(["viz", "--help"])
    assert code == 0 and "127.0.0.1" in out and "--port" in out
    code, _, err = run_cli(["viz", "--port", "0"])
    assert code == 2 and "--port" in err
    code, _, err = run_cli(["viz", "--port", "70000"])
    assert code == 2 and "allowed: an integer in [1, 65535]" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_cli(["viz", "--port", str(port)])
        assert code == 2 and "already in use" in err
        # said in the language of $VILLAGE_SIM_LANG (viz has no --lang), option and value kept
        for lang, words in (("zh", ("已被占用", "不在允许范围内")),
                            ("vi", ("đang được dùng", "không được phép"))):
            with pytest.MonkeyPatch.context() as env:
                env.setenv("VILLAGE_SIM_LANG", lang)
                code, _, busy_err = run_cli(["viz", "--port", str(port)])
                assert code == 2 and words[0] in busy_err and f":{port}" in busy_err
                assert "--port" in busy_err and "already" not in busy_err
                code, _, range_err = run_cli(["viz", "--port", "70000"])
                assert code == 2 and words[1] in range_err and "70000" in range_err
                assert "allowed" not in range_err


def _start_viz() -> tuple[Any, int, str, str]:
    """Start ``village-sim viz`` on a free port; return it, the port, its first line, the page."""
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "village_sim.cli", "viz", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                return process, port, first, page.read().decode()
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"the server did not answer: {process.stdout.read()}") \
                    from None
            time.sleep(0.5)


def test_viz_serves_the_app_and_stops_on_ctrl_c() -> None:
    import signal

    process, port, first, body = _start_viz()
    try:
        assert f"http://127.0.0.1:{port}/" in first
        assert "<html" in body.lower()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("name", ["SIGTERM"])
def test_viz_stops_its_server_on_sigterm_and_sighup(name: str) -> None:
    """A server killed politely (a service manager) frees its port (SIGHUP, a closed
    terminal, takes the same path: test_serve_stops_its_child_on_every_polite_signal)."""
    import signal
    import socket

    sig = getattr(signal, name)
    process, port, _, body = _start_viz()
    try:
        # the tab's title before the page sets its own is ours, not "Solara ☀️"
        assert "<title>village_sim" in body and "Solara ☀️" not in body
        process.send_signal(sig)
        assert process.wait(timeout=30) == 128 + sig
        deadline = time.monotonic() + 15
        while True:  # nobody listens any more (a bind test would trip over TIME_WAIT)
            with socket.socket() as knock:
                if knock.connect_ex(("127.0.0.1", port)) != 0:
                    break
            assert time.monotonic() < deadline, f"the server still listens on port {port}"
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_serve_stops_its_child_on_every_polite_signal(name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """serve() with a stand-in server: each signal ends it and the child with it."""
    import signal
    import subprocess
    import threading

    from village_sim.viz import server

    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(command: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        child = real_popen([sys.executable, "-c", "import time; time.sleep(60)"])
        started.append(child)
        return child

    monkeypatch.setattr(server.subprocess, "Popen", popen)
    sig = getattr(signal, name)
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    timer = threading.Timer(1.0, os.kill, (os.getpid(), sig))
    timer.start()
    try:
        code = server.serve(port=_free_port(), out=open(os.devnull, "w"))  # noqa: SIM115
    finally:
        timer.cancel()
    assert code == 128 + sig and started and started[0].poll() is not None
    assert {s: signal.getsignal(s) for s in before} == before  # handlers put back


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_png_encoder_round_trip() -> None:
    import io

    from PIL import Image

    from village_sim.viz.figure import png_bytes

    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    png = png_bytes(rgba, width=5, height=7)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB" and image.size == (5, 7)
    assert np.array_equal(np.asarray(image), rgba[:, :, :3])


def test_any_metric_can_be_charted_and_the_run_goes_on(app) -> None:
    rc, controller = app
    for _ in range(2):
        click(rc, "Step")
    before = pictures(rc)
    select = rc.find(v.Select, label=t("app.any_metric", "en")).widget
    assert select.v_model == t("metric.perceived_detection", "en")
    assert len(select.items) == len(METRIC_NAMES)  # every metric of the model
    select.v_model = t("metric.team_visits_done", "en")
    assert controller.any_metric == "team_visits_done" and controller.month == 2
    after = pictures(rc)
    assert after["chart-any_metric"] != before["chart-any_metric"]
    assert after["chart-kin_premium"] == before["chart-kin_premium"]
    title = next(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                 if (w.attributes or {}).get("data-testid") == "chart-title-any_metric")
    assert title == t("metric.team_visits_done", "en")
    # the picked metric's history is drawn from month 0, and it survives a language switch
    history = controller.runs[0].history()["team_visits_done"]
    assert len(history) == 3
    controller.set_lang("zh")
    assert controller.any_metric == "team_visits_done"
    with pytest.raises(ValueError, match="metric: got 'nope'; allowed: one of poverty_headcount"):
        controller.set_any_metric("nope")
