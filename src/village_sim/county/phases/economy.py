"""Economy for a county (mirrors :func:`village_sim.mechanisms.economy.run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from village_sim import numerics
from village_sim.county.phases.draws import kernels, typed_streams
from village_sim.village import Cause, cause_of_poverty

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def _draw(e: StackedVillages) -> tuple[np.ndarray, ...]:
    """The month's shocks of every village from its own ``shocks`` stream, as its phase draws.

    The village calls ``random(n)`` twice, ``standard_normal(n)``, ``random()`` and
    ``random(n)``; consecutive calls of one method are one call of their total size (numpy's
    generators give the same numbers and end in the same state), so three calls here.
    """
    seg = e.segments
    n = seg.n
    pairs = np.empty(2 * n)  # each village's falling-ill draws, then its recovering draws
    noise = np.empty(n)
    disaster_hit = np.empty(n + len(e.villages))  # each village's disaster draw, then its hits
    compiled = kernels(e)
    if compiled is not None:  # the same calls in one compiled loop
        compiled.economy(typed_streams(e, "shocks"), seg.offsets[:-1], seg.offsets[1:],
                         pairs, noise, disaster_hit)
    else:
        for i, (v, b) in enumerate(zip(e.villages, e.blocks, strict=True)):
            rng = v.streams["shocks"]
            rng.random(out=pairs[2 * b.start:2 * b.stop])
            rng.standard_normal(out=noise[b])
            rng.random(out=disaster_hit[b.start + i:b.stop + i + 1])
    fall = seg.offsets[seg.village] + np.arange(n)  # a household's place among the pairs
    first = seg.offsets[:-1] + np.arange(len(e.villages))  # where each village's draws start
    return (pairs[fall], pairs[fall + seg.sizes[seg.village]], noise, disaster_hit[first],
            np.delete(disaster_hit, first))


# each village's numbers from its parameters, in Python floats as the village computes them
def _measure_wear(p: Any) -> float:
    """What a month leaves of a measure's income (``measure_depreciation`` a year)."""
    return (1.0 - p.measure_depreciation) ** (1 / 12) if p.measure_depreciation > 0 else 1.0


def _income_variance(p: Any) -> float:
    return p.income_volatility * p.income_volatility


def _wage(p: Any) -> float:
    """The village's wage, less what remoteness takes."""
    return p.wage * (1.0 - p.remote_wage_loss * p.remoteness)


def run(e: StackedVillages) -> None:
    """Illness, disasters and this month's market income of every household."""
    compiled = kernels(e)
    if compiled is not None:  # the same arithmetic, household by household, in three loops
        _run_compiled(e, compiled)
        return
    P = e.params
    fall_u, recover_u, noise, disaster_u, hit_u = _draw(e)
    village = e.segments.village
    fall_ill = fall_u < P.of_households("illness_rate")
    recover = recover_u < P.of_households("recovery_rate")
    forced = e.gather("force_disaster", bool)
    disaster = (disaster_u < P("disaster_rate")) | forced
    hit = hit_u < P.of_households("disaster_reach")
    e.scatter("force_disaster", np.zeros(len(e.villages), dtype=bool))
    sick = e.column("sick")
    sick[...] = np.where(sick, ~recover, fall_ill)
    assets = e.column("assets")
    struck = disaster[village]
    if disaster.any():
        assets[...] = np.where(hit & struck, assets * (1.0 - P.of_households(
            "disaster_asset_loss")), assets)
        e.assets_changed(np.flatnonzero(disaster), kernels(e))
    e.column("cause")[...] = np.where(sick, np.int8(Cause.ILLNESS), _causes_if_well(e))
    wear = P.derived("measure_wear", _measure_wear)
    measure_income = e.column("measure_income")
    measure_income *= wear[village]
    sigma = P.of_households("income_volatility")
    variance = P.derived("income_variance", _income_variance)
    monthly = annual_capacity(e) / 12.0 * numerics.mean_one(sigma * noise, variance[village])
    if disaster.any():
        factor = np.ones(e.segments.n)
        lost = hit & struck
        factor[lost] = 1.0 - P.of_households("disaster_income_loss")[lost]
        monthly = monthly * factor
    slot = int(e.villages[0].steps) % 12
    e.books.open_month(e.villages, slot, e.gather("evidence_fade"))
    e.column("income_hist")[slot] = monthly
    e.column("aid_hist")[slot] = 0.0
    e.column("other_transfer_hist")[slot] = 0.0
    e.column("diverted_hist")[slot] = 0.0
    e.transfers_12 = None  # this month's payments are yet to come
    income_12 = e.column("income_hist").sum(axis=0)
    _keep_incomes(e, income_12, income_12 / e.column("persons"))


def _keep_incomes(e: StackedVillages, income_12: np.ndarray, y: np.ndarray) -> None:
    """The 12 months' incomes and y, for the county's phases and each village's ``y()``."""
    income_12.flags.writeable = False
    y.flags.writeable = False
    e.y = y
    e.income_12 = income_12
    for v, b in zip(e.villages, e.blocks, strict=True):  # what each village's y() would give
        v._income_12 = income_12[b]
        v._y = y[b]
        v._y_order = None


def _run_compiled(e: StackedVillages, compiled: Any) -> None:
    """:func:`run` with its passes over the households in compiled loops (the same bits).

    One pass for illness and disasters, one for causes, worn measures, capacity and the
    log-noise, numpy's ``exp`` of that, one for the month's income, its 12 months and y:
    each array read once a month instead of once per numpy operation.
    """
    P = e.params
    seg = e.segments
    n, n_v = seg.n, len(e.villages)
    pairs, noise, disaster_hit = np.empty(2 * n), np.empty(n), np.empty(n + n_v)
    compiled.economy(typed_streams(e, "shocks"), seg.offsets[:-1], seg.offsets[1:], pairs,
                     noise, disaster_hit)
    forced = e.gather("force_disaster", bool)
    disaster = (disaster_hit[seg.offsets[:-1] + np.arange(n_v)] < P("disaster_rate")) | forced
    e.scatter("force_disaster", np.zeros(n_v, dtype=bool))
    sick, assets, lost = e.column("sick"), e.column("assets"), np.empty(n, dtype=bool)
    compiled.economy_state(seg.offsets, pairs, disaster_hit, P("illness_rate"),
                           P("recovery_rate"), P("disaster_reach"), P("disaster_asset_loss"),
                           disaster, sick, assets, lost)
    if disaster.any():
        e.assets_changed(np.flatnonzero(disaster), kernels(e))
    wear = P.derived("measure_wear", _measure_wear)
    variance = P.derived("income_variance", _income_variance)
    wage = P.derived("wage", _wage)
    noise_factor, capacity_12 = np.empty(n), np.empty(n)
    stale = _stale_causes(e)  # their causes were they well recomputed in the same pass
    compiled.economy_income(
        seg.offsets, sick, stale, P("labour_poverty_ratio"), e.column("persons"),
        e.gather("skill_median"), e.gather("asset_median"), e.cause_if_well,
        np.int8(Cause.ILLNESS), wear,
        e.column("measure_income"), P("income_volatility"), variance, noise, noise_factor,
        wage, e.column("labour"), P("sick_labour_share"), e.column("skill"),
        P("asset_return"), assets, e.gather("infrastructure"), e.column("project_income"),
        e.column("cause"), capacity_12)
    _hand_causes(e, stale)
    np.exp(noise_factor, out=noise_factor)  # numerics.mean_one's exp
    slot = int(e.villages[0].steps) % 12
    e.books.open_month(e.villages, slot, e.gather("evidence_fade"))
    for name in ("aid_hist", "other_transfer_hist", "diverted_hist"):
        e.column(name)[slot] = 0.0
    e.transfers_12 = None  # this month's payments are yet to come
    income_12, y = np.empty(n), np.empty(n)
    compiled.economy_close(seg.offsets, capacity_12, noise_factor, lost,
                           P("disaster_income_loss"), slot, e.column("income_hist"),
                           e.column("persons"), income_12, y)
    _keep_incomes(e, income_12, y)


def _causes_if_well(e: StackedVillages) -> np.ndarray:
    """Each household's cause of poverty were it well (``VillageState.causes``' cache).

    Kept stacked between months: recomputed, for all of them at once, in the villages whose
    cache was dropped (assets changed: a disaster, a fine), and copied from a village that
    computed its own since.
    """
    stale = _stale_causes(e)
    if stale.any():
        seg, cols = e.segments, e.stack.columns
        h = np.flatnonzero(stale[seg.village])
        of = seg.village[h]
        e.cause_if_well[h] = cause_of_poverty(
            np.zeros(h.size, dtype=bool), cols["labour"][h], cols["persons"][h],
            cols["skill"][h], cols["assets"][h],
            e.params.of_households("labour_poverty_ratio")[h],
            e.gather("skill_median")[of], e.gather("asset_median")[of])
        _hand_causes(e, stale)
    return e.cause_if_well


def _stale_causes(e: StackedVillages) -> np.ndarray:
    """The villages whose causes were it well are to be recomputed (their cache dropped).

    A village that computed its own since gives the county its numbers.
    """
    stale = np.zeros(len(e.villages), dtype=bool)
    for i, (v, mine) in enumerate(zip(e.villages, e.well_causes, strict=True)):
        if v._cause_if_well is None:
            stale[i] = True
        elif v._cause_if_well is not mine:  # the village computed its own
            e.cause_if_well[e.blocks[i]] = v._cause_if_well
            e.well_causes[i] = v._cause_if_well
    return stale


def _hand_causes(e: StackedVillages, stale: np.ndarray) -> None:
    """Each recomputed village's causes were it well, as its own cache (a copy)."""
    for i in np.flatnonzero(stale).tolist():
        v = e.villages[i]
        v._cause_if_well = e.well_causes[i] = e.cause_if_well[e.blocks[i]].copy()


def annual_capacity(e: StackedVillages) -> np.ndarray:
    """Each household's yearly market income now (``VillageState.annual_capacity``)."""
    P = e.params
    village = e.segments.village
    labour = e.column("labour") * np.where(e.column("sick"),
                                           P.of_households("sick_labour_share"), 1.0)
    wage = P.derived("wage", _wage)
    base = wage[village] * labour * e.column("skill") + P.of_households(
        "asset_return") * e.column("assets")
    infrastructure = e.gather("infrastructure")
    return (base * infrastructure[village] + e.column("measure_income")
            + e.column("project_income"))
