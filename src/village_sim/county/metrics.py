"""The village metrics of many villages at once, from their stacked household arrays.

Each function computes, for every village of a county in one pass of segment operations
(:class:`village_sim.segments.Segments`; no loop over villages), what
:mod:`village_sim.metrics` computes for one village: poverty (FGT), the Gini coefficient,
targeting, and the kin premiums on registration and on aid. Same definitions, same strata (the
income deciles of each village's own households), so village v's value is its own
``VillageModel.metrics()`` value: exactly for counts and for what is computed from counts
(targeting, the deciles), and to rounding (about 1e-12 relative) for sums of incomes, whose
additions a segmented sum orders differently (docs/county_engine.md, D4).
``tests/test_county_metrics.py`` compares every village of a running county with its own
metrics, month after month.
"""

from __future__ import annotations

import numpy as np

from village_sim.metrics import DECILE_QUANTILES, targeting_from_counts
from village_sim.segments import Segments
from village_sim.stack import VillageStack

__all__ = [
    "COUNTY_KEY_METRICS",
    "COUNTY_METRICS",
    "HOUSEHOLD_METRICS",
    "county_metrics",
    "household_metrics",
    "fgt_all",
    "gini",
    "income_deciles",
    "kin_premium",
    "amount_kin_premiums",
    "ratio",
    "stratified",
    "targeting",
]


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Num / den where den > 0, else NaN (an undefined metric), element by element."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def fgt_all(y: np.ndarray, z: np.ndarray, weights: np.ndarray,
            seg: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Headcount, gap and severity (P0, P1, P2) of each village, persons-weighted.

    ``z`` is each household's village's poverty line (:meth:`Segments.broadcast`).
    """
    total = seg.sum(weights.astype(np.float64))
    poor = y < z
    gap = np.where(poor, (z - y) / z, 0.0)
    wg = weights * gap
    return (ratio(seg.sum(weights * poor), total), ratio(seg.sum(wg), total),
            ratio(seg.sum(wg * gap), total))


def gini(y: np.ndarray, weights: np.ndarray, seg: Segments,
         order: np.ndarray | None = None) -> np.ndarray:
    """Weighted Gini coefficient of each village (NaN for no weight or no income).

    ``order`` is ``seg.order(y)`` when the caller has it (the deciles share it).
    """
    if order is None:
        order = seg.order(y, stable=False)  # the sum below does not depend on ties' order
    x = y[order]
    w = weights[order].astype(np.float64)
    total_w = seg.sum(w)
    total_income = seg.sum(w * x)
    # cumulative weight within each village: persons are whole numbers, so the global running
    # sum minus the sum before the village is each village's own running sum, exactly
    cum = np.cumsum(w)
    before = np.concatenate([[0.0], cum])[seg.offsets[:-1]]
    cum_w = cum - seg.broadcast(before)
    inner = seg.sum(w * x * (cum_w - 0.5 * w))
    ok = (total_w > 0) & (total_income != 0)
    out = np.full(seg.n_segments, np.nan)
    out[ok] = 2.0 * inner[ok] / (total_w[ok] * total_income[ok]) - 1.0
    return out


def targeting(poor: np.ndarray, registered: np.ndarray,
              seg: Segments) -> dict[str, np.ndarray]:
    """Coverage, exclusion and inclusion errors, mistargeting, targeting differential, by village.

    The village's formulas (:func:`village_sim.metrics.targeting_from_counts`) on each
    village's counts, so each village's values are its own exactly.
    """
    return targeting_from_counts(seg.sizes, seg.count(poor), seg.count(registered),
                                 seg.count(poor & registered), ratio)


def income_deciles(y: np.ndarray, keep: np.ndarray, seg: Segments,
                   order: np.ndarray | None = None) -> np.ndarray:
    """The decile (0-9) of each kept household among its village's kept households.

    Returned for the kept households in their order in ``y`` (as
    ``metrics.income_deciles(y[keep])`` is for one village): the decile edges are numpy's
    linear quantiles of the village's kept incomes, computed with numpy's arithmetic on the
    sorted values (:func:`village_sim.metrics.quantiles_of_sorted`), and a household's decile
    is the number of edges at or below its income — exactly each village's own. ``order`` is
    ``seg.order(y)`` when the caller has it: the kept households in that order are sorted
    within each village already, so nothing is sorted again.
    """
    if np.isnan(y[keep]).any():
        raise ValueError("income_deciles: NaN incomes; allowed: numbers")
    if order is None:
        order = seg.order(y)
    kept_sorted = order[keep[order]]  # by village, then by income
    n = seg.count(keep)
    start_of = np.concatenate([[0], np.cumsum(n)])
    xs = y[kept_sorted]
    has = n > 0
    virtual = (n[has, None] - 1) * DECILE_QUANTILES[None, :]
    prev = np.floor(virtual)
    nxt = prev + 1
    beyond = virtual >= (n[has, None] - 1)
    start = start_of[:-1][has, None]
    last = start_of[1:][has, None] - 1
    prev_i = prev.astype(np.intp)
    a = xs[np.where(beyond, last, start + prev_i)]
    b = xs[np.where(beyond, last, start + nxt.astype(np.intp))]
    gamma = virtual - prev_i
    diff = b - a
    edges_kept = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=edges_kept, where=gamma >= 0.5)
    edges = np.full((seg.n_segments, DECILE_QUANTILES.size), np.inf)
    edges[has] = edges_kept
    # the edges at or below each income, counted edge by edge (a households × edges table of
    # comparisons summed along its rows costs three times as much)
    village_of = seg.village[kept_sorted]
    decile_sorted = np.zeros(xs.size, dtype=np.int64)
    for j in range(DECILE_QUANTILES.size):
        decile_sorted += xs >= edges[:, j][village_of]
    position = np.cumsum(keep) - 1  # each kept household's place among the kept, in y's order
    out = np.empty(kept_sorted.size, dtype=np.int64)
    out[position[kept_sorted]] = decile_sorted
    return out


def stratified(value: np.ndarray, group: np.ndarray, strata: np.ndarray, village: np.ndarray,
               n_villages: int, n_strata: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Each village's stratum-weighted mean difference and ratio, group against the rest.

    Difference: sum_s n_s (mean in group - mean outside) / sum_s n_s; ratio: sum_s n_s mean in
    group / sum_s n_s mean outside; over the strata of the village holding both groups (NaN
    where none does). :func:`village_sim.metrics.stratified_difference` and ``_ratio`` for
    every village at once, bit for bit.
    """
    cell = (village * n_strata + strata) * 2 + group.astype(bool)
    size_all = 2 * n_villages * n_strata
    counts = np.bincount(cell, minlength=size_all).reshape(n_villages, n_strata, 2)
    # bincount adds each cell's values in input order: each cell's sum is the village's own
    sums = np.bincount(cell, weights=value, minlength=size_all).reshape(
        n_villages, n_strata, 2)
    n_in, n_out = counts[..., 1], counts[..., 0]
    ok = (n_in > 0) & (n_out > 0)
    # the strata holding both groups, village after village in stratum order, summed per
    # village with numpy's own pairwise sum: the village's own sums over its own strata
    per = Segments(ok.sum(axis=1))
    size = (n_in + n_out)[ok].astype(np.float64)
    sum_in, sum_out, n_in, n_out = sums[..., 1][ok], sums[..., 0][ok], n_in[ok], n_out[ok]
    difference = ratio(per.exact_sum(size * (sum_in / n_in - sum_out / n_out)),
                       per.exact_sum(size))
    rate = ratio(per.exact_sum(size * sum_in / n_in), per.exact_sum(size * sum_out / n_out))
    rate[per.sizes == 0] = np.nan
    return difference, rate


def kin_premium(y: np.ndarray, registered: np.ndarray, cadre_kin: np.ndarray,
                cadre: np.ndarray, seg: Segments,
                order: np.ndarray | None = None) -> np.ndarray:
    """Registration premium of cadres' kin within each village's income deciles.

    ``order`` is ``seg.order(y)`` when the caller has it.
    """
    keep = ~cadre
    deciles = income_deciles(y, keep, seg, order)
    difference, _ = stratified(registered[keep].astype(np.float64), cadre_kin[keep], deciles,
                               seg.village[keep], seg.n_segments)
    return difference


def amount_kin_premiums(y: np.ndarray, registered: np.ndarray, aid: np.ndarray,
                        cadre_kin: np.ndarray, cadre: np.ndarray, seg: Segments,
                        order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The amount premium of each village as a ratio and as a difference in yuan.

    ``order`` is ``seg.order(y)`` when the caller has it.
    """
    keep = registered & ~cadre
    deciles = income_deciles(y, keep, seg, order)
    difference, rate = stratified(aid[keep], cadre_kin[keep], deciles, seg.village[keep],
                                  seg.n_segments)
    return rate, difference


HOUSEHOLD_METRICS = (
    "poverty_headcount", "poverty_gap", "poverty_severity", "gini",
    "poverty_headcount_post", "poverty_gap_post", "poverty_severity_post", "gini_post",
    "coverage", "exclusion_error", "inclusion_error_leakage", "inclusion_error_nonpoor",
    "mistargeting", "targeting_differential", "kin_premium", "amount_kin_premium",
    "amount_kin_premium_yuan",
)
"""The metrics :func:`household_metrics` gives (names as in ``VillageModel.metrics()``)."""

_NEED_REGISTER = HOUSEHOLD_METRICS[8:]


def household_metrics(stack: VillageStack) -> dict[str, np.ndarray]:
    """Every village's household metrics (:data:`HOUSEHOLD_METRICS`) from a stack's arrays.

    One pass of segment operations; one sort of y within villages serves the Gini and both
    decile sets. Targeting and the kin premiums are NaN in a village before its first
    identification, as in its own metrics.
    """
    seg = Segments([v.n for v in stack.villages])
    col = stack.column
    y = stack.per_capita_income()
    z = seg.broadcast(stack.per_village("poverty_line"))
    w = col("persons_float")
    aid_12 = col("aid_hist").sum(axis=0)
    post = (col("income_hist").sum(axis=0) + aid_12
            + col("other_transfer_hist").sum(axis=0)) / col("persons")
    order = seg.order(y, stable=False)  # used for sorted values only (Gini, deciles)
    out: dict[str, np.ndarray] = {}
    for suffix, inc, inc_order in (("", y, order), ("_post", post, None)):
        p0, p1, p2 = fgt_all(inc, z, w, seg)
        out["poverty_headcount" + suffix], out["poverty_gap" + suffix] = p0, p1
        out["poverty_severity" + suffix] = p2
        out["gini" + suffix] = gini(inc, w, seg, inc_order)
    registered, kin, cadre = col("registered"), col("cadre_kin"), col("cadre")
    out.update(targeting(y < z, registered, seg))
    out["kin_premium"] = kin_premium(y, registered, kin, cadre, seg, order)
    out["amount_kin_premium"], out["amount_kin_premium_yuan"] = amount_kin_premiums(
        y, registered, aid_12, kin, cadre, seg, order)
    identified = stack.per_village("identified").astype(bool)
    for name in _NEED_REGISTER:
        out[name] = np.where(identified, out[name], np.nan)
    return out


COUNTY_METRICS = (
    "poverty_headcount", "poverty_gap", "poverty_severity", "gini",
    "poverty_headcount_post", "gini_post",
    "coverage", "exclusion_error", "inclusion_error_leakage", "inclusion_error_nonpoor",
    "mistargeting", "kin_premium", "diverted_share", "registered_count",
    "between_village_gini", "between_village_share", "headcount_spread",
)
"""The county's monthly metrics (:func:`county_metrics`)."""

COUNTY_KEY_METRICS = ("poverty_headcount", "poverty_headcount_post", "kin_premium",
                      "diverted_share", "mistargeting", "between_village_gini")
"""The county metrics ``village-sim county`` summarises and draws (and a county sweep stores
when its spec names none)."""


def county_metrics(stack: VillageStack) -> dict[str, float]:
    """The county's metrics now: the village metrics over all its households, and between.

    * Poverty (FGT) and the Gini over every household of the county (persons-weighted, each
      household against its own village's poverty line).
    * Targeting over the households of the villages that have identified (NaN before).
    * The kin premium on registration: cadres' kin against other households within the same
      village's same income decile (strata = village × decile), so that a rich village's kin
      are never compared with a poor village's households.
    * The diverted share: money diverted over divertible money in the last 12 months, summed
      over villages.
    * Between villages: the Gini of the villages' mean per-capita incomes (persons-weighted),
      the share of the county's Theil index (T) that lies between villages, and the spread of
      the villages' poverty headcounts (highest minus lowest).
    """
    villages = Segments([v.n for v in stack.villages])
    whole = Segments([stack.n])
    col = stack.column
    y = stack.per_capita_income()
    z = villages.broadcast(stack.per_village("poverty_line"))
    w = col("persons_float")
    post = (col("income_hist").sum(axis=0) + col("aid_hist").sum(axis=0)
            + col("other_transfer_hist").sum(axis=0)) / col("persons")
    out: dict[str, float] = {}
    p0, p1, p2 = fgt_all(y, z, w, whole)
    out["poverty_headcount"], out["poverty_gap"], out["poverty_severity"] = (
        float(p0[0]), float(p1[0]), float(p2[0]))
    out["gini"] = float(gini(y, w, whole)[0])
    out["poverty_headcount_post"] = float(fgt_all(post, z, w, whole)[0][0])
    out["gini_post"] = float(gini(post, w, whole)[0])
    registered, cadre = col("registered"), col("cadre")
    identified = villages.broadcast(stack.per_village("identified").astype(bool))
    if identified.any():
        share = targeting((y < z)[identified], registered[identified],
                          Segments([int(identified.sum())]))
        for name in ("coverage", "exclusion_error", "inclusion_error_leakage",
                     "inclusion_error_nonpoor", "mistargeting"):
            out[name] = float(share[name][0])
        keep = ~cadre & identified
        deciles = income_deciles(y, keep, villages, villages.order(y, stable=False))
        strata = villages.village[keep] * 10 + deciles
        difference, _ = stratified(registered[keep].astype(np.float64), col("cadre_kin")[keep],
                                   strata, np.zeros(int(keep.sum()), dtype=np.int64), 1,
                                   n_strata=10 * villages.n_segments)
        out["kin_premium"] = float(difference[0])
    else:
        for name in ("coverage", "exclusion_error", "inclusion_error_leakage",
                     "inclusion_error_nonpoor", "mistargeting", "kin_premium"):
            out[name] = float("nan")
    # the last 12 months of every village, as one village × month table each
    diverted = float(np.sum([v.flow_hist["diverted"] for v in stack.villages]))
    divertible = float(np.sum([v.flow_hist["divertible"] for v in stack.villages]))
    out["diverted_share"] = float(ratio(np.array(diverted), np.array(divertible)))
    out["registered_count"] = float(registered.sum())
    # between villages
    persons = villages.sum(w)
    mean = ratio(villages.sum(w * y), persons)
    ok = persons > 0
    out["between_village_gini"] = float(gini(mean[ok], persons[ok],
                                             Segments([int(ok.sum())]))[0])
    out["between_village_share"] = _theil_between_share(y, w, villages)
    headcounts = fgt_all(y, z, w, villages)[0]
    out["headcount_spread"] = float(np.nanmax(headcounts) - np.nanmin(headcounts))
    return out


def _theil_between_share(y: np.ndarray, w: np.ndarray, seg: Segments) -> float:
    """The share of Theil's T over all households that lies between villages' means.

    Incomes at or below zero have no logarithm: they are left out (NaN if nothing is left).
    """
    keep = y > 0
    if not keep.any():
        return float("nan")
    y, w = y[keep], w[keep]
    village = seg.village[keep]
    total_w = float(w.sum())
    mu = float((w * y).sum()) / total_w
    theil = float((w * (y / mu) * np.log(y / mu)).sum()) / total_w
    pw = np.bincount(village, weights=w, minlength=seg.n_segments)
    py = np.bincount(village, weights=w * y, minlength=seg.n_segments)
    has = pw > 0
    mean_v = py[has] / pw[has]
    between = float((pw[has] * (mean_v / mu) * np.log(mean_v / mu)).sum()) / total_w
    return between / theil if theil > 0 else float("nan")
