"""A county of villages (issue 11; design in docs/county_engine.md).

:class:`~village_sim.county.model.CountyModel` runs a county's yearly cycle on stacked villages:
:mod:`village_sim.county.villages` (villages drawn from stated distributions, or listed),
:mod:`village_sim.county.budgets` (how the county divides its yearly budget and register quota
among villages), :mod:`village_sim.county.teams` (its pool of work teams, and how a team sets
its village's parameters), :mod:`village_sim.county.deployment` (which villages get the teams)
and :mod:`village_sim.county.metrics` (the household metrics of every village at once, and the
county's). Its villages step month by month on the county engine
(:mod:`village_sim.county.engine`: each phase for all villages at once, bit for bit what each
village gives alone; docs/county_engine.md).
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
from village_sim.county.model import CountyModel
from village_sim.county.teams import TeamSpec, load_teams, parse_teams
from village_sim.county.villages import VillageDistributions

__all__ = [
    "ALLOCATION_RULES",
    "DEPLOYMENT_RULES",
    "CountyModel",
    "CountyView",
    "Deployment",
    "DeploymentHistory",
    "DeploymentRecord",
    "TeamSpec",
    "VillageDistributions",
    "apportion",
    "divide",
    "divide_budget",
    "load_teams",
    "parse_teams",
    "rule_weights",
]
