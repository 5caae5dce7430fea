"""Trust and returns to poverty for a county.

Mirrors :mod:`village_sim.mechanisms.trust` and :func:`village_sim.mechanisms.exits.track_returns`.

The county's network is block diagonal, so a household's ties, and the order in which its
grievances are counted, are those of its own village.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms.trust import _ties_of, diversion_grievances

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def update(e: StackedVillages) -> None:
    """Trust follows fairness as seen among kin and friends, in every village."""
    P = e.params
    n = e.segments.n
    village = e.segments.village
    y = e.y
    registered = e.column("registered")
    reg = np.flatnonzero(registered)
    count, dst = _ties_of(e.network, reg)
    richer_listed = ~registered[dst] & (np.repeat(y[reg], count) > y[dst])
    grievances = np.bincount(dst[richer_listed], minlength=n).astype(np.float64)
    ever = np.flatnonzero(e.column("diverted_to"))
    if ever.size:
        received = e.column("diverted_hist").take(ever, axis=1).sum(axis=0)
        c = e.stack.columns
        post = (e.income_12 + c["aid_hist"].sum(axis=0)
                + c["other_transfer_hist"].sum(axis=0)) / c["persons"]
        own_income = post * c["persons"]
        grievances += diversion_grievances(e.network, ever, received, own_income,
                                           P.of_households("grievance_share"))
    identified = e.gather("identified", bool)
    grievances += (y < P.of_households("poverty_line")) & ~registered & identified[village]
    fairness = 1.0 - np.minimum(1.0, grievances / P.of_households("grievance_threshold"))
    trust = e.column("trust")
    trust += P.of_households("trust_rate") * (fairness - trust)


def track_returns(e: StackedVillages) -> None:
    """Exited households that fall back below the line (返贫), in every village."""
    c = e.stack.columns
    exited = c["ever_exited"] & ~c["registered"]
    poor = e.y < e.params.of_households("poverty_line")
    newly = exited & poor & ~c["poor_since_exit"] & ~c["wrongful_exit"]
    c["returned"] |= newly
    c["poor_since_exit"] |= exited & poor
