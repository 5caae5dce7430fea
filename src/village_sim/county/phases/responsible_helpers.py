"""Responsible helpers for a county.

Mirrors :func:`village_sim.mechanisms.responsible_helpers.assign`.

Each village's ``helpers`` stream permutes its registered households (one call per village
with a register) and diagnoses those not yet diagnosed (``random`` and ``integers``, one call
each per village with any); the helpers' numbers and the diagnoses are written for all those
villages at once.
"""

from __future__ import annotations

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
    seg, P, c = e.segments, e.params, e.stack.columns
    chosen = np.flatnonzero(villages).tolist()
    if not chosen:
        return
    c["helper"][villages[seg.village]] = -1
    helpers = e.numbers.column("n_helpers")
    helpers[villages] = 0
    on = villages & P("helpers").astype(bool)
    registered = c["registered"] & on[seg.village]
    reg = np.flatnonzero(registered)
    if reg.size == 0:
        return
    counts = seg.count(registered)
    drawing = np.flatnonzero(counts)
    # math.ceil(k / helper_ratio): the same division, its ceiling exact
    n_helpers = np.ceil(counts[drawing] / P("helper_ratio")[drawing]).astype(np.int64)
    helpers[drawing] = n_helpers
    order = permutation_each(e, "helpers", drawing, reg, counts[drawing])
    within = Segments(counts[drawing])
    c["helper"][order] = within.local_index() % n_helpers[within.village]
    # helpers have no local interests and diagnose well (阮荣平 2021)
    undiagnosed_of_reg = c["diagnosis"][reg] == Cause.NONE
    undiagnosed = reg[undiagnosed_of_reg]
    right_u, shift = diagnosis_draws(e, "helpers", drawing, within.count(undiagnosed_of_reg))
    right = right_u < P("helper_diagnosis_accuracy")[seg.village[undiagnosed]]
    c["diagnosis"][undiagnosed] = named_cause(c["cause"][undiagnosed], right, shift)
    c["diagnosed_by"][undiagnosed] = Actor.HELPER
