"""Visit requests for a county (mirrors :func:`village_sim.mechanisms.visits.request`).

The month's visits themselves are still each village's own phase (``PER_VILLAGE_PHASES`` of
:mod:`village_sim.county.engine`); what the yearly review queues for them is queued here, in
every village at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["request"]


def request(e: StackedVillages, households: np.ndarray, purpose: int) -> None:
    """Queue visits of the ``households`` (a mask) where a team is present.

    An earlier request keeps its place in the queue.
    """
    active = np.array([v.team_active for v in e.villages], dtype=bool)
    households = households & active[e.segments.village]
    if not households.any():
        return
    c = e.stack.columns
    c["pending_since"][households] = np.minimum(c["pending_since"][households], e.month)
    c["pending_purpose"][households] |= purpose
