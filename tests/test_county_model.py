"""``CountyModel``: the county's yearly cycle on stacked villages (issue 11, items 1 and 3).

What is checked: a village of a county that the county leaves alone is exactly its solo run
(common random numbers across deployment rules); a team sent opens its village's team window
for its term, acts there, and leaves nothing behind when a new team comes; budgets and quotas
add up; ``cash_equivalent`` gives the team's money as budget; what the county sees (complaints
from the decision log, the survey, the register); the shared audit capacity; villages drawn from
stated distributions, keyed (seed, village); bad arguments refused, naming them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from county_helpers import step_and_compare
from village_sim import VillageModel
from village_sim.codes import ACTOR_TEXT, REASON_TEXT, Actor, Reason
from village_sim.county import TeamSpec
from village_sim.county.model import NO_TEAM_MONTH, CountyModel
from village_sim.county.villages import VillageDistributions, draw_villages

SMALL = {"n_households": (50, 90), "n_clans": (2, 5)}
"""Small villages, so that a county of several runs for years in a test."""


def county(**kwargs: object) -> CountyModel:
    args = {"rng": 5, "n_villages": 5, "distributions": SMALL, "village_metrics": "monthly",
            **kwargs}
    return CountyModel(**args)  # type: ignore[arg-type]


def run(model: CountyModel, months: int) -> CountyModel:
    for _ in range(months):
        model.step()
    return model


def metrics(v: VillageModel) -> pd.DataFrame:
    return v.datacollector.get_model_vars_dataframe()


# ---------------------------------------------------------------------------- common numbers
def test_a_village_the_county_leaves_alone_runs_exactly_as_alone() -> None:
    c = run(county(), 26)
    for v in range(c.n_villages):
        solo = VillageModel(**c.village_arguments(v))
        for _ in range(26):
            solo.step()
        pd.testing.assert_frame_equal(metrics(c.villages[v]), metrics(solo), check_exact=True)
        pd.testing.assert_frame_equal(c.villages[v].decision_log(), solo.decision_log(),
                                      check_exact=True)


@pytest.mark.parametrize("allocation_rule", ["fixed", "per_household"])
def test_a_village_never_given_a_team_runs_identically_under_every_rule(
        allocation_rule: str) -> None:
    """Rules that divide nothing by what villages do leave an untouched village untouched."""
    months = 37
    reference = run(county(n_villages=6, allocation_rule=allocation_rule), months)
    for rule in ("random", "poorest_first", "most_complaints_first", "rotate"):
        c = run(county(n_villages=6, teams=2, deployment=rule,
                       allocation_rule=allocation_rule), months)
        served = set(c.deployment_log()["village"])
        assert 0 < len(served) < 6, (rule, served)
        for v in set(range(6)) - served:
            pd.testing.assert_frame_equal(metrics(c.villages[v]),
                                          metrics(reference.villages[v]), check_exact=True,
                                          obj=f"{rule}: village {v}")
        for v in served:  # and the rule did act where it sent a team
            assert not metrics(c.villages[v]).equals(metrics(reference.villages[v]))


def test_villages_are_keyed_by_seed_and_village_not_by_their_number() -> None:
    three, _ = draw_villages(9, 3, VillageDistributions(), {})
    five, _ = draw_villages(9, 5, VillageDistributions(), {})
    assert three == five[:3]
    other, _ = draw_villages(10, 3, VillageDistributions(), {})
    assert other != three


def test_the_same_seed_gives_the_same_county() -> None:
    a = run(county(teams=2, deployment="random"), 14)
    b = run(county(teams=2, deployment="random"), 14)
    pd.testing.assert_frame_equal(a.county_frame(), b.county_frame(), check_exact=True)
    pd.testing.assert_frame_equal(a.deployment_log(), b.deployment_log())
    c = run(county(rng=6, teams=2, deployment="random"), 14)
    assert not a.county_frame().equals(c.county_frame())


# ---------------------------------------------------------------------------- teams
def test_a_team_works_in_its_village_for_its_term_then_leaves() -> None:
    spec = TeamSpec(size=2, visits_per_month=3, term_years=1)
    c = county(n_villages=4, teams=[spec], deployment="rotate")
    run(c, 24)
    log = c.deployment_log()
    arrivals = log[log["event"] == "arrives"]
    assert list(arrivals["village"]) == [0, 1] and list(arrivals["year"]) == [1, 2]
    assert list(log.loc[log["event"] == "leaves", "village"]) == [0]
    first, second = metrics(c.villages[0]), metrics(c.villages[1])
    assert first["team_active"].iloc[1:13].eq(1.0).all()      # months 1-12
    assert first["team_active"].iloc[13:].eq(0.0).all()       # gone after its term
    assert second["team_active"].iloc[1:13].eq(0.0).all()
    assert second["team_active"].iloc[13:25].eq(1.0).all()
    # it visits within its budget (2 members x 3 visits), its money comes with it
    assert first["team_visits_done"].iloc[1:13].between(1, 6).all()
    assert first["mobilized"].iloc[1:13].gt(0).all() and first["mobilized"].iloc[13:].eq(0).all()
    assert metrics(c.villages[2])["team_active"].eq(0.0).all()
    yearly = c.village_year_frame()
    assert list(yearly.loc[yearly["year"] == 1, "had_team"]) == [True, False, False, False]


def test_the_team_brings_its_sourced_yuan_and_costs_its_members() -> None:
    spec = TeamSpec(size=4, term_years=1)
    alone = run(county(n_villages=2), 12)
    c = run(county(n_villages=2, teams=[spec], deployment="rotate"), 12)
    with_team, without = metrics(c.villages[0]), metrics(alone.villages[0])
    months = slice(1, 13)
    assert with_team["mobilized"].iloc[months].sum() == pytest.approx(spec.mobilized_yuan,
                                                                      rel=1e-12)
    extra_staff = (with_team["staff_costs"].iloc[months].sum()
                   - without["staff_costs"].iloc[months].sum())
    assert extra_staff == pytest.approx(c.base_p[0].team_cost * 4 * 12, rel=1e-12)


def test_a_new_team_starts_with_no_visit_records() -> None:
    spec = TeamSpec(size=3, visits_per_month=8, term_years=1)
    c = county(n_villages=1, teams=[spec, spec], deployment="rotate")
    run(c, 12)
    v = c.villages[0]
    assert (v.team_last_visit > -10_000).any()  # team 0 visited in year 1
    c.step()  # year 2: team 0's term ended, team 1 comes
    log = c.deployment_log()
    assert list(log.loc[log["event"] == "arrives", "team"]) == [0, 1]
    # what it knows after one month is only this month's visits
    assert ((v.team_last_visit > -10_000) <= (v.team_last_visit == 13)).all()
    assert v.team_signal_count.sum() == (v.team_last_visit == 13).sum()


def test_villages_without_a_team_have_their_window_closed() -> None:
    c = county()
    assert all(v.team_arrives == NO_TEAM_MONTH and not v.team_active for v in c.villages)


# ---------------------------------------------------------------------------- budgets
def test_budget_and_quota_are_divided_every_year_and_add_up() -> None:
    c = run(county(n_villages=6, allocation_rule="estimated_poor",
                   county_budget_per_household=2000.0, county_quota=0.25), 36)
    yearly = c.village_year_frame()
    total = 2000.0 * c.households.sum()
    for year, rows in yearly.groupby("year"):
        assert rows["budget_yuan"].sum() == pytest.approx(total, rel=1e-12), year
        assert rows["quota_households"].sum() == round(0.25 * c.households.sum()), year
    # after the first survey the budget follows the estimated poor, not the households
    per_household = yearly["budget_yuan"] / yearly["households"]
    assert per_household[yearly["year"] == 1].std() == pytest.approx(0.0, abs=1e-9)
    assert per_household[yearly["year"] == 2].std() > 1.0


def test_cash_equivalent_gives_the_team_cost_and_money_as_budget() -> None:
    spec = TeamSpec(size=3, term_years=2)
    base = run(county(n_villages=4), 12)
    c = run(county(n_villages=4, teams=[spec], deployment="cash_equivalent"), 12)
    log = c.deployment_log()
    village = int(log["village"].iloc[0])
    assert log["reason"].iloc[0].startswith("cash instead of a team")
    cash = c.base_p[village].team_cost * 3 * 12 + spec.mobilized_yuan
    assert c.cash[village] == pytest.approx(cash)
    got = metrics(c.villages[village])["released"].iloc[1:13].sum()
    before = metrics(base.villages[village])["released"].iloc[1:13].sum()
    assert got - before == pytest.approx(cash, rel=1e-9)
    for v in c.villages:  # no team anywhere
        assert metrics(v)["team_active"].eq(0.0).all()


def test_the_county_sees_dismissed_complaints_and_the_survey() -> None:
    c = run(county(n_villages=4, complaint_rate=0.3), 12)
    view = c.view()
    for i, v in enumerate(c.villages):
        log = v.decision_log()
        dismissed = log["reason"].isin([REASON_TEXT[Reason.COMPLAINT_DISMISSED],
                                        REASON_TEXT[Reason.REPORT_DISMISSED]])
        by_villagers = log["challenged_by"] == ACTOR_TEXT[Actor.VILLAGERS]
        assert view.complaints[i] == int((dismissed & by_villagers).sum())
        assert view.survey_poor_share[i] == v.survey["survey_poor_share"]
        assert view.registered[i] == v.registered.sum()
    assert view.complaints.sum() > 0


def test_audits_are_a_county_capacity_shared_among_villages() -> None:
    c = run(county(n_villages=5, audit_capacity=2.0), 1)
    assert [v.p.audit_probability for v in c.villages] == [0.4] * 5
    c = run(county(n_villages=5, audit_capacity=20.0), 1)
    assert [v.p.audit_probability for v in c.villages] == [1.0] * 5


# ---------------------------------------------------------------------------- outputs
def test_county_metrics_are_over_all_households() -> None:
    c = run(county(), 13)
    frame = c.county_frame()
    assert list(frame["month"]) == list(range(14))
    last = frame.iloc[-1]
    persons = np.concatenate([v.persons for v in c.villages])
    poor = np.concatenate([v.poor() for v in c.villages])
    assert last["poverty_headcount"] == pytest.approx(persons[poor].sum() / persons.sum())
    assert last["registered_count"] == sum(v.registered.sum() for v in c.villages)
    assert 0 <= last["between_village_share"] <= 1 and 0 <= last["between_village_gini"] < 1


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"allocation_rule": "by_need"}, "parameter 'allocation_rule': got 'by_need'"),
    ({"regime": "committee_only"}, "parameter 'regime': got 'committee_only'"),
    ({"team_arrives": 3}, "parameter 'team_arrives': set by the county"),
    ({"n_villages": 0, "distributions": None}, "parameter 'n_villages': got 0"),
    ({"distributions": {"size": (1, 2)}}, "unknown attribute 'size'"),
    ({"distributions": {"n_households": (10, 5)}}, "distributions.n_households: got (10, 5)"),
    ({"county_budget_per_household": 100.0}, "allocation_rule 'fixed'"),
    ({"county_quota": 2.0, "allocation_rule": "per_household"},
     "parameter 'county_quota': got 2.0"),
    ({"audit_capacity": -1}, "parameter 'audit_capacity': got -1"),
    ({"favoritism": 9.0}, "parameter 'favoritism'"),
    ({"rng": "abc"}, "abc"),
    ({"deployment": "everywhere", "teams": 1}, "parameter 'deployment': got 'everywhere'"),
])
def test_bad_arguments_are_refused_naming_them(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(county(**kwargs), 1)


# ---------------------------------------------------------------------------- effects
SCALED_TEAM = TeamSpec(funds_yuan=60_000, coordinated_yuan=90_000)
"""A team whose money is in proportion to these small villages (60-120 households; the
sourced ¥940,000 is for villages of several hundred)."""


@pytest.fixture(scope="module")
def paired_counties() -> dict[int, dict[str, CountyModel]]:
    """Four seeds, each under no team, teams sent at random, and their money instead."""
    out: dict[int, dict[str, CountyModel]] = {}
    for seed in range(4):
        out[seed] = {}
        for rule in ("none", "random", "cash_equivalent"):
            c = CountyModel(rng=seed, n_villages=10, teams=[SCALED_TEAM] * 4, deployment=rule,
                            distributions={"n_households": (60, 120), "n_clans": (2, 5)})
            out[seed][rule] = run(c, 36)
    return out


def _difference(runs: dict[str, CountyModel], rule: str, metric: str) -> float:
    """Year-3 metric of the villages ``rule`` served, minus the same villages without a team."""
    served = sorted(set(runs[rule].deployment_log()["village"]))
    frames = {r: runs[r].village_year_frame() for r in (rule, "none")}
    at = {r: f[f["year"] == 3].set_index("village")[metric] for r, f in frames.items()}
    return float((at[rule] - at["none"]).loc[served].mean())


def test_a_team_lowers_diversion_and_favoritism_where_it_is_sent(
        paired_counties: dict[int, dict[str, CountyModel]]) -> None:
    """Same villages, same shocks (paired): the team's visits and supervision act there.

    Seen: diverted share -0.10 to -0.16 on every seed; kin premium -0.001 to -0.07 (mean
    -0.03). Tolerance: diversion lower on every seed; the kin premium lower on average.
    """
    diversion = [_difference(r, "random", "diverted_share") for r in paired_counties.values()]
    kin = [_difference(r, "random", "kin_premium") for r in paired_counties.values()]
    assert max(diversion) < 0, diversion
    assert np.mean(kin) < 0 and sum(k < 0 for k in kin) >= 3, kin


def test_the_same_money_lowers_poverty_but_not_diversion_as_a_team_does(
        paired_counties: dict[int, dict[str, CountyModel]]) -> None:
    """``cash_equivalent``: the money reaches households (post-transfer poverty falls on every
    seed), but nobody watches it: diversion falls less than under a team, on every seed."""
    for seed, runs in paired_counties.items():
        assert _difference(runs, "cash_equivalent", "poverty_headcount_post") < 0, seed
        assert _difference(runs, "cash_equivalent", "diverted_share") > _difference(
            runs, "random", "diverted_share"), seed


def test_no_team_month_is_the_latest_month_a_team_may_arrive() -> None:
    from village_sim.params import PARAM_BY_NAME

    assert PARAM_BY_NAME["team_arrives"].high == NO_TEAM_MONTH


# ---------------------------------------------------------------------------- attributes
def test_listed_villages_from_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "villages.toml"
    path.write_text("[[village]]\nn_households = 70\nremoteness = 0.8\n\n"
                    "[[village]]\nn_households = 90\nfavoritism = 0.9\n", encoding="utf-8")
    c = CountyModel(rng=1, villages=path, favoritism=0.2)
    assert c.n_villages == 2 and [v.n for v in c.villages] == [70, 90]
    assert c.villages[0].p.remoteness == 0.8 and c.villages[0].p.favoritism == 0.2
    assert c.villages[1].p.favoritism == 0.9  # the village's own value over the county's
    path.write_text("[[village]]\nn_households = 70\n\n[[village]]\nremotenes = 1\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"villages.toml: village\[1\]: .*'remotenes'"):
        CountyModel(rng=1, villages=path)
    path.write_text("[[team]]\nsize = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"allowed: \[\[village\]\] tables only"):
        CountyModel(rng=1, villages=path)
    with pytest.raises(ValueError, match="distributions.*not with 'villages'"):
        CountyModel(rng=1, villages=[{"n_households": 60}], distributions=SMALL)


def test_drawn_attributes_lie_in_their_ranges_and_act_on_the_village() -> None:
    c = county(n_villages=12, favoritism=0.4)
    for v, greed in zip(c.villages, c.greed_factor, strict=True):
        assert 50 <= v.n <= 90 and 2 <= v.p.n_clans <= 5
        assert 0.6 <= v.p.asset_inequality <= 1.2 and 0 <= v.p.remoteness <= 1
        assert 0.5 <= greed <= 1.5 and v.p.favoritism == pytest.approx(0.4 * greed)
        assert len(set(v.clan)) == v.p.n_clans
    assert np.ptp([v.p.remoteness for v in c.villages]) > 0.3


def test_remoteness_lowers_wages_and_team_visits() -> None:
    from village_sim.mechanisms import visits

    near = VillageModel(rng=3, n_households=80)
    far = VillageModel(rng=3, n_households=80, remoteness=1.0, remote_wage_loss=0.3,
                       remote_visit_loss=0.5)
    labour = near.labour * np.where(near.sick, near.p.sick_labour_share, 1.0)
    wage_part = near.p.wage * labour * near.skill * near.infrastructure
    np.testing.assert_allclose(near.annual_capacity() - far.annual_capacity(), 0.3 * wage_part,
                               rtol=1e-9, atol=1e-6)
    assert visits.capacity(near) == 12 and visits.capacity(far) == 6
    middle = VillageModel(rng=3, n_households=80, remoteness=0.5)
    assert visits.capacity(middle) == int(12 * 0.75)


def test_village_budget_and_quota_are_village_parameters_of_every_village() -> None:
    """``quota`` and ``budget_per_household`` among the overrides set every village's own (used
    under ``fixed``) and are the county's defaults under a dividing rule."""
    fixed = county(quota=0.2, budget_per_household=1800.0)
    assert all(v.p.quota == 0.2 and v.p.budget_per_household == 1800.0 for v in fixed.villages)
    divided = run(county(quota=0.2, budget_per_household=1800.0,
                         allocation_rule="per_household"), 1)
    assert sum(v.p.budget_per_household * v.n for v in divided.villages) == pytest.approx(
        1800.0 * divided.households.sum())


# ---------------------------------------------------------------------------- rules in a county
def test_a_custom_rule_sees_only_what_a_county_sees_and_is_followed() -> None:
    from village_sim.county import CountyView, DeploymentHistory

    seen: list[tuple[CountyView, DeploymentHistory]] = []

    def last_first(view: CountyView, history: DeploymentHistory,
                   rng: np.random.Generator) -> list[int]:
        seen.append((view, history))
        return list(range(len(view.households)))[::-1]

    c = run(county(n_villages=5, teams=[SCALED_TEAM], deployment=last_first), 25)
    arrivals = c.deployment_log()
    arrivals = arrivals[arrivals["event"] == "arrives"]
    # one team of 2-year terms: sent in years 1 and 3, each time where the rule says first
    assert list(arrivals["village"]) == [4, 4] and list(arrivals["year"]) == [1, 3]
    assert set(arrivals["rule"]) == {"last_first"}
    assert [h.year for _, h in seen] == [1, 2, 3]
    view = seen[-1][0]
    assert set(vars(view)) == {"households", "registered", "survey_poor_share", "complaints"}
    assert not np.isnan(view.survey_poor_share).any()  # surveys by year 3


def test_most_complaints_first_goes_where_dismissed_complaints_come_from() -> None:
    c = run(county(n_villages=6, teams=[SCALED_TEAM] * 2, deployment="most_complaints_first",
                   complaint_rate=0.3), 24)
    c.step()  # year 3: the teams of year 1 are free (2-year terms)
    log = c.deployment_log()
    sent = log[(log["event"] == "arrives") & (log["year"] == 3)]
    rate = c.view_at_year_start.complaints / c.households  # what the rule saw
    others = np.delete(rate, sent["village"].to_numpy())
    assert len(sent) == 2 and rate[sent["village"]].min() >= others.max(), (rate, sent)
    assert rate.max() > 0 and all("complaints" in r for r in sent["reason"])


def test_villages_of_a_yearly_county_record_no_month_zero_and_run_the_same() -> None:
    # a county keeping its villages' metrics yearly builds them without recording month 0
    # (their DataCollectors are never read); the villages run identically either way
    yearly = CountyModel(rng=3, n_villages=3, teams=1, deployment="random", n_households=60)
    monthly = CountyModel(rng=3, n_villages=3, teams=1, deployment="random", n_households=60,
                          village_metrics="monthly")
    assert all(not v.datacollector.model_vars["poverty_headcount"] for v in yearly.villages)
    assert all(len(v.datacollector.model_vars["poverty_headcount"]) == 1
               for v in monthly.villages)
    step_and_compare(yearly, monthly, 13)
    with pytest.raises(ValueError, match="parameter 'record_start': got 'no'"):
        VillageModel(rng=1, n_households=20, record_start="no")
