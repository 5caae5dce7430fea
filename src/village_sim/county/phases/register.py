"""The register's arithmetic for a county (mirrors :mod:`village_sim.mechanisms.register`).

Each village's quota, and the lowest-k selection of the register, in every village at once:
``lowest`` is the first ``k`` of a stable sort by score among the candidates
(:meth:`village_sim.segments.Segments.first_k`), the set ``register.lowest`` is defined to
return for one village (ties in household order, NaN last).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms.register import quota_count

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["Quotas", "judged_poor", "lowest", "quotas"]


class Quotas:
    """Each village's quota this year (``register.quota_count``).

    Attributes:
        capped: Whether the village's register is capped (``quota_control``).
        k: The cap (0 where there is none: read ``capped`` first).
    """

    def __init__(self, counts: list[int | None]):
        self.capped = np.array([k is not None for k in counts], dtype=bool)
        self.k = np.array([0 if k is None else k for k in counts], dtype=np.int64)


def quotas(e: StackedVillages) -> Quotas:
    """The quota of every village (computed by the village's own ``quota_count``)."""
    return Quotas([quota_count(v) for v in e.villages])


def judged_poor(e: StackedVillages, score: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``register.judged_poor`` with each village's ``quota_mode``."""
    fill = e.params.derived("quota_fill", lambda p: p.quota_mode == "fill").astype(bool)
    return candidates & ((score < 1.0) | fill[e.segments.village])


def lowest(e: StackedVillages, score: np.ndarray, candidates: np.ndarray, capped: np.ndarray,
           k: np.ndarray) -> np.ndarray:
    """``register.lowest`` in every village: the ``k[v]`` candidates with the lowest score.

    Where a village has no cap (``capped`` false): its candidates scoring below 1.
    """
    seg = e.segments
    out = candidates & (score < 1.0) & ~capped[seg.village]
    among = candidates & capped[seg.village]
    if among.any():
        out |= seg.first_k(k, score, among=among)
    return out
