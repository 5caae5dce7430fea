"""Model 2: the team's effect must come from what it learns, can do and costs (DESIGN §10).

Tests that would fail if a result were built into the rules: no capacity, no effect; more
capacity, more effect, saturating; deterrence that falls smoothly with audits and never drops
off a cliff; checks run by upper levels in every regime; decisions that a researcher can
replace; and a team that never reads the committee's private estimate.

Statistics: paired seeds (common random numbers). "Equivalent within m" means the 90% CI of the
paired mean difference lies inside [-m, m]; "raises/lowers" means a one-sided paired t above
the 95% critical value for its degrees of freedom. Each claim is measured over the final 12
months of a 60-month run (months 49-60, which hold the identification of month 49).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from village_sim import VillageModel, numerics
from village_sim.effects import frame_window_means, stacked_windows, window_means
from village_sim.experiment import run_model
from village_sim.mechanisms import deterrence, policies
from village_sim.params import resolve_parameters
from village_sim.state import NO_REQUEST

STEPS = 60
SEEDS = tuple(range(20))


Config = tuple[str, tuple[tuple[str, object], ...]]  # (regime, sorted overrides)

# every run's window means, shared by all tests of this module (a run is deterministic):
# (regime, overrides, seed, steps) -> {metric: mean over the window ending at steps}
_WINDOWS: dict[tuple[str, tuple[tuple[str, object], ...], int, int], dict[str, float]] = {}


def prefetch(configs: list[Config], seeds: tuple[int, ...] = SEEDS, steps: int = STEPS) -> None:
    """Run every config on every seed not yet run, together on the county engine.

    ``stacked_windows`` gives each run's window means bit for bit as its solo run does
    (tests/test_stacked_runs.py), several times faster than one run after another. The
    team-leaves runs (150 seeds) are run once to LONG_RUN months and each window read from
    them: a month's outcome does not depend on how long the run goes on, so months 61-72 of a
    108-month run are those of a 72-month run (test_a_longer_run_has_the_same_earlier_months).
    """
    ends = LONG_ENDS if seeds == LEAVE_SEEDS and steps in LONG_ENDS else (steps,)
    todo = [(regime, over, s) for regime, over in dict.fromkeys(configs) for s in seeds
            if (regime, over, s, steps) not in _WINDOWS]
    if not todo:
        return
    runs = [(regime, s, dict(over)) for regime, over, s in todo]
    for (regime, over, s), windows in zip(todo, stacked_windows(runs, max(ends), ends),
                                          strict=True):
        for end, means in windows.items():
            _WINDOWS[(regime, over, s, end)] = means


def window(regime: str, overrides: tuple[tuple[str, object], ...] = (),
           seeds: tuple[int, ...] = SEEDS, steps: int = STEPS) -> tuple[dict[str, float], ...]:
    """Window means per seed (:func:`prefetch`, cached)."""
    prefetch([(regime, overrides)], seeds, steps)
    return tuple(_WINDOWS[(regime, overrides, s, steps)] for s in seeds)


def _run_long(args: tuple[str, int, tuple[tuple[str, object], ...]]
              ) -> dict[int, dict[str, float]]:
    """One LONG_RUN-month solo run's window means for each window end in LONG_ENDS."""
    regime, seed, overrides = args
    frame = run_model(regime, seed, LONG_RUN, dict(overrides)
                      ).datacollector.get_model_vars_dataframe()
    return {end: frame_window_means(frame, end) for end in LONG_ENDS}


def diff(metric: str, a: tuple[str, dict], b: tuple[str, dict],
         seeds: tuple[int, ...] = SEEDS, steps: int = STEPS) -> np.ndarray:
    """Per-seed difference b - a."""
    ka, kb = (a[0], tuple(sorted(a[1].items()))), (b[0], tuple(sorted(b[1].items())))
    prefetch([ka, kb], seeds, steps)  # both sides on one engine
    ra, rb = window(*ka, seeds, steps), window(*kb, seeds, steps)
    return np.array([y[metric] - x[metric] for x, y in zip(ra, rb, strict=True)])


def ci90(d: np.ndarray) -> tuple[float, float]:
    d = d[~np.isnan(d)]
    half = stats.t.ppf(0.95, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean() - half), float(d.mean() + half)


def assert_equivalent(d: np.ndarray, margin: float) -> None:
    lo, hi = ci90(d)
    assert -margin <= lo and hi <= margin, f"90% CI [{lo:+.4f}, {hi:+.4f}] not within ±{margin}"


def assert_direction(d: np.ndarray, sign: int) -> None:
    d = d[~np.isnan(d)]
    se = d.std(ddof=1) / np.sqrt(d.size)
    t = d.mean() / se if se > 0 else np.inf * np.sign(d.mean())
    crit = stats.t.ppf(0.95, d.size - 1)
    assert sign * t > crit, f"mean {d.mean():+.4f}, t {t:+.2f}, need {sign:+d} × t > {crit:.2f}"


# ------------------------------------------------------------------ no capacity, no effect
@pytest.mark.slow
@pytest.mark.parametrize(("metric", "margin"), [
    ("kin_premium", 0.02), ("exclusion_error", 0.02), ("diverted_share", 0.01)])
def test_a_team_that_makes_no_visits_changes_nothing(metric: str, margin: float) -> None:
    d = diff(metric, ("committee_plus_mobilization", {}),
             ("team_and_committee", {"team_visits_per_month": 0}))
    assert_equivalent(d, margin)


# What an idle team still changes: its own presence, pay and unmet demand for visits.
TEAM_BOOKKEEPING = {"team_active", "staff_funding", "staff_costs", "cost_per_exit",
                    "team_visits_demanded"}


def test_a_team_that_makes_no_visits_is_the_committees_village_month_by_month() -> None:
    """Zero visits: every monthly outcome (trust, approval, perceived risk, money, targeting,
    poverty) equals committee_plus_mobilization's on the same seed, exactly — the team acts
    only through what its visits find (DESIGN §10); a rule that let a present-but-idle team
    move trust, deter or redirect money would break this. Only the team's own bookkeeping
    differs: it is present, paid (so each exit costs more) and has visits it cannot make."""
    for seed in (0, 1, 2):
        a = run_model("committee_plus_mobilization", seed, 30, {}
                      ).datacollector.get_model_vars_dataframe()
        b = run_model("team_and_committee", seed, 30, {"team_visits_per_month": 0}
                      ).datacollector.get_model_vars_dataframe()
        assert list(a.columns) == list(b.columns)
        assert {"mean_trust", "approval", "kin_premium", "diverted_share",
                "perceived_detection"} <= set(a.columns)
        differ = set()
        for column in a.columns:
            x, y = a[column].to_numpy(), b[column].to_numpy()
            same = (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                    else list(x) == list(y))
            if not same:
                differ.add(column)
        assert differ == TEAM_BOOKKEEPING, (seed, sorted(differ ^ TEAM_BOOKKEEPING))
        assert (b["staff_costs"].iloc[1:] > a["staff_costs"].iloc[1:]).all()  # never free


def _exits_certified_against_the_stated_estimate(cooptation: float, seed: int) -> int:
    """Exits at the yearly assessments (months 13-49) of households the committee stated below
    the line (no exit pressure, so only a team's own measurement can certify them out)."""
    model = VillageModel(regime="team_and_committee", rng=seed, cooptation=cooptation,
                         exit_pressure=0.0)
    count = 0
    for month in range(1, 50):
        model.step()
        if month % 12 == 1 and month > 1:  # the committee_shown used by this month's assessment
            out = model.exit_month == model.steps
            count += int((out & (model.committee_shown < model.p.poverty_line)).sum())
    return count


def test_a_fully_coopted_team_signs_the_exits_it_is_shown() -> None:
    """Exit certification is a supervisory act like the others (ODD §7.5.3, §7.8): it goes
    through the `challenge` policy, so a team that always goes along with the committee
    (cooptation 1) certifies nobody out whom the committee states below the line — while a
    team that acts does (its measurement replaces the favoured, lowered estimate). Before
    this was gated, a fully co-opted team still lowered the kin premium by 0.057 against the
    same money without a team (120 seeds), through exits alone."""
    for seed in (0, 1, 2):
        assert _exits_certified_against_the_stated_estimate(1.0, seed) == 0, seed
    assert sum(_exits_certified_against_the_stated_estimate(0.0, seed) for seed in (0, 1, 2)) > 0


# Capacities: visits a month for the whole team (one member, so size x visits = capacity).
CAPACITIES = (0, 3, 12, 48, 400)  # 400 > any demand in a 300-household village
DOSE_SEEDS = tuple(range(40))


def reduction(metric: str, capacity: int, common: dict | None = None,
              seeds: tuple[int, ...] = DOSE_SEEDS) -> float:
    common = common or {}
    d = diff(metric, ("committee_plus_mobilization", common),
             ("team_and_committee",
              {**common, "team_size": 1, "team_visits_per_month": capacity}),
             seeds)
    return float(-np.nanmean(d))


# The running exclusion error is checked where this test was written, on a register that fills
# the quota; with the default cap, the register as drawn is (docs/validation.md, "Tests
# changed by Money and measurement": beyond 48 visits a month the team's shared findings make
# the cap's register precise on this year's incomes, and the running exclusion error then
# gives back 0.006-0.014 of the reduction during the year). Since measures depreciate, the
# filled register's running figure also gives back a little beyond 48 visits: a team that
# measures everyone every month lists the poor of now, and misses the near-poor whose fading
# measures bring them back below the line later in the year (400 - 48 visits: -0.0154 on seeds
# 0-39, -0.0039 on seeds 40-119, -0.0077 on all 120; with measure_depreciation = 0: -0.0085
# on 0-39; with team_shares_findings off: +0.0116). The estimate on 40 seeds is too noisy for
# the 0.01 criterion (90% CI half-width 0.010), so this case uses 120 (docs/validation.md).
DOSE_CASES = [("kin_premium", (), DOSE_SEEDS), ("diverted_share", (), DOSE_SEEDS),
              ("exclusion_error", (("quota_mode", "fill"),), tuple(range(120))),
              ("exclusion_error_at_identification", (), DOSE_SEEDS)]


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "common", "seeds"), DOSE_CASES,
                         ids=[m + ("-fill" if c else "") for m, c, _ in DOSE_CASES])
def test_the_team_effect_grows_with_capacity_and_saturates(
        metric: str, common: tuple[tuple[str, object], ...], seeds: tuple[int, ...]) -> None:
    prefetch([("committee_plus_mobilization", common)] + [
        ("team_and_committee", tuple(sorted({**dict(common), "team_size": 1,
                                             "team_visits_per_month": c}.items())))
        for c in CAPACITIES], seeds)  # every level's runs on one engine
    levels = [reduction(metric, c, dict(common), seeds) for c in CAPACITIES]
    assert levels[0] == 0.0, levels  # capacity 0: exactly the committee's village
    assert levels[-1] > 0.0, levels
    top = diff(metric, ("committee_plus_mobilization", dict(common)),
               ("team_and_committee", {**dict(common), "team_size": 1,
                                       "team_visits_per_month": CAPACITIES[-1]}),
               seeds)
    assert_direction(top, -1)
    steps = np.diff(levels)
    assert (steps >= -0.01).all(), levels  # never more than 0.01 below the level before
    # it saturates: the last increment is at most half of the largest earlier one. (The issue
    # asked for half of the *first*; the kin premium's response is S-shaped — three visits a
    # month barely reach the entries listed by favoritism, twelve deter it — so the test
    # compares with the largest earlier increment; docs/validation.md.)
    assert steps[-1] <= 0.5 * steps[:-1].max(), levels


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["kin_premium", "diverted_share", "exclusion_error"])
def test_team_size_and_visits_trade_one_for_one(metric: str) -> None:
    d = diff(metric, ("team_and_committee", {"team_size": 2, "team_visits_per_month": 6}),
             ("team_and_committee", {"team_size": 6, "team_visits_per_month": 2}))
    assert_equivalent(d, 0.02 if metric != "diverted_share" else 0.01)


def test_an_overloaded_team_leaves_demand_unmet() -> None:
    model = VillageModel(rng=3, regime="team_and_committee", team_size=1,
                         team_visits_per_month=3)
    for _ in range(40):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert (frame["team_visits_done"] <= 3).all()
    identification_months = [1, 13, 25, 37]
    for m in identification_months:
        assert frame.loc[m, "team_visits_done"] == 3, m
        assert frame.loc[m, "team_visits_demanded"] > frame.loc[m, "team_visits_done"], m


# ------------------------------------------------------------------ deterrence without a cliff
AUDIT_VALUES = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


@pytest.mark.slow
def test_diversion_falls_smoothly_with_audits_and_never_to_zero() -> None:
    prefetch([("committee_only", (("audit_probability", float(a)),)) for a in AUDIT_VALUES])
    shares = [np.nanmean([r["diverted_share"] for r in window(
        "committee_only", (("audit_probability", float(a)),))]) for a in AUDIT_VALUES]
    for before, after in zip(shares, shares[1:], strict=False):
        assert after <= before + 0.005, shares
    assert shares[0] - shares[-1] >= 0.25 * shares[0], shares
    for value in shares[:-1]:
        assert value > 0.01 * shares[0], shares


def test_optimal_share_is_the_bisection_to_the_last_bit() -> None:
    # the share is defined by 45 halvings of [0, 1]; Newton's method with the grid check must
    # return the same bits, including extreme inclinations, sanctions and detection scales
    from village_sim.mechanisms import deterrence

    rng = np.random.default_rng(5)
    for trial in range(2000):
        n = int(rng.integers(1, 30))
        g = rng.random(n) * (20.0 if trial % 5 == 0 else 2.0)
        g[rng.random(n) < 0.1] = 0.0
        risk = rng.random(n) ** float(rng.choice([0.3, 1.0, 3.0]))
        risk[rng.random(n) < 0.05] = 1.0
        sanction = rng.random(n) * 6.0 if trial % 2 else float(rng.choice([0.0, 0.5, 2.0]))
        scale = float(rng.choice([1e-3, 0.01, 0.1, 0.5, rng.random()]))
        cost = np.broadcast_to(risk * (1.0 + np.asarray(sanction)), g.shape)
        inv_g = np.divide(1.0, g, out=np.full(n, np.inf), where=g > 0)
        at_one = numerics.marginal_value(np.ones(n), cost, inv_g, scale) >= 0.0
        bisected = np.where(g > 0, np.where(at_one, 1.0, numerics.bisect(cost, inv_g, scale)),
                            0.0)
        assert deterrence.optimal_share(g, risk, sanction, scale).tobytes() == bisected.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["amount_favoritism_dared", "project_capture_dared"])
def test_watching_one_channel_pushes_the_others_only_with_substitution(metric: str) -> None:
    # measured on what the committee dares in each channel (its choice), not on the noisy
    # outcomes (one project a year; a few cadre-kin households)
    on = diff(metric, ("committee_only", {"channel_substitution": True, "audit_probability": 0.0}),
              ("committee_only", {"channel_substitution": True, "audit_probability": 0.5}))
    assert_direction(on, +1)
    off = diff(metric, ("committee_only", {"audit_probability": 0.0}),
               ("committee_only", {"audit_probability": 0.5}))
    assert_equivalent(off, 0.02)


@pytest.mark.slow
def test_upper_level_recheck_alone_lowers_the_kin_premium() -> None:
    # 60 seeds: the upper levels' sample is small (10% a year) and the kin premium noisy
    d = diff("kin_premium", ("committee_only", {"upper_recheck": False}),
             ("committee_only", {"upper_recheck": True}), tuple(range(60)))
    assert_direction(d, -1)


LEAVE_SEEDS = tuple(range(150))
LONG_RUN, LONG_ENDS = 108, (72, 108)


# What cadres saw of the team's findings fades by exp(-1/risk_memory) a month (ODD 7.4.3), so the
# gain fades rather than stopping at once: the kin premium (registration findings are few) is
# back within 0.02 three years after the team left (months 61-72); diversion, which the team's
# payment checks found often, is still 0.026 lower then (90% CI -0.033 to -0.019, 150 seeds)
# and back within 0.01 seven years after (months 97-108: -0.0013, 90% CI -0.0091 to +0.0065).
@pytest.mark.slow
@pytest.mark.parametrize(("metric", "margin", "steps"), [("kin_premium", 0.02, 72),
                                                         ("diverted_share", 0.01, 108)])
def test_gains_vanish_after_the_team_leaves_without_internalisation(metric: str, margin: float,
                                                                   steps: int) -> None:
    # A village's kin premium varies by about 0.1 from seed to seed, its diverted share by
    # about 0.06: equivalence margins of 0.02 and 0.01 need many seeds (150).
    d = diff(metric, ("committee_only", {}),
             ("team_and_committee", {"team_leaves": 24, "internalisation_rate": 0.0}),
             LEAVE_SEEDS, steps)
    assert_equivalent(d, margin)


def test_a_longer_run_has_the_same_earlier_months() -> None:
    # what the shared team-leaves runs rely on: months 61-72 do not depend on the run's length
    args = ("team_and_committee", 3, (("internalisation_rate", 0.0), ("team_leaves", 24)))
    long = _run_long(args)[72]
    short = window_means(args[0], args[1], 72, dict(args[2]))
    assert long.keys() == short.keys()
    assert all(long[k] == short[k] or (np.isnan(long[k]) and np.isnan(short[k])) for k in long)


@pytest.mark.slow
def test_internalisation_keeps_part_of_the_gain_after_the_team_leaves() -> None:
    d = diff("diverted_share", ("team_and_committee", {"team_leaves": 24,
                                                       "internalisation_rate": 0.0}),
             ("team_and_committee", {"team_leaves": 24, "internalisation_rate": 0.5}),
             LEAVE_SEEDS, 72)
    assert_direction(d, -1)


# ------------------------------------------------------------------ money and shares
def test_fines_are_bounded_and_leave_the_village() -> None:
    # cadres expect no audit (probability 0) and take much; the instructor's audits find it
    # all (detection 1) and fine it a hundredfold: more than most cadre households have
    model = VillageModel(rng=5, regime="committee_only", n_households=120, sanction=100.0,
                         diversion_propensity=1.0, audit_probability=0.0, detection=1.0,
                         events=[{"month": 12, "kind": "audit_now"},
                                 {"month": 24, "kind": "audit_now"}])
    for _ in range(36):
        assets_before = model.assets.copy()
        model.step()
        f = model.flows
        assert abs(model.ledger_balance()) < 1e-6 * max(1.0, f["released"] + f["carried_in"])
        assert f["returned_to_village"] == 0.0
        assert (model.assets >= 0).all() and (model.assets <= assets_before + 1e-9).all()
        assert (model.per_capita_income_post() >= -1e-9).all()
        row = model.metrics()
        for share in ("diverted_share", "missing_funds_share"):
            assert np.isnan(row[share]) or 0.0 <= row[share] <= 1.0, (share, row[share])
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["fines"].sum() > 0 and frame["recovered"].sum() > 0
    # the fines were bounded: less than sanction times what was recovered
    assert frame["fines"].sum() < 100.0 * frame["recovered"].sum()


# ------------------------------------------------------------------ replaceable decisions
def list_nobody(view: policies.ProposalView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.estimate.size, dtype=bool)


def take_nothing(view: policies.DiversionView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.inclination.size)


def visit_nobody(view: policies.VisitView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def never_act(view: policies.ChallengeView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.households.size, dtype=bool)


def nobody_complains(view: policies.ComplaintView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.listed.size, dtype=bool)


def list_too_many(view: policies.ProposalView, rng: np.random.Generator) -> np.ndarray:
    return view.eligible.copy()


def nobody_asks_kin(view: policies.KinRequestView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.income.size, dtype=bool)


def report_every_listed(view: policies.ReportView, rng: np.random.Generator) -> np.ndarray:
    return view.listed & view.open


def all_aid_to_the_poorest(view: policies.AidView, rng: np.random.Generator) -> np.ndarray:
    weights = np.zeros(view.households.size)
    weights[np.argmin(view.estimate)] = 1.0
    return weights


def no_aid_at_all(view: policies.AidView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.households.size)


def test_custom_policies_replace_each_decision() -> None:
    def run(regime="team_and_committee", **policy):
        m = VillageModel(rng=2, regime=regime, n_households=120, policies=policy,
                         upper_recheck=False)
        for _ in range(14):
            m.step()
        return m

    assert run("committee_only", proposal=list_nobody,
               complaint=nobody_complains).registered.sum() == 0
    assert run("committee_only").registered.sum() > 0
    assert run(diversion=take_nothing).datacollector.get_model_vars_dataframe()[
        "diverted"].sum() == 0
    assert run(visits=visit_nobody).datacollector.get_model_vars_dataframe()[
        "team_visits_done"].sum() == 0
    quiet = run(challenge=never_act).decision_log()
    acted = quiet["reason"].isin(["challenged by the team: not poor", "added by the team"])
    assert not acted.any()
    assert run().decision_log()["reason"].isin(["challenged by the team: not poor"]).any()
    # a committee paying everything to the one household it thinks poorest
    concentrated = run(aid=all_aid_to_the_poorest)
    assert np.count_nonzero(concentrated.aid_received) < np.count_nonzero(run().aid_received)
    np.testing.assert_allclose(concentrated.aid_received.sum(), concentrated.datacollector
                               .get_model_vars_dataframe()["delivered"].sum(), rtol=1e-9)
    with pytest.raises(ValueError, match="policy 'aid'"):
        run(aid=no_aid_at_all)
    # households who never ask their kin: no money moves between kin
    assert not run(kin_request=nobody_asks_kin).kin_net.any() and run().kin_net.any()
    # villagers who report every listed household: the team's queue grows with requests
    demanded = run(report=report_every_listed).datacollector.get_model_vars_dataframe()[
        "team_visits_demanded"].sum()
    assert demanded > run().datacollector.get_model_vars_dataframe()[
        "team_visits_demanded"].sum()
    with pytest.raises(ValueError, match="policy 'proposal'"):
        run(proposal=list_too_many)
    with pytest.raises(ValueError, match="unknown decision 'proposl'.*'proposal'"):
        VillageModel(rng=1, policies={"proposl": list_nobody})


def share_nothing(view: policies.ShareView, rng: np.random.Generator) -> np.ndarray:
    return np.zeros(view.known.size, dtype=bool)


def share_everything(view: policies.ShareView, rng: np.random.Generator) -> np.ndarray:
    return view.known.copy()


def share_the_unknown(view: policies.ShareView, rng: np.random.Generator) -> np.ndarray:
    return ~view.known


def examine_the_chair(view: policies.AccountsView, rng: np.random.Generator) -> np.ndarray:
    chosen = np.zeros(view.times_caught.size, dtype=bool)
    chosen[0] = True
    return chosen


def examine_everyone(view: policies.AccountsView, rng: np.random.Generator) -> np.ndarray:
    return np.ones(view.times_caught.size, dtype=bool)


def _monthly(policy: dict, months: int = 26, regime: str = "team_and_committee",
             **overrides) -> tuple[VillageModel, pd.DataFrame]:
    m = VillageModel(rng=4, regime=regime, n_households=120, policies=policy, **overrides)
    for _ in range(months):
        m.step()
    return m, m.datacollector.get_model_vars_dataframe()


def test_a_team_keeping_its_findings_is_the_switch_team_shares_findings_off() -> None:
    """Policy ``share``: sharing nothing is ``team_shares_findings = false`` to the last bit,
    sharing everything is the default, and sharing what the team never measured is refused."""
    kept = _monthly({"share": share_nothing})[1]
    switched_off = _monthly({}, team_shares_findings=False)[1]
    pd.testing.assert_frame_equal(kept, switched_off)
    told, default = _monthly({"share": share_everything})[1], _monthly({})[1]
    pd.testing.assert_frame_equal(told, default)
    assert not kept.equals(default)  # the findings told change the committee's next list
    with pytest.raises(ValueError, match="policy 'share' chose"):
        _monthly({"share": share_the_unknown}, months=13)


def test_an_audit_examines_only_the_accounts_its_budget_covers() -> None:
    """``audit_coverage`` sets the budget (rounded up); the default rule picks that many at
    random, a custom rule chooses which, and more than the budget is refused."""
    assert [deterrence.audited_accounts(resolve_parameters(audit_coverage=c))
            for c in (0.01, 0.2, 0.4, 0.6, 1.0)] == [1, 1, 2, 3, 5]
    # no team: only audits find takings
    certain = {"regime": "committee_only", "audit_probability": 1.0, "detection": 1.0,
               "detection_scale": 0.001, "sanction": 0.0}
    # the year's audit (month 12) finds every cadre that took, in the accounts it examines
    chair_only = _monthly({"accounts": examine_the_chair}, months=12, **certain)[0]
    assert chair_only.committee.times_caught.tolist() == [1, 0, 0, 0, 0]
    sampled = _monthly({}, months=12, audit_coverage=0.4, **certain)[0]
    everyone = _monthly({}, months=12, **certain)[0]
    assert sampled.committee.times_caught.sum() == 2  # two accounts of five
    assert everyone.committee.times_caught.sum() == 5
    with pytest.raises(ValueError, match="policy 'accounts' chose 5 accounts; allowed: at "
                                         "most 2"):
        _monthly({"accounts": examine_everyone}, months=12, audit_coverage=0.4, **certain)
    # a smaller audit is a smaller announced risk (deterrence, ODD 7.4)
    p = resolve_parameters(audit_coverage=0.4)
    assert deterrence.announced_risk(p, "diversion") == pytest.approx(
        0.4 * deterrence.announced_risk(resolve_parameters(), "diversion"))


def test_the_team_never_reads_the_committees_private_estimate() -> None:
    """Poison test: overwrite the committee's private estimate with NaN once it has acted."""
    def run(poison: bool) -> VillageModel:
        m = VillageModel(rng=9, regime="team_and_committee", n_households=150)
        for month in range(1, 25):
            m.step()
            if poison and month % 12 == 1:  # right after each identification
                m.committee_estimate[:] = np.nan
        return m

    clean, poisoned = run(False), run(True)
    np.testing.assert_array_equal(clean.registered, poisoned.registered)
    np.testing.assert_array_equal(clean.team_last_visit, poisoned.team_last_visit)
    np.testing.assert_array_equal(clean.team_signal_sum, poisoned.team_signal_sum)
    log_a, log_b = clean.decision_log(), poisoned.decision_log()
    team_a = log_a[(log_a["challenged_by"] == "team") | (log_a["proposed_by"] == "team")]
    team_b = log_b[(log_b["challenged_by"] == "team") | (log_b["proposed_by"] == "team")]
    assert len(team_a) > 0
    assert team_a.reset_index(drop=True).equals(team_b.reset_index(drop=True))


def _visit_view(strategy: str, capacity: int, **changes: object) -> policies.VisitView:
    """Eight households nobody has asked about and the team does not know; 1 and 5 are kin of
    cadres; the committee states estimates spread around the line (4,000)."""
    n = 8
    fields: dict[str, object] = dict(
        capacity=capacity, pending_since=np.full(n, NO_REQUEST, dtype=np.int64),
        pending_purpose=np.zeros(n, dtype=np.int8), known=np.zeros(n, dtype=bool),
        last_visit=np.full(n, -10_000), registered=np.zeros(n, dtype=bool),
        shown=np.array([9000.0, 7000.0, 4100.0, 1000.0, 3900.0, 6000.0, 2500.0, 12000.0]),
        kin_of_cadre=np.isin(np.arange(n), [1, 5]), poverty_line=4000.0, strategy=strategy,
        bins=10)
    fields.update(changes)
    return policies.VisitView(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("strategy", "first"), [
    ("cadre_kin_first", {1, 5}),
    ("lowest_estimate_first", {3, 6}),
    ("near_line_first", {2, 4}),
    ("complaints_first", {2, 4}),
])
def test_each_visit_strategy_orders_visits_as_stated(strategy: str, first: set[int]) -> None:
    for seed in range(5):
        chosen = policies.team_visits(_visit_view(strategy, 2), np.random.default_rng(seed))
        assert set(chosen.tolist()) == first, (strategy, chosen)


def test_queued_requests_come_before_any_strategy_oldest_first() -> None:
    pending = np.full(8, NO_REQUEST, dtype=np.int64)
    pending[[7, 0]] = [5, 3]  # 0 asked in month 3, 7 in month 5
    purpose = np.zeros(8, dtype=np.int8)
    purpose[[7, 0]] = 1
    view = _visit_view("cadre_kin_first", 3, pending_since=pending, pending_purpose=purpose)
    chosen = policies.team_visits(view, np.random.default_rng(0))
    assert chosen.tolist()[:2] == [0, 7] and chosen[2] in (1, 5)
    # no capacity, no visit
    assert policies.team_visits(_visit_view("random", 0), np.random.default_rng(0)).size == 0


# ------------------------------------------------------------------ who measures better
@pytest.mark.parametrize(("committee_noise", "team_noise", "sign"), [
    (0.15, 0.55, +1),  # a well-informed committee beside a rough team: exclusion rises
    (0.9, 0.05, -1),   # an ill-informed committee beside a precise team: exclusion falls
])
def test_the_team_helps_the_poor_only_where_it_measures_better(committee_noise: float,
                                                               team_noise: float,
                                                               sign: int) -> None:
    """The team's visits replace the committee's estimate of the households it sees; the
    exclusion error moves toward whichever error is smaller (experiments/sensitivity: +0.045
    in the corner of a well-informed committee and a noisy team over the whole design).

    Against the same money without a team, on paired seeds; it would fail if the team
    deferred to a better-informed committee, or if its measurement had no noise of its own.
    """
    common = {"committee_noise": committee_noise, "team_noise": team_noise}
    d = diff("exclusion_error", ("committee_plus_mobilization", common),
             ("team_and_committee", common))
    assert_direction(d, sign)
