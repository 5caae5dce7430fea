"""A county of villages (issue 11; design in docs/county_engine.md).

Built so far, each from what a county sees: :mod:`village_sim.county.budgets` (how the county
divides its yearly budget and register quota among villages), :mod:`village_sim.county.teams`
(its pool of work teams, and how a team sets its village's parameters),
:mod:`village_sim.county.deployment` (which villages get the teams) and
:mod:`village_sim.county.metrics` (the household metrics of every village at once). Not yet a
model: the county engine that runs the villages is the next step (docs/county_engine.md).
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
from village_sim.county.teams import TeamSpec, load_teams, parse_teams

__all__ = [
    "ALLOCATION_RULES",
    "DEPLOYMENT_RULES",
    "CountyView",
    "Deployment",
    "DeploymentHistory",
    "DeploymentRecord",
    "TeamSpec",
    "apportion",
    "divide",
    "divide_budget",
    "load_teams",
    "parse_teams",
    "rule_weights",
]
