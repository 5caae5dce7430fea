"""A classroom room: a village whose decisions participants take, on a timer (issue 13).

The room holds the village (a :class:`~village_sim.model.VillageModel`), its participants and
their seats, and the decision under way. It is the server's core and has no network code: a
web layer calls :meth:`Room.join`, :meth:`Room.pending` and :meth:`Room.act` for the
participants and :meth:`Room.advance` for the trainer's "next month", from any threads.

A month runs on the thread that calls :meth:`Room.advance`. At each decision point the rule
takes its action first (:mod:`village_sim.classroom.deciding`); if a participant holds a seat
of the deciding role, the decision opens: each such seat sees its own observation
(:func:`village_sim.classroom.roles.observe`) and may send one part, until every seat has
sent one, the decision's timer (``month_seconds``) ends, or the trainer closes it. Seats that
sent nothing are decided by the rule, so the village always advances. The parts are recorded
(:mod:`village_sim.classroom.record`) before the model goes on.

Every action is checked here, not on the page: the participant's token, its seat's role, the
decision it answers, the payload (:func:`village_sim.classroom.roles.parse_action`), one part
per seat per decision, and a rate limit. A refused action gets a message and is logged in
:attr:`Room.refusals`.
"""

from __future__ import annotations

import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from village_sim.classroom.deciding import Decider, Key, RecordedDecider
from village_sim.classroom.record import RecordWriter, read_record
from village_sim.classroom.roles import (
    DECISIONS,
    ActionRefused,
    Seat,
    asks,
    combine,
    observe,
    parse_action,
)
from village_sim.model import VillageModel
from village_sim.refusal import Phrase, Refusal

__all__ = ["LANGUAGES", "OpenDecision", "Participant", "Room"]

LANGUAGES = ("zh", "vi", "en")
NICKNAME_LENGTH = 24


@dataclass
class Participant:
    """Someone in the room: a nickname, a language, perhaps a seat; ``token`` is secret."""

    id: int
    nickname: str
    lang: str
    token: str
    seat: Seat | None = None
    _sent: deque[float] = field(default_factory=deque, repr=False)  # times refused


@dataclass
class OpenDecision:
    """A decision point waiting for people."""

    id: int
    key: Key
    view: Any
    seats: tuple[Seat, ...]  # seats of the deciding role held by someone
    observations: dict[Seat, dict[str, Any]]
    deadline: float
    parts: dict[Seat, Any] = field(default_factory=dict)
    senders: dict[Seat, Participant] = field(default_factory=dict)
    seconds: dict[Seat, float] = field(default_factory=dict)
    closed: bool = False

    @property
    def decision(self) -> str:
        """The decision's name."""
        return self.key[1]


class _RoomDecider(Decider):
    """A resumed session's recorded parts where it has them, the participants after.

    While a resumed session catches up with its completed months, a decision point with no
    recorded part was the rule's. In the month the session was interrupted in, the points it
    recorded keep their parts and the rest are asked anew; so the record, old rows and new,
    replays as the room ran.
    """

    def __init__(self, room: Room, recorded: Mapping[Key, Mapping[Seat, Any]],
                 catch_up: int) -> None:
        super().__init__()
        self.room = room
        self.replaying = RecordedDecider(recorded)
        self.catch_up = catch_up

    def parts(self, key: Key, view: Any, rule: Any) -> Mapping[Seat, Any] | None:
        if key in self.replaying.recorded or key[0] <= self.catch_up:
            return self.replaying.parts(key, view, rule)
        return self.room._decide(key, view, rule)


class Room:
    """A classroom room around one village (module docstring).

    Args:
        rng: The village's seed (an integer): the debrief's model run uses the same.
        regime: The village's regime.
        month_seconds: How long each decision stays open for people (the trainer's timer).
        max_participants: The most participants at once.
        actions_per_second: The most refused actions a participant may send a second, on
            average over two seconds; beyond, its actions are refused unread: a phone that
            floods the room is cut off, a person never is (accepted actions are bounded by
            the decisions: one a seat each).
        record: A directory for the session's record (None: kept in memory only).
        resume: Continue the session recorded in ``record`` (its village is rebuilt from the
            record, exactly, then the room goes on).
        clock: Seconds, monotonic (tests may pass their own).
        **overrides: Village parameters.

    Raises:
        ValueError: naming a bad argument, its value and what is allowed.
    """

    def __init__(self, rng: int = 0, regime: str | None = None, *,
                 month_seconds: float = 60.0, max_participants: int = 60,
                 actions_per_second: float = 10.0, record: str | Path | None = None,
                 resume: bool = False,
                 clock: Callable[[], float] = time.monotonic, **overrides: Any) -> None:
        if isinstance(month_seconds, bool) or not isinstance(month_seconds, int | float) \
                or not 0 < month_seconds <= 3600:
            raise ValueError(f"parameter 'month_seconds': got {month_seconds!r}; allowed: a "
                             "number of seconds above 0, at most 3600")
        if isinstance(max_participants, bool) or not isinstance(max_participants, int) \
                or not 1 <= max_participants <= 500:
            raise ValueError(f"parameter 'max_participants': got {max_participants!r}; "
                             "allowed: an integer from 1 to 500")
        if isinstance(actions_per_second, bool) \
                or not isinstance(actions_per_second, int | float) \
                or not 1 <= actions_per_second <= 1000:
            raise ValueError(f"parameter 'actions_per_second': got {actions_per_second!r}; "
                             "allowed: a number from 1 to 1000")
        recorded: dict[Key, dict[Seat, Any]] = {}
        events: list[dict[str, int | str]] = []
        catch_up = last_decision = 0
        if resume:
            if record is None:
                raise ValueError("parameter 'resume': needs 'record', the session's directory")
            previous = read_record(record)
            build = previous.build
            recorded, events, catch_up = previous.parts, previous.events, previous.completed
            last_decision = previous.last_decision
        else:
            if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
                raise ValueError(f"parameter 'rng': got {rng!r}; allowed: a non-negative "
                                 "integer seed (the debrief runs the same village)")
            build = {"rng": rng, "regime": regime, **overrides}
        self.build = build
        self.month_seconds = float(month_seconds)
        self.max_participants = max_participants
        self.actions_per_second = float(actions_per_second)
        self.clock = clock
        self._decider = _RoomDecider(self, recorded, catch_up)
        self.model = VillageModel(**build, events=events, policies=self._decider.policies())
        self._decider.model = self.model
        self._lock = threading.Condition()
        self._participants: dict[str, Participant] = {}
        self._next_participant = 0
        self._next_decision = last_decision
        self._open: OpenDecision | None = None
        self._paused_left: float | None = None
        self._opened = clock()
        self.refusals: list[dict[str, Any]] = []
        # the committee's last list decided with an amending round: what the chair proposed
        # and what the majority changed (the instructor's screen shows it)
        self.last_list: dict[str, Any] | None = None
        self.rows: list[dict[str, Any]] = []
        self.listeners: list[Callable[[], None]] = []
        """Called (from any thread) whenever what someone may see changes: a decision opens
        or closes, a part arrives, a seat changes, a month ends, the timer stops or starts."""
        self.model_lock = threading.Lock()
        """Held while the model computes; free while it waits for people (read it then)."""
        self._writer = RecordWriter(record, build, resume=resume) if record is not None \
            else None
        for _ in range(catch_up):
            self.model.step()

    # ------------------------------------------------------------------ participants
    def join(self, nickname: Any, lang: Any = "en") -> Participant:
        """A new participant (no seat yet); keep its ``token`` to act and to rejoin.

        Raises:
            ValueError: for a bad nickname or language, or a full room.
        """
        name = _nickname(nickname)
        if lang not in LANGUAGES:
            raise ValueError(f"lang: got {lang!r}; allowed: {', '.join(LANGUAGES)}")
        with self._lock:
            if len(self._participants) >= self.max_participants:
                raise Refusal("error.classroom_room_full", n=self.max_participants)
            if any(p.nickname == name for p in self._participants.values()):
                raise Refusal("error.classroom_nickname_taken", value=name)
            participant = Participant(self._next_participant, name, lang,
                                      secrets.token_urlsafe(16))
            self._next_participant += 1
            self._participants[participant.token] = participant
            return participant

    def rejoin(self, token: str) -> Participant:
        """The participant of ``token``, with its seat (a reconnecting phone).

        Raises:
            ActionRefused: for an unknown token.
        """
        with self._lock:
            return self._participant(token)

    def participants(self) -> list[Participant]:
        """Everyone in the room, in the order they joined."""
        with self._lock:
            return sorted(self._participants.values(), key=lambda p: p.id)

    def remove(self, participant_id: int) -> None:
        """The trainer removes a participant: its seat goes back to the rule."""
        with self._lock:
            for token, p in list(self._participants.items()):
                if p.id == participant_id:
                    del self._participants[token]
                    self._lock.notify_all()
                    self._changed()
                    return
        raise ValueError(f"participant: got {participant_id!r}; allowed: the id of someone in "
                         "the room")

    def assign(self, participant_id: int, seat: Seat | None) -> None:
        """Give a participant a seat (None: no seat), as the trainer does.

        Raises:
            ValueError: for an unknown participant, a seat outside the village (naming the
                seats there are) or a seat someone else holds.
        """
        if seat is not None:
            self._check_seat(seat)
        with self._lock:
            target = next((p for p in self._participants.values() if p.id == participant_id),
                          None)
            if target is None:
                raise ValueError(f"participant: got {participant_id!r}; allowed: the id of "
                                 "someone in the room")
            if seat is not None:
                for p in self._participants.values():
                    if p is target or p.seat is None or p.seat.role != seat.role:
                        continue
                    if seat.role == "household":
                        shared = sorted(set(p.seat.households) & set(seat.households))
                        if shared:
                            raise ValueError(f"households {shared} are played by "
                                             f"{p.nickname!r}; allowed: households nobody "
                                             "plays")
                    elif p.seat.index == seat.index:
                        raise ValueError(f"seat {seat.label()!r} is held by {p.nickname!r}; "
                                         "allowed: a free seat")
            target.seat = seat
        self._changed()

    def deal(self, households_each: int = 2) -> None:
        """Seat everyone without a seat, in the order they joined.

        The committee's seats first (the chair first), the team's, the auditor's, then
        households, ``households_each`` a player, drawn in an order of the room's own (not
        from the model's streams).
        """
        seats: list[Seat] = [Seat("cadre", k) for k in range(self.model.committee.cadres.size)]
        if self.model.p.team_present:
            seats += [Seat("team", j) for j in range(self.model.team.size)]
        seats.append(Seat("auditor"))
        with self._lock:
            held = {p.seat for p in self._participants.values() if p.seat is not None}
            played = {h for s in held for h in s.households}
        free = [s for s in seats if s not in held]
        order = [h for h in np.random.default_rng([int(self.build["rng"]), 13])
                 .permutation(self.model.n).tolist() if h not in played]
        for p in self.participants():
            if p.seat is not None:
                continue
            if free:
                self.assign(p.id, free.pop(0))
            elif len(order) >= households_each:
                mine, order = order[:households_each], order[households_each:]
                self.assign(p.id, Seat("household", households=tuple(sorted(mine))))

    def _check_seat(self, seat: Seat) -> None:
        m = self.model
        if seat.role == "cadre" and seat.index >= m.committee.cadres.size:
            raise ValueError(f"seat: got cadre {seat.index}; allowed: cadre 0 to "
                             f"{m.committee.cadres.size - 1} (0: the chair)")
        if seat.role == "team" and seat.index >= max(m.team.size, 1):
            raise ValueError(f"seat: got team {seat.index}; allowed: team 0 to "
                             f"{max(m.team.size, 1) - 1}")
        if seat.role == "auditor" and seat.index != 0:
            raise ValueError(f"seat: got auditor {seat.index}; allowed: auditor 0 (one "
                             "auditor)")
        stray = [h for h in seat.households if not 0 <= h < m.n]
        if stray:
            raise ValueError(f"households: got {stray}; allowed: 0 to {m.n - 1}")

    def _participant(self, token: Any) -> Participant:
        participant = self._participants.get(token) if isinstance(token, str) else None
        if participant is None:
            raise ActionRefused("error.classroom_unknown_participant")
        return participant

    # ------------------------------------------------------------------ the month
    def advance(self) -> int:
        """Run one month, waiting at each decision people hold; the month reached.

        The month's end is recorded (``advance``: the trainer's "next month"), so a replay or
        a resumed session runs as many months.
        """
        with self.model_lock:
            self.model.step()
        month = int(self.model.steps)
        self._record([self._trainer_row("advance", month, {"month": month})])
        self._changed()
        return month

    def trigger(self, kind: str) -> None:
        """An instructor event next month (recorded, so a replay has it too)."""
        event = self.model.trigger(kind)
        self._record([self._trainer_row("event", int(self.model.steps),
                                        {"kind": event.kind, "month": event.month})])

    def _trainer_row(self, decision: str, month: int, action: dict[str, Any]) -> dict[str, Any]:
        return {"decision_id": None, "month": month, "decision": decision, "occurrence": 0,
                "role": "trainer", "seat": 0, "households": "", "nickname": "",
                "seconds": self._seconds(), "observation": None, "action": action}

    def close_decision(self) -> None:
        """The trainer closes the decision under way: the rule takes the seats left."""
        with self._lock:
            if self._open is not None:
                self._open.closed = True
                self._lock.notify_all()
        self._changed()

    def pause(self) -> None:
        """Stop the timer of the decision under way (it keeps the time it had left)."""
        with self._lock:
            if self._paused_left is None:
                left = self._open.deadline - self.clock() if self._open else self.month_seconds
                self._paused_left = max(0.0, left)
        self._changed()

    def resume(self) -> None:
        """Start the timer again."""
        with self._lock:
            if self._paused_left is not None:
                if self._open is not None:
                    self._open.deadline = self.clock() + self._paused_left
                self._paused_left = None
                self._lock.notify_all()
        self._changed()

    def _decide(self, key: Key, view: Any, rule: Any) -> dict[Seat, Any] | None:
        """Open decision ``key`` for the seats held of its role and wait (module docstring).

        The committee's list is decided in two rounds, as a meeting would: the chair (seat 0)
        proposes; then the other cadres see the chair's list (the rule's, if the chair is not
        played or did not answer in time) and each sends the list it would vote for.
        """
        role = DECISIONS[key[1]]
        with self._lock:
            seats = tuple(sorted({p.seat for p in self._participants.values()
                                  if p.seat is not None and p.seat.role == role},
                                 key=lambda s: (s.index, s.households)))
        if key[1] == "diversion":
            seats = tuple(s for s in seats if s.index < np.asarray(view.risk).size)
        seats = tuple(s for s in seats if asks(key[1], view, s))
        if not seats:
            return None
        if key[1] != "proposal" or all(s.index == 0 for s in seats):
            return self._round(key, view, seats, {})
        chair = tuple(s for s in seats if s.index == 0)
        parts = self._round(key, view, chair, {}) if chair else {}
        proposed = parts[chair[0]] if chair and chair[0] in parts else \
            np.flatnonzero(np.asarray(rule, dtype=bool)).tolist()
        others = tuple(s for s in seats if s.index != 0)
        parts.update(self._round(key, view, others, {"chair_list": list(proposed)}))
        committed = np.flatnonzero(combine(key[1], view, rule, parts)).tolist()
        with self._lock:
            self.last_list = {"month": key[0], "chair": len(proposed),
                              "added": sorted(set(committed) - set(proposed)),
                              "removed": sorted(set(proposed) - set(committed))}
        return parts

    def _round(self, key: Key, view: Any, seats: tuple[Seat, ...],
               shown: dict[str, Any]) -> dict[Seat, Any]:
        """One round of decision ``key`` for ``seats``, each also seeing ``shown``.

        Opens it, waits for every part, the timer or the instructor, records the parts and
        returns them.
        """
        with self._lock:
            observations = {s: {**observe(key[1], view, s, self._context(s)), **shown}
                            for s in seats}
            self._next_decision += 1
            now = self.clock()
            deadline = now + (self._paused_left if self._paused_left is not None
                              else self.month_seconds)
            decision = OpenDecision(self._next_decision, key, view, seats, observations,
                                    deadline)
            self._open = decision
            self._lock.notify_all()
            self._changed()
        self.model_lock.release()  # the model waits: its state may be read meanwhile
        try:
            with self._lock:
                self._wait(decision)
                decision.closed = True
                self._open = None
                parts = dict(decision.parts)
                rows = [{"decision_id": decision.id, "month": key[0], "decision": key[1],
                         "occurrence": key[2], "role": s.role, "seat": s.index,
                         "households": "+".join(map(str, s.households)),
                         "nickname": decision.senders[s].nickname,
                         "seconds": decision.seconds[s], "observation": observations[s],
                         "action": parts[s]} for s in seats if s in parts]
        finally:
            self.model_lock.acquire()
        self._record(rows)
        self._changed()
        return parts

    def _wait(self, decision: OpenDecision) -> None:
        """Wait (the room's lock held) for every part, the timer, or the instructor."""
        while not decision.closed and len(decision.parts) < len(decision.seats):
            if self._paused_left is not None:
                self._lock.wait(0.5)
                continue
            left = decision.deadline - self.clock()
            if left <= 0:
                break
            self._lock.wait(min(left, 0.5))

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def _context(self, seat: Seat) -> dict[str, Any]:
        if seat.role == "cadre":
            cadres = self.model.committee.cadres
            return {"own_household": int(cadres[seat.index])
                    if seat.index < cadres.size else None}
        return {}

    def _record(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        if self._writer is not None and rows:
            self._writer.write(rows)

    def _seconds(self) -> float:
        return round(self.clock() - self._opened, 3)

    # ------------------------------------------------------------------ acting
    def pending(self, token: str) -> list[dict[str, Any]]:
        """What the participant of ``token`` may decide now, with what its seat sees.

        The decision under way, if the seat takes it and has not answered it yet.

        Raises:
            ActionRefused: for an unknown token.
        """
        with self._lock:
            p = self._participant(token)
            d = self._open
            if d is None or d.closed or p.seat not in d.seats or p.seat in d.parts:
                return []
            left = self._paused_left if self._paused_left is not None \
                else max(0.0, d.deadline - self.clock())
            return [{"id": d.id, "decision": d.decision, "month": d.key[0],
                     "seconds_left": round(left, 1), "observation": d.observations[p.seat]}]

    def act(self, token: str, decision_id: Any, payload: Any) -> None:
        """The participant of ``token`` answers decision ``decision_id`` with ``payload``.

        Raises:
            ActionRefused: with a message saying why (logged in :attr:`refusals`). A
                participant refused more than ``2 * actions_per_second`` times in two seconds
                is refused at once, unread and unlogged, until it slows down.
        """
        with self._lock:
            participant = self._participants.get(token) if isinstance(token, str) else None
            if participant is not None and self._flooding(participant):
                raise ActionRefused("error.classroom_flood",
                                    rate=f"{self.actions_per_second:g}")
            try:
                part, seat, d = self._check(participant, decision_id, payload)
            except ActionRefused as refusal:
                if participant is not None:
                    participant._sent.append(self.clock())
                self.refusals.append({
                    "seconds": self._seconds(),
                    "nickname": participant.nickname if participant else None,
                    "seat": participant.seat.label() if participant and participant.seat
                    else None, "decision_id": decision_id, "message": str(refusal)})
                raise
            assert participant is not None  # _check refuses an unknown token
            d.parts[seat] = part
            d.senders[seat] = participant
            d.seconds[seat] = self._seconds()
            self._lock.notify_all()
        self._changed()

    def _check(self, participant: Participant | None, decision_id: Any,
               payload: Any) -> tuple[Any, Seat, OpenDecision]:
        if participant is None:
            raise ActionRefused("error.classroom_unknown_participant")
        d = self._open
        if d is None or d.closed or decision_id != d.id:
            raise ActionRefused("error.classroom_not_open", value=decision_id, allowed=Phrase(
                "phrase.classroom_answer_decision", value=d.id, decision=d.decision)
                if d and not d.closed else Phrase("phrase.classroom_wait"))
        seat = participant.seat
        if seat is None:
            raise ActionRefused("error.classroom_no_seat")
        part = parse_action(d.decision, d.view, seat, payload)
        if seat not in d.seats:
            raise ActionRefused("error.classroom_not_asked", seat=seat.label())
        if seat in d.parts:
            raise ActionRefused("error.classroom_answered", seat=seat.label(), value=d.id)
        return part, seat, d

    def _flooding(self, participant: Participant) -> bool:
        """Whether ``participant`` was refused too often in the last two seconds.

        Accepted actions do not count: each seat answers each decision once, so they are
        bounded by the decisions; refused ones are not.
        """
        now = self.clock()
        sent = participant._sent
        while sent and now - sent[0] > 2.0:
            sent.popleft()
        return len(sent) >= 2.0 * self.actions_per_second

    def state_for(self, token: str) -> dict[str, Any]:
        """What the page of ``token``'s participant shows, and nothing else.

        Its seat, the month, the timer and what it may decide now (:meth:`pending`).

        Raises:
            ActionRefused: for an unknown token (a removed participant).
        """
        with self._lock:
            p = self._participant(token)
            return {"type": "state", "nickname": p.nickname, "lang": p.lang,
                    "seat": None if p.seat is None else _seat_dict(p.seat),
                    "month": int(self.model.steps), "paused": self._paused_left is not None,
                    "pending": self.pending(token)}

    def overview(self) -> dict[str, Any]:
        """What the instructor's screen shows of the room.

        The month, the timer, the decision under way (which seats answered) and everyone in
        the room with their seats.
        """
        with self._lock:
            d = self._open
            decision = None
            if d is not None and not d.closed:
                holders = {p.seat: p.nickname for p in self._participants.values()
                           if p.seat is not None}
                left = self._paused_left if self._paused_left is not None \
                    else max(0.0, d.deadline - self.clock())
                shown = next(iter(d.observations.values()), {})
                chair_list = shown.get("chair_list")
                decision = {"id": d.id, "decision": d.decision, "month": d.key[0],
                            "seconds_left": round(left, 1),
                            "chair_list": chair_list,
                            "votes": None if chair_list is None else _votes(chair_list, d.parts),
                            "seats": [{**_seat_dict(s), "nickname": holders.get(s),
                                       "answered": s in d.parts} for s in d.seats]}
            return {"month": int(self.model.steps), "paused": self._paused_left is not None,
                    "month_seconds": self.month_seconds, "decision": decision,
                    "committee": int(self.model.committee.cadres.size),
                    "team": int(self.model.team.size) if self.model.p.team_present else 0,
                    "households": int(self.model.n),
                    "participants": [
                        {"id": p.id, "nickname": p.nickname, "lang": p.lang,
                         "seat": None if p.seat is None else _seat_dict(p.seat)}
                        for p in sorted(self._participants.values(), key=lambda p: p.id)],
                    "refusals": len(self.refusals), "last_list": self.last_list}

    def wait_for_decision(self, timeout: float = 5.0) -> OpenDecision | None:
        """The decision under way, waiting up to ``timeout`` seconds for one to open."""
        end = time.monotonic() + timeout
        with self._lock:
            while self._open is None or self._open.closed:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(left)
            return self._open

    def close(self) -> None:
        """Close the record (everything written is already on disk)."""
        if self._writer is not None:
            self._writer.close()


def _votes(chair_list: list[int], parts: Mapping[Seat, Any]) -> dict[str, Any]:
    """How the cadres who answered so far vote on the chair's list.

    For each household one of them would add or drop, how many would (``[household, votes]``,
    most votes first).
    """
    chair = set(chair_list)
    add: dict[int, int] = {}
    drop = dict.fromkeys(chair, 0)
    for chosen in parts.values():
        for h in set(chosen) - chair:
            add[h] = add.get(h, 0) + 1
        for h in chair - set(chosen):
            drop[h] += 1

    def ranked(votes: dict[int, int]) -> list[list[int]]:
        return [[h, n] for h, n in sorted(votes.items(), key=lambda x: (-x[1], x[0])) if n]
    return {"answered": len(parts), "add": ranked(add), "drop": ranked(drop)}


def _seat_dict(seat: Seat) -> dict[str, Any]:
    return {"role": seat.role, "index": seat.index, "households": list(seat.households),
            "label": seat.label()}


def _nickname(value: Any) -> str:
    name = unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""
    if not 1 <= len(name) <= NICKNAME_LENGTH or any(
            unicodedata.category(c)[0] == "C" for c in name):
        raise Refusal("error.classroom_bad_nickname", value=value, n=NICKNAME_LENGTH)
    return name
