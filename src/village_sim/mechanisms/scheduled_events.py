"""Scheduled and instructor events, applied at the start of their month. ODD §7.11."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from village_sim.state import VillageState


def apply(s: VillageState) -> None:
    """Apply the events due this month (before the economy phase)."""
    due = [e for e in s.events if e.month == s.steps]
    if not due:
        return
    s.events = [e for e in s.events if e.month != s.steps]
    for event in due:
        if event.kind == "flood":
            s.force_disaster = True
        elif event.kind == "illness_outbreak":
            onset = s.streams["events"].random(s.n) < s.p.outbreak_share
            s.sick = s.sick | onset
        elif event.kind == "audit_now":
            s.force_audit = True
        elif event.kind == "team_arrives":
            s.team_arrives = s.steps
            if s.team_leaves is not None and s.team_leaves <= s.steps:
                s.team_leaves = None
        elif event.kind == "team_leaves":
            s.team_leaves = s.steps
        elif event.kind == "budget_cut":
            s.budget_factor *= s.p.budget_cut_factor
        s.events_applied.append(event)
