"""The register's arithmetic shared by identification, appraisal and re-check. ODD §7.3."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from village_sim.state import NEVER

if TYPE_CHECKING:
    from village_sim.state import VillageState


def quota_count(s: VillageState) -> int | None:
    """The most households the register may hold this year (规模控制), or None without a quota.

    ``quota_schedule = "falling"``: the share is the poor share the last third-party survey
    found in its sample (never above ``quota``; ``quota`` before the first survey).
    """
    p = s.p
    if not p.quota_control:
        return None
    share = p.quota
    if p.quota_schedule == "falling":
        found = s.survey.get("survey_poor_share", math.nan)
        if not math.isnan(found):  # a survey has been made
            share = min(share, found)
    return int(round(share * s.n))


def judged_poor(score: np.ndarray, candidates: np.ndarray, mode: str) -> np.ndarray:
    """The candidates a lister may put on the register under ``quota_mode`` ``mode``.

    ``"cap"``: only those it judges poor on the ranking it shows (score below 1, in poverty
    lines); ``"fill"``: every candidate (the quota is filled, poor or not).
    """
    return candidates & (score < 1.0) if mode == "cap" else candidates


def lowest(score: np.ndarray, candidates: np.ndarray, k: int | None) -> np.ndarray:
    """Boolean mask of the ``k`` candidates with the lowest score (all below 1 if k None)."""
    mask = np.zeros(score.size, dtype=bool)
    idx = np.flatnonzero(candidates)
    if k is None:
        mask[idx[score[idx] < 1.0]] = True
        return mask
    k = min(k, idx.size)
    if k == idx.size:
        mask[idx] = True
    elif k > 0:
        # the first k of a stable sort: all scores below the k-th smallest, then the ties
        # with it in index order; only which, not their order, matters here
        sc = score[idx]
        kth = np.partition(sc, k - 1)[k - 1]
        if np.isnan(kth):  # NaN scores sort last: leave it to the stable sort
            mask[idx[np.argsort(sc, kind="stable")[:k]]] = True
            return mask
        below = sc < kth
        mask[idx[below]] = True
        mask[idx[np.flatnonzero(sc == kth)[:k - int(np.count_nonzero(below))]]] = True
    return mask


def poorest_within_quota(s: VillageState, candidates: np.ndarray,
                         estimate: np.ndarray) -> np.ndarray:
    """The candidates the quota still has room for, poorest (by ``estimate``) first."""
    k = quota_count(s)
    if k is None:
        return candidates
    room = max(0, k - int(s.registered.sum()))
    return candidates[np.argsort(estimate, kind="stable")[:room]]


def put_back(s: VillageState, households: np.ndarray) -> None:
    """Re-register households declared out while still poor (their exit is undone)."""
    s.registered[households] = True
    s.restored_at_recheck[households] = True
    s.exit_month[households] = NEVER


def log_changes(s: VillageState, actor: int,
                changes: list[tuple[np.ndarray, int, int]]) -> None:
    """Log register changes made by ``actor`` this month: (households, outcome, reason) each."""
    mask, outcome, reason = change_codes(s.n, changes)
    s.log(mask, (s.steps - 1) // 12 + 1, 0, actor, outcome, reason)


def change_codes(n: int, changes: list[tuple[np.ndarray, int, int]]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of ``n`` households changed, with each one's outcome and reason code.

    ``changes``: (households, outcome, reason) each, indices or masks; a later entry names a
    household's outcome over an earlier one.
    """
    mask = np.zeros(n, dtype=bool)
    outcome = np.zeros(n, dtype=np.int8)
    reason = np.zeros(n, dtype=np.int8)
    for households, out, why in changes:
        mask[households] = True
        outcome[households] = out
        reason[households] = why
    return mask, outcome, reason
