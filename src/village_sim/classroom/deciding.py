"""The policies a classroom puts in the model: the rule first, then people's parts.

Issue 13. Every decision point asks the rule for its own action first, with the rng the model
passes, whether or not a person then decides: so the model draws the same numbers whatever
people do, and a room where nobody acts is the model's own run exactly. Where people sent
parts, :func:`village_sim.classroom.roles.combine` puts them in. Subclasses say where the
parts come from: a live room waits for its participants, a replay reads the record.

A decision point is keyed by (month, decision, occurrence): the model's step, the decision's
name and how many times it was asked before in that month.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from village_sim.classroom.roles import DECISIONS, Seat, combine
from village_sim.mechanisms.policies import DEFAULT_POLICIES
from village_sim.model import VillageModel

__all__ = ["Decider", "Key", "RecordedDecider"]

Key = tuple[int, str, int]
"""(month, decision, occurrence)."""


class Decider:
    """Policies for every decision; :meth:`parts` says who decided what (none: the rule)."""

    def __init__(self) -> None:
        self.model: VillageModel | None = None  # set once the model is built
        self._month = -1
        self._asked: dict[str, int] = {}

    def policies(self) -> dict[str, Callable[..., Any]]:
        """``VillageModel(policies=...)``: one per decision."""
        return {name: self._policy(name) for name in DECISIONS}

    def parts(self, key: Key, view: Any, rule: Any) -> Mapping[Seat, Any] | None:
        """The parts people sent at decision point ``key`` (None or empty: the rule's)."""
        raise NotImplementedError

    def _policy(self, name: str) -> Callable[..., Any]:
        rule_of = DEFAULT_POLICIES[name]

        def decide(view: Any, rng: Any) -> Any:
            rule = rule_of(view, rng)  # always, and first: the same draws
            assert self.model is not None, "the decider's model is not set"
            month = int(self.model.steps)
            if month != self._month:
                self._month, self._asked = month, {}
            occurrence = self._asked.get(name, 0)
            self._asked[name] = occurrence + 1
            parts = self.parts((month, name, occurrence), view, rule)
            return combine(name, view, rule, parts) if parts else rule
        decide.__name__ = f"classroom_{name}"
        return decide


class RecordedDecider(Decider):
    """The parts of a record, at their decision points."""

    def __init__(self, parts: Mapping[Key, Mapping[Seat, Any]]) -> None:
        super().__init__()
        self.recorded = parts

    def parts(self, key: Key, view: Any, rule: Any) -> Mapping[Seat, Any] | None:
        """The parts recorded at ``key``."""
        return self.recorded.get(key)
