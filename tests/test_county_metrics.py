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


def county_metrics(stack: VillageStack, shared_sort: bool = True) -> dict[str, np.ndarray]:
    """Every village's household metrics from the stack's arrays, in one pass."""
    seg = Segments([v.n for v in stack.villages])
    col = stack.column
    y = stack.per_capita_income()
    z = seg.broadcast(stack.per_village("poverty_line"))
    w = col("persons_float")
    aid_12 = col("aid_hist").sum(axis=0)
    post = (col("income_hist").sum(axis=0) + aid_12
            + col("other_transfer_hist").sum(axis=0)) / col("persons")
    out: dict[str, np.ndarray] = {}
    order = seg.order(y) if shared_sort else None  # one sort of y: Gini and both deciles
    for suffix, inc, inc_order in (("", y, order), ("_post", post, None)):
        p0, p1, p2 = CM.fgt_all(inc, z, w, seg)
        out["poverty_headcount" + suffix], out["poverty_gap" + suffix] = p0, p1
        out["poverty_severity" + suffix] = p2
        out["gini" + suffix] = CM.gini(inc, w, seg, inc_order)
    registered, kin, cadre = col("registered"), col("cadre_kin"), col("cadre")
    out.update(CM.targeting(y < z, registered, seg))
    out["kin_premium"] = CM.kin_premium(y, registered, kin, cadre, seg, order)
    out["amount_kin_premium"], out["amount_kin_premium_yuan"] = CM.amount_kin_premiums(
        y, registered, aid_12, kin, cadre, seg, order)
    identified = stack.per_village("identified").astype(bool)
    for name in (*EXACT[:6], "kin_premium", "amount_kin_premium", "amount_kin_premium_yuan"):
        out[name] = np.where(identified, out[name], np.nan)
    return out


@cache
def run() -> list[tuple[int, list[dict[str, float]], dict[str, np.ndarray]]]:
    stack = VillageStack.build(VILLAGES)
    seen = []
    for month in range(1, max(MONTHS) + 1):
        stack.step()
        if month in MONTHS:
            county = county_metrics(stack)
            alone = county_metrics(stack, shared_sort=False)  # each function sorts for itself
            for name, values in county.items():
                np.testing.assert_array_equal(values, alone[name], err_msg=name)
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
