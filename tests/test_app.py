"""Tests of the live app without a browser: layout, pictures, controller, Solara components,
and the example notebook (executed with nbclient).

The browser tests (tests/test_browser.py) load the same page in headless Chromium.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import ipyvuetify as v
import numpy as np
import pytest
import solara

from village_sim.app import VillageApp, data_url
from village_sim.params import PARAM_BY_NAME, REGIMES
from village_sim.viz.charts import CHARTS
from village_sim.viz.controller import (
    APP_PARAMETERS,
    EVENT_LABELS,
    MAX_APP_HOUSEHOLDS,
    Controller,
    Settings,
    SettingsError,
    parse_settings,
    parse_value,
)
from village_sim.viz.network import Status, clan_layout, status_codes

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
SMALL = {"n_households": "120"}


# ---------------------------------------------------------------------------- layout
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
    (Settings(seed="-3"), ["seed: parameter 'rng': got -3"]),
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
    assert set(first.charts) == {spec.key for spec in CHARTS}
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
    assert header == ["metric", "committee_only"]
    assert [r[0] for r in rows][0] == "kin premium (registration)"


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
    team_row = [r for r in frame.table if r[0] == "work team in the village"][0]
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
    assert "team arrives (month 4)" in controller.events_text()
    controller.step()
    assert run.team_state() == "active"
    assert controller.events_text() == (
        "happened: team leaves (month 3), team arrives (month 4)")
    controller.trigger("flood")
    controller.step()
    assert [e.kind for e in run.model.events_applied][-1] == "flood"
    with pytest.raises(ValueError, match="event"):
        controller.trigger("earthquake")
    alone = Controller(Settings(regime="committee_only", parameters=SMALL))
    alone.team_arrives_now()
    alone.step()
    assert alone.runs[0].team_state() == "absent"


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
PICTURES = ["network-0", "network-1", "household-chart"] + [f"chart-{c.key}" for c in CHARTS]


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
    assert set(shown) == {"network-0"} | {f"chart-{c.key}" for c in CHARTS}
    frame = controller.frame()
    assert shown["network-0"] == data_url(frame.networks[0])
    for key, png in frame.charts.items():
        assert shown[f"chart-{key}"] == data_url(png)
    for label in ("Step", "Play", "Reset", "Restart with these settings",
                  *EVENT_LABELS.values()):
        rc.find(v.Btn, children=[label]).assert_single()
    for name in APP_PARAMETERS:
        rc.find(v.TextField, label=name).assert_single()
    rc.find(v.TextField, label="seed").assert_single()
    assert month_shown(rc) == "month 0"
    tables = [t for t in html_texts(rc) if "data-testid='metric-table'" in t]
    assert len(tables) == 1 and "kin premium" in tables[0]


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
    rc.find(v.Switch).widget.v_model = True
    assert controller.regimes == ["committee_only", "team_and_committee"]
    shown = pictures(rc)
    assert {"network-0", "network-1"} <= set(shown)
    assert shown["network-0"] != shown["network-1"]
    rc.find(v.Select, label="second regime (right)").widget.v_model = "team_alone"
    assert controller.regimes == ["committee_only", "team_alone"]
    click(rc, "Step")
    assert controller.month == 1 and month_shown(rc) == "month 1"


def test_views_and_sizes_change_the_network(app) -> None:
    rc, controller = app
    click(rc, "Step")
    truth = pictures(rc)["network-0"]
    rc.find(v.BtnToggle).widgets[0].v_model = 1  # "what the committee sees"
    committee = pictures(rc)["network-0"]
    assert committee != truth
    assert committee == data_url(controller.frame(view="committee").networks[0])
    rc.find(v.BtnToggle).widgets[1].v_model = 1  # size by aid received
    assert pictures(rc)["network-0"] == data_url(
        controller.frame(view="committee", size_by="aid").networks[0])


def test_bad_parameter_shows_an_error_and_keeps_running(app) -> None:
    rc, controller = app
    click(rc, "Step")
    field = rc.find(v.TextField, label="favoritism").widget
    field.v_model = "3"
    field.fire_event("focusout", None)
    field = rc.find(v.TextField, label="favoritism").widget
    assert field.error is True
    assert field.messages == ["parameter 'favoritism': got 3; allowed: a number in [0, 1]"]
    seed = rc.find(v.TextField, label="seed").widget
    seed.v_model = "one"
    seed.fire_event("focusout", None)
    click(rc, "Restart with these settings")
    alerts = [str(a.children) for a in rc.find(v.Alert).widgets]
    assert any("parameter 'favoritism': got 3" in a for a in alerts)
    assert any("seed: parameter 'rng': got 'one'" in a for a in alerts)
    assert controller.month == 1 and month_shown(rc) == "month 1"  # kept running
    field.v_model = "0.9"
    field.fire_event("focusout", None)
    seed.v_model = "5"
    seed.fire_event("focusout", None)
    click(rc, "Restart with these settings")
    assert rc.find(v.Alert).widgets == []
    assert controller.month == 0 and controller.seed == 5
    assert controller.runs[0].model.p.favoritism == 0.9


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
    assert rc.find(v.Select, label="household").widget.v_model == \
        controller.household_label(household)
    shown = pictures(rc)
    assert shown["household-chart"] == data_url(controller.story_chart(household))
    assert shown["network-0"] == data_url(controller.frame(selected=household).networks[0])
    texts = html_texts(rc)
    assert any("household-decisions" in t and "registered" in t for t in texts)
    facts = [t for t in texts if "household-facts" in t]
    assert len(facts) == 1 and "responsible helper" in facts[0]
    # the list picks too
    rc.find(v.Select, label="household").widget.v_model = controller.household_label(3)
    assert pictures(rc)["household-chart"] == data_url(controller.story_chart(3))


def test_instructor_event_buttons(app) -> None:
    rc, controller = app
    rc.find(v.Select, label="regime").widget.v_model = "team_and_committee"
    click(rc, "Step")
    click(rc, "team leaves")
    click(rc, "Step")
    assert controller.runs[0].team_state() == "left"
    click(rc, "team arrives")
    click(rc, "Step")
    assert controller.runs[0].team_state() == "active"
    click(rc, "flood")
    texts = html_texts(rc)
    assert any("coming: flood (month 4)" in t for t in texts)
    click(rc, "Step")
    assert any("happened: team leaves (month 2), team arrives (month 3), flood (month 4)" in t
               for t in html_texts(rc))


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
    assert any("kin premium" in o.get("data", {}).get("text/plain", "") for o in outputs)
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


def test_viz_serves_the_app_and_stops_on_ctrl_c() -> None:
    import signal
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from village_sim.cli import main; "
         "sys.exit(main())", "viz", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in first
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    body = page.read().decode()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the server did not answer in 180 s"
                time.sleep(0.5)
        assert "<html" in body.lower()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


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
