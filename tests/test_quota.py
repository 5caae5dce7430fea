"""The quota as it works in the programme: a cap, a yearly schedule, targeting at identification.

Money and measurement, item 3. Under ``quota_mode = "cap"`` (the default) the register holds
at most the quota and only households the lister judges poor on the ranking it shows (its
estimate minus the favoritism it dares), so registration favoritism stays live; ``"fill"``
lists exactly the quota, poor or not (Alatas et al. 2012's fixed number of beneficiaries).
``quota_schedule = "falling"`` follows the poor share the last survey found. The targeting
metrics ``*_at_identification`` score the register when it is written.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from village_sim import VillageModel
from village_sim import metrics as M
from village_sim.codes import REASON_TEXT, Reason
from village_sim.mechanisms import policies, register
from village_sim.state import AT_IDENTIFICATION

Z = 4000.0


def _proposal(estimate, fav_weight=None, quota=None, favoritism=0.0, mode="cap"):
    estimate = np.asarray(estimate, dtype=float)
    fav = np.zeros(estimate.size) if fav_weight is None else np.asarray(fav_weight, float)
    view = policies.ProposalView(
        estimate=estimate, fav_weight=fav, eligible=np.ones(estimate.size, dtype=bool),
        quota=quota, poverty_line=Z, favoritism=favoritism, quota_mode=mode)
    return np.flatnonzero(policies.committee_proposal(view, np.random.default_rng(0))).tolist()


# ---------------------------------------------------------------------------- the rule
def test_a_cap_lists_only_those_shown_poor_and_fill_fills_the_quota() -> None:
    estimate = [1000, 2000, 3000, 5000, 6000]
    assert _proposal(estimate, quota=4, mode="cap") == [0, 1, 2]
    assert _proposal(estimate, quota=4, mode="fill") == [0, 1, 2, 3]
    assert _proposal(estimate, quota=2, mode="cap") == [0, 1]  # the cap still binds
    assert _proposal(estimate, quota=0, mode="cap") == []
    assert _proposal(estimate, quota=0, mode="fill") == []


def test_favoritism_stays_live_under_a_cap() -> None:
    # a cadre's relative at 1.2 lines is shown at 0.7 with favoritism 0.5: listed
    estimate = [1000, 2000, 3000, 4800, 6000]
    kin = [0, 0, 0, 1, 0]
    assert _proposal(estimate, kin, quota=5, favoritism=0.5) == [0, 1, 2, 3]
    assert _proposal(estimate, kin, quota=5, favoritism=0.0) == [0, 1, 2]
    # with the quota full of the poor, the relative displaces the least poor of them
    assert _proposal(estimate, kin, quota=3, favoritism=0.5) == [0, 1, 3]


def test_a_team_listing_alone_under_a_cap_lists_whom_it_judges_poor() -> None:
    nan = np.nan
    view = policies.TeamListingView(
        estimate=np.array([nan, 3000.0, 5000.0, nan, nan]),
        shown=np.array([2000.0, 0.0, 0.0, 6000.0, 3500.0]),
        eligible=np.ones(5, dtype=bool), quota=4, poverty_line=Z, quota_mode="cap")
    listed = policies.team_listing(view, np.random.default_rng(0))
    # measured poor (1) first, then the unmeasured the committee shows poor (0, 4)
    assert np.flatnonzero(listed).tolist() == [0, 1, 4]
    fill = policies.team_listing(
        policies.TeamListingView(view.estimate, view.shown, view.eligible, 4, Z, "fill"),
        np.random.default_rng(0))
    assert np.flatnonzero(fill).tolist() == [0, 1, 3, 4]


def test_judged_poor_and_the_schedule_arithmetic() -> None:
    score = np.array([0.5, 0.99, 1.0, 1.5])
    cand = np.array([True, True, True, False])
    assert register.judged_poor(score, cand, "cap").tolist() == [True, True, False, False]
    assert register.judged_poor(score, cand, "fill").tolist() == cand.tolist()


# ---------------------------------------------------------------------------- in the model
@pytest.mark.parametrize("regime", ["committee_only", "team_and_committee"])
def test_under_a_cap_the_committee_lists_only_those_it_shows_poor(regime: str) -> None:
    for seed in range(3):
        model = VillageModel(rng=seed, regime=regime)
        for _ in range(25):
            model.step()
            if model.steps % 12 == 1:  # identification month: what was proposed and refilled
                log = model.decision_log()
                now = log[(log["month"] == model.steps) & (log["proposed_by"] == "committee")
                          & (log["outcome"] == "registered")]
                ids = now["household_id"].to_numpy()
                assert ids.size > 0
                assert (model.committee_shown[ids] < model.p.poverty_line).all(), (
                    seed, model.steps)
                assert model.registered.sum() <= register.quota_count(model)
                if regime == "committee_only":  # (no refill after a team's challenges)
                    # an entry the committee itself believes not poor is there by favour only
                    believed_rich = model.committee_estimate[ids] >= model.p.poverty_line
                    reasons = now["reason"].to_numpy()
                    assert (reasons[believed_rich] == REASON_TEXT[Reason.FAVOURED]).all()


def test_fill_lists_exactly_the_quota() -> None:
    model = VillageModel(rng=3, regime="committee_only", quota_mode="fill")
    for _ in range(13):
        model.step()
    k = register.quota_count(model)
    log = model.decision_log()
    year2 = log[(log["month"] == 13) & (log["outcome"] == "registered")]
    # the quota filled, less households declared out in the last 12 months (not eligible)
    assert len(year2) == min(k, int(model.eligible_to_list().sum()))


def test_registration_favoritism_raises_the_kin_premium_under_a_cap() -> None:
    """Intensity test: the cap does not switch favoritism off (20 paired seeds)."""
    diffs = []
    for seed in range(20):
        values = []
        for favoritism in (0.0, 0.5):
            model = VillageModel(rng=seed, regime="committee_only", favoritism=favoritism)
            for _ in range(49):
                model.step()
            values.append(model.metrics()["kin_premium_at_identification"])
        diffs.append(values[1] - values[0])
    d = np.array(diffs)
    t = d.mean() / (d.std(ddof=1) / np.sqrt(d.size))
    assert t > stats.t.ppf(0.95, d.size - 1), (d.mean(), t)


def test_a_falling_quota_follows_the_survey() -> None:
    model = VillageModel(rng=4, regime="team_and_committee", quota_schedule="falling")
    constant = VillageModel(rng=4, regime="team_and_committee")
    assert register.quota_count(model) == round(0.3 * model.n)  # before any survey
    quotas = []
    for _ in range(48):
        model.step()
        constant.step()
        if model.steps % 12 == 0:
            found = model.metrics()["survey_poor_share"]
            expected = round(model.n * min(model.p.quota, found))
            assert register.quota_count(model) == expected
            quotas.append(expected)
    assert register.quota_count(constant) == round(0.3 * constant.n)
    assert quotas[-1] < round(0.3 * model.n)  # poverty fell below the quota's share
    model.step()  # month 49: the register written under the lower quota
    assert model.registered.sum() <= quotas[-1]


# ---------------------------------------------------------------------------- metrics
def test_targeting_at_identification_scores_the_register_when_written() -> None:
    model = VillageModel(rng=6, regime="committee_only", panel_every=1)
    for _ in range(36):
        model.step()
    metrics = model.datacollector.get_model_vars_dataframe()
    names = [f"{n}_at_identification" for n in AT_IDENTIFICATION]
    assert metrics.loc[0, names].isna().all()  # nothing written before month 1
    panel = model.household_panel()
    for month in (1, 13, 25):
        frame = panel[panel["step"] == month]
        # committee_only: nothing changes the register in the rest of an identification month
        expected = M.targeting(frame["poor"].to_numpy(), frame["registered"].to_numpy())
        for name in AT_IDENTIFICATION:
            if name in expected:
                assert metrics.loc[month, f"{name}_at_identification"] == pytest.approx(
                    expected[name], abs=1e-12), (month, name)
        # constant until the next identification, while the running metrics drift
        year = metrics.loc[month:month + 11, names]
        assert (year.nunique() == 1).all()
    drift = (metrics.loc[13:24, "inclusion_error_leakage"]
             - metrics.loc[13:24, "inclusion_error_leakage_at_identification"]).abs().max()
    assert drift > 0
