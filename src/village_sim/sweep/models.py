"""What a sweep runs: villages (``model = "village"``, the default) or counties (``"county"``).

A spec's ``model`` decides what its words mean (docs/sweeps.md, "Sweeps of counties"):

============  ==========================================  ====================================
              ``village``                                 ``county``
============  ==========================================  ====================================
regimes       regimes (``committee_only`` …)              deployment rules (``none``,
                                                          ``random``, ``poorest_first`` …)
parameters    village parameters                          village parameters (common to every
                                                          village) and the county's own
                                                          (:data:`~village_sim.county.model.
                                                          COUNTY_PARAMETERS`: ``n_villages``,
                                                          ``teams``, ``allocation_rule``,
                                                          the villages' ranges
                                                          ``remoteness_max`` …)
metrics       a village's monthly metrics                 the county's monthly metrics
panel         the household frame every                   the village-by-year table (every
              ``panel_every`` months                      village's metrics at each year end,
                                                          its team, budget, quota), with
                                                          ``panel_every = 12``
run function  ``runner:run_village``                      ``runner:run_county``
============  ==========================================  ====================================

Everything else — designs, seeds (replicate i has the same seed under every rule: common random
numbers), run identities, engines, resume, compaction, reports — is the same. A county
parameter that is absent from a run's parameters where not given (``team_tables`` where
``teams`` is a number; a bound of the villages' ranges, ``remoteness_max`` …, left to the
built-in distribution) leaves the identities of runs that do not use it as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from village_sim.params import PARAM_BY_NAME, Param, resolve_parameters

__all__ = ["MODELS", "check_regimes", "default_metrics", "default_regimes",
           "default_run_function", "metric_names", "parameter", "parameter_names", "resolve"]

MODELS = ("village", "county")
"""What a sweep can run."""

VILLAGE_RUN_FUNCTION = "village_sim.sweep.runner:run_village"
COUNTY_RUN_FUNCTION = "village_sim.sweep.runner:run_county"


def parameter(model: str, name: str) -> Param | None:
    """The parameter ``name`` of ``model`` (None: no such parameter)."""
    if model == "county":
        from village_sim.county.model import COUNTY_PARAM_BY_NAME

        return COUNTY_PARAM_BY_NAME.get(name) or PARAM_BY_NAME.get(name)
    return PARAM_BY_NAME.get(name)


def parameter_names(model: str) -> list[str]:
    """Every parameter name of ``model`` (for suggestions)."""
    names = list(PARAM_BY_NAME)
    if model == "county":
        from village_sim.county.model import COUNTY_PARAM_BY_NAME

        names += list(COUNTY_PARAM_BY_NAME)
    return names


def default_regimes(model: str) -> list[str]:
    """The regimes (or deployment rules) of a spec that names none."""
    if model == "county":
        return ["none", "random"]
    from village_sim.experiment import DEFAULT_REGIMES

    return list(DEFAULT_REGIMES)


def check_regimes(model: str, names: Sequence[str]) -> list[str]:
    """Regimes (villages) or deployment rules (counties), checked.

    Raises:
        ValueError: for none, an unknown one or one given twice.
    """
    if model == "county":
        from village_sim.county import DEPLOYMENT_RULES

        if not names:
            raise ValueError("regimes: got none; allowed: deployment rules "
                             f"({', '.join(DEPLOYMENT_RULES)})")
        for name in names:
            if name not in DEPLOYMENT_RULES:
                raise ValueError(f"regimes: got {name!r}; allowed (model = \"county\": "
                                 f"deployment rules): {', '.join(DEPLOYMENT_RULES)}")
        if len(set(names)) < len(names):
            raise ValueError(f"regimes: got {list(names)}; allowed: distinct rules")
        return list(names)
    from village_sim.experiment import check_regimes as check_village_regimes

    return check_village_regimes(names)


def resolve(model: str, regime: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of one run (what its identity hashes), checked.

    Raises:
        ValueError: naming the parameter, for a value or combination the model refuses.
    """
    if model != "county":
        return resolve_parameters(regime=regime, **overrides).as_dict()
    from village_sim.county.model import (
        COUNTY_PARAM_BY_NAME,
        check_arguments,
        county_arguments,
        team_tables_text,
    )
    from village_sim.county.teams import parse_teams
    from village_sim.county.villages import DISTRIBUTION_BOUNDS

    args = county_arguments(overrides)
    team_regime = args.pop("regime", COUNTY_PARAM_BY_NAME["team_regime"].default)
    county = {k: args.pop(k) for k in list(args) if k in COUNTY_PARAM_BY_NAME}
    bounds = {k: v for k, v in county.items() if k in DISTRIBUTION_BOUNDS}
    check_arguments(team_regime, county.get("allocation_rule", "fixed"),
                    county.get("county_budget_per_household"), county.get("county_quota"),
                    args, bounds)
    full = resolve_parameters(regime=team_regime, **args).as_dict()
    for name, param in COUNTY_PARAM_BY_NAME.items():
        if name in DISTRIBUTION_BOUNDS and name not in bounds:
            # a bound not given (the built-in one) is absent from the run's parameters, as
            # ``team_tables`` is: runs of specs that give no bounds keep their identities
            continue
        value = team_regime if name == "team_regime" else county.get(name, param.default)
        full[name] = value
    if isinstance(full["teams"], list):
        # team tables: the number of teams in ``teams`` (a number, as in any county run) and
        # the tables themselves as one canonical text in ``team_tables`` (hashed and stored
        # with the run; absent where ``teams`` is a number, so those runs keep their ids)
        tables = full["teams"]
        full["teams"] = len(parse_teams(tables))
        full["team_tables"] = team_tables_text(tables)
    return full


def metric_names(model: str) -> tuple[str, ...]:
    """The metrics a run of ``model`` records."""
    if model == "county":
        from village_sim.county.model import FRAME_METRICS

        return FRAME_METRICS
    from village_sim.model import METRIC_NAMES

    return METRIC_NAMES


def default_metrics(model: str) -> tuple[str, ...]:
    """The metrics a spec that names none stores."""
    if model == "county":
        from village_sim.county.metrics import COUNTY_KEY_METRICS

        return COUNTY_KEY_METRICS
    from village_sim.experiment import KEY_METRICS

    return tuple(KEY_METRICS)


def default_run_function(model: str) -> str:
    """The run function of a spec that names none."""
    return COUNTY_RUN_FUNCTION if model == "county" else VILLAGE_RUN_FUNCTION
