"""A county's stacked villages as the county's phases see them (:mod:`village_sim.county.phases`).

The households of all villages in the stack's arrays, with their segments (each village's block);
each village's parameters as arrays over villages (:class:`VillageParams`); every cadre of the
county in one array (:class:`Cadres`); and each village's own numbers (funds, flags) gathered
into arrays over villages and scattered back (a village's institutions are still its own Python
numbers: docs/county_engine.md, D5).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from operator import attrgetter
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

from village_sim.county.books import NUMBER, Books, Numbers
from village_sim.mechanisms.policies import DEFAULT_POLICIES
from village_sim.segments import Segments
from village_sim.stack import VillageStack
from village_sim.village import ties_of

__all__ = ["Cadres", "StackedVillages", "VillageParams"]


class VillageParams:
    """Each village's parameters as arrays over villages (and over households, cadres).

    ``refresh`` compares the parameter objects by identity, once a month. Where a village's
    parameters were replaced (the county sets them every year), the arrays of the values that
    changed are rebuilt, and those derived from parameters (``derived``, whose inputs are not
    known); the other arrays stay (``Parameters.replace`` keeps an unchanged value's object,
    and a changed one is a new object: compared by identity, a value is never wrongly kept).
    """

    def __init__(self, villages: Sequence[Any], segments: Segments):
        self._villages = villages
        self._segments = segments
        self._ps: list[Any] = []
        self._cache: dict[Any, np.ndarray] = {}
        self._derived: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        """Forget the arrays of the values that changed in any village's parameters."""
        ps = [v.p for v in self._villages]
        if len(ps) == len(self._ps) and all(a is b for a, b in zip(ps, self._ps, strict=True)):
            return
        changed = _changed_values(self._ps, ps)
        self._ps = ps
        if changed is None:
            self._cache.clear()
            self._derived.clear()
            return
        for key in [*changed, *(("households", name) for name in changed), *self._derived]:
            self._cache.pop(key, None)
        self._derived.clear()

    def __call__(self, name: str) -> np.ndarray:
        """Parameter ``name`` of each village (an array over villages)."""
        out = self._cache.get(name)
        if out is None:
            out = self._cache[name] = np.array([getattr(p, name) for p in self._ps])
        return out

    def of_households(self, name: str) -> np.ndarray:
        """Parameter ``name`` of each household's village."""
        key = ("households", name)
        out = self._cache.get(key)
        if out is None:
            out = self._cache[key] = self(name)[self._segments.village]
        return out

    def derived(self, key: str, fn: Callable[[Any], Any]) -> np.ndarray:
        """``fn(p)`` for each village's parameters ``p``, computed in Python (cached).

        For what a mechanism computes from its parameters with Python floats (powers,
        products): computed the same way here, the value is the mechanism's own, bit for bit.
        """
        out = self._cache.get(key)
        if out is None:
            out = self._cache[key] = np.array([fn(p) for p in self._ps])
            self._derived.add(key)
        return out


def _changed_values(old: Sequence[Any], new: Sequence[Any]) -> set[str] | None:
    """The names of the values that differ between two lists of villages' parameters.

    By identity (a value kept by ``Parameters.replace`` is the same object); None where the
    lists cannot be compared so (other lengths, other kinds of object): everything changed.
    """
    if len(old) != len(new):
        return None
    changed: set[str] = set()
    for a, b in zip(old, new, strict=True):
        if a is b:
            continue
        if type(a) is not type(b) or not hasattr(b, "__dict__"):
            return None
        was, now = a.__dict__, b.__dict__
        if was.keys() != now.keys():
            return None
        changed.update(k for k, v in now.items() if was[k] is not v)
    return changed


CHOICES = ("diversion_inclination", "diversion_risk", "diversion_share")
"""Each cadre's choices of the month, set on its village (``deterrence.update_channels``)."""


class LogRows(Mapping[str, np.ndarray]):
    """One village's rows of a decision-log block of many villages (``StackedVillages.log``).

    Reads as the block its own ``VillageState.log`` would append (a mapping of field to array:
    the fields' rows ``lo:hi``), sliced when read: a month's log of 100 villages appends 100 of
    these instead of 100 dictionaries of seven slices each.
    """

    __slots__ = ("_fields", "_lo", "_hi")

    def __init__(self, fields: dict[str, np.ndarray], lo: int, hi: int):
        self._fields, self._lo, self._hi = fields, lo, hi

    def __getitem__(self, key: str) -> np.ndarray:
        return self._fields[key][self._lo:self._hi]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


class Cadres:
    """Every village's cadres in one array, village by village, and their records.

    Built again whenever a village seats other cadres (elections, replacements). Each
    committee's greed and times each cadre was caught, and each village's cadres'
    misperception of risk, are then gathered into one county array each (``greed``,
    ``times_caught``, ``risk_perception``), and the village's own arrays become views of
    them: what a phase writes for all villages at once is each village's own record, and what
    a village's own mechanism writes in place is the county's (as the books are,
    county/books.py). A village seating other cadres replaces those arrays
    (``elections.replace_cadres``), so they are gathered again at the next ``refresh``, as
    the cadres are. The committees' rings of takings are stretches of one buffer, each viewed
    in the layout its ring had (:meth:`_share_rings`: the layout decides the order in which
    ``ring.sum(axis=0)`` adds a cadre's 12 months), and the cadres' choices of the month are
    county arrays too (:meth:`write_choices`).
    """

    def __init__(self, villages: Sequence[Any], offsets: np.ndarray,
                 kin: Callable[[], sp.csr_matrix]):
        self._villages = villages
        self._offsets = offsets
        self._kin = kin  # the villages' kinship, block diagonal (built when first asked)
        self._seated: list[Any] = []
        self._rings: list[np.ndarray] = []
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the arrays if any village's cadres (or any committee's ring) changed."""
        seated = [v.committee.cadres for v in self._villages]
        if len(seated) == len(self._seated) and all(
                a is b for a, b in zip(seated, self._seated, strict=True)) and all(
                v.committee.diverted_ring is r
                for v, r in zip(self._villages, self._rings, strict=True)):
            return
        self._seated = seated
        sizes = np.array([c.size for c in seated], dtype=np.int64)
        self.segments = Segments(sizes)
        self.village = self.segments.village
        # each cadre's household in the stack
        self.household = np.concatenate(seated) + self._offsets[:-1][self.village]
        self.size = sizes.astype(np.float64)  # cadres of each village (a divisor)
        # where the share of a cadre's takings meant for its kin goes: one (cadre, household)
        # pair per kin household, cadre after cadre (the cadre's own household if it has no
        # kin), and how many parts it is split into; a cadre's kin households are its row of
        # the villages' kinship (its ``cadre_kin_lists`` entry), read for all cadres at once
        count, kin = ties_of(self._kin(), self.household)
        parts = np.maximum(count, 1)
        self.kin_pair_cadre = np.repeat(np.arange(sizes.sum()), parts)
        self.kin_pair_household = np.repeat(self.household, parts)  # own, where no kin
        self.kin_pair_household[np.repeat(count > 0, parts)] = kin
        self.kin_parts = parts.astype(np.int64)
        self._share_records()

    def _share_records(self) -> None:
        """The committees' per-seat records as county arrays, each village's a view of them."""
        committees = [v.committee for v in self._villages]
        self.greed = np.concatenate([c.greed for c in committees])
        self.times_caught = np.concatenate([c.times_caught for c in committees])
        self.risk_perception = np.concatenate([v.risk_perception for v in self._villages])
        bounds = self.segments.offsets.tolist()
        for i, (v, c) in enumerate(zip(self._villages, committees, strict=True)):
            b = slice(bounds[i], bounds[i + 1])
            c.greed = self.greed[b]
            c.times_caught = self.times_caught[b]
            v.risk_perception = self.risk_perception[b]
        self._share_rings(committees, bounds)
        # the cadres' choices of the month, written by the allocation for all villages at once
        # (write_choices); a village's own mechanism replaces its arrays, which
        # write_choices and gather then notice
        self._choices = {name: np.concatenate([getattr(v, name) for v in self._villages])
                         for name in CHOICES}
        self._choice_views = {name: [county[bounds[i]:bounds[i + 1]]
                                     for i in range(len(self._villages))]
                              for name, county in self._choices.items()}
        for name, views in self._choice_views.items():
            for v, view in zip(self._villages, views, strict=True):
                setattr(v, name, view)

    def _choices_held(self, name: str) -> bool:
        """Whether every village's array ``name`` is still its view of the county's."""
        return all(map(operator.is_, map(attrgetter(name), self._villages),
                       self._choice_views[name]))

    def write_choices(self, **values: np.ndarray) -> None:
        """Set the cadres' choices (:data:`CHOICES`, one county array each) of every village.

        Written into the county's arrays, whose stretches are the villages' own arrays; a
        village whose own mechanism replaced its array gets its view back.
        """
        for name, value in values.items():
            views = self._choice_views[name]
            if not self._choices_held(name):
                for v, view in zip(self._villages, views, strict=True):
                    setattr(v, name, view)
            self._choices[name][...] = value

    def _share_rings(self, committees: Sequence[Any], bounds: list[int]) -> None:
        """The committees' rings of takings in one buffer, each ring a view in its own layout.

        A ring (12 months x seats) is C-ordered until its committee's seats are first
        reordered and Fortran-ordered after (``ring[:, order]``), and numpy sums a cadre's 12
        months (``ring.sum(axis=0)``) in the order the layout gives: row after row for a
        C-ordered ring of two seats or more, pairwise (numpy's pairwise summation of 12
        contiguous values) otherwise. Each ring is therefore copied into its own stretch of
        :attr:`ring_buffer`, 12 x seats values, and replaced by a view of that stretch in the
        layout it had: the village reads, writes and sums its ring as before, and the county
        finds cadre g's month t at ``ring_start[g] + t * ring_step[g]`` (:meth:`ring_places`,
        :meth:`ring_sums`). A reorder replaces a committee's ring (a new array), which the
        next :meth:`refresh` takes in.
        """
        sizes = self.segments.sizes.tolist()
        self.ring_buffer = np.empty(12 * bounds[-1])
        self.ring_start = np.empty(bounds[-1], dtype=np.int64)
        self.ring_step = np.empty(bounds[-1], dtype=np.int64)
        rings = []
        for i, c in enumerate(committees):
            ring, m, lo = c.diverted_ring, sizes[i], bounds[i]
            if ring.shape != (12, m) or not (ring.flags.c_contiguous
                                             or ring.flags.f_contiguous):
                raise ValueError(f"village {i}: a committee's ring of takings must be a "
                                 f"contiguous 12 x {m} array; got shape {ring.shape}")
            fortran = not ring.flags.c_contiguous
            view = self.ring_buffer[12 * lo:12 * (lo + m)].reshape(
                12, m, order="F" if fortran else "C")
            view[...] = ring
            seat = np.arange(m)
            if not fortran:  # month t of seat j: t * m + j
                self.ring_start[lo:lo + m], self.ring_step[lo:lo + m] = 12 * lo + seat, m
            else:  # j * 12 + t
                self.ring_start[lo:lo + m], self.ring_step[lo:lo + m] = 12 * (lo + seat), 1
            c.diverted_ring = view
            rings.append(view)
        self._rings = rings

    def ring_places(self, slot: int | np.ndarray,
                    cadres: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Where month ``slot`` of each of ``cadres`` (all by default) is in the ring buffer.

        ``slot`` may be an array that broadcasts against the cadres (a column of months gives
        a months x cadres table of places).
        """
        return self.ring_start[cadres] + slot * self.ring_step[cadres]

    def ring_sums(self, cadres: np.ndarray) -> np.ndarray:
        """Each of ``cadres``' 12 months of takings summed, as its ring's ``sum(axis=0)`` sums.

        Row after row where the committee's ring is C-ordered with two seats or more (its
        ``ring_step`` > 1); elsewhere pairwise, as numpy sums 12 contiguous values (each
        cadre's months gathered into a contiguous row and the rows summed).
        """
        step = self.ring_step[cadres]
        months = self.ring_buffer[self.ring_start[cadres][:, None]
                                  + np.arange(12) * step[:, None]]
        out = np.empty(step.size)
        pairwise = step == 1
        if pairwise.any():
            out[pairwise] = months[pairwise].sum(axis=1)
        rows = ~pairwise
        if rows.any():
            total = months[rows, 0].copy()
            for t in range(1, 12):
                total += months[rows, t]
            out[rows] = total
        return out

    def gather(self, name: str) -> np.ndarray:
        """A per-cadre array of each village (an attribute of the village), concatenated.

        For the cadres' choices (:data:`CHOICES`), the county's array itself while every
        village's is its view (read it, do not write it: :meth:`write_choices` writes).
        """
        if name in self._choices and self._choices_held(name):
            return self._choices[name]
        return np.concatenate([getattr(v, name) for v in self._villages])


class StackedVillages:
    """Stacked villages, with what a phase acting on all of them at once needs.

    Args:
        stack: The villages, stacked, at the same month.
        compiled_draws: Whether the phases may use the compiled loops, for their draws and
            the rest (:func:`village_sim.county.phases.draws.kernels`): the same numbers either
            way.
    """

    def __init__(self, stack: VillageStack, compiled_draws: bool = True):
        self.stack = stack
        self.villages = stack.villages
        self.segments = stack.segments
        self.blocks = [stack.block(i) for i in range(stack.n_villages)]
        self.params = VillageParams(self.villages, self.segments)
        self.cadres = Cadres(self.villages, stack.offsets, lambda: stack.kin)
        self.books = Books(self.villages)  # the villages' books are views of its rows now
        self.numbers = Numbers(self.villages)  # and their funds, flags and counters
        self.network = stack.block_diagonal([v.network for v in self.villages])
        self.y = self.stack.per_capita_income()  # y of every household (set by economy)
        self.income_12 = self.stack.columns["income_hist"].sum(axis=0)  # its 12 months' income
        # its aid and other transfers over 12 months once the month's payments are made: summed
        # by the trust phase where it needs them, None from the month's start (phases.economy)
        self.transfers_12: tuple[np.ndarray, np.ndarray] | None = None
        # each household's cause of poverty were it well, and each village's cache it was
        # copied to (phases.economy keeps them)
        self.well_causes: list[Any] = [None] * len(self.villages)
        self.cause_if_well = np.zeros(self.segments.n, dtype=np.int8)
        # each stream's generators as a list the compiled loops index (phases.draws)
        self.typed_streams: dict[str, Any] = {}
        self.compiled_draws = compiled_draws
        self._rules_month: Any = None  # the month whose rules _default_rule holds
        self._default_rule: dict[str, bool] = {}
        self._all_default = False  # every village decides everything by the model's rules
        self._windows: np.ndarray | None = None  # the month's team windows, while held

    @cached_property
    def friends(self) -> sp.csr_matrix:
        """Friendship ties of all households (block diagonal), built when first needed."""
        return self.stack.block_diagonal([v.friends for v in self.villages])

    # ------------------------------------------------------------------ per-village numbers
    def gather(self, name: str, dtype: Any = np.float64) -> np.ndarray:
        """Attribute ``name`` of each village, as an array over villages (a copy).

        A village number (``state.VILLAGE_NUMBERS``) is a column of :attr:`numbers`; any other
        attribute is read from each village.
        """
        if name in NUMBER:
            return self.numbers.column(name).astype(dtype)
        return np.fromiter(map(attrgetter(name), self.villages), dtype=dtype,
                           count=len(self.villages))

    def scatter(self, name: str, values: np.ndarray) -> None:
        """Set attribute ``name`` of each village (as Python numbers, as its mechanisms do)."""
        if name in NUMBER:
            self.numbers.column(name)[...] = values
            return
        for v, x in zip(self.villages, values.tolist(), strict=True):
            setattr(v, name, x)

    def decided_otherwise(self, mechanism: Callable[[Any], None], *names: str) -> bool:
        """If a village decides ``names`` by a rule other than the model's, run ``mechanism``.

        That phase then runs as each village's own mechanism, village after village (D6); the
        caller returns. False (nothing run) when every village uses the model's rules.
        """
        if self.default_policies(*names):
            return False
        for v in self.villages:
            mechanism(v)
        return True

    def default_policies(self, *names: str) -> bool:
        """Whether every village decides ``names`` by the model's own rules (D6).

        Read once a month for each rule (the villages' rules are set between months).
        """
        month = self.villages[0].steps
        if month != self._rules_month:
            self._rules_month, self._default_rule = month, {}
            # one look at each village's rules a month (a dict comparison, its values
            # compared as functions are: by identity), instead of one per rule and phase
            self._all_default = all(v.policies == DEFAULT_POLICIES for v in self.villages)
        if self._all_default:
            return True
        known = self._default_rule
        for name in names:
            if name not in known:
                default = DEFAULT_POLICIES[name]
                known[name] = all(v.policies[name] is default for v in self.villages)
            if not known[name]:
                return False
        return True

    def assets_changed(self, villages: np.ndarray, compiled: ModuleType | None = None) -> None:
        """``VillageState.assets_changed`` for ``villages`` at once: new medians, causes.

        ``np.median``'s arithmetic: the middle value, or the mean of the two middle values
        (their sum halved), found as numpy's median finds them, by partition (villages of
        one size in one call), or by the county's ``compiled`` loops where the caller has them
        (``kernels.medians``: the same order statistics, village after village in one loop).
        """
        if villages.size == 0:
            return
        median = np.empty(villages.size)
        assets = self.stack.columns["assets"]
        if compiled is not None:  # the same order statistics, found in one compiled loop
            compiled.medians(assets, self.segments.offsets, villages.astype(np.int64), median)
            self.numbers.column("asset_median")[villages] = median
            for i in villages.tolist():
                self.villages[i]._cause_if_well = None
            return
        sizes = self.segments.sizes[villages]
        for size in np.unique(sizes).tolist():  # villages of one size: one matrix, one call
            rows = np.flatnonzero(sizes == size)
            table = assets[(self.segments.offsets[villages[rows]][:, None]
                            + np.arange(size)).ravel()].reshape(rows.size, size)
            lower, upper = (size - 1) // 2, size // 2
            table.partition([lower, upper], axis=1)  # the order statistics np.median takes
            median[rows] = (table[:, upper] if size % 2 == 1
                            else (table[:, lower] + table[:, upper]) / 2.0)
        self.numbers.column("asset_median")[villages] = median
        for i in villages.tolist():
            self.villages[i]._cause_if_well = None

    def column(self, name: str) -> np.ndarray:
        """The stacked household column ``name``."""
        return self.stack.columns[name]

    # ------------------------------------------------------------------ what villages share
    @property
    def month(self) -> int:
        """The month the villages are in (all at the same one)."""
        return int(self.villages[0].steps)

    def team_window_open(self) -> np.ndarray:
        """``VillageState.team_window_open`` of every village (this month in its window).

        Read-only; held for the rest of the month while :meth:`hold_team_windows` holds it.
        """
        if self._windows is not None:
            return self._windows
        m = self.month
        arrives = self.gather("team_arrives")
        leaves = np.fromiter((np.inf if v.team_leaves is None else v.team_leaves
                              for v in self.villages), dtype=np.float64, count=len(self.villages))
        out = (m >= arrives) & (m < leaves)
        out.flags.writeable = False
        return out

    def hold_team_windows(self, hold: bool) -> None:
        """Hold this month's team windows (``hold``), or read them afresh from now on.

        The county engine holds them once the month's scheduled events have run (the only
        phase that opens or closes a window) until the month ends: half a dozen phases read
        them, each a Python pass over the villages otherwise.
        """
        self._windows = None
        if hold:
            self._windows = self.team_window_open()

    def team_active(self) -> np.ndarray:
        """``VillageState.team_active`` of every village: a team present, in its window."""
        return self.params("team_present").astype(bool) & self.team_window_open()

    def team_knows(self) -> np.ndarray:
        """``VillageState.team_knows()`` of every village: households its team knows."""
        c = self.stack.columns
        return (self.month - c["team_last_visit"] < self.params.of_households("team_memory")) \
            & (c["team_signal_count"] > 0)

    def log(self, mask: np.ndarray, year: int, proposed_by: np.ndarray | int,
            challenged_by: np.ndarray | int, outcome: np.ndarray | int,
            reason: np.ndarray | int) -> None:
        """``VillageState.log`` in every village: the decisions of the households in ``mask``.

        Each code is a stacked household array (its dtype kept) or one int for all (int8, as
        the village's log stores it). A village with a decision gets one block, in its own
        household ids, with what its own ``log`` call would store; the others get none.
        """
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return

        def pick(a: np.ndarray | int) -> np.ndarray:
            return a[idx] if isinstance(a, np.ndarray) else np.full(idx.size, a, dtype=np.int8)

        fields = {"household_id": idx - self.stack.offsets[self.segments.village[idx]],
                  "year": np.full(idx.size, year), "month": np.full(idx.size, self.month),
                  "proposed_by": pick(proposed_by), "challenged_by": pick(challenged_by),
                  "outcome": pick(outcome), "reason": pick(reason)}
        bounds = np.searchsorted(idx, self.segments.offsets).tolist()
        for i in np.flatnonzero(np.diff(bounds)).tolist():
            self.villages[i]._log_blocks.append(LogRows(fields, bounds[i], bounds[i + 1]))
