"""Democratic appraisal and public notice (民主评议, 公示). ODD §7.3.

Sources: the policy text (民主评议, 公示); Alatas et al. 2012 (community meetings bring the
villagers' knowledge in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import lognormal_factor
from village_sim.codes import Actor, Reason
from village_sim.mechanisms import deterrence, policies, visits
from village_sim.mechanisms.register import lowest
from village_sim.state import Purpose

if TYPE_CHECKING:
    from village_sim.state import VillageState

def run(s: VillageState, listed: np.ndarray, poor: np.ndarray, y: np.ndarray, k: int | None,
        eligible: np.ndarray, challenged_by: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """Democratic appraisal and public notice: complaints, and who settles them.

    A poor household left off complains (policy ``complaint``: by default with probability
    ``complaint_rate (1 - trust) / (1 - reference_trust)``); a listed household that is not poor
    is objected to at the public notice with probability ``complaint_rate``. A complaint is
    public, so it brings the villagers' knowledge in: the meeting sees the household's income
    with error ``meeting_noise`` (CV 0.1). The committee settles complaints on the meeting's
    evidence, but shields its kin and friends with probability ``favoritism * weight`` (the
    favoritism it dares this year). With a supervising team present, every complaint is also
    queued for a team visit, which can overturn the committee's settlement when it is made
    (visits, within the team's budget).
    With a quota, the committee keeps its ``k`` best-ranked entries.
    """
    p, z, n = s.p, s.p.poverty_line, s.n
    rng = s.streams["villagers"]
    u_report = rng.random(n)
    meeting = y * lognormal_factor(p.meeting_noise, n, rng)
    view = policies.ComplaintView(own_income=y, listed=listed.copy(), trust=s.trust.copy(),
                                  eligible=eligible.copy(), poverty_line=z,
                                  complaint_rate=p.complaint_rate,
                                  reference_trust=p.reference_trust)
    complain = policies.check_mask("complaint", s.policies["complaint"](view, rng), n,
                                   allowed=~listed & eligible)
    report = listed & ~poor & (u_report < p.complaint_rate)
    involved = complain | report
    favoritism = s.favoritism_now
    shield = s.committee.stream.random(n) < favoritism * s.fav_weight
    evidence = np.where(involved, meeting, s.committee_estimate)
    upheld_add = complain & (evidence < z)
    upheld_remove = report & (evidence >= z) & ~shield
    score = evidence / z - favoritism * s.fav_weight
    new = (listed & ~upheld_remove) | upheld_add
    if k is not None and new.sum() > k:
        # keep the quota: the committee keeps its k best-ranked entries
        new = lowest(score, new, k)
    removed_favoured = int(np.sum(listed & ~new & report & s.favoured_entry))
    deterrence.record_detections(s, "registration", removed_favoured, 0.0)
    challenged_by[complain | report] = Actor.VILLAGERS
    reason[complain & new] = Reason.COMPLAINT_UPHELD
    reason[complain & ~new] = Reason.COMPLAINT_DISMISSED
    reason[report & ~new] = Reason.REMOVED_AFTER_REPORT
    reason[report & new] = Reason.REPORT_DISMISSED
    if s.supervising:
        visits.request(s, np.flatnonzero(involved), Purpose.COMPLAINT)
    return new
