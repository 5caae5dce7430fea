"""Poverty, inequality and targeting metrics (../shared/DESIGN.md §5), as pure functions.

Notation: ``y`` is pre-transfer per-capita income over the last 12 months, ``z`` the poverty
line, ``poor`` is ``y < z``, ``registered`` the register at the time of measurement. FGT and Gini
are weighted by persons; targeting metrics count households, as Alatas et al. (2012) do. A metric
that is undefined (an empty group, a zero denominator) is NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "amount_kin_premium",
    "amount_kin_premiums",
    "amount_kin_ratio",
    "fgt",
    "fgt_all",
    "gini",
    "income_deciles",
    "income_deciles_within",
    "project_gain_gradient",
    "quantiles_of_sorted",
    "kin_premium",
    "ratio",
    "stratified_difference",
    "stratified_ratio",
    "targeting",
    "targeting_from_counts",
]

NAN = float("nan")


def ratio(num: float, den: float) -> float:
    """Num / den, or NaN when den is not positive (an undefined metric)."""
    return float(num) / float(den) if den > 0 else NAN


def fgt(y: np.ndarray, z: float, weights: np.ndarray, alpha: int) -> float:
    """Foster–Greer–Thorbecke index P_alpha, weighted by ``weights`` (persons).

    P_a = sum_i w_i 1[y_i < z] ((z - y_i) / z)^a / sum_i w_i.
    """
    poor = y < z
    gap = np.where(poor, (z - y) / z, 0.0)
    terms = poor.astype(np.float64) if alpha == 0 else gap**alpha
    return ratio(float(np.sum(weights * terms)), float(np.sum(weights)))


def fgt_all(y: np.ndarray, z: float, weights: np.ndarray) -> tuple[float, float, float]:
    """P_0, P_1 and P_2 (headcount, gap, severity) in one pass; see :func:`fgt`."""
    total = float(np.sum(weights))
    gap = np.where(y < z, (z - y) / z, 0.0)
    wg = weights * gap
    return (
        ratio(float(np.sum(weights * (y < z))), total),
        ratio(float(np.sum(wg)), total),
        ratio(float(np.sum(wg * gap)), total),
    )


def gini(y: np.ndarray, weights: np.ndarray, order: np.ndarray | None = None) -> float:
    """Weighted Gini coefficient (mean absolute difference over twice the mean).

    With unit weights this is the usual ``2 sum_i i y_(i) / (n sum y) - (n + 1) / n``.
    ``order`` is ``np.argsort(y)`` when the caller has it already.
    """
    if order is None:
        order = np.argsort(y)  # the sum below does not depend on the order within ties
    x = y[order]
    w = weights[order]
    if w.dtype != np.float64:
        w = w.astype(np.float64)
    total_w = w.sum()
    total_income = float(np.sum(w * x))
    if total_w <= 0 or total_income == 0:
        return NAN
    cum_w = np.cumsum(w)
    return float(2.0 * np.sum(w * x * (cum_w - 0.5 * w)) / (total_w * total_income) - 1.0)


def targeting(poor: np.ndarray, registered: np.ndarray) -> dict[str, float]:
    """Coverage, exclusion and inclusion errors, mistargeting and targeting differential."""
    return targeting_from_counts(poor.size, int(poor.sum()), int(registered.sum()),
                                 int(np.sum(poor & registered)), ratio)


def targeting_from_counts(n: Any, n_poor: Any, n_reg: Any, poor_reg: Any,
                          divide: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """The targeting measures from households, poor, registered and poor registered counts.

    ``divide(num, den)`` is :func:`ratio` for one village; the county passes its element-wise
    version to get every village's measures from arrays of counts.
    """
    nonpoor_reg = n_reg - poor_reg
    coverage = divide(poor_reg, n_poor)
    inclusion_nonpoor = divide(nonpoor_reg, n - n_poor)
    return {
        "coverage": coverage,
        "exclusion_error": 1.0 - coverage,
        "inclusion_error_leakage": divide(nonpoor_reg, n_reg),
        "inclusion_error_nonpoor": inclusion_nonpoor,
        "mistargeting": divide((n_poor - poor_reg) + nonpoor_reg, n),
        "targeting_differential": coverage - inclusion_nonpoor,
    }


def _stratum_sums(
    value: np.ndarray, group: np.ndarray, strata: np.ndarray, n_strata: int
) -> tuple[np.ndarray, ...] | None:
    """Per stratum holding both groups: its size, then sum and count in and outside the group."""
    if value.size == 0:
        return None
    # one cell per (stratum, in or out of the group); bincount adds in input order, so each
    # cell's sum is the same as over that cell's entries alone
    cell = 2 * strata + group.astype(bool)
    counts = np.bincount(cell, minlength=2 * n_strata)
    sums = np.bincount(cell, weights=value, minlength=2 * n_strata)
    n_in, n_out = counts[1::2], counts[0::2]
    sum_in, sum_out = sums[1::2], sums[0::2]
    ok = (n_in > 0) & (n_out > 0)
    if not ok.any():
        return None
    size = (n_in + n_out)[ok].astype(np.float64)
    return size, sum_in[ok], n_in[ok], sum_out[ok], n_out[ok]


def stratified_difference(
    value: np.ndarray, group: np.ndarray, strata: np.ndarray, n_strata: int
) -> float:
    """Stratum-size-weighted mean of (mean value in group) - (mean value outside group).

    Strata that lack either group are skipped; NaN when none is left.
    """
    sums = _stratum_sums(value, group, strata, n_strata)
    if sums is None:
        return NAN
    size, sum_in, n_in, sum_out, n_out = sums
    diff = sum_in / n_in - sum_out / n_out
    return float(np.sum(size * diff) / np.sum(size))


DECILE_QUANTILES = np.linspace(0.1, 0.9, 9)


def quantiles_of_sorted(xs: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(xs, q)`` (its default, linear method) of an ascending, non-empty ``xs``.

    The same arithmetic as numpy's (virtual index ``(n - 1) q``, its neighbours, numpy's
    two-sided linear interpolation), so the same values to the last bit, without the
    partition that ``np.quantile`` needs for unsorted data. NaN data: ``np.quantile`` itself.
    """
    n = xs.size
    if np.isnan(xs[-1]):
        return np.quantile(xs, q)
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    nxt = prev + 1
    beyond = virtual >= n - 1
    prev[beyond] = -1  # numpy takes the largest value there
    nxt[beyond] = -1
    prev_i = prev.astype(np.intp)
    a, b = xs[prev_i], xs[nxt.astype(np.intp)]
    gamma = virtual - prev_i
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def income_deciles(y: np.ndarray) -> np.ndarray:
    """Decile index (0-9) of each entry of ``y``; ties share a decile."""
    if y.size == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.quantile(y, DECILE_QUANTILES)
    return np.searchsorted(edges, y, side="right").astype(np.int64)


def _sorted_deciles(
    y: np.ndarray, order: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The kept entries' ids in ascending order of ``y`` and their deciles (see below).

    None when the decile edges are not monotone (never for real data): then the caller keeps
    ``np.searchsorted``'s answer.
    """
    kept = order[keep[order]]  # household ids of the kept entries, poorest first
    if kept.size == 0:
        return kept, np.zeros(0, dtype=np.int64)
    xs = y[kept]
    edges = quantiles_of_sorted(xs, DECILE_QUANTILES)
    if np.any(edges[1:] < edges[:-1]):
        return None
    # sorted position i has decile #{edges <= xs[i]}: edge e counts from the first xs >= e
    starts = np.searchsorted(xs, edges, side="left")
    return kept, np.cumsum(np.bincount(starts, minlength=kept.size + 1)[:kept.size])


def income_deciles_within(y: np.ndarray, order: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``income_deciles(y[keep])`` from ``order = np.argsort(y)``, without sorting again.

    The kept entries in ascending order are ``y[order][keep[order]]``; their decile edges
    and each entry's decile follow from positions in that sorted list (the same values and
    comparisons as ``np.quantile`` and ``np.searchsorted``, so the same deciles).
    """
    found = _sorted_deciles(y, order, keep)
    if found is None:
        return income_deciles(y[keep])
    kept, decile_sorted = found
    # back to the order of y[keep]: position of each kept household among the kept
    position = np.cumsum(keep) - 1
    out = np.empty(kept.size, dtype=np.int64)
    out[position[kept]] = decile_sorted
    return out


def _deciles(y: np.ndarray, keep: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """Deciles of ``y[keep]``, from ``order = np.argsort(y)`` when the caller has it."""
    return income_deciles(y[keep]) if order is None else income_deciles_within(y, order, keep)


def kin_premium(
    y: np.ndarray, registered: np.ndarray, cadre_kin: np.ndarray, cadre: np.ndarray,
    order: np.ndarray | None = None,
) -> float:
    """Registration premium of cadres' kin within income deciles (cadre households excluded).

    kin_premium = sum_s n_s (P(B | kin, s) - P(B | not kin, s)) / sum_s n_s, s = deciles of y.
    ``order`` is ``np.argsort(y)`` when the caller has it.
    """
    keep = ~cadre
    found = None if order is None else _sorted_deciles(y, order, keep)
    if found is not None:
        # registration is 0 or 1, so its sums are exact in any order: stay in y's order
        kept, deciles = found
        return stratified_difference(
            registered[kept].astype(np.float64), cadre_kin[kept], deciles, 10)
    return stratified_difference(
        registered[keep].astype(np.float64), cadre_kin[keep], income_deciles(y[keep]), 10
    )


def stratified_ratio(
    value: np.ndarray, group: np.ndarray, strata: np.ndarray, n_strata: int
) -> float:
    """sum_s n_s (mean value in group, s) / sum_s n_s (mean value outside group, s).

    Over strata holding both groups (n_s = households in the stratum); NaN when none is left
    or the denominator is 0. 1 means no difference.
    """
    sums = _stratum_sums(value, group, strata, n_strata)
    if sums is None:
        return NAN
    size, sum_in, n_in, sum_out, n_out = sums
    return ratio(float(np.sum(size * sum_in / n_in)), float(np.sum(size * sum_out / n_out)))


def amount_kin_premiums(
    y: np.ndarray, registered: np.ndarray, aid: np.ndarray, cadre_kin: np.ndarray,
    cadre: np.ndarray, order: np.ndarray | None = None,
) -> tuple[float, float]:
    """The amount premium as a ratio and as a difference in yuan, on one set of deciles.

    Aid per registered non-cadre household, cadres' kin against the others, within deciles of
    y (ratio 1 and difference 0: none). ``order`` is ``np.argsort(y)`` when the caller has it.
    """
    keep = registered & ~cadre
    aid, kin, deciles = aid[keep], cadre_kin[keep], _deciles(y, keep, order)
    return (stratified_ratio(aid, kin, deciles, 10),
            stratified_difference(aid, kin, deciles, 10))


def amount_kin_ratio(
    y: np.ndarray, registered: np.ndarray, aid: np.ndarray, cadre_kin: np.ndarray,
    cadre: np.ndarray,
) -> float:
    """Aid per registered household, cadres' kin over others, within deciles of y (1: none)."""
    return amount_kin_premiums(y, registered, aid, cadre_kin, cadre)[0]


def amount_kin_premium(
    y: np.ndarray, registered: np.ndarray, aid: np.ndarray, cadre_kin: np.ndarray,
    cadre: np.ndarray,
) -> float:
    """The kin premium on aid received, among registered non-cadre households (deciles of y)."""
    keep = registered & ~cadre
    return stratified_difference(aid[keep], cadre_kin[keep], income_deciles(y[keep]), 10)


def project_gain_gradient(project_income: np.ndarray, baseline_income: np.ndarray,
                          tercile: np.ndarray) -> float:
    """Percentage income gain from projects, richest third minus poorest third (in points).

    Each third's gain is its yearly project income over its baseline income, both summed over
    the third's households (``tercile``: 0 poorest, 2 richest by baseline per-capita income).
    NaN when a third's baseline income is not positive.
    """
    def gain(third: int) -> float:
        members = tercile == third
        return 100.0 * ratio(float(project_income[members].sum()),
                             float(baseline_income[members].sum()))

    return gain(2) - gain(0)
