"""The re-check (回头看) of the register and of exits. ODD §7.7."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import lognormal_factor
from village_sim.codes import Actor, Outcome, Reason
from village_sim.mechanisms import responsible_helpers
from village_sim.mechanisms.register import quota_count

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 7 (yearly, month 7): the supervising team's re-check (回头看).

    It visits ``recheck_share`` of the register and of households exited in the last
    year: listed households found not poor are removed, exited ones found poor are put
    back on the register (within the quota, poorest first) — each unless the team goes
    along (``cooptation``).
    """
    p, z = s.p, s.p.poverty_line
    if not (s.supervising and p.recheck and s.identified):
        return
    rng = s.team.stream
    recently_exited = (s.steps - s.exit_month <= 12) & ~s.registered
    pool = np.flatnonzero(s.registered | recently_exited)
    u = rng.random(pool.size)
    sample = pool[u < p.recheck_share]
    if sample.size == 0:
        return
    y = s.per_capita_income()
    s.team.visit_month[sample] = s.steps
    s.team.visit_estimate[sample] = y[sample] * lognormal_factor(0.05, sample.size, rng)
    acts = rng.random(sample.size) >= p.cooptation
    est = s.team.visit_estimate[sample]
    remove = sample[s.registered[sample] & (est >= z) & acts]
    restore = sample[~s.registered[sample] & (est < z) & acts]
    s.registered[remove] = False
    k = quota_count(s)
    if k is not None:  # the quota still caps the register: the poorest come back first
        room = max(0, k - int(s.registered.sum()))
        poorest = np.argsort(s.team.visit_estimate[restore], kind="stable")[:room]
        restore = restore[poorest]
    s.registered[restore] = True
    s.restored_at_recheck[restore] = True
    s.exit_month[restore] = -10_000
    year = (s.steps - 1) // 12 + 1
    mask = np.zeros(s.n, dtype=bool)
    outcome = np.zeros(s.n, dtype=np.int8)
    reason = np.zeros(s.n, dtype=np.int8)
    mask[remove] = mask[restore] = True
    outcome[remove], reason[remove] = Outcome.REMOVED, Reason.RECHECK_NOT_POOR
    outcome[restore], reason[restore] = Outcome.RE_REGISTERED, Reason.RECHECK_STILL_POOR
    s.log(mask, year, 0, Actor.TEAM, outcome, reason)
    responsible_helpers.assign(s)
