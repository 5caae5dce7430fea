"""Elections for a county (mirrors :func:`village_sim.mechanisms.elections.hold_election`).

Every village's committee draws one number per cadre at every review (its ``committee``
stream, common random numbers), whether or not it holds an election: one generator call per
village (D3). Whether a village holds an election, and its turnover, are worked out from its
numbers. A village whose election replaces cadres seats them with its own
:func:`village_sim.mechanisms.elections.replace_cadres` — per village, because the
newcomers are drawn one village at a time (``choice`` without replacement, weighted; greed and
misperception) and seating them rebuilds the village's cadre, kin and favour columns; it
happens in election years only (every ``term_years``, default 3), and only where a seat
changes hands. The county's cadre arrays are rebuilt after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.county.phases.draws import random_each
from village_sim.mechanisms.elections import replace_cadres
from village_sim.mechanisms.trust import distrust

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["hold_election"]


def hold_election(e: StackedVillages) -> None:
    """At the yearly review of each ``term_years``-th year: every village elects its committee."""
    vs, P = e.villages, e.params
    e.cadres.refresh()  # cadres replaced after last month's survey
    cad = e.cadres
    # drawn every review (common random numbers)
    u = random_each(e, "committee", np.arange(len(vs)), cad.segments.sizes)
    year = (e.month - 1) // 12
    holding = P("elections").astype(bool) & (year > 0) & (year % P("term_years") == 0)
    if not holding.any():
        return
    # mean trust of each village, summed as its own np.mean sums
    mean_trust = (e.segments.exact_sum(e.column("trust")) / e.segments.sizes).tolist()
    for i in np.flatnonzero(holding).tolist():
        v = vs[i]
        p = v.p
        turnover = min(1.0, p.election_turnover * distrust(mean_trust[i], p.reference_trust))
        replace_cadres(v, u[cad.segments.block(i)] < turnover, v.committee.stream)
    e.cadres.refresh()
