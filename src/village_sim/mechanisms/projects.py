"""Development projects (yearly): infrastructure, industry and capture. ODD §7.6."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 6 (yearly): spend the project fund on infrastructure and an industry project.

    Infrastructure raises every household's earnings by ``project_return`` per yuan,
    spread in proportion to earnings. The industry project goes to the clan with the most
    poor households as the planner sees them (the team if present, else the committee),
    unless captured: with probability ``project_capture`` (less what a supervising team
    prevents) it is sited in a cadre's clan.
    """
    p = s.p
    if not p.development_projects or s.project_fund <= 0:
        return
    fund = s.project_fund
    infra, industry = fund / 2.0, fund / 2.0
    capacity = float(s.annual_capacity().sum())
    if capacity > 0:
        s.infrastructure *= 1.0 + p.project_return * infra / capacity
    est = s.committee.estimate
    if s.team_active:
        est = s.team.knowledge(est)
    n_clans = int(s.clan.max()) + 1
    planned_poor = np.bincount(s.clan[est < p.poverty_line], minlength=n_clans)
    neediest = int(np.argmax(planned_poor))
    capture = p.project_capture * (1.0 - s.supervision_effect())
    rng = s.committee.stream
    captured = rng.random() < capture
    cadre_clan = int(s.clan[rng.choice(s.committee.cadres)])
    site = cadre_clan if captured else neediest
    members = np.flatnonzero(s.clan == site)
    s.project_income[members] += p.project_return * industry / members.size
    s.industry_invested += industry
    if site != neediest:
        s.industry_misdirected += industry
    s.project_fund = 0.0
    s.flows["projects_spent"] = fund
