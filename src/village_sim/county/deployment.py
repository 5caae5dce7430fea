"""Which villages get a work team: the county's deployment rules (issue 11).

A county has fewer teams than villages. Once a year, before the villages' identification, the
teams whose term has ended (or that were never sent) are free, and the county sends them to
villages that hold no team, in the order its ``deployment`` rule gives. A team stays for its
whole term (``term_years``, 2 by the 2017 guideline) and is never in two villages at once; a
village holds at most one team. The rules see only what a county sees (:class:`CountyView`:
households, last year's register, the last survey, complaints received) and the deployment
history — never true incomes:

``"none"``
    no team is sent;
``"random"``
    villages in a random order (the county's own stream);
``"poorest_first"``
    the largest estimated poor share first: the last survey's poor share, or last year's
    register over the households where the village has not been surveyed (random order among
    villages with no estimate yet, and among ties);
``"most_complaints_first"``
    the most complaints per household last year first (ties in random order);
``"rotate"``
    the villages that have waited longest since their last team first (never served first;
    ties by village order), so that teams go round the county term after term;
``"cash_equivalent"``
    no team is sent: the county deploys as under ``poorest_first``, terms included, but gives
    each village a team would have gone to the team's cost and what it would have mobilized,
    as budget, instead of the team (:meth:`Deployment.cash_villages`; does a team beat the
    same money?);

or a Python callable ``rule(view, history, rng) -> villages`` returning village indices in
priority order (checked: integers in range, no repeats; villages holding a team are skipped).
Every rule draws its random keys from the generator it is given — the county's stream, never a
village's — so villages keep their own streams whatever the rule (docs/county_engine.md, D1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from village_sim.county.budgets import CountyView

__all__ = [
    "DEPLOYMENT_RULES",
    "Deployment",
    "DeploymentHistory",
    "DeploymentRecord",
    "INFORMED_RULES",
    "first_informed_month",
    "unseen_rules",
    "year_one_note",
    "priority",
]

DEPLOYMENT_RULES = ("none", "random", "poorest_first", "most_complaints_first", "rotate",
                    "cash_equivalent")
"""The built-in rules (module docstring); a callable is also accepted."""

INFORMED_RULES = ("poorest_first", "most_complaints_first", "cash_equivalent")
"""The built-in rules that rank villages by what the county has seen (registers, surveys,
complaints). In year 1 it has seen nothing: they rank by the random keys every rule draws, the
``random`` rule's order on the same seed (:func:`priority`)."""


def year_one_note(rules: Sequence[str]) -> str:
    """What to tell a reader of ``rules`` (informed rules) that chose only in year 1."""
    return (f"{', '.join(rules)} chose every village in year 1, before the county had a "
            "register, a survey or a complaint to rank villages by: in the random rule's order "
            "on the same seeds.")


def first_informed_month(terms: Sequence[int]) -> int | None:
    """The month of the first deployment after year 1: when the shortest term ends.

    A team sent in year 1 serves its term (``terms``: each team's, in years) and is free at
    the start of year ``1 + term`` (month ``12 * term + 1``); None without teams.
    """
    if len(terms) == 0:
        return None
    return 12 * int(min(terms)) + 1


def unseen_rules(rules: Sequence[Any], terms: Sequence[int], months: int) -> list[str]:
    """The informed rules among ``rules`` that choose only in year 1 in a run of ``months``.

    Their runs end before the first deployment after year 1 (:func:`first_informed_month`):
    every village they chose, they chose in :data:`INFORMED_RULES`' year-1 order, ``random``'s.
    """
    month = first_informed_month(terms)
    if month is None or months >= month:
        return []
    return [rule for rule in rules if isinstance(rule, str) and rule in INFORMED_RULES]


NEVER = -(10**6)
"""``last_served`` of a village that never had a team."""


@dataclass(frozen=True)
class DeploymentHistory:
    """What the county remembers of its deployments (one entry per village).

    Attributes:
        year: The year of this deployment (1, 2, ...).
        last_served: The last year each village held a team (:data:`NEVER` if never).
        holds_team: Whether each village holds a team this year (teams still in their term).
    """

    year: int
    last_served: np.ndarray
    holds_team: np.ndarray


@dataclass(frozen=True)
class DeploymentRecord:
    """One line of the deployment log: which team went where, when, and why."""

    year: int
    team: int
    village: int
    rule: str
    reason: str


def _estimated_poor_share(view: CountyView) -> np.ndarray:
    share = np.asarray(view.survey_poor_share, dtype=float)
    register = np.asarray(view.registered, dtype=float) / np.asarray(view.households, float)
    known = np.asarray(view.registered) > 0
    return np.where(np.isnan(share), np.where(known, register, np.nan), share)


def priority(rule: str | Callable[..., Any], view: CountyView, history: DeploymentHistory,
             rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Villages in the order ``rule`` would send teams, with the reason for each.

    Returns:
        ``(villages, reasons)``: every village index once (a callable may name fewer), first
        priority first; ``reasons[i]`` says why ``villages[i]`` comes where it does.

    Raises:
        ValueError: for an unknown rule, or a callable's answer that is not a list of distinct
            village indices.
    """
    n = np.asarray(view.households).size
    if callable(rule):
        chosen = rule(view, history, rng)
        try:
            villages = np.asarray(list(chosen))
        except TypeError:
            villages = np.asarray([chosen])
        if villages.size and (villages.dtype.kind not in "iu" or villages.min() < 0
                              or villages.max() >= n or np.unique(villages).size
                              != villages.size):
            raise ValueError(f"deployment rule {getattr(rule, '__name__', rule)!r}: returned "
                             f"{villages.tolist()}; allowed: distinct village indices from 0 "
                             f"to {n - 1}, highest priority first")
        name = getattr(rule, "__name__", "custom")
        return villages.astype(np.int64), [f"{name}: rank {i + 1}"
                                            for i in range(villages.size)]
    if rule not in DEPLOYMENT_RULES:
        raise ValueError(f"parameter 'deployment': got {rule!r}; allowed: "
                         f"{', '.join(DEPLOYMENT_RULES)}, or a callable (view, history, rng) "
                         "-> village indices")
    tie = rng.random(n)  # drawn under every rule: the county stream advances alike
    if rule in ("none",):
        return np.zeros(0, dtype=np.int64), []
    if rule == "random":
        order = np.argsort(tie, kind="stable")
        return order, ["random order"] * n
    if rule in ("poorest_first", "cash_equivalent"):
        share = _estimated_poor_share(view)
        known = ~np.isnan(share)
        # known estimates first, largest first; then the unknown in random order
        order = np.lexsort((tie, -np.where(known, share, -1.0), ~known))
        survey = ~np.isnan(np.asarray(view.survey_poor_share, dtype=float))
        reasons = [(f"estimated poor share {share[v]:.3f} "
                    f"({'survey' if survey[v] else 'register'})") if known[v]
                   else "no estimate yet (random order)" for v in order]
        return order, reasons
    if rule == "most_complaints_first":
        rate = np.asarray(view.complaints, float) / np.asarray(view.households, float)
        order = np.lexsort((tie, -rate))
        return order, [f"{int(view.complaints[v])} complaints, {rate[v]:.4f} per household"
                       for v in order]
    # rotate
    last = np.asarray(history.last_served)
    order = np.lexsort((np.arange(n), last))
    return order, ["never served" if last[v] == NEVER else f"last served in year {last[v]}"
                   for v in order]


@dataclass
class Deployment:
    """The county's teams, where each is and since when, deployed yearly by a rule.

    Args:
        n_villages: Villages in the county.
        terms: Each team's term in years (its length is the number of teams).
        rule: A name of :data:`DEPLOYMENT_RULES` or a callable (module docstring).

    Attributes:
        term_years: Each team's term, years.
        year: The year of the last deployment (0 before the first).
        village: Where each team is (-1: not deployed).
        since: The year each team arrived (0: not deployed).
        freed: The year each team's last term ended (:data:`NEVER`: never deployed); free
            teams are sent never-deployed first, then longest free first.
        last_served: The last year each village held a team.
        log: Every deployment made (under ``cash_equivalent``, of the money a team stands
            for).
    """

    n_villages: int
    terms: Sequence[int]
    rule: str | Callable[..., Any] = "none"
    term_years: np.ndarray = field(init=False)
    year: int = field(init=False)
    village: np.ndarray = field(init=False)
    since: np.ndarray = field(init=False)
    last_served: np.ndarray = field(init=False)
    log: list[DeploymentRecord] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.n_villages, bool) or not isinstance(self.n_villages, int) \
                or self.n_villages < 1:
            raise ValueError(f"parameter 'n_villages': got {self.n_villages!r}; allowed: an "
                             "integer >= 1")
        terms = np.asarray(self.terms)
        if terms.ndim != 1 or (terms.size and (terms.dtype.kind not in "iu"
                                               or (terms < 1).any())):
            raise ValueError(f"team terms: got {list(self.terms)!r}; allowed: one integer "
                             ">= 1 (years) per team")
        if not callable(self.rule) and self.rule not in DEPLOYMENT_RULES:
            raise ValueError(f"parameter 'deployment': got {self.rule!r}; allowed: "
                             f"{', '.join(DEPLOYMENT_RULES)}, or a callable (view, history, "
                             "rng) -> village indices")
        self.term_years = terms.astype(np.int64)
        self.year = 0
        self.village = np.full(terms.size, -1, dtype=np.int64)
        self.since = np.zeros(terms.size, dtype=np.int64)
        self.freed = np.full(terms.size, NEVER, dtype=np.int64)
        self.last_served = np.full(self.n_villages, NEVER, dtype=np.int64)

    @property
    def rule_name(self) -> str:
        """The rule as written in the log."""
        return self.rule if isinstance(self.rule, str) else getattr(self.rule, "__name__",
                                                                    "custom")

    @property
    def gives_cash(self) -> bool:
        """Whether the teams stand for money given instead (``cash_equivalent``)."""
        return self.rule == "cash_equivalent"

    def holds_team(self) -> np.ndarray:
        """Whether each village holds a team now (or, under ``cash_equivalent``, its money)."""
        holds = np.zeros(self.n_villages, dtype=bool)
        holds[self.village[self.village >= 0]] = True
        return holds

    def team_villages(self) -> np.ndarray:
        """Whether each village has a team in it now (none under ``cash_equivalent``)."""
        return np.zeros(self.n_villages, dtype=bool) if self.gives_cash else self.holds_team()

    def cash_villages(self) -> np.ndarray:
        """Whether each village receives a team's money instead (``cash_equivalent`` only)."""
        return self.holds_team() if self.gives_cash else np.zeros(self.n_villages, dtype=bool)

    def deploy(self, year: int, view: CountyView, rng: np.random.Generator,
               ) -> list[DeploymentRecord]:
        """The yearly deployment: free the teams whose term ended, send the free ones.

        Args:
            year: This year (1, 2, ...), increasing from call to call.
            view: What the county knows now.
            rng: The county's generator.

        Returns:
            The deployments made this year (also appended to :attr:`log`).
        """
        if np.asarray(view.households).size != self.n_villages:
            raise ValueError(f"view: got {np.asarray(view.households).size} villages; "
                             f"allowed: {self.n_villages}")
        if isinstance(year, bool) or not isinstance(year, int) or year <= self.year:
            raise ValueError(f"year: got {year!r}; allowed: an integer after the last "
                             f"deployment's year ({self.year})")
        self.year = year
        ended = (self.village >= 0) & (year - self.since >= self.term_years)
        self.village[ended] = -1
        self.since[ended] = 0
        self.freed[ended] = year
        history = DeploymentHistory(year, self.last_served.copy(), self.holds_team())
        order, reasons = priority(self.rule, view, history, rng)
        made: list[DeploymentRecord] = []
        # free teams never sent first, then those free longest: a team whose term has just
        # ended goes back to its sending unit, and another is sent in its place
        idle = np.flatnonzero(self.village < 0)
        free = list(idle[np.lexsort((idle, self.freed[idle]))])
        prefix = "cash instead of a team: " if self.gives_cash else ""
        holds = history.holds_team.copy()
        for v, why in zip(order, reasons, strict=True):
            if not free:
                break
            if holds[v]:
                continue
            team = int(free.pop(0))
            self.village[team] = v
            self.since[team] = year
            holds[v] = True
            made.append(DeploymentRecord(year, team, int(v), self.rule_name, prefix + why))
        self.last_served[holds] = year
        self.log.extend(made)
        return made
