"""Kin exchange (phase 2): households short of needs draw on kin with a surplus. ODD §7.2."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms import policies

if TYPE_CHECKING:
    import scipy.sparse as sp

    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 2: households short of this month's needs draw on kin with a surplus.

    Each giver splits ``kin_exchange_rate`` of its surplus (income above
    ``kin_exchange_floor``, 1.5, times needs) among needy kin in proportion to their deficits;
    receipts are capped at the deficit and givers give exactly what is received, so money is
    conserved. Who asks is policy ``kin_request`` (by default every household short of its
    needs).
    """
    if not s.p.kin_exchange:
        return
    income = s.income_hist[s.slot]
    need = s.p.poverty_line / 12.0 * s.persons
    deficit = np.maximum(0.0, need - income)
    if s.policies["kin_request"] is not policies.kin_request:
        # another rule (a person, in classroom mode) says who asks: the others do not draw
        view = policies.KinRequestView(income=income.copy(), need=need.copy())
        asks = policies.check_mask("kin_request", s.policies["kin_request"](view, s.streams[
            "villagers"]), s.n)
        deficit = np.where(asks, deficit, 0.0)
    surplus = np.maximum(0.0, income - s.p.kin_exchange_floor * need) * s.p.kin_exchange_rate
    net = exchange(s.kin, deficit, surplus)
    s.other_transfer_hist[s.slot] += net
    s.kin_net += net


def exchange(a: sp.csr_matrix, deficit: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    """Each household's net receipt: surplus given to kin in need, in proportion to deficits.

    ``a`` is the kinship matrix (one village's, or a county's block-diagonal one: each row's
    products then sum in the village's own order, so the numbers are the village's own).
    """
    demand = a @ deficit  # total deficit among each giver's kin
    rate = np.divide(surplus, demand, out=np.zeros_like(surplus), where=demand > 0)
    offered = deficit * (a @ rate)
    # receipts are capped at the deficit: scale offers down where they exceed it
    fill = np.divide(deficit, offered, out=np.ones_like(offered), where=offered > deficit)
    received = offered * fill
    given = rate * (a @ (deficit * fill))
    return received - given
