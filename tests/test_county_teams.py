"""A county's pool of work teams, read and checked (village_sim.county.teams)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from village_sim.county.teams import TEAM_FIELDS, TeamSpec, load_teams, parse_teams
from village_sim.model import VillageModel


def test_a_number_gives_default_teams_and_tables_give_their_kinds() -> None:
    assert parse_teams(3) == [TeamSpec()] * 3 and parse_teams(0) == []
    teams = parse_teams([{"count": 2, "size": 5, "cooptation": 0.3},
                         {"term_years": 3, "funds_yuan": 500_000}])
    assert [t.size for t in teams] == [5, 5, 3]
    assert teams[0].cooptation == 0.3 and teams[2].term_years == 3
    assert teams[2].mobilized_yuan == 500_000 + 710_000
    assert {f.name for f in fields(TeamSpec)} == set(TEAM_FIELDS)


def test_a_team_acts_through_its_village_s_parameters() -> None:
    team = TeamSpec(size=4, visits_per_month=6, noise=0.3, cooptation=0.2)
    params = team.village_parameters()
    # its money in yuan, whatever the village's own budget; no share of the base budget
    assert params["mobilization_yuan"] == 940_000 and params["mobilization"] == 0.0
    assert params["team_size"] == 4 and params["team_visits_per_month"] == 6
    model = VillageModel(rng=1, regime="team_and_committee", **params)
    assert model.p.team_size == 4 and model.p.mobilization_yuan == 940_000


@pytest.mark.parametrize("value, words", [
    ([{"size": 0}], "teams[0].size: got 0; allowed: an integer in [1, 100]"),
    ([{}, {"cooptation": 1.5}], "teams[1].cooptation: got 1.5; allowed: a number in [0, 1]"),
    ([{"term_years": 0}], "teams[0].term_years: got 0; allowed: an integer in [1, 10]"),
    ([{"funds_yuan": -1}], "teams[0].funds_yuan: got -1; allowed: a number of yuan"),
    ([{"sise": 3}], "teams[0]: unknown field 'sise'; did you mean 'size'?"),
    ([{"count": -2}], "teams[0].count: got -2; allowed: an integer in [0, 100000]"),
    ([3], "teams[0]: got 3; allowed: a table of team fields"),
    (-1, "teams: got -1; allowed: a number of teams in [0, 100000]"),
    ("five", "teams: got 'five'; allowed: a number of teams, or a list of team tables"),
])
def test_bad_teams_are_refused_naming_the_team_and_field(value: object, words: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_teams(value)
    assert words in str(err.value)


@pytest.mark.parametrize("budget_per_household", [0.0, 150.0, 1500.0])
def test_a_team_s_money_reaches_any_village_in_yuan(budget_per_household: float) -> None:
    """Even a village with no budget of its own (a county rule can give it none) gets the
    team's yuan, a twelfth each month (it was refused as a share of a zero budget)."""
    model = VillageModel(rng=2, regime="team_and_committee", n_households=20,
                         budget_per_household=budget_per_household,
                         **TeamSpec().village_parameters())
    for _ in range(12):
        model.step()
    mobilized = model.datacollector.get_model_vars_dataframe()["mobilized"].iloc[1:13]
    assert mobilized.sum() == pytest.approx(940_000, rel=1e-12)
    assert mobilized.to_numpy() == pytest.approx(940_000 / 12)


def test_a_teams_file(tmp_path: Path) -> None:
    path = tmp_path / "teams.toml"
    path.write_text('[[team]]\ncount = 4\nsize = 2\n\n[[team]]\nnoise = 0.05\n',
                    encoding="utf-8")
    teams = load_teams(path)
    assert [t.size for t in teams] == [2, 2, 2, 2, 3] and teams[-1].noise == 0.05
    path.write_text('[[team]]\nsize = "three"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"teams.toml: team\[0\]\.size: got 'three'"):
        load_teams(path)
    path.write_text('[teams]\nsize = 3\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"allowed: \[\[team\]\] tables only"):
        load_teams(path)
    with pytest.raises(ValueError, match="teams file .*missing.toml. does not exist"):
        load_teams(tmp_path / "missing.toml")

    path.write_text("[[team]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="teams file .*teams.toml"):
        load_teams(path)
