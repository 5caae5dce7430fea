"""The county engine (village_sim.county.engine) equals each village's solo run, bit for bit.

Issue 11, item 2: one engine whose phases act on all villages at once, with village v of a
county equal to ``VillageModel`` on v's seed and parameters. These tests step villages through
the engine and, alongside, the same villages alone, and compare every household column, the
funds, the month's flows and memo items, what cadres have seen (evidence), the channels'
intensities, every metric and the decision log, every month.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from county_helpers import step_and_compare
from village_sim import VillageModel
from village_sim.county.engine import CountyEngine
from village_sim.county.phases import draws
from village_sim.county.stacked import CHOICES
from village_sim.mechanisms import policies
from village_sim.rng import village_seed
from village_sim.stack import VillageStack
from village_sim.state import HOUSEHOLD_COLUMNS, VILLAGE_NUMBERS, Purpose

MONTHS = 30

# every regime, several sizes, and the mechanisms the defaults leave off or quiet: events,
# channel substitution, internalisation, yearly elections, co-optation, restitution to the
# village (audits that find), a random visit order, a team that leaves (and one that leaves
# and comes back by events), remoteness, no kin
# exchange, measures that wear off, frequent disasters; and the branches of measures, the
# survey and accountability, the re-check and projects (see the comments)
VARIED = [
    {"rng": 11, "regime": "team_and_committee"},
    {"rng": 12, "regime": "committee_only", "n_households": 120},
    {"rng": 13, "regime": "committee_plus_mobilization", "n_households": 200},
    {"rng": 14, "regime": "team_without_supervision", "n_households": 80},
    {"rng": 15, "regime": "team_alone", "n_households": 150},
    {"rng": 21, "regime": "team_and_committee", "channel_substitution": True,
     "internalisation_rate": 0.5, "term_years": 1, "cooptation": 0.3,
     "recovered_to_village": True, "visit_strategy": "random", "team_leaves": 25,
     "audit_probability": 1.0, "audit_coverage": 0.4,  # some accounts, chosen at random
     "events": [{"month": 5, "kind": "flood"}, {"month": 8, "kind": "illness_outbreak"},
                {"month": 10, "kind": "audit_now"}, {"month": 20, "kind": "budget_cut"}]},
    {"rng": 23, "regime": "committee_only", "n_households": 60, "quota_control": False,
     "elections": False, "upper_recheck": False, "audit_probability": 1.0, "sanction": 10.0},
    {"rng": 24, "regime": "team_and_committee", "remoteness": 0.7, "kin_exchange": False,
     "measure_depreciation": 0.2, "disaster_rate": 0.3, "team_arrives": 13,
     "mobilization_yuan": 300_000.0,
     # a team that leaves and comes back by scheduled events (the month's windows change
     # after the events phase: held from there on)
     "events": [{"month": 17, "kind": "team_leaves"}, {"month": 21, "kind": "team_arrives"}]},
    # no measures, no helpers, an exact re-check (no measurement draws), a falling quota, no
    # accountability after the survey
    {"rng": 25, "regime": "team_and_committee", "n_households": 70, "household_measures": False,
     "helpers": False, "upper_recheck_noise": 0.0, "quota_schedule": "falling",
     "survey_consequences": False},
    # no projects; a re-check that puts back without a quota
    {"rng": 26, "regime": "committee_only", "n_households": 90, "development_projects": False,
     "quota_control": False, "upper_recheck_share": 0.5},
    # a tiny village whose every survey fails and replaces all cadres (fewer candidates than
    # seats), and whose disasters take every asset (cadres drawn from anyone, captured projects
    # going to the connected)
    {"rng": 27, "regime": "committee_only", "n_households": 10, "committee_size": 7,
     "survey_replacement": 1.0, "missed_poor_threshold": 0.0, "wrongful_exit_threshold": 0.0,
     "disaster_rate": 0.5, "disaster_reach": 1.0, "disaster_asset_loss": 1.0,
     "project_capture": 1.0},
    # nobody poor: the industry project goes to a whole clan
    {"rng": 28, "regime": "team_and_committee", "n_households": 40, "poverty_line": 100.0},
    # wrongful exits the re-check finds, more than the (falling) quota has room for in year 2
    {"rng": 33, "regime": "committee_only", "n_households": 120, "upper_recheck_share": 1.0,
     "exit_pressure": 1.0, "quota_schedule": "falling", "upper_recheck_noise": 0.3},
]

# the branches of the yearly review the others leave out: a team listing with no quota and with
# the committee's cooperation, or filling its quota; the committee filling its quota, on a quota
# falling with the survey, without helpers, with a meeting that sees incomes exactly and a team
# that keeps its findings; no democratic appraisal; elections every year that replace every
# cadre; a team that goes along with the committee half the time; a team that comes and leaves;
# a small quota with every wronged household complaining
YEARLY = [
    {"rng": 31, "regime": "team_alone", "n_households": 90, "quota_control": False,
     "team_cooperation": True, "term_years": 1, "exit_pressure": 0.9},
    {"rng": 32, "regime": "team_and_committee", "n_households": 110, "quota_mode": "fill",
     "quota_schedule": "falling", "helpers": False, "meeting_noise": 0.0, "term_years": 1,
     "team_shares_findings": False, "internalisation_rate": 1.0, "cooptation": 0.5},
    {"rng": 33, "regime": "team_alone", "n_households": 300, "quota_mode": "fill", "quota": 0.5,
     "team_cooperation": True},
    {"rng": 34, "regime": "committee_only", "n_households": 50, "democratic_appraisal": False,
     "quota_mode": "fill"},
    {"rng": 35, "regime": "team_without_supervision", "n_households": 130, "term_years": 1,
     "exit_pressure": 0.8, "election_turnover": 1.0, "cooptation": 0.5,
     "quota_schedule": "falling"},
    {"rng": 36, "regime": "team_and_committee", "n_households": 100, "quota": 0.1,
     "complaint_rate": 1.0, "cooptation": 0.6},
]

# a county's villages: keyed seeds, equal sizes (one group per sum) and mixed ones
COUNTY = [{"rng": village_seed(7, v), "regime": "team_and_committee",
           "n_households": 100 + 37 * (v % 4)} for v in range(12)]


def _half_diversion(view: policies.DiversionView, rng: np.random.Generator) -> np.ndarray:
    """A custom diversion policy: half of what the model's rule takes."""
    return 0.5 * policies.DEFAULT_POLICIES["diversion"](view, rng)


def _proposal_without_favour(view: policies.ProposalView,
                             rng: np.random.Generator) -> np.ndarray:
    """A custom proposal policy: the committee's rule, without favour."""
    return policies.DEFAULT_POLICIES["proposal"](dataclasses.replace(view, favoritism=0.0), rng)


def _always_challenge(view: policies.ChallengeView, rng: np.random.Generator) -> np.ndarray:
    """A custom challenge policy: the team always acts (and draws nothing)."""
    return np.ones(view.households.size, dtype=bool)


def _report_half(view: policies.ReportView, rng: np.random.Generator) -> np.ndarray:
    """A custom report policy: the model's rule at half the rate."""
    return policies.DEFAULT_POLICIES["report"](dataclasses.replace(view, rate=view.rate / 2),
                                              rng)


def _equal_aid(view: policies.AidView, rng: np.random.Generator) -> np.ndarray:
    """A custom aid policy: the same amount to every registered household."""
    return np.ones(view.households.size)


def _poorest_ask_kin(view: policies.KinRequestView, rng: np.random.Generator) -> np.ndarray:
    """A custom kin request policy: only households below half their needs ask."""
    return view.income < 0.5 * view.need


def _share_registered(view: policies.ShareView, rng: np.random.Generator) -> np.ndarray:
    """A custom share policy: the team tells only its findings on registered households."""
    return view.known & view.registered


def _examine_the_chair(view: policies.AccountsView, rng: np.random.Generator) -> np.ndarray:
    """A custom accounts policy: an audit examines the chair's account alone."""
    chosen = np.zeros(view.times_caught.size, dtype=bool)
    chosen[0] = True
    return chosen


# villages deciding by other rules: their allocation, exit assessment, review and
# identification run as their own phases (D6)
CUSTOM = [*VARIED[:3], {"rng": 22, "regime": "team_and_committee", "n_households": 90,
                        "policies": {"diversion": _half_diversion}},
          {"rng": 25, "regime": "team_and_committee", "n_households": 90,
           "policies": {"proposal": _proposal_without_favour, "challenge": _always_challenge}},
          {"rng": 27, "regime": "team_and_committee", "n_households": 90,
           "policies": {"report": _report_half, "kin_request": _poorest_ask_kin,
                        "aid": _equal_aid}},
          {"rng": 29, "regime": "team_and_committee", "n_households": 90,
           "audit_probability": 1.0, "audit_coverage": 0.4,
           "policies": {"share": _share_registered, "accounts": _examine_the_chair}}]


def _same(a: object, b: object) -> bool:
    return a == b or (a != a and b != b)  # NaN equals NaN here


def _same_values(a: object, b: object) -> bool:
    # books by name (a solo village's dicts, the engine's views of county rows): the same
    # names in the same order, each the same value of the same type
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return list(a) == list(b) and all(_same_values(a[k], b[k]) for k in a)
    return type(a) is type(b) and _same(a, b)


def _assert_village_equal(engine_v: VillageModel, solo: VillageModel, label: str) -> None:
    for name in HOUSEHOLD_COLUMNS:
        x, y = getattr(engine_v, name), getattr(solo, name)
        assert np.array_equal(x, y, equal_nan=True), f"{label}: household column {name!r}"
    # the books and counts, as the same Python numbers (a numpy float in the books changes
    # Python's sum of them)
    for name in ("cash_fund", "measure_fund", "project_fund", "infrastructure",
                 "favoritism_now", "detected_diversions", "n_helpers", "asset_median",
                 "skill_median"):
        assert _same_values(getattr(engine_v, name), getattr(solo, name)), f"{label}: {name}"
    for name in VILLAGE_NUMBERS:  # every number the engine keeps in its table (books.Numbers)
        assert _same_values(getattr(engine_v, name), getattr(solo, name)), f"{label}: {name}"
    for name in ("flows", "memo", "totals", "evidence_found", "evidence_exposure",
                 "channel_intensity"):
        assert _same_values(getattr(engine_v, name), getattr(solo, name)), f"{label}: {name}"
    for name in ("diversion_share", "diversion_risk", "diversion_inclination"):
        assert np.array_equal(getattr(engine_v, name), getattr(solo, name)), f"{label}: {name}"
    assert np.array_equal(engine_v.committee.diverted_ring, solo.committee.diverted_ring), label
    # the books' 12-month histories and the team's months
    assert list(engine_v.flow_hist) == list(solo.flow_hist), label
    for name, hist in solo.flow_hist.items():
        assert np.array_equal(engine_v.flow_hist[name], hist), f"{label}: flow_hist {name!r}"
    assert np.array_equal(engine_v.team_month_ring, solo.team_month_ring), label
    assert _same_values(engine_v.team_months_last_year, solo.team_months_last_year), label
    # the committee, seat by seat, and whom its cadres favour
    for name in ("cadres", "greed", "times_caught"):
        mine_c, solo_c = getattr(engine_v.committee, name), getattr(solo.committee, name)
        assert np.array_equal(mine_c, solo_c), f"{label}: committee.{name}"
    for name in ("cadres", "risk_perception"):
        assert np.array_equal(getattr(engine_v, name), getattr(solo, name)), f"{label}: {name}"
    assert len(engine_v.cadre_kin_lists) == len(solo.cadre_kin_lists), label
    for mine_k, solo_k in zip(engine_v.cadre_kin_lists, solo.cadre_kin_lists, strict=True):
        assert np.array_equal(mine_k, solo_k), f"{label}: cadre_kin_lists"
    for name in ("measures_given", "measures_matched", "industry_invested",
                 "industry_misdirected", "cadre_replacements", "failed_assessments", "survey",
                 "identified"):
        assert _same_values(getattr(engine_v, name), getattr(solo, name)), f"{label}: {name}"
    # every stream has made the same draws (a draw too many or too few shows here first)
    for name, rng in engine_v.streams.items():
        assert rng.bit_generator.state == solo.streams[name].bit_generator.state, (
            f"{label}: stream {name!r}")
    mine, theirs = engine_v.metrics(), solo.metrics()
    different = [k for k in theirs if not _same(mine[k], theirs[k])]
    assert not different, f"{label}: metrics {different}"


@pytest.mark.parametrize("drawing", ["python", "compiled"])
@pytest.mark.parametrize("configs", [VARIED, YEARLY, COUNTY, CUSTOM],
                         ids=["varied", "yearly", "county", "custom"])
def test_every_village_of_the_engine_equals_its_solo_run(
        configs: list[dict], drawing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the villages' monthly draws in Python loops, or in numba's compiled loops over the same
    # generators (counties of JIT_FROM_VILLAGES villages or more; here any county). numba is
    # in the dev group, so the compiled loops are always tested here
    monkeypatch.setattr(draws, "JIT_FROM_VILLAGES", 0 if drawing == "compiled" else 10**9)
    solo = [VillageModel(**c) for c in configs]
    stack = VillageStack.build(configs)
    engine = CountyEngine(stack)
    assert (draws.kernels(engine) is not None) == (drawing == "compiled")
    for month in range(1, MONTHS + 1):
        for v in solo:
            v.step()
        engine.step()
        for i, (mine, theirs) in enumerate(zip(stack.villages, solo, strict=True)):
            assert mine.steps == theirs.steps == month
            _assert_village_equal(mine, theirs, f"month {month}, village {i}")
    for mine, theirs in zip(stack.villages, solo, strict=True):
        pd.testing.assert_frame_equal(mine.decision_log(), theirs.decision_log(),
                                      check_exact=True)
        pd.testing.assert_frame_equal(mine.household_frame(), theirs.household_frame(),
                                      check_exact=True)


def test_the_engine_reports_the_cost_of_each_phase() -> None:
    engine = CountyEngine(VillageStack.build(VARIED[:2]))
    for _ in range(13):
        engine.step()
    assert engine.months == 13
    assert {"economy", "allocation", "visits", "elections", "norms", "review", "exit assessment",
            "identification", "survey", "books"} <= set(
        engine.seconds)
    assert all(t >= 0.0 for t in engine.seconds.values())


def test_a_village_of_the_engine_does_not_step_on_its_own() -> None:
    """Its own ``step()`` advances Mesa's clock only: the phases are the engine's."""
    stack = VillageStack.build(VARIED[:1])
    CountyEngine(stack)
    v = stack.villages[0]
    before = v.income_hist.copy()
    v.step()
    assert v.steps == 1
    assert np.array_equal(v.income_hist, before)


@pytest.mark.parametrize("deployment, allocation_rule", [
    ("poorest_first", "estimated_poor"), ("cash_equivalent", "last_register"),
    ("rotate", "fixed")])
def test_a_county_on_the_engine_equals_the_county_of_villages_stepped_alone(
        deployment: str, allocation_rule: str) -> None:
    """CountyModel's two engines: the county's year (budgets, quotas, teams arriving and
    leaving, their records cleared) between the engine's months changes nothing."""
    from village_sim.county import CountyModel

    args = {"rng": 3, "n_villages": 7, "teams": 3, "deployment": deployment,
            "allocation_rule": allocation_rule, "n_households": 60, "term_years": 1}
    fast = CountyModel(engine="county", **args)  # type: ignore[arg-type]
    reference = CountyModel(engine="villages", **args)  # type: ignore[arg-type]
    step_and_compare(fast, reference, 37)
    pd.testing.assert_frame_equal(fast.deployment_log(), reference.deployment_log())
    assert fast.deployment_log()["event"].eq("leaves").any()  # teams came and went
    for mine, theirs in zip(fast.villages, reference.villages, strict=True):
        pd.testing.assert_frame_equal(mine.decision_log(), theirs.decision_log(),
                                      check_exact=True)


@pytest.mark.parametrize("name, value", [("engine", "numba"), ("village_metrics", "daily")])
def test_a_bad_engine_or_metrics_frequency_is_refused(name: str, value: str) -> None:
    from village_sim.county import CountyModel

    with pytest.raises(ValueError, match=f"parameter '{name}': got '{value}'; allowed"):
        CountyModel(rng=1, n_villages=2, **{name: value})  # type: ignore[arg-type]


def test_a_household_that_exited_a_year_ago_is_twice_a_candidate_as_in_its_village() -> None:
    """A re-check visit to a poor household whose exit is exactly 12 months old makes it a
    household to restore and one to add at once (``visits.act_on_register``), and it takes two
    places of the quota in the village's own list; the county's visits must do the same (a
    county of 100 villages met this in its fourth year). Here every village is set up so: two
    such households, a register two places short of its quota."""
    configs = [{"rng": 40 + i, "regime": "team_and_committee", "n_households": 80,
                "cooptation": 0.0} for i in range(3)]
    solo = [VillageModel(**c) for c in configs]
    stack = VillageStack.build(configs)
    engine = CountyEngine(stack)
    for _ in range(14):
        for v in solo:
            v.step()
        engine.step()
    month = 15  # the month about to be stepped
    pairs = []
    for mine, theirs in zip(stack.villages, solo, strict=True):
        pair = np.argsort(theirs.per_capita_income())[:2]  # the two poorest
        pairs.append(pair)
        quota = int(round(theirs.p.quota * theirs.n))
        for v in (mine, theirs):
            v.registered[:] = False
            others = np.setdiff1d(np.arange(v.n), pair)[:quota - 2]
            v.registered[others] = True
            v.exit_month[pair] = month - 12
            v.ever_exited[pair] = True
            v.pending_since[pair] = month - 1
            v.pending_purpose[pair] = Purpose.RECHECK
            v.team_signal_sum[pair] = 0.1 * v.p.poverty_line * 10
            v.team_signal_count[pair] = 10.0
            v.team_last_visit[pair] = month - 1
    for v in solo:
        v.step()
    engine.step()
    for i, (mine, theirs) in enumerate(zip(stack.villages, solo, strict=True)):
        _assert_village_equal(mine, theirs, f"village {i}")
        pd.testing.assert_frame_equal(mine.decision_log(), theirs.decision_log(),
                                      check_exact=True)
    # the case was met: in some village one of the pair took both places, the other none
    met = [int(theirs.registered[pair].sum()) for theirs, pair in zip(solo, pairs, strict=True)]
    assert 1 in met, met


def test_new_asset_medians_are_each_village_s_np_median() -> None:
    # villages of odd and even sizes, some of one size (one matrix each); only those named
    configs = [{"rng": 31 + i, "regime": "committee_only", "n_households": n}
               for i, n in enumerate((11, 12, 13, 12, 11, 40))]
    engine = CountyEngine(VillageStack.build(configs))
    rng = np.random.default_rng(5)
    assets = engine.stack.columns["assets"]
    assets[:] = np.round(rng.lognormal(8, 1, assets.size), -2)  # ties too
    before = [v.asset_median for v in engine.villages]
    engine.assets_changed(np.array([0, 1, 2, 3, 5]))
    for i, v in enumerate(engine.villages):
        want = float(np.median(v.assets)) if i != 4 else before[4]
        assert v.asset_median == want, i
        assert (v._cause_if_well is None) == (i != 4), i


def test_the_engine_keeps_its_villages_clocks_without_mesa_events() -> None:
    # the engine advances each village's Mesa clock itself (Mesa's recurring step event is
    # stopped): steps and time as a village stepping itself has them, month after month, and
    # Mesa's own ways of advancing time do not run a month of phases behind the engine's back
    stack = VillageStack.build(VARIED[:2])
    engine = CountyEngine(stack)
    solo = VillageModel(**VARIED[0])
    for _ in range(3):
        engine.step()
        solo.step()
    v = stack.villages[0]
    assert (v.steps, v.time) == (solo.steps, solo.time) == (3, 3.0)
    before = v.income_hist.copy()
    v.run_for(2)  # Mesa's API: time moves, no step event is left to run
    assert v.steps == 3 and np.array_equal(v.income_hist, before)


def test_a_village_s_books_are_views_of_the_county_s_rows() -> None:
    # county/books.py: a village of the engine reads its items by name as Python floats and
    # writes them into the county's table; its names are fixed; a pickled village keeps them
    import pickle

    stack = VillageStack.build(VARIED[:2])
    engine = CountyEngine(stack)
    engine.step()
    v = stack.villages[1]
    assert list(v.flows) == list(VillageModel(**VARIED[1]).flows)
    v.flows["fines"] = 12.5
    assert engine.books.flows[1, list(v.flows).index("fines")] == 12.5
    assert type(v.flows["fines"]) is float and v.flows.copy()["fines"] == 12.5
    v.evidence_found["amount"] += 1.0
    assert engine.books.found[1].sum() == sum(v.evidence_found.values())
    with pytest.raises(TypeError, match="keep every item"):
        del v.memo["divertible"]
    with pytest.raises(KeyError):
        v.flows["no_such_flow"] = 1.0
    again = pickle.loads(pickle.dumps(v))
    assert dict(again.flows) == dict(v.flows) and dict(again.totals) == dict(v.totals)


def test_a_village_s_numbers_are_its_row_of_the_county_s_table() -> None:
    # state.VillageNumber, county/books.Numbers: a village's funds, flags and counters read as
    # the Python type it declares; in the engine they are its row of the county's table (both
    # ways); a pickled or copied village keeps its own values
    import copy
    import pickle

    from village_sim.county.books import NUMBER
    from village_sim.state import VillageNumber

    alone = VillageModel(**VARIED[0])
    for name in VILLAGE_NUMBERS:
        kind = getattr(type(alone), name).kind
        assert type(getattr(alone, name)) is kind, name
    alone.cash_fund += 0.1  # assigned by name, as the mechanisms do
    alone.identified = True
    assert alone.cash_fund == 0.1 and alone.identified is True
    stack = VillageStack.build(VARIED[:3])
    engine = CountyEngine(stack)
    engine.step()
    v = stack.villages[2]
    v.cash_fund = 1234.5
    assert engine.numbers.table[2, NUMBER["cash_fund"]] == 1234.5
    engine.numbers.column("n_helpers")[2] = 7
    assert v.n_helpers == 7 and type(v.n_helpers) is int
    engine.scatter("force_audit", np.array([0.0, 0.0, 1.0]))
    assert v.force_audit is True and stack.villages[0].force_audit is False
    assert np.array_equal(engine.gather("n_helpers", np.int64),
                          [w.n_helpers for w in stack.villages])
    for again in (pickle.loads(pickle.dumps(v)), copy.deepcopy(v)):
        assert [getattr(again, k) for k in VILLAGE_NUMBERS] == [getattr(v, k)
                                                                for k in VILLAGE_NUMBERS]
        again.cash_fund = 1.0  # its own row now
        assert v.cash_fund == 1234.5

    class Bare:
        cash_fund = VillageNumber(float)

    with pytest.raises(AttributeError, match="'cash_fund' is not set yet"):
        _ = Bare().cash_fund



def test_large_counties_draw_in_compiled_loops_and_without_numba_in_python_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # numba is in the dev group: a county of JIT_FROM_VILLAGES villages draws in the compiled
    # loops, a smaller one in Python loops (tests above: both give the solo villages' numbers)
    small = CountyEngine(VillageStack.build(
        [{"rng": s, "n_households": 30} for s in range(draws.JIT_FROM_VILLAGES - 1)]))
    large = CountyEngine(VillageStack.build(
        [{"rng": s, "n_households": 30} for s in range(draws.JIT_FROM_VILLAGES)]))
    assert draws.kernels(small) is None
    assert draws.kernels(large) is not None
    # where numba cannot be imported, every county draws in Python loops, and steps
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "village_sim.county.phases.kernels", raising=False)
    monkeypatch.delattr("village_sim.county.phases.kernels", raising=False)
    draws._compiled.cache_clear()
    try:
        assert draws.kernels(large) is None
        large.step()
        assert large.months == 1
    finally:
        draws._compiled.cache_clear()


def test_the_compiled_loops_lists_of_generators_are_made_in_the_first_month() -> None:
    # every stream of the villages listed at the first compiled month, each list holding the
    # villages' own generators; no later month makes one (the survey's and the
    # certification's were first made in months 12 and 13, inside a year's timing)
    pytest.importorskip("numba")
    e = CountyEngine(VillageStack.build(
        [{"rng": s, "n_households": 30} for s in range(draws.JIT_FROM_VILLAGES)]),
        collect=False)
    e.step()
    streams = list(e.villages[0].streams)
    assert sorted(e.typed_streams) == sorted(streams)
    lists = {name: e.typed_streams[name] for name in streams}
    for name in streams:
        assert all(got is v.streams[name] for got, v in zip(lists[name], e.villages,
                                                              strict=True))
    for _ in range(13):
        e.step()
    assert all(e.typed_streams[name] is lists[name] for name in streams)


@pytest.mark.parametrize("drawing", ["python", "compiled"])
@pytest.mark.parametrize("monthly", [True, False])
def test_the_county_slearned_risks_are_each_village_s_bit_for_bit(monthly: bool,
                                                                   drawing: str) -> None:
    # deterrence.learned_risk, per village in Python, against the county's element-wise
    # version (its power in Python or in the compiled loops): nothing found, everything found,
    # and findings in between
    from village_sim.mechanisms.deterrence import learned_risk, learned_risks

    compiled = draws._compiled() if drawing == "compiled" else None
    assert (compiled is None) == (drawing == "python")

    rng = np.random.default_rng(5)
    n = 2_000
    exposure = rng.integers(0, 400, n).astype(np.float64) * rng.choice([1.0, 0.5], n)
    found = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0, 1.5, n) * (exposure + 12.0))
    prior = rng.choice([12.0, 2.0, 0.001, 120.0], n)
    got = learned_risks(found, exposure, prior, monthly, compiled)
    expected = np.array([learned_risk(f, x, p, monthly) for f, x, p in
                         zip(found.tolist(), exposure.tolist(), prior.tolist(), strict=True)])
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))
    assert (got == 0).any() and (got == 1).any() and ((got > 0) & (got < 1)).any()


def _step_both(engine: CountyEngine, solo: list[VillageModel]) -> None:
    engine.step()
    for v in solo:
        v.step()


def _stepped_both_ways(configs: list[dict], months: int
                       ) -> tuple[CountyEngine, VillageStack, list[VillageModel]]:
    """The villages on an engine and alone, stepped ``months`` months."""
    solo = [VillageModel(**c) for c in configs]
    stack = VillageStack.build(configs)
    engine = CountyEngine(stack)
    for _ in range(months):
        _step_both(engine, solo)
    return engine, stack, solo


def test_a_rule_changed_between_months_is_the_one_the_engine_runs() -> None:
    # the engine reads the villages' rules once a month (StackedVillages.default_policies):
    # a rule a village takes up between months runs from the next month, in the engine as in
    # the village alone, and the county's own phase stops running for it
    engine, stack, solo = _stepped_both_ways(VARIED[:3], 3)
    assert engine.default_policies("diversion")
    for v in (stack.villages[1], solo[1]):
        v.policies["diversion"] = _half_diversion
    for month in range(4, 8):
        _step_both(engine, solo)
        assert not engine.default_policies("diversion")
        for i, (mine, theirs) in enumerate(zip(stack.villages, solo, strict=True)):
            _assert_village_equal(mine, theirs, f"month {month}, village {i}")


def test_a_ledger_copies_as_the_dict_it_replaces() -> None:
    # a village's books in a county are views of the county's rows (county/books.py); its
    # copy (read in one pass of the row) is the dict the village alone would copy: the same
    # names in the same order, the same values, Python floats
    _, stack, solo = _stepped_both_ways(VARIED[:2], 5)
    for mine, theirs in zip(stack.villages, solo, strict=True):
        for name in ("flows", "memo", "totals", "channel_intensity"):
            got, expected = getattr(mine, name).copy(), getattr(theirs, name).copy()
            assert type(got) is dict and list(got) == list(getattr(mine, name))
            assert _same_values(got, expected), name


def test_the_parameter_arrays_follow_replaced_parameters() -> None:
    # a village's parameters replaced (as the county does every year): the arrays of the
    # values that changed and the derived ones are rebuilt, the others kept; a parameter object
    # of another kind makes everything rebuilt
    from village_sim.county.stacked import VillageParams

    stack = VillageStack.build([{"rng": 1, "n_households": 30}, {"rng": 2, "n_households": 40}])
    P = VillageParams(stack.villages, stack.segments)
    quota, line = P("quota"), P("poverty_line")
    per_household = P.of_households("quota")
    doubled = P.derived("double_line", lambda p: 2 * p.poverty_line)
    v = stack.villages[1]
    v.p = v.p.replace(quota=0.3)
    P.refresh()
    assert P("quota").tolist() == [stack.villages[0].p.quota, 0.3]
    assert P.of_households("quota")[-1] == 0.3 and P.of_households("quota") is not per_household
    assert P("poverty_line") is line  # unchanged: kept
    assert P.derived("double_line", lambda p: 2 * p.poverty_line) is not doubled
    assert P("quota") is not quota
    v.p = v.p.replace(poverty_line=5000.0)
    P.refresh()
    assert P("poverty_line")[1] == 5000.0
    assert P.derived("double_line", lambda p: 2 * p.poverty_line)[1] == 10000.0
    v.p = dataclasses.make_dataclass("Other", [("quota", float)])(0.9)  # another kind
    P.refresh()
    assert P("quota")[1] == 0.9


def test_each_village_s_quota_is_its_own_quota_count() -> None:
    # county.phases.register.quotas (parameter arrays, the surveys' shares, rounded half to
    # even) against mechanisms.register.quota_count of each village: no cap, a constant and a
    # falling quota, before a survey (NaN), a survey above and below the quota, products at .5
    from village_sim.county.phases.register import quotas
    from village_sim.mechanisms.register import quota_count

    configs = [{"rng": 61 + i, "regime": "committee_only", "n_households": n, **extra}
               for i, (n, extra) in enumerate([
                   (40, {"quota_control": False}),
                   (30, {"quota": 0.15}),  # 4.5 -> 4
                   (50, {"quota": 0.25}),  # 12.5 -> 12
                   (14, {"quota": 0.25}),  # 3.5 -> 4
                   (40, {"quota": 0.3, "quota_schedule": "falling"}),
                   (40, {"quota": 0.3, "quota_schedule": "falling"}),
                   (40, {"quota": 0.3, "quota_schedule": "falling"}),
                   (30, {"quota": 0.3, "quota_schedule": "falling"}),
                   (40, {"quota_control": False, "quota_schedule": "falling"})])]
    engine = CountyEngine(VillageStack.build(configs))
    vs = engine.villages
    for v, share in zip(vs[5:], (0.2, 0.45, 0.15, 0.1), strict=True):
        v.survey = {**v.survey, "survey_poor_share": share}  # below, above, 0.15 x 30 = 4.5
    got = quotas(engine)
    expected = [quota_count(v) for v in vs]
    assert got.capped.tolist() == [k is not None for k in expected]
    assert got.k[got.capped].tolist() == [k for k in expected if k is not None]
    assert expected == [None, 4, 12, 4, 12, 8, 12, 4, None]


def test_the_cadres_one_dimensional_records_are_the_villages_own_through_elections() -> None:
    """Greed, times caught and risk perception: one county array each, the villages' views.

    Yearly elections replace cadres (and each committee's arrays); after every month the
    county's arrays hold each village's values, the village's arrays are views of them, and a
    write through a village is the county's.
    """
    configs = [{"rng": 40 + v, "regime": "team_and_committee", "n_households": 80,
                "term_years": 1, "election_turnover": 1.0, "sanction": 3.0,
                "audit_probability": 1.0} for v in range(4)]
    engine = CountyEngine(VillageStack.build(configs))
    for _ in range(26):
        engine.step()
        cad = engine.cadres
        cad.refresh()
        for i, v in enumerate(engine.villages):
            b = cad.segments.block(i)
            for county, own in ((cad.greed, v.committee.greed),
                                (cad.times_caught, v.committee.times_caught),
                                (cad.risk_perception, v.risk_perception)):
                assert np.array_equal(county[b], own)
                assert np.shares_memory(county, own)
    replaced = sum(v.cadre_replacements for v in engine.villages)
    assert replaced > 0  # the premise: cadres were replaced, and their arrays with them
    v = engine.villages[2]
    v.committee.greed[0] = 123.0
    assert engine.cadres.greed[engine.cadres.segments.block(2)][0] == 123.0


def test_the_committees_rings_keep_their_layouts_and_sums_in_the_county_s_buffer() -> None:
    """The rings of takings: views of one buffer, each in its own layout, summed as numpy sums.

    A ring is C-ordered until its committee's seats are reordered and Fortran-ordered after,
    and numpy adds a cadre's 12 months in the order its layout gives. With elections every
    year (and one-seat committees, whose months are contiguous either way), after every month
    each ring is a view of the county's buffer with the layout a ring of its committee would
    have on its own, its months are where ``Cadres.ring_places`` says, and ``Cadres.ring_sums``
    is, bit for bit, each ring's ``sum(axis=0)`` and that of a copy in the same layout.
    """
    configs = [{"rng": 60 + v, "regime": "team_and_committee", "n_households": 70,
                "term_years": 1, "election_turnover": 0.8, "sanction": 3.0,
                "audit_probability": 1.0, "committee_size": 1 if v == 3 else 5} for v in range(5)]
    engine = CountyEngine(VillageStack.build(configs))
    layouts = set()
    for month in range(30):
        engine.step()
        cad = engine.cadres
        cad.refresh()
        everyone = np.arange(cad.segments.n)
        sums = cad.ring_sums(everyone)
        for i, v in enumerate(engine.villages):
            ring, b = v.committee.diverted_ring, cad.segments.block(i)
            assert np.shares_memory(ring, cad.ring_buffer)
            layouts.add((ring.shape[1] > 1, bool(ring.flags.c_contiguous)))
            own = np.array(ring, order="K")  # a ring of its own, in the same layout
            assert own.flags.c_contiguous == ring.flags.c_contiguous
            assert sums[b].tobytes() == ring.sum(axis=0).tobytes() == own.sum(axis=0).tobytes()
            for slot in (0, month % 12):
                assert np.array_equal(cad.ring_buffer[cad.ring_places(slot)[b]], ring[slot])
        assert (sums > 0).any()  # the premise: takings in the rings
    # both layouts of committees with several seats, and one-seat committees
    assert {(True, True), (True, False), (False, True)} <= layouts


def test_the_cadres_choices_are_the_county_s_arrays_and_a_replaced_one_is_taken_back() -> None:
    """The month's diversion inclination, risk and share: views of the county's arrays.

    Allocation writes every village's at once; where a village's own mechanism replaced an
    array (as ``deterrence.update_channels`` does), ``Cadres.gather`` reads the village's own
    values and the next write gives the village its view back.
    """
    configs = [{"rng": 80 + v, "regime": "team_and_committee", "n_households": 60,
                "term_years": 1, "election_turnover": 1.0} for v in range(4)]
    engine = CountyEngine(VillageStack.build(configs))
    for month in range(16):
        engine.step()
        cad = engine.cadres
        for name in CHOICES:
            county = cad.gather(name)
            for i, v in enumerate(engine.villages):
                own = getattr(v, name)
                assert np.shares_memory(own, county)
                assert np.array_equal(own, county[cad.segments.block(i)])
        assert (cad.gather("diversion_share") > 0).any()  # the premise: cadres take shares
        v = engine.villages[month % 4]
        replaced = np.full(v.committee.cadres.size, 0.25)
        v.diversion_share = replaced  # the village's own mechanism sets its own array
        assert np.array_equal(cad.gather("diversion_share")[cad.segments.block(month % 4)],
                              replaced)
        assert not np.shares_memory(cad.gather("diversion_share"), replaced)
