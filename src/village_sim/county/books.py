"""Every village's books as rows of county arrays (docs/county_engine.md, D5).

A village keeps its money by name: the month's flows and memo items, their totals and
12-month histories, what its cadres have seen (evidence), and its channels' intensities
(:class:`village_sim.state.VillageState`). Alone, these are dicts of Python floats. When a
county engine takes the villages, :class:`Books` copies them into arrays with a row per
village and gives each village :class:`Ledger` views of its rows in their place: the village's
own mechanisms (a custom rule's phase, a scheduled event, a yearly audit) read and write their
items by name as before, and the engine opens and closes every village's month with a few
array operations instead of a Python loop over villages and items.

Exactness: every item is a float64 either way, and each operation on an item (a sum of two, a
product) is the same IEEE operation in numpy as in Python. A :class:`Ledger` reads as Python
floats, the type a village's dict holds (Python's ``sum`` of floats adds exact floats with
compensation, other numbers without: the type decides the result's last bit);
tests/test_county_engine.py compares the books' values and types with solo villages', month
after month.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

from village_sim.state import CHANNELS, LEDGER_FLOWS, MEMO_FLOWS, VILLAGE_NUMBERS

__all__ = ["CHANNEL", "FLOW", "MEMO", "NUMBER", "Books", "Ledger", "Numbers"]

FLOW = {k: i for i, k in enumerate(LEDGER_FLOWS)}
"""Each ledger flow's column in :attr:`Books.flows` and :attr:`Books.totals`."""
MEMO = {k: i for i, k in enumerate(MEMO_FLOWS)}
"""Each memo item's column in :attr:`Books.memo`."""
CHANNEL = {k: i for i, k in enumerate(CHANNELS)}
"""Each channel's column in :attr:`Books.found`, :attr:`Books.exposure`, :attr:`Books.intensity`."""
NUMBER = {k: i for i, k in enumerate(VILLAGE_NUMBERS)}
"""Each village number's column in :attr:`Numbers.table`."""
_HIST = LEDGER_FLOWS + MEMO_FLOWS


class Numbers:
    """The villages' own numbers (``state.VILLAGE_NUMBERS``), a row per village, shared.

    Funds, flags and counters. Each village keeps its numbers in a row (``_numbers``, read
    through ``state.VillageNumber`` as Python numbers); when a county engine takes the
    villages, their rows become rows of :attr:`table`, so the engine reads and writes a number
    of every village as one column (a pass over 200 villages' objects costs about 0.3 ms when
    the household arrays have pushed them out of the caches), while a village's own mechanisms
    still assign it by name. Values are float64 either way; a village reads them as the type it
    declares.
    """

    def __init__(self, villages: Sequence[Any]):
        self.table = np.array([v._numbers for v in villages], dtype=np.float64).reshape(
            len(villages), len(VILLAGE_NUMBERS))
        for i, v in enumerate(villages):
            v._numbers = self.table[i]

    def column(self, name: str) -> np.ndarray:
        """Number ``name`` of every village (a view: writes go to the villages)."""
        return self.table[:, NUMBER[name]]


class Ledger(MutableMapping[str, float]):
    """Items by name, kept in one row of an array (a village's row of a county's table).

    Its names are fixed (those of the dict it replaces); reading gives a Python float.

    Args:
        index: Each name's column.
        row: The row (a view: writes go to the county's table).
    """

    __slots__ = ("_index", "_row")

    def __init__(self, index: Mapping[str, int], row: np.ndarray):
        self._index = index
        self._row = row

    def __getitem__(self, key: str) -> float:
        return float(self._row[self._index[key]])

    def __setitem__(self, key: str, value: float) -> None:
        self._row[self._index[key]] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError(f"a village's books keep every item; cannot delete {key!r}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"Ledger({dict(self)!r})"

    def copy(self) -> dict[str, float]:
        """The items as a plain dict (as ``dict.copy`` gives), read in one pass of the row."""
        values = self._row.tolist()
        return {k: values[i] for k, i in self._index.items()}


class Books:
    """The books of stacked villages, a row per village, shared with the villages' views.

    Args:
        villages: The villages (``VillageModel``), at the same month; from now on their books
            are views of these arrays.

    Attributes:
        flows: The month's ledger flows (villages × ``LEDGER_FLOWS``).
        memo: The month's memo items (villages × ``MEMO_FLOWS``).
        totals: The flows since month 1 (villages × ``LEDGER_FLOWS``).
        history: The last 12 months of flows, then memo items (villages × items × 12).
        found, exposure: What each village's cadres have seen (villages × ``CHANNELS``).
        intensity: Each channel's intensity this month (villages × ``CHANNELS``).
        team_months: Whether a team was active in each of the last 12 months (villages × 12).
    """

    def __init__(self, villages: Sequence[Any]):
        def table(name: str, keys: Sequence[str]) -> np.ndarray:
            return np.array([[float(getattr(v, name)[k]) for k in keys] for v in villages],
                            dtype=np.float64).reshape(len(villages), len(keys))

        self.flows = table("flows", LEDGER_FLOWS)
        self.memo = table("memo", MEMO_FLOWS)
        self.totals = table("totals", LEDGER_FLOWS)
        self.found = table("evidence_found", CHANNELS)
        self.exposure = table("evidence_exposure", CHANNELS)
        self.intensity = table("channel_intensity", CHANNELS)
        self.history = np.array([[v.flow_hist[k] for k in _HIST] for v in villages],
                                dtype=np.float64).reshape(len(villages), len(_HIST), 12)
        self.team_months = np.array([v.team_month_ring for v in villages],
                                    dtype=bool).reshape(len(villages), 12)
        for i, v in enumerate(villages):
            v.flows = Ledger(FLOW, self.flows[i])
            v.memo = Ledger(MEMO, self.memo[i])
            v.totals = Ledger(FLOW, self.totals[i])
            v.evidence_found = Ledger(CHANNEL, self.found[i])
            v.evidence_exposure = Ledger(CHANNEL, self.exposure[i])
            v.channel_intensity = Ledger(CHANNEL, self.intensity[i])
            v.flow_hist = {k: self.history[i, j] for j, k in enumerate(_HIST)}
            v.team_month_ring = self.team_months[i]

    def summed_history(self, name: str) -> float:
        """An item's last 12 months summed over every village.

        As numpy sums the villages' histories laid one after another (their ``flow_hist[name]``
        arrays joined): the same numbers in the same order.
        """
        return float(np.ascontiguousarray(self.history[:, _HIST.index(name), :]).sum())

    def history_sums(self, name: str) -> np.ndarray:
        """Each village's last 12 months of an item, summed (its ``flow_hist[name].sum()``).

        Each row summed as numpy sums the village's own 12 values (a reduction along the
        contiguous axis: the same pairwise steps, the same number).
        """
        return self.history[:, _HIST.index(name), :].sum(axis=1)

    def open_month(self, villages: Sequence[Any], slot: int, fade: np.ndarray) -> None:
        """``VillageState.open_month`` of every village: the month's slot, flows at zero.

        Args:
            villages: The villages, in the rows' order.
            slot: This month's slot of the 12-month histories.
            fade: Each village's ``evidence_fade`` (what its cadres saw fades by it).
        """
        for v in villages:
            v.slot = slot
        self.flows[...] = 0.0
        self.memo[...] = 0.0
        self.found *= fade[:, None]
        self.exposure *= fade[:, None]

    def close_month(self, slot: int, carried_over: np.ndarray, team_active: np.ndarray) -> None:
        """``VillageState.close_month`` of every village: carried over, histories, totals.

        (Each village's months with a team over the last 12, ``team_months_last_year``, are
        :attr:`team_months` summed by row: the caller writes them to the villages' numbers.)

        Args:
            slot: This month's slot of the 12-month histories.
            carried_over: What each village's funds carry into next month (cash, then
                measures, then projects, added in that order).
            team_active: Whether each village has a team this month.
        """
        self.flows[:, FLOW["carried_over"]] = carried_over
        self.history[:, :len(LEDGER_FLOWS), slot] = self.flows
        self.history[:, len(LEDGER_FLOWS):, slot] = self.memo
        self.totals += self.flows
        self.team_months[:, slot] = team_active
