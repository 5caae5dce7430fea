"""Responsible helpers for a county.

Mirrors :func:`village_sim.mechanisms.responsible_helpers.assign`.

Each village's ``helpers`` stream permutes its registered households (one call per village
with a register) and diagnoses those not yet diagnosed (``random`` and ``integers``, one call
each per village with any); the helpers' numbers and the diagnoses are written for all those
villages at once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import named_cause
from village_sim.codes import Actor
from village_sim.county.phases.draws import diagnosis_draws, permutation_each
from village_sim.segments import Segments
from village_sim.village import Cause

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["assign"]


def assign(e: StackedVillages, villages: np.ndarray) -> None:
    """Give each registered household a helper (帮扶责任人) in the villages flagged."""
    vs, seg, P, c = e.villages, e.segments, e.params, e.stack.columns
    chosen = np.flatnonzero(villages).tolist()
    if not chosen:
        return
    c["helper"][villages[seg.village]] = -1
    for i in chosen:
        vs[i].n_helpers = 0
    on = villages & P("helpers").astype(bool)
    registered = c["registered"] & on[seg.village]
    reg = np.flatnonzero(registered)
    if reg.size == 0:
        return
    counts = seg.count(registered)
    drawing = np.flatnonzero(counts)
    n_helpers = []
    for i, k in zip(drawing.tolist(), counts[drawing].tolist(), strict=True):
        v = vs[i]
        v.n_helpers = math.ceil(k / v.p.helper_ratio)
        n_helpers.append(v.n_helpers)
    order = permutation_each(e, "helpers", drawing, reg, counts[drawing])
    within = Segments(counts[drawing])
    c["helper"][order] = within.local_index() % np.array(n_helpers)[within.village]
    # helpers have no local interests and diagnose well (阮荣平 2021)
    undiagnosed_of_reg = c["diagnosis"][reg] == Cause.NONE
    undiagnosed = reg[undiagnosed_of_reg]
    right_u, shift = diagnosis_draws(e, "helpers", drawing, within.count(undiagnosed_of_reg))
    right = right_u < P("helper_diagnosis_accuracy")[seg.village[undiagnosed]]
    c["diagnosis"][undiagnosed] = named_cause(c["cause"][undiagnosed], right, shift)
    c["diagnosed_by"][undiagnosed] = Actor.HELPER
