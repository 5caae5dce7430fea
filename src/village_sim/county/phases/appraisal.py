"""Democratic appraisal for a county (mirrors :func:`village_sim.mechanisms.appraisal.run`).

In every village holding an appraisal at once: the villagers' draws (reports, the meeting's
view of incomes, complaints: the ``villagers`` stream) and the committee's shielding of its kin
and friends (the ``committee`` stream), one generator call per draw and village (D3); the
settlement of complaints, the quota and the records on the stacked arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import lognormal_law
from village_sim.codes import Actor, Reason
from village_sim.county.phases.deterrence import record_detections
from village_sim.county.phases.draws import lognormal_each, random_each
from village_sim.county.phases.visits import request
from village_sim.state import Purpose

if TYPE_CHECKING:
    from village_sim.county.phases.register import Quotas
    from village_sim.county.stacked import StackedVillages

__all__ = ["run"]


def run(e: StackedVillages, appraising: np.ndarray, listed: np.ndarray, poor: np.ndarray,
        y: np.ndarray, quota: Quotas, eligible: np.ndarray, challenged_by: np.ndarray,
        reason: np.ndarray) -> np.ndarray:
    """Complaints, reports and their settlement in the villages ``appraising``.

    Returns the register after the appraisal (``listed`` unchanged in the other villages);
    writes who challenged and why into ``challenged_by`` and ``reason``.
    """
    P, seg = e.params, e.segments
    village = seg.village
    c = e.stack.columns
    n = seg.n
    u_report, factor, u_complaint, u_shield = (np.ones(n) for _ in range(4))
    # each appraising village's calls, stream by stream in the village's order: villagers'
    # reports, the meeting's noise (agents.lognormal_factor: no draw without noise), the
    # complaint policy's draw; the committee's shielding
    mine = appraising[village]
    rows = np.flatnonzero(appraising)
    sizes = seg.sizes[rows]
    u_report[mine] = random_each(e, "villagers", rows, sizes)
    noisy = P("meeting_noise")[rows] > 0
    mu, sigma = P.derived("meeting_noise_law", lambda p: lognormal_law(p.meeting_noise)
                          if p.meeting_noise > 0 else (0.0, 0.0)).T
    factor[(appraising & (P("meeting_noise") > 0))[village]] = lognormal_each(
        e, "villagers", rows[noisy], sizes[noisy], mu[rows[noisy]], sigma[rows[noisy]])
    u_complaint[mine] = random_each(e, "villagers", rows, sizes)
    u_shield[mine] = random_each(e, "committee", rows, sizes)
    z = P.of_households("poverty_line")
    rate = P.of_households("complaint_rate")
    meeting = y * factor
    # policies.household_complaints: a poor household left off complains, more if distrustful
    distrust = (1.0 - c["trust"]) / (1.0 - P.of_households("reference_trust"))
    p_self = np.minimum(1.0, rate * distrust)
    complain = ~listed & poor & eligible & (u_complaint < p_self) & mine
    report = listed & ~poor & (u_report < rate) & mine
    involved = complain | report
    favour = e.gather("favoritism_now")[village] * c["fav_weight"]
    shield = u_shield < favour
    evidence = np.where(involved, meeting, c["committee_estimate"])
    upheld_add = complain & (evidence < z)
    upheld_remove = report & (evidence >= z) & ~shield
    score = evidence / z - favour
    new = (listed & ~upheld_remove) | upheld_add
    # keep the quota: the committee keeps its k best-ranked entries
    over = appraising & quota.capped & (seg.count(new) > quota.k)
    if over.any():
        trimmed = seg.first_k(quota.k, score, among=new & over[village])
        new = np.where(over[village], trimmed, new)
    removed_favoured = seg.count(listed & ~new & report & c["favoured_entry"])
    record_detections(e, np.flatnonzero(appraising), "registration",
                      removed_favoured[appraising])
    challenged_by[involved] = Actor.VILLAGERS
    reason[complain & new] = Reason.COMPLAINT_UPHELD
    reason[complain & ~new] = Reason.COMPLAINT_DISMISSED
    reason[report & ~new] = Reason.REMOVED_AFTER_REPORT
    reason[report & new] = Reason.REPORT_DISMISSED
    supervising = appraising & P("team_supervision").astype(bool)
    if supervising.any():
        request(e, involved & supervising[village], Purpose.COMPLAINT)
    return np.where(mine, new, listed)
