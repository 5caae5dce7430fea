"""Deterrence for a county (mirrors :func:`village_sim.mechanisms.deterrence.update_channels`).

Every cadre of the county weighs every channel at once: each cadre's perceived risk from its
village's evidence and its own misperception, its choice in each channel
(:func:`village_sim.mechanisms.deterrence.choose_channels`, the function the village uses too),
and each village's share of its inclination acted on (a mean over its cadres, summed per
village as the village's own ``mean`` sums). Used monthly by allocation and yearly by the
committee's review (:mod:`village_sim.county.phases.identification`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.mechanisms.deterrence import (
    CHANNELS,
    ChannelChoice,
    choose_channels,
    risk_sources,
    seen_risk,
)

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["choose", "keep"]


def choose(e: StackedVillages) -> tuple[ChannelChoice, dict[str, np.ndarray]]:
    """Every cadre's choice in every channel, and its perceived risk in each (per cadre)."""
    vs, P, cad = e.villages, e.params, e.cadres
    cv = cad.village
    perception = cad.gather("risk_perception")
    risks = {}
    for channel in CHANNELS:
        sources = np.array([risk_sources(v.p, channel, v.evidence_found[channel],
                                         v.evidence_exposure[channel]) for v in vs])
        risks[channel] = seen_risk(sources[:, 0][cv], sources[:, 1][cv], perception)
    choice = choose_channels(
        np.maximum(cad.gather_committee("greed"), 0.0), risks,
        P("diversion_propensity")[cv], P("sanction")[cv], P("exposure_cost")[cv],
        P("detection_scale")[cv], P("channel_substitution").astype(bool), cv,
        lambda x: cad.segments.exact_sum(x) / cad.size)
    return choice, risks


def keep(e: StackedVillages, choice: ChannelChoice, risks: dict[str, np.ndarray]) -> None:
    """Give each village its cadres' choice (what ``update_channels`` sets on the village)."""
    cb = e.cadres.segments.offsets
    realised = {channel: choice.realised[channel].tolist() for channel in CHANNELS}
    for i, v in enumerate(e.villages):
        lo, hi = int(cb[i]), int(cb[i + 1])
        v.diversion_inclination = choice.inclination[lo:hi]
        v.diversion_risk = risks["diversion"][lo:hi]
        v.diversion_share = choice.share[lo:hi]
        for channel in CHANNELS:
            v.channel_intensity[channel] = realised[channel][i]
