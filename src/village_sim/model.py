"""VillageModel: allocation of poverty-alleviation resources in a village, month by month.

A step is one month. The phases, in order (../shared/DESIGN.md §3; docs/ODD.md §3), each a
function of a mechanism module in :mod:`village_sim.mechanisms`:

1. scheduled and instructor events (``scheduled_events.apply``);
2. economy — market income from labour, skill, assets, projects and measures; illness and
   disaster shocks (``economy.run``);
3. kin exchange — households in need draw on kin with surplus, money conserved
   (``kin_exchange.run``);
4. the yearly review (months 1, 13, 25, …): elections every ``term_years`` and norm
   internalisation (``elections.hold_election``, ``norms.internalise``), the committee's new
   estimates and the favouritism it dares (``identification.review``), the exit assessment of
   the register that ends (``exits.assess``), then identification with the team's checks and
   the democratic appraisal (``identification.run``);
5. allocation (monthly) — budget and mobilized funds, each cadre's chosen diversion, amount
   favouritism, the year's audit (``allocation.run``);
6. the team's visits within its monthly budget: queue, findings, acts on the register,
   payment checks (``visits.run``);
7. household-specific measures (因户施策) (``measures.run``);
8. development projects (yearly, after identification) (``projects.run``);
9. the re-check (回头看, yearly, months 7, 19, …): upper levels' in every regime, the team's
   through its queue (``recheck.run``);
10. trust; returns to poverty (返贫) (``trust.update``, ``exits.track_returns``);
11. the third-party survey (yearly, months 12, 24, …) and accountability after it
    (``survey.run``, ``elections.after_survey``), then data collection.

Randomness: one ``rng`` argument (SPEC 7). Independent streams are spawned from it with
``numpy.random.SeedSequence`` (:data:`village_sim.rng.STREAMS`) — village, shocks, committee,
team, upper levels, helpers, villagers, survey, events, projects — so two regimes on the same
seed face the same village and the same shocks (common random numbers; DESIGN §4). Python's
``random`` is never used. Every decision an actor makes is a replaceable policy
(``policies=``; :mod:`village_sim.mechanisms.policies`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd
import scipy.sparse as sp

from village_sim import metrics as M
from village_sim.agents import Household, VillageCommittee, WorkTeam
from village_sim.codes import ACTOR_TEXT, OUTCOME_TEXT, REASON_TEXT
from village_sim.events import Event, parse_events
from village_sim.mechanisms import (
    allocation,
    economy,
    elections,
    exits,
    identification,
    kin_exchange,
    measures,
    norms,
    projects,
    recheck,
    scheduled_events,
    survey,
    trust,
    visits,
)
from village_sim.mechanisms.deterrence import perceived_risk
from village_sim.mechanisms.policies import resolve_policies
from village_sim.params import Parameters, resolve_parameters
from village_sim.rng import STREAMS, normalize_rng, root_seed_sequence, spawn_streams
from village_sim.state import AT_IDENTIFICATION, LEDGER_FLOWS, MATERIAL_YUAN, NEVER, VillageState
from village_sim.village import Cause

__all__ = [
    "LEDGER_FLOWS",
    "MATERIAL_YUAN",
    "METRIC_NAMES",
    "STREAMS",
    "VillageModel",
    "metric",
    "normalize_rng",
    "root_seed_sequence",
]

METRIC_NAMES = (
    "poverty_headcount", "poverty_gap", "poverty_severity", "gini",
    "poverty_headcount_post", "poverty_gap_post", "poverty_severity_post", "gini_post",
    "coverage", "exclusion_error", "inclusion_error_leakage", "inclusion_error_nonpoor",
    "mistargeting", "targeting_differential", "kin_premium", "amount_kin_premium",
    "diverted_share", "missed_poor_rate", "wrongful_exit_rate", "approval", "cost_per_exit",
    "registered_count", "mean_trust", "team_active", "exits", "wrongful_exits",
    "returns_to_poverty", "project_capture_share", "matched_measure_share", "detected_diversions",
) + LEDGER_FLOWS + (
    "missing_funds_share", "team_visits_demanded", "team_visits_done", "team_known_share",
    "divertible", "perceived_detection", "registration_favoritism_dared",
    "amount_favoritism_dared", "project_capture_dared",
    "amount_kin_premium_yuan", "cadre_replacements", "failed_assessments",
) + tuple(f"{name}_at_identification" for name in AT_IDENTIFICATION) + (
    "survey_poor_share", "project_gain_gradient",
)


def metric(model: VillageModel, name: str) -> float:
    """Model reporter: the value of metric ``name`` at the current step.

    DataCollector reporters are ``functools.partial(metric, name=...)``: named, picklable
    (lambdas would break multiprocessing and Dask), and all read one cached computation.
    """
    return model.metrics()[name]


class VillageModel(mesa.Model, VillageState):
    """A village of households, its committee and (depending on the regime) a work team.

    Args:
        rng: Seed (int or numeric string), ``numpy.random.Generator``/``SeedSequence`` or None.
        regime: A regime name (see :data:`village_sim.params.REGIMES`).
        panel_every: Record the household frame every ``panel_every`` steps (0: never).
        events: Scheduled events, e.g. ``[{"month": 14, "kind": "flood"}]`` (see
            :mod:`village_sim.events`); an instructor adds more with :meth:`trigger`.
        policies: Replacements for the actors' decisions, ``{"proposal": fn, ...}``: each
            ``fn(observation, rng) -> action`` (see :mod:`village_sim.mechanisms.policies`).
        record_start: Record month 0 (the metrics in the DataCollector, the household panel)
            now, as a village that steps itself does (default). A county that keeps its
            villages' metrics yearly builds them without (``CountyModel``): their
            DataCollectors are never read.
        **overrides: Any parameter of :data:`village_sim.params.PARAMETERS`.

    Raises:
        ValueError: for an unknown parameter (with the closest valid name) or a bad value.
    """

    def __init__(self, rng: Any = None, regime: str | None = None, panel_every: int = 0,
                 events: Any = None, policies: Any = None, record_start: bool = True,
                 **overrides: Any):
        rng = normalize_rng(rng)
        if isinstance(panel_every, bool) or not isinstance(panel_every, int) or panel_every < 0:
            raise ValueError(
                f"parameter 'panel_every': got {panel_every!r}; allowed: an integer >= 0"
            )
        if not isinstance(record_start, bool):
            raise ValueError(f"parameter 'record_start': got {record_start!r}; allowed: true "
                             "or false")
        params = resolve_parameters(regime=regime, **overrides)
        scheduled = parse_events(events)
        chosen_policies = resolve_policies(policies)
        seed_seq = root_seed_sequence(rng)
        streams, mesa_rng = spawn_streams(seed_seq)
        # Mesa's own rng (and its stdlib ``random``) come from a child stream too
        super().__init__(rng=mesa_rng)
        self.p: Parameters = params
        self.seed = rng if isinstance(rng, int) else None
        # what reproduces this run, whatever form ``rng`` took (SPEC 7: record the seed)
        self.seed_entropy = seed_seq.entropy
        self.seed_spawn_key = tuple(seed_seq.spawn_key)
        self.streams = streams
        self.policies = chosen_policies
        self.panel_every = panel_every
        self.team_arrives = params.team_arrives
        self.team_leaves = params.team_leaves
        self.events = scheduled
        self.events_applied = []
        greed = self.build_state()
        self.committee = VillageCommittee(self, self.cadres, greed, self.streams["committee"])
        self.team = WorkTeam(self, self.streams["team"])
        self._households: list[Household] | None = None  # Mesa's agents, when first asked for
        self._metric_cache: tuple[int, dict[str, float]] | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(metric, name=name) for name in METRIC_NAMES}
        )
        self._panel: list[pd.DataFrame] = []
        if record_start:
            self.datacollector.collect(self)
            self._record_panel()

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance one month: the phases in order (see the module docstring)."""
        if self.county_driven:  # Mesa's clock only: a county engine runs the phases
            return
        yearly = self.steps % 12 == 1
        scheduled_events.apply(self)
        economy.run(self)
        kin_exchange.run(self)
        if yearly:
            elections.hold_election(self)
            norms.internalise(self)
            identification.review(self)
            exits.assess(self)
            identification.run(self)
        allocation.run(self)
        visits.run(self)
        measures.run(self)
        if yearly:
            projects.run(self)
        if self.steps % 12 == 7:
            recheck.run(self)
        trust.update(self)
        exits.track_returns(self)
        if self.steps % 12 == 0:
            survey.run(self)
            elections.after_survey(self)
        self.close_month()
        self._metric_cache = None
        self.datacollector.collect(self)
        self._record_panel()

    # ------------------------------------------------------------------ Mesa's agents
    @property
    def households(self) -> list[Household]:
        """The households as Mesa agents (``Household``, a view on its row of the columns).

        Made when first asked for (here, or through Mesa's ``agents``, ``agents_by_type`` or
        ``agent_types``): no mechanism reads them, and making a village's agents is about 40%
        of building it (a county builds hundreds). Agents draw nothing and their ids follow
        the committee's and the team's, so when they are made changes no result.
        """
        if self._households is None:
            self._households = [Household(self, i) for i in range(self.n)]
        return self._households

    @property
    def agents(self) -> Any:
        """Mesa's agent set of the model (the households made first, if not yet)."""
        self.households  # noqa: B018 - makes them
        return super().agents

    @property
    def agents_by_type(self) -> Any:
        """Mesa's agent sets by type (the households made first, if not yet)."""
        self.households  # noqa: B018 - makes them
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's agent types (the households made first, if not yet)."""
        self.households  # noqa: B018 - makes them
        return super().agent_types

    def drive_by_county(self) -> None:
        """Hand the phases to a county engine (village_sim.county.engine) for good.

        Mesa's recurring step event stops: the engine keeps the village's clock
        (:meth:`advance_clock`, a month at a time), and ``step()`` advances the clock only.
        """
        self.county_driven = True
        self._default_schedule.stop()
        self.step = self.advance_clock  # type: ignore[method-assign]

    def advance_clock(self) -> None:
        """One month of Mesa's clock (``steps`` and ``time``, as Mesa's step advances them)."""
        self.steps += 1
        self.time += 1.0

    def trigger(self, kind: str, month: int | None = None) -> Event:
        """Schedule an event for ``month`` (default: the next month to be stepped).

        Raises:
            ValueError: for an unknown kind or a month already past.
        """
        when = self.steps + 1 if month is None else month
        if isinstance(when, int) and not isinstance(when, bool) and when <= self.steps:
            raise ValueError(
                f"event {kind!r}: month got {when!r}; allowed: a month after the current "
                f"month ({self.steps})")
        event = Event(when, kind)
        self.events = sorted([*self.events, event])
        return event

    def metrics(self) -> dict[str, float]:
        """Every metric of DESIGN §5 at the current step (computed once per step)."""
        if self._metric_cache is not None and self._metric_cache[0] == self.steps:
            return self._metric_cache[1]
        out = self.household_metrics()
        out.update(self.institution_metrics())
        self._metric_cache = (self.steps, out)
        return out

    def household_metrics(self) -> dict[str, float]:
        """The metrics of :meth:`metrics` made of the households' incomes and register.

        Poverty (FGT) and the Gini, pre- and post-transfer; targeting and the kin premiums (NaN
        before the first identification). A county computes them for all its villages at once,
        bit for bit these (:func:`village_sim.county.metrics.household_metrics`).
        """
        z = self.p.poverty_line
        y = self.per_capita_income()
        aid_12 = self.aid_hist.sum(axis=0)
        post = self.per_capita_income_post(aid_12)
        w = self.persons_float  # the same sums as with the integers (exact)
        order = self.per_capita_income_order()  # one sort of y: Gini and income deciles
        out: dict[str, float] = {}
        for suffix, inc, inc_order in (("", y, order), ("_post", post, None)):
            p0, p1, p2 = M.fgt_all(inc, z, w)
            out["poverty_headcount" + suffix] = p0
            out["poverty_gap" + suffix] = p1
            out["poverty_severity" + suffix] = p2
            out["gini" + suffix] = M.gini(inc, w, inc_order)
        poor = y < z
        if self.identified:
            out.update(M.targeting(poor, self.registered))
            out["kin_premium"] = M.kin_premium(
                y, self.registered, self.cadre_kin, self.cadre, order)
            out["amount_kin_premium"], out["amount_kin_premium_yuan"] = M.amount_kin_premiums(
                y, self.registered, aid_12, self.cadre_kin, self.cadre, order)
        else:
            for name in ("coverage", "exclusion_error", "inclusion_error_leakage",
                         "inclusion_error_nonpoor", "mistargeting", "targeting_differential",
                         "kin_premium", "amount_kin_premium", "amount_kin_premium_yuan"):
                out[name] = M.NAN
        return out

    def institution_metrics(self, tallies: Mapping[str, float] | None = None
                            ) -> dict[str, float]:
        """The rest of :meth:`metrics`: the books, exits, trust, the team, the committee.

        Also the survey's findings and the register's scores at identification. ``tallies`` are
        :meth:`household_tallies` when the caller has them (a county computes them for all its
        villages at once, bit for bit these).
        """
        if tallies is None:
            tallies = self.household_tallies()
        out: dict[str, float] = {}
        diverted_12 = float(self.flow_hist["diverted"].sum())
        out["diverted_share"] = M.ratio(diverted_12, float(self.flow_hist["divertible"].sum()))
        out["missing_funds_share"] = M.ratio(
            diverted_12, float(self.flow_hist["reported_spent"].sum()))
        out.update(self.survey)
        spent = sum(self.totals[k] for k in (
            "delivered", "diverted", "measures_spent", "projects_spent", "staff_costs"))
        out["cost_per_exit"] = M.ratio(spent, tallies["sustained_exits"])
        out["registered_count"] = tallies["registered_count"]
        out["mean_trust"] = tallies["mean_trust"]
        out["team_active"] = float(self.team_active)
        out["exits"] = float(self.exits_total)
        out["wrongful_exits"] = float(self.wrongful_exits_total)
        out["returns_to_poverty"] = tallies["returns_to_poverty"]
        out["project_capture_share"] = M.ratio(self.industry_misdirected, self.industry_invested)
        out["project_gain_gradient"] = tallies["project_gain_gradient"]
        out["matched_measure_share"] = M.ratio(self.measures_matched, self.measures_given)
        out["detected_diversions"] = float(self.detected_diversions)
        out.update({k: float(v) for k, v in self.flows.copy().items()})  # (a county's: a view)
        out["divertible"] = float(self.memo["divertible"])
        out["team_visits_demanded"] = float(self.team_visits_demanded)
        out["team_visits_done"] = float(self.team_visits_done)
        out["team_known_share"] = tallies["team_known_share"]
        out["perceived_detection"] = tallies["perceived_detection"]
        out["registration_favoritism_dared"] = float(self.favoritism_now)
        out["amount_favoritism_dared"] = float(
            self.p.amount_favoritism * self.channel_intensity["amount"])
        out["project_capture_dared"] = float(
            min(1.0, self.p.project_capture * self.channel_intensity["project"]))
        for name, value in self.at_identification.items():
            out[f"{name}_at_identification"] = value
        out["cadre_replacements"] = float(self.cadre_replacements)
        out["failed_assessments"] = float(self.failed_assessments)
        return out

    def household_tallies(self) -> dict[str, float]:
        """The counts and means over households and cadres in :meth:`institution_metrics`.

        Exits sustained for 12 months (off the register, not poor since), the register's size,
        mean trust, returns to poverty, the share of households the team knows (0 with no
        team present), the projects' gain gradient over the baseline terciles, and the cadres'
        mean perceived risk of a large diversion being found (``perceived_detection``).
        """
        sustained = self.ever_exited & ~self.registered & ~self.poor_since_exit & (
            self.steps - self.exit_month >= 12)
        return {
            "sustained_exits": float(np.count_nonzero(sustained)),
            "registered_count": float(np.count_nonzero(self.registered)),
            "mean_trust": float(self.trust.mean()),
            "returns_to_poverty": float(np.count_nonzero(self.returned)),
            "team_known_share": (np.count_nonzero(self.team_knows()) / self.n
                                 if self.team_active else 0.0),
            "project_gain_gradient": M.project_gain_gradient(
                self.project_income, self.baseline_income, self.baseline_tercile),
            "perceived_detection": float(np.mean(perceived_risk(self, "diversion"))),
        }

    def _record_panel(self) -> None:
        if self.panel_every and self.steps % self.panel_every == 0:
            frame = self.household_frame()
            frame.insert(0, "step", self.steps)
            self._panel.append(frame)

    def household_frame(self) -> pd.DataFrame:
        """One row per household: identity, income, status and institutional ties."""
        y = self.per_capita_income()
        return pd.DataFrame({
            "household_id": np.arange(self.n),
            "clan": self.clan,
            "persons": self.persons,
            "labour": self.labour,
            "per_capita_income": y.copy(),
            "per_capita_income_post": self.per_capita_income_post(),
            "poor": y < self.p.poverty_line,
            "registered": self.registered.copy(),
            "aid_received": self.aid_received.copy(),
            "diverted_received": self.diverted_received.copy(),
            "cadre": self.cadre,
            "cadre_kin": self.cadre_kin,
            "cadre_friend": self.cadre_friend,
            "helper": self.helper.copy(),
            "trust": self.trust.copy(),
            "cause": pd.Categorical.from_codes(
                self.cause.astype(np.int64), categories=pd.Index([c.name.lower() for c in Cause])),
            "sick": self.sick.copy(),
            "measures_received": self.measures_received.copy(),
            "team_visited": self.team.visit_month > NEVER,
            "exited": self.ever_exited & ~self.registered,
            "wrongful_exit": self.wrongful_exit & self.ever_exited,
        })

    def household_panel(self) -> pd.DataFrame:
        """The household frames recorded every ``panel_every`` steps, stacked."""
        if not self._panel:
            return pd.DataFrame()
        return pd.concat(self._panel, ignore_index=True)

    def decision_log(self) -> pd.DataFrame:
        """Every registration decision, one row each.

        Columns: household, year, month, who proposed it, who challenged it, the outcome and
        the reason.
        """
        cols = ["household_id", "year", "month", "proposed_by", "challenged_by", "outcome",
                "reason"]
        if not self._log_blocks:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        merged = {c: np.concatenate([b[c] for b in self._log_blocks]) for c in cols}
        reasons = np.array(("",) + REASON_TEXT, dtype=object)
        return pd.DataFrame({
            "household_id": merged["household_id"],
            "year": merged["year"],
            "month": merged["month"],
            "proposed_by": np.array(ACTOR_TEXT, dtype=object)[merged["proposed_by"]],
            "challenged_by": np.array(ACTOR_TEXT, dtype=object)[merged["challenged_by"]],
            "outcome": np.array(OUTCOME_TEXT, dtype=object)[merged["outcome"]],
            "reason": reasons[merged["reason"].astype(np.int64) + 1],
        })

    def kinship_graph(self) -> Any:
        """The kinship network as a networkx Graph (built on request; nodes carry clan)."""
        import networkx as nx

        g = nx.from_scipy_sparse_array(sp.triu(self.kin, k=1).tocsr())
        nx.set_node_attributes(g, {i: int(c) for i, c in enumerate(self.clan)}, "clan")
        return g
