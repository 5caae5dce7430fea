"""Development projects (yearly): infrastructure, industry and capture. ODD §7.6."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms import deterrence
from village_sim.mechanisms.allocation import pay_out_takings

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 6 (yearly): spend the project fund on infrastructure and an industry project.

    Cadres skim the project fund at the shares they chose for the cash this month (audits
    read the project books too). Infrastructure raises every household's earnings by
    ``project_return`` per yuan built, spread in proportion to earnings. The industry project
    goes to the clan with the most poor households as the planner sees them (what the
    committee states, and the team's own measurements where it has them), unless captured:
    with probability ``project_capture`` times the share of that inclination the committee
    dares (deterrence, channel ``project``) it is sited in a cadre's clan. A supervising team
    notices a captured siting with probability equal to the share of households it knows
    (its picture of where the poor are) and has it re-sited, unless it goes along.
    """
    p = s.p
    if not p.development_projects or s.project_fund <= 0:
        return
    fund = s.project_fund
    cadres = s.committee.cadres
    taken_by = fund / cadres.size * s.diversion_share
    skimmed = float(taken_by.sum())
    pay_out_takings(s, taken_by)
    s.flows["diverted"] += skimmed
    s.memo["diverted_projects"] += skimmed
    s.memo["divertible"] += fund
    s.memo["reported_spent"] += fund
    built = fund - skimmed
    infra, industry = built / 2.0, built / 2.0
    capacity = float(s.annual_capacity().sum())
    if capacity > 0:
        s.infrastructure *= 1.0 + p.project_return * infra / capacity
    est = s.committee_shown.copy()
    if s.team_active:
        known = s.team_knows()
        est[known] = s.team_signal_sum[known] / s.team_signal_count[known]
    n_clans = int(s.clan.max()) + 1
    planned_poor = np.bincount(s.clan[est < p.poverty_line], minlength=n_clans)
    neediest = int(np.argmax(planned_poor))
    capture = min(1.0, p.project_capture * s.channel_intensity["project"])
    # the siting draws come from their own stream (two draws a year whatever the state), so
    # a higher capture probability captures in the same years and more (common random numbers)
    rng = s.streams["projects"]
    u_capture, u_cadre = rng.random(2)
    captured = u_capture < capture
    cadre_clan = int(s.clan[cadres[min(cadres.size - 1, int(u_cadre * cadres.size))]])
    site = cadre_clan if captured else neediest
    if captured and cadre_clan != neediest:
        deterrence.record_detections(s, "project", 0, 1.0)
        if s.supervising:
            u_notice, u_along = s.team.stream.random(2)
            if u_notice < float(s.team_knows().mean()) and u_along >= p.cooptation:
                site = neediest
                deterrence.record_detections(s, "project", 1, 0.0)
    members = np.flatnonzero(s.clan == site)
    s.project_income[members] += p.project_return * industry / members.size
    s.industry_invested += industry
    if site != neediest:
        s.industry_misdirected += industry
    s.project_fund = 0.0
    s.flows["projects_spent"] = built
