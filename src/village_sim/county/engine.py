"""The county engine: every village's month, phase by phase, with all villages at once.

:class:`VillageStack` steps its villages one after another, each through its twelve phases (the
reference engine). :class:`CountyEngine` turns the loop inside out: it runs each phase of the
month (``VillageModel.step``'s order) for every village before the next phase, and each phase
built for the county (:mod:`village_sim.county.phases`: all of them but scheduled events) acts
on the stacked household arrays with the village index — one set of numpy operations for all
villages, never a village's mechanism called village by village (docs/county_engine.md).
Villages share no state, so the order of villages and phases within a month changes nothing.

Exactness: a village of the engine equals its solo run bit for bit. The county's phases draw
from each village's own streams, call for call as the village's mechanism does (D1, D3), sum
floats per village with :meth:`Segments.exact_sum` (numpy's own pairwise sum, row by row) and
otherwise work element-wise, so every value is the one the village's own mechanism computes
(tests/test_county_engine.py checks every household column and every institution's record,
month by month, against solo runs).

What stays per village, and costs a Python step per village a month (reported as phases of
their own by :attr:`CountyEngine.seconds`): Mesa's clock of each village (``clock``), the
books of each village's month (``books``: its flows, funds and evidence are numbers of the
village, not yet arrays of the county, D5), one generator call per draw and village (D3), and
the phases of ``PER_VILLAGE_PHASES`` (scheduled events, in the villages that have one). Within
a county phase a village's Python step is kept to its generator calls, its books and, where
cadres are replaced, its committee's own per-seat arrays (each phase's module docstring says
which); what is rare stays the village's own call (an election that replaces cadres, an audit
that is held), and so does every decision a village makes by a policy other than the model's
(D6: that phase then calls each village's own mechanism).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from village_sim.county.phases import allocation as allocation_phase
from village_sim.county.phases import draws
from village_sim.county.phases import economy as economy_phase
from village_sim.county.phases import elections as elections_phase
from village_sim.county.phases import exits as exits_phase
from village_sim.county.phases import identification as identification_phase
from village_sim.county.phases import kin_exchange as kin_exchange_phase
from village_sim.county.phases import measures as measures_phase
from village_sim.county.phases import norms as norms_phase
from village_sim.county.phases import projects as projects_phase
from village_sim.county.phases import recheck as recheck_phase
from village_sim.county.phases import survey as survey_phase
from village_sim.county.phases import trust as trust_phase
from village_sim.county.phases import visits as visits_phase
from village_sim.county.stacked import StackedVillages
from village_sim.mechanisms import (
    scheduled_events,
)
from village_sim.stack import VillageStack

__all__ = ["PER_VILLAGE_PHASES", "CountyEngine"]

PER_VILLAGE_PHASES = ("events",)
"""Phases that still call each village's own mechanism, village after village."""


class CountyEngine(StackedVillages):
    """Steps stacked villages a month at a time, each phase for all villages at once.

    Args:
        stack: The villages, stacked, at the same month. From then on the engine steps them:
            a village's own ``step()`` only advances its Mesa clock.
        collect: Whether each village's DataCollector takes its metrics every month, as a
            village stepping itself does (else a village's metrics are computed on request).
        compiled_draws: Whether the draws and the other compiled loops may run (numba, from
            ``draws.JIT_FROM_VILLAGES`` villages; the same numbers either way). False spares a
            process numba's import and, on a fresh install, its first compilation (about 15 s).
    """

    def __init__(self, stack: VillageStack, collect: bool = True, compiled_draws: bool = True):
        super().__init__(stack, compiled_draws)
        self.collect = collect
        self.seconds: dict[str, float] = {}  # time spent in each phase
        self.months = 0
        for v in self.villages:
            v.drive_by_county()

    @property
    def loops(self) -> Any:
        """The county's compiled loops (a module), or None where numpy and Python loops run.

        :func:`village_sim.county.phases.draws.kernels`; the county's metrics run there too.
        """
        return draws.kernels(self)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance every village one month (``VillageModel.step``'s phases, in its order)."""
        try:
            self._step()
        finally:
            self.hold_team_windows(False)

    def _step(self) -> None:
        vs = self.villages
        self._timed("clock", self._clock)
        month = int(vs[0].steps)
        self.params.refresh()
        yearly = month % 12 == 1
        self._timed("events", self._each, scheduled_events.apply, lambda v: bool(v.events))
        self.hold_team_windows(True)  # no phase after the events opens or closes a window
        self._timed("economy", economy_phase.run, self)
        self._timed("kin exchange", kin_exchange_phase.run, self)
        if yearly:  # the yearly review
            self._timed("elections", elections_phase.hold_election, self)
            self._timed("norms", norms_phase.internalise, self)
            self._timed("review", identification_phase.review, self)
            self._timed("exit assessment", exits_phase.assess, self)
            self._timed("identification", identification_phase.run, self)
        self._timed("cadres", self.cadres.refresh)
        self._timed("allocation", allocation_phase.run, self)
        self._timed("visits", visits_phase.run, self)
        self._timed("measures", measures_phase.run, self)
        if yearly:
            self._timed("projects", projects_phase.run, self)
        if month % 12 == 7:
            self._timed("re-check", recheck_phase.run, self)
        self._timed("trust", trust_phase.update, self)
        self._timed("returns", trust_phase.track_returns, self)
        if month % 12 == 0:
            self._timed("survey", survey_phase.run, self)
        self._timed("books", self._close)
        self.months += 1

    def _timed(self, phase: str, fn: Callable[..., Any], *args: Any) -> None:
        start = time.perf_counter()
        fn(*args)
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start

    def _clock(self) -> None:
        for v in self.villages:
            v.advance_clock()  # Mesa's clock: steps and time (the phases are the engine's)

    def _each(self, fn: Callable[[Any], None],
              when: Callable[[Any], bool] | None = None) -> None:
        for v in self.villages:
            if when is None or when(v):
                fn(v)

    def _close(self) -> None:
        carried_over = self.gather("cash_fund") + self.gather("measure_fund") + self.gather(
            "project_fund")
        self.books.close_month(self.month % 12, carried_over, self.team_active())
        self.scatter("team_months_last_year", self.books.team_months.sum(axis=1))
        for v in self.villages:
            v._metric_cache = None
            if self.collect:
                v.datacollector.collect(v)
            if v.panel_every:
                v._record_panel()
