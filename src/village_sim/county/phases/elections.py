"""Elections for a county (mirrors :func:`village_sim.mechanisms.elections.hold_election`).

Every village's committee draws one number per cadre at every review (its ``committee``
stream, common random numbers), whether or not it holds an election: one generator call per
village (D3). Whether a village holds an election, and its turnover, are worked out from its
numbers, for all villages at once. The villages whose elections replace cadres seat them as
the survey's accountability does (:func:`village_sim.county.phases.turnover.replace_cadres`:
the newcomers drawn village after village on each committee's stream, ``choice`` without
replacement, weighted, then greed and misperception; the cadre, kin and favour columns of all
those villages rebuilt at once). Until 2026-12-04 each village seated them with its own
``elections.replace_cadres``, about 0.1 ms a village (20-25 ms in an election year at 200
villages); the draws and the seats are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.county.phases import turnover
from village_sim.county.phases.draws import random_each
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
    mean_trust = e.segments.exact_sum(e.column("trust")) / e.segments.sizes
    # min(1, turnover) as Python's min takes it
    rate = P("election_turnover") * distrust(mean_trust, P("reference_trust"))
    rate = np.where(rate < 1.0, rate, 1.0)
    turnover.replace_cadres(e, holding, u < rate[cad.village])
    e.cadres.refresh()
