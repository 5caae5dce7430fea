"""Identification (贫困户识别, 建档立卡): who goes on the register. ODD §7.3."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.codes import Actor, Outcome, Reason
from village_sim.mechanisms import appraisal, responsible_helpers
from village_sim.mechanisms.register import lowest, quota_count

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 3 (yearly): write a new register (贫困户识别, 建档立卡).

    The committee proposes the quota's worth of households from its noisy local knowledge,
    biased toward cadres' kin and friends; an active supervising team challenges entries
    its knowledge says are not poor and proposes replacements; the democratic appraisal
    and public notice (民主评议, 公示) let villagers complain, and complaints are settled
    by the team's visits if it supervises, otherwise by the committee. Without committee
    identification (``team_alone``) the team lists from what it knows itself.
    """
    p, z = s.p, s.p.poverty_line
    y = s.per_capita_income()
    poor = y < z
    k = quota_count(s)
    year = (s.steps - 1) // 12 + 1
    committee_est = s.committee.estimate_incomes(y)
    eligible = (s.steps - s.exit_month) >= 12  # exited within a year: not re-listed
    team_on = s.team_active
    team_lists = team_on and not p.committee_identifies
    n = s.n
    proposed_by = np.zeros(n, dtype=np.int8)
    challenged_by = np.zeros(n, dtype=np.int8)
    reason = np.full(n, -1, dtype=np.int8)

    if team_lists:
        team_est = s.team.knowledge(None)
        score = team_est / z
        listed = lowest(score, eligible, k)
        proposed_by[listed] = Actor.TEAM
        reason[listed] = Reason.ESTIMATED_POOR
    else:
        score = s.committee.biased_score()
        listed = lowest(score, eligible, k)
        honest = lowest(committee_est / z, eligible, k)
        proposed_by[listed] = Actor.COMMITTEE
        reason[listed & honest] = Reason.ESTIMATED_POOR
        reason[listed & ~honest] = Reason.FAVOURED
        if team_on and p.team_supervision:
            team_est = s.team.knowledge(committee_est)
            goes_along = s.team.stream.random(n) < p.cooptation
            challenged = listed & (team_est >= z) & ~goes_along
            challenged_by[challenged] = Actor.TEAM
            reason[challenged] = Reason.CHALLENGED_NOT_POOR
            listed &= ~challenged
            refill_score = team_est / z
            if k is not None:
                room = k - int(listed.sum())
                added = lowest(refill_score, eligible & ~listed & ~challenged, room)
            else:
                added = lowest(refill_score, eligible & ~listed & ~challenged, None)
            proposed_by[added & (proposed_by == 0)] = Actor.TEAM
            reason[added] = Reason.ADDED_BY_TEAM
            listed |= added

    if p.democratic_appraisal:
        listed = appraisal.run(s, listed, poor, y, committee_est, k, eligible,
                                 challenged_by, reason)
    over = (proposed_by > 0) & ~listed & (reason == Reason.ESTIMATED_POOR)
    reason[over] = Reason.OVER_QUOTA

    s.committee.proposed = proposed_by == Actor.COMMITTEE
    s.registered = listed
    s.identified = True
    s.identifications += 1
    responsible_helpers.assign(s)
    touched = (proposed_by > 0) | (challenged_by > 0) | listed | (reason >= 0)
    outcome = np.where(listed, Outcome.REGISTERED, Outcome.NOT_REGISTERED)
    s.log(touched, year, proposed_by, challenged_by, outcome, reason)
