"""Cadre turnover: committee elections, replacement after a failed assessment. ODD §7.10.

Sources: 村民委员会组织法 (committees elected for 3-year terms, 5 since 2018); the exit
assessment (三率一度) whose failure brought cadres' accountability (问责).

- Elections (``elections``): every ``term_years`` years, at the yearly review, each cadre is
  replaced with probability ``election_turnover * (1 - mean trust) / (1 - reference_trust)``
  (capped at 1): at trust ``reference_trust`` (0.5) the base rate, more where villagers
  distrust the committee.
- Accountability (``survey_consequences``): when the yearly survey finds a missed-poor rate
  (漏评率) above ``missed_poor_threshold`` or a wrongful-exit rate (错退率) above
  ``wrongful_exit_threshold``, each cadre is replaced with probability
  ``survey_replacement``.

A new cadre comes from another household (larger clans and better-off households more
likely), with a fresh greed and a fresh misperception of risk; the kin it favours follow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.mechanisms.trust import distrust
from village_sim.village import cadre_weight, draw_greed

if TYPE_CHECKING:
    from village_sim.state import VillageState

__all__ = ["after_survey", "hold_election", "replace_cadres"]


def replace_cadres(s: VillageState, leaving: np.ndarray, rng: np.random.Generator) -> None:
    """Replace the cadres flagged in ``leaving`` (one flag per seat) by other households."""
    seats = np.flatnonzero(leaving)
    cadres = s.committee.cadres.copy()
    available = np.flatnonzero(~s.cadre)
    seats = seats[: available.size]  # a tiny village may have fewer candidates than seats
    if seats.size == 0:
        return
    weight = cadre_weight(s.clan, s.assets, s.skill, s.p.cadre_skill_floor)[available]
    if np.count_nonzero(weight > 0) < seats.size:  # too few with assets or skill: anyone
        weight = np.ones(available.size)
    newcomers = rng.choice(available, size=seats.size, replace=False, p=weight / weight.sum())
    cadres[seats] = newcomers
    s.committee.greed[seats] = draw_greed(seats.size, s.p.greed_concentration, rng)
    s.committee.diverted_ring[:, seats] = 0.0
    s.committee.times_caught[seats] = 0
    sigma = s.p.perception_noise
    s.risk_perception[seats] = numerics.mean_one(sigma * rng.standard_normal(seats.size),
                                                 sigma * sigma)
    order = np.argsort(cadres, kind="stable")
    s.committee.cadres = cadres[order]
    s.committee.greed = s.committee.greed[order]
    s.committee.diverted_ring = s.committee.diverted_ring[:, order]
    s.committee.times_caught = s.committee.times_caught[order]
    s.risk_perception = s.risk_perception[order]
    s.set_cadres(s.committee.cadres)
    s.cadre_replacements += int(seats.size)


def hold_election(s: VillageState) -> None:
    """At the yearly review of each ``term_years``-th year: elect the committee."""
    p = s.p
    year = (s.steps - 1) // 12
    rng = s.committee.stream
    u = rng.random(s.committee.cadres.size)  # drawn every review (common random numbers)
    if not (p.elections and year > 0 and year % p.term_years == 0):
        return
    turnover = min(1.0, p.election_turnover * distrust(float(np.mean(s.trust)), p.reference_trust))
    replace_cadres(s, u < turnover, rng)


def after_survey(s: VillageState) -> None:
    """Accountability after the yearly survey: cadres replaced over the thresholds."""
    p = s.p
    rng = s.committee.stream
    u = rng.random(s.committee.cadres.size)
    if not p.survey_consequences:
        return
    missed = s.survey["missed_poor_rate"]
    wrongful = s.survey["wrongful_exit_rate"]
    failed = (missed == missed and missed > p.missed_poor_threshold) or (
        wrongful == wrongful and wrongful > p.wrongful_exit_threshold)
    if not failed:
        return
    s.failed_assessments += 1
    replace_cadres(s, u < p.survey_replacement, rng)
