"""The register's arithmetic shared by identification, appraisal and re-check. ODD §7.3."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from village_sim.state import VillageState


def quota_count(s: VillageState) -> int | None:
    """The most households the register may hold (规模控制), or None without a quota."""
    return int(round(s.p.quota * s.n)) if s.p.quota_control else None


def lowest(score: np.ndarray, candidates: np.ndarray, k: int | None) -> np.ndarray:
    """Boolean mask of the ``k`` candidates with the lowest score (all below 1 if k None)."""
    mask = np.zeros(score.size, dtype=bool)
    idx = np.flatnonzero(candidates)
    if k is None:
        mask[idx[score[idx] < 1.0]] = True
        return mask
    k = min(k, idx.size)
    if k > 0:
        mask[idx[np.argsort(score[idx], kind="stable")[:k]]] = True
    return mask
