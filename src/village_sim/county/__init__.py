"""A county of villages (issue 11; design in docs/county_engine.md).

Built so far: :mod:`village_sim.county.budgets`, how a county divides its yearly budget and
its register quota among villages from what a county sees.
"""

from village_sim.county.budgets import (
    ALLOCATION_RULES,
    CountyView,
    apportion,
    divide,
    divide_budget,
    rule_weights,
)

__all__ = [
    "ALLOCATION_RULES",
    "CountyView",
    "apportion",
    "divide",
    "divide_budget",
    "rule_weights",
]
