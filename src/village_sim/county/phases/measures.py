"""Household-specific measures for a county (mirrors :func:`village_sim.mechanisms.measures.run`).

Which eligible households get a measure is each committee's ``permutation`` of its village's
eligible households (one call per village that has eligible households and money for a
measure, D3); the committee's diagnoses of the chosen households it has not diagnosed and the
carry-through draws follow on the same stream, call for call, village by village. The rest —
diagnoses named, returns added, illness cured, the records — is done for all villages at once;
each village's books (its measure fund, flows and counts) are its own Python numbers, written
village by village.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import named_cause
from village_sim.codes import Actor
from village_sim.county.books import FLOW, MEMO
from village_sim.county.phases.draws import diagnosis_draws, permutation_each, random_each
from village_sim.segments import Segments
from village_sim.village import Cause

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def run(e: StackedVillages) -> None:
    """Diagnosis of causes and household-specific measures (因户施策), in every village."""
    P = e.params
    on = P("household_measures").astype(bool)
    if not on.any():
        return
    vs, seg, c = e.villages, e.segments, e.stack.columns
    month = int(vs[0].steps)
    eligible = c["registered"] & (month - c["measure_month"] >= 12) & on[seg.village]
    idx = np.flatnonzero(eligible)
    count = seg.count(eligible)
    # the committee's choice: a permutation of the village's eligible households, cut at what
    # its fund pays for (the village's own float division)
    candidates = np.flatnonzero(count)  # none eligible (or no measures): no draw
    fund = e.numbers.column("measure_fund")  # the villages' numbers (county/books.py)
    # Python's float floor division, as numpy's: fmod, then the quotient floored
    affordable = np.floor_divide(fund[candidates],
                                 P("measure_cost")[candidates]).astype(np.int64)
    rows = candidates[affordable > 0]
    if rows.size == 0:
        return
    affordable = affordable[affordable > 0]
    pool = idx[np.isin(seg.village[idx], rows)]  # the drawing villages' eligible, in order
    shuffled = permutation_each(e, "committee", rows, pool, count[rows])
    kept = Segments(count[rows]).local_index() < np.repeat(affordable, count[rows])
    chosen = shuffled[kept]  # village after village, each in its committee's order
    given = np.minimum(count[rows], affordable)
    drawing = [vs[i] for i in rows.tolist()]
    within = Segments(given)  # the chosen, by drawing village
    cv = seg.village[chosen]
    missing_of_chosen = c["diagnosis"][chosen] == Cause.NONE
    missing = chosen[missing_of_chosen]
    right_u, shift = diagnosis_draws(e, "committee", rows, within.count(missing_of_chosen))
    carry_u = random_each(e, "committee", rows, given)

    right = right_u < P("committee_diagnosis_accuracy")[seg.village[missing]]
    c["diagnosis"][missing] = named_cause(c["cause"][missing], right, shift)
    c["diagnosed_by"][missing] = Actor.COMMITTEE
    carried_through = (c["helper"][chosen] >= 0) | (carry_u < P("carry_through")[cv])
    cause = c["cause"][chosen]
    matched = (c["diagnosis"][chosen] == cause) & carried_through
    ret = np.where(matched, P("matched_return")[cv], P("mismatched_return")[cv])
    c["measure_income"][chosen] += ret * P("measure_cost")[cv]
    c["sick"][chosen[matched & (cause == Cause.ILLNESS)]] = False
    c["measure_month"][chosen] = month
    c["measures_received"][chosen] += 1
    c["diagnosis"][chosen] = Cause.NONE  # next year's measure needs a new diagnosis

    # what each drawing village spent (its own product of count and cost), in its books
    spent = given.astype(np.float64) * P("measure_cost")[rows]
    e.books.flows[rows, FLOW["measures_spent"]] = spent
    e.books.memo[rows, MEMO["reported_spent"]] += spent
    fund[rows] -= spent
    for v, k, n_matched in zip(drawing, given.tolist(), within.count(matched).tolist(),
                               strict=True):
        v.measures_matched += n_matched
        v.measures_given += k
