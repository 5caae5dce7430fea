"""Sweeps of counties (``model = "county"``; issue 11, item 4).

A county sweep runs deployment rules as a village sweep runs regimes: the same seeds for every
rule and point, any engine, resume, reports. Its runs are ``CountyModel`` runs exactly; its
panels are the village-by-year tables; its spec is checked at load, naming the key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from sweep_plugins import comparable
from village_sim.county.model import CountyModel, county_arguments
from village_sim.sweep.engines import run_sweep
from village_sim.sweep.spec import SweepSpec, load_spec
from village_sim.sweep.store import load_panels, load_timeseries, run_table

SPEC = """name = "county-teams"
model = "county"
regimes = ["none", "random", "most_complaints_first"]
replicates = 2
root_seed = 3
steps = 25
panel_every = 12
metrics = ["poverty_headcount", "kin_premium", "diverted_share", "teams_deployed"]
[base]
n_villages = 4
n_households = 70
[parameters]
teams = [1, 2]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("county_sweep")
    spec = folder / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    code, _, err = run_cli(["sweep", str(spec), "--out", str(folder / "serial"), "--engine",
                            "serial", "--quiet"])
    assert code == 0, err
    return spec, folder / "serial"


def test_a_county_sweep_stores_county_model_runs(swept: tuple[Path, Path]) -> None:
    _, out = swept
    series = load_timeseries(out)
    table = run_table(out)
    assert len(table) == 2 * 3 * 2 and (table["status"] == "ok").all()
    for _, run in table.sample(3, random_state=1).iterrows():
        overrides = {"n_villages": 4, "n_households": 70, "teams": int(run["teams"])}
        model = CountyModel(rng=int(run["seed"]), deployment=run["regime"],
                            **county_arguments(overrides))
        for _ in range(25):
            model.step()
        expected = model.county_frame()
        got = series[series["run_id"] == run["run_id"]].sort_values("step")
        for metric in ("poverty_headcount", "kin_premium", "diverted_share", "teams_deployed"):
            np.testing.assert_array_equal(got[metric].to_numpy(), expected[metric].to_numpy(),
                                          err_msg=metric)
    # the same seeds for every rule: under "none" nothing depends on the number of teams
    none = series[series["regime"] == "none"].merge(table[["run_id", "teams"]], on="run_id")
    one, two = (none[none["teams"] == k].sort_values(["replicate", "step"]) for k in (1, 2))
    np.testing.assert_array_equal(one["kin_premium"].to_numpy(), two["kin_premium"].to_numpy())


def test_its_panels_are_the_village_by_year_tables(swept: tuple[Path, Path]) -> None:
    _, out = swept
    panels = load_panels(out)
    assert set(panels["step"]) == {12, 24} and set(panels["year"]) == {1, 2}
    assert len(panels) == 12 * 2 * 4  # runs x years x villages
    teams = panels.merge(run_table(out)[["run_id", "teams"]], on="run_id")
    held = teams[teams["regime"] != "none"].groupby(["run_id", "year"])
    assert (held["had_team"].sum().to_numpy() == held["teams"].first().to_numpy()).all()
    assert not teams.loc[teams["regime"] == "none", "had_team"].any()


def test_the_processes_engine_gives_the_same_county_tables(swept: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    spec, serial = swept
    summary = run_sweep(load_spec(spec), tmp_path / "p", engine="processes", workers=2,
                        progress=False)
    assert summary.exit_code == 0
    for a, b in zip(comparable(serial), comparable(tmp_path / "p"), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_a_county_sweep_reports(swept: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = swept
    code, stdout, err = run_cli(["report", str(out), "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 0, err
    report = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "most_complaints_first" in report and "teams" in report
    assert "county: regimes are deployment rules" in report and "(same county, same shocks)" \
        in report
    columns = pd.read_csv(out / "columns.csv")
    assert not columns["meaning"].isna().any(), columns[columns["meaning"].isna()]


def test_a_village_sweep_keeps_its_identity() -> None:
    """``model`` enters the hash of a county sweep only: village sweeps resume as before."""
    village = load_spec_text(SPEC.replace('model = "county"\n', "")
                             .replace('["none", "random", "most_complaints_first"]',
                                      '["committee_only"]')
                             .replace("n_villages = 4\n", "")
                             .replace("teams = [1, 2]", "favoritism = [0.2]")
                             .replace('"teams_deployed"', '"coverage"'))
    assert "model" not in village.canonical() and village.model == "village"
    county = load_spec_text(SPEC)
    assert county.canonical()["model"] == "county"
    assert SweepSpec.from_record(county.to_record()).spec_hash == county.spec_hash


def load_spec_text(text: str) -> SweepSpec:
    import tomllib

    from village_sim.sweep.spec import parse_spec

    return parse_spec(tomllib.loads(text), text=text)


@pytest.mark.parametrize(("change", "message"), [
    (('model = "county"', 'model = "town"'), "'town'"),
    (('["none", "random", "most_complaints_first"]', '["committee_only"]'),
     "deployment rules"),
    (("n_households = 70", "n_households = 70\nteam_arrives = 5"),
     "'team_arrives': set by the county"),
    (("panel_every = 12", "panel_every = 6"), "12"),
    (("teams = [1, 2]", "teems = [1, 2]"), "teams"),
    (("teams = [1, 2]", "allocation_rule = [\"by_need\"]"), "by_need"),
    (('"teams_deployed"', '"approval"'), "approval"),
])
def test_a_bad_county_spec_is_refused_at_load(change: tuple[str, str], message: str,
                                              tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.replace(*change), encoding="utf-8")
    code, _, err = run_cli(["sweep", str(spec), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "o").exists()


TABLES_SPEC = """name = "county-team-kinds"
model = "county"
regimes = ["none", "rotate"]
replicates = 2
root_seed = 5
steps = 25
metrics = ["poverty_headcount", "kin_premium", "teams_deployed"]
[base]
n_villages = 4
n_households = 60
teams = [{count = 1, size = 5, visits_per_month = 30},
         {count = 1, cooptation = 0.6, term_years = 1}]
"""


def test_team_tables_in_base_give_county_model_runs_with_those_teams(tmp_path: Path) -> None:
    """A sweep's ``[base]`` may list team tables: each run is ``CountyModel`` with exactly those
    teams; the run table holds the number of teams and the tables (canonical text), and the
    run ids differ from a sweep of as many default teams."""
    spec = tmp_path / "kinds.toml"
    spec.write_text(TABLES_SPEC, encoding="utf-8")
    summary = run_sweep(load_spec(spec), tmp_path / "kinds", engine="serial", progress=False)
    assert summary.exit_code == 0, summary.line()
    table = run_table(tmp_path / "kinds")
    assert (table["teams"] == 2).all()
    assert table["team_tables"].nunique() == 1
    tables = [{"count": 1, "size": 5, "visits_per_month": 30},
              {"count": 1, "cooptation": 0.6, "term_years": 1}]
    assert table["team_tables"].iloc[0] == (
        '[{"count":1,"size":5,"visits_per_month":30},{"cooptation":0.6,"count":1,'
        '"term_years":1}]')
    series = load_timeseries(tmp_path / "kinds")
    for _, run in table[table["regime"] == "rotate"].iterrows():
        model = CountyModel(rng=int(run["seed"]), deployment="rotate", n_villages=4,
                            n_households=60, teams=tables)
        for _ in range(25):
            model.step()
        got = series[series["run_id"] == run["run_id"]].sort_values("step")
        np.testing.assert_array_equal(got["kin_premium"].to_numpy(),
                                      model.county_frame()["kin_premium"].to_numpy())
        assert [t.size for t in model.teams] == [5, 3]
    # as many default teams: other runs (other ids), other results under a team rule
    plain = TABLES_SPEC[:TABLES_SPEC.index("teams = [")] + "teams = 2\n"
    (tmp_path / "plain.toml").write_text(plain, encoding="utf-8")
    run_sweep(load_spec(tmp_path / "plain.toml"), tmp_path / "plain", engine="serial",
              progress=False)
    other = run_table(tmp_path / "plain")
    assert other["team_tables"].isna().all()
    assert not set(other["run_id"]) & set(table["run_id"])
    by_kind, by_default = series, load_timeseries(tmp_path / "plain")
    rotate = [frame[frame["regime"] == "rotate"].sort_values(["replicate", "step"])
              for frame in (by_kind, by_default)]
    assert not np.array_equal(rotate[0]["kin_premium"].to_numpy(),
                              rotate[1]["kin_premium"].to_numpy(), equal_nan=True)


@pytest.mark.parametrize(("text", "expected"), [
    ("[base]\nteams = [{count = 1, size = 0}]",
     "teams[0].size: got 0; allowed: an integer in [1, 100]"),
    ("[base]\nteams = [{count = 1, sise = 3}]", "did you mean 'size'?"),
    ("[parameters]\nteams = [[{count = 1}], [{count = 2}]]",
     "parameters.teams: got [{'count': 1}]; allowed: numbers of teams (team tables go in "
     "[base]"),
])
def test_bad_team_tables_in_a_sweep_spec_are_refused(tmp_path: Path, text: str,
                                                     expected: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('name = "x"\nmodel = "county"\nregimes = ["rotate"]\nsteps = 13\n'
                    'replicates = 1\nroot_seed = 1\n' + text,
                    encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_spec(spec)
    assert expected in str(err.value)


SHORT_SPEC = """name = "county-short"
model = "county"
regimes = ["random", "poorest_first", "rotate"]
replicates = 2
root_seed = 4
steps = 13
metrics = ["poverty_headcount", "teams_deployed"]
[base]
n_villages = 4
n_households = 50
teams = 2
"""


@pytest.mark.parametrize(("change", "months"), [
    (("", ""), 25),  # two default teams (terms of 2): informed from month 25
    (("steps = 13", "steps = 24"), 25),
    (("steps = 13", "steps = 25"), None),
    (("teams = 2", "teams = [{count = 2}, {count = 1, term_years = 1}]"), None),
    (("teams = 2\n", "[parameters]\nteams = [1, 3]\n"), 25),
    (('"poorest_first", ', ""), None),  # no informed rule
    (("teams = 2", "teams = 0"), None),  # no team is ever sent
])
def test_a_county_sweep_says_when_its_informed_rules_never_had_anything_to_go_by(
        tmp_path: Path, change: tuple[str, str], months: int | None) -> None:
    """An informed rule that chose only in year 1 ranked the villages as ``random`` does: the
    report says so where the runs end before the shortest term does (and only there)."""
    from village_sim.sweep.report import unseen_rules_note

    spec = tmp_path / "spec.toml"
    spec.write_text(SHORT_SPEC.replace(*change), encoding="utf-8")
    note = unseen_rules_note(load_spec(spec))
    if months is None:
        assert note is None
    else:
        assert note is not None and note.startswith("poorest_first chose every village in "
                                                    "year 1") and f"month {months}" in note


def test_the_report_of_a_sweep_of_year_one_choices_says_they_were_random(
        tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SHORT_SPEC, encoding="utf-8")
    code, _, err = run_cli(["sweep", str(spec), "--out", str(tmp_path / "s"), "--engine",
                            "serial", "--quiet"])
    assert code == 0, err
    # the runs bear it out: poorest_first's teams went where random's did, seed by seed
    series = load_timeseries(tmp_path / "s")
    code, _, err = run_cli(["report", str(tmp_path / "s"), "--quiet"])
    assert code == 0, err
    report = (tmp_path / "s" / "report.md").read_text(encoding="utf-8")
    assert "Note: poorest_first chose every village in year 1" in report
    assert "month 25" in report and "these runs end at month 13" in report
    keys = [c for c in ("replicate", "step", "month") if c in series.columns]
    by_rule = {rule: group.sort_values(keys).drop(columns=["run_id", "regime"], errors="ignore")
               .reset_index(drop=True) for rule, group in series.groupby("regime")}
    assert by_rule["poorest_first"]["teams_deployed"].max() == 2
    pd.testing.assert_frame_equal(by_rule["poorest_first"], by_rule["random"])
