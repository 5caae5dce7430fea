"""Norm internalisation: what a watched year leaves in a cadre. ODD §7.4.

Sources: the debate on whether monitoring changes norms or only behaviour under watch
(crowding-in of honesty, e.g. Frey 1997; its absence in audit-removal studies such as
Olken 2007's follow-ups). Off by default (``internalisation_rate = 0``): deterrence then lasts
only as long as the detections cadres saw, and what remains after a team leaves follows from
this parameter, not from an assumption.

At each yearly review, a cadre who was watched for the whole last year — a team was in the
village all 12 months — lowers its greed for good, to the share ``internalised_greed`` (half)
of it, with probability ``internalisation_rate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from village_sim.state import VillageState

__all__ = ["internalise"]

def internalise(s: VillageState) -> None:
    """The yearly review: watched cadres may internalise honesty (see the module docstring)."""
    rng = s.committee.stream
    u = rng.random(s.committee.cadres.size)  # drawn every review (common random numbers)
    if s.p.internalisation_rate <= 0 or s.steps <= 12:
        return
    if s.team_months_last_year < 12:
        return
    converts = u < s.p.internalisation_rate
    s.committee.greed[converts] *= s.p.internalised_greed
