"""The register's arithmetic for a county (mirrors :mod:`village_sim.mechanisms.register`).

Quotas, putting households back on the register and logging register changes, for households
of many villages at once, each village's numbers its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms.register import quota_count
from village_sim.state import NEVER

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["log_changes", "poorest_within_quota", "put_back"]


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
    quota = [quota_count(v) for v in e.villages]
    room = np.array([seg.n if k is None else k for k in quota], dtype=np.int64)
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

    ``changes``: (mask over the stacked households, outcome, reason) each, as
    ``register.log_changes`` takes (households, outcome, reason) of one village: one block of
    the village's log per village with a change, in household order.
    """
    seg = e.segments
    mask = np.zeros(seg.n, dtype=bool)
    outcome = np.zeros(seg.n, dtype=np.int8)
    reason = np.zeros(seg.n, dtype=np.int8)
    for households, out, why in changes:
        mask[households] = True
        outcome[households] = out
        reason[households] = why
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return
    month = int(e.villages[0].steps)
    year = (month - 1) // 12 + 1
    village = seg.village[idx]
    local = idx - seg.offsets[village]
    bounds = np.concatenate([[0], np.cumsum(seg.count(mask))]).tolist()
    for i in np.unique(village).tolist():
        lo, hi = bounds[i], bounds[i + 1]
        at = idx[lo:hi]
        e.villages[i]._log_blocks.append({
            "household_id": local[lo:hi], "year": np.full(hi - lo, year),
            "month": np.full(hi - lo, month),
            "proposed_by": np.full(hi - lo, 0, dtype=np.int8),
            "challenged_by": np.full(hi - lo, actor, dtype=np.int8),
            "outcome": outcome[at], "reason": reason[at],
        })
