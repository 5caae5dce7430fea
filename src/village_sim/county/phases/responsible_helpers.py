"""Responsible helpers for a county (mirrors :mod:`village_sim.mechanisms.responsible_helpers`).

Every village with helpers and a register draws its helpers' order (``permutation``) and the
diagnoses of the registered households nobody has diagnosed from its own ``helpers`` stream,
one generator call per draw and village (D3); the assignment and the diagnoses themselves are
worked out for all villages at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import diagnosis_from_draws
from village_sim.codes import Actor
from village_sim.village import N_CAUSES, Cause

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["assign"]


def assign(e: StackedVillages) -> None:
    """Give each registered household of every village a responsible helper (帮扶责任人)."""
    vs, seg, P = e.villages, e.segments, e.params
    c = e.stack.columns
    helper, diagnosis = c["helper"], c["diagnosis"]
    helper[:] = -1
    on = P("helpers").astype(bool)
    registered = c["registered"] & on[seg.village]
    n_reg = seg.count(registered)
    undiagnosed = registered & (diagnosis == Cause.NONE)
    n_undiagnosed = seg.count(undiagnosed).tolist()
    assigning = np.flatnonzero(n_reg > 0).tolist()
    orders, u, shift = [], [], []
    offsets = e.stack.offsets
    for i in assigning:
        rng = vs[i].streams["helpers"]
        b = seg.block(i)
        orders.append(rng.permutation(np.flatnonzero(registered[b])) + offsets[i])
        u.append(rng.random(n_undiagnosed[i]))
        shift.append(rng.integers(1, N_CAUSES, size=n_undiagnosed[i]))
    n_helpers = np.zeros(len(vs), dtype=np.int64)
    n_helpers[assigning] = np.ceil(n_reg[assigning] / P("helper_ratio")[assigning])
    for v, count in zip(vs, n_helpers.tolist(), strict=True):
        v.n_helpers = count
    if not assigning:
        return
    order = np.concatenate(orders)
    # each household's place in its village's order, as arange(order.size) within the village
    village_of = seg.village[order]
    starts = np.concatenate([[0], np.cumsum(n_reg)])[village_of]
    helper[order] = (np.arange(order.size) - starts) % n_helpers[village_of]
    idx = np.flatnonzero(undiagnosed)
    diagnosis[idx] = diagnosis_from_draws(
        c["cause"][idx], P.of_households("helper_diagnosis_accuracy")[idx], np.concatenate(u),
        np.concatenate(shift))
    c["diagnosed_by"][idx] = Actor.HELPER
