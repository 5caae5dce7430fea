"""Village metrics of a whole county at once (village_sim.county.metrics) against its own.

A stack of villages that differ (size, regime, favoritism, poverty line) runs month by month;
every few months the county functions compute every village's metrics from the stacked arrays,
and each must equal that village's ``VillageModel.metrics()``: bit for bit, counts and sums of
incomes alike (the income metrics were first held to 1e-12 relative, a test kept; the county's
sums are each village's own pairwise sums: docs/county_engine.md, D4). The faster paths — one
sort of all incomes read as each village's own ``np.argsort`` order, deciles from each edge's
first household, the kin premium's strata counted at their bounds — are checked on incomes
that tie and are zero, and the county's own metrics against their plain definitions.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from village_sim import metrics as M
from village_sim.county import metrics as CM
from village_sim.county.model import CountyModel
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


def bits(value: float) -> int | str:
    """A number's bits (NaN as one word: every NaN is the same undefined metric)."""
    return "nan" if np.isnan(value) else int(np.float64(value).view(np.int64))


@pytest.mark.parametrize("name", CLOSE)
def test_income_metrics_equal_each_village_s_bit_for_bit(name: str) -> None:
    # each village's own pairwise sums, and its Gini's terms in its own np.argsort order
    for month, own, county in run():
        assert [bits(m[name]) for m in own] == [bits(x) for x in county[name]], (month, name)


# ---------------------------------------------------------------------------- faster paths
def tied_stack(seed: int, levels: tuple[float, ...] = (0.0, 1500.0, 4000.0)) -> VillageStack:
    """Small villages after 13 months, a third of their households' incomes then made equal.

    Incomes of ``levels`` yuan a person (0, 1,500 and 4,000), before and after transfers,
    within villages and across them, between households of unequal persons: ties whose order
    ``np.argsort`` (a quicksort) leaves to its own arithmetic. At whole-yuan levels the Gini's
    terms of tied households are whole numbers, summed exactly in any order; at levels with a
    fraction the sums' last bits see the order.
    """
    rng = np.random.default_rng(seed)
    stack = VillageStack.build([{"rng": int(rng.integers(1 << 30)), "n_households": int(n),
                                 "regime": "team_and_committee", "amount_favoritism": 0.5}
                                for n in rng.integers(12, 41, 6)])
    for _ in range(13):
        stack.step()
    col = stack.columns
    chosen = rng.choice(stack.n, stack.n // 3, replace=False)
    for name in ("income_hist", "aid_hist", "other_transfer_hist"):
        col[name][:, chosen] = 0.0
    col["income_hist"][0, chosen] = rng.choice(levels, chosen.size) * col[
        "persons"][chosen]  # y is the level exactly (levels chosen so: a test checks)
    for v in stack.villages:
        v.income_changed()
        v._metric_cache = None
    return stack


def post_transfer_incomes(stack: VillageStack) -> np.ndarray:
    """Each household's income after transfers over its 12 months, per person."""
    col = stack.column
    return (col("income_hist").sum(axis=0) + col("aid_hist").sum(axis=0)
            + col("other_transfer_hist").sum(axis=0)) / col("persons")


def plain_county_metrics(stack: VillageStack) -> dict[str, float]:
    """``county_metrics`` by its definitions: numpy's stable argsort (equal incomes in the
    households' order) and sums, each village's deciles."""
    col = stack.column
    blocks = [stack.block(v) for v in range(stack.n_villages)]
    y = stack.per_capita_income()
    post = post_transfer_incomes(stack)
    z, w = stack.poverty_line(), col("persons_float")
    out = dict(zip(("poverty_headcount", "poverty_gap", "poverty_severity"),
                   M.fgt_all(y, z, w), strict=True))
    out["gini"] = M.gini(y, w, np.argsort(y, kind="stable"))
    out["poverty_headcount_post"] = M.fgt_all(post, z, w)[0]
    out["gini_post"] = M.gini(post, w, np.argsort(post, kind="stable"))
    registered, cadre, kin = col("registered"), col("cadre"), col("cadre_kin")
    identified = stack.per_village("identified")[stack.village] > 0
    out.update(M.targeting((y < z)[identified], registered[identified]))
    del out["targeting_differential"]
    keep = ~cadre & identified
    strata = stack.village[keep] * 10 + np.concatenate(
        [M.income_deciles(y[b][keep[b]]) for b in blocks])
    out["kin_premium"] = M.stratified_difference(registered[keep].astype(np.float64), kin[keep],
                                                 strata, 10 * stack.n_villages)
    out["diverted_share"] = M.ratio(
        float(np.sum([v.flow_hist["diverted"] for v in stack.villages])),
        float(np.sum([v.flow_hist["divertible"] for v in stack.villages])))
    out["registered_count"] = float(registered.sum())
    starts = stack.offsets[:-1]
    persons = np.add.reduceat(w, starts)
    out["between_village_gini"] = M.gini(np.add.reduceat(w * y, starts) / persons, persons)
    positive = y > 0
    yp, wp, village = y[positive], w[positive], stack.village[positive]
    mu = float((wp * yp).sum()) / float(wp.sum())
    theil = float((wp * (yp / mu) * np.log(yp / mu)).sum()) / float(wp.sum())
    mean = (np.bincount(village, weights=wp * yp, minlength=stack.n_villages)
            / np.bincount(village, weights=wp, minlength=stack.n_villages))
    pw = np.bincount(village, weights=wp, minlength=stack.n_villages)
    out["between_village_share"] = float(
        (pw * (mean / mu) * np.log(mean / mu)).sum()) / float(wp.sum()) / theil
    headcounts = [M.fgt_all(y[b], z[b], w[b])[0] for b in blocks]
    out["headcount_spread"] = max(headcounts) - min(headcounts)
    return out


def compiled_loops() -> object:
    """The county's compiled loops (numba), skipping where numba is not installed."""
    return pytest.importorskip("village_sim.county.phases.kernels")


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "compiled"])
@pytest.mark.parametrize("seed", range(6))
def test_county_metrics_equal_their_definitions_bit_for_bit_with_ties_and_zero_incomes(
        seed: int, compiled: bool) -> None:
    """The county reads the order of all its incomes village by village for the kin premium's
    deciles and counts its strata at the deciles' bounds; with ties and zero incomes it still
    gives its definitions' bits, with its passes over the households in numpy or in the
    compiled loops."""
    stack = tied_stack(seed)
    stack.villages[seed].identified = False  # targeting and the premium: the others only
    loops = compiled_loops() if compiled else None
    got, expected = CM.county_metrics(stack, loops=loops), plain_county_metrics(stack)
    assert list(got) == list(CM.COUNTY_METRICS)
    assert {k: bits(x) for k, x in got.items()} == {k: bits(expected[k]) for k in got}
    assert np.isfinite(got["kin_premium"]) and got["registered_count"] > 0


FRACTIONAL_LEVELS = (2718.28, 1234.567)
"""Incomes a person whose product with 1-8 persons divides back to them exactly."""


def test_the_county_gini_orders_equal_incomes_by_household() -> None:
    """The county's Gini reads equal incomes in the households' order (numpy's stable sort),
    not in ``np.argsort``'s, whose order of ties depends on the machine (AVX-512 or not): on
    stacks whose incomes tie at levels with a fraction, between unequal persons, both ways of
    computing give the stable order's bits, and on some of them ``np.argsort``'s order gives
    other bits (the premise: the order matters)."""
    loops = compiled_loops()
    unlike_argsort = 0
    for seed in range(6):
        stack = tied_stack(seed, FRACTIONAL_LEVELS)
        y = stack.per_capita_income()
        w = stack.column("persons_float")
        assert {int(p) for p in stack.column("persons")} >= {1, 2, 3}
        assert np.isin(np.array(FRACTIONAL_LEVELS), y).all()  # the levels divided back
        post = post_transfer_incomes(stack)
        for name, x in (("gini", y), ("gini_post", post)):
            stable = M.gini(x, w, np.argsort(x, kind="stable"))
            unlike_argsort += bits(M.gini(x, w)) != bits(stable)
            for way in (None, loops):
                got = CM.county_metrics(stack, loops=way)[name]
                assert bits(got) == bits(stable), (seed, name, way)
    assert unlike_argsort >= 1


@pytest.mark.parametrize("levels", [(0.0, 1500.0, 4000.0), FRACTIONAL_LEVELS],
                         ids=["whole", "fractional"])
@pytest.mark.parametrize("seed", range(4))
def test_each_village_s_metrics_sorted_by_the_compiled_loops_are_its_own(
        seed: int, levels: tuple[float, ...]) -> None:
    """The village-year table's household metrics with the incomes sorted by the county's
    radix sort (stable order, regrouped by village) are each village's own, bit for bit:
    villages whose ties have unequal persons are sorted by their own ``np.argsort``."""
    stack = tied_stack(seed, levels)
    got = CM.household_metrics(stack, loops=compiled_loops())
    expected = stack.metrics()
    for name in CM.HOUSEHOLD_METRICS:
        assert [bits(x) for x in got[name]] == [bits(x) for x in expected[name]], name


def test_the_village_year_table_is_each_village_s_own_metrics_bit_for_bit() -> None:
    stack = tied_stack(7)
    got = CM.village_metrics_frame(stack)
    expected = stack.metrics()
    assert list(got.columns) == list(expected.columns)
    assert (got.dtypes == expected.dtypes).all()
    for name in expected.columns:
        assert [bits(x) for x in got[name]] == [bits(x) for x in expected[name]], name


@pytest.mark.parametrize("seed", range(8))
def test_gini_reads_incomes_in_each_village_s_argsort_order(seed: int) -> None:
    """Ties of unequal weights, zeros of both signs, infinities and NaN: each village's Gini
    and the Gini of all households are ``metrics.gini``'s bit for bit (its ``np.argsort``)."""
    rng = np.random.default_rng(seed)
    seg = Segments(rng.integers(1, 80, 12))
    y = np.round(rng.lognormal(7.0, 1.0, seg.n), -2 if seed % 2 else 2)
    y[rng.random(seg.n) < 0.05] = 0.0
    y[rng.random(seg.n) < 0.05] = -0.0
    y[rng.random(seg.n) < 0.02 * (seed % 3)] = np.inf
    y[rng.random(seg.n) < 0.01 * (seed % 4 == 3)] = np.nan
    persons = rng.integers(1, 7, seg.n)
    with np.errstate(invalid="ignore"):  # infinite incomes: an undefined Gini
        own = [M.gini(y[b], persons[b].astype(np.float64))
               for b in (seg.block(v) for v in range(seg.n_segments))]
        assert [bits(x) for x in CM.gini(y, persons, seg)] == [bits(x) for x in own]
        whole = CM.gini(y, persons, Segments([seg.n]))[0]
        assert bits(whole) == bits(M.gini(y, persons.astype(np.float64)))


@pytest.mark.parametrize("seed", range(3))
def test_gini_reads_each_village_s_own_order_where_one_sort_of_all_orders_ties_otherwise(
        seed: int) -> None:
    """Villages of hundreds of households whose incomes tie (a few values, not whole numbers)
    at unequal persons: the one sort of all incomes orders ties unlike each village's own
    ``np.argsort`` (asserted: the test's premise), where the Gini's sums see the order in
    their last bits; each village's Gini is still its own, bit for bit."""
    rng = np.random.default_rng(100 + seed)
    seg = Segments(rng.integers(300, 900, 5))
    y = rng.integers(1, 9, seg.n) / 3.0
    persons = rng.integers(1, 7, seg.n)
    own_orders = [np.argsort(y[seg.block(v)]) + seg.block(v).start
                  for v in range(seg.n_segments)]
    assert not np.array_equal(seg.regroup(np.argsort(y)), np.concatenate(own_orders))
    own = [M.gini(y[b], persons[b].astype(np.float64))
           for b in (seg.block(v) for v in range(seg.n_segments))]
    assert [bits(x) for x in CM.gini(y, persons, seg)] == [bits(x) for x in own]
    order = CM.argsort_like(y, persons, seg)
    assert np.array_equal(order, np.concatenate(own_orders))  # villages with such ties


def test_argsort_like_sorts_any_doubles_within_each_village() -> None:
    """Huge and tiny magnitudes, zeros of both signs, infinities, many ties, empty villages:
    the order is a permutation that sorts every village's values, village after village."""
    rng = np.random.default_rng(11)
    for x in (rng.lognormal(8.0, 2.0, 5000), np.round(rng.standard_normal(5000), 1),
              np.r_[rng.standard_normal(300) * 1e300, 0.0, -0.0, np.inf, -np.inf, 5e-324],
              np.full(50, 3.0)):
        seg = Segments(np.diff(np.r_[0, np.sort(rng.integers(0, x.size + 1, 7)), x.size]))
        weights = np.ones(x.size, dtype=np.int64)
        order = CM.argsort_like(x, weights, seg)
        assert np.array_equal(np.sort(order), np.arange(x.size))
        assert np.array_equal(seg.village[order], seg.village)
        for v in range(seg.n_segments):
            b = seg.block(v)
            assert np.array_equal(x[order[b]], np.sort(x[b]))


@pytest.mark.parametrize("seed", range(6))
def test_deciles_and_kin_premiums_are_each_village_s_own_with_ties(seed: int) -> None:
    """Deciles from the first household at or above each edge, and the kin premium from
    running counts at those bounds: incomes tied around the edges take the counting path."""
    rng = np.random.default_rng(seed)
    seg = Segments(rng.integers(1, 60, 10))
    y = np.round(rng.random(seg.n) * 5) if seed % 2 else rng.lognormal(8.0, 1.0, seg.n)
    keep = rng.random(seg.n) < 0.8
    registered, kin = rng.random(seg.n) < 0.4, rng.random(seg.n) < 0.3
    deciles = CM.income_deciles(y, keep, seg)
    premiums = CM.kin_premium(y, registered, kin, ~keep, seg)
    for v in range(seg.n_segments):
        b = seg.block(v)
        own = M.income_deciles(y[b][keep[b]])
        assert np.array_equal(deciles[seg.village[keep] == v], own), v
        assert bits(premiums[v]) == bits(M.kin_premium(y[b], registered[b], kin[b], ~keep[b]))


def test_county_metrics_from_the_engine_s_income_sums_are_the_same() -> None:
    # the county engine sums the 12 months' income once a month (phases.economy) and the
    # transfers once the month's payments are made (phases.trust); nothing after them in the
    # month may change those sums, or the county's and villages' metrics would be stale
    c = CountyModel(rng=3, n_villages=4, distributions={"n_households": (30, 60)})
    assert c.engine is not None
    summed = 0
    for _ in range(14):
        c.step()
        sums = (c.engine.income_12, c.engine.transfers_12)
        summed += sums[1] is not None
        np.testing.assert_equal(CM.county_metrics(c.stack, *sums), CM.county_metrics(c.stack))
        # and the lines, identification and books read from the engine's arrays
        np.testing.assert_equal(CM.county_metrics(c.stack, *sums, engine=c.engine),
                                CM.county_metrics(c.stack))
        pd.testing.assert_frame_equal(CM.village_metrics_frame(c.stack, *sums),
                                      CM.village_metrics_frame(c.stack))
        # and the books, numbers and parameters read from the engine's tables
        pd.testing.assert_frame_equal(CM.village_metrics_frame(c.stack, *sums, c.engine),
                                      CM.village_metrics_frame(c.stack), check_exact=True)
    assert summed >= 10  # the trust phase summed the transfers (money was diverted) most months


def test_a_county_s_monthly_metrics_from_its_compiled_loops_are_numpy_s() -> None:
    # a county large enough for its compiled loops records its metrics from them every month
    # (CountyModel._collect): the same bits as the numpy passes, month after month, over a
    # first identification, a re-check and a second year
    loops = compiled_loops()
    from village_sim.county.phases import draws

    c = CountyModel(rng=8, n_villages=draws.JIT_FROM_VILLAGES, teams=10, deployment="random",
                    distributions={"n_households": (20, 40)})
    assert c.engine is not None and c.engine.loops is loops
    for _ in range(14):
        c.step()
        sums = (c.engine.income_12, c.engine.transfers_12)
        got, expected = CM.county_metrics(c.stack, *sums, loops), CM.county_metrics(c.stack)
        assert list(got) == list(expected)
        assert {k: bits(x) for k, x in got.items()} == {k: bits(x) for k, x in expected.items()}
    recorded = c.county_frame().iloc[-1]
    assert {k: bits(recorded[k]) for k in got} == {k: bits(x) for k, x in got.items()}


def test_household_tallies_are_each_village_s_own_bit_for_bit() -> None:
    # after two years: exits sustained for 12 months, returns, villages with a team and without
    c = CountyModel(rng=4, n_villages=6, teams=3, deployment="random",
                    distributions={"n_households": (30, 60)})
    for _ in range(26):
        c.step()
    county = CM.household_tallies(c.stack)
    own = [v.household_tallies() for v in c.villages]
    for name, values in county.items():
        assert [bits(x) for x in values] == [bits(t[name]) for t in own], name
    assert county["sustained_exits"].sum() > 0 and county["returns_to_poverty"].sum() > 0
    assert 0.0 in county["team_known_share"] and county["team_known_share"].max() > 0
    # projects' gains differ by tercile, and cadres see some risk of being found
    assert np.isfinite(county["project_gain_gradient"]).all()
    assert (county["project_gain_gradient"] != 0).any()
    assert (county["perceived_detection"] > 0).all()


def test_villages_with_findings_named_unlike_give_their_own_rows() -> None:
    # the engine's columns need every village's survey findings and identification scores
    # named alike; a village with a finding of its own gives its own row, and the table is
    # still every village's own metrics (the extra finding NaN in the other rows)
    c = CountyModel(rng=5, n_villages=3, distributions={"n_households": (30, 40)})
    for _ in range(13):
        c.step()
    assert c.engine is not None
    c.villages[1].survey = {**c.villages[1].survey, "own_finding": 0.25}
    sums = (c.engine.income_12, c.engine.transfers_12)
    got = CM.village_metrics_frame(c.stack, *sums, c.engine)
    pd.testing.assert_frame_equal(got, CM.village_metrics_frame(c.stack), check_exact=True)
    assert got["own_finding"].isna().tolist() == [True, False, True]


@pytest.mark.parametrize("case", ["distinct", "equal_weights", "unequal_weights", "zeros",
                                  "near", "floor", "nan", "tiny"])
def test_the_county_s_sort_of_incomes_is_numpy_s_stable_argsort(case: str) -> None:
    """``_stable_order``: integer keys sorted (a radix sort of their values' bits), runs the
    keys cannot tell apart sorted by value, and checked, give ``np.argsort(y, kind="stable")``
    itself; where zeros of both signs are present or an income is NaN, numpy's sort does."""
    loops = compiled_loops()
    rng = np.random.default_rng(3)
    n = 1 if case == "tiny" else 5000
    y = rng.lognormal(8.0, 1.0, n)
    w = rng.integers(1, 7, n)
    if case == "equal_weights":  # ties of equal weights only
        y[: n // 2] = np.round(y[: n // 2], -3)
        w[: n // 2] = 3
    elif case == "unequal_weights":
        y = np.round(y, -2)
    elif case == "zeros":  # zeros of both signs
        y[rng.random(n) < 0.1] = 0.0
        y[rng.random(n) < 0.1] = -0.0
        w[:] = 2
    elif case == "near":  # the larger of two incomes a unit in the last place apart first
        y[::2] = np.nextafter(y[1::2], np.inf)
    elif case == "floor":  # a third at a floor, or a few units in the last place off it
        at = rng.random(n) < 1 / 3
        y[at] = 4000.0 + rng.integers(-3, 4, at.sum()) * np.spacing(4000.0)
    elif case == "nan":
        y[7] = np.nan
    order = CM._stable_order(y, loops)
    assert order.tolist() == np.argsort(y, kind="stable").tolist()
    if n > 1:  # which way the check went
        keys, bits_ = np.empty(n, dtype=np.uint64), (n - 1).bit_length()
        if not loops.sort_keys(y, bits_, keys):  # type: ignore[attr-defined]
            read: object = "nan"
        else:
            loops.sort_high_bits(keys, bits_, np.empty_like(keys))  # type: ignore[attr-defined]
            read = loops.stable_order(  # type: ignore[attr-defined]
                keys, bits_, y, np.empty(n, dtype=np.int64))
        assert read == {"distinct": True, "equal_weights": True, "unequal_weights": True,
                        "zeros": False, "near": True, "floor": True, "nan": "nan"}[case]
    if case in ("unequal_weights", "zeros"):  # the premise: ties, of unequal persons or signs
        o = np.argsort(y, kind="stable")
        tied = np.flatnonzero(y[o][1:] == y[o][:-1])
        unequal = w[o][tied] != w[o][tied + 1]
        signs = np.signbit(y[o][tied]) != np.signbit(y[o][tied + 1])
        assert (unequal if case == "unequal_weights" else signs).any()
