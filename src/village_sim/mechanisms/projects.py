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
    is planned for the clan with the most poor households as the planner sees them (what the
    committee states, and the team's own measurements where it has them), for the households
    of that clan the planner sees as poor (the whole clan if it sees none). With probability
    ``project_capture`` times the share of that inclination the committee dares (deterrence,
    channel ``project``) it is captured: its benefits accrue to those who hold land,
    enterprises and connections, in proportion to ``assets × (1 + fav_weight)`` (cadres'
    households and kin count double, friends one and a half). A supervising team notices a
    capture with probability equal to the share of households it knows (its picture of where
    the poor are) and has the project put back to its plan, unless it goes along.
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
    industry = built * p.industry_share
    infra = built - industry
    capacity = float(s.annual_capacity().sum())
    if capacity > 0:
        s.infrastructure *= 1.0 + p.project_return * infra / capacity
    est = s.committee_shown.copy()
    if s.team_active:
        known = s.team_knows()
        est[known] = s.team_signal_sum[known] / s.team_signal_count[known]
    planned_poor = est < p.poverty_line
    n_clans = int(s.clan.max()) + 1
    neediest = int(np.argmax(np.bincount(s.clan[planned_poor], minlength=n_clans)))
    capture = min(1.0, p.project_capture * s.channel_intensity["project"])
    # the capture draw comes from its own stream (one draw a year whatever the state), so a
    # higher capture probability captures in the same years and more (common random numbers)
    captured = bool(s.streams["projects"].random() < capture)
    if captured:
        deterrence.record_detections(s, "project", 0, 1.0)
        if s.supervising:
            u_notice = s.team.stream.random()
            u_along = s.team.stream.random()
            if u_notice < float(s.team_knows().mean()) and u_along >= p.cooptation:
                captured = False
                deterrence.record_detections(s, "project", 1, 0.0)
    if captured:
        weight = s.assets * (1.0 + s.fav_weight)
        if weight.sum() <= 0:  # nothing held anywhere: the connected take it, else all
            weight = (1.0 + s.fav_weight)
        s.project_income += p.project_return * industry * weight / weight.sum()
        s.industry_misdirected += industry
    else:
        in_clan = s.clan == neediest
        members = np.flatnonzero(in_clan & planned_poor)
        if members.size == 0:
            members = np.flatnonzero(in_clan)
        s.project_income[members] += p.project_return * industry / members.size
    s.industry_invested += industry
    s.project_fund = 0.0
    s.flows["projects_spent"] = built
