"""Allocation (phase 4, monthly): the budget released, diverted, paid out and audited. ODD §7.4."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.state import MATERIAL_YUAN

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 4 (monthly): release the budget, let cadres divert, pay the register, audit.

    Diverted money goes half to the cadre's household and half to its kin. Upper-level
    audits (every regime) and a supervising team detect and sanction: restitution plus a
    fine of ``sanction`` times the amount found, paid by the cadre's household back into
    the programme's cash fund.
    """
    p, n, f = s.p, s.n, s.flows
    f["carried_in"] = s.cash_fund + s.measure_fund + s.project_fund
    base = p.budget_per_household * n / 12.0 * s.budget_factor
    mobilized = p.mobilization * base if p.resource_mobilization and s.team_window_open \
        else 0.0
    released = base + mobilized
    staff = (p.team_cost * s.team.size if s.team_active else 0.0) + (
        p.helper_cost * s.n_helpers)
    measure_in = p.measure_share * released if p.household_measures else 0.0
    project_in = p.project_share * released if p.development_projects else 0.0
    s.measure_fund += measure_in
    s.project_fund += project_in
    pool = s.cash_fund + released - measure_in - project_in
    f.update(released=released, mobilized=mobilized, staff_funding=staff, staff_costs=staff)

    cadres = s.committee.cadres
    upper = s.streams["upper"]
    # an instructor's "audit now" happens even where routine audits are switched off
    audit_draw = upper.random()  # drawn every month, whatever the switches (CRN)
    audit_now = (p.upper_audits and audit_draw < p.audit_probability) or s.force_audit
    s.force_audit = False
    audit_finds = upper.random(cadres.size) < p.detection
    team_catch = p.supervision_strength * (1.0 - p.cooptation) if s.supervising else 0.0
    team_finds = s.team.stream.random(cadres.size) < team_catch
    ring = s.committee.diverted_ring
    ring[s.slot] = 0.0

    reg = np.flatnonzero(s.registered)
    if reg.size > 0 and pool > 0:
        share = s.committee.diversion_fractions(team_catch)
        diverted_by = pool / cadres.size * share
        diverted = float(diverted_by.sum())
        ring[s.slot] = diverted_by
        gain = np.zeros(n)
        np.add.at(gain, cadres, 0.5 * diverted_by)
        for c, kin in enumerate(s.cadre_kin_lists):
            if kin.size:
                gain[kin] += 0.5 * diverted_by[c] / kin.size
            else:
                gain[cadres[c]] += 0.5 * diverted_by[c]
        s.other_transfer_hist[s.slot] += gain
        s.diverted_hist[s.slot] = gain
        s.diverted_received += gain
        rest = pool - diverted
        fav = p.amount_favoritism * (1.0 - s.supervision_effect())
        w = 1.0 + fav * s.fav_weight[reg]
        aid = rest * w / w.sum()
        s.aid_hist[s.slot, reg] += aid
        s.aid_received[reg] += aid
        f["diverted"], f["delivered"] = diverted, rest
        s.cash_fund = 0.0
    else:
        s.cash_fund = pool

    # detection: a supervising team catches this month's diversion; an audit, the year's
    caught = np.zeros(cadres.size)
    if s.supervising:
        caught += np.where(team_finds, ring[s.slot], 0.0)
        ring[s.slot] = np.where(team_finds, 0.0, ring[s.slot])
    if audit_now:
        found = np.where(audit_finds, ring.sum(axis=0), 0.0)
        caught += found
        ring[:, audit_finds] = 0.0
    if caught.any():
        penalty = caught * (1.0 + p.sanction)
        np.add.at(s.other_transfer_hist[s.slot], cadres, -penalty)
        np.add.at(s.diverted_received, cadres, -penalty)
        # a material finding (at least one yuan) is a detection: it is counted, and the
        # sanctioned cadre is deterred (greed halves); trifles are recovered all the same
        material = caught >= MATERIAL_YUAN
        s.committee.greed[material] *= 0.5
        s.committee.times_caught[material] += 1
        s.detected_diversions += int(material.sum())
        f["recovered"] = float(penalty.sum())
        s.cash_fund += f["recovered"]
