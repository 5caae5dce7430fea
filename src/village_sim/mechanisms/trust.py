"""Trust: households judge fairness from what they see among kin and friends. ODD §7.9."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.state import MATERIAL_YUAN
from village_sim.village import ties_of

if TYPE_CHECKING:
    import scipy.sparse as sp

    from village_sim.state import VillageState


def update(s: VillageState) -> None:
    """Phase 8: trust follows fairness as seen among kin and friends.

    A household compares itself with its ties. Each tie that is on the register while
    richer than the household (which is not) is a grievance; being poor and left off is one
    too. Diverted money its ties received in the last 12 months is graded by its size: the
    total, over ``grievance_share`` of the household's own yearly income (market income and
    transfers), is that many grievances. Fairness is ``1 - min(1, grievances / threshold)``
    (``grievance_threshold``, 3), and trust moves ``trust_rate`` of the way toward it.
    """
    y = s.per_capita_income()
    grievances = richer_listed_ties(s.network, np.flatnonzero(s.registered), s.registered, y)
    # only households that ever received diverted money have non-zero columns to sum (take
    # keeps the rows' layout, so each column is summed month after month as in a full sum)
    ever = np.flatnonzero(s.diverted_to)
    if ever.size:
        received = s.diverted_hist.take(ever, axis=1).sum(axis=0)
        own_income = s.per_capita_income_post() * s.persons
        grievances += diversion_grievances(s.network, ever, received, own_income,
                                           s.p.grievance_share)
    grievances += (y < s.p.poverty_line) & ~s.registered & s.identified
    fairness = 1.0 - np.minimum(1.0, grievances / s.p.grievance_threshold)
    s.trust += s.p.trust_rate * (fairness - s.trust)


def distrust(trust: float | np.ndarray, reference: float | np.ndarray) -> float | np.ndarray:
    """How much more than at ``reference_trust`` distrust drives complaints and turnover.

    ``(1 - trust) / (1 - reference)``: 1 at the reference trust, 0 at full trust.
    """
    return (1.0 - trust) / (1.0 - reference)


def richer_listed_ties(network: sp.csr_matrix, reg: np.ndarray, registered: np.ndarray,
                       y: np.ndarray) -> np.ndarray:
    """Each household's registered ties richer than itself while it is not registered.

    ``reg`` are the registered households (only their rows are walked: only ties out of them
    can count), ``y`` the per-capita incomes. As floats (whole numbers).
    """
    count, dst = ties_of(network, reg)
    richer_listed = ~registered[dst] & (np.repeat(y[reg], count) > y[dst])
    return np.bincount(dst[richer_listed], minlength=registered.size).astype(np.float64)


def diversion_grievances(network: sp.csr_matrix, receivers: np.ndarray, received: np.ndarray,
                         own_income: np.ndarray, grievance_share: float | np.ndarray) -> np.ndarray:
    """Grievances from diverted money seen among ties, graded by its size.

    Each household sums what its ties (``receivers``, who got ``received`` yuan) received,
    and counts one grievance per ``grievance_share`` of its own yearly income (at least
    ``MATERIAL_YUAN``): twice the money seen, twice the grievance.
    """
    return grade_money_seen(money_seen(network, receivers, received, own_income.size),
                            own_income, grievance_share)


def money_seen(network: sp.csr_matrix, receivers: np.ndarray, received: np.ndarray,
               n: int) -> np.ndarray:
    """What each household's ties among ``receivers`` received (summed tie after tie)."""
    count, dst = ties_of(network, receivers)  # the network is symmetric: receivers' rows
    return np.bincount(dst, weights=np.repeat(received, count), minlength=n)


def grade_money_seen(seen: np.ndarray, own_income: np.ndarray,
                     grievance_share: float | np.ndarray) -> np.ndarray:
    """Grievances from money ``seen``: one per ``grievance_share`` of the own yearly income."""
    return seen / (grievance_share * np.maximum(own_income, MATERIAL_YUAN))


