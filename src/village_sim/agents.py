"""Agents: households, the village committee and the resident work team.

Household state lives in numpy columns owned by the model (../shared/DESIGN.md §6); a
:class:`Household` is a thin view on one row, so phases stay vectorized while Mesa still sees
one agent per household. The two institutions hold their own knowledge and make their own
decisions with their own random streams:

- :class:`VillageCommittee` — cadres are village households, with kin (优亲厚友 is possible).
  Its decisions (whom to propose, how much to take) are policies in
  :mod:`village_sim.mechanisms.policies`; this agent holds its cadres, their greed and the
  audit trail.
- :class:`WorkTeam` — outsiders with no kin (驻村工作队), sent from higher-level agencies. What
  it knows and does lives in :mod:`village_sim.mechanisms.visits`; this agent holds its size
  and its random stream.

Source: the policy text ../shared/000_9f0cd288a9baeeef.txt (驻村帮扶, effects 1–3).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from village_sim import numerics
from village_sim.village import N_CAUSES, Cause

__all__ = ["Household", "VillageCommittee", "WorkTeam", "diagnose", "lognormal_factor",
           "lognormal_law", "named_cause"]


def lognormal_factor(cv: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative noise with mean 1 and coefficient of variation ``cv``."""
    if cv <= 0:
        return np.ones(size)
    mu, sigma = lognormal_law(cv)
    return rng.lognormal(mu, sigma, size=size)


def lognormal_law(cv: float) -> tuple[float, float]:
    """``(mu, sigma)`` of the lognormal with mean 1 and coefficient of variation ``cv``."""
    sigma = float(np.sqrt(numerics.log_variance(cv)))
    return float(numerics.unit_mean_log(sigma)), sigma


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
        # diversion per cadre in each of the last 12 months (what an audit can find)
        self.diverted_ring = np.zeros((12, cadres.size))
        self.times_caught = np.zeros(cadres.size, dtype=np.int64)

    @property
    def proposed(self) -> np.ndarray:
        """The list the committee proposed at the last identification (before any check)."""
        return np.asarray(self.model.committee_proposed)

    @proposed.setter
    def proposed(self, value: np.ndarray) -> None:
        self.model.committee_proposed = value

    @property
    def estimate(self) -> np.ndarray:
        """The committee's private income estimates.

        Read by the committee's own decisions and by observers such as the app; never by
        another actor of the model.
        """
        return np.asarray(self.model.committee_estimate)

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

    @property
    def visit_month(self) -> np.ndarray:
        """Month of each household's last team visit (-10000: never)."""
        return np.asarray(self.model.team_last_visit)

    @property
    def visits_made(self) -> int:
        """Household visits made since the run began."""
        return int(self.model.team_visits_total)


def diagnose(true_cause: np.ndarray, accuracy: float, rng: np.random.Generator) -> np.ndarray:
    """A diagnosis that is right with probability ``accuracy``, else one of the other causes."""
    right = rng.random(true_cause.size) < accuracy
    shift = rng.integers(1, N_CAUSES, size=true_cause.size)  # 1..N_CAUSES-1: never the truth
    return named_cause(true_cause, right, shift)


def named_cause(true_cause: np.ndarray, right: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The cause a diagnosis names: the truth where ``right``, else the truth moved by ``shift``.

    ``shift`` (1 to ``N_CAUSES - 1``) steps through the other causes, so a wrong diagnosis never
    names the truth. What :func:`diagnose` makes of its draws (the county engine gives it each
    village's draws of :func:`diagnose`, village_sim.county.phases).
    """
    # a household that is not poor for any reason is diagnosed by its most visible trait
    truth = np.where(true_cause == Cause.NONE, Cause.LACK_OF_CAPITAL, true_cause).astype(np.int8)
    other = ((truth - 1 + shift) % N_CAUSES + 1).astype(np.int8)
    return np.where(right, truth, other).astype(np.int8)
