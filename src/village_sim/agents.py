"""Agents: households, the village committee and the resident work team.

Household state lives in numpy columns owned by the model (../shared/DESIGN.md §6); a
:class:`Household` is a thin view on one row, so phases stay vectorized while Mesa still sees
one agent per household. The two institutions hold their own knowledge and make their own
decisions with their own random streams:

- :class:`VillageCommittee` — cadres are village households, with kin (优亲厚友 is possible).
  It knows incomes well (local knowledge) and proposes the register; it handles the cash and
  may divert some of it, weighing the expected penalty.
- :class:`WorkTeam` — outsiders with no kin (驻村工作队), sent from higher-level agencies. It
  sees a household well only after visiting it, verifies and challenges the committee's list,
  re-checks (回头看), diagnoses causes of poverty, and can fail: co-opted, overloaded, or pushed
  by exit targets (数字脱贫).

Source: the policy text ../shared/000_9f0cd288a9baeeef.txt (驻村帮扶, effects 1–3).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from village_sim.village import N_CAUSES, Cause

__all__ = ["Household", "VillageCommittee", "WorkTeam", "diagnose", "lognormal_factor"]


def lognormal_factor(cv: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative noise with mean 1 and coefficient of variation ``cv``."""
    if cv <= 0:
        return np.ones(size)
    sigma = np.sqrt(np.log1p(cv * cv))
    return rng.lognormal(-0.5 * sigma * sigma, sigma, size=size)


class Household(mesa.Agent):
    """A household: a thin view on row ``index`` of the model's household columns."""

    model: Any  # a VillageState (typed loosely: state.py imports this module)

    def __init__(self, model: Any, index: int):
        super().__init__(model)
        self.index = index

    @property
    def clan(self) -> int:
        """Clan (宗族) index."""
        return int(self.model.clan[self.index])

    @property
    def persons(self) -> int:
        """Household size in persons."""
        return int(self.model.persons[self.index])

    @property
    def per_capita_income(self) -> float:
        """Pre-transfer per-capita income over the last 12 months (y)."""
        return float(self.model.per_capita_income()[self.index])

    @property
    def registered(self) -> bool:
        """Whether the household is on the poverty register (建档立卡)."""
        return bool(self.model.registered[self.index])

    @property
    def aid_received(self) -> float:
        """Cumulative aid received, in yuan."""
        return float(self.model.aid_received[self.index])

    @property
    def trust(self) -> float:
        """Trust in the committee (0–1)."""
        return float(self.model.trust[self.index])

    @property
    def cause(self) -> Cause:
        """The latent cause of poverty (致贫原因)."""
        return Cause(int(self.model.cause[self.index]))

    @property
    def cadre(self) -> bool:
        """Whether a cadre lives in this household."""
        return bool(self.model.cadre[self.index])

    @property
    def cadre_kin(self) -> bool:
        """Whether the household has a kinship tie to a cadre household."""
        return bool(self.model.cadre_kin[self.index])

    def kin(self) -> list[int]:
        """Household ids tied to this one by kinship."""
        k = self.model.kin
        return k.indices[k.indptr[self.index] : k.indptr[self.index + 1]].tolist()

    def __repr__(self) -> str:
        return f"Household({self.index}, clan={self.clan}, registered={self.registered})"


class VillageCommittee(mesa.Agent):
    """The village committee (村委会): cadres who live in the village and have kin there."""

    model: Any  # a VillageState (typed loosely: state.py imports this module)

    def __init__(self, model: Any, cadres: np.ndarray, greed: np.ndarray,
                 rng: np.random.Generator):
        super().__init__(model)
        self.cadres = cadres
        self.greed = greed.copy()
        self.stream = rng
        self.estimate = np.zeros(model.n)
        # the list the committee proposed at the last identification (before any check)
        self.proposed = np.zeros(model.n, dtype=bool)
        # diversion per cadre in each of the last 12 months (what an audit can find)
        self.diverted_ring = np.zeros((12, cadres.size))
        self.times_caught = np.zeros(cadres.size, dtype=np.int64)

    def estimate_incomes(self, y: np.ndarray) -> np.ndarray:
        """Observe everybody's income with small noise (local knowledge)."""
        self.estimate = y * lognormal_factor(self.model.p.committee_noise, y.size, self.stream)
        return self.estimate

    def biased_score(self) -> np.ndarray:
        """The committee's ranking score: estimated income in poverty lines, minus favoritism.

        Registration favoritism: a cadre's kin or friend looks ``favoritism * weight`` poverty
        lines poorer than the committee's own estimate says (Han & Gao 2019: elite capture
        through close relatives).
        """
        m = self.model
        return self.estimate / m.p.poverty_line - m.p.favoritism * m.fav_weight

    def diversion_fractions(self, team_catch: float) -> np.ndarray:
        """Share of the cash each cadre diverts this month, after deterrence.

        A cadre who diverts a yuan now is caught if the team catches it this month or an audit
        finds it in the next 12 months: P = 1 - (1 - team_catch) (1 - a d)^12. The expected
        cost is P (1 + sanction) per yuan (restitution plus fine). The chosen share falls
        smoothly, linearly in P, to zero when the expected cost reaches the gain:
        ``propensity * greed * max(0, 1 - P (1 + sanction))``.
        """
        p = self.model.p
        audit = p.audit_probability * p.detection if p.upper_audits else 0.0
        caught = 1.0 - (1.0 - team_catch) * (1.0 - audit) ** 12
        deterrence = max(0.0, 1.0 - caught * (1.0 + p.sanction))
        return np.minimum(1.0, p.diversion_propensity * self.greed * deterrence)

    def diagnose(self, households: np.ndarray, accuracy: float) -> np.ndarray:
        """Name a cause for each household; right with probability ``accuracy``."""
        return diagnose(self.model.cause[households], accuracy, self.stream)


class WorkTeam(mesa.Agent):
    """The resident work team (驻村工作队): outsiders, no kin edges in the village."""

    model: Any  # a VillageState (typed loosely: state.py imports this module)

    def __init__(self, model: Any, rng: np.random.Generator):
        super().__init__(model)
        self.stream = rng
        self.size = model.p.team_size
        self.visit_month = np.full(model.n, -10_000, dtype=np.int64)
        self.visit_estimate = np.zeros(model.n)
        self.visits_made = 0

    def capacity(self) -> int:
        """Household visits the whole team makes in a month."""
        return self.size * self.model.p.team_visits_per_month

    def recently_visited(self) -> np.ndarray:
        """Households visited in the last 12 months (whose income the team knows)."""
        return self.model.steps - self.visit_month < 12

    def visit(self, y: np.ndarray, priority: np.ndarray) -> np.ndarray:
        """Visit up to capacity households, lowest ``priority`` first (ties at random).

        A visit measures the household's income well (5% error) and diagnoses its cause.

        Returns:
            The visited households' ids.
        """
        cap = min(self.capacity(), y.size)
        if cap <= 0:
            return np.zeros(0, dtype=np.int64)
        key = priority + self.stream.random(y.size)  # priority classes are integers
        chosen = np.argpartition(key, cap - 1)[:cap] if cap < y.size else np.arange(y.size)
        self.visit_month[chosen] = self.model.steps
        self.visit_estimate[chosen] = y[chosen] * lognormal_factor(0.05, chosen.size, self.stream)
        self.visits_made += chosen.size
        return chosen

    def knowledge(self, committee_estimate: np.ndarray | None) -> np.ndarray:
        """The team's income estimate for every household.

        Visited in the last 12 months: the visit's measurement (if verification is on).
        Otherwise, with cooperation (相互配合), what the committee knows; without it, an
        outsider's guess with coefficient of variation ``team_noise``.
        """
        p = self.model.p
        y = self.model.per_capita_income()
        if committee_estimate is not None and p.team_cooperation:
            est = committee_estimate.copy()
        else:
            est = y * lognormal_factor(p.team_noise, y.size, self.stream)
        if p.team_verification:
            known = self.recently_visited()
            est[known] = self.visit_estimate[known]
        return est

    def diagnose(self, households: np.ndarray, accuracy: float) -> np.ndarray:
        """Name a cause for each household; right with probability ``accuracy``."""
        return diagnose(self.model.cause[households], accuracy, self.stream)


def diagnose(true_cause: np.ndarray, accuracy: float, rng: np.random.Generator) -> np.ndarray:
    """A diagnosis that is right with probability ``accuracy``, else one of the other causes."""
    right = rng.random(true_cause.size) < accuracy
    # a household that is not poor for any reason is diagnosed by its most visible trait
    truth = np.where(true_cause == Cause.NONE, Cause.LACK_OF_CAPITAL, true_cause).astype(np.int8)
    shift = rng.integers(1, N_CAUSES, size=true_cause.size)  # 1..N_CAUSES-1: never the truth
    other = ((truth - 1 + shift) % N_CAUSES + 1).astype(np.int8)
    return np.where(right, truth, other).astype(np.int8)
