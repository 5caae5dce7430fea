"""Allocation for a county (mirrors :func:`village_sim.mechanisms.allocation.run`).

Budgets released, the cadres' diversion shares (deterrence, all cadres of the county at once),
takings paid out to cadres and their kin, the rest paid to each village's register, and the
year's audit in the villages that hold one (:func:`audit_accounts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.county.books import CHANNEL, FLOW, MEMO
from village_sim.county.phases import deterrence
from village_sim.county.phases.draws import kernels, typed_streams
from village_sim.mechanisms import allocation
from village_sim.mechanisms import deterrence as deterrence_rules
from village_sim.mechanisms.deterrence import CHANNELS, material
from village_sim.segments import Segments

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def pay_out_takings(e: StackedVillages, taken_by: np.ndarray, slot: int,
                    villages: np.ndarray | None = None) -> None:
    """Diverted money to each cadre's household and its kin (``allocation.pay_out_takings``).

    Args:
        e: The villages, with ``e.cadres`` up to date.
        taken_by: What each cadre of the county took (``e.cadres``' order).
        slot: This month's slot of the 12-month histories.
        villages: Only these villages' households are paid (default: every village's; a
            village whose cadres took nothing gains nothing either way). Each committee's
            audit trail is the caller's to write.
    """
    cad = e.cadres
    to_kin = e.params("diverted_to_kin_share")[cad.village]
    # each household's gains added in the village's order, from 0: its cadre's own part,
    # then the kin parts cadre after cadre (bincount adds in input order)
    gain = np.bincount(np.concatenate([cad.household, cad.kin_pair_household]),
                       np.concatenate([(1.0 - to_kin) * taken_by,
                                       (to_kin * taken_by / cad.kin_parts)[cad.kin_pair_cadre]]),
                       minlength=e.segments.n)
    cols = e.stack.columns
    compiled = kernels(e)
    if villages is None and compiled is not None:  # the same additions, in one pass
        compiled.pay_takings(gain, slot, cols["other_transfer_hist"], cols["diverted_hist"],
                             cols["diverted_to"], cols["diverted_received"])
        return
    if villages is None:
        cols["other_transfer_hist"][slot] += gain
        cols["diverted_hist"][slot] += gain
        cols["diverted_to"] |= gain != 0.0
        cols["diverted_received"] += gain
        return
    here = villages[e.segments.village]
    gain = gain[here]
    cols["other_transfer_hist"][slot, here] += gain
    cols["diverted_hist"][slot, here] += gain
    cols["diverted_to"][here] |= gain != 0.0
    cols["diverted_received"][here] += gain


def run(e: StackedVillages) -> None:
    """Release, divert, pay and audit in every village (as each village's own phase)."""
    vs = e.villages
    if e.decided_otherwise(allocation.run, "audit", "diversion", "aid"):  # another rule (D6)
        return
    P, seg, cad = e.params, e.segments, e.cadres
    month = int(vs[0].steps)
    slot = month % 12
    cash, measure_fund, project_fund = (e.gather(k) for k in ("cash_fund", "measure_fund",
                                                               "project_fund"))
    carried_in = cash + measure_fund + project_fund
    base = P("budget_per_household") * seg.sizes / 12.0 * e.gather("budget_factor")
    window = e.team_window_open()
    active = e.team_active()
    mobilizing = P("resource_mobilization").astype(bool) & window
    mobilized = np.where(mobilizing, P("mobilization") * base + P("mobilization_yuan") / 12.0,
                         0.0)
    released = base + mobilized
    team_size = np.array([v.team.size for v in vs], dtype=np.float64)
    staff = np.where(active, P("team_cost") * team_size, 0.0) + P("helper_cost") * e.gather(
        "n_helpers")
    measure_in = np.where(P("household_measures").astype(bool), P("measure_share") * released,
                          0.0)
    project_in = np.where(P("development_projects").astype(bool),
                          P("project_share") * released, 0.0)
    measure_fund = measure_fund + measure_in
    project_fund = project_fund + project_in
    pool = cash + released - measure_in - project_in

    # the upper levels' decision and the cadres' audit draws, every month (as each village)
    compiled = kernels(e)
    if compiled is not None:  # random() then random(cadres): one block of 1 + cadres each
        first = cad.segments.offsets[:-1] + np.arange(len(vs))
        u = np.empty(len(vs) + cad.segments.n)
        compiled.random_blocks(typed_streams(e, "upper"), np.arange(len(vs)), first,
                               cad.segments.offsets[1:] + np.arange(1, len(vs) + 1), u)
        draws, audit_u = u[first], np.delete(u, first)
    else:
        draws = np.empty(len(vs))
        audit_u = np.empty(cad.segments.n)
        for i, v in enumerate(vs):  # random() then random(cadres): one call of 1 + cadres
            b = cad.segments.block(i)
            u = v.streams["upper"].random(1 + b.stop - b.start)
            draws[i] = u[0]
            audit_u[b] = u[1:]
    decided = (month % 12 == 0) & (draws < P("audit_probability"))

    # deterrence: every cadre's choice in every channel (deterrence.update_channels)
    cv = cad.village
    choice, risks = deterrence.choose(e)
    share = choice.share

    # takings, and the rest paid to the register (villages with a register and money)
    registered = e.column("registered")
    cols = e.stack.columns
    if compiled is not None:  # the register's three counts in one pass
        counts = np.empty((len(vs), 3), dtype=np.int64)
        compiled.register_counts(seg.offsets, registered, cols["fav_weight"],
                                 cols["favoured_entry"], counts)
        listed, listed_favoured, entries_listed = counts.T
    else:
        listed = seg.count(registered)
        listed_favoured = seg.count(registered & (cols["fav_weight"] > 0))
        entries_listed = seg.count(cols["favoured_entry"] & registered)
    paying = (listed > 0) & (pool > 0)
    taken_by = np.where(paying[cv], pool[cv] / cad.size[cv] * share, 0.0)
    diverted = cad.segments.exact_sum(taken_by)
    pay_out_takings(e, taken_by, slot)
    rest = pool - diverted
    # amount favoritism at this month's intensity (deterrence, just chosen)
    fav = P("amount_favoritism") * choice.realised["amount"]
    if paying.any() and compiled is not None:  # the same weights, sums and aid, in one loop
        compiled.pay_register(seg.offsets, registered, paying, fav, cols["fav_weight"], rest,
                              slot, cols["aid_hist"], cols["aid_received"])
    elif paying.any():
        paid = registered & paying[seg.village]
        reg = np.flatnonzero(paid)
        reg_village = seg.village[reg]
        w = 1.0 + fav[reg_village] * cols["fav_weight"][reg]
        w_sum = np.ones(len(vs))
        w_sum[paying] = Segments(seg.count(paid)[paying]).exact_sum(w)
        aid = rest[reg_village] * w / w_sum[reg_village]
        cols["aid_hist"][slot, reg] += aid
        cols["aid_received"][reg] += aid
    exposed_div = cad.segments.count(material(taken_by)).astype(np.float64)
    exposed_amount = paying & (fav > 0) & (listed_favoured > 0)
    exposed_reg = entries_listed.astype(np.float64)

    audited = (P("upper_audits").astype(bool) & decided) | e.gather("force_audit", bool)
    # the books, every village at once (views of each village's own, county/books.py)
    books = e.books
    flows = books.flows
    flows[:, FLOW["carried_in"]] = carried_in
    flows[:, FLOW["released"]] = released
    flows[:, FLOW["mobilized"]] = mobilized
    flows[:, FLOW["staff_funding"]] = staff
    flows[:, FLOW["staff_costs"]] = staff
    books.intensity[...] = np.column_stack([choice.realised[c] for c in CHANNELS])
    flows[paying, FLOW["diverted"]] = diverted[paying]
    flows[paying, FLOW["delivered"]] = rest[paying]
    books.exposure[paying, CHANNEL["diversion"]] += exposed_div[paying]
    books.exposure[paying & exposed_amount, CHANNEL["amount"]] += 1.0
    books.memo[paying, MEMO["divertible"]] += pool[paying]
    books.memo[paying, MEMO["reported_spent"]] += pool[paying]
    books.exposure[:, CHANNEL["registration"]] += exposed_reg
    # the funds (the villages' numbers, county/books.py), the cadres' choices and this
    # month's slot of each committee's takings (Cadres: from 0, as the village opens it when
    # the upper levels draw, then this month's takings added; nothing reads the slot in
    # between)
    e.scatter("measure_fund", measure_fund)
    e.scatter("project_fund", project_fund)
    e.scatter("cash_fund", np.where(paying, 0.0, pool))
    e.scatter("force_audit", np.zeros(len(vs)))
    cad.write_choices(diversion_inclination=choice.inclination,
                      diversion_risk=risks["diversion"], diversion_share=share)
    # the slot in every committee's ring (views of the county's buffer, Cadres): 0.0, then
    # the paying villages' takings added to it
    at = cad.ring_places(slot)
    cad.ring_buffer[at] = 0.0
    cad.ring_buffer[at[paying[cv]]] += taken_by[paying[cv]]
    if audited.any():
        audit_accounts(e, audited, audit_u, share)


def audit_accounts(e: StackedVillages, audited: np.ndarray, audit_u: np.ndarray,
                   share: np.ndarray) -> None:
    """``allocation.audit_accounts`` in the villages ``audited``, at once.

    The accounts each village examines (its rule's choice, ``allocation.examined_accounts``:
    the default draws only where the budget is short), each cadre's takings of the last 12
    months (its committee's own sum, as the village sums them: the ring's memory layout decides
    the order), found with probability ``detection`` times the size factor of its share taken
    this month (``share``, per cadre), and what is found repaid and fined for all those
    villages at once (:func:`village_sim.county.phases.deterrence.punish`).
    """
    vs, P, cad = e.villages, e.params, e.cadres
    cb = cad.segments.offsets
    cv = cad.village
    examined = np.zeros(cad.segments.n, dtype=bool)
    for i in np.flatnonzero(audited).tolist():
        examined[int(cb[i]):int(cb[i + 1])] = allocation.examined_accounts(vs[i])
    held = np.zeros(cad.segments.n)
    mine = np.flatnonzero(audited[cv])
    held[mine] = cad.ring_sums(mine)  # each committee's own sums (Cadres.ring_sums)
    p_find = P("detection")[cv] * deterrence_rules.size_factor(
        np.maximum(share, numerics.TINY), P("detection_scale")[cv])
    found = examined & (audit_u < p_find) & (held > 0)
    deterrence.punish(e, found, held, by_check=False)
