"""VillageModel: allocation of poverty-alleviation resources in a village, month by month.

A step is one month. The phases, in order (../shared/DESIGN.md §3; docs/ODD.md, "Process
overview and scheduling"):

1. economy — market income from labour, skill, assets, projects and measures; illness and
   disaster shocks;
2. kin exchange — households in need draw on kin with surplus (money conserved);
3. yearly review (months 1, 13, 25, …): first the exit assessment of the register that ends —
   exits (脱贫) and wrongful exits (错退) — then identification: quota, committee proposal,
   team check, democratic appraisal, the new register;
4. allocation (monthly) — budget and mobilized funds, diversion, amount favoritism, audits;
5. household-specific measures (因户施策) — visits, diagnosis, matched measures;
6. development projects (yearly, after identification) — infrastructure and industry;
7. re-check (回头看, yearly, months 7, 19, …) by a supervising team;
8. trust — households judge fairness from what they see among kin and friends;
9. returns to poverty (返贫) tracked monthly;
10. the third-party survey (yearly, months 12, 24, …), then data collection.

Randomness: one ``rng`` argument (SPEC 7). Independent streams are spawned from it with
``numpy.random.SeedSequence`` — village, shocks, committee, team, upper-level audits, helpers,
villagers, survey, events — so two regimes on the same seed face the same village and the same
shocks (common random numbers; DESIGN §4). Shock draws have fixed shapes every month, whatever
the state. Python's ``random`` is never used.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd
import scipy.sparse as sp

from village_sim import metrics as M
from village_sim.agents import (
    Household,
    VillageCommittee,
    WorkTeam,
    _diagnose,
    lognormal_factor,
)
from village_sim.events import BUDGET_CUT_FACTOR, OUTBREAK_PROBABILITY, Event, parse_events
from village_sim.params import Parameters, resolve_parameters
from village_sim.village import Cause, build_village, cause_of_poverty

__all__ = [
    "LEDGER_FLOWS",
    "METRIC_NAMES",
    "STREAMS",
    "VillageModel",
    "metric",
    "normalize_rng",
    "root_seed_sequence",
]

STREAMS = (
    "village", "shocks", "committee", "team", "upper", "helpers", "villagers", "survey", "events",
)

LEDGER_FLOWS = (
    "released", "mobilized", "staff_funding", "carried_in", "recovered",
    "delivered", "diverted", "measures_spent", "projects_spent", "staff_costs", "carried_over",
)

METRIC_NAMES = (
    "poverty_headcount", "poverty_gap", "poverty_severity", "gini",
    "poverty_headcount_post", "poverty_gap_post", "poverty_severity_post", "gini_post",
    "coverage", "exclusion_error", "inclusion_error_leakage", "inclusion_error_nonpoor",
    "mistargeting", "targeting_differential", "kin_premium", "amount_kin_premium",
    "diverted_share", "missed_poor_rate", "wrongful_exit_rate", "approval", "cost_per_exit",
    "registered_count", "mean_trust", "team_active", "exits", "wrongful_exits",
    "returns_to_poverty", "project_capture_share", "matched_measure_share", "detected_diversions",
) + LEDGER_FLOWS

# Amounts below this are not material: they neither count as a detection nor as a grievance.
MATERIAL_YUAN = 1.0

# decision log vocabulary
_ACTORS = ("", "committee", "team", "villagers", "helper")
_OUTCOMES = ("registered", "not registered", "removed", "re-registered", "exited")
_REASONS = (
    "estimated poor",
    "favoured: kin or friend of a cadre",
    "added by the team",
    "complaint upheld",
    "complaint dismissed",
    "challenged by the team: not poor",
    "removed after a villagers' report",
    "report dismissed",
    "over quota",
    "re-check: not poor",
    "re-check: still poor after exit",
    "assessed above the poverty line",
    "declared out under exit-target pressure",
)


def normalize_rng(rng: Any) -> Any:
    """Accept what users pass as a seed: ints, numeric strings (the app's seed box), generators.

    Raises:
        ValueError: for anything else (a non-numeric string, a negative or fractional number, a
            bool), naming the value and what is allowed.
    """
    bad = ValueError(
        f"parameter 'rng': got {rng!r}; allowed: a non-negative integer seed, a numeric "
        "string, a numpy Generator or SeedSequence, or None"
    )
    if isinstance(rng, bool):
        raise bad
    if isinstance(rng, str):
        try:
            rng = int(rng.strip())
        except ValueError:
            raise bad from None
    if isinstance(rng, float):
        if not rng.is_integer():
            raise bad
        rng = int(rng)
    if isinstance(rng, np.integer):
        rng = int(rng)
    if isinstance(rng, int):
        if rng < 0:
            raise bad
        return rng
    if rng is None or isinstance(
        rng, np.random.Generator | np.random.SeedSequence | np.random.BitGenerator
    ):
        return rng
    raise bad


def root_seed_sequence(rng: Any) -> np.random.SeedSequence:
    """The SeedSequence all of a model's streams are spawned from.

    An int, None or a SeedSequence is a *seed*: the same one gives the same model every time
    (a SeedSequence is copied, so passing one object to two regimes gives both the same
    village). A Generator or BitGenerator is a *stream*: the model draws its entropy from it,
    so it is consumed, as SPEC 7 expects.
    """
    if isinstance(rng, np.random.SeedSequence):
        return np.random.SeedSequence(rng.entropy, spawn_key=rng.spawn_key,
                                      pool_size=rng.pool_size)
    if isinstance(rng, np.random.BitGenerator):
        rng = np.random.Generator(rng)
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence([int(x) for x in rng.integers(2**63, size=4)])
    return np.random.SeedSequence(rng)


def metric(model: VillageModel, name: str) -> float:
    """Model reporter: the value of metric ``name`` at the current step.

    DataCollector reporters are ``functools.partial(metric, name=...)``: named, picklable
    (lambdas would break multiprocessing and Dask), and all read one cached computation.
    """
    return model.metrics()[name]


class VillageModel(mesa.Model):
    """A village of households, its committee and (depending on the regime) a work team.

    Args:
        rng: Seed (int or numeric string), ``numpy.random.Generator``/``SeedSequence`` or None.
        regime: A regime name (see :data:`village_sim.params.REGIMES`).
        panel_every: Record the household frame every ``panel_every`` steps (0: never).
        events: Scheduled events, e.g. ``[{"month": 14, "kind": "flood"}]`` (see
            :mod:`village_sim.events`); an instructor adds more with :meth:`trigger`.
        **overrides: Any parameter of :data:`village_sim.params.PARAMETERS`.

    Raises:
        ValueError: for an unknown parameter (with the closest valid name) or a bad value.
    """

    def __init__(self, rng: Any = None, regime: str | None = None, panel_every: int = 0,
                 events: Any = None, **overrides: Any):
        rng = normalize_rng(rng)
        if isinstance(panel_every, bool) or not isinstance(panel_every, int) or panel_every < 0:
            raise ValueError(
                f"parameter 'panel_every': got {panel_every!r}; allowed: an integer >= 0"
            )
        params = resolve_parameters(regime=regime, **overrides)
        scheduled = parse_events(events)
        seed_seq = root_seed_sequence(rng)
        children = seed_seq.spawn(len(STREAMS) + 1)
        # Mesa's own rng (and its stdlib ``random``) come from a child stream too
        super().__init__(rng=np.random.Generator(np.random.PCG64(children[-1])))
        self.p: Parameters = params
        self.seed = rng if isinstance(rng, int) else None
        # what reproduces this run, whatever form ``rng`` took (SPEC 7: record the seed)
        self.seed_entropy = seed_seq.entropy
        self.seed_spawn_key = tuple(seed_seq.spawn_key)
        self.streams: dict[str, np.random.Generator] = {
            name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(STREAMS, children[:-1], strict=True)
        }
        self.panel_every = panel_every
        self.team_arrives: int = params.team_arrives
        self.team_leaves: int | None = params.team_leaves
        self.events: list[Event] = scheduled
        self.events_applied: list[Event] = []
        self.budget_factor = 1.0
        self._force_disaster = False
        self._force_audit = False
        self._build()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(metric, name=name) for name in METRIC_NAMES}
        )
        self._panel: list[pd.DataFrame] = []
        self.datacollector.collect(self)
        self._record_panel()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        p = self.p
        rng = self.streams["village"]
        v = build_village(p, rng)
        n = self.n = p.n_households
        self.clan, self.persons, self.labour = v.clan, v.persons, v.labour
        self.skill, self.assets, self.sick = v.skill, v.assets, v.sick
        self.kin, self.friends = v.kin, v.friends
        self.network = ((v.kin + v.friends) > 0).astype(np.float64).tocsr()
        self.cadre = np.zeros(n, dtype=bool)
        self.cadre[v.cadres] = True
        self.cadre_kin = (np.asarray(v.kin[v.cadres].sum(axis=0)).ravel() > 0) & ~self.cadre
        cadre_friend = (np.asarray(v.friends[v.cadres].sum(axis=0)).ravel() > 0) & ~self.cadre
        # favoured: cadre households and kin fully, friends half (优亲厚友)
        self.fav_weight = np.where(
            self.cadre | self.cadre_kin, 1.0, np.where(cadre_friend, 0.5, 0.0)
        )
        self.cadre_friend = cadre_friend
        self.cadre_kin_lists = [v.kin.indices[v.kin.indptr[c]:v.kin.indptr[c + 1]]
                                for c in v.cadres]

        self.measure_income = np.zeros(n)
        self.project_income = np.zeros(n)
        self.infrastructure = 1.0
        self._skill_median = float(np.median(self.skill))  # skill never changes
        self._asset_median = float(np.median(self.assets))  # changes only in disasters
        self.cause = self._causes()
        self._y: np.ndarray | None = None  # y, cached until income_hist changes
        # 12 months of history so that y is defined from the start
        self.income_hist = np.zeros((12, n))
        self.aid_hist = np.zeros((12, n))
        self.other_transfer_hist = np.zeros((12, n))  # diverted money, kin exchange, fines
        self.diverted_hist = np.zeros((12, n))  # diverted money received (what kin can see)
        annual = self._annual_capacity()
        sigma = p.income_volatility
        for k in range(12):
            self.income_hist[k] = annual / 12.0 * np.exp(
                sigma * rng.standard_normal(n) - 0.5 * sigma**2)

        self.registered = np.zeros(n, dtype=bool)
        self.aid_received = np.zeros(n)
        self.diverted_received = np.zeros(n)
        self.kin_net = np.zeros(n)
        self.trust = np.clip(rng.normal(0.6, 0.1, size=n), 0.0, 1.0)
        self.helper = np.full(n, -1, dtype=np.int64)
        self.n_helpers = 0
        self.diagnosis = np.zeros(n, dtype=np.int8)  # Cause code; NONE: not diagnosed
        self.diagnosed_by = np.zeros(n, dtype=np.int8)  # index into _ACTORS
        self.measure_month = np.full(n, -10_000, dtype=np.int64)
        self.measures_received = np.zeros(n, dtype=np.int64)
        self.exit_month = np.full(n, -10_000, dtype=np.int64)
        self.ever_exited = np.zeros(n, dtype=bool)
        self.wrongful_exit = np.zeros(n, dtype=bool)
        self.poor_since_exit = np.zeros(n, dtype=bool)
        self.returned = np.zeros(n, dtype=bool)
        self.restored_at_recheck = np.zeros(n, dtype=bool)
        self.identified = False
        self.identifications = 0

        self.committee = VillageCommittee(self, v.cadres, v.cadre_greed, self.streams["committee"])
        self.team = WorkTeam(self, self.streams["team"])
        self.households = [Household(self, i) for i in range(n)]

        # money: three funds carried over between months
        self.cash_fund = 0.0
        self.measure_fund = 0.0
        self.project_fund = 0.0
        self.flows: dict[str, float] = dict.fromkeys(LEDGER_FLOWS, 0.0)
        self.flow_hist: dict[str, np.ndarray] = {k: np.zeros(12) for k in LEDGER_FLOWS}
        self.totals: dict[str, float] = dict.fromkeys(LEDGER_FLOWS, 0.0)
        self.industry_invested = 0.0
        self.measures_given = 0
        self.measures_matched = 0
        self.industry_misdirected = 0.0
        self.detected_diversions = 0
        self.exits_total = 0
        self.wrongful_exits_total = 0
        self.survey: dict[str, float] = {
            "missed_poor_rate": M.NAN, "wrongful_exit_rate": M.NAN, "approval": M.NAN,
        }
        self._log_blocks: list[dict[str, np.ndarray]] = []
        self._metric_cache: tuple[int, dict[str, float]] | None = None

    def _annual_capacity(self) -> np.ndarray:
        """Yearly market income each household can earn now (before monthly noise)."""
        p = self.p
        labour = self.labour * np.where(self.sick, 0.4, 1.0)
        base = p.wage * labour * self.skill + p.asset_return * self.assets
        return base * self.infrastructure + self.measure_income + self.project_income

    # ------------------------------------------------------------------ state queries
    @property
    def month(self) -> int:
        """The current month (the number of steps taken)."""
        return self.steps

    @property
    def team_active(self) -> bool:
        """Whether a work team is in the village this month."""
        if not self.p.team_present:
            return False
        return self.team_window_open

    @property
    def team_window_open(self) -> bool:
        """Whether this month lies in [team_arrives, team_leaves), with or without a team."""
        m = self.steps
        return m >= self.team_arrives and (self.team_leaves is None or m < self.team_leaves)

    @property
    def supervising(self) -> bool:
        """Whether an active team supervises the committee (相互监督)."""
        return self.team_active and self.p.team_supervision

    def supervision_effect(self) -> float:
        """Share of amount favoritism and project capture the team prevents this month."""
        return self.p.supervision_strength * (1.0 - self.p.cooptation) if self.supervising else 0.0

    def per_capita_income(self) -> np.ndarray:
        """y: pre-transfer per-capita market income over the last 12 months (read-only view).

        Computed once per month: phases, metrics and every ``Household`` view share it.
        """
        if self._y is None:
            self._y = self.income_hist.sum(axis=0) / self.persons
            self._y.flags.writeable = False
        return self._y

    def _causes(self) -> np.ndarray:
        return cause_of_poverty(self.sick, self.labour, self.persons, self.skill, self.assets,
                                self._skill_median, self._asset_median)

    def per_capita_income_post(self) -> np.ndarray:
        """Per-capita income over the last 12 months after all transfers."""
        total = self.income_hist.sum(axis=0) + self.aid_hist.sum(axis=0)
        return (total + self.other_transfer_hist.sum(axis=0)) / self.persons

    def poor(self) -> np.ndarray:
        """Households with y below the poverty line."""
        return self.per_capita_income() < self.p.poverty_line

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance one month: the phases in order (see the module docstring)."""
        yearly = self.steps % 12 == 1
        self.apply_events()
        self.run_economy()
        self.run_kin_exchange()
        if yearly:
            self.run_exit_assessment()
            self.run_identification()
        self.run_allocation()
        self.run_household_measures()
        if yearly:
            self.run_development_projects()
        if self.steps % 12 == 7:
            self.run_recheck()
        self.update_trust()
        self.update_returns()
        if self.steps % 12 == 0:
            self.run_survey()
        self._close_month()
        self.datacollector.collect(self)
        self._record_panel()

    def _close_month(self) -> None:
        """Book the month: funds carried over, 12-month and cumulative flow totals."""
        f = self.flows
        f["carried_over"] = self.cash_fund + self.measure_fund + self.project_fund
        slot = self.steps % 12
        for k in LEDGER_FLOWS:
            self.flow_hist[k][slot] = f[k]
            self.totals[k] += f[k]
        self._metric_cache = None

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

    def apply_events(self) -> None:
        """Apply the events due this month (before the economy phase)."""
        due = [e for e in self.events if e.month == self.steps]
        if not due:
            return
        self.events = [e for e in self.events if e.month != self.steps]
        for event in due:
            if event.kind == "flood":
                self._force_disaster = True
            elif event.kind == "illness_outbreak":
                onset = self.streams["events"].random(self.n) < OUTBREAK_PROBABILITY
                self.sick = self.sick | onset
            elif event.kind == "audit_now":
                self._force_audit = True
            elif event.kind == "team_arrives":
                self.team_arrives = self.steps
                if self.team_leaves is not None and self.team_leaves <= self.steps:
                    self.team_leaves = None
            elif event.kind == "team_leaves":
                self.team_leaves = self.steps
            elif event.kind == "budget_cut":
                self.budget_factor *= BUDGET_CUT_FACTOR
            self.events_applied.append(event)

    def run_economy(self) -> None:
        """Phase 1: illness, disaster, and this month's market income.

        The shock stream draws the same arrays every month whatever the state, so every regime
        meets identical shocks (common random numbers).
        """
        p, n, rng = self.p, self.n, self.streams["shocks"]
        fall_ill = rng.random(n) < p.illness_rate
        recover = rng.random(n) < p.recovery_rate
        noise = rng.standard_normal(n)
        disaster = (rng.random() < p.disaster_rate) or self._force_disaster
        hit = rng.random(n) < 0.5
        self._force_disaster = False
        self.sick = np.where(self.sick, ~recover, fall_ill)
        factor = np.ones(n)
        if disaster:
            factor[hit] = 0.5
            self.assets = np.where(hit, self.assets * 0.8, self.assets)
            self._asset_median = float(np.median(self.assets))
        self.cause = self._causes()
        sigma = p.income_volatility
        monthly = self._annual_capacity() / 12.0 * np.exp(sigma * noise - 0.5 * sigma**2) * factor
        self._slot = self.steps % 12
        self.income_hist[self._slot] = monthly
        self._y = None
        self.aid_hist[self._slot] = 0.0
        self.other_transfer_hist[self._slot] = 0.0
        self.diverted_hist[self._slot] = 0.0
        for k in LEDGER_FLOWS:
            self.flows[k] = 0.0

    def run_kin_exchange(self) -> None:
        """Phase 2: households short of this month's needs draw on kin with a surplus.

        Each giver splits ``kin_exchange_rate`` of its surplus (income above 1.5 times needs)
        among needy kin in proportion to their deficits; receipts are capped at the deficit and
        givers give exactly what is received, so money is conserved.
        """
        if not self.p.kin_exchange:
            return
        income = self.income_hist[self._slot]
        need = self.p.poverty_line / 12.0 * self.persons
        deficit = np.maximum(0.0, need - income)
        surplus = np.maximum(0.0, income - 1.5 * need) * self.p.kin_exchange_rate
        a = self.kin
        demand = a @ deficit  # total deficit among each giver's kin
        rate = np.divide(surplus, demand, out=np.zeros_like(surplus), where=demand > 0)
        offered = deficit * (a @ rate)
        # receipts are capped at the deficit: scale offers down where they exceed it
        fill = np.divide(deficit, offered, out=np.ones_like(offered), where=offered > deficit)
        received = offered * fill
        given = rate * (a @ (deficit * fill))
        net = received - given
        self.other_transfer_hist[self._slot] += net
        self.kin_net += net

    # -- identification -------------------------------------------------------------
    def _quota_count(self) -> int | None:
        return int(round(self.p.quota * self.n)) if self.p.quota_control else None

    @staticmethod
    def _lowest(score: np.ndarray, candidates: np.ndarray, k: int | None) -> np.ndarray:
        """Boolean mask of the ``k`` candidates with the lowest score (all below 1 if k None)."""
        mask = np.zeros(score.size, dtype=bool)
        idx = np.flatnonzero(candidates)
        if k is None:
            mask[idx[score[idx] < 1.0]] = True
            return mask
        k = min(k, idx.size)
        if k > 0:
            mask[idx[np.argsort(score[idx], kind="stable")[:k]]] = True
        return mask

    def run_identification(self) -> None:
        """Phase 3 (yearly): write a new register (贫困户识别, 建档立卡).

        The committee proposes the quota's worth of households from its noisy local knowledge,
        biased toward cadres' kin and friends; an active supervising team challenges entries
        its knowledge says are not poor and proposes replacements; the democratic appraisal
        and public notice (民主评议, 公示) let villagers complain, and complaints are settled
        by the team's visits if it supervises, otherwise by the committee. Without committee
        identification (``team_alone``) the team lists from what it knows itself.
        """
        p, z = self.p, self.p.poverty_line
        y = self.per_capita_income()
        poor = y < z
        k = self._quota_count()
        year = (self.steps - 1) // 12 + 1
        committee_est = self.committee.estimate_incomes(y)
        eligible = (self.steps - self.exit_month) >= 12  # exited within a year: not re-listed
        team_on = self.team_active
        team_lists = team_on and not p.committee_identifies
        n = self.n
        proposed_by = np.zeros(n, dtype=np.int8)
        challenged_by = np.zeros(n, dtype=np.int8)
        reason = np.full(n, -1, dtype=np.int8)

        if team_lists:
            team_est = self.team.knowledge(None)
            score = team_est / z
            listed = self._lowest(score, eligible, k)
            proposed_by[listed] = _ACTORS.index("team")
            reason[listed] = _REASONS.index("estimated poor")
        else:
            score = self.committee.biased_score()
            listed = self._lowest(score, eligible, k)
            honest = self._lowest(committee_est / z, eligible, k)
            proposed_by[listed] = _ACTORS.index("committee")
            reason[listed & honest] = _REASONS.index("estimated poor")
            reason[listed & ~honest] = _REASONS.index("favoured: kin or friend of a cadre")
            if team_on and p.team_supervision:
                team_est = self.team.knowledge(committee_est)
                goes_along = self.team.stream.random(n) < p.cooptation
                challenged = listed & (team_est >= z) & ~goes_along
                challenged_by[challenged] = _ACTORS.index("team")
                reason[challenged] = _REASONS.index("challenged by the team: not poor")
                listed &= ~challenged
                refill_score = team_est / z
                if k is not None:
                    room = k - int(listed.sum())
                    added = self._lowest(refill_score, eligible & ~listed & ~challenged, room)
                else:
                    added = self._lowest(refill_score, eligible & ~listed & ~challenged, None)
                proposed_by[added & (proposed_by == 0)] = _ACTORS.index("team")
                reason[added] = _REASONS.index("added by the team")
                listed |= added

        if p.democratic_appraisal:
            listed = self._appraisal(listed, poor, y, committee_est, k, eligible,
                                     challenged_by, reason)
        over = (proposed_by > 0) & ~listed & (reason == _REASONS.index("estimated poor"))
        reason[over] = _REASONS.index("over quota")

        self.committee.proposed = proposed_by == _ACTORS.index("committee")
        self.registered = listed
        self.identified = True
        self.identifications += 1
        self._assign_helpers()
        touched = (proposed_by > 0) | (challenged_by > 0) | listed | (reason >= 0)
        outcome = np.where(listed, _OUTCOMES.index("registered"), _OUTCOMES.index("not registered"))
        self._log(touched, year, proposed_by, challenged_by, outcome, reason)

    def _appraisal(self, listed: np.ndarray, poor: np.ndarray, y: np.ndarray,
                   committee_est: np.ndarray, k: int | None, eligible: np.ndarray,
                   challenged_by: np.ndarray, reason: np.ndarray) -> np.ndarray:
        """Democratic appraisal and public notice: complaints, and who settles them.

        A poor household left off complains with probability ``complaint_rate * 2 (1 - trust)``;
        a listed household that is not poor is objected to at the public notice with probability
        ``complaint_rate``. A complaint is public, so it brings the villagers' knowledge in:
        the appraisal meeting sees the household's income with 10% error. A supervising team
        settles complaints by visiting (5% error), and goes along with the committee with
        probability ``cooptation``. Otherwise the committee settles them on the meeting's
        evidence, but shields its kin and friends with probability ``favoritism * weight``.
        With a quota, the settler keeps its ``k`` best-ranked entries.
        """
        p, z, n = self.p, self.p.poverty_line, self.n
        rng = self.streams["villagers"]
        u_self, u_report = rng.random(n), rng.random(n)
        meeting = y * lognormal_factor(0.1, n, rng)
        p_self = np.minimum(1.0, p.complaint_rate * 2.0 * (1.0 - self.trust))
        p_report = p.complaint_rate
        complain = ~listed & poor & eligible & (u_self < p_self)
        report = listed & ~poor & (u_report < p_report)
        involved = complain | report
        if self.supervising:
            investigated = np.flatnonzero(involved)
            self.team.visit_month[investigated] = self.steps
            self.team.visit_estimate[investigated] = y[investigated] * lognormal_factor(
                0.05, investigated.size, self.team.stream)
            acts = self.team.stream.random(n) >= p.cooptation
            evidence = self.team.knowledge(committee_est)
            upheld_add = complain & acts & (evidence < z)
            upheld_remove = report & acts & (evidence >= z)
            score = evidence / z
        else:
            shield = self.committee.stream.random(n) < p.favoritism * self.fav_weight
            evidence = np.where(involved, meeting, committee_est)
            upheld_add = complain & (evidence < z)
            upheld_remove = report & (evidence >= z) & ~shield
            score = evidence / z - p.favoritism * self.fav_weight
        new = (listed & ~upheld_remove) | upheld_add
        if k is not None and new.sum() > k:
            # keep the quota: the settler keeps its k best-ranked entries
            new = self._lowest(score, new, k)
        challenged_by[complain | report] = _ACTORS.index("villagers")
        reason[complain & new] = _REASONS.index("complaint upheld")
        reason[complain & ~new] = _REASONS.index("complaint dismissed")
        reason[report & ~new] = _REASONS.index("removed after a villagers' report")
        reason[report & new] = _REASONS.index("report dismissed")
        return new

    def _assign_helpers(self) -> None:
        """Give each registered household a responsible helper (帮扶责任人)."""
        self.helper[:] = -1
        self.n_helpers = 0
        if not self.p.helpers:
            return
        reg = np.flatnonzero(self.registered)
        if reg.size == 0:
            return
        rng = self.streams["helpers"]
        order = rng.permutation(reg)
        self.n_helpers = math.ceil(reg.size / self.p.helper_ratio)
        self.helper[order] = np.arange(order.size) % self.n_helpers
        # helpers have no local interests and diagnose well (阮荣平 2021)
        undiagnosed = reg[self.diagnosis[reg] == Cause.NONE]
        self.diagnosis[undiagnosed] = _diagnose(self.cause[undiagnosed], 0.75, rng)
        self.diagnosed_by[undiagnosed] = _ACTORS.index("helper")

    def _log(self, mask: np.ndarray, year: int, proposed_by: np.ndarray | int,
             challenged_by: np.ndarray | int, outcome: np.ndarray | int,
             reason: np.ndarray | int) -> None:
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return

        def pick(a: np.ndarray | int) -> np.ndarray:
            return a[idx] if isinstance(a, np.ndarray) else np.full(idx.size, a, dtype=np.int8)

        self._log_blocks.append({
            "household_id": idx, "year": np.full(idx.size, year),
            "month": np.full(idx.size, self.steps),
            "proposed_by": pick(proposed_by), "challenged_by": pick(challenged_by),
            "outcome": pick(outcome), "reason": pick(reason),
        })

    # -- allocation -----------------------------------------------------------------
    def run_allocation(self) -> None:
        """Phase 4 (monthly): release the budget, let cadres divert, pay the register, audit.

        Diverted money goes half to the cadre's household and half to its kin. Upper-level
        audits (every regime) and a supervising team detect and sanction: restitution plus a
        fine of ``sanction`` times the amount found, paid by the cadre's household back into
        the programme's cash fund.
        """
        p, n, f = self.p, self.n, self.flows
        f["carried_in"] = self.cash_fund + self.measure_fund + self.project_fund
        base = p.budget_per_household * n / 12.0 * self.budget_factor
        mobilized = p.mobilization * base if p.resource_mobilization and self.team_window_open \
            else 0.0
        released = base + mobilized
        staff = (p.team_cost * self.team.size if self.team_active else 0.0) + (
            p.helper_cost * self.n_helpers)
        measure_in = p.measure_share * released if p.household_measures else 0.0
        project_in = p.project_share * released if p.development_projects else 0.0
        self.measure_fund += measure_in
        self.project_fund += project_in
        pool = self.cash_fund + released - measure_in - project_in
        f.update(released=released, mobilized=mobilized, staff_funding=staff, staff_costs=staff)

        cadres = self.committee.cadres
        upper = self.streams["upper"]
        # an instructor's "audit now" happens even where routine audits are switched off
        audit_draw = upper.random()  # drawn every month, whatever the switches (CRN)
        audit_now = (p.upper_audits and audit_draw < p.audit_probability) or self._force_audit
        self._force_audit = False
        audit_finds = upper.random(cadres.size) < p.detection
        team_catch = p.supervision_strength * (1.0 - p.cooptation) if self.supervising else 0.0
        team_finds = self.team.stream.random(cadres.size) < team_catch
        ring = self.committee.diverted_ring
        ring[self._slot] = 0.0

        reg = np.flatnonzero(self.registered)
        if reg.size > 0 and pool > 0:
            share = self.committee.diversion_fractions(team_catch)
            diverted_by = pool / cadres.size * share
            diverted = float(diverted_by.sum())
            ring[self._slot] = diverted_by
            gain = np.zeros(n)
            np.add.at(gain, cadres, 0.5 * diverted_by)
            for c, kin in enumerate(self.cadre_kin_lists):
                if kin.size:
                    gain[kin] += 0.5 * diverted_by[c] / kin.size
                else:
                    gain[cadres[c]] += 0.5 * diverted_by[c]
            self.other_transfer_hist[self._slot] += gain
            self.diverted_hist[self._slot] = gain
            self.diverted_received += gain
            rest = pool - diverted
            fav = p.amount_favoritism * (1.0 - self.supervision_effect())
            w = 1.0 + fav * self.fav_weight[reg]
            aid = rest * w / w.sum()
            self.aid_hist[self._slot, reg] += aid
            self.aid_received[reg] += aid
            f["diverted"], f["delivered"] = diverted, rest
            self.cash_fund = 0.0
        else:
            self.cash_fund = pool

        # detection: a supervising team catches this month's diversion; an audit, the year's
        caught = np.zeros(cadres.size)
        if self.supervising:
            caught += np.where(team_finds, ring[self._slot], 0.0)
            ring[self._slot] = np.where(team_finds, 0.0, ring[self._slot])
        if audit_now:
            found = np.where(audit_finds, ring.sum(axis=0), 0.0)
            caught += found
            ring[:, audit_finds] = 0.0
        if caught.any():
            penalty = caught * (1.0 + p.sanction)
            np.add.at(self.other_transfer_hist[self._slot], cadres, -penalty)
            np.add.at(self.diverted_received, cadres, -penalty)
            # a material finding (at least one yuan) is a detection: it is counted, and the
            # sanctioned cadre is deterred (greed halves); trifles are recovered all the same
            material = caught >= MATERIAL_YUAN
            self.committee.greed[material] *= 0.5
            self.committee.times_caught[material] += 1
            self.detected_diversions += int(material.sum())
            f["recovered"] = float(penalty.sum())
            self.cash_fund += f["recovered"]

    # -- measures -------------------------------------------------------------------
    def run_household_measures(self) -> None:
        """Phase 5: team visits, diagnosis of causes, household-specific measures (因户施策).

        A measure matched to the true cause adds ``matched_return`` yuan of yearly earnings
        per yuan spent (and cures an illness); a mismatched one adds ``mismatched_return``.
        A household with a helper has its measure carried through; without one, the measure
        is carried through with probability 0.6 (otherwise it works as a mismatched one).
        Diagnosis accuracy: team visit 0.9, helper 0.75, committee 0.35.
        """
        p = self.p
        y = self.per_capita_income()
        if self.team_active and p.team_visits_per_month > 0:
            stale = ~self.team.recently_visited()
            priority = np.where(self.registered & stale, 0, np.where(stale, 1, 2))
            visited = self.team.visit(y, priority.astype(np.float64) * 2.0)
            self.diagnosis[visited] = self.team.diagnose(visited, 0.9)
            self.diagnosed_by[visited] = _ACTORS.index("team")
        if not p.household_measures:
            return
        eligible = np.flatnonzero(self.registered & (self.steps - self.measure_month >= 12))
        affordable = int(self.measure_fund // p.measure_cost)
        if eligible.size == 0 or affordable == 0:
            return
        rng = self.committee.stream
        chosen = rng.permutation(eligible)[:affordable]
        missing = chosen[self.diagnosis[chosen] == Cause.NONE]
        self.diagnosis[missing] = self.committee.diagnose(missing, 0.35)
        self.diagnosed_by[missing] = _ACTORS.index("committee")
        carried_through = (self.helper[chosen] >= 0) | (rng.random(chosen.size) < 0.6)
        matched = (self.diagnosis[chosen] == self.cause[chosen]) & carried_through
        ret = np.where(matched, p.matched_return, p.mismatched_return)
        self.measure_income[chosen] += ret * p.measure_cost
        cured = chosen[matched & (self.cause[chosen] == Cause.ILLNESS)]
        self.sick[cured] = False
        self.measure_month[chosen] = self.steps
        self.measures_received[chosen] += 1
        self.measures_matched += int(matched.sum())
        self.measures_given += int(chosen.size)
        self.diagnosis[chosen] = Cause.NONE  # next year's measure needs a new diagnosis
        spent = chosen.size * p.measure_cost
        self.measure_fund -= spent
        self.flows["measures_spent"] = spent

    # -- projects -------------------------------------------------------------------
    def run_development_projects(self) -> None:
        """Phase 6 (yearly): spend the project fund on infrastructure and an industry project.

        Infrastructure raises every household's earnings by ``project_return`` per yuan,
        spread in proportion to earnings. The industry project goes to the clan with the most
        poor households as the planner sees them (the team if present, else the committee),
        unless captured: with probability ``project_capture`` (less what a supervising team
        prevents) it is sited in a cadre's clan.
        """
        p = self.p
        if not p.development_projects or self.project_fund <= 0:
            return
        fund = self.project_fund
        infra, industry = fund / 2.0, fund / 2.0
        capacity = float(self._annual_capacity().sum())
        if capacity > 0:
            self.infrastructure *= 1.0 + p.project_return * infra / capacity
        est = self.committee.estimate
        if self.team_active:
            est = self.team.knowledge(est)
        n_clans = int(self.clan.max()) + 1
        planned_poor = np.bincount(self.clan[est < p.poverty_line], minlength=n_clans)
        neediest = int(np.argmax(planned_poor))
        capture = p.project_capture * (1.0 - self.supervision_effect())
        rng = self.committee.stream
        captured = rng.random() < capture
        cadre_clan = int(self.clan[rng.choice(self.committee.cadres)])
        site = cadre_clan if captured else neediest
        members = np.flatnonzero(self.clan == site)
        self.project_income[members] += p.project_return * industry / members.size
        self.industry_invested += industry
        if site != neediest:
            self.industry_misdirected += industry
        self.project_fund = 0.0
        self.flows["projects_spent"] = fund

    # -- re-check -------------------------------------------------------------------
    def run_recheck(self) -> None:
        """Phase 7 (yearly, month 7): the supervising team's re-check (回头看).

        It visits ``recheck_share`` of the register and of households exited in the last
        year: listed households found not poor are removed, exited ones found poor are put
        back on the register (within the quota, poorest first) — each unless the team goes
        along (``cooptation``).
        """
        p, z = self.p, self.p.poverty_line
        if not (self.supervising and p.recheck and self.identified):
            return
        rng = self.team.stream
        recently_exited = (self.steps - self.exit_month <= 12) & ~self.registered
        pool = np.flatnonzero(self.registered | recently_exited)
        u = rng.random(pool.size)
        sample = pool[u < p.recheck_share]
        if sample.size == 0:
            return
        y = self.per_capita_income()
        self.team.visit_month[sample] = self.steps
        self.team.visit_estimate[sample] = y[sample] * lognormal_factor(0.05, sample.size, rng)
        acts = rng.random(sample.size) >= p.cooptation
        est = self.team.visit_estimate[sample]
        remove = sample[self.registered[sample] & (est >= z) & acts]
        restore = sample[~self.registered[sample] & (est < z) & acts]
        self.registered[remove] = False
        k = self._quota_count()
        if k is not None:  # the quota still caps the register: the poorest come back first
            room = max(0, k - int(self.registered.sum()))
            poorest = np.argsort(self.team.visit_estimate[restore], kind="stable")[:room]
            restore = restore[poorest]
        self.registered[restore] = True
        self.restored_at_recheck[restore] = True
        self.exit_month[restore] = -10_000
        year = (self.steps - 1) // 12 + 1
        mask = np.zeros(self.n, dtype=bool)
        outcome = np.zeros(self.n, dtype=np.int8)
        reason = np.zeros(self.n, dtype=np.int8)
        mask[remove] = mask[restore] = True
        outcome[remove], reason[remove] = _OUTCOMES.index("removed"), _REASONS.index(
            "re-check: not poor")
        outcome[restore], reason[restore] = _OUTCOMES.index("re-registered"), _REASONS.index(
            "re-check: still poor after exit")
        self._log(mask, year, 0, _ACTORS.index("team"), outcome, reason)
        self._assign_helpers()

    # -- trust, exits, survey ---------------------------------------------------------
    def update_trust(self) -> None:
        """Phase 8: trust follows fairness as seen among kin and friends.

        A household compares itself with its ties. Each tie that is on the register while
        richer than the household (which is not), and each tie that received diverted money in
        the last year, is a grievance; being poor and left off is one too. Fairness is
        ``1 - min(1, grievances / 3)``, and trust moves ``trust_rate`` of the way toward it.
        """
        y = self.per_capita_income()
        reg = np.flatnonzero(self.registered)
        # only ties out of registered households can be grievances: walk those rows alone
        sub = self.network[reg]
        src = np.repeat(reg, np.diff(sub.indptr))
        dst = sub.indices
        richer_listed = ~self.registered[dst] & (y[src] > y[dst])
        grievances = np.bincount(dst[richer_listed], minlength=self.n).astype(np.float64)
        got_diverted = self.diverted_hist.sum(axis=0) >= MATERIAL_YUAN
        if got_diverted.any():
            grievances += self.network @ got_diverted.astype(np.float64)
        grievances += (y < self.p.poverty_line) & ~self.registered & self.identified
        fairness = 1.0 - np.minimum(1.0, grievances / 3.0)
        self.trust += self.p.trust_rate * (fairness - self.trust)

    def run_exit_assessment(self) -> None:
        """Yearly exit assessment (脱贫), just before the new register is written (months 13, 25…).

        Exits and wrongful exits (错退) are decided on the register of the year that ends, so the
        register never stands half-empty between assessment and identification. The certifier
        (the team if present, else the committee) measures each registered household; those it
        sees above the line exit. Under exit-target pressure (数字脱贫),
        a share ``exit_pressure`` of those it sees within a quarter of the line below it are
        declared out too.
        """
        if not self.identified:
            return
        p, z = self.p, self.p.poverty_line
        y = self.per_capita_income()
        committee_est = self.committee.estimate_incomes(y)
        if self.team_active:
            est, rng = self.team.knowledge(committee_est), self.team.stream
        else:
            est, rng = committee_est, self.committee.stream
        reg = self.registered
        above = reg & (est >= z)
        pressed = reg & ~above & (est >= 0.75 * z) & (rng.random(self.n) < p.exit_pressure)
        out = above | pressed
        self.registered = reg & ~out
        self.exit_month[out] = self.steps
        self.ever_exited |= out
        self.wrongful_exit[out] = y[out] < z
        self.poor_since_exit[out] = False
        self.exits_total += int(out.sum())
        self.wrongful_exits_total += int((out & (y < z)).sum())
        year = (self.steps - 1) // 12 + 1
        outcome = _OUTCOMES.index("exited")
        reason = np.where(above, _REASONS.index("assessed above the poverty line"),
                          _REASONS.index("declared out under exit-target pressure"))
        actor = _ACTORS.index("team") if self.team_active else _ACTORS.index("committee")
        self._log(out, year, 0, actor, outcome, reason)
        self.helper[out] = -1

    def update_returns(self) -> None:
        """Track exited households that fall back below the line (返贫)."""
        exited = self.ever_exited & ~self.registered
        poor = self.poor()
        newly = exited & poor & ~self.poor_since_exit & ~self.wrongful_exit
        self.returned |= newly
        self.poor_since_exit |= exited & poor

    def run_survey(self) -> None:
        """Phase 10 (yearly, month 12): a third-party survey on its own random stream (三率一度).

        A sample of ``survey_sample`` of households, drawn the same way whatever the state:
        missed-poor rate (漏评率) = poor among sampled non-registered; wrongful-exit rate
        (错退率) = still poor among sampled households exited in the last year; approval
        (认可度) = share of sampled households whose trust is at least 0.5.
        """
        rng = self.streams["survey"]
        order = rng.permutation(self.n)
        m = max(1, int(round(self.p.survey_sample * self.n)))
        sample = order[:m]
        poor = self.poor()[sample]
        reg = self.registered[sample]
        exited = (self.steps - self.exit_month[sample] < 12) & ~reg
        self.survey = {
            "missed_poor_rate": M._ratio(float(np.sum(poor & ~reg)), float(np.sum(~reg))),
            "wrongful_exit_rate": M._ratio(float(np.sum(poor & exited)), float(np.sum(exited))),
            "approval": float(np.mean(self.trust[sample] >= 0.5)),
        }

    # ------------------------------------------------------------------ observation
    def metrics(self) -> dict[str, float]:
        """Every metric of DESIGN §5 at the current step (computed once per step)."""
        if self._metric_cache is not None and self._metric_cache[0] == self.steps:
            return self._metric_cache[1]
        z = self.p.poverty_line
        y = self.per_capita_income()
        post = self.per_capita_income_post()
        w = self.persons
        out: dict[str, float] = {}
        for suffix, inc in (("", y), ("_post", post)):
            p0, p1, p2 = M.fgt_all(inc, z, w)
            out["poverty_headcount" + suffix] = p0
            out["poverty_gap" + suffix] = p1
            out["poverty_severity" + suffix] = p2
            out["gini" + suffix] = M.gini(inc, w)
        poor = y < z
        if self.identified:
            out.update(M.targeting(poor, self.registered))
            out["kin_premium"] = M.kin_premium(y, self.registered, self.cadre_kin, self.cadre)
            out["amount_kin_premium"] = M.amount_kin_premium(
                y, self.registered, self.aid_hist.sum(axis=0), self.cadre_kin, self.cadre)
        else:
            for name in ("coverage", "exclusion_error", "inclusion_error_leakage",
                         "inclusion_error_nonpoor", "mistargeting", "targeting_differential",
                         "kin_premium", "amount_kin_premium"):
                out[name] = M.NAN
        released_12 = float(self.flow_hist["released"].sum())
        out["diverted_share"] = M._ratio(float(self.flow_hist["diverted"].sum()), released_12)
        out.update(self.survey)
        spent = sum(self.totals[k] for k in (
            "delivered", "diverted", "measures_spent", "projects_spent", "staff_costs"))
        sustained = self.ever_exited & ~self.registered & ~self.poor_since_exit & (
            self.steps - self.exit_month >= 12)
        out["cost_per_exit"] = M._ratio(spent, int(sustained.sum()))
        out["registered_count"] = float(self.registered.sum())
        out["mean_trust"] = float(self.trust.mean())
        out["team_active"] = float(self.team_active)
        out["exits"] = float(self.exits_total)
        out["wrongful_exits"] = float(self.wrongful_exits_total)
        out["returns_to_poverty"] = float(self.returned.sum())
        out["project_capture_share"] = M._ratio(self.industry_misdirected, self.industry_invested)
        out["matched_measure_share"] = M._ratio(self.measures_matched, self.measures_given)
        out["detected_diversions"] = float(self.detected_diversions)
        out.update({k: float(v) for k, v in self.flows.items()})
        self._metric_cache = (self.steps, out)
        return out

    def _record_panel(self) -> None:
        if self.panel_every and self.steps % self.panel_every == 0:
            frame = self.household_frame()
            frame.insert(0, "step", self.steps)
            self._panel.append(frame)

    def ledger_balance(self) -> float:
        """This month's inflows minus outflows (zero up to rounding: money is conserved)."""
        f = self.flows
        inflow = f["released"] + f["staff_funding"] + f["carried_in"] + f["recovered"]
        outflow = (f["delivered"] + f["diverted"] + f["measures_spent"] + f["projects_spent"]
                   + f["staff_costs"] + f["carried_over"])
        return inflow - outflow

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
            "team_visited": self.team.visit_month > -10_000,
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
        reasons = np.array(("",) + _REASONS, dtype=object)
        return pd.DataFrame({
            "household_id": merged["household_id"],
            "year": merged["year"],
            "month": merged["month"],
            "proposed_by": np.array(_ACTORS, dtype=object)[merged["proposed_by"]],
            "challenged_by": np.array(_ACTORS, dtype=object)[merged["challenged_by"]],
            "outcome": np.array(_OUTCOMES, dtype=object)[merged["outcome"]],
            "reason": reasons[merged["reason"].astype(np.int64) + 1],
        })

    def kinship_graph(self) -> Any:
        """The kinship network as a networkx Graph (built on request; nodes carry clan)."""
        import networkx as nx

        g = nx.from_scipy_sparse_array(sp.triu(self.kin, k=1).tocsr())
        nx.set_node_attributes(g, {i: int(c) for i, c in enumerate(self.clan)}, "clan")
        return g

