"""``CountyModel``: a county's villages, its budget and quota, its teams and where they go.

The county's yearly cycle (issue 11; docs/county_engine.md, "The county's yearly cycle"), before
months 1, 13, 25, … — so that a team sent this year takes part in this year's identification:

1. **What the county sees** (:class:`~village_sim.county.budgets.CountyView`): each village's
   households, its register as it stands, the poor share of its last third-party survey, and the
   complaints the county received from it in the last 12 months — never true incomes. The
   complaints the county receives are the villagers' complaints and reports that the village
   dismissed at its democratic appraisal (taken up with the county, 信访): an assumption, stated
   in the ODD.
2. **Budget and quota** divided among villages by ``allocation_rule``
   (:mod:`village_sim.county.budgets`), or ``"fixed"``: each village keeps its own
   ``budget_per_household`` and ``quota``.
3. **Deployment** (:mod:`village_sim.county.deployment`): free teams go to villages in the
   order of the ``deployment`` rule and stay their whole term.
4. **Each village's parameters for the year**: its own, with its budget and quota, the county's
   shared audit and re-check capacity (when given), and its team's (size, visits, noise,
   cooptation, money as ``mobilization_yuan``; :meth:`TeamSpec.village_parameters`). A team that
   arrives opens the village's team window for its term (``team_arrives``, ``team_leaves``)
   and starts with no visit records: what the previous team learned on its visits left with it
   (the register, the measures and the households' files stay with the village). Under
   ``cash_equivalent`` the village gets, instead of a team, the team's cost (``team_cost`` ×
   members × 12) and its money as budget.

Then every village steps twelve months. Villages are a
:class:`~village_sim.stack.VillageStack` (the reference engine: villages step one after another;
docs/county_engine.md). Each village's streams are keyed (seed, village): village v of a county
seeded s is the village :meth:`CountyModel.village_arguments` describes, and a village the rule
never touches runs exactly as alone (common random numbers across rules).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from village_sim.codes import Actor, Reason
from village_sim.county.budgets import ALLOCATION_RULES, CountyView, divide
from village_sim.county.deployment import Deployment
from village_sim.county.engine import CountyEngine
from village_sim.county.metrics import COUNTY_METRICS, county_metrics, village_metrics_columns
from village_sim.county.teams import TEAM_FIELDS, TeamSpec, load_teams, parse_teams
from village_sim.county.villages import (
    DISTRIBUTION_BOUNDS,
    DISTRIBUTION_PARAMETERS,
    VillageDistributions,
    draw_villages,
    load_villages,
    parse_villages,
    village_distributions,
)
from village_sim.mechanisms.register import quota_count
from village_sim.params import PARAM_BY_NAME, REGIMES, Param, resolve_parameters
from village_sim.rng import county_seed, normalize_rng, village_seed
from village_sim.stack import VillageStack
from village_sim.state import NEVER

__all__ = ["COUNTY_ALLOCATION_RULES", "COUNTY_COLUMNS", "COUNTY_PARAMETERS",
           "COUNTY_PARAM_BY_NAME", "FRAME_METRICS", "NO_TEAM_MONTH", "CountyModel",
           "check_arguments", "county_arguments"]

ENGINES = ("county", "villages")
"""How a county steps its villages: all at once (the county engine) or one after another."""

VILLAGE_METRICS = ("yearly", "monthly")
"""How often each village's own metrics are kept (the county's are kept monthly)."""

COUNTY_ALLOCATION_RULES = ("fixed", *ALLOCATION_RULES)
"""``"fixed"``: each village keeps its own budget and quota; else a rule of the county."""

NO_TEAM_MONTH = 10_000
"""``team_arrives`` of a village no team has been sent to: a month no run reaches (the
parameter's maximum; checked in tests/test_county_model.py)."""

TEAM_REGIMES = tuple(name for name, switches in REGIMES.items() if switches["team_present"])
"""Regimes that say how a team works with the committee where the county sends one."""

_COMPLAINED = (int(Reason.COMPLAINT_DISMISSED), int(Reason.REPORT_DISMISSED))

@dataclass(frozen=True)
class TeamsParam(Param):
    """``teams``: a number of default teams, or a list of team tables.

    The tables have the fields of ``[[team]]`` (:func:`village_sim.county.teams.parse_teams`),
    e.g. in a sweep spec's ``[base]``:
    ``teams = [{count = 5, size = 5}, {count = 5, cooptation = 0.5}]``.
    """

    def allowed(self) -> str:
        """A number of teams, or a list of team tables."""
        return f"{super().allowed()}, or a list of team tables ({', '.join(TEAM_TABLE_KEYS)})"

    def validate(self, value: Any) -> Any:
        """A number of teams (checked as an integer parameter), or the list of tables.

        Each table is checked; the list comes back as plain tables, in order.

        Raises:
            ValueError: naming the team and the field, the value and what is allowed.
        """
        if isinstance(value, list | tuple):
            parse_teams(list(value), source=self.name)
            return [dict(table) for table in value]
        return super().validate(value)


TEAM_TABLE_KEYS = ("count", *TEAM_FIELDS)
"""The fields of a team table."""


def team_tables_text(tables: Sequence[Mapping[str, Any]]) -> str:
    """Team tables as one canonical JSON text (a run's ``team_tables``: hashed and stored)."""
    return json.dumps([dict(sorted(t.items())) for t in tables], sort_keys=True,
                      separators=(",", ":"))


COUNTY_PARAMETERS = (
    Param("n_villages", "int", 20, "villages", "villages drawn from the county's distributions",
          "assumed", 1, 100_000, group="county"),
    TeamsParam("teams", "int", 0, "teams", "default work teams in the county's pool (3 members, "
               "2-year terms, 940,000 yuan a year), or a list of team tables",
               "2017 guideline; 程虹 & 吴润清 2022", 0, 100_000, group="county"),
    Param("allocation_rule", "choice", "fixed", "", "how the county divides its budget and "
          "quota each year (fixed: each village keeps its own)", "ODD 7.14",
          choices=COUNTY_ALLOCATION_RULES, group="county"),
    Param("county_budget_per_household", "float", None, "yuan per household per year", "the "
          "county's budget per resident household, divided by allocation_rule (default: the "
          "villages' budget_per_household)", "assumed", 0.0, 1e6, group="county"),
    Param("county_quota", "float", None, "share of households", "the county's quota, divided "
          "by allocation_rule (default: the villages' quota)", "assumed", 0.0, 1.0,
          group="county"),
    Param("audit_capacity", "float", None, "audits per year", "upper-level audits a year, "
          "shared evenly among villages (default: each village's audit_probability)",
          "assumed", 0.0, 1e6, group="county"),
    Param("recheck_capacity", "float", None, "households per year", "households the upper "
          "levels re-check a year, shared evenly (default: each village's "
          "upper_recheck_share)", "assumed", 0.0, 1e9, group="county"),
    Param("team_regime", "choice", "team_and_committee", "", "how a team sent to a village "
          "works with its committee (CountyModel's regime)", "ODD 10",
          choices=TEAM_REGIMES, group="county"),
    *DISTRIBUTION_PARAMETERS,
)
"""The county's own arguments as parameters (what a sweep of counties may set or sweep; a
default None means: not given, each village keeps its own, or for the bounds of the villages'
distributions, ``households_min`` … ``greed_max``: the built-in distribution's bound)."""

COUNTY_PARAM_BY_NAME = {p.name: p for p in COUNTY_PARAMETERS}

_ODD = "docs/ODD.md, 7.14"
COUNTY_COLUMNS: dict[str, tuple[str, str, float | None, float | None, str]] = {
    "between_village_gini": ("Gini of the villages' mean per-capita incomes (persons-weighted)",
                             "share, 0-1", 0.0, 1.0, _ODD),
    "between_village_share": ("share of the county's Theil index (T) between villages",
                              "share, 0-1", 0.0, 1.0, _ODD),
    "headcount_spread": ("highest minus lowest village poverty headcount",
                         "difference of shares", 0.0, 1.0, _ODD),
    "teams_deployed": ("villages holding a team this year", "villages", 0.0, None, _ODD),
    "cash_villages": ("villages given a team's money instead (cash_equivalent)", "villages",
                      0.0, None, _ODD),
    "team_tables": ("the county's pool as team tables (JSON; empty where teams is a number "
                    "of default teams)", "", None, None, _ODD),
    "village": ("village index in the county (0 first)", "index from 0", None, None, _ODD),
    "year": ("county year (1: months 1-12)", "year", None, None, _ODD),
    "team": ("team in the village this year (-1: none)", "index from 0", None, None, _ODD),
    "had_team": ("whether a team was in the village this year", "", None, None, _ODD),
    "cash_yuan": ("a team's cost and money given instead (cash_equivalent)", "yuan a year",
                  0.0, None, _ODD),
    "team_yuan": ("cost of the village's team (members x team_cost x 12) and its money, or "
                  "the cash given instead", "yuan a year", 0.0, None, _ODD),
    "budget_yuan": ("the village's budget this year", "yuan a year", 0.0, None, _ODD),
    "quota_households": ("households the village's register may hold", "households", 0.0,
                         None, _ODD),
    "households": ("resident households", "households", 0.0, None, _ODD),
    "persons": ("people living in the village's households", "persons", 0.0, None, _ODD),
    "greed_factor": ("factor on the village's favoritism channels", "", 0.0, None, _ODD),
    "month": ("month the team arrives or leaves (the first month of a county year)", "month",
              None, None, _ODD),
    "event": ("arrives or leaves", "text", None, None, _ODD),
    "rule": ("deployment rule", "name", None, None, _ODD),
    "regime": ("deployment rule (compare's column name: here it holds the rule)", "name",
               None, None, _ODD),
    "reason": ("why the rule chose the village, or why the team left", "text", None, None,
               _ODD),
    "baseline": ("what the rule is compared with, on the same seeds", "name", None, None,
                 "village_sim.county_compare"),
    "quantity": ("poor_fewer (people), kin_premium_lower (difference of shares), team_years, "
                 "yuan, and each per team-year and per 10,000 yuan; final year", "", None,
                 None, "village_sim.county_compare"),
}
"""What the county's own output columns mean: (meaning, unit, lowest, highest, defined in)."""

FRAME_METRICS = (*COUNTY_METRICS, "teams_deployed", "cash_villages")
"""The columns of :meth:`CountyModel.county_frame` besides ``month``."""


class CountyModel(mesa.Model):
    """A county of villages, each with its committee, and a pool of work teams.

    Args:
        rng: The county's seed (a non-negative integer or numeric string; None: a random one,
            kept in :attr:`seed`).
        n_villages: Villages drawn from ``distributions`` (ignored when ``villages`` is given).
        teams: A number of default teams, a list of team tables or :class:`TeamSpec`, or the
            path of a TOML file of ``[[team]]`` tables (:mod:`village_sim.county.teams`).
        deployment: A rule of :data:`~village_sim.county.deployment.DEPLOYMENT_RULES` or a
            callable ``(view, history, rng) -> villages``.
        allocation_rule: ``"fixed"`` or a rule of
            :data:`~village_sim.county.budgets.ALLOCATION_RULES`.
        county_budget_per_household: The county's yearly budget per resident household (its
            budget is this times its households), divided by ``allocation_rule``; default: the
            villages' ``budget_per_household``.
        county_quota: The county's quota as a share of its households, divided by
            ``allocation_rule``; default: the villages' ``quota``.
        audit_capacity: Audits of village accounts the upper levels make a year, shared evenly
            (each village's ``audit_probability`` is the capacity over the villages, at most
            1); None: each village keeps its own ``audit_probability``.
        recheck_capacity: Households the upper levels re-check a year, shared evenly (each
            village's ``upper_recheck_share`` is the capacity over the county's households);
            None: each village keeps its own.
        villages: Village parameter tables, or the path of a TOML file of ``[[village]]``
            tables (:mod:`village_sim.county.villages`); overrides ``n_villages``.
        distributions: Ranges of the drawn villages' attributes
            (:class:`~village_sim.county.villages.VillageDistributions`, or a table
            ``{"remoteness": [0, 0.5], ...}``); not given: the built-in ranges.
        regime: How a team works with the committee where one is sent (a regime with a team).
        engine: ``"county"`` (default): every phase of the month acts on all villages at once
            (:class:`~village_sim.county.engine.CountyEngine`); ``"villages"``: each village
            steps itself, one after another (the reference). Both give the same numbers, bit
            for bit (tests/test_county_engine.py).
        village_metrics: ``"yearly"`` (default): each village's metrics are taken at the end
            of each year (:meth:`village_year_frame`) and on request (``VillageModel.
            metrics()``); ``"monthly"``: each village also keeps its own monthly series in
            its DataCollector, as a village run alone does (about a third of a village's
            month, so the county engine does not by default).
        households_min, households_max, clans_min, clans_max, asset_inequality_min,
        asset_inequality_max, remoteness_min, remoteness_max, greed_min, greed_max: The
            bounds of the drawn villages' ranges one by one (``n_households``, ``n_clans``,
            ``asset_inequality``, ``remoteness``, the greed factor), each checked against
            its parameter (:data:`~village_sim.county.villages.DISTRIBUTION_PARAMETERS`);
            None: the bound of ``distributions``, else the built-in one. The villages are
            exactly those of ``distributions`` with the same ranges. Refused: a lowest bound
            above its highest, a bound of an attribute ``distributions`` also gives or that
            is a village parameter common to every village (``remoteness=0.3``: nothing is
            drawn), and any bound with ``villages``.
        **overrides: Village parameters common to every village.

    Raises:
        ValueError: for any bad argument, naming it, the value and what is allowed.
    """

    def __init__(self, rng: Any = None, n_villages: int = 20, teams: Any = 0,
                 deployment: str | Callable[..., Any] = "none",
                 allocation_rule: str = "fixed",
                 county_budget_per_household: float | None = None,
                 county_quota: float | None = None, audit_capacity: float | None = None,
                 recheck_capacity: float | None = None,
                 villages: Sequence[Mapping[str, Any]] | str | Path | None = None,
                 distributions: Any = None, regime: str = "team_and_committee",
                 engine: str = "county", village_metrics: str = "yearly",
                 households_min: int | None = None, households_max: int | None = None,
                 clans_min: int | None = None, clans_max: int | None = None,
                 asset_inequality_min: float | None = None,
                 asset_inequality_max: float | None = None,
                 remoteness_min: float | None = None, remoteness_max: float | None = None,
                 greed_min: float | None = None, greed_max: float | None = None,
                 **overrides: Any):
        seed = normalize_rng(rng)
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"parameter 'rng': got {rng!r}; allowed: a non-negative integer "
                             "seed (a county's villages are keyed by (seed, village))")
        self.seed = int(seed)
        for name, value, allowed in (("engine", engine, ENGINES),
                                     ("village_metrics", village_metrics, VILLAGE_METRICS)):
            if value not in allowed:
                raise ValueError(f"parameter {name!r}: got {value!r}; allowed: "
                                 f"{', '.join(allowed)}")
        self.village_metrics = village_metrics
        county = county_seed(self.seed)
        deploy_seq, mesa_seq = county.spawn(2)
        super().__init__(rng=np.random.Generator(np.random.PCG64(mesa_seq)))
        self.deploy_rng = np.random.Generator(np.random.PCG64(deploy_seq))
        check_arguments(regime, allocation_rule, county_budget_per_household, county_quota,
                        overrides)
        self.regime = regime
        self.allocation_rule = allocation_rule
        base = {**overrides, "team_arrives": NO_TEAM_MONTH, "team_leaves": None}
        bounds = {"households_min": households_min, "households_max": households_max,
                  "clans_min": clans_min, "clans_max": clans_max,
                  "asset_inequality_min": asset_inequality_min,
                  "asset_inequality_max": asset_inequality_max,
                  "remoteness_min": remoteness_min, "remoteness_max": remoteness_max,
                  "greed_min": greed_min, "greed_max": greed_max}
        assert list(bounds) == list(DISTRIBUTION_BOUNDS)  # every bound an argument
        # --- villages
        self.greed_factor: np.ndarray
        if villages is None:
            if isinstance(n_villages, bool) or not isinstance(n_villages, int) \
                    or not 1 <= n_villages <= 100_000:
                raise ValueError(f"parameter 'n_villages': got {n_villages!r}; allowed: an "
                                 "integer in [1, 100000]")
            self.distributions: VillageDistributions | None = village_distributions(
                distributions, bounds, overrides)
            params, self.greed_factor = draw_villages(self.seed, n_villages,
                                                      self.distributions, base)
        else:
            if distributions is not None:
                raise ValueError("parameter 'distributions': not with 'villages' (listed "
                                 "villages are not drawn)")
            for bound, given in bounds.items():
                if given is not None:
                    raise ValueError(f"parameter {bound!r}: got {given!r}; not with "
                                     "'villages' (listed villages are not drawn)")
            self.distributions = None
            if isinstance(villages, str | Path):
                params = load_villages(villages, base, regime)
            else:
                params = parse_villages(villages, base, regime)
            self.greed_factor = np.ones(len(params))
        self._village_params = params
        # built and stacked as VillageStack.build does (a refusal names the village)
        self.stack = VillageStack.build([
            {**self.village_arguments(v), "record_start": village_metrics == "monthly"}
            for v in range(len(params))])
        built = self.stack.villages
        self.engine = (CountyEngine(self.stack, collect=village_metrics == "monthly")
                       if engine == "county" else None)
        self.base_p = [v.p for v in built]
        self.households = np.array([v.n for v in built], dtype=np.int64)
        # --- budget, quota, shared capacities
        self.budget_per_household = _checked(
            "county_budget_per_household", "budget_per_household",
            overrides.get("budget_per_household") if county_budget_per_household is None
            else county_budget_per_household)
        self.quota_share = _checked("county_quota", "quota", overrides.get("quota")
                                    if county_quota is None else county_quota)
        self.audit_capacity = _capacity("audit_capacity", audit_capacity)
        self.recheck_capacity = _capacity("recheck_capacity", recheck_capacity)
        # --- teams
        if isinstance(teams, str | Path):
            self.teams = load_teams(teams)
        elif isinstance(teams, list | tuple) and all(isinstance(t, TeamSpec) for t in teams) \
                and teams:
            self.teams = list(teams)
        else:
            self.teams = parse_teams(teams)
        self.deployment = Deployment(len(built), [t.term_years for t in self.teams],
                                     deployment)
        self.village_team = np.full(len(built), -1, dtype=np.int64)
        self.cash = np.zeros(len(built))
        self.team_yuan = np.zeros(len(built))
        self.year_budget = np.array([p.budget_per_household for p in self.base_p]) \
            * self.households
        self.year_quota = np.array([p.quota for p in self.base_p]) * self.households
        self._log_seen = [0] * len(built)
        self.departures: list[dict[str, Any]] = []
        self._rows: list[dict[str, float]] = []
        self._year_rows: list[dict[str, np.ndarray]] = []  # each year's columns
        self._collect()

    # ------------------------------------------------------------------ building
    def village_arguments(self, v: int) -> dict[str, Any]:
        """The ``VillageModel`` arguments of village ``v`` as built (before any county year).

        ``VillageModel(**county.village_arguments(v))`` is village v of this county: under
        ``allocation_rule = "fixed"`` and no team sent to it, the two run identically.
        """
        return {"rng": village_seed(self.seed, v), "regime": self.regime,
                **self._village_params[v]}

    # ------------------------------------------------------------------ structure
    @property
    def villages(self) -> list[Any]:
        """The villages (``VillageModel``), in order."""
        return self.stack.villages

    @property
    def n_villages(self) -> int:
        """Number of villages."""
        return self.stack.n_villages

    @property
    def month(self) -> int:
        """Months stepped."""
        return self.stack.month

    @property
    def year(self) -> int:
        """The county year under way (1 in months 1-12; 0 before the first month)."""
        return math.ceil(self.month / 12)

    # ------------------------------------------------------------------ what the county sees
    def view(self) -> CountyView:
        """What the county knows of its villages now (module docstring, step 1)."""
        registered = np.array([int(v.registered.sum()) for v in self.villages], dtype=np.int64)
        share = np.array([v.survey.get("survey_poor_share", math.nan) for v in self.villages],
                         dtype=float)
        return CountyView(self.households, registered, share, self.complaints_received())

    def complaints_received(self) -> np.ndarray:
        """Complaints the county received from each village in the last 12 months.

        Each complaint or report the village dismissed (decision log: challenged by villagers,
        reason ``complaint dismissed`` or ``report dismissed``) is taken up with the county.
        """
        blocks = [(i, block) for i, v in enumerate(self.villages)
                  for block in v._log_blocks[self._log_seen[i]:]]
        if not blocks:
            return np.zeros(self.n_villages, dtype=np.int64)
        village = np.repeat([i for i, _ in blocks], [b["month"].size for _, b in blocks])

        def field(name: str) -> np.ndarray:
            return np.concatenate([b[name] for _, b in blocks])

        hit = ((field("challenged_by") == int(Actor.VILLAGERS))
               & np.isin(field("reason"), _COMPLAINED) & (field("month") > self.month - 12))
        return np.bincount(village[hit], minlength=self.n_villages).astype(np.int64)

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """Advance every village one month (the county's year first, before months 1, 13, ...)."""
        if self.month % 12 == 0:
            self._begin_year()
        if self.engine is not None:
            self.engine.step()
        else:
            self.stack.step()
        self._collect()
        if self.month % 12 == 0:
            self._end_year()

    def _begin_year(self) -> None:
        year = self.month // 12 + 1
        view = self.view()
        for i, v in enumerate(self.villages):
            self._log_seen[i] = len(v._log_blocks)  # complaints counted from here next year
        self.view_at_year_start = view
        if self.allocation_rule != "fixed":
            n = self.households
            bph = (self.budget_per_household if self.budget_per_household is not None
                   else float(PARAM_BY_NAME["budget_per_household"].default))
            share = (self.quota_share if self.quota_share is not None
                     else float(PARAM_BY_NAME["quota"].default))
            total_quota = int(round(share * float(n.sum())))
            self.year_budget, self.year_quota = divide(self.allocation_rule, view,
                                                       bph * float(n.sum()), total_quota)
        before = self.deployment.village.copy()
        made = self.deployment.deploy(year, view, self.deploy_rng)
        for team, village in enumerate(before):
            if village >= 0 and self.deployment.village[team] != village:
                self.departures.append({"year": year, "team": team, "village": int(village),
                                        "month": self.month + 1})
        arrivals = {r.village: r.team for r in made}
        gives_cash = self.deployment.gives_cash
        self.cash = np.zeros(self.n_villages)
        self.team_yuan = np.zeros(self.n_villages)
        new_team = np.full(self.n_villages, -1, dtype=np.int64)
        new_team[self.deployment.village[self.deployment.village >= 0]] = np.flatnonzero(
            self.deployment.village >= 0)
        for i, v in enumerate(self.villages):
            team = int(new_team[i])
            values = self._year_parameters(i)
            spec = self.teams[team] if team >= 0 else None
            if spec is not None:  # what the team costs above the village's budget, a year
                self.team_yuan[i] = (self.base_p[i].team_cost * spec.size * 12
                                     + spec.mobilized_yuan)
            if spec is not None and gives_cash:
                self.cash[i] = self.team_yuan[i]
                values["budget_per_household"] = (values["budget_per_household"]
                                                  + self.cash[i] / v.n)
            elif spec is not None:
                values.update(spec.village_parameters())
            base = self.base_p[i]
            changed = {k: x for k, x in values.items() if getattr(base, k) != x}
            v.p = base.replace(**changed) if changed else base
            if spec is not None and not gives_cash and i in arrivals:
                self._team_arrives(v, spec, arrivals[i], self.village_team[i])
            self.village_team[i] = team if not gives_cash else -1

    def _year_parameters(self, i: int) -> dict[str, Any]:
        """Village ``i``'s budget, quota and shared capacities for the year (changed ones)."""
        values: dict[str, Any] = {}
        n = int(self.households[i])
        if self.allocation_rule != "fixed":
            values["budget_per_household"] = float(self.year_budget[i]) / n
            values["quota"] = float(self.year_quota[i]) / n
        else:
            values["budget_per_household"] = self.base_p[i].budget_per_household
        if self.audit_capacity is not None:
            values["audit_probability"] = min(1.0, self.audit_capacity / self.n_villages)
        if self.recheck_capacity is not None:
            values["upper_recheck_share"] = min(1.0, self.recheck_capacity
                                                / float(self.households.sum()))
        return values

    def _team_arrives(self, v: Any, spec: TeamSpec, team: int, previous: int) -> None:
        """Open village ``v``'s team window for the team's term; a new team knows nothing."""
        start = self.month + 1
        v.team_arrives = start
        v.team_leaves = start + 12 * spec.term_years
        v.team.size = spec.size
        if team != previous:  # records of visits leave with the team that made them
            v.team_signal_sum[:] = 0.0
            v.team_signal_count[:] = 0.0
            v.team_last_visit[:] = NEVER

    def _end_year(self) -> None:
        villages = self.villages
        row = {"year": np.full(self.n_villages, self.month // 12)}
        row.update(village_metrics_columns(self.stack, *self._sums_12(), self.engine,
                                           self._loops()))
        row.update({  # copies of the county's arrays
            "team": self.village_team.copy(),
            "had_team": self.village_team >= 0,
            "cash_yuan": self.cash.copy(),
            "team_yuan": self.team_yuan.copy(),
            "budget_yuan": np.array([v.p.budget_per_household * v.n for v in villages]),
            "quota_households": np.array([quota_count(v) for v in villages]),
            "households": self.households.copy(),
            "persons": np.add.reduceat(self.stack.column("persons"),  # no village is empty
                                       self.stack.offsets[:-1]),
            "remoteness": np.array([v.p.remoteness for v in villages]),
            "greed_factor": self.greed_factor.copy(),
        })
        self._year_rows.append(row)  # the table is made when asked for (village_year_frame)

    # ------------------------------------------------------------------ outputs
    def _collect(self) -> None:
        row = {"month": float(self.month),
               **county_metrics(self.stack, *self._sums_12(), self._loops(), self.engine)}
        row["teams_deployed"] = float((self.village_team >= 0).sum())
        row["cash_villages"] = float((self.cash > 0).sum())
        self._rows.append(row)

    def _loops(self) -> Any:
        """The engine's compiled loops for the metrics' passes and sorts, or None.

        None at month 0 too (its metrics by numpy, the same numbers): building a county does
        not load the compiled loops (numba, about 1.5 s a process); its first month does.
        """
        return self.engine.loops if self.engine is not None and self.month > 0 else None

    def _sums_12(self) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
        """The households' market income and transfers over the last 12 months.

        Where the engine has summed them this month; else None (the metrics sum them).
        """
        if self.engine is None:
            return None, None
        return self.engine.income_12, self.engine.transfers_12

    def county_frame(self) -> pd.DataFrame:
        """The county's metrics, one row per month (month 0 first)."""
        return pd.DataFrame(self._rows)

    def village_year_frame(self) -> pd.DataFrame:
        """Every village's metrics at the end of each year, and its team, budget and quota."""
        if not self._year_rows:
            return pd.DataFrame()
        return pd.DataFrame({name: np.concatenate([row[name] for row in self._year_rows])
                             for name in self._year_rows[0]})

    def deployment_log(self) -> pd.DataFrame:
        """Which team went where, when and why (arrivals), and when each left."""
        rows = [{"year": r.year, "month": 12 * (r.year - 1) + 1, "event": "arrives",
                 "team": r.team, "village": r.village, "rule": r.rule, "reason": r.reason}
                for r in self.deployment.log]
        rows += [{**d, "event": "leaves", "rule": self.deployment.rule_name,
                  "reason": "term ended"} for d in self.departures]
        columns = ["year", "month", "event", "team", "village", "rule", "reason"]
        if not rows:
            return pd.DataFrame(columns=columns)
        return pd.DataFrame(rows)[columns].sort_values(
            ["month", "event", "team"], kind="stable").reset_index(drop=True)


def _checked(name: str, like: str, value: float | None) -> float | None:
    """``value`` checked against the range of village parameter ``like``, named ``name``."""
    if value is None:
        return None
    try:
        return float(PARAM_BY_NAME[like].validate(value))
    except ValueError:
        raise ValueError(f"parameter {name!r}: got {value!r}; allowed: "
                         f"{PARAM_BY_NAME[like].allowed()}") from None


def _capacity(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or value < 0:
        raise ValueError(f"parameter {name!r}: got {value!r}; allowed: a number >= 0 a year, "
                         "or none (each village keeps its own)")
    return float(value)


def check_arguments(regime: str, allocation_rule: str,
                    county_budget_per_household: float | None, county_quota: float | None,
                    overrides: Mapping[str, Any],
                    bounds: Mapping[str, Any] | None = None) -> None:
    """The checks of a county's arguments that need no village built (a sweep's points).

    ``bounds``: the bounds of the villages' distributions given (``remoteness_max`` …,
    :func:`~village_sim.county.villages.village_distributions`), checked with the built-in
    distributions.

    Raises:
        ValueError: naming the argument, the value and what is allowed.
    """
    if regime not in TEAM_REGIMES:
        raise ValueError(f"parameter 'regime': got {regime!r}; allowed: "
                         f"{', '.join(TEAM_REGIMES)} (how a team sent to a village works "
                         "with its committee)")
    if allocation_rule not in COUNTY_ALLOCATION_RULES:
        raise ValueError(f"parameter 'allocation_rule': got {allocation_rule!r}; allowed: "
                         f"{', '.join(COUNTY_ALLOCATION_RULES)}")
    for name in ("team_arrives", "team_leaves", "team_present"):
        if name in overrides:
            raise ValueError(f"parameter {name!r}: set by the county's deployment; "
                             "allowed: teams and deployment")
    if allocation_rule == "fixed" and (county_budget_per_household is not None
                                       or county_quota is not None):
        raise ValueError("parameters 'county_budget_per_household' and 'county_quota': "
                         "given with allocation_rule 'fixed' (each village keeps its own); "
                         f"allowed with {', '.join(ALLOCATION_RULES)}")
    resolve_parameters(regime=regime, **overrides)  # naming the parameter
    village_distributions(None, bounds, overrides)


def county_arguments(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``CountyModel`` keyword arguments from a flat table of county and village parameters.

    The county's own (:data:`COUNTY_PARAMETERS`; ``team_regime`` becomes ``regime``) are
    checked against their tables; everything else is a village parameter common to every
    village.

    Raises:
        ValueError: for a county value out of its range, naming it.
    """
    out: dict[str, Any] = {}
    for name, value in overrides.items():
        param = COUNTY_PARAM_BY_NAME.get(name)
        if param is None:
            out[name] = value
        else:
            out["regime" if name == "team_regime" else name] = param.validate(value)
    return out
