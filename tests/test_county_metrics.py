"""Village metrics of a whole county at once (village_sim.county.metrics) against its own.

A stack of villages that differ (size, regime, favoritism, poverty line) runs month by month;
every few months the county functions compute every village's metrics from the stacked arrays,
and each must equal that village's ``VillageModel.metrics()``: exactly where the metric is made
of counts, to 1e-12 relative where sums of incomes are involved (docs/county_engine.md, D4).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from village_sim.county import metrics as CM
from village_sim.segments import Segments
from village_sim.stack import VillageStack

VILLAGES = [
    {"rng": 1, "regime": "committee_only"},
    {"rng": 2, "regime": "team_and_committee", "n_households": 120},
    {"rng": 3, "regime": "team_and_committee", "n_households": 450, "favoritism": 0.9},
    {"rng": 4, "regime": "committee_only", "poverty_line": 5200.0, "n_households": 80},
    {"rng": 5, "regime": "team_without_supervision", "n_households": 200, "quota": 0.15},
]
MONTHS = (1, 5, 13, 20, 26)
EXACT = ("coverage", "exclusion_error", "inclusion_error_leakage", "inclusion_error_nonpoor",
         "mistargeting", "targeting_differential", "kin_premium")
CLOSE = ("poverty_headcount", "poverty_gap", "poverty_severity", "gini",
         "poverty_headcount_post", "poverty_gap_post", "poverty_severity_post", "gini_post",
         "amount_kin_premium", "amount_kin_premium_yuan")


def sorting_for_itself(stack: VillageStack) -> dict[str, np.ndarray]:
    """The metrics that share one sort of y, each function sorting for itself instead."""
    seg = Segments([v.n for v in stack.villages])
    col = stack.column
    y = stack.per_capita_income()
    registered, kin, cadre = col("registered"), col("cadre_kin"), col("cadre")
    identified = stack.per_village("identified").astype(bool)
    rate, difference = CM.amount_kin_premiums(y, registered, col("aid_hist").sum(axis=0), kin,
                                              cadre, seg)
    return {"gini": CM.gini(y, col("persons_float"), seg),
            "kin_premium": np.where(identified, CM.kin_premium(y, registered, kin, cadre, seg),
                                    np.nan),
            "amount_kin_premium": np.where(identified, rate, np.nan),
            "amount_kin_premium_yuan": np.where(identified, difference, np.nan)}


@cache
def run() -> list[tuple[int, list[dict[str, float]], dict[str, np.ndarray]]]:
    stack = VillageStack.build(VILLAGES)
    seen = []
    for month in range(1, max(MONTHS) + 1):
        stack.step()
        if month in MONTHS:
            county = CM.household_metrics(stack)
            for name, values in sorting_for_itself(stack).items():
                np.testing.assert_array_equal(county[name], values, err_msg=name)
            seen.append((month, [dict(v.metrics()) for v in stack.villages], county))
    return seen


@pytest.mark.parametrize("name", EXACT)
def test_count_metrics_equal_each_village_s_exactly(name: str) -> None:
    for month, own, county in run():
        for v, metrics in enumerate(own):
            expected, got = metrics[name], county[name][v]
            assert (np.isnan(expected) and np.isnan(got)) or got == expected, (month, v, name)


@pytest.mark.parametrize("name", CLOSE)
def test_income_metrics_equal_each_village_s_to_rounding(name: str) -> None:
    for month, own, county in run():
        expected = np.array([m[name] for m in own])
        np.testing.assert_allclose(county[name], expected, rtol=1e-12, atol=1e-12,
                                   equal_nan=True, err_msg=f"{name}, month {month}")


def test_the_comparison_covers_what_it_claims() -> None:
    # registers exist, kin premiums and amount premiums are defined in several villages, and
    # the villages differ: a test that compared NaN with NaN would prove nothing
    month, own, county = run()[-1]
    assert month == 26
    assert sum(np.isfinite(m["kin_premium"]) for m in own) >= 4
    assert sum(np.isfinite(m["amount_kin_premium"]) for m in own) >= 3
    assert len({round(m["poverty_headcount"], 9) for m in own}) == len(VILLAGES)
    assert set(county) == set(CM.HOUSEHOLD_METRICS) == set(EXACT) | set(CLOSE)


@pytest.mark.parametrize("seed", range(4))
def test_kin_premiums_of_small_villages_are_each_village_s_own_bit_for_bit(seed: int) -> None:
    """The stratified premiums sum over each village's strata holding both groups only, as the
    village does: summing zeros for the other strata regrouped numpy's pairwise sum and changed
    the last bits (2026-12-02: 209 of 2,400 values of small villages). Small villages have
    many strata missing a group."""
    rng = np.random.default_rng(seed)
    configs = [{"rng": int(rng.integers(1 << 30)), "regime": "team_and_committee",
                "n_households": int(rng.integers(20, 81)),
                "amount_favoritism": 0.5} for _ in range(12)]
    stack = VillageStack.build(configs)
    for _ in range(14):
        stack.step()
    county = CM.household_metrics(stack)
    for name in ("kin_premium", "amount_kin_premium", "amount_kin_premium_yuan"):
        own = np.array([v.metrics()[name] for v in stack.villages])
        np.testing.assert_array_equal(county[name], own, err_msg=name)
