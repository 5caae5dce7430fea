"""Villages stacked in one set of household arrays, each with its own institutions and streams.

What a county of villages builds on (../shared/DESIGN.md §10; the county issue). The households
of all villages are contiguous blocks of one array per household column
(:data:`village_sim.state.HOUSEHOLD_COLUMNS`), in village order: ``village`` is each
household's village and ``offsets`` the bounds of the blocks. Each village keeps what is its
own — its parameters, its committee (cadres, greed, perceived risk, evidence), its team (visit
budget, findings), its funds and quota — and its own random streams, spawned from its own seed,
so it draws exactly what its solo run draws: a stacked village reproduces its solo run exactly
(tests/test_stack.py checks every column every month, and the metrics, decision log and
household frame).

The mechanisms of :mod:`village_sim.mechanisms` run unchanged on each village's block: a
village's columns are views of the stack's arrays and :class:`village_sim.state.HouseholdColumn`
writes in place, so whatever a mechanism does lands in the stack. What sits above the villages
— a county dividing budgets and quotas, deploying teams, sharing audit capacity — reads the
stacked arrays with the village index, and the villages' institutions as per-village arrays
(:meth:`VillageStack.quota`, :meth:`VillageStack.team_capacity`, :meth:`VillageStack.cadres`,
:meth:`VillageStack.per_village`).

Villages step one after another within a month. They share no state and no stream, so the order
changes no draw; a county's own phases go between the villages' months.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from village_sim.mechanisms import register, visits
from village_sim.model import VillageModel
from village_sim.segments import Segments
from village_sim.state import HOUSEHOLD_COLUMNS, VillageNumber, VillageState

__all__ = ["VillageStack"]


class VillageStack:
    """Villages whose household columns are blocks of one set of arrays.

    Args:
        villages: Villages built and not yet part of a stack, all at the same month (usually
            month 0). Their columns are copied into the stack's arrays and from then on live
            there.

    Raises:
        ValueError: for no villages, a village given twice or already stacked, or villages at
            different months.
        TypeError: for something that is not a village.
    """

    def __init__(self, villages: Sequence[VillageModel]):
        villages = list(villages)
        if not villages:
            raise ValueError("parameter 'villages': got an empty list; allowed: one village "
                             "or more")
        for i, v in enumerate(villages):
            if not isinstance(v, VillageState):
                raise TypeError(f"parameter 'villages': item {i} is a {type(v).__name__}; "
                                "allowed: a VillageModel")
            if getattr(v, "stack", None) is not None:
                raise ValueError(f"parameter 'villages': village {i} is already in a stack")
        if len({id(v) for v in villages}) < len(villages):
            raise ValueError("parameter 'villages': a village appears twice; allowed: distinct "
                             "villages")
        months = sorted({v.steps for v in villages})
        if len(months) > 1:
            raise ValueError(f"parameter 'villages': villages at months {months}; allowed: "
                             "villages at the same month")
        self.villages: list[VillageModel] = villages
        sizes = np.array([v.n for v in villages], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.offsets.flags.writeable = False
        self.n = int(self.offsets[-1])
        self.village = np.repeat(np.arange(len(villages), dtype=np.int64), sizes)
        self.village.flags.writeable = False
        self.columns: dict[str, np.ndarray] = {}
        for name in HOUSEHOLD_COLUMNS:
            parts = [getattr(v, name) for v in villages]
            self.columns[name] = np.concatenate(parts, axis=-1)
        for i, v in enumerate(villages):
            block = self.block(i)
            v.attach({name: col[..., block] for name, col in self.columns.items()})
            v.stack = self
        self._kin: sp.csr_matrix | None = None

    @classmethod
    def build(cls, villages: Sequence[Mapping[str, Any]]) -> VillageStack:
        """Build each village from its arguments to :class:`VillageModel`, then stack them.

        ``VillageStack.build([{"rng": 1, "regime": "committee_only"}, {"rng": 2,
        "n_households": 120}])``.

        Raises:
            ValueError: as :class:`VillageModel` does, naming the village.
        """
        if isinstance(villages, Mapping) or not isinstance(villages, Sequence):
            raise ValueError("parameter 'villages': got a "
                             f"{type(villages).__name__}; allowed: a list of tables of "
                             "VillageModel arguments")
        built = []
        # Python's cycle collector paused while the villages are built: a build makes millions
        # of objects that all live on, and each collection would walk every one made so far
        # (1,000 villages of 300 households: about 0.6-1 s of a 6-s build, measured)
        collecting = gc.isenabled()
        gc.disable()
        try:
            for i, kwargs in enumerate(villages):
                if not isinstance(kwargs, Mapping):
                    raise ValueError(f"parameter 'villages': item {i} is a "
                                     f"{type(kwargs).__name__}; allowed: a table of "
                                     "VillageModel arguments")
                try:
                    built.append(VillageModel(**dict(kwargs)))
                except (TypeError, ValueError) as err:
                    raise ValueError(f"village {i}: {err}") from err
            return cls(built)
        finally:
            if collecting:
                gc.enable()

    # ------------------------------------------------------------------ structure
    @property
    def n_villages(self) -> int:
        """Number of villages."""
        return len(self.villages)

    @property
    def month(self) -> int:
        """Months stepped (every village is at the same month)."""
        return int(self.villages[0].steps)

    @cached_property
    def segments(self) -> Segments:
        """The villages as segments of the stack's arrays, for operations within each village."""
        return Segments(np.diff(self.offsets))

    def block(self, village: int) -> slice:
        """The households of ``village`` in the stack's arrays."""
        if not 0 <= village < self.n_villages:
            raise IndexError(f"village {village}: allowed 0 to {self.n_villages - 1}")
        return slice(int(self.offsets[village]), int(self.offsets[village + 1]))

    def column(self, name: str) -> np.ndarray:
        """The stacked household column ``name`` (households on the last axis)."""
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"household column {name!r}: not a column; allowed: "
                           f"{', '.join(HOUSEHOLD_COLUMNS)}") from None

    @property
    def kin(self) -> sp.csr_matrix:
        """Kinship ties of all households (block diagonal: no kin across villages)."""
        if self._kin is None:
            self._kin = self.block_diagonal([v.kin for v in self.villages])
        return self._kin

    def block_diagonal(self, matrices: Sequence[sp.spmatrix]) -> sp.csr_matrix:
        """One square matrix per village (a network) as one block-diagonal CSR matrix.

        Each village's rows as they are (CSR arrays joined, columns shifted by the village's
        offset): the rows, and the order of their entries, of each village's own matrix, so a
        product row by row sums in the village's own order. What ``sp.block_diag`` gives,
        without its detour through COO (a tenth of the time for 1,000 villages).
        """
        blocks = [m.tocsr() for m in matrices]
        nnz = np.cumsum([0] + [b.nnz for b in blocks])
        indptr = np.concatenate([b.indptr[:-1] + nnz[i] for i, b in enumerate(blocks)]
                                + [nnz[-1:]])
        indices = np.concatenate([b.indices + self.offsets[i] for i, b in enumerate(blocks)])
        data = np.concatenate([b.data for b in blocks])
        return sp.csr_matrix((data, indices, indptr), shape=(self.n, self.n))

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance every village one month."""
        for v in self.villages:
            v.step()

    # ------------------------------------------------------------------ households
    def per_capita_income(self) -> np.ndarray:
        """Per-capita income y of every household (pre-transfer, last 12 months), stacked."""
        return self.columns["income_hist"].sum(axis=0) / self.columns["persons"]

    def poverty_line(self) -> np.ndarray:
        """Each household's village's poverty line."""
        return self.per_village("poverty_line")[self.village]

    def poor(self) -> np.ndarray:
        """Households below their village's poverty line."""
        return self.per_capita_income() < self.poverty_line()

    def by_village(self, values: np.ndarray) -> np.ndarray:
        """Sum of a household value (or count of a mask) in each village."""
        values = np.asarray(values)
        if values.shape != (self.n,):
            raise ValueError(f"values of shape {values.shape}; allowed: ({self.n},), one per "
                             "household")
        return np.bincount(self.village, weights=values.astype(np.float64),
                           minlength=self.n_villages)

    # ------------------------------------------------------------------ institutions
    def per_village(self, name: str) -> np.ndarray:
        """A number of each village, as an array over the villages.

        A village's attribute (``cash_fund``, ``favoritism_now``, ``team_visits_done`` …) or
        property (``team_active``), else its parameter (``quota``, ``budget_per_household`` …).

        Raises:
            KeyError: for a name that is neither, or not a number.
        """
        return np.array([_number(v, name) for v in self.villages])

    def quota(self) -> np.ndarray:
        """Most households each village's register may hold (-1: no quota)."""
        counts = [register.quota_count(v) for v in self.villages]
        return np.array([-1 if c is None else c for c in counts], dtype=np.int64)

    def team_capacity(self) -> np.ndarray:
        """Visits each village's team can make this month (0 where no team is present)."""
        return np.array([visits.capacity(v) if v.team_active else 0 for v in self.villages],
                        dtype=np.int64)

    def cadres(self) -> pd.DataFrame:
        """Every cadre: village, household (index in the stack and in its village), greed."""
        rows = [pd.DataFrame({
            "village": i,
            "household": v.committee.cadres + self.offsets[i],
            "household_id": v.committee.cadres,
            "greed": v.committee.greed,
            "risk_perception": v.risk_perception,
        }) for i, v in enumerate(self.villages)]
        return pd.concat(rows, ignore_index=True)

    # ------------------------------------------------------------------ outputs
    def metrics(self) -> pd.DataFrame:
        """Every metric of each village at the current month, one row per village."""
        frame = pd.DataFrame([v.metrics() for v in self.villages])
        frame.insert(0, "village", np.arange(self.n_villages))
        return frame

    def household_frame(self) -> pd.DataFrame:
        """Each village's household frame, stacked, with its village first."""
        return self._stacked(v.household_frame() for v in self.villages)

    def decision_log(self) -> pd.DataFrame:
        """Each village's decision log, stacked, with its village first."""
        return self._stacked(v.decision_log() for v in self.villages)

    @staticmethod
    def _stacked(frames: Any) -> pd.DataFrame:
        parts = []
        for i, frame in enumerate(frames):
            frame = frame.copy()
            frame.insert(0, "village", i)
            parts.append(frame)
        return pd.concat(parts, ignore_index=True)


def _number(v: VillageModel, name: str) -> float:
    """A village's attribute or property ``name``, else its parameter, as a number."""
    if name in HOUSEHOLD_COLUMNS:
        raise KeyError(f"{name!r} is a household column: use VillageStack.column({name!r})")
    own = vars(v)
    if name in own:
        value = own[name]
    elif isinstance(getattr(type(v), name, None), (property, VillageNumber)):
        value = getattr(v, name)
    elif hasattr(v.p, name):
        value = getattr(v.p, name)
    else:
        raise KeyError(f"{name!r}: neither a number of a village nor a parameter")
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return float(value)
    raise KeyError(f"{name!r} is a {type(value).__name__}; allowed: the name of a number")
