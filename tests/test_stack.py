"""Villages stacked in one set of household arrays reproduce their solo runs exactly.

Model 2, item 5: the mechanisms run over household arrays that carry a village index, with
each village's institutions and streams its own, so a county can reuse them unchanged. A
stacked village must draw exactly what its solo run draws and write every household value into
its block of the stack: these tests compare every household column every month, then the
metrics, the decision log and the household frame and panel, with a solo run of the same
village.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from village_sim import VillageModel
from village_sim.mechanisms import policies
from village_sim.stack import VillageStack
from village_sim.state import HOUSEHOLD_COLUMNS

# one village of each regime, of different sizes and seeds
REGIME_VILLAGES = [
    {"rng": 11, "regime": "team_and_committee"},
    {"rng": 12, "regime": "committee_only", "n_households": 120},
    {"rng": 13, "regime": "committee_plus_mobilization", "n_households": 200},
    {"rng": 14, "regime": "team_without_supervision", "n_households": 80},
    {"rng": 15, "regime": "team_alone", "n_households": 150},
]


def _half_diversion(view: policies.DiversionView, rng: np.random.Generator) -> np.ndarray:
    """A custom diversion policy: half of what the model's rule takes."""
    return 0.5 * policies.DEFAULT_POLICIES["diversion"](view, rng)


# the mechanisms the defaults leave off or quiet: events, substitution, internalisation,
# yearly elections, co-optation, restitution to the village, a random visit order, a custom
# policy, a team that leaves
SWITCHED_VILLAGES = [
    {"rng": 21, "regime": "team_and_committee", "channel_substitution": True,
     "internalisation_rate": 0.5, "term_years": 1, "cooptation": 0.3,
     "recovered_to_village": True, "visit_strategy": "random", "team_leaves": 25,
     "events": [{"month": 5, "kind": "flood"}, {"month": 8, "kind": "illness_outbreak"},
                {"month": 10, "kind": "audit_now"}, {"month": 20, "kind": "budget_cut"}]},
    {"rng": 22, "regime": "team_and_committee", "n_households": 90, "team_arrives": 13,
     "team_visits_per_month": 1, "visit_strategy": "cadre_kin_first",
     "policies": {"diversion": _half_diversion}},
    {"rng": 23, "regime": "committee_only", "n_households": 60, "quota_control": False,
     "elections": False, "upper_recheck": False, "audit_probability": 1.0, "sanction": 10.0},
]


def _assert_run_equal(stacked: VillageModel, solo: VillageModel, label: str) -> None:
    pd.testing.assert_frame_equal(
        stacked.datacollector.get_model_vars_dataframe(),
        solo.datacollector.get_model_vars_dataframe(), check_exact=True,
        obj=f"{label} metrics")
    pd.testing.assert_frame_equal(stacked.decision_log(), solo.decision_log(),
                                  check_exact=True, obj=f"{label} decision log")
    pd.testing.assert_frame_equal(stacked.household_frame(), solo.household_frame(),
                                  check_exact=True, obj=f"{label} household frame")
    pd.testing.assert_frame_equal(stacked.household_panel(), solo.household_panel(),
                                  check_exact=True, obj=f"{label} household panel")


@pytest.mark.parametrize("configs", [REGIME_VILLAGES, SWITCHED_VILLAGES],
                         ids=["every-regime", "switched-on"])
def test_stacked_villages_reproduce_their_solo_runs(configs: list[dict]) -> None:
    configs = [{**c, "panel_every": 12} for c in configs]
    stack = VillageStack.build(configs)
    solos = [VillageModel(**c) for c in configs]
    for month in range(1, 49):
        stack.step()
        for solo in solos:
            solo.step()
        for i, solo in enumerate(solos):
            for name in HOUSEHOLD_COLUMNS:
                block = stack.column(name)[..., stack.block(i)]
                assert np.array_equal(block, getattr(solo, name), equal_nan=True), (
                    f"month {month}, village {i}: column {name!r} differs from the solo run")
                # the village writes into the stack: its column is the stack's block
                assert np.shares_memory(getattr(stack.villages[i], name), stack.column(name))
    for i, (village, solo) in enumerate(zip(stack.villages, solos, strict=True)):
        _assert_run_equal(village, solo, f"village {i}")


def test_an_instructor_event_in_one_village_stays_in_that_village() -> None:
    configs = [{"rng": 31}, {"rng": 32, "n_households": 100}]
    stack = VillageStack.build(configs)
    solos = [VillageModel(**c) for c in configs]
    for _ in range(6):
        stack.step()
        for solo in solos:
            solo.step()
    stack.villages[1].trigger("flood")
    solos[1].trigger("flood")
    for _ in range(6):
        stack.step()
        for solo in solos:
            solo.step()
    for i, (village, solo) in enumerate(zip(stack.villages, solos, strict=True)):
        _assert_run_equal(village, solo, f"village {i}")
    # the flood hit village 1 only: its assets fell, village 0's equal an unflooded run
    unflooded = VillageModel(rng=32, n_households=100)
    for _ in range(12):
        unflooded.step()
    assert stack.villages[1].assets.sum() < unflooded.assets.sum()


def test_every_household_array_of_a_village_is_a_stacked_column() -> None:
    """A household array kept outside the columns would not be in the stack: fail on one."""
    model = VillageModel(rng=5, regime="team_and_committee", n_households=301)
    for _ in range(25):
        model.step()
    caches = {"_y", "_y_order", "_income_12", "_cause_if_well", "_columns"}
    stray = []
    for owner, obj in (("village", model), ("committee", model.committee),
                       ("team", model.team)):
        for name, value in vars(obj).items():
            if (name not in caches and isinstance(value, np.ndarray) and value.ndim
                    and value.shape[-1] == model.n):
                stray.append(f"{owner}.{name}")
    assert stray == [], f"household arrays outside HOUSEHOLD_COLUMNS: {stray}"
    assert set(model._columns) == set(HOUSEHOLD_COLUMNS)


def test_the_stack_sees_households_and_institutions_of_every_village() -> None:
    configs = [{"rng": 41, "regime": "team_and_committee"},
               {"rng": 42, "regime": "committee_only", "n_households": 50, "quota": 0.2},
               {"rng": 43, "regime": "team_and_committee", "n_households": 70,
                "team_size": 2, "team_visits_per_month": 5, "quota_control": False}]
    stack = VillageStack.build(configs)
    assert stack.n_villages == 3 and stack.n == 420
    assert stack.offsets.tolist() == [0, 300, 350, 420]
    assert np.bincount(stack.village).tolist() == [300, 50, 70]
    np.testing.assert_array_equal(stack.quota(), [90, 10, -1])
    np.testing.assert_array_equal(stack.team_capacity(), [12, 0, 10])
    for _ in range(14):
        stack.step()
    # a county-level reading of the stacked arrays equals each village's own metric
    headcount = stack.by_village(stack.poor() * stack.column("persons")) / stack.by_village(
        stack.column("persons"))
    np.testing.assert_allclose(
        headcount, [v.metrics()["poverty_headcount"] for v in stack.villages], rtol=1e-12)
    np.testing.assert_array_equal(
        stack.by_village(stack.column("registered")),
        [v.registered.sum() for v in stack.villages])
    np.testing.assert_array_equal(stack.per_village("cash_fund"),
                                  [v.cash_fund for v in stack.villages])
    np.testing.assert_array_equal(stack.per_village("quota"), [0.3, 0.2, 0.3])
    np.testing.assert_array_equal(stack.per_village("team_active"), [1.0, 0.0, 1.0])
    cadres = stack.cadres()
    assert cadres["village"].value_counts().sort_index().tolist() == [5, 5, 5]
    assert stack.column("cadre")[cadres["household"].to_numpy()].all()
    assert stack.kin.shape == (420, 420)
    assert stack.kin[:300, 300:].nnz == 0  # no kin across villages
    frame = stack.household_frame()
    assert frame["village"].tolist() == stack.village.tolist()
    assert list(stack.metrics()["village"]) == [0, 1, 2]


def test_a_column_is_written_in_place_and_refuses_another_shape() -> None:
    stack = VillageStack.build([{"rng": 1, "n_households": 40}, {"rng": 2, "n_households": 30}])
    village = stack.villages[1]
    village.trust = np.full(30, 0.25)
    assert (stack.column("trust")[40:] == 0.25).all()
    assert not (stack.column("trust")[:40] == 0.25).all()
    with pytest.raises(TypeError, match=r"household column 'trust': got float64\[31\]"):
        village.trust = np.zeros(31)
    with pytest.raises(TypeError, match=r"household column 'registered': got int64\[30\]"):
        village.registered = np.zeros(30, dtype=np.int64)


def test_the_stack_refuses_what_it_cannot_stack() -> None:
    a, b = VillageModel(rng=1, n_households=20), VillageModel(rng=2, n_households=20)
    with pytest.raises(ValueError, match="parameter 'villages': got an empty list"):
        VillageStack([])
    with pytest.raises(ValueError, match="a village appears twice"):
        VillageStack([a, a])
    with pytest.raises(TypeError, match="item 1 is a dict"):
        VillageStack([a, {"rng": 3}])  # type: ignore[list-item]
    b.step()
    with pytest.raises(ValueError, match=r"villages at months \[0, 1\]"):
        VillageStack([a, b])
    VillageStack([a])
    with pytest.raises(ValueError, match="village 0 is already in a stack"):
        VillageStack([a])
    with pytest.raises(ValueError, match="village 1: parameter 'quota'"):
        VillageStack.build([{"rng": 1}, {"rng": 2, "quota": 2.0}])
    with pytest.raises(KeyError, match="'trust' is a household column"):
        VillageStack([b]).per_village("trust")
    with pytest.raises(KeyError, match="'nonsense': neither"):
        VillageStack.build([{"rng": 1, "n_households": 20}]).per_village("nonsense")
