"""The county's yearly division of its budget and quota (village_sim.county.budgets; issue 11)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from village_sim.county import ALLOCATION_RULES, CountyView, apportion, divide, rule_weights


def random_view(seed: int) -> CountyView:
    rng = np.random.default_rng(seed)
    v = int(rng.integers(1, 60))
    households = rng.integers(50, 800, v)
    share = rng.uniform(0.05, 0.6, v)
    share[rng.random(v) < 0.3] = np.nan  # not surveyed yet
    registered = (rng.uniform(0, 0.4, v) * households).astype(np.int64)
    return CountyView(households, registered, share, rng.integers(0, 20, v))


@pytest.mark.parametrize("rule", ALLOCATION_RULES)
@pytest.mark.parametrize("seed", range(15))
def test_the_parts_add_up_to_the_county_s(rule: str, seed: int) -> None:
    view = random_view(seed)
    rng = np.random.default_rng(100 + seed)
    budget = float(rng.uniform(1e5, 5e7))
    quota = int(rng.integers(0, view.households.sum() + 1))
    budgets, quotas = divide(rule, view, budget, quota)
    assert math.isclose(math.fsum(budgets), budget, rel_tol=1e-12)
    assert (budgets >= 0).all()
    assert quotas.dtype.kind == "i" and int(quotas.sum()) == quota
    assert (quotas >= 0).all() and (quotas <= view.households).all()
    # what a village's own model reads back gives its part exactly
    share = quotas / view.households
    assert (np.round(share * view.households).astype(np.int64) == quotas).all()


@pytest.mark.parametrize("seed", range(30))
def test_largest_remainders_stay_within_one_of_the_exact_share(seed: int) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.random(int(rng.integers(1, 40))) + 1e-9
    total = int(rng.integers(0, 5000))
    parts = apportion(total, weights)
    exact = total * weights / weights.sum()
    assert int(parts.sum()) == total
    assert (np.abs(parts - exact) < 1).all()


def test_each_rule_follows_what_the_county_sees() -> None:
    view = CountyView(households=np.array([100, 100, 200]), registered=np.array([50, 10, 0]),
                      survey_poor_share=np.array([0.4, 0.1, np.nan]),
                      complaints=np.array([0, 0, 0]))
    assert rule_weights("per_household", view).tolist() == [100, 100, 200]
    # the unsurveyed village gets the surveyed villages' mean share (0.25)
    assert rule_weights("estimated_poor", view).tolist() == pytest.approx([40, 10, 50])
    assert rule_weights("last_register", view).tolist() == [50, 10, 0]
    budgets, quotas = divide("last_register", view, 120_000.0, 60)
    assert budgets.tolist() == pytest.approx([100_000, 20_000, 0])
    assert quotas.tolist() == [50, 10, 0]
    # more poor found, more money: the direction the rule exists for
    poorer = CountyView(view.households, view.registered, np.array([0.5, 0.1, np.nan]),
                        view.complaints)
    assert (divide("estimated_poor", poorer, 1e6, 60)[0][0]
            > divide("estimated_poor", view, 1e6, 60)[0][0])


def test_before_any_register_or_survey_every_rule_divides_per_household() -> None:
    view = CountyView.first_year(np.array([120, 300, 80]))
    for rule in ALLOCATION_RULES:
        budgets, quotas = divide(rule, view, 500_000.0, 150)
        assert budgets.tolist() == pytest.approx([120_000, 300_000, 80_000])
        assert quotas.tolist() == [36, 90, 24]


def test_a_village_never_gets_more_quota_than_households() -> None:
    view = CountyView(households=np.array([10, 1000]), registered=np.array([900, 10]),
                      survey_poor_share=np.array([np.nan, np.nan]),
                      complaints=np.array([0, 0]))
    _, quotas = divide("last_register", view, 1.0, 500)
    assert quotas.tolist() == [10, 490]


@pytest.mark.parametrize("call, words", [
    (lambda v: divide("poorest", v, 1.0, 1), "parameter 'allocation_rule': got 'poorest'; "
     "allowed: per_household, estimated_poor, last_register"),
    (lambda v: divide("per_household", v, 1.0, 10**6), "parameter 'quota': got 1000000; "
     "allowed: an integer from 0 to the county's households"),
    (lambda v: divide("per_household", v, -5.0, 1), "total: got -5.0"),
    (lambda v: divide("per_household", v, 1.0, 2.5), "parameter 'quota': got 2.5"),
    (lambda v: apportion(3, np.array([0.0, 0.0])), "not all 0"),
])
def test_bad_input_is_refused_naming_the_value(call: object, words: str) -> None:
    view = CountyView.first_year(np.array([100, 200]))
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call(view)  # type: ignore[operator]


@pytest.mark.parametrize("field, value, words", [
    ("households", np.array([100, 0]), "one positive count per village"),
    ("registered", np.array([1]), "one value per village"),
    ("survey_poor_share", np.array([0.2, 1.5]), "shares in \\[0, 1\\]"),
    ("complaints", np.array([0, -1]), "counts >= 0"),
])
def test_a_bad_view_is_refused_naming_the_field(field: str, value: np.ndarray,
                                                words: str) -> None:
    fields = {"households": np.array([100, 200]), "registered": np.array([0, 0]),
              "survey_poor_share": np.array([np.nan, np.nan]), "complaints": np.array([0, 0])}
    fields[field] = value
    with pytest.raises(ValueError, match=f"CountyView.{field}: .*{words}"):
        CountyView(**fields)
