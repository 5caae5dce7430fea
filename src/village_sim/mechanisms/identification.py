"""Identification (贫困户识别, 建档立卡): who goes on the register. ODD §7.3.

Sources: the policy text (民主评议, 公示, 驻村工作队 verification); Alatas et al. 2012 (community
knowledge: the committee knows incomes with error); Han & Gao 2019 (elite capture of the
register through cadres' close relatives).

Each yearly review the committee updates what it knows (:func:`review`): its estimate of each
household carries a log-error that persists from year to year (``committee_error_persistence``)
plus fresh noise, and it takes in the team's findings where the team shares them (policy
``share``: all of them with ``team_shares_findings``, none without). What it
*shows* others — the list it proposes and the estimates it states for it — follows its biased
ranking: a cadre's kin or friend is stated ``favoritism * weight`` poverty lines poorer. The
committee dares only part of that favoritism: the share its cadres' perceived risk of being
caught leaves (deterrence, channel ``registration``).

:func:`run` then writes the register. The committee proposes (policy ``proposal``); with a
supervising team present the team challenges the entries its *own visits* found not poor, adds
households its visits found poor, and asks to verify the entries it has not seen (visits, within
its budget); the democratic appraisal lets villagers complain. A team listing alone
(``committee_identifies = false``) lists from its own visits (policy ``team_listing``). The
committee never shows its private estimate to anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import metrics as M
from village_sim import numerics
from village_sim.codes import Actor, Outcome, Reason
from village_sim.mechanisms import appraisal, deterrence, policies, responsible_helpers, visits
from village_sim.mechanisms.register import judged_poor, lowest, quota_count
from village_sim.state import AT_IDENTIFICATION, Purpose

if TYPE_CHECKING:
    from village_sim.state import VillageState

__all__ = ["review", "run", "score_at_identification"]


def review(s: VillageState) -> None:
    """The committee's yearly look at the village: new estimates, what it will state.

    The log-error ``e`` follows ``e' = rho e + sqrt(1 - rho^2) sigma eps`` (stationary
    variance ``sigma^2``, ``sigma^2 = log(1 + committee_noise^2)``); the estimate is
    ``y exp(e - sigma^2 / 2)``. Where the team shares its findings, the committee adopts the
    team's measurement of the households the team knows.
    """
    p = s.p
    rng = s.committee.stream
    y = s.per_capita_income()
    sigma2 = float(numerics.log_variance(p.committee_noise))
    sigma = float(np.sqrt(sigma2))
    eps = rng.standard_normal(s.n)
    rho = p.committee_error_persistence if s.committee_estimated else 0.0
    s.committee_error = rho * s.committee_error + np.sqrt(1.0 - rho * rho) * sigma * eps
    estimate = y * numerics.mean_one(s.committee_error, sigma2)
    if s.team_active:  # what the team tells the committee (policy ``share``)
        known = s.team_knows()
        view = policies.ShareView(known=known.copy(), estimate=s.team_estimate(),
                                  registered=s.registered.copy(), poverty_line=p.poverty_line,
                                  shares=p.team_shares_findings)
        shared = policies.check_mask("share", s.policies["share"](view, s.team.stream), s.n,
                                     allowed=known)
        estimate[shared] = s.team_signal_sum[shared] / s.team_signal_count[shared]
    s.committee_estimate = estimate
    s.committee_estimated = True
    deterrence.update_channels(s)
    s.favoritism_now = p.favoritism * s.channel_intensity["registration"]
    stated = estimate - s.favoritism_now * s.fav_weight * p.poverty_line
    s.committee_shown = np.maximum(stated, 0.0)


def run(s: VillageState) -> None:
    """Phase 3 (yearly): write a new register (see the module docstring)."""
    p, z = s.p, s.p.poverty_line
    y = s.per_capita_income()
    poor = y < z
    k = quota_count(s)
    year = (s.steps - 1) // 12 + 1
    eligible = s.eligible_to_list()
    team_on = s.team_active
    team_lists = team_on and not p.committee_identifies
    n = s.n
    proposed_by = np.zeros(n, dtype=np.int8)
    challenged_by = np.zeros(n, dtype=np.int8)
    reason = np.full(n, -1, dtype=np.int8)
    committee_rng = s.committee.stream
    team_rng = s.team.stream

    if team_lists:
        s.favoured_entry = np.zeros(n, dtype=bool)
        view_t = policies.TeamListingView(
            estimate=s.team_estimate(),
            shown=s.committee_shown.copy() if p.team_cooperation else None,
            eligible=eligible.copy(), quota=k, poverty_line=z, quota_mode=p.quota_mode)
        listed = policies.check_mask("team_listing", s.policies["team_listing"](view_t, team_rng),
                                     n, allowed=eligible, at_most=k)
        proposed_by[listed] = Actor.TEAM
        reason[listed] = Reason.ESTIMATED_POOR
    else:
        view = policies.ProposalView(
            estimate=s.committee_estimate.copy(), fav_weight=s.fav_weight, eligible=eligible.copy(),
            quota=k, poverty_line=z, favoritism=s.favoritism_now, quota_mode=p.quota_mode)
        listed = policies.check_mask("proposal", s.policies["proposal"](view, committee_rng), n,
                                     allowed=eligible, at_most=k)
        # what it would list on its own estimate, without favour (under a cap: only those it
        # believes poor), so an entry listed only thanks to favour is logged as favoured
        believed = s.committee_estimate / z
        honest = lowest(believed, judged_poor(believed, eligible, p.quota_mode), k)
        proposed_by[listed] = Actor.COMMITTEE
        reason[listed & honest] = Reason.ESTIMATED_POOR
        reason[listed & ~honest] = Reason.FAVOURED
        favoured_listed = listed & ~honest & (s.fav_weight > 0)
        s.favoured_entry = favoured_listed.copy()  # what checks this year can find
        if team_on and p.team_supervision:
            listed = _team_checks_proposal(s, listed, eligible, k, proposed_by, challenged_by,
                                           reason)

    if p.democratic_appraisal:
        listed = appraisal.run(s, listed, poor, y, k, eligible, challenged_by, reason)
    over = (proposed_by > 0) & ~listed & (reason == Reason.ESTIMATED_POOR)
    reason[over] = Reason.OVER_QUOTA

    s.committee.proposed = proposed_by == Actor.COMMITTEE
    s.registered = listed
    s.identified = True
    s.identifications += 1
    # what the cadres risk in this channel: the entries they listed by favoritism
    s.favoured_entry &= listed
    if team_on and p.team_supervision and p.committee_identifies:
        unseen = np.flatnonzero(listed & ~s.team_knows())
        visits.request(s, unseen, Purpose.VERIFY)
    responsible_helpers.assign(s)
    touched = (proposed_by > 0) | (challenged_by > 0) | listed | (reason >= 0)
    outcome = np.where(listed, Outcome.REGISTERED, Outcome.NOT_REGISTERED)
    s.log(touched, year, proposed_by, challenged_by, outcome, reason)
    score_at_identification(s)


def score_at_identification(s: VillageState) -> None:
    """Score the register just written against y of this month (``*_at_identification``).

    The running metrics score the register against each month's y, so they drift within the
    year as measures lift registered households; these stay as they were when it was written.
    """
    y = s.per_capita_income()
    scores = M.targeting(y < s.p.poverty_line, s.registered)
    scores["kin_premium"] = M.kin_premium(y, s.registered, s.cadre_kin, s.cadre,
                                          s.per_capita_income_order())
    s.at_identification = {name: scores[name] for name in AT_IDENTIFICATION}


def _team_checks_proposal(s: VillageState, listed: np.ndarray, eligible: np.ndarray,
                          k: int | None, proposed_by: np.ndarray, challenged_by: np.ndarray,
                          reason: np.ndarray) -> np.ndarray:
    """The team acts on the proposal with what its own visits found (nothing else).

    Entries it measured not poor are challenged; households it measured poor are added,
    poorest first; the committee fills any room left from its own ranking (the next names on
    the list it would show). Each act is the ``challenge`` policy's (co-optation).
    """
    z = s.p.poverty_line
    known = np.flatnonzero(s.team_knows())
    if known.size == 0:
        return listed
    est = s.team_signal_sum[known] / s.team_signal_count[known]
    view = policies.ChallengeView(
        households=known, estimate=est, registered=listed[known].copy(),
        purpose=np.zeros(known.size, dtype=np.int8), eligible=eligible[known],
        recently_exited=np.zeros(known.size, dtype=bool), poverty_line=z,
        cooptation=s.p.cooptation)
    acts = policies.check_mask("challenge", s.policies["challenge"](view, s.team.stream),
                               known.size)
    above, below = visits.confident_side(s, est, s.team_signal_count[known])
    challenged = known[listed[known] & above & acts]
    removed_favoured = int(np.sum(s.favoured_entry[challenged]))
    deterrence.record_detections(s, "registration", removed_favoured, 0.0)
    challenged_by[challenged] = Actor.TEAM
    reason[challenged] = Reason.CHALLENGED_NOT_POOR
    listed = listed.copy()
    listed[challenged] = False
    poor_found = known[~listed[known] & eligible[known] & below & acts]
    poor_found = poor_found[np.argsort(s.team_signal_sum[poor_found]
                                       / s.team_signal_count[poor_found], kind="stable")]
    if k is not None:
        poor_found = poor_found[: max(0, k - int(listed.sum()))]
    listed[poor_found] = True
    proposed_by[poor_found] = np.where(proposed_by[poor_found] == 0, Actor.TEAM,
                                       proposed_by[poor_found])
    reason[poor_found] = Reason.ADDED_BY_TEAM
    if k is not None and challenged.size:
        room = k - int(listed.sum())
        pool = eligible & ~listed
        pool[challenged] = False
        shown = s.committee_shown / z
        refill = lowest(shown, judged_poor(shown, pool, s.p.quota_mode), room)
        listed |= refill
        proposed_by[refill] = Actor.COMMITTEE
        reason[refill] = Reason.ESTIMATED_POOR
    return listed
