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
from village_sim.county.phases.draws import diagnosis_draws, random_each
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
    bounds = np.concatenate([[0], np.cumsum(seg.count(eligible))]).tolist()
    # the committee's choice: a permutation of the village's eligible households, cut at what
    # its fund pays for (the village's own float division)
    parts, drawing, rows_of = [], [], []
    for i, v in enumerate(vs):
        lo, hi = bounds[i], bounds[i + 1]
        if hi == lo:  # no eligible household (or no measures in the village)
            continue
        affordable = int(v.measure_fund // v.p.measure_cost)
        if affordable == 0:
            continue
        parts.append(v.committee.stream.permutation(idx[lo:hi])[:affordable])
        drawing.append(v)
        rows_of.append(i)
    if not parts:
        return
    chosen = np.concatenate(parts)  # village after village, each in its committee's order
    given = [part.size for part in parts]
    within = Segments(np.array(given, dtype=np.int64))  # the chosen, by drawing village
    cv = seg.village[chosen]
    missing_of_chosen = c["diagnosis"][chosen] == Cause.NONE
    missing = chosen[missing_of_chosen]
    rngs = [v.committee.stream for v in drawing]
    right_u, shift = diagnosis_draws(rngs, within.count(missing_of_chosen).tolist())
    carry_u = random_each(rngs, given)

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
    rows = np.array(rows_of, dtype=np.int64)
    spent = np.array(given, dtype=np.float64) * P("measure_cost")[rows]
    e.books.flows[rows, FLOW["measures_spent"]] = spent
    e.books.memo[rows, MEMO["reported_spent"]] += spent
    for v, k, n_matched, cost in zip(drawing, given, within.count(matched).tolist(),
                                     spent.tolist(), strict=True):
        v.measures_matched += n_matched
        v.measures_given += k
        v.measure_fund -= cost
