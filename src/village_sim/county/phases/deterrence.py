"""Deterrence for a county (mirrors :mod:`village_sim.mechanisms.deterrence`).

``choose`` and ``keep`` (``deterrence.update_channels``): every cadre of the county weighs every
channel at once — each cadre's perceived risk from its village's evidence and its own
misperception, its choice in each channel
(:func:`village_sim.mechanisms.deterrence.choose_channels`, the function the village uses too),
and each village's share of its inclination acted on (a mean over its cadres, summed per
village as the village's own ``mean`` sums). Used monthly by allocation and yearly by the
committee's review (:mod:`village_sim.county.phases.identification`).

``punish`` (``deterrence.punish``): cadres of any village whose takings a check found repay
them and are fined, paid from their household's income of the month and then its assets
(``deterrence.collect``), all at once; what each village recovered and fined is summed cadre
after cadre, as the village's own loop sums it (a cumulative sum along each row of a village ×
cadre table: the same additions in the same order).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.county.books import CHANNEL, FLOW
from village_sim.county.phases.draws import kernels
from village_sim.mechanisms.deterrence import (
    CHANNELS,
    MONTHLY_CHANNELS,
    ChannelChoice,
    announced_risk,
    choose_channels,
    learned_risks,
    material,
    prior_of,
    seen_risk,
)

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["choose", "keep", "punish", "record_detections"]


def choose(e: StackedVillages) -> tuple[ChannelChoice, dict[str, np.ndarray]]:
    """Every cadre's choice in every channel, and its perceived risk in each (per cadre)."""
    P, cad = e.params, e.cadres
    cv = cad.village
    perception = cad.risk_perception
    compiled = kernels(e)
    risks = {}
    for channel in CHANNELS:  # deterrence.perceived_risk of each village
        audit = P.derived(f"announced_risk_{channel}", partial(announced_risk, channel=channel))
        prior = P.derived(f"prior_{channel}", partial(prior_of, channel=channel))
        monthly = channel in MONTHLY_CHANNELS
        found = e.books.found[:, CHANNEL[channel]]  # each village's books
        exposure = e.books.exposure[:, CHANNEL[channel]]
        learned = learned_risks(found, exposure, prior, monthly, compiled)
        risks[channel] = seen_risk(audit[cv], learned[cv], perception)
    choice = choose_channels(
        np.maximum(cad.greed, 0.0), risks,
        P("diversion_propensity")[cv], P("sanction")[cv], P("exposure_cost")[cv],
        P("detection_scale")[cv], P("channel_substitution").astype(bool), cv,
        lambda x: cad.segments.exact_sum(x) / cad.size,
        numerics.optimal_share_root if compiled is None else compiled.optimal_share_root)
    return choice, risks


def keep(e: StackedVillages, choice: ChannelChoice, risks: dict[str, np.ndarray]) -> None:
    """Give each village its cadres' choice (what ``update_channels`` sets on the village).

    The cadres' arrays (``Cadres.write_choices``) and each channel's intensity (the books'
    column: each village's ``channel_intensity`` is a view of its row), for all villages.
    """
    e.cadres.write_choices(diversion_inclination=choice.inclination,
                           diversion_risk=risks["diversion"], diversion_share=choice.share)
    for channel in CHANNELS:
        e.books.intensity[:, CHANNEL[channel]] = choice.realised[channel]


def punish(e: StackedVillages, found: np.ndarray, amounts: np.ndarray, by_check: bool) -> None:
    """``deterrence.punish`` for every cadre of the county (``found``, ``amounts`` per cadre)."""
    cad = e.cadres
    idx = np.flatnonzero(found & (amounts > 0))
    if idx.size == 0:
        return
    vs, P = e.villages, e.params
    cols = e.stack.columns
    slot = int(vs[0].steps) % 12
    village = cad.village[idx]
    house = cad.household[idx]
    back = amounts[idx]
    fine = back * P("sanction")[village]
    # deterrence.collect: from this month's income after transfers (never below 0), then assets
    income_room = np.maximum(0.0, cols["income_hist"][slot, house] + cols["aid_hist"][slot, house]
                             + cols["other_transfer_hist"][slot, house])
    room = income_room + cols["assets"][house]
    paid_back = np.minimum(back, room)
    paid_fine = np.minimum(fine, room - paid_back)
    total = paid_back + paid_fine
    from_income = np.minimum(total, income_room)
    cols["other_transfer_hist"][slot, house] -= from_income
    cols["assets"][house] = np.maximum(0.0, cols["assets"][house] - (total - from_income))
    cols["diverted_received"][house] -= paid_back
    cols["fines_paid"][house] += paid_fine
    # each village's totals, added cadre after cadre from 0.0 (the village's own loop)
    hit_villages, first, counts = np.unique(village, return_index=True, return_counts=True)
    width = int(counts.max())
    place = np.arange(idx.size) - np.repeat(first, counts)
    recovered_m = np.zeros((hit_villages.size, width))
    fined_m = np.zeros((hit_villages.size, width))
    row = np.repeat(np.arange(hit_villages.size), counts)
    recovered_m[row, place] = paid_back
    fined_m[row, place] = paid_fine
    recovered = np.cumsum(recovered_m, axis=1)[:, -1]
    fined = np.cumsum(fined_m, axis=1)[:, -1]
    material_hit = material(back)
    hits = np.bincount(row[material_hit], minlength=hit_villages.size)
    # the villages' books (their ledgers are views of these rows: one addition each, as the
    # village's own +=)
    books = e.books
    books.flows[hit_villages, FLOW["recovered"]] += recovered
    books.flows[hit_villages, FLOW["fines"]] += fined
    returned = P("recovered_to_village")[hit_villages].astype(bool)
    books.flows[hit_villages[returned], FLOW["returned_to_village"]] += recovered[returned]
    if by_check:
        record_detections(e, hit_villages, "diversion", hits)
    # the villages' numbers (county/books.py): the fund the restitution returns to, the count
    cash = e.numbers.column("cash_fund")
    cash[hit_villages[returned]] += recovered[returned]
    e.numbers.column("detected_diversions")[hit_villages] += hits
    # the found cadres' months in their committees' rings, and the times caught (the county's
    # buffer and array, each committee's a view of them: Cadres)
    cad.ring_buffer[cad.ring_places(np.arange(12)[:, None], idx)] = 0.0
    cad.times_caught[idx[material_hit]] += 1
    # the village recomputes its median whenever it collected anything; where no asset moved
    # (all paid from income) the median and causes it would recompute are the ones it has
    e.assets_changed(np.unique(village[total > from_income]), kernels(e))


def record_detections(e: StackedVillages, villages: np.ndarray, channel: str,
                      found: np.ndarray) -> None:
    """``deterrence.record_detections(v, channel, found, 0.0)`` of each of ``villages``.

    Material findings by visits' checks, with no cadre-months of exposure added (a visit's
    exposure is counted where the cadres act): the villages' books (county/books.py).
    """
    books = e.books
    books.found[villages, CHANNEL[channel]] += found.astype(np.float64)
    books.exposure[villages, CHANNEL[channel]] += 0.0
