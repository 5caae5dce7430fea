"""The re-check (回头看) of the register and of exits. ODD §7.7.

Sources: the policy text and the programme's yearly 回头看 campaigns, which upper levels ran in
every poor village, with or without a resident team.

Two checks, each with its own switch:

- ``upper_recheck`` (every regime): upper-level staff visit a sample (``upper_recheck_share``)
  of the register and of the households declared out in the last year, measure their incomes
  with error ``upper_recheck_noise``, remove listed households found not poor and put back
  exited households found still poor (within the quota, poorest first). Their visits cost the
  team nothing.
- ``recheck`` (a supervising team present): the team's own re-check of a ``recheck_share``
  sample, which it must visit within its monthly budget (mechanisms.visits): the sample joins
  its queue and is acted on as the visits are made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import lognormal_factor
from village_sim.codes import Actor, Outcome, Reason
from village_sim.mechanisms import deterrence, responsible_helpers, visits
from village_sim.mechanisms.register import log_changes, poorest_within_quota, put_back
from village_sim.state import Purpose

if TYPE_CHECKING:
    from village_sim.state import VillageState

__all__ = ["run", "team_recheck", "upper_recheck"]


def run(s: VillageState) -> None:
    """Phase 7 (yearly, month 7): the upper levels' re-check, then the team's request."""
    upper_recheck(s)
    team_recheck(s)


def _sample_pool(s: VillageState) -> np.ndarray:
    recently_exited = (s.steps - s.exit_month <= 12) & ~s.registered
    return np.flatnonzero(s.registered | recently_exited)


def team_recheck(s: VillageState) -> None:
    """A supervising team queues its re-check sample (visits within its budget)."""
    p = s.p
    if not (s.supervising and p.recheck and s.identified):
        return
    pool = _sample_pool(s)
    u = s.team.stream.random(pool.size)
    visits.request(s, pool[u < p.recheck_share], Purpose.RECHECK)


def upper_recheck(s: VillageState) -> None:
    """Upper levels re-check a sample in every regime, with their own staff and error."""
    p, z = s.p, s.p.poverty_line
    rng = s.streams["upper"]
    u = rng.random(s.n)  # drawn every re-check month, whatever the state (CRN)
    noise = lognormal_factor(p.upper_recheck_noise, s.n, rng)
    if not (p.upper_recheck and s.identified):
        return
    pool = np.zeros(s.n, dtype=bool)
    pool[_sample_pool(s)] = True
    sample = np.flatnonzero(pool & (u < p.upper_recheck_share))
    if sample.size == 0:
        return
    y = s.per_capita_income()
    est = y[sample] * noise[sample]
    remove = sample[s.registered[sample] & (est >= z)]
    restore = sample[~s.registered[sample] & (est < z)]
    est_restore = est[~s.registered[sample] & (est < z)]
    removed_favoured = int(np.sum(s.favoured_entry[remove]))
    deterrence.record_detections(s, "registration", removed_favoured, 0.0)
    s.registered[remove] = False
    restore = poorest_within_quota(s, restore, est_restore)
    put_back(s, restore)
    log_changes(s, Actor.UPPER, [(remove, Outcome.REMOVED, Reason.RECHECK_NOT_POOR),
                                 (restore, Outcome.RE_REGISTERED, Reason.RECHECK_STILL_POOR)])
    responsible_helpers.assign(s)
