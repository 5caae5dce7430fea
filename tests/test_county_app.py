"""The app's county view without a browser (issue 11, item 6): village_sim.viz.county.

The grid's colours follow the chosen metric as the model reports it; the team markers sit where
the model's deployment state puts them and move at a deployment month; a click on a cell opens
that village's network; bad settings are refused naming the setting, the value and what is
allowed; every new text exists in English, Chinese and Vietnamese. The browser test is in
tests/test_browser.py (``test_county_view_...``).
"""

from __future__ import annotations

import io
import string

import ipyvuetify as v
import matplotlib.image
import numpy as np
import pytest
import solara

from village_sim.app import VillageApp, data_url
from village_sim.county import DEPLOYMENT_RULES, CountyView, DeploymentHistory
from village_sim.county.deployment import NEVER, priority
from village_sim.i18n import APP_KEYS, LANGUAGES, messages, t
from village_sim.model import METRIC_NAMES
from village_sim.params import ParameterError
from village_sim.viz.address import county_query, page_from_query
from village_sim.viz.controller import SettingsError
from village_sim.viz.county import (
    ARROW_MONTHS,
    COUNTY_METRICS,
    COUNTY_SETTING_KEYS,
    RULE_KEYS,
    CountyController,
    CountySettings,
    county_problem,
    parse_county_settings,
    reason_text,
)

SMALL = CountySettings(villages="9", households="60", teams="3", rule="rotate", years="3",
                       seed="3")
"""A county that steps fast: 9 villages of 48-72 households, 3 teams on 2-year terms."""


@pytest.fixture(scope="module")
def stepped() -> dict[int, tuple[CountyController, dict[int, object]]]:
    """One small county stepped to month 28, with its frame at every month (shared)."""
    county = CountyController(SMALL)
    frames = {0: county.frame()}
    for month in range(1, 29):
        county.step()
        frames[month] = county.frame()
    return {0: (county, frames)}


def _pixel(county: CountyController, png: bytes, village: int) -> np.ndarray:
    """The RGB colour of the PNG inside village ``village``'s cell, near its lower left corner
    (away from the village's number, its value and a team's marker)."""
    image = matplotlib.image.imread(io.BytesIO(png))
    picture = county.picture
    x, y = picture.ax.transData.transform(picture.corner[village] + 0.16)
    height = image.shape[0]
    return np.asarray(image[int(round(height - y)), int(round(x)), :3])


# ---------------------------------------------------------------------------- colours
def test_cell_colours_follow_the_chosen_metric() -> None:
    county = CountyController(SMALL)
    county.step(12)
    frame = county.frame()
    # the year's end: the model's village-by-year table holds the same values
    table = county.model.village_year_frame()
    year1 = table[table["year"] == 1].sort_values("village")
    for metric in ("poverty_headcount", "kin_premium", "diverted_share"):
        county.set_metric(metric)
        frame = county.frame()
        expected = year1[metric].to_numpy(dtype=float)
        np.testing.assert_allclose(frame.values, expected, equal_nan=True)
        colors = county.picture.colors(expected)
        np.testing.assert_allclose(county.picture.cells.get_facecolor(), colors)
        for village in range(county.model.n_villages):
            value = expected[village]
            want = colors[village, :3]
            got = _pixel(county, frame.png, village)
            assert np.abs(got - want).max() <= 2.5 / 255, (metric, village, value, got, want)
        # higher values are drawn in the colour map's later colours (not, say, reversed)
        finite = np.flatnonzero(np.isfinite(expected))
        top, bottom = finite[np.argmax(expected[finite])], finite[np.argmin(expected[finite])]
        if expected[top] > expected[bottom]:
            cmap = county.picture.cmap
            assert np.allclose(colors[top], cmap(county.picture.norm(expected[top])))
            assert not np.allclose(colors[top], colors[bottom])
    # mid-year: the villages' own metrics this month (the stack's)
    county.step(3)
    now = county.model.stack.metrics()["diverted_share"].to_numpy(dtype=float)
    np.testing.assert_allclose(county.frame().values, now, equal_nan=True)
    assert not np.allclose(county.frame().values, year1["diverted_share"].to_numpy(),
                           equal_nan=True)


def test_undefined_values_are_grey_and_every_metric_is_a_model_metric() -> None:
    assert set(COUNTY_METRICS) <= set(METRIC_NAMES)
    county = CountyController(SMALL, metric="kin_premium")
    frame = county.frame()  # month 0: nobody identified yet, the kin premium is undefined
    assert np.isnan(frame.values).all()
    grey = np.array(matplotlib.colors.to_rgb("#d9d9d9"))
    for village in range(county.model.n_villages):
        assert np.abs(_pixel(county, frame.png, village) - grey).max() <= 2.5 / 255
    with pytest.raises(ValueError, match=r"metric: got 'wealth'; allowed: one of poverty_"):
        county.set_metric("wealth")


# ---------------------------------------------------------------------------- teams
def test_team_markers_sit_where_the_deployment_says_and_move_at_a_deployment(
        stepped) -> None:
    county, frames = stepped[0]
    model = county.model
    picture = county.picture
    log = model.deployment_log()
    for month, frame in frames.items():
        # where the model says each team was that month: its arrivals and departures so far
        where = np.full(len(model.teams), -1)
        past = log[log["month"] <= month].sort_values(["month", "event"],
                                                      ascending=[True, False])
        for r in past.itertuples():  # within a month: departures, then arrivals
            where[r.team] = r.village if r.event == "arrives" else -1
        np.testing.assert_array_equal(frame.team_village, where, err_msg=f"month {month}")
    # the picture now: a marker on each team's village, numbered
    placed = np.flatnonzero(model.deployment.village >= 0)
    assert placed.size == 3
    np.testing.assert_allclose(picture.teams.get_offsets(),
                               picture.team_xy[model.deployment.village[placed]])
    for team in placed:
        label = picture.team_labels[team]
        assert label.get_text() == str(team)
        assert np.allclose(label.get_position()[0],
                           picture.team_xy[model.deployment.village[team]][0])
    # no team before the first deployment (month 1), the same villages through a term
    assert (frames[0].team_village == -1).all()
    for month in range(2, 25):
        np.testing.assert_array_equal(frames[month].team_village, frames[1].team_village)
    # month 25: the terms ended and rotate sends the teams to villages never served
    moved = frames[25].team_village
    assert not set(moved) & set(frames[24].team_village), (frames[24].team_village, moved)
    assert sorted(frames[25].moves) == sorted(
        (team, int(frames[24].team_village[team]), int(moved[team])) for team in range(3))
    for month in range(25, 25 + ARROW_MONTHS):
        assert len(frames[month].moves) == 3
    assert frames[25 + ARROW_MONTHS].moves == [] and frames[13].moves == []


def test_deployment_log_table_newest_first_with_translated_reasons(stepped) -> None:
    county, frames = stepped[0]
    frame = frames[28]
    assert frame.log_header == ["month", "event", "team", "village", "why there"]
    assert [row[0] for row in frame.log_rows[:6]] == ["25"] * 6
    assert [row[1] for row in frame.log_rows[:6]] == ["arrives"] * 3 + ["leaves"] * 3
    arrived = {(int(r[2]), int(r[3])) for r in frame.log_rows[:3]}
    assert arrived == {(team, int(village)) for team, village
                       in enumerate(county.model.deployment.village)}
    assert {r[4] for r in frame.log_rows[:3]} == {"never had a team"}
    assert {r[4] for r in frame.log_rows[3:6]} == {"its term ended"}
    county.set_lang("zh")
    rows = county.frame().log_rows
    assert {r[1] for r in rows[:3]} == {"进驻"} and {r[4] for r in rows[:3]} == {"从未有过工作队"}
    county.set_lang("en")


def _every_reason() -> list[str]:
    """The reasons every built-in rule gives, on a county view with every kind of village."""
    view = CountyView(np.array([100, 100, 100, 100]), np.array([0, 30, 20, 0]),
                      np.array([np.nan, np.nan, 0.41, 0.3]), np.array([0, 3, 1, 0]))
    history = DeploymentHistory(3, np.array([NEVER, 1, 2, NEVER]),
                                np.zeros(4, dtype=bool))
    reasons = ["term ended"]
    for rule in DEPLOYMENT_RULES:
        _order, why = priority(rule, view, history, np.random.default_rng(0))
        reasons += why if rule != "cash_equivalent" else [
            "cash instead of a team: " + w for w in why]
    return reasons


@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_every_reason_of_the_built_in_rules_is_translated(lang: str) -> None:
    reasons = _every_reason()
    assert {"random order", "never served", "last served in year 1", "term ended",
            "no estimate yet (random order)", "estimated poor share 0.410 (survey)",
            "estimated poor share 0.300 (register)",
            "3 complaints, 0.0300 per household"} <= set(reasons)
    for reason in reasons:
        text = reason_text(reason, lang)
        assert text != reason and not any(w in text for w in ("served", "survey", "order",
                                                               "complaints", "estimated")), text
    assert reason_text("estimated poor share 0.410 (survey)", "vi") == \
        "tỷ lệ hộ nghèo ước tính 0,410 (điều tra hằng năm)"
    assert reason_text("my_rule: rank 2", lang) == "my_rule: rank 2"  # a custom rule's, as is


# ---------------------------------------------------------------------------- a village
def test_a_click_on_a_cell_opens_that_village_network() -> None:
    county = CountyController(SMALL)
    county.step(2)
    sizes = county.model.households
    assert len(set(sizes.tolist())) > 3  # villages differ, so a count names a village
    for village in range(county.model.n_villages):
        x, y = county.picture.cell_fraction(village)
        assert county.village_at(x, y) == village
        assert county.village_at(x + 0.3 / county.picture.columns * 0.8, y) in (
            village, village + 1 if (village + 1) % county.picture.columns else None)
    assert county.village_at(0.93, 0.5) is None  # the colour key
    assert county.village_at(-0.1, 0.5) is None
    team = int(np.flatnonzero(county.model.deployment.village >= 0)[0])
    with_team = int(county.model.deployment.village[team])
    without = int(np.flatnonzero(~county.model.deployment.holds_team())[0])
    for village in (with_team, without):
        county.open_village(county.village_at(*county.picture.cell_fraction(village)))
        shown = county.village_frame()
        assert shown is not None and shown.village == village
        run = county.village_run()
        assert run is not None and run.model is county.model.villages[village]
        assert shown.households == run.model.n == sizes[village]
        # the picture draws exactly that village's households, each once
        drawn = sum(len(nodes.get_offsets()) for nodes in run.picture.nodes) + len(
            run.picture.cadre_nodes.get_offsets())
        assert drawn == sizes[village]
        assert run.team_state() == ("active" if village == with_team else "absent")
        assert shown.header[1] == f"village {village}"
        assert shown.png.startswith(b"\x89PNG")
    county.step()  # the opened village follows the county's months
    assert county.village_run().month == 3  # type: ignore[union-attr]
    county.open_village(None)
    assert county.village_frame() is None
    with pytest.raises(ValueError, match=r"village: got 9; allowed: 0 to 8"):
        county.open_village(9)


# ---------------------------------------------------------------------------- settings
BAD = [
    ({"villages": "0"}, "villages", "'0'", "an integer in [1, 64]"),
    ({"villages": "many"}, "villages", "'many'", "an integer in [1, 64]"),
    ({"households": "10"}, "households", "'10'", "an integer in [50, 400]"),
    ({"teams": "-1"}, "teams", "'-1'", "an integer in [0, 64]"),
    ({"years": "99"}, "years", "'99'", "an integer in [1, 20]"),
    ({"rule": "richest_first"}, "rule", "'richest_first'", "one of none, random, poorest_f"),
    ({"seed": "x"}, "seed", "'x'", "a whole number >= 0"),
    ({"villages": "64", "households": "400"}, "'villages' x 'households'",
     "64 x 400 = 25600", "at most 8000"),
]


@pytest.mark.parametrize(("changes", "name", "value", "allowed"), BAD)
def test_bad_settings_are_refused_naming_setting_value_and_what_is_allowed(
        changes: dict[str, str], name: str, value: str, allowed: str) -> None:
    county = CountyController(SMALL)
    county.step(1)
    model = county.model
    bad = CountySettings(**{**SMALL.texts(), **changes})
    with pytest.raises(SettingsError) as caught:
        county.apply(bad)
    message = str(caught.value)
    assert name in message and value in message and "allowed" in message, message
    assert allowed in message, message
    assert county.model is model and county.month == 1  # the running county is kept
    # said in each language with the setting's label and the value typed
    for lang in LANGUAGES:
        text = county_problem(caught.value.problems[0], lang)
        assert text and text[0] == text[0].upper()
        if caught.value.problems[0].rule != "county_total":
            label = t(COUNTY_SETTING_KEYS[caught.value.problems[0].name], lang)
            assert label[:1].upper() + label[1:] in text, text
            assert str(caught.value.problems[0].value) in text
        else:
            assert "25" in text and "8" in text


def test_every_bad_setting_is_said_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_county_settings(CountySettings(villages="0", teams="x", years="0", seed="-2"))
    assert [p.name for p in caught.value.problems] == ["villages", "teams", "years", "seed"]
    assert parse_county_settings(SMALL) == {"villages": 9, "households": 60, "teams": 3,
                                            "years": 3, "rule": "rotate", "seed": 3}


def test_the_run_stops_at_its_last_year() -> None:
    county = CountyController(CountySettings(villages="4", households="50", teams="1",
                                             years="1"))
    county.step(15)
    assert county.month == 12 and county.finished and county.frame().finished


# ---------------------------------------------------------------------------- texts, address
def _new_keys() -> list[str]:
    return [k for k in APP_KEYS if k.startswith(("app.county_", "app.rule_", "app.view_"))]


def test_every_new_text_exists_in_english_chinese_and_vietnamese() -> None:
    keys = _new_keys()
    assert len(keys) >= 40 and set(RULE_KEYS.values()) <= set(keys)
    assert set(RULE_KEYS) == set(DEPLOYMENT_RULES)
    english = messages("en")
    for lang in LANGUAGES:
        catalog = messages(lang)
        for key in keys:
            assert catalog.get(key, "").strip(), (lang, key)
            fields = {f for _, f, _, _ in string.Formatter().parse(catalog[key]) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(english[key]) if f}
            if lang != "en":
                assert catalog[key] != english[key], (lang, key)


def test_the_picture_is_drawn_in_each_language() -> None:
    county = CountyController(SMALL)
    county.step(1)
    for lang in LANGUAGES:
        county.set_lang(lang)
        county.frame()
        texts = {text.get_text() for text in county.picture.fig.figure.findobj(
            matplotlib.text.Text)}
        assert t("app.county_legend_team", lang) in texts
        assert county.picture.title.get_text() == t(
            "app.county_title", lang, month=1, year=1, rule=t("app.rule_rotate", lang))
        assert t("metric.poverty_headcount", lang) in texts  # the colour key's label


def test_address_opens_the_county_view_and_leaves_out_bad_entries() -> None:
    query = county_query(SMALL, "kin_premium", "zh")
    opened = page_from_query(query)
    assert opened.view == "county" and opened.lang == "zh" and opened.problems == []
    assert opened.county == SMALL and opened.metric == "kin_premium"
    opened = page_from_query("view=county&villages=0&teams=2&metric=wealth&colour=red")
    assert opened.county == CountySettings(teams="2")
    assert opened.metric == "poverty_headcount"
    assert {p.name for p in opened.problems} == {"villages", "metric", "colour"}
    assert all(isinstance(p, ParameterError) for p in opened.problems)
    assert page_from_query("seed=4").view == "village"  # the village view, as before
    assert page_from_query("view=village&seed=4").problems == []


# ---------------------------------------------------------------------------- the page
def test_page_switches_to_the_county_and_a_click_opens_a_village() -> None:
    seen: list[str] = []
    box, rc = solara.render(VillageApp(
        view="county", county=SMALL,
        on_county=lambda c, lang: seen.append(county_query(c.settings, c.metric, lang))),
        handle_error=False)
    try:
        county_map = rc.find(testid="county-map").widget
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Btn, children=["Step"]).widget.click()
        county_map = rc.find(testid="county-map").widget
        # the controller the page made: the one behind the picture it shows
        shown = county_map.src
        county = CountyController(SMALL)
        county.step(2)
        assert shown == data_url(county.frame().png)
        log = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
               if "data-testid='county-log'" in (w.unsafe_innerHTML or "")]
        assert len(log) == 1 and "never had a team" in log[0]
        x, y = county.picture.cell_fraction(4)
        county_map.vue_clicked({"x": x, "y": y})
        network = rc.find(testid="county-village-network").widget
        county.open_village(4)
        run = county.village_run()
        assert run is not None
        assert network.src == data_url(run.render("truth", "income", None)[0])
        rc.find(v.Btn, children=["← Back to the county"]).widget.click()
        rc.find(testid="county-map").assert_single()
        assert rc.find(testid="county-village-network").widgets == []
        # the metric chooser recolours the villages; the address follows
        rc.find(v.Select, label="colour the villages by").widget.v_model = t(
            "metric.kin_premium", "en")
        assert seen and "metric=kin_premium" in seen[-1] and "view=county" in seen[-1]
        # back to one village
        rc.find(v.Btn, children=["One village"]).widget.click()
        rc.find(testid="network-0").assert_single()
        assert rc.find(testid="county-map").widgets == []
        rc.find(v.Btn, children=["A county"]).widget.click()  # the same county, where it was
        rc.find(testid="county-map").assert_single()
        assert any("data-testid='month'>month 2<" in (w.unsafe_innerHTML or "")
                   for w in rc.find(solara.widgets.HTML).widgets)
    finally:
        rc.close()
