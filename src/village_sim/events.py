"""Scheduled and instructor events: things that happen to a village on a given month.

A teaching scenario schedules them in its file; an instructor triggers them live from the
app. Either way the model applies an event at the start of the month it is due, before the
economy phase. Events that need random draws (an illness outbreak) take them from the model's
``events`` stream, so the same events give the same draws in every regime (common random
numbers, DESIGN §4).

| kind | effect |
|---|---|
| ``flood`` | a disaster this month: households the shock stream marks as hit lose |
| | half a month's income and a fifth of their assets |
| ``illness_outbreak`` | each healthy household falls ill with probability 0.15 |
| ``audit_now`` | an upper-level audit this month (detection as usual) |
| ``team_arrives`` | the work team arrives this month (if the regime has a team) |
| ``team_leaves`` | the work team leaves this month |
| ``budget_cut`` | the budget from above is halved from this month on |
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_KINDS", "Event", "parse_events"]

EVENT_KINDS = (
    "flood", "illness_outbreak", "audit_now", "team_arrives", "team_leaves", "budget_cut",
)


@dataclass(frozen=True, order=True)
class Event:
    """One event: what happens and in which month (>= 1)."""

    month: int
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            close = difflib.get_close_matches(str(self.kind), EVENT_KINDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"event kind: got {self.kind!r}{hint}; allowed: one of "
                + ", ".join(repr(k) for k in EVENT_KINDS)
            )
        if isinstance(self.month, bool) or not isinstance(self.month, int) or self.month < 1:
            raise ValueError(
                f"event {self.kind!r}: month got {self.month!r}; allowed: an integer >= 1"
            )


def parse_events(events: Iterable[Any] | None) -> list[Event]:
    """Turn ``[{"month": 14, "kind": "flood"}, ("audit_now", 20), Event(...)]`` into events.

    Raises:
        ValueError: naming the bad entry, its value and what is allowed.
    """
    out: list[Event] = []
    for i, item in enumerate(events or ()):
        if isinstance(item, Event):
            out.append(item)
        elif isinstance(item, Mapping):
            extra = set(item) - {"month", "kind"}
            if extra or not {"month", "kind"} <= set(item):
                raise ValueError(
                    f"events[{i}]: got keys {sorted(item)}; allowed: exactly 'month' and 'kind'"
                )
            out.append(Event(item["month"], item["kind"]))
        elif isinstance(item, tuple | list) and len(item) == 2:
            kind, month = item
            out.append(Event(month, kind))
        else:
            raise ValueError(
                f"events[{i}]: got {item!r}; allowed: a table with 'month' and 'kind', "
                "or a (kind, month) pair"
            )
    return sorted(out)
