"""Economy (phase 1): illness, disasters and this month's market income. ODD §7.1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 1: illness, disaster, and this month's market income.

    The shock stream draws the same arrays every month whatever the state, so every regime
    meets identical shocks (common random numbers).
    """
    p, n, rng = s.p, s.n, s.streams["shocks"]
    fall_ill = rng.random(n) < p.illness_rate
    recover = rng.random(n) < p.recovery_rate
    noise = rng.standard_normal(n)
    disaster = (rng.random() < p.disaster_rate) or s.force_disaster
    hit = rng.random(n) < 0.5
    s.force_disaster = False
    s.sick = np.where(s.sick, ~recover, fall_ill)
    if disaster:
        s.assets = np.where(hit, s.assets * 0.8, s.assets)
        s.assets_changed()
    s.cause = s.causes()
    sigma = p.income_volatility
    monthly = s.annual_capacity() / 12.0 * np.exp(sigma * noise - 0.5 * sigma**2)
    if disaster:  # half the income of the households hit (a factor 1 elsewhere: exact)
        factor = np.ones(n)
        factor[hit] = 0.5
        monthly = monthly * factor
    s.open_month()
    s.income_hist[s.slot] = monthly
    s.income_changed()
    s.aid_hist[s.slot] = 0.0
    s.other_transfer_hist[s.slot] = 0.0
    s.diverted_hist[s.slot] = 0.0
