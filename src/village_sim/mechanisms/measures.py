"""Household-specific measures (因户施策): diagnosis and matched measures. ODD §7.5."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.codes import Actor
from village_sim.village import Cause

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 5: diagnosis of causes and household-specific measures (因户施策).

    The team diagnoses the households it visits (mechanisms.visits, accuracy
    ``team_diagnosis_accuracy``, 0.9); helpers diagnose the households they are given; the
    committee diagnoses the rest.

    A measure matched to the true cause adds ``matched_return`` yuan of yearly earnings
    per yuan spent (and cures an illness); a mismatched one adds ``mismatched_return``.
    A household with a helper has its measure carried through; without one, the measure
    is carried through with probability ``carry_through`` (0.6; otherwise it works as a
    mismatched one). Diagnosis accuracy: team visit ``team_diagnosis_accuracy`` (0.9), helper
    ``helper_diagnosis_accuracy`` (0.75), committee ``committee_diagnosis_accuracy`` (0.35).
    What a measure adds wears off by ``measure_depreciation`` a year (mechanisms.economy).
    """
    p = s.p
    if not p.household_measures:
        return
    eligible = np.flatnonzero(s.registered & (s.steps - s.measure_month >= 12))
    affordable = int(s.measure_fund // p.measure_cost)
    if eligible.size == 0 or affordable == 0:
        return
    rng = s.committee.stream
    chosen = rng.permutation(eligible)[:affordable]
    missing = chosen[s.diagnosis[chosen] == Cause.NONE]
    s.diagnosis[missing] = s.committee.diagnose(missing, p.committee_diagnosis_accuracy)
    s.diagnosed_by[missing] = Actor.COMMITTEE
    carried_through = (s.helper[chosen] >= 0) | (rng.random(chosen.size) < p.carry_through)
    matched = (s.diagnosis[chosen] == s.cause[chosen]) & carried_through
    ret = np.where(matched, p.matched_return, p.mismatched_return)
    s.measure_income[chosen] += ret * p.measure_cost
    cured = chosen[matched & (s.cause[chosen] == Cause.ILLNESS)]
    s.sick[cured] = False
    s.measure_month[chosen] = s.steps
    s.measures_received[chosen] += 1
    s.measures_matched += int(matched.sum())
    s.measures_given += int(chosen.size)
    s.diagnosis[chosen] = Cause.NONE  # next year's measure needs a new diagnosis
    spent = chosen.size * p.measure_cost
    s.measure_fund -= spent
    s.flows["measures_spent"] = spent
    s.memo["reported_spent"] += spent
