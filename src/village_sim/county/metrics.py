"""The village metrics of many villages at once, from their stacked household arrays.

Each function computes, for every village of a county in one pass of segment operations
(:class:`village_sim.segments.Segments`; no loop over villages), what
:mod:`village_sim.metrics` computes for one village: poverty (FGT), the Gini coefficient,
targeting, and the kin premiums on registration and on aid. Same definitions, same strata (the
income deciles of each village's own households), and village v's value is its own
``VillageModel.metrics()`` value bit for bit: counts and sums of whole numbers are exact in any
order, every other sum is the village's own pairwise sum (:meth:`Segments.exact_sum`,
docs/county_engine.md, D4), and the Gini reads each village's incomes in the order its own
``np.argsort`` gives (:func:`argsort_like`). ``tests/test_county_metrics.py`` compares every
village of a running county with its own metrics, month after month;
:func:`village_metrics_frame` is ``VillageStack.metrics()``'s table computed that way.

:func:`county_metrics` gives the county's own metrics, over all its households and between its
villages, every month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from village_sim.county.books import CHANNEL, FLOW, MEMO
from village_sim.mechanisms.deterrence import (
    MONTHLY_CHANNELS,
    announced_risk,
    learned_risk,
    learned_risks,
    prior_of,
    seen_risk,
)
from village_sim.metrics import DECILE_QUANTILES, targeting_from_counts
from village_sim.segments import Segments
from village_sim.stack import VillageStack

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

Transfers = tuple[np.ndarray, np.ndarray]
"""Each household's aid and other transfers over the last 12 months (the county engine's
``transfers_12``, summed once a month)."""

__all__ = [
    "COUNTY_KEY_METRICS",
    "COUNTY_METRICS",
    "HOUSEHOLD_METRICS",
    "argsort_like",
    "county_metrics",
    "household_metrics",
    "household_tallies",
    "village_metrics_columns",
    "village_metrics_frame",
    "fgt_all",
    "gini",
    "headcount",
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


def headcount(y: np.ndarray, z: np.ndarray, weights: np.ndarray,
              seg: Segments) -> np.ndarray:
    """Poverty headcount (P0) of each village: the persons below the line over all persons.

    ``weights`` are persons, whole numbers: their sums are exact in any order, so a segmented
    sum gives each village's own value.
    """
    return ratio(seg.sum(weights * (y < z)), seg.sum(weights))


def fgt_all(y: np.ndarray, z: np.ndarray, weights: np.ndarray,
            seg: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Headcount, gap and severity (P0, P1, P2) of each village, persons-weighted.

    ``z`` is each household's village's poverty line (:meth:`Segments.broadcast`); P0 as
    :func:`headcount`.
    """
    poor = y < z
    gap = np.where(poor, (z - y) / z, 0.0)
    wg = weights * gap
    total = seg.sum(weights)
    return (ratio(seg.sum(weights * poor), total), ratio(seg.exact_sum(wg), total),
            ratio(seg.exact_sum(wg * gap), total))


def argsort_like(y: np.ndarray, weights: np.ndarray, seg: Segments,
                 loops: ModuleType | None = None) -> np.ndarray:
    """An order sorting ``y`` within each village, reading y and weights as np.argsort's does.

    In this order ``y`` and ``weights`` are, bit for bit, what they are in the order of the
    village's own ``np.argsort(y)`` (what its Gini sorts by). Any order that sorts a village's
    incomes reads the same wherever its equal incomes have equal weights (and the same bits:
    not zeros of both signs). So all of y is sorted at once (``np.argsort``, numpy's SIMD
    quicksort, about as quick as the radix sort of 16-bit keys this replaced at 60,000
    households, quicker at 300,000 and with no slow case where incomes tie), then by village;
    a village holding NaN, or equal incomes of unequal weights — whose order ``np.argsort``
    leaves to its own arithmetic on that village's incomes, and the Gini's sums would see in
    their last bits — is sorted by ``np.argsort`` itself. One segment is sorted by
    ``np.argsort`` itself. With the county's compiled ``loops`` the sort of all of y is
    theirs (:func:`_stable_order`: a radix sort, 4-6 times quicker here), read the same way.
    """
    return _sorted_like_argsort(y, weights, seg, loops)[0]


def _sorted_like_argsort(y: np.ndarray, weights: np.ndarray, seg: Segments,
                         loops: ModuleType | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`argsort_like`'s order, and y in that order."""
    y = np.asarray(y, dtype=np.float64)
    if seg.n_segments == 1:
        order = np.argsort(y)
        return order, y[order]
    order = seg.regroup(np.argsort(y) if loops is None else _stable_order(y, loops))
    x = y[order]
    i = np.flatnonzero(~(x[:-1] < x[1:]))  # neighbours equal, or NaN
    i = i[seg.village[i] == seg.village[i + 1]]
    unlike = ((x[i].view(np.int64) != x[i + 1].view(np.int64))
              | (weights[order[i]] != weights[order[i + 1]]))
    for v in np.unique(seg.village[i[unlike]]):
        block = seg.block(int(v))
        order[block] = np.argsort(y[block]) + block.start
        x[block] = y[order[block]]
    return order, x


def gini(y: np.ndarray, weights: np.ndarray, seg: Segments,
         order: np.ndarray | None = None, loops: ModuleType | None = None) -> np.ndarray:
    """Weighted Gini coefficient of each village (NaN for no weight or no income).

    ``weights`` are persons (as integers their running sums are quicker, and the same);
    ``order`` is ``argsort_like(y, weights, seg)`` when the caller has it; ``loops``, the
    county's compiled loops, sort for it where it does not.
    """
    if order is None:
        order, x = _sorted_like_argsort(y, weights, seg, loops)
    else:
        x = y[order]
    return _gini_of_sorted(x, weights[order], seg)


def _gini_of_sorted(x: np.ndarray, w: np.ndarray, seg: Segments) -> np.ndarray:
    """:func:`gini` of incomes ``x`` sorted within each village, weights ``w`` in their order."""
    cum_w = np.cumsum(w)
    if seg.n_segments > 1:
        # each village's own running sum: persons are whole numbers, so the global running
        # sum minus the sum before the village is, exactly
        before = np.concatenate([[0], cum_w])[seg.offsets[:-1]]
        cum_w = cum_w - seg.broadcast(before)
    cum_w = cum_w.astype(np.float64, copy=False)
    w = w.astype(np.float64, copy=False)
    total_w = seg.exact_sum(w)
    wx = w * x
    total_income = seg.exact_sum(wx)
    inner = seg.exact_sum(wx * (cum_w - 0.5 * w))
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
    ``metrics.income_deciles(y[keep])`` is for one village); the deciles are the village's own
    (:func:`_decile_bounds`). ``order`` sorts ``y`` within each village (ties in any order)
    when the caller has one: then nothing is sorted again.
    """
    kept, xs, n = _kept_in_order(y, keep, seg, order)
    bounds = _decile_bounds(xs, n[n > 0])
    # the edges whose first household comes at or before each place, less those of the
    # villages before
    passed = np.cumsum(np.bincount(bounds[:, 1:-1].ravel(), minlength=xs.size + 1)[:xs.size])
    villages_before = np.repeat(np.arange(bounds.shape[0]), bounds[:, -1] - bounds[:, 0])
    position = np.cumsum(keep) - 1  # each kept household's place among the kept, in y's order
    out = np.empty(kept.size, dtype=np.int64)
    out[position[kept]] = passed - DECILE_QUANTILES.size * villages_before
    return out


def _kept_in_order(y: np.ndarray, keep: np.ndarray, seg: Segments,
                   order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept households village by village, poorest first, with their incomes.

    And each village's number of them. ``order`` sorts ``y`` within each village (None: it is
    sorted here: in any order of equal incomes, as the deciles are read from values).
    """
    if order is None:
        order = seg.order(y, stable=False)
    kept = order[keep[order]]
    xs = y[kept]
    if np.isnan(xs).any():
        raise ValueError("income_deciles: NaN incomes; allowed: numbers")
    return kept, xs, seg.count(keep)


def _decile_bounds(xs: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Where each village's income deciles begin among its kept households, poorest first.

    ``xs`` are the households' incomes, village by village, ascending, and ``n`` how many
    each village holds (none empty). For each village: its first place, the first place at or
    above each of its 9 decile edges (in ascending order), and its end (villages × 11), so
    that decile d holds the places from column d to column d + 1, a household's decile being
    the number of edges at or below its income. The edges are numpy's linear quantiles of the
    village's incomes, with numpy's arithmetic on the sorted values
    (:func:`village_sim.metrics.quantiles_of_sorted`): the deciles are each village's own.
    """
    end = np.cumsum(n)[:, None]
    start = end - n[:, None]
    last = end - 1
    virtual = (n[:, None] - 1) * DECILE_QUANTILES[None, :]
    prev = np.floor(virtual)
    nxt = prev + 1
    beyond = virtual >= (n[:, None] - 1)
    prev_i = prev.astype(np.intp)
    at_a = np.where(beyond, last, start + prev_i)
    a = xs[at_a]
    b = xs[np.where(beyond, last, start + nxt.astype(np.intp))]
    gamma = virtual - prev_i
    diff = b - a
    edges = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=edges, where=gamma >= 0.5)
    # an edge's first household: its lower neighbour a where the edge equals a, else the next
    first = np.where(a >= edges, at_a, at_a + 1)
    m = xs.size
    if not (((first == start) | (xs[np.maximum(first - 1, 0)] < edges))
            & ((first == end) | (xs[np.minimum(first, m - 1)] >= edges))).all():
        # ties around an edge, or infinite incomes: the households below each edge, counted
        row, per = np.repeat(np.arange(n.size), n), Segments(n)
        first = start + np.stack([per.count(~(xs >= edges[row, j]))
                                  for j in range(DECILE_QUANTILES.size)], axis=1)
    # decile d starts where the d-th lowest edge does (edges out of order: NaN ones)
    return np.concatenate([start, np.sort(first, axis=1), end], axis=1)


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
    return _stratified_cells(counts, sums)


def _stratified_cells(counts: np.ndarray, sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stratified` from each cell's count and sum of values.

    Cells: villages × strata × 2 (outside the group, in it).
    """
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


def _registration_cells(registered: np.ndarray, kin: np.ndarray,
                        bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The households of each village's deciles and the registered among them, kin or not.

    ``registered`` and ``kin`` are the kept households' in ``bounds``' order
    (:func:`_decile_bounds`). Counts (villages × 10 × 2: not cadres' kin, kin) and the
    registered as floats (:func:`stratified`'s cells): running counts read at the bounds.
    """
    running = np.zeros(registered.size + 1, dtype=np.int64)

    def in_deciles(x: np.ndarray) -> np.ndarray:
        np.cumsum(x, out=running[1:])  # households counted before each place
        return np.diff(running[bounds], axis=1)

    kin = kin.astype(bool, copy=False)
    n_kin, registered_kin = in_deciles(kin), in_deciles(registered & kin)
    counts = np.stack([np.diff(bounds, axis=1) - n_kin, n_kin], axis=-1)
    sums = np.stack([in_deciles(registered) - registered_kin, registered_kin], axis=-1)
    return counts, sums.astype(np.float64)


def kin_premium(y: np.ndarray, registered: np.ndarray, cadre_kin: np.ndarray,
                cadre: np.ndarray, seg: Segments,
                order: np.ndarray | None = None) -> np.ndarray:
    """Registration premium of cadres' kin within each village's income deciles.

    ``order`` sorts ``y`` within each village when the caller has one.
    """
    kept, xs, n = _kept_in_order(y, ~cadre, seg, order)
    has = n > 0
    counts, sums = _registration_cells(registered[kept], cadre_kin[kept],
                                       _decile_bounds(xs, n[has]))
    difference = np.full(seg.n_segments, np.nan)
    difference[has] = _stratified_cells(counts, sums)[0]
    return difference


def amount_kin_premiums(y: np.ndarray, registered: np.ndarray, aid: np.ndarray,
                        cadre_kin: np.ndarray, cadre: np.ndarray, seg: Segments,
                        order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The amount premium of each village as a ratio and as a difference in yuan.

    ``order`` sorts ``y`` within each village when the caller has one. Aid is summed in y's
    order, as the village sums it.
    """
    keep = registered & ~cadre
    deciles = income_deciles(y, keep, seg, order)
    kept = np.flatnonzero(keep)  # in y's order (quicker to gather by than the mask)
    difference, rate = stratified(aid[kept], cadre_kin[kept], deciles, seg.village[kept],
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


def household_metrics(stack: VillageStack, income_12: np.ndarray | None = None,
                      transfers_12: Transfers | None = None, loops: ModuleType | None = None,
                      engine: StackedVillages | None = None) -> dict[str, np.ndarray]:
    """Every village's household metrics (:data:`HOUSEHOLD_METRICS`) from a stack's arrays.

    Each village's own ``VillageModel.household_metrics()``, bit for bit, in one pass of
    segment operations; one sort of y serves the Gini and both decile sets. Targeting and the
    kin premiums are NaN in a village before its first identification, as in its own metrics.
    ``income_12`` is each household's market income over the last 12 months, and
    ``transfers_12`` its aid and other transfers, when the caller has them (the county engine
    sums them once a month). ``loops`` are the county's compiled loops, which sort the
    incomes where there are (:func:`argsort_like`: the same orders read); ``engine`` the
    county engine, whose arrays give the villages' lines and identification (the same).
    """
    seg = stack.segments
    col = stack.column
    y, post, aid_12 = _incomes(stack, income_12, transfers_12)
    line, identified = _lines_and_identified(stack, engine)
    z = seg.broadcast(line)
    w, persons = col("persons_float"), col("persons")
    order = argsort_like(y, persons, seg, loops)
    out: dict[str, np.ndarray] = {}
    for suffix, inc, inc_order in (("", y, order), ("_post", post, None)):
        p0, p1, p2 = fgt_all(inc, z, w, seg)
        out["poverty_headcount" + suffix], out["poverty_gap" + suffix] = p0, p1
        out["poverty_severity" + suffix] = p2
        out["gini" + suffix] = gini(inc, persons, seg, inc_order, loops)
    registered, kin, cadre = col("registered"), col("cadre_kin"), col("cadre")
    out.update(targeting(y < z, registered, seg))
    out["kin_premium"] = kin_premium(y, registered, kin, cadre, seg, order)
    out["amount_kin_premium"], out["amount_kin_premium_yuan"] = amount_kin_premiums(
        y, registered, aid_12, kin, cadre, seg, order)
    for name in _NEED_REGISTER:
        out[name] = np.where(identified, out[name], np.nan)
    return out


def village_metrics_frame(stack: VillageStack, income_12: np.ndarray | None = None,
                          transfers_12: Transfers | None = None,
                          engine: StackedVillages | None = None,
                          loops: ModuleType | None = None) -> pd.DataFrame:
    """``VillageStack.metrics()``: every metric of each village now, one row per village.

    The same table, bit for bit, with the household metrics and tallies of all villages
    computed at once (:func:`household_metrics`, which the sums are passed to, and
    :func:`household_tallies`) and the rest by each village
    (``VillageModel.institution_metrics()``), or from the ``engine``'s tables where there is
    one (:func:`_institution_columns`); ``loops`` are the county's compiled loops, which sort
    the incomes where there are (the same orders read). The table of
    :func:`village_metrics_columns`.
    """
    return pd.DataFrame(village_metrics_columns(stack, income_12, transfers_12, engine, loops))


def village_metrics_columns(stack: VillageStack, income_12: np.ndarray | None = None,
                            transfers_12: Transfers | None = None,
                            engine: StackedVillages | None = None,
                            loops: ModuleType | None = None) -> dict[str, np.ndarray]:
    """:func:`village_metrics_frame`'s columns (``village`` first), one array each.

    For a caller that keeps many of them and makes one table at the end (a county's
    village-by-year table: a year's table is then a dictionary, not three pandas frames).
    """
    tallies = household_tallies(stack, engine)
    columns = _institution_columns(engine, tallies) if engine is not None else None
    if columns is None:
        each = zip(*(values.tolist() for values in tallies.values()), strict=True)
        rest = pd.DataFrame([v.institution_metrics(dict(zip(tallies, values, strict=True)))
                             for v, values in zip(stack.villages, each, strict=True)])
        columns = {name: rest[name].to_numpy() for name in rest.columns}
    out: dict[str, np.ndarray] = {"village": np.arange(stack.n_villages)}
    out.update(household_metrics(stack, income_12, transfers_12, loops, engine))
    out.update(columns)
    return out


def _institution_columns(e: StackedVillages, tallies: Mapping[str, np.ndarray]
                         ) -> dict[str, np.ndarray] | None:
    """``VillageModel.institution_metrics()`` of every village, as columns of the county's.

    The same names in the same order and the same numbers, read from the engine's books and
    numbers (county/books.py) where each village reads its own; each line below is the
    village's own, over all villages at once. None where the villages' survey findings or
    scores at identification are not named alike (each village then gives its own row).
    """
    vs = e.villages
    surveys = [v.survey for v in vs]
    scores = [v.at_identification for v in vs]
    if any(list(x) != list(surveys[0]) for x in surveys) or any(
            list(x) != list(scores[0]) for x in scores):
        return None
    books, P = e.books, e.params

    def each(name: str) -> np.ndarray:
        return np.array([float(getattr(v, name)) for v in vs])

    def flow(table: np.ndarray, index: Mapping[str, int], name: str) -> np.ndarray:
        return table[:, index[name]].copy()

    out: dict[str, np.ndarray] = {}
    diverted_12 = books.history_sums("diverted")
    out["diverted_share"] = ratio(diverted_12, books.history_sums("divertible"))
    out["missing_funds_share"] = ratio(diverted_12, books.history_sums("reported_spent"))
    for name in surveys[0]:
        out[name] = np.array([x[name] for x in surveys])
    items = [FLOW[k] for k in ("delivered", "diverted", "measures_spent", "projects_spent",
                                "staff_costs")]
    # Python's sum (compensated since Python 3.12), as the village adds its totals
    spent = np.array([sum(row) for row in books.totals[:, items].tolist()])
    out["cost_per_exit"] = ratio(spent, tallies["sustained_exits"])
    out["registered_count"] = tallies["registered_count"]
    out["mean_trust"] = tallies["mean_trust"]
    out["team_active"] = np.array([float(v.team_active) for v in vs])
    out["exits"] = each("exits_total")
    out["wrongful_exits"] = each("wrongful_exits_total")
    out["returns_to_poverty"] = tallies["returns_to_poverty"]
    out["project_capture_share"] = ratio(each("industry_misdirected"),
                                          each("industry_invested"))
    out["project_gain_gradient"] = tallies["project_gain_gradient"]
    out["matched_measure_share"] = ratio(each("measures_matched"), each("measures_given"))
    out["detected_diversions"] = e.gather("detected_diversions").astype(np.float64)
    for k in FLOW:
        out[k] = flow(books.flows, FLOW, k)
    out["divertible"] = flow(books.memo, MEMO, "divertible")
    out["team_visits_demanded"] = e.gather("team_visits_demanded").astype(np.float64)
    out["team_visits_done"] = e.gather("team_visits_done").astype(np.float64)
    out["team_known_share"] = tallies["team_known_share"]
    out["perceived_detection"] = tallies["perceived_detection"]
    out["registration_favoritism_dared"] = e.gather("favoritism_now").astype(np.float64)
    out["amount_favoritism_dared"] = (P("amount_favoritism")
                                      * books.intensity[:, CHANNEL["amount"]])
    capture = P("project_capture") * books.intensity[:, CHANNEL["project"]]
    out["project_capture_dared"] = np.where(capture < 1.0, capture, 1.0)  # min(1.0, capture)
    for name in scores[0]:
        out[f"{name}_at_identification"] = np.array([x[name] for x in scores])
    out["cadre_replacements"] = each("cadre_replacements")
    out["failed_assessments"] = each("failed_assessments")
    return out


def household_tallies(stack: VillageStack,
                      engine: StackedVillages | None = None) -> dict[str, np.ndarray]:
    """Every village's ``VillageModel.household_tallies()``, bit for bit, as arrays over villages.

    Counts are exact; mean trust is each village's own pairwise sum over its households
    (:meth:`Segments.exact_sum`) divided as ``np.mean`` divides it; so are the projects' gain
    gradient and the cadres' perceived detection (the end of a county's year took 0.2 ms a
    village when each village computed these two itself); with the ``engine``, the villages'
    announced and learned risks from its parameter arrays and books.
    """
    seg = stack.segments
    col = stack.column
    month = stack.month
    sustained = col("ever_exited") & ~col("registered") & ~col("poor_since_exit") & (
        month - col("exit_month") >= 12)
    memory = np.array([v.p.team_memory for v in stack.villages])
    knows = (month - col("team_last_visit") < seg.broadcast(memory)) & (
        col("team_signal_count") > 0)
    team_active = np.array([v.team_active for v in stack.villages], dtype=bool)
    return {
        "sustained_exits": seg.count(sustained).astype(np.float64),
        "registered_count": seg.count(col("registered")).astype(np.float64),
        "mean_trust": seg.exact_sum(col("trust")) / seg.sizes,
        "returns_to_poverty": seg.count(col("returned")).astype(np.float64),
        "team_known_share": np.where(team_active, seg.count(knows) / seg.sizes, 0.0),
        "project_gain_gradient": _project_gain_gradient(stack),
        "perceived_detection": _perceived_detection(stack.villages, engine),
    }


def _project_gain_gradient(stack: VillageStack) -> np.ndarray:
    """``metrics.project_gain_gradient`` of each village.

    The richest third's gain minus the poorest third's, each a ratio of the third's own
    pairwise sums (:meth:`Segments.exact_sum` of its households, in order), NaN where the
    third's baseline income is not positive.
    """
    col = stack.column
    tercile = col("baseline_tercile")
    gains = []
    for third in (2, 0):
        members = tercile == third
        within = Segments(stack.segments.count(members))
        project = within.exact_sum(col("project_income")[members])
        baseline = within.exact_sum(col("baseline_income")[members])
        with np.errstate(divide="ignore", invalid="ignore"):
            gains.append(np.where(baseline > 0, 100.0 * (project / baseline), np.nan))
    return gains[0] - gains[1]


def _perceived_detection(villages: Sequence[Any],
                         engine: StackedVillages | None = None) -> np.ndarray:
    """Each village's cadres' mean ``perceived_risk`` in channel ``diversion``.

    The village's announced and learned risks (Python numbers, as its own; with the
    ``engine``, its parameter arrays and books, as its deterrence phase reads them: the same
    numbers), each cadre's misperception applied element-wise (``seen_risk``), the mean as
    ``np.mean`` takes it: the committee's pairwise sum over its size.
    """
    channel = "diversion"
    perception = [v.risk_perception for v in villages]
    cadres = Segments([x.size for x in perception])
    if engine is not None:
        audit = engine.params.derived(f"announced_risk_{channel}",
                                      partial(announced_risk, channel=channel))
        prior = engine.params.derived(f"prior_{channel}", partial(prior_of, channel=channel))
        learned = learned_risks(engine.books.found[:, CHANNEL[channel]],
                                engine.books.exposure[:, CHANNEL[channel]], prior,
                                channel in MONTHLY_CHANNELS)
    else:
        audit = np.array([announced_risk(v.p, channel) for v in villages])
        learned = np.array([learned_risk(v.evidence_found[channel],
                                         v.evidence_exposure[channel],
                                         prior_of(v.p, channel), channel in MONTHLY_CHANNELS)
                            for v in villages])
    risk = seen_risk(audit[cadres.village], learned[cadres.village], np.concatenate(perception))
    return cadres.exact_sum(risk) / cadres.sizes


def _incomes(stack: VillageStack, income_12: np.ndarray | None = None,
             transfers_12: Transfers | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each household's y, its post-transfer per-capita income and its aid (last 12 months).

    The village's own additions (``per_capita_income``, ``per_capita_income_post``): its own
    values. ``income_12`` is the market income's sum, ``transfers_12`` the aid's and the other
    transfers', when the caller has them.
    """
    col = stack.column
    income_12, (aid_12, other_12) = _sums_12(stack, income_12, transfers_12)
    persons = col("persons_float")  # the persons, as the division makes them anyway
    post = (income_12 + aid_12 + other_12) / persons
    return income_12 / persons, post, aid_12


def _sums_12(stack: VillageStack, income_12: np.ndarray | None,
             transfers_12: Transfers | None) -> tuple[np.ndarray, Transfers]:
    """The market income's and the transfers' 12-month sums: the caller's, or summed here."""
    col = stack.column
    if income_12 is None:
        income_12 = col("income_hist").sum(axis=0)
    if transfers_12 is None:
        transfers_12 = (col("aid_hist").sum(axis=0), col("other_transfer_hist").sum(axis=0))
    return income_12, transfers_12


def _lines_and_identified(stack: VillageStack, engine: StackedVillages | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Each village's poverty line, and whether it has identified its poor yet.

    From the ``engine``'s parameter arrays where there is one.
    """
    if engine is not None:
        return engine.params("poverty_line"), engine.gather("identified", bool)
    villages, n = stack.villages, stack.n_villages
    return (np.fromiter((v.p.poverty_line for v in villages), dtype=np.float64, count=n),
            np.fromiter((v.identified for v in villages), dtype=bool, count=n))


COUNTY_METRICS = (
    "poverty_headcount", "poverty_gap", "poverty_severity", "gini",
    "poverty_headcount_post", "gini_post",
    "coverage", "exclusion_error", "inclusion_error_leakage", "inclusion_error_nonpoor",
    "mistargeting", "kin_premium", "diverted_share", "registered_count",
    "between_village_gini", "between_village_share", "headcount_spread",
)
"""The county's monthly metrics (:func:`county_metrics`)."""

_TARGETING = ("coverage", "exclusion_error", "inclusion_error_leakage",
              "inclusion_error_nonpoor", "mistargeting")
"""The targeting measures among the county's metrics."""

COUNTY_KEY_METRICS = ("poverty_headcount", "poverty_headcount_post", "kin_premium",
                      "diverted_share", "mistargeting", "between_village_gini")
"""The county metrics ``village-sim county`` summarises and draws (and a county sweep stores
when its spec names none)."""


def county_metrics(stack: VillageStack, income_12: np.ndarray | None = None,
                   transfers_12: Transfers | None = None,
                   loops: ModuleType | None = None,
                   engine: StackedVillages | None = None) -> dict[str, float]:
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

    Every sum over the county is numpy's own sum of its households in stack order (of the
    Gini's terms, in ``np.argsort(y, kind="stable")``'s order: equal incomes in the households'
    order. ``np.argsort``'s own order of equal incomes depends on the machine — numpy sorts
    with AVX-512 code where the processor has it, and the two orders of the same ties differ
    — and the Gini's last bits see it where equal incomes have unequal persons: post-transfer
    incomes do at the transfers' floor in most months after the first year. A village's own
    Gini keeps ``np.argsort``'s order: its records are made with AVX-512 off, tests/golden).
    ``income_12`` and
    ``transfers_12`` are each household's market income and transfers over the last 12 months
    when the caller has them (the county engine sums them once a month). ``loops`` are the
    county's compiled loops where it has them (``county.phases.draws.kernels``): its passes
    over the households then run there, with the same bits (numpy's pairwise sums reproduced,
    ``kernels.pairwise_sum``). ``engine`` is the county engine stepping the stack, where there
    is one: the villages' poverty lines, identification and books are then read from its
    arrays (the same numbers) instead of from each village.
    """
    if loops is not None:
        return _county_metrics_compiled(stack, loops, income_12, transfers_12, engine)
    villages = stack.segments
    whole = Segments([stack.n])
    col = stack.column
    y, post, _ = _incomes(stack, income_12, transfers_12)
    line, identified_village = _lines_and_identified(stack, engine)
    z = villages.broadcast(line)
    w = col("persons_float")
    out: dict[str, float] = {}
    p0, p1, p2 = fgt_all(y, z, w, whole)
    out["poverty_headcount"], out["poverty_gap"], out["poverty_severity"] = (
        float(p0[0]), float(p1[0]), float(p2[0]))
    persons = col("persons")
    y_order = np.argsort(y, kind="stable")  # equal incomes in the households' order
    out["gini"] = float(_gini_of_sorted(y[y_order], persons[y_order], whole)[0])
    out["poverty_headcount_post"] = float(headcount(post, z, w, whole)[0])
    post_order = np.argsort(post, kind="stable")
    out["gini_post"] = float(_gini_of_sorted(post[post_order], persons[post_order], whole)[0])
    registered, cadre = col("registered"), col("cadre")
    identified = villages.broadcast(identified_village)
    if identified.any():
        poor, listed = y < z, registered
        if not identified.all():
            poor, listed = poor[identified], listed[identified]
        share = targeting(poor, listed, Segments([poor.size]))
        for name in _TARGETING:
            out[name] = float(share[name][0])
        # the county's order of y, village by village, sorts each village's incomes
        kept, xs, n = _kept_in_order(y, ~cadre & identified, villages,
                                     villages.regroup(y_order))
        counts, sums = _registration_cells(registered[kept], col("cadre_kin")[kept],
                                           _decile_bounds(xs, n[n > 0]))
        difference, _ = _stratified_cells(counts.reshape(1, -1, 2), sums.reshape(1, -1, 2))
        out["kin_premium"] = float(difference[0])
    else:
        for name in (*_TARGETING, "kin_premium"):
            out[name] = float("nan")
    out["diverted_share"] = _diverted_share(stack, engine)
    out["registered_count"] = float(registered.sum())
    out.update(_between_villages(stack, y, w, _village_sums(y, z, w, villages)))
    return out


def _county_metrics_compiled(stack: VillageStack, loops: ModuleType,
                             income_12: np.ndarray | None, transfers_12: Transfers | None,
                             engine: StackedVillages | None) -> dict[str, float]:
    """:func:`county_metrics` with its passes over the households in compiled loops.

    The same definitions, the same orders (numpy's stable sort's, :func:`_stable_order`; the
    deciles' bounds), the same bits (tests/test_county_metrics.py runs both ways).
    """
    villages = stack.segments
    col = stack.column
    income_12, transfers_12 = _sums_12(stack, income_12, transfers_12)
    line, identified_village = _lines_and_identified(stack, engine)
    w = col("persons_float")
    persons = col("persons")
    registered = col("registered")
    n_h, n_v = stack.n, villages.n_segments
    y, post, wg, wg2 = np.empty(n_h), np.empty(n_h), np.empty(n_h), np.empty(n_h)
    per_village = np.empty(n_v), np.empty(n_v), np.empty(n_v)  # persons, below, income
    (total, poor, gap, severity, poor_post, n, n_poor, listed, both,
     all_listed) = loops.county_passes(villages.offsets, income_12, *transfers_12, w,
                                       np.asarray(line, dtype=np.float64), registered,
                                       identified_village, y, post, wg, wg2, *per_village)
    out: dict[str, float] = {}
    for name, value in (("poverty_headcount", poor), ("poverty_gap", gap),
                        ("poverty_severity", severity)):
        out[name] = value / total if total > 0 else float("nan")
    y_order = _stable_order(y, loops)
    out["gini"] = _gini_from_sums(*loops.gini_sums(y, persons, y_order))
    out["poverty_headcount_post"] = poor_post / total if total > 0 else float("nan")
    post_order = _stable_order(post, loops)
    out["gini_post"] = _gini_from_sums(*loops.gini_sums(post, persons, post_order))
    if n > 0:
        share = targeting_from_counts(np.array([n]), np.array([n_poor]), np.array([listed]),
                                      np.array([both]), ratio)
        out.update({name: float(share[name][0]) for name in _TARGETING})
        keep = ~col("cadre") & villages.broadcast(identified_village)
        kept, xs = np.empty(stack.n, dtype=np.int64), np.empty(stack.n)
        counts = np.zeros(villages.n_segments, dtype=np.int64)
        m = loops.kept_by_village(y_order, villages.village, keep, villages.n_segments, y, kept,
                                  xs, counts)
        kept, xs = kept[:m], xs[:m]
        if np.isnan(xs).any():
            raise ValueError("income_deciles: NaN incomes; allowed: numbers")
        bounds = _decile_bounds(xs, counts[counts > 0])
        cells = np.empty((bounds.shape[0], bounds.shape[1] - 1, 2), dtype=np.int64)
        sums = np.empty(cells.shape)
        loops.registration_cells(kept, registered, col("cadre_kin"), bounds, cells, sums)
        difference, _ = _stratified_cells(cells.reshape(1, -1, 2), sums.reshape(1, -1, 2))
        out["kin_premium"] = float(difference[0])
    else:
        out.update({name: float("nan") for name in (*_TARGETING, "kin_premium")})
    out["diverted_share"] = _diverted_share(stack, engine)
    out["registered_count"] = float(all_listed)
    out.update(_between_villages(stack, y, w, per_village))
    return out


def _stable_order(y: np.ndarray, loops: ModuleType) -> np.ndarray:
    """``np.argsort(y, kind="stable")`` by the compiled loops: equal incomes in stack order.

    The keys of the values with their places (``kernels.sort_keys``) sorted by the values' bits
    (``kernels.sort_high_bits``, a radix sort: the places are in order already), read back,
    the runs of incomes the keys could not tell apart sorted by value, and checked
    (``kernels.stable_order``); where zeros of both signs are present or y holds NaN, numpy's
    stable sort itself. About 0.6-0.8 ms at 60,000 incomes here, against 2.9-4.5 ms for
    ``np.argsort`` of the doubles (stable or not) and 2.4-2.7 ms for ``np.sort`` of the keys,
    which sorted them until 2026-12-03 (numpy 2.5 on this machine; docs/county_engine.md).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.size
    bits = max(1, (n - 1).bit_length())
    keys = np.empty(n, dtype=np.uint64)
    if n >= 2 and bits <= 40 and loops.sort_keys(y, bits, keys):
        loops.sort_high_bits(keys, bits, np.empty_like(keys))
        order = np.empty(n, dtype=np.int64)
        if loops.stable_order(keys, bits, y, order):
            return order
    return np.argsort(y, kind="stable")


def _gini_from_sums(total_w: float, total_income: float, inner: float) -> float:
    """The Gini from :func:`_gini_of_sorted`'s three sums (NaN for no weight or no income)."""
    if total_w > 0 and total_income != 0:
        return 2.0 * inner / (total_w * total_income) - 1.0
    return float("nan")


def _diverted_share(stack: VillageStack, engine: StackedVillages | None = None) -> float:
    """Money diverted over divertible money in the last 12 months, summed over villages.

    Each sum is numpy's over the villages' 12-month histories, village after village (as
    ``np.sum`` of their list sums the table it makes of them); from the ``engine``'s books
    (whose rows the villages' histories are) where there is one.
    """
    if engine is not None:
        return float(ratio(np.array(engine.books.summed_history("diverted")),
                           np.array(engine.books.summed_history("divertible"))))
    diverted = float(np.concatenate([v.flow_hist["diverted"] for v in stack.villages]).sum())
    divertible = float(np.concatenate([v.flow_hist["divertible"]
                                       for v in stack.villages]).sum())
    return float(ratio(np.array(diverted), np.array(divertible)))


def _village_sums(y: np.ndarray, z: np.ndarray, w: np.ndarray,
                  seg: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each village's persons, persons below its line and persons-weighted income.

    Persons are whole numbers (their sums exact in any order); the income is summed in
    ``np.bincount``'s order.
    """
    return (seg.sum(w), seg.sum(w * (y < z)),
            np.bincount(seg.village, weights=w * y, minlength=seg.n_segments))


def _between_villages(stack: VillageStack, y: np.ndarray, w: np.ndarray,
                      per_village: tuple[np.ndarray, np.ndarray, np.ndarray]
                      ) -> dict[str, float]:
    """The between-village metrics of :func:`county_metrics`.

    ``per_village``: each village's persons, persons below its line and ``w * y`` summed as
    ``np.bincount`` sums it (:func:`_village_sums`, or ``kernels.county_passes``: the same
    numbers).
    """
    villages = stack.segments
    out: dict[str, float] = {}
    wy = w * y
    village_persons, poor, income = per_village
    headcounts = ratio(poor, village_persons)
    mean = ratio(villages.sum(wy), village_persons)
    ok = village_persons > 0
    out["between_village_gini"] = float(gini(mean[ok], village_persons[ok],
                                             Segments([int(ok.sum())]))[0])
    out["between_village_share"] = _theil_between_share(y, w, wy, villages, village_persons,
                                                        income)
    out["headcount_spread"] = float(np.nanmax(headcounts) - np.nanmin(headcounts))
    return out


def _theil_between_share(y: np.ndarray, w: np.ndarray, wy: np.ndarray, seg: Segments,
                         persons: np.ndarray, income: np.ndarray) -> float:
    """The share of Theil's T over all households that lies between villages' means.

    ``wy`` is ``w * y``, ``persons`` the sum of ``w`` in each village, ``income`` the sum of
    ``wy`` in each village as ``np.bincount`` sums it. Incomes at or below zero have no
    logarithm: they are left out (NaN if nothing is left).
    """
    keep = y > 0
    village = seg.village
    if not keep.all():
        if not keep.any():
            return float("nan")
        y, w, wy, village = y[keep], w[keep], wy[keep], village[keep]
        persons = np.bincount(village, weights=w, minlength=seg.n_segments)
    total_w = float(w.sum())
    mu = float(wy.sum()) / total_w
    relative = y / mu
    theil = float((w * relative * np.log(relative)).sum()) / total_w
    py = income if y.size == seg.n else np.bincount(village, weights=wy,
                                                    minlength=seg.n_segments)
    has = persons > 0
    mean_v = py[has] / persons[has]
    between = float((persons[has] * (mean_v / mu) * np.log(mean_v / mu)).sum()) / total_w
    return between / theil if theil > 0 else float("nan")
