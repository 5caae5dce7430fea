"""A county of villages (issue 11; design in docs/county_engine.md).

Built so far: :mod:`village_sim.county.budgets`, how a county divides its yearly budget and
its register quota among villages, and :mod:`village_sim.county.deployment`, which villages get
its work teams — both from what a county sees — and :mod:`village_sim.county.metrics`, the
household metrics of every village at once. Not yet a model: the county engine that runs
the villages is the next step (docs/county_engine.md).
"""

from village_sim.county.budgets import (
    ALLOCATION_RULES,
    CountyView,
    apportion,
    divide,
    divide_budget,
    rule_weights,
)
from village_sim.county.deployment import (
    DEPLOYMENT_RULES,
    Deployment,
    DeploymentHistory,
    DeploymentRecord,
)

__all__ = [
    "ALLOCATION_RULES",
    "DEPLOYMENT_RULES",
    "CountyView",
    "Deployment",
    "DeploymentHistory",
    "DeploymentRecord",
    "apportion",
    "divide",
    "divide_budget",
    "rule_weights",
]
