"""Economy (phase 1): illness, disasters and this month's market income. ODD §7.1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics

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
    hit = rng.random(n) < p.disaster_reach
    s.force_disaster = False
    s.sick = np.where(s.sick, ~recover, fall_ill)
    if disaster:
        s.assets = np.where(hit, s.assets * (1.0 - p.disaster_asset_loss), s.assets)
        s.assets_changed()
    s.cause = s.causes()
    # what measures added wears off: measure_depreciation a year, compounded monthly
    if p.measure_depreciation > 0:
        s.measure_income *= (1.0 - p.measure_depreciation) ** (1 / 12)
    sigma = p.income_volatility
    monthly = s.annual_capacity() / 12.0 * numerics.mean_one(sigma * noise, sigma * sigma)
    if disaster:  # the households hit lose part of the month's income (a factor 1 elsewhere)
        factor = np.ones(n)
        factor[hit] = 1.0 - p.disaster_income_loss
        monthly = monthly * factor
    s.open_month()
    s.income_hist[s.slot] = monthly
    s.income_changed()
    s.aid_hist[s.slot] = 0.0
    s.other_transfer_hist[s.slot] = 0.0
    s.diverted_hist[s.slot] = 0.0
