"""Development projects for a county (mirrors :func:`village_sim.mechanisms.projects.run`).

In every village with a project fund at once: the cadres' skim (all cadres of the county, paid
out as allocation pays takings), infrastructure, the planner's estimate of where the poor are
and the clan it plans the industry project for, and where the project's income goes. Whether a
project is captured is each village's one ``projects`` draw a year; whether a supervising team
notices and has it put back, two draws on its ``team`` stream where one is captured (both
drawn for all villages at once, ``draws.random_each``). The books, funds and infrastructure
of all villages are written as columns (county/books.py, D5), the skim into the committees'
rings (the county's buffer, ``Cadres``); the industry records village by village.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.county.books import CHANNEL, FLOW, MEMO
from village_sim.county.phases.allocation import pay_out_takings
from village_sim.county.phases.deterrence import record_detections
from village_sim.county.phases.draws import random_each
from village_sim.county.phases.economy import annual_capacity

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
    known_share = seg.count(known) / seg.sizes  # np.mean of team_knows()

    # captured or not: each village's draw (and its team's, where it supervises)
    books = e.books
    project = CHANNEL["project"]
    doing = np.flatnonzero(acting)
    capture = P("project_capture") * books.intensity[:, project]
    capture = np.where(capture < 1.0, capture, 1.0)  # min(1.0, capture) as Python's min
    captured = np.zeros(len(vs), dtype=bool)
    captured[doing] = (random_each(e, "projects", doing, np.ones(doing.size, dtype=np.int64))
                       < capture[doing])
    books.exposure[captured, project] += 1.0  # record_detections(v, "project", 0, 1.0)
    checked = np.flatnonzero(captured & active & P("team_supervision").astype(bool))
    if checked.size:  # the team notices (first draw) unless it goes along (second)
        u = random_each(e, "team", checked, np.full(checked.size, 2, dtype=np.int64))
        undone = checked[(u[0::2] < known_share[checked])
                         & (u[1::2] >= P("cooptation")[checked])]
        captured[undone] = False
        record_detections(e, undone, "project", np.ones(undone.size))

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

    # the books and numbers of every village with a fund (county/books.py), the cadres'
    # rings (Cadres), then the industry's records village by village
    books.flows[acting, FLOW["diverted"]] += skimmed[acting]
    books.memo[acting, MEMO["diverted_projects"]] += skimmed[acting]
    books.memo[acting, MEMO["divertible"]] += fund[acting]
    books.memo[acting, MEMO["reported_spent"]] += fund[acting]
    books.flows[acting, FLOW["projects_spent"]] = built[acting]
    e.scatter("infrastructure", infrastructure)  # changed where a project is built
    e.scatter("project_fund", np.where(acting, 0.0, fund))
    invested, was_captured = industry[doing].tolist(), captured[doing].tolist()
    takers = np.flatnonzero(acting[cv])  # this month's slot of their committees' rings
    cad.ring_buffer[cad.ring_places(slot, takers)] += taken_by[takers]
    for j, i in enumerate(doing.tolist()):
        v = vs[i]
        if was_captured[j]:
            v.industry_misdirected += invested[j]
        v.industry_invested += invested[j]


def _neediest_clan(e: StackedVillages, planned_poor: np.ndarray) -> np.ndarray:
    """Each village's clan with the most households planned as poor (the first of equals)."""
    seg = e.segments
    clan = e.stack.columns["clan"].astype(np.int64)
    clans = seg.max(clan, empty=-1) + 1
    counts = np.full((seg.n_segments, int(clans.max())), -1, dtype=np.int64)
    counts[np.arange(clans.max())[None, :] < clans[:, None]] = 0  # each village's own clans
    np.add.at(counts, (seg.village[planned_poor], clan[planned_poor]), 1)
    return counts.argmax(axis=1)
