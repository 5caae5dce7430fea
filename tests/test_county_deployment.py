"""Which villages get a team: the county's deployment rules (village_sim.county.deployment)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from village_sim.county import CountyView
from village_sim.county.deployment import DEPLOYMENT_RULES, NEVER, Deployment


def view_of(households: list[int], registered: list[int] | None = None,
            survey: list[float] | None = None, complaints: list[int] | None = None,
            ) -> CountyView:
    n = len(households)
    return CountyView(np.array(households), np.array(registered or [0] * n),
                      np.array(survey if survey is not None else [np.nan] * n, dtype=float),
                      np.array(complaints or [0] * n))


def random_view(rng: np.random.Generator, n: int) -> CountyView:
    households = rng.integers(50, 600, n)
    share = rng.uniform(0.05, 0.6, n)
    share[rng.random(n) < 0.3] = np.nan
    return CountyView(households, (rng.uniform(0, 0.4, n) * households).astype(np.int64),
                      share, rng.integers(0, 30, n))


@pytest.mark.parametrize("rule", [r for r in DEPLOYMENT_RULES if r != "none"])
@pytest.mark.parametrize("seed", range(8))
def test_a_team_is_never_in_two_villages_and_serves_its_term(rule: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_villages, n_teams = int(rng.integers(5, 40)), int(rng.integers(1, 12))
    terms = rng.integers(1, 4, n_teams)
    county = Deployment(n_villages, terms, rule)
    where: dict[int, list[int]] = {t: [] for t in range(n_teams)}
    for year in range(1, 11):
        county.deploy(year, random_view(rng, n_villages), rng)
        placed = county.village[county.village >= 0]
        assert np.unique(placed).size == placed.size  # one team per village at most
        # every team is out (when there are enough villages): nobody idles while villages wait
        assert (county.village >= 0).sum() == min(n_teams, n_villages)
        for t in range(n_teams):
            where[t].append(int(county.village[t]))
    for t in range(n_teams):  # a stay lasts the team's whole term (the last may be cut off)
        stays = np.split(np.array(where[t]), np.flatnonzero(np.diff(where[t])) + 1)
        for stay in stays[:-1]:
            assert stay.size % terms[t] == 0, (t, terms[t], where[t])
    log = county.log
    assert all(rec.rule == rule for rec in log)
    assert {rec.team for rec in log} <= set(range(n_teams))


def test_poorest_first_sends_teams_to_the_largest_estimated_poor_share() -> None:
    county = Deployment(5, [2, 2], "poorest_first")
    view = view_of([100] * 5, registered=[10, 40, 0, 0, 0],
                   survey=[np.nan, np.nan, 0.3, 0.5, np.nan])
    made = county.deploy(1, view, np.random.default_rng(0))
    # survey 0.5 (village 3), then register 0.4 (village 1); survey 0.3 and register 0.1 next
    assert [r.village for r in made] == [3, 1]
    assert "0.500 (survey)" in made[0].reason and "0.400 (register)" in made[1].reason
    assert county.team_villages().tolist() == [False, True, False, True, False]


def test_most_complaints_first_counts_per_household() -> None:
    county = Deployment(3, [1], "most_complaints_first")
    made = county.deploy(1, view_of([100, 1000, 50], complaints=[5, 20, 4]),
                         np.random.default_rng(0))
    assert [r.village for r in made] == [2]  # 0.08 per household beats 0.05 and 0.02


def test_rotate_goes_round_the_county() -> None:
    county = Deployment(6, [2, 2], "rotate")
    view = view_of([100] * 6)
    served = []
    for year in range(1, 7):
        county.deploy(year, view, np.random.default_rng(year))
        served.append(sorted(county.village.tolist()))
    # terms of 2: villages 0-1 for years 1-2, 2-3 for years 3-4, 4-5 for years 5-6
    assert served == [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]]
    assert county.last_served.tolist() == [2, 2, 4, 4, 6, 6]


def test_none_sends_nobody_and_cash_equivalent_sends_money_where_teams_would_go() -> None:
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    view = random_view(np.random.default_rng(9), 20)
    nobody = Deployment(20, [2] * 5, "none")
    assert nobody.deploy(1, view, rng_a) == [] and not nobody.holds_team().any()
    cash = Deployment(20, [2] * 5, "cash_equivalent")
    teams = Deployment(20, [2] * 5, "poorest_first")
    cash.deploy(1, view, rng_b)
    teams.deploy(1, view, np.random.default_rng(3))
    assert not cash.team_villages().any()
    assert cash.cash_villages().tolist() == teams.team_villages().tolist()
    assert all(r.reason.startswith("cash instead of a team: ") for r in cash.log)


def test_a_custom_rule_is_followed_and_checked() -> None:
    seen: dict[str, Any] = {}

    def biggest_first(view: CountyView, history: Any, rng: np.random.Generator) -> list[int]:
        seen["year"] = history.year
        return list(np.argsort(-view.households, kind="stable"))

    county = Deployment(4, [1, 1], biggest_first)
    made = county.deploy(1, view_of([10, 400, 30, 200]), np.random.default_rng(0))
    assert [r.village for r in made] == [1, 3] and seen["year"] == 1
    assert made[0].rule == "biggest_first" and made[0].reason == "biggest_first: rank 1"

    def nonsense(view: CountyView, history: Any, rng: np.random.Generator) -> list[int]:
        return [0, 0, 7]

    with pytest.raises(ValueError, match=r"deployment rule 'nonsense': returned \[0, 0, 7\]; "
                       r"allowed: distinct village indices from 0 to 3"):
        Deployment(4, [1], nonsense).deploy(1, view_of([1, 2, 3, 4]),
                                            np.random.default_rng(0))


def test_random_deployment_draws_only_from_the_county_s_generator() -> None:
    view = view_of([100] * 30)
    a = Deployment(30, [2] * 6, "random")
    b = Deployment(30, [2] * 6, "random")
    a.deploy(1, view, np.random.default_rng(11))
    b.deploy(1, view, np.random.default_rng(11))
    assert a.village.tolist() == b.village.tolist()
    c = Deployment(30, [2] * 6, "random")
    c.deploy(1, view, np.random.default_rng(12))
    assert c.village.tolist() != a.village.tolist()


@pytest.mark.parametrize("make, words", [
    (lambda: Deployment(3, [2], "loudest"), "parameter 'deployment': got 'loudest'; allowed: "
     "none, random, poorest_first"),
    (lambda: Deployment(0, [2], "random"), "parameter 'n_villages': got 0"),
    (lambda: Deployment(3, [2, 0], "random"), r"team terms: got \[2, 0\]; allowed: one "
     "integer >= 1"),
])
def test_bad_deployments_are_refused(make: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        make()


def test_years_must_advance() -> None:
    county = Deployment(3, [1], "rotate")
    county.deploy(1, view_of([1, 2, 3]), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"year: got 1; allowed: an integer after the last "
                       r"deployment's year \(1\)"):
        county.deploy(1, view_of([1, 2, 3]), np.random.default_rng(0))
    assert NEVER < 0
