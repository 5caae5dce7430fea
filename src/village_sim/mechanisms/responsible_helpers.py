"""Responsible helpers (帮扶责任人): one per ``helper_ratio`` registered households. ODD §7.5."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import diagnose
from village_sim.codes import Actor
from village_sim.village import Cause

if TYPE_CHECKING:
    from village_sim.state import VillageState


def assign(s: VillageState) -> None:
    """Give each registered household a responsible helper (帮扶责任人)."""
    s.helper[:] = -1
    s.n_helpers = 0
    if not s.p.helpers:
        return
    reg = np.flatnonzero(s.registered)
    if reg.size == 0:
        return
    rng = s.streams["helpers"]
    order = rng.permutation(reg)
    s.n_helpers = math.ceil(reg.size / s.p.helper_ratio)
    s.helper[order] = np.arange(order.size) % s.n_helpers
    # helpers have no local interests and diagnose well (阮荣平 2021)
    undiagnosed = reg[s.diagnosis[reg] == Cause.NONE]
    s.diagnosis[undiagnosed] = diagnose(s.cause[undiagnosed], s.p.helper_diagnosis_accuracy, rng)
    s.diagnosed_by[undiagnosed] = Actor.HELPER
