"""Allocation (phase 4, monthly): the budget released, diverted, paid out and audited. ODD §7.4."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.mechanisms import deterrence, policies

if TYPE_CHECKING:
    from village_sim.state import VillageState


def pay_out_takings(s: VillageState, taken_by: np.ndarray) -> None:
    """Diverted money goes to each cadre's household and its kin (income to them).

    ``diverted_to_kin_share`` of it goes to the cadre's kin, the rest (all of it where the
    cadre has no kin) to its own household. It is booked in the audit trail (the committee's
    ring of the last 12 months).
    """
    cadres = s.committee.cadres
    s.committee.diverted_ring[s.slot] += taken_by
    to_kin = s.p.diverted_to_kin_share
    gain = np.zeros(s.n)
    np.add.at(gain, cadres, (1.0 - to_kin) * taken_by)
    for c, kin in enumerate(s.cadre_kin_lists):
        if kin.size:
            gain[kin] += to_kin * taken_by[c] / kin.size
        else:
            gain[cadres[c]] += to_kin * taken_by[c]
    s.other_transfer_hist[s.slot] += gain
    s.diverted_hist[s.slot] += gain
    s.diverted_to |= gain != 0.0
    s.diverted_received += gain


def run(s: VillageState) -> None:
    """Phase 4 (monthly): release the budget, let cadres divert, pay the register, audit.

    The cash (what is left after the measure and project funds take their shares) passes
    through the cadres' hands in equal parts; each takes the share it chooses (deterrence).
    The rest is paid to registered households, cadres' kin and friends weighted up by the
    amount favoritism the committee dares this month. At the end of each year upper levels
    audit the year's accounts with probability ``audit_probability`` (an instructor's "audit
    now" forces one): each cadre's takings of the last 12 months are found with probability
    ``detection`` (less for small takings), repaid and fined (deterrence.punish).
    """
    p, n, f = s.p, s.n, s.flows
    f["carried_in"] = s.cash_fund + s.measure_fund + s.project_fund
    base = p.budget_per_household * n / 12.0 * s.budget_factor
    mobilized = 0.0
    if p.resource_mobilization and s.team_window_open:
        # a share of the base budget, and a county team's money in yuan (0 by default)
        mobilized = p.mobilization * base + p.mobilization_yuan / 12.0
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
    # the upper levels' decision (policy ``audit``) is asked every month, so that its draws
    # are the same whatever the switches (common random numbers)
    audit_view = policies.AuditView(
        month=s.steps, reported_spent_12=float(s.flow_hist["reported_spent"].sum()),
        audit_probability=p.audit_probability)
    decided = bool(s.policies["audit"](audit_view, upper))
    audit_u = upper.random(cadres.size)
    s.committee.diverted_ring[s.slot] = 0.0
    deterrence.update_channels(s)
    if s.policies["diversion"] is policies.cadre_diversion:
        # the default rule is the one the channel update has just solved: reuse its shares
        share = s.diversion_share
    else:
        view = policies.DiversionView(
            inclination=s.diversion_inclination.copy(),
            risk=np.asarray(s.diversion_risk).copy(), sanction=p.sanction,
            detection_scale=p.detection_scale)
        share = np.asarray(s.policies["diversion"](view, s.committee.stream), dtype=np.float64)
    if share.shape != (cadres.size,) or not bool(np.all((share >= 0.0) & (share <= 1.0))):
        raise ValueError(f"policy 'diversion' returned {share!r}; allowed: one share in "
                         f"[0, 1] per cadre ({cadres.size})")
    s.diversion_share = share

    reg = np.flatnonzero(s.registered)
    if reg.size > 0 and pool > 0:
        taken_by = pool / cadres.size * s.diversion_share
        diverted = float(taken_by.sum())
        pay_out_takings(s, taken_by)
        rest = pool - diverted
        fav = p.amount_favoritism * s.channel_intensity["amount"]
        if s.policies["aid"] is policies.committee_aid:
            w = 1.0 + fav * s.fav_weight[reg]
        else:  # another rule (a person, in classroom mode) says how much each gets
            aid_view = policies.AidView(households=reg.copy(),
                                        estimate=s.committee.estimate[reg].copy(),
                                        fav_weight=s.fav_weight[reg].copy(), fund=rest,
                                        favoritism=fav)
            w = policies.check_weights("aid", s.policies["aid"](aid_view, s.committee.stream),
                                       reg.size)
        aid = rest * w / w.sum()
        s.aid_hist[s.slot, reg] += aid
        s.aid_received[reg] += aid
        f["diverted"], f["delivered"] = diverted, rest
        # what the cadres know they risk this month, watched or not (deterrence learns from it)
        deterrence.record_detections(s, "diversion", 0,
                                     float(np.sum(deterrence.material(taken_by))))
        if fav > 0 and bool(np.any(s.fav_weight[reg] > 0)):
            deterrence.record_detections(s, "amount", 0, 1.0)
        s.memo["divertible"] += pool
        s.memo["reported_spent"] += pool
        s.cash_fund = 0.0
    else:
        s.cash_fund = pool
    # entries listed by favoritism standing on the register this month
    deterrence.record_detections(s, "registration", 0,
                                 float(np.sum(s.favoured_entry & s.registered)))

    # the year's audit, at the end of each year (months 12, 24, ...); "audit now" at once
    audit = (p.upper_audits and decided) or s.force_audit
    s.force_audit = False
    if audit:
        audit_accounts(s, audit_u)


def examined_accounts(s: VillageState) -> np.ndarray:
    """The cadres' accounts an audit examines (policy ``accounts``, within its budget)."""
    budget = deterrence.audited_accounts(s.p)
    kin_listed = np.array([int(np.sum(s.registered[kin])) for kin in s.cadre_kin_lists],
                          dtype=np.int64)
    view = policies.AccountsView(budget=budget,
                                 times_caught=s.committee.times_caught.copy(),
                                 kin_listed=kin_listed)
    return policies.check_mask("accounts", s.policies["accounts"](view, s.streams["upper"]),
                               s.committee.cadres.size, at_most=budget, unit="accounts")


def audit_accounts(s: VillageState, audit_u: np.ndarray) -> None:
    """Upper levels audit the year's accounts, and punish what they find.

    The audit examines the accounts the upper levels choose (policy ``accounts``, within the
    budget ``audit_coverage``; every account by default); in each one examined the cadre's
    takings are found with probability ``detection`` (less for small takings; ``audit_u``:
    one uniform per cadre, drawn for every cadre whichever are examined).
    """
    p = s.p
    examined = examined_accounts(s)
    held = s.committee.diverted_ring.sum(axis=0)
    p_find = p.detection * deterrence.size_factor(
        np.maximum(s.diversion_share, numerics.TINY), p.detection_scale)
    found = examined & (audit_u < p_find) & (held > 0)
    deterrence.punish(s, found, held, by_check=False)
