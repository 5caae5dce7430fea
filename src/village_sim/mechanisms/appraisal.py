"""Democratic appraisal and public notice (民主评议, 公示). ODD §7.3."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import lognormal_factor
from village_sim.codes import Actor, Reason
from village_sim.mechanisms.register import lowest

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState, listed: np.ndarray, poor: np.ndarray, y: np.ndarray,
               committee_est: np.ndarray, k: int | None, eligible: np.ndarray,
               challenged_by: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """Democratic appraisal and public notice: complaints, and who settles them.

    A poor household left off complains with probability ``complaint_rate * 2 (1 - trust)``;
    a listed household that is not poor is objected to at the public notice with probability
    ``complaint_rate``. A complaint is public, so it brings the villagers' knowledge in:
    the appraisal meeting sees the household's income with 10% error. A supervising team
    settles complaints by visiting (5% error), and goes along with the committee with
    probability ``cooptation``. Otherwise the committee settles them on the meeting's
    evidence, but shields its kin and friends with probability ``favoritism * weight``.
    With a quota, the settler keeps its ``k`` best-ranked entries.
    """
    p, z, n = s.p, s.p.poverty_line, s.n
    rng = s.streams["villagers"]
    u_self, u_report = rng.random(n), rng.random(n)
    meeting = y * lognormal_factor(0.1, n, rng)
    p_self = np.minimum(1.0, p.complaint_rate * 2.0 * (1.0 - s.trust))
    p_report = p.complaint_rate
    complain = ~listed & poor & eligible & (u_self < p_self)
    report = listed & ~poor & (u_report < p_report)
    involved = complain | report
    if s.supervising:
        investigated = np.flatnonzero(involved)
        s.team.visit_month[investigated] = s.steps
        s.team.visit_estimate[investigated] = y[investigated] * lognormal_factor(
            0.05, investigated.size, s.team.stream)
        acts = s.team.stream.random(n) >= p.cooptation
        evidence = s.team.knowledge(committee_est)
        upheld_add = complain & acts & (evidence < z)
        upheld_remove = report & acts & (evidence >= z)
        score = evidence / z
    else:
        shield = s.committee.stream.random(n) < p.favoritism * s.fav_weight
        evidence = np.where(involved, meeting, committee_est)
        upheld_add = complain & (evidence < z)
        upheld_remove = report & (evidence >= z) & ~shield
        score = evidence / z - p.favoritism * s.fav_weight
    new = (listed & ~upheld_remove) | upheld_add
    if k is not None and new.sum() > k:
        # keep the quota: the settler keeps its k best-ranked entries
        new = lowest(score, new, k)
    challenged_by[complain | report] = Actor.VILLAGERS
    reason[complain & new] = Reason.COMPLAINT_UPHELD
    reason[complain & ~new] = Reason.COMPLAINT_DISMISSED
    reason[report & ~new] = Reason.REMOVED_AFTER_REPORT
    reason[report & new] = Reason.REPORT_DISMISSED
    return new
