"""Trust and returns to poverty for a county.

Mirrors :mod:`village_sim.mechanisms.trust` and :func:`village_sim.mechanisms.exits.track_returns`.

The county's network is block diagonal, so a household's ties, and the order in which its
grievances are counted, are those of its own village. Where the county has its compiled loops
(:func:`village_sim.county.phases.draws.kernels`), the ties are walked there, in the same order
(counts are whole numbers; the diverted money seen is summed tie after tie as ``np.bincount``
sums it), and so are the 12 months' sums and the update of trust, each household's in one
pass: the same numbers.

The month's sums of aid and other transfers over the last 12 months, once the month's last
payment is made, are kept as ``e.transfers_12`` for the county's metrics (set to None by the
economy at the month's start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from village_sim.county.phases.draws import kernels
from village_sim.mechanisms.trust import grade_money_seen, money_seen, richer_listed_ties
from village_sim.state import MATERIAL_YUAN

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
    compiled = kernels(e)
    network = e.network
    if compiled is not None:  # the same walk over ties, in compiled loops
        grievances = np.zeros(n)
        compiled.richer_listed_ties(network.indptr, network.indices, reg, registered, y,
                                    grievances)
    else:
        grievances = richer_listed_ties(network, reg, registered, y)
    ever = np.flatnonzero(e.column("diverted_to"))
    if compiled is not None:  # the rest in two more compiled passes (the same bits)
        _update_compiled(e, compiled, grievances, ever)
        return
    if ever.size:
        c = e.stack.columns
        received = c["diverted_hist"].take(ever, axis=1).sum(axis=0)
        aid_12, other_12 = c["aid_hist"].sum(axis=0), c["other_transfer_hist"].sum(axis=0)
        aid_12.flags.writeable = other_12.flags.writeable = False
        e.transfers_12 = (aid_12, other_12)  # the month's last payment is made
        post = (e.income_12 + aid_12 + other_12) / c["persons"]
        if compiled is not None:
            seen = np.zeros(n)
            compiled.money_seen(network.indptr, network.indices, ever, received, seen)
        else:
            seen = money_seen(network, ever, received, n)
        grievances += grade_money_seen(seen, post * c["persons"],
                                       P.of_households("grievance_share"))
    identified = e.gather("identified", bool)
    grievances += (y < P.of_households("poverty_line")) & ~registered & identified[village]
    fairness = 1.0 - np.minimum(1.0, grievances / P.of_households("grievance_threshold"))
    trust = e.column("trust")
    trust += P.of_households("trust_rate") * (fairness - trust)


def _update_compiled(e: StackedVillages, compiled: Any, grievances: np.ndarray,
                     ever: np.ndarray) -> None:
    """:func:`update` after the richer listed ties, in compiled loops: the same operations."""
    P = e.params
    n = e.segments.n
    c = e.stack.columns
    network = e.network
    seen = own_income = grievances  # unread unless money was diverted (below)
    if ever.size:
        aid_12, other_12, own_income = np.empty(n), np.empty(n), np.empty(n)
        received = np.empty(ever.size)
        compiled.transfer_sums(c["aid_hist"], c["other_transfer_hist"], c["diverted_hist"],
                               e.income_12, c["persons"], ever, aid_12, other_12, own_income,
                               received)
        aid_12.flags.writeable = other_12.flags.writeable = False
        e.transfers_12 = (aid_12, other_12)  # the month's last payment is made
        seen = np.zeros(n)
        compiled.money_seen(network.indptr, network.indices, ever, received, seen)
    compiled.trust_update(e.segments.offsets, grievances, bool(ever.size), seen, own_income,
                          P("grievance_share"), MATERIAL_YUAN, e.y, P("poverty_line"),
                          c["registered"], e.gather("identified", bool),
                          P("grievance_threshold"), P("trust_rate"), c["trust"])


def track_returns(e: StackedVillages) -> None:
    """Exited households that fall back below the line (返贫), in every village."""
    c = e.stack.columns
    exited = c["ever_exited"] & ~c["registered"]
    poor = e.y < e.params.of_households("poverty_line")
    newly = exited & poor & ~c["poor_since_exit"] & ~c["wrongful_exit"]
    c["returned"] |= newly
    c["poor_since_exit"] |= exited & poor
