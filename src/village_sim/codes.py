"""Decision codes: who acted, what came of it and why (the decision log's vocabulary).

Integer enums (STYLE: discrete states are Enums) stored in int8 arrays; the decision log turns
them into the words below. The order of each enum is part of the stored format: append, never
reorder.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ACTOR_TEXT", "OUTCOME_TEXT", "REASON_TEXT", "Actor", "Outcome", "Reason"]


class Actor(IntEnum):
    """Who proposed, challenged, diagnosed or certified (0: nobody)."""

    NOBODY = 0
    COMMITTEE = 1
    TEAM = 2
    VILLAGERS = 3
    HELPER = 4
    UPPER = 5


ACTOR_TEXT = ("", "committee", "team", "villagers", "helper", "upper level")


class Outcome(IntEnum):
    """What a registration decision did to a household."""

    REGISTERED = 0
    NOT_REGISTERED = 1
    REMOVED = 2
    RE_REGISTERED = 3
    EXITED = 4


OUTCOME_TEXT = ("registered", "not registered", "removed", "re-registered", "exited")


class Reason(IntEnum):
    """Why (-1 in the arrays: no reason recorded)."""

    ESTIMATED_POOR = 0
    FAVOURED = 1
    ADDED_BY_TEAM = 2
    COMPLAINT_UPHELD = 3
    COMPLAINT_DISMISSED = 4
    CHALLENGED_NOT_POOR = 5
    REMOVED_AFTER_REPORT = 6
    REPORT_DISMISSED = 7
    OVER_QUOTA = 8
    RECHECK_NOT_POOR = 9
    RECHECK_STILL_POOR = 10
    ASSESSED_ABOVE_LINE = 11
    EXIT_PRESSURE = 12


REASON_TEXT = (
    "estimated poor",
    "favoured: kin or friend of a cadre",
    "added by the team",
    "complaint upheld",
    "complaint dismissed",
    "challenged by the team: not poor",
    "removed after a villagers' report",
    "report dismissed",
    "over quota",
    "re-check: not poor",
    "re-check: still poor after exit",
    "assessed above the poverty line",
    "declared out under exit-target pressure",
)
