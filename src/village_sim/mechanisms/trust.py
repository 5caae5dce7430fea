"""Trust: households judge fairness from what they see among kin and friends. ODD §7.9."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.state import MATERIAL_YUAN

if TYPE_CHECKING:
    from village_sim.state import VillageState


def update(s: VillageState) -> None:
    """Phase 8: trust follows fairness as seen among kin and friends.

    A household compares itself with its ties. Each tie that is on the register while
    richer than the household (which is not), and each tie that received diverted money in
    the last year, is a grievance; being poor and left off is one too. Fairness is
    ``1 - min(1, grievances / 3)``, and trust moves ``trust_rate`` of the way toward it.
    """
    y = s.per_capita_income()
    reg = np.flatnonzero(s.registered)
    # only ties out of registered households can be grievances: walk those rows alone
    sub = s.network[reg]
    src = np.repeat(reg, np.diff(sub.indptr))
    dst = sub.indices
    richer_listed = ~s.registered[dst] & (y[src] > y[dst])
    grievances = np.bincount(dst[richer_listed], minlength=s.n).astype(np.float64)
    got_diverted = s.diverted_hist.sum(axis=0) >= MATERIAL_YUAN
    if got_diverted.any():
        grievances += s.network @ got_diverted.astype(np.float64)
    grievances += (y < s.p.poverty_line) & ~s.registered & s.identified
    fairness = 1.0 - np.minimum(1.0, grievances / 3.0)
    s.trust += s.p.trust_rate * (fairness - s.trust)
