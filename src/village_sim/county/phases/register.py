"""The register's arithmetic for a county (mirrors :mod:`village_sim.mechanisms.register`).

Each village's quota, the lowest-k selection of the register (``lowest``: the first ``k`` of a
stable sort by score among the candidates, :meth:`village_sim.segments.Segments.first_k`, the
set ``register.lowest`` is defined to return for one village: ties in household order, NaN
last), putting households back and logging register changes — in every village at once, each
village's numbers its own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms.register import change_codes
from village_sim.state import NEVER

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["Quotas", "judged_poor", "log_changes", "lowest", "poorest_within_quota", "put_back",
           "quotas"]


class Quotas:
    """Each village's quota this year (``register.quota_count``).

    Attributes:
        capped: Whether the village's register is capped (``quota_control``).
        k: The cap (0 where there is none: read ``capped`` first).
    """

    def __init__(self, capped: np.ndarray, k: np.ndarray):
        self.capped = capped
        self.k = k


def quotas(e: StackedVillages) -> Quotas:
    """The quota of every village (``register.quota_count`` of each, the same integers).

    From the villages' parameter arrays and the poor share each village's last survey found:
    the share ``quota`` (``quota_schedule = "falling"``: never above the survey's share, once
    there is one) times the village's households, rounded half to even as Python's ``round``.
    """
    P = e.params
    capped = P("quota_control").astype(bool)
    share = P("quota").astype(np.float64)
    falling = P.derived("quota_falling", lambda p: p.quota_schedule == "falling").astype(bool)
    if falling.any():
        found = np.fromiter((v.survey.get("survey_poor_share", math.nan) for v in e.villages),
                            dtype=np.float64, count=len(e.villages))
        lower = falling & ~np.isnan(found) & (found < share)  # min(share, found)
        share = np.where(lower, found, share)
    k = np.where(capped, np.rint(share * e.segments.sizes), 0.0).astype(np.int64)
    return Quotas(capped, k)


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


def poorest_within_quota(e: StackedVillages, candidates: np.ndarray,
                         estimate: np.ndarray) -> np.ndarray:
    """The candidates each village's quota still has room for, poorest by ``estimate`` first.

    Args:
        e: The villages.
        candidates: A mask over the stacked households.
        estimate: An estimate of every household (read where ``candidates``).

    Returns:
        The mask of those within the quota: the first by a stable sort of the estimates, as
        ``register.poorest_within_quota`` (all of them in a village without a quota).
    """
    seg = e.segments
    quota = quotas(e)
    room = np.where(quota.capped, quota.k, seg.n)
    room = np.maximum(0, room - seg.count(e.stack.columns["registered"]))
    return seg.first_k(room, estimate, among=candidates)


def put_back(e: StackedVillages, households: np.ndarray) -> None:
    """Re-register the households of the mask ``households`` (their exit is undone)."""
    c = e.stack.columns
    c["registered"][households] = True
    c["restored_at_recheck"][households] = True
    c["exit_month"][households] = NEVER


def log_changes(e: StackedVillages, actor: int,
                changes: list[tuple[np.ndarray, int, int]]) -> None:
    """Log register changes made by ``actor`` this month in each village's decision log.

    ``changes``: (stacked households, as a mask or indices; outcome, reason) each, as
    ``register.log_changes`` takes (households, outcome, reason) of one village: one block of
    the village's log per village with a change, in household order.
    """
    mask, outcome, reason = change_codes(e.segments.n, changes)
    e.log(mask, (e.month - 1) // 12 + 1, 0, actor, outcome, reason)
