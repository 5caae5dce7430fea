"""Scheduled and instructor events: validated, applied in their month, the same in every regime."""

from __future__ import annotations

import numpy as np
import pytest

from village_sim import VillageModel
from village_sim.events import EVENT_KINDS, parse_events

SMALL = {"n_households": 120}


def run(model: VillageModel, steps: int) -> VillageModel:
    for _ in range(steps):
        model.step()
    return model


def test_flood_hits_income_and_assets_in_its_month() -> None:
    calm = run(VillageModel(rng=5, disaster_rate=0.0, **SMALL), 6)
    flooded = run(VillageModel(rng=5, disaster_rate=0.0, events=[{"month": 6, "kind": "flood"}],
                               **SMALL), 6)
    assert flooded.assets.sum() < 0.9 * calm.assets.sum()
    assert flooded.income_hist[6 % 12].sum() < 0.85 * calm.income_hist[6 % 12].sum()
    # months before the flood are untouched
    np.testing.assert_array_equal(flooded.income_hist[5], calm.income_hist[5])


def test_illness_outbreak_makes_households_ill() -> None:
    base = run(VillageModel(rng=2, **SMALL), 3)
    sick = run(VillageModel(rng=2, events=[("illness_outbreak", 3)], **SMALL), 3)
    assert sick.sick.sum() >= base.sick.sum() + 5


def test_audit_now_catches_diversion_even_without_routine_audits() -> None:
    kw = {"regime": "committee_only", "upper_audits": False, "diversion_propensity": 0.8, **SMALL}
    quiet = run(VillageModel(rng=1, **kw), 8)
    audited = run(VillageModel(rng=1, events=[("audit_now", 8)], **kw), 8)
    assert quiet.detected_diversions == 0
    assert audited.detected_diversions > 0
    assert audited.flows["recovered"] > 0


def test_team_dates_and_budget_cut() -> None:
    m = VillageModel(rng=3, regime="team_and_committee", team_arrives=100, **SMALL)
    run(m, 2)
    assert not m.team_active
    m.trigger("team_arrives")
    run(m, 1)
    assert m.team_active and m.team_arrives == 3
    m.trigger("team_leaves", month=6)
    run(m, 3)
    assert not m.team_active
    released_before = m.flows["released"]
    m.trigger("budget_cut")
    run(m, 1)
    assert m.flows["released"] == pytest.approx(0.5 * released_before)
    assert [e.kind for e in m.events_applied] == ["team_arrives", "team_leaves", "budget_cut"]


def test_events_keep_common_random_numbers_across_regimes() -> None:
    events = [("flood", 4), ("illness_outbreak", 5)]
    a = run(VillageModel(rng=9, regime="committee_only", events=events, **SMALL), 6)
    b = run(VillageModel(rng=9, regime="team_and_committee", events=events, **SMALL), 6)
    assert a.streams["events"].bit_generator.state == b.streams["events"].bit_generator.state
    assert a.streams["shocks"].bit_generator.state == b.streams["shocks"].bit_generator.state


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_event_kind_runs_and_books_balance(kind: str) -> None:
    m = VillageModel(rng=4, regime="team_and_committee", events=[(kind, 2)], **SMALL)
    for _ in range(14):
        m.step()
        assert abs(m.ledger_balance()) < 1e-6 * max(1.0, m.flows["released"])


def test_bad_events_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="did you mean 'flood'"):
        parse_events([{"month": 3, "kind": "floods"}])
    with pytest.raises(ValueError, match="month got 0; allowed"):
        parse_events([{"month": 0, "kind": "flood"}])
    with pytest.raises(ValueError, match="allowed: exactly 'month' and 'kind'"):
        parse_events([{"month": 3, "kind": "flood", "size": 2}])
    m = VillageModel(rng=1, **SMALL)
    run(m, 3)
    with pytest.raises(ValueError, match="after the current month"):
        m.trigger("flood", month=2)
