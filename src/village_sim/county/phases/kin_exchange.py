"""Kin exchange for a county (mirrors :func:`village_sim.mechanisms.kin_exchange.run`).

The kinship matrix of the county is block diagonal, each village's block with its rows in its
own order, so each row's products are summed in the village's own order: the same numbers.
Where the county has its compiled loops (:func:`village_sim.county.phases.draws.kernels`), the
exchange is one of them (``kernels.kin_exchange``, the same arithmetic in the same order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.county.phases.draws import kernels
from village_sim.mechanisms import kin_exchange
from village_sim.mechanisms.kin_exchange import exchange

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def run(e: StackedVillages) -> None:
    """Households short of this month's needs draw on kin with a surplus, in every village."""
    if e.decided_otherwise(kin_exchange.run, "kin_request"):  # another rule decides (D6)
        return
    P = e.params
    on = P("kin_exchange").astype(bool)
    if not on.any():
        return
    slot = int(e.villages[0].steps) % 12
    income = e.column("income_hist")[slot]
    kin = e.stack.kin
    compiled = kernels(e)
    if compiled is not None:  # the needs, the exchange and the additions in compiled loops
        n = e.segments.n
        deficit, surplus, net = np.empty(n), np.empty(n), np.empty(n)
        compiled.kin_needs(e.segments.offsets, income, e.column("persons"), P("poverty_line"),
                           P("kin_exchange_floor"), P("kin_exchange_rate"), on, deficit,
                           surplus)
        compiled.kin_exchange(kin.indptr, kin.indices, kin.data, deficit, surplus, net)
        compiled.add_twice(net, e.column("other_transfer_hist")[slot], e.column("kin_net"))
        return
    need = P.of_households("poverty_line") / 12.0 * e.column("persons")
    deficit = np.maximum(0.0, need - income)
    surplus = np.maximum(0.0, income - P.of_households("kin_exchange_floor") * need) \
        * P.of_households("kin_exchange_rate")
    net = exchange(kin, deficit, surplus)
    if not on.all():  # villages without kin exchange: nothing moves
        net[~on[e.segments.village]] = 0.0
    e.column("other_transfer_hist")[slot] += net
    e.column("kin_net")[...] += net
