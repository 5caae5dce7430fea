"""Norm internalisation for a county (mirrors :func:`village_sim.mechanisms.norms.internalise`).

Every cadre of the county draws its number (its village's ``committee`` stream, one generator
call per village, D3); where a village's cadres were watched all last year, those whose number
falls below ``internalisation_rate`` keep ``internalised_greed`` of their greed — all cadres at
once, in the county's array of greed, whose columns are the committees' own (``Cadres``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.county.phases.draws import random_each

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["internalise"]


def internalise(e: StackedVillages) -> None:
    """The yearly review: watched cadres may internalise honesty, in every village."""
    vs, P = e.villages, e.params
    e.cadres.refresh()
    cad = e.cadres
    # drawn every review (common random numbers)
    u = random_each(e, "committee", np.arange(len(vs)), cad.segments.sizes)
    rate = P("internalisation_rate")
    watched = (rate > 0) & (e.month > 12) & (e.gather("team_months_last_year", np.int64) >= 12)
    if not watched.any():
        return
    converts = (u < rate[cad.village]) & watched[cad.village]
    # the county's greed is every committee's own (Cadres: their arrays are views of it)
    cad.greed[converts] *= P("internalised_greed")[cad.village[converts]]
