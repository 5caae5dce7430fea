"""Trust: households judge fairness from what they see among kin and friends. ODD §7.9."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.state import MATERIAL_YUAN

if TYPE_CHECKING:
    import scipy.sparse as sp

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
    count, dst = _ties_of(s.network, reg)
    richer_listed = ~s.registered[dst] & (np.repeat(y[reg], count) > y[dst])
    grievances = np.bincount(dst[richer_listed], minlength=s.n).astype(np.float64)
    # only households that ever received diverted money have non-zero columns to sum (take
    # keeps the rows' layout, so each column is summed month after month as in a full sum)
    ever = np.flatnonzero(s.diverted_to)
    got_diverted = ever[s.diverted_hist.take(ever, axis=1).sum(axis=0) >= MATERIAL_YUAN]
    if got_diverted.size:
        # ties that received diverted money (the network is symmetric: their rows' entries)
        grievances += np.bincount(_ties_of(s.network, got_diverted)[1], minlength=s.n)
    grievances += (y < s.p.poverty_line) & ~s.registered & s.identified
    fairness = 1.0 - np.minimum(1.0, grievances / 3.0)
    s.trust += s.p.trust_rate * (fairness - s.trust)


def _ties_of(network: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many ties each of ``rows`` has, and where they lead (row after row, CSR order)."""
    start = network.indptr[rows]
    count = network.indptr[rows + 1] - start
    # each row's entries sit at start, start + 1, ...: shift a running index row by row
    shift = np.repeat(start - (np.cumsum(count) - count), count)
    return count, network.indices[shift + np.arange(shift.size)]
