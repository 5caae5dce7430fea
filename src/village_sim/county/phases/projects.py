"""Development projects for a county (mirrors :func:`village_sim.mechanisms.projects.run`).

In every village with a project fund at once: the cadres' skim (all cadres of the county, paid
out as allocation pays takings), infrastructure, the planner's estimate of where the poor are
and the clan it plans the industry project for, and where the project's income goes. Whether a
project is captured is each village's one ``projects`` draw a year; whether a supervising team
notices and has it put back, two draws on its ``team`` stream where one is captured: a Python
step per village for these draws and the village's books (Python numbers, D5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.county.phases.allocation import pay_out_takings
from village_sim.county.phases.economy import annual_capacity
from village_sim.mechanisms import deterrence

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def run(e: StackedVillages) -> None:
    """Spend each village's project fund on infrastructure and an industry project."""
    vs, seg, P, c = e.villages, e.segments, e.params, e.stack.columns
    fund = e.gather("project_fund")
    acting = P("development_projects").astype(bool) & (fund > 0)
    if not acting.any():
        return
    e.cadres.refresh()
    cad = e.cadres
    cv = cad.village
    here = acting[seg.village]
    month = int(vs[0].steps)
    slot = month % 12

    # the cadres skim the fund at the shares they chose for this month's cash
    taken_by = np.where(acting[cv], fund[cv] / cad.size[cv] * cad.gather("diversion_share"),
                        0.0)
    skimmed = cad.segments.exact_sum(taken_by)
    pay_out_takings(e, taken_by, slot, acting)
    built = fund - skimmed
    industry = built * P("industry_share")
    infra = built - industry
    capacity = seg.exact_sum(annual_capacity(e))
    infrastructure = e.gather("infrastructure")
    grows = acting & (capacity > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        infrastructure = np.where(
            grows, infrastructure * (1.0 + P("project_return") * infra / capacity),
            infrastructure)

    # the planner's picture: what the committee states, the team's own measurements where it
    # has them
    est = c["committee_shown"].copy()
    active = e.team_active()
    known = ((month - c["team_last_visit"] < P.of_households("team_memory"))
             & (c["team_signal_count"] > 0))
    measured = known & active[seg.village]
    est[measured] = c["team_signal_sum"][measured] / c["team_signal_count"][measured]
    planned_poor = est < P.of_households("poverty_line")
    in_clan = c["clan"] == _neediest_clan(e, planned_poor & here)[seg.village]
    known_share = (seg.count(known) / seg.sizes).tolist()  # np.mean of team_knows()

    # captured or not: each village's draw (and its team's, where it supervises)
    captured = np.zeros(len(vs), dtype=bool)
    for i in np.flatnonzero(acting).tolist():
        v = vs[i]
        capture = min(1.0, v.p.project_capture * v.channel_intensity["project"])
        captured[i] = bool(v.streams["projects"].random() < capture)
        if captured[i]:
            deterrence.record_detections(v, "project", 0, 1.0)
            if v.supervising:
                u_notice = v.team.stream.random()
                u_along = v.team.stream.random()
                if u_notice < known_share[i] and u_along >= v.p.cooptation:
                    captured[i] = False
                    deterrence.record_detections(v, "project", 1, 0.0)

    # a captured project's income goes to those who hold assets and connections
    income = c["project_income"]
    gain = P("project_return") * industry  # each village's yearly income from industry
    if captured.any():
        taking = captured[seg.village]
        weight = c["assets"] * (1.0 + c["fav_weight"])
        total = seg.exact_sum(np.where(taking, weight, 0.0))
        nothing = captured & (total <= 0)  # nothing held anywhere: the connected take it
        if nothing.any():
            weight = np.where(nothing[seg.village], 1.0 + c["fav_weight"], weight)
            total = seg.exact_sum(np.where(taking, weight, 0.0))
        income[taking] += gain[seg.village][taking] * weight[taking] / total[seg.village][taking]
    # else to the planned clan's households planned as poor (the whole clan if none is)
    planned = acting & ~captured
    if planned.any():
        poor_members = in_clan & planned_poor & planned[seg.village]
        whole = planned & (seg.count(poor_members) == 0)
        members = poor_members | (in_clan & whole[seg.village])
        size = seg.count(members)
        income[members] += (gain / np.maximum(size, 1))[seg.village][members]

    for i in np.flatnonzero(acting).tolist():
        v = vs[i]
        v.committee.diverted_ring[slot] += taken_by[cad.segments.block(i)]
        f, memo = v.flows, v.memo
        skim, spent, ind = float(skimmed[i]), float(fund[i]), float(industry[i])
        f["diverted"] += skim
        memo["diverted_projects"] += skim
        memo["divertible"] += spent
        memo["reported_spent"] += spent
        v.infrastructure = float(infrastructure[i])
        if captured[i]:
            v.industry_misdirected += ind
        v.industry_invested += ind
        v.project_fund = 0.0
        f["projects_spent"] = float(built[i])


def _neediest_clan(e: StackedVillages, planned_poor: np.ndarray) -> np.ndarray:
    """Each village's clan with the most households planned as poor (the first of equals)."""
    seg = e.segments
    clan = e.stack.columns["clan"].astype(np.int64)
    clans = seg.max(clan, empty=-1) + 1
    counts = np.full((seg.n_segments, int(clans.max())), -1, dtype=np.int64)
    counts[np.arange(clans.max())[None, :] < clans[:, None]] = 0  # each village's own clans
    np.add.at(counts, (seg.village[planned_poor], clan[planned_poor]), 1)
    return counts.argmax(axis=1)
