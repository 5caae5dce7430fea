"""Classroom mode (issue 13): trainees take the model's decisions from their own devices.

:mod:`~village_sim.classroom.roles` (who decides what, what each may see, how parts
combine), :mod:`~village_sim.classroom.deciding` (the policies a room puts in the model),
:mod:`~village_sim.classroom.room` (participants, seats, the timer, every action checked) and
:mod:`~village_sim.classroom.record` (the session's record, and its exact replay).
"""

from village_sim.classroom.record import export, read_record, replay
from village_sim.classroom.roles import DECISIONS, ROLES, ActionRefused, Seat
from village_sim.classroom.room import Participant, Room

__all__ = ["DECISIONS", "ROLES", "ActionRefused", "Participant", "Room", "Seat", "export",
           "read_record", "replay"]
