"""Identification for a county (mirrors :mod:`village_sim.mechanisms.identification`).

The committee's yearly review (:func:`review`: new estimates, the favoritism it dares, what it
states) and the writing of the register (:func:`run`: the committee's proposal or a team's own
listing, the supervising team's checks, the democratic appraisal, responsible helpers, the
decision log, the register's scores) in every village at once, on the stacked household
arrays. Each village's draws come from its own streams, call for call as its own mechanism
makes them (D3): the committee's errors and the appraisal's shielding (``committee``), the
team's challenges and its priors (``team``), complaints and the meeting's view
(``villagers``), helpers (``helpers``). Selections of the first ``k`` are segment ranks
(:mod:`village_sim.county.phases.register`).

Where a village decides ``proposal``, ``team_listing``, ``challenge`` or ``complaint`` by
another rule, every village writes its register with its own mechanism (D6); the review has
no decision of a policy and is always the county's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.codes import Actor, Outcome, Reason
from village_sim.county import metrics as county_metrics
from village_sim.county.phases import appraisal, deterrence, responsible_helpers
from village_sim.county.phases import register as county_register
from village_sim.county.phases.draws import normal_each, random_each
from village_sim.county.phases.visits import request
from village_sim.mechanisms import identification
from village_sim.mechanisms.visits import sides_of_line
from village_sim.metrics import targeting_from_counts
from village_sim.state import AT_IDENTIFICATION, Purpose

if TYPE_CHECKING:
    from village_sim.county.phases.register import Quotas
    from village_sim.county.stacked import StackedVillages

__all__ = ["review", "run", "score_at_identification"]

POLICIES = ("proposal", "team_listing", "challenge", "complaint")
"""The decisions of identification: villages all deciding them by default run the county's."""


# ---------------------------------------------------------------------------- the review
def review(e: StackedVillages) -> None:
    """The committee's yearly look at every village (``identification.review``).

    New log-errors ``rho e + sqrt(1 - rho^2) sigma eps`` (``eps`` from each village's committee
    stream), the estimates, the team's findings where it shares them, deterrence for every
    cadre, the favoritism each committee dares and the estimates it states.
    """
    if e.decided_otherwise(identification.review, "share"):  # another rule decides (D6)
        return
    vs, P, seg = e.villages, e.params, e.segments
    village = seg.village
    c = e.stack.columns
    eps = normal_each(e, "committee", np.arange(len(vs)), seg.sizes)
    sigma2 = P.derived("committee_sigma2",
                       lambda p: float(numerics.log_variance(p.committee_noise)))
    sigma = P.derived("committee_sigma", lambda p: float(np.sqrt(
        float(numerics.log_variance(p.committee_noise)))))
    # rho, and the scalar sqrt(1 - rho^2) sigma, each computed as the village computes them
    rhos = [v.p.committee_error_persistence if v.committee_estimated else 0.0 for v in vs]
    scale = np.array([np.sqrt(1.0 - r * r) * s for r, s in zip(rhos, sigma.tolist(),
                                                                 strict=True)])
    rho = np.array(rhos, dtype=np.float64)
    error = c["committee_error"]
    error[...] = rho[village] * error + scale[village] * eps
    estimate = e.y * numerics.mean_one(error, sigma2[village])
    sharing = e.team_active() & P(
        "team_shares_findings").astype(bool)
    if sharing.any():
        known = e.team_knows() & sharing[village]
        estimate[known] = c["team_signal_sum"][known] / c["team_signal_count"][known]
    c["committee_estimate"][...] = estimate
    e.scatter("committee_estimated", np.ones(len(vs)))
    e.cadres.refresh()
    choice, risks = deterrence.choose(e)
    deterrence.keep(e, choice, risks)
    favoritism = P("favoritism") * choice.realised["registration"]
    e.scatter("favoritism_now", favoritism)
    stated = estimate - favoritism[village] * c["fav_weight"] * P.of_households("poverty_line")
    c["committee_shown"][...] = np.maximum(stated, 0.0)


# ---------------------------------------------------------------------------- the register
class _Register:
    """What identification writes for every household: who proposed, challenged, and why."""

    def __init__(self, n: int):
        self.proposed_by = np.zeros(n, dtype=np.int8)
        self.challenged_by = np.zeros(n, dtype=np.int8)
        self.reason = np.full(n, -1, dtype=np.int8)


def run(e: StackedVillages) -> None:
    """Write every village's new register (``identification.run``)."""
    vs = e.villages
    if e.decided_otherwise(identification.run, *POLICIES):  # another rule decides (D6)
        return
    P, seg = e.params, e.segments
    village = seg.village
    c = e.stack.columns
    month = e.month
    year = (month - 1) // 12 + 1
    z = P.of_households("poverty_line")
    y = e.y
    poor = y < z
    quota = county_register.quotas(e)
    eligible = (month - c["exit_month"]) >= 12
    team_on = e.team_active()
    committee_identifies = P("committee_identifies").astype(bool)
    team_lists = team_on & ~committee_identifies
    checking = team_on & P("team_supervision").astype(bool) & committee_identifies
    r = _Register(seg.n)

    listed = np.zeros(seg.n, dtype=bool)
    favoured_entry = np.zeros(seg.n, dtype=bool)
    if team_lists.any():
        listed |= _team_listing(e, team_lists, eligible, quota)
        by_team = listed & team_lists[village]
        r.proposed_by[by_team] = Actor.TEAM
        r.reason[by_team] = Reason.ESTIMATED_POOR
    proposing = ~team_lists
    if proposing.any():
        proposed, favoured_entry = _proposal(e, proposing, eligible, quota, r)
        listed |= proposed
    c["favoured_entry"][...] = favoured_entry  # what checks this year can find
    if checking.any():
        listed = _team_checks_proposal(e, checking, listed, eligible, quota, r)

    appraising = P("democratic_appraisal").astype(bool)
    if appraising.any():
        listed = appraisal.run(e, appraising, listed, poor, y, quota, eligible, r.challenged_by,
                               r.reason)
    over = (r.proposed_by > 0) & ~listed & (r.reason == Reason.ESTIMATED_POOR)
    r.reason[over] = Reason.OVER_QUOTA

    c["committee_proposed"][...] = r.proposed_by == Actor.COMMITTEE
    c["registered"][...] = listed
    e.scatter("identified", np.ones(len(vs)))
    for v in vs:
        v.identifications += 1
    # what the cadres risk in this channel: the entries they listed by favoritism
    c["favoured_entry"][...] &= listed
    if checking.any():
        request(e, listed & ~e.team_knows() & checking[village], Purpose.VERIFY)
    responsible_helpers.assign(e, np.ones(len(e.villages), dtype=bool))
    touched = (r.proposed_by > 0) | (r.challenged_by > 0) | listed | (r.reason >= 0)
    outcome = np.where(listed, Outcome.REGISTERED, Outcome.NOT_REGISTERED)
    e.log(touched, year, r.proposed_by, r.challenged_by, outcome, r.reason)
    score_at_identification(e)


def _team_listing(e: StackedVillages, listing: np.ndarray, eligible: np.ndarray,
                  quota: Quotas) -> np.ndarray:
    """A team listing alone, in the villages ``listing`` (``policies.team_listing``).

    Households it measured poor, poorest first; then those it does not know, by what the
    committee shows (with cooperation) or by a random prior from the team's stream; the
    known non-poor last; at most the quota (without one: the known poor).
    """
    P, seg = e.params, e.segments
    village = seg.village
    c = e.stack.columns
    z = P.of_households("poverty_line")
    cooperating = P("team_cooperation").astype(bool)
    known = e.team_knows()
    estimate = np.full(seg.n, np.nan)
    estimate[known] = c["team_signal_sum"][known] / c["team_signal_count"][known]
    prior = c["committee_shown"] / z
    drawing = listing & ~cooperating
    if drawing.any():
        blind = drawing[village]
        prior[blind] = 1.0 + random_each(e, "team", np.flatnonzero(drawing), seg.sizes[drawing])
    judged = np.where(known, estimate / z, prior)  # the team's view of each, in lines
    known_poor = known & (judged < 1.0)
    mine = listing[village]
    capped = quota.capped[village]
    listed = eligible & known_poor & mine & ~capped
    candidates = county_register.judged_poor(e, judged, eligible) & mine & capped
    if candidates.any():
        # known poor first, poorest first; then the unknown by prior; the known non-poor last
        value = np.where(known & ~known_poor, 0.0, judged)
        listed |= seg.first_k(quota.k, value, known, ~known_poor, among=candidates)
    return listed


def _proposal(e: StackedVillages, proposing: np.ndarray, eligible: np.ndarray, quota: Quotas,
              r: _Register) -> tuple[np.ndarray, np.ndarray]:
    """The committee's proposal in the villages ``proposing`` (``policies.committee_proposal``).

    Returns the list, and the entries listed only thanks to favour (``favoured_entry``).
    """
    P, seg = e.params, e.segments
    village = seg.village
    c = e.stack.columns
    mine = proposing[village]
    z = P.of_households("poverty_line")
    believed = c["committee_estimate"] / z
    fav_weight = c["fav_weight"]
    score = believed - e.gather("favoritism_now")[village] * fav_weight
    eligible = eligible & mine
    listed = county_register.lowest(e, score, county_register.judged_poor(e, score, eligible),
                                    quota.capped, quota.k)
    # what it would list on its own estimate, without favour, so that an entry listed only
    # thanks to favour is logged as favoured
    honest = county_register.lowest(
        e, believed, county_register.judged_poor(e, believed, eligible), quota.capped, quota.k)
    r.proposed_by[listed] = Actor.COMMITTEE
    r.reason[listed & honest] = Reason.ESTIMATED_POOR
    r.reason[listed & ~honest] = Reason.FAVOURED
    return listed, listed & ~honest & (fav_weight > 0)


def _team_checks_proposal(e: StackedVillages, checking: np.ndarray, listed: np.ndarray,
                          eligible: np.ndarray, quota: Quotas, r: _Register) -> np.ndarray:
    """The supervising teams act on the proposals with what their own visits found.

    ``identification._team_checks_proposal`` in the villages ``checking``: entries measured
    not poor are challenged, households measured poor added (poorest first, within the
    quota), the room left refilled from the committee's stated ranking; each act unless the
    team goes along with the committee (``challenge``: one draw per known household from the
    team's stream).
    """
    P, seg = e.params, e.segments
    village = seg.village
    c = e.stack.columns
    known = e.team_knows() & checking[village]
    n_known = seg.count(known)
    acting = np.flatnonzero(n_known > 0).tolist()
    if not acting:
        return listed
    k_idx = np.flatnonzero(known)
    u = random_each(e, "team", acting, n_known[acting])
    kv = village[k_idx]
    count = c["team_signal_count"][k_idx]
    est = c["team_signal_sum"][k_idx] / count
    acts = u >= P("cooptation")[kv]
    log_var = P.derived("team_log_variance", lambda p: numerics.log_variance(p.team_noise))
    above, below = sides_of_line(est, count, log_var[kv], P("poverty_line")[kv],
                                 P("team_confidence")[kv])
    challenged = k_idx[listed[k_idx] & above & acts]
    is_challenged = np.zeros(seg.n, dtype=bool)
    is_challenged[challenged] = True
    removed_favoured = seg.count(c["favoured_entry"] & is_challenged)
    deterrence.record_detections(e, np.asarray(acting, dtype=np.int64), "registration",
                                 removed_favoured[acting])
    r.challenged_by[challenged] = Actor.TEAM
    r.reason[challenged] = Reason.CHALLENGED_NOT_POOR
    listed = listed.copy()
    listed[challenged] = False
    found = k_idx[~listed[k_idx] & eligible[k_idx] & below & acts]
    poor_found = np.zeros(seg.n, dtype=bool)
    poor_found[found] = True
    est_all = np.zeros(seg.n)
    est_all[k_idx] = est
    # poorest first, within the room the quota leaves (without a quota: all)
    room = np.where(quota.capped, np.maximum(0, quota.k - seg.count(listed)), seg.sizes)
    added = seg.first_k(room, est_all, among=poor_found)
    listed |= added
    r.proposed_by[added & (r.proposed_by == 0)] = Actor.TEAM
    r.reason[added] = Reason.ADDED_BY_TEAM
    refilling = quota.capped & seg.any(is_challenged)
    if refilling.any():
        room = quota.k - seg.count(listed)
        pool = eligible & ~listed & ~is_challenged & refilling[village]
        shown = c["committee_shown"] / P.of_households("poverty_line")
        refill = county_register.lowest(e, shown, county_register.judged_poor(e, shown, pool),
                                        refilling, room)
        listed |= refill
        r.proposed_by[refill] = Actor.COMMITTEE
        r.reason[refill] = Reason.ESTIMATED_POOR
    return listed


# ---------------------------------------------------------------------------- the scores
def score_at_identification(e: StackedVillages) -> None:
    """Score every village's register just written against y of this month.

    ``identification.score_at_identification``: the targeting measures from each village's
    counts (the village's own formulas) and the kin premium, its stratum terms summed per
    village as the village sums them (:func:`village_sim.county.metrics.kin_premium`).
    """
    seg = e.segments
    c = e.stack.columns
    y = e.y
    poor = y < e.params.of_households("poverty_line")
    registered = c["registered"]
    scores = targeting_from_counts(seg.sizes, seg.count(poor), seg.count(registered),
                                   seg.count(poor & registered), county_metrics.ratio)
    scores["kin_premium"] = county_metrics.kin_premium(y, registered, c["cadre_kin"],
                                                       c["cadre"], seg)
    values = {name: np.asarray(scores[name], dtype=np.float64).tolist()
              for name in AT_IDENTIFICATION}
    for i, v in enumerate(e.villages):
        v.at_identification = {name: values[name][i] for name in AT_IDENTIFICATION}
