"""How a county divides its yearly budget and register quota among villages (issue 11).

A county receives a poverty-alleviation budget (yuan a year) and a quota of households that may
be registered poor (规模控制) and divides both among its villages once a year, by a stated
``allocation_rule``, from what a county sees — never from true incomes:

``"per_household"``
    in proportion to the resident households (the village's default budget, per household);
``"estimated_poor"``
    in proportion to the poor households the last third-party survey estimates (its sampled
    poor share times the households); villages not yet surveyed get the county's mean surveyed
    share, and a county with no survey yet divides per household;
``"last_register"``
    in proportion to last year's register (the households the villages themselves listed);
    before any register, per household.

The quota is a number of households: it is divided by the largest-remainder method, so the
villages' quotas are integers that add up to the county's exactly, and no village's differs
from its exact share by one household or more. The budget is money: the villages' shares add
up to the county's budget to rounding (``math.fsum`` of the parts equals the total within a
few ulps) and none is negative.

A village's part is then what its own model reads: its budget as ``budget_per_household`` (the
part over its households) and its quota as ``quota`` (the part over its households, a share
whose ``round(quota * n)`` is the part exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ALLOCATION_RULES",
    "CountyView",
    "apportion",
    "divide",
    "divide_budget",
    "rule_weights",
]

ALLOCATION_RULES = ("per_household", "estimated_poor", "last_register")
"""The rules a county may divide its budget and quota by (module docstring)."""


@dataclass(frozen=True)
class CountyView:
    """What a county knows of its villages at the yearly division (one entry per village).

    Attributes:
        households: Resident households.
        registered: Households on last year's register (0 before any register).
        survey_poor_share: Poor share in the last third-party survey's sample (NaN where the
            village has not been surveyed yet).
        complaints: Complaints the county received from the village last year.
    """

    households: np.ndarray
    registered: np.ndarray
    survey_poor_share: np.ndarray
    complaints: np.ndarray

    @classmethod
    def first_year(cls, households: np.ndarray) -> CountyView:
        """What a county knows before any register, survey or complaint."""
        households = np.asarray(households)
        zeros = np.zeros(households.size, dtype=np.int64)
        return cls(households, zeros, np.full(households.size, np.nan), zeros)

    def __post_init__(self) -> None:
        n = np.asarray(self.households).size
        for name in ("households", "registered", "survey_poor_share", "complaints"):
            value = np.asarray(getattr(self, name))
            if value.shape != (n,):
                raise ValueError(f"CountyView.{name}: got shape {value.shape}; allowed: one "
                                 f"value per village ({n})")
        households = np.asarray(self.households)
        if n == 0 or (households <= 0).any():
            raise ValueError(f"CountyView.households: got {households.tolist()}; allowed: one "
                             "positive count per village, at least one village")
        share = np.asarray(self.survey_poor_share, dtype=float)
        if ((share < 0) | (share > 1)).any():
            raise ValueError(f"CountyView.survey_poor_share: got {share.tolist()}; allowed: "
                             "shares in [0, 1], or NaN before a survey")
        for name in ("registered", "complaints"):
            value = np.asarray(getattr(self, name))
            if (value < 0).any():
                raise ValueError(f"CountyView.{name}: got {value.tolist()}; allowed: counts "
                                 ">= 0")


def _check_rule(rule: str) -> None:
    if rule not in ALLOCATION_RULES:
        raise ValueError(f"parameter 'allocation_rule': got {rule!r}; allowed: "
                         f"{', '.join(ALLOCATION_RULES)}")


def rule_weights(rule: str, view: CountyView) -> np.ndarray:
    """Each village's weight under ``rule`` (non-negative, not all zero; module docstring)."""
    _check_rule(rule)
    households = np.asarray(view.households, dtype=float)
    if rule == "estimated_poor":
        share = np.asarray(view.survey_poor_share, dtype=float)
        surveyed = ~np.isnan(share)
        if not surveyed.any():
            return households
        filled = np.where(surveyed, share, share[surveyed].mean())
        weights = filled * households
    elif rule == "last_register":
        weights = np.asarray(view.registered, dtype=float)
    else:
        weights = households
    return weights if weights.sum() > 0 else households


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Divide ``total`` indivisible units in proportion to ``weights`` (largest remainders).

    Each village first gets the whole part of its exact share; the units left go one each to
    the largest fractional remainders (ties to the lower index). The parts add up to ``total``
    and each is within one unit of its exact share.

    Raises:
        ValueError: for a negative or non-integer total, or weights that are negative or all 0.
    """
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total < 0:
        raise ValueError(f"total: got {total!r}; allowed: an integer >= 0")
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"weights: got {np.asarray(weights).tolist()}; allowed: one finite "
                         "weight >= 0 per village, not all 0")
    exact = total * (w / w.sum())
    parts = np.floor(exact).astype(np.int64)
    left = int(total - parts.sum())
    if left > 0:
        remainder = exact - parts
        order = np.lexsort((np.arange(w.size), -remainder))
        parts[order[:left]] += 1
    return parts


def divide_budget(total: float, weights: np.ndarray) -> np.ndarray:
    """Divide ``total`` yuan in proportion to ``weights``; the parts add up to ``total``.

    Raises:
        ValueError: for a negative or non-finite total, or weights that are negative or all 0.
    """
    if isinstance(total, bool) or not np.isfinite(total) or total < 0:
        raise ValueError(f"total: got {total!r}; allowed: a finite amount of yuan >= 0")
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"weights: got {np.asarray(weights).tolist()}; allowed: one finite "
                         "weight >= 0 per village, not all 0")
    return float(total) * (w / w.sum())


def divide(rule: str, view: CountyView, budget: float, quota: int,
           ) -> tuple[np.ndarray, np.ndarray]:
    """The year's division: each village's budget (yuan) and quota (households).

    Args:
        rule: One of :data:`ALLOCATION_RULES`.
        view: What the county knows of its villages.
        budget: The county's budget for the year, yuan.
        quota: The county's quota, households that may be registered.

    Returns:
        ``(budgets, quotas)``, one entry per village: the budgets add up to ``budget`` to
        rounding, the quotas to ``quota`` exactly; a village's quota never exceeds its
        households (what it cannot hold goes to the others, in proportion).

    Raises:
        ValueError: for an unknown rule (naming the allowed ones), a bad total or a county
            quota larger than its households.
    """
    _check_rule(rule)
    weights = rule_weights(rule, view)
    households = np.asarray(view.households, dtype=np.int64)
    if isinstance(quota, bool) or not isinstance(quota, int | np.integer) or quota < 0 \
            or quota > households.sum():
        raise ValueError(f"parameter 'quota': got {quota!r}; allowed: an integer from 0 to "
                         f"the county's households ({int(households.sum())})")
    quotas = apportion(int(quota), weights)
    # a village holds at most its households: the excess goes to the villages with room
    while (over := quotas > households).any():
        excess = int((quotas - households)[over].sum())
        quotas = np.minimum(quotas, households)
        room = np.where(quotas < households, weights, 0.0)
        if room.sum() <= 0:  # weights zero where there is room: by households left
            room = (households - quotas).astype(float)
        quotas = quotas + apportion(excess, room)
    return divide_budget(budget, weights), quotas
