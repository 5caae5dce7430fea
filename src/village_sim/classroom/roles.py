"""Who decides what in a classroom, what each may see, and how people's choices combine.

Issue 13. Every decision of the model is a policy ``decide(observation, rng) -> action``
(:mod:`village_sim.mechanisms.policies`); in a classroom a person can take it instead of the
rule. This module is the server's side of that, and holds no network code:

* :data:`DECISIONS`: which role takes each decision.
* :func:`observe`: what one seat sees of a decision's observation, as JSON-safe data. It is
  the only way an observation reaches a person, so a role never sees what it could not know
  (a household sees its own income and the public list, never another household's income).
* :func:`parse_action`: a person's payload checked against the observation and the seat,
  refused with a message naming the field, the value and what is allowed.
* :func:`combine`: the action the model commits, from the rule's own action and the parts the
  seats sent. It depends on the parts and their seats only (never on who sent first), so a
  session's record re-simulates it exactly (:mod:`village_sim.classroom.record`).

decision (role): what a seat sends; how the parts combine

* ``proposal`` (cadre): the households to list; the chair's list (seat 0; the rule's without
  it), amended where a majority of the cadres who sent a list disagree with it, within the
  quota (the chair proposes, the majority amends; the room asks the chair first, then shows
  the other cadres its list).
* ``diversion`` (cadre): the share of the fund it takes; each seat its own, the rule's for
  the others.
* ``aid`` (cadre): how much each registered household gets this month; the chair's amounts
  (only the chair is asked), paid in proportion, so they add up to the fund.
* ``visits`` (team): households to visit; seat after seat, without repeats, up to the
  month's capacity.
* ``challenge`` (team): visited households to act on; a household is acted on when at least
  half of the members who sent a choice act on it.
* ``team_listing`` (team): the households to list; as ``proposal``, seat 0 the leader.
* ``complaint`` (household): its own households that complain; each household its own
  choice, the rule's for the others.
* ``report`` (household): households it reports to the team as wrongly listed or missed;
  added to the reports of the villagers nobody plays (the rule's).
* ``kin_request`` (household): its own households that ask kin for help this month; each
  household its own choice, the rule's (every household short of its needs asks) for the
  others.
* ``share`` (team): its findings it tells the committee at the yearly review; a finding is
  told when at least half of the members who sent a choice tell it.
* ``audit`` (auditor): audit the accounts or not.
* ``accounts`` (auditor, when an audit is held): whose accounts the audit examines, within
  its budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from village_sim.mechanisms import policies
from village_sim.refusal import Phrase, Refusal

__all__ = ["DECISIONS", "ROLES", "ActionRefused", "Seat", "asks", "combine", "observe",
           "parse_action"]

ROLES = ("cadre", "team", "household", "auditor")
"""The roles a participant can hold."""

DECISIONS: dict[str, str] = {
    "proposal": "cadre",
    "diversion": "cadre",
    "aid": "cadre",
    "visits": "team",
    "challenge": "team",
    "team_listing": "team",
    "share": "team",
    "complaint": "household",
    "report": "household",
    "kin_request": "household",
    "audit": "auditor",
    "accounts": "auditor",
}
"""Each decision of :data:`village_sim.mechanisms.policies.DEFAULT_POLICIES` and its role."""

assert set(DECISIONS) == set(policies.DEFAULT_POLICIES)


class ActionRefused(Refusal):
    """A participant's action the rules do not allow (the message says why).

    A :class:`~village_sim.refusal.Refusal`: ``str()`` is English (the log, the tests); the
    server says it in the participant's language (catalogs' ``error.classroom_*``).
    """


@dataclass(frozen=True)
class Seat:
    """A role as one participant holds it.

    ``index``: the cadre's seat on the committee (0: the chair) or the team member's place
    (0: the leader); 0 for the auditor. ``households``: the households a household player
    plays (none for the other roles).
    """

    role: str
    index: int = 0
    households: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role: got {self.role!r}; allowed: {', '.join(ROLES)}")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise ValueError(f"seat: got {self.index!r}; allowed: an integer >= 0")
        if self.role == "household" and not self.households:
            raise ValueError("households: got none; allowed: the households a household "
                             "player plays (at least one)")
        if self.role != "household" and self.households:
            raise ValueError(f"households: got {list(self.households)!r} for role "
                             f"{self.role!r}; allowed: only a household player plays "
                             "households")

    def label(self) -> str:
        """``cadre 0``, ``team 1``, ``household 12+40``, ``auditor``."""
        if self.role == "household":
            return "household " + "+".join(map(str, self.households))
        return "auditor" if self.role == "auditor" else f"{self.role} {self.index}"


# ---------------------------------------------------------------------------- observations
def _ids(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


def _number(x: Any) -> float | None:
    """A JSON number (None for NaN or infinity, which JSON cannot hold)."""
    value = float(x)
    return value if math.isfinite(value) else None


def _numbers(values: np.ndarray) -> list[float | None]:
    return [_number(x) for x in np.asarray(values, dtype=np.float64).tolist()]


def observe(decision: str, view: Any, seat: Seat,
            context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What ``seat`` sees of ``decision``'s observation ``view`` (JSON-safe).

    ``context``: what the seat knows about itself that the view does not hold:
    ``own_household`` (a cadre's own household). Households are numbered 0..n-1.

    Raises:
        ValueError: when ``seat``'s role does not take ``decision``.
    """
    role = DECISIONS.get(decision)
    if role != seat.role:
        raise ValueError(f"decision {decision!r} is taken by role {role!r}, not {seat.role!r}")
    context = context or {}
    if decision == "proposal":
        v: Any = view
        return {"estimate": _numbers(v.estimate),
                "kin_of_cadre": _ids(v.fav_weight >= 1.0),
                "friend_of_cadre": _ids((v.fav_weight > 0) & (v.fav_weight < 1.0)),
                "eligible": _ids(v.eligible), "quota": v.quota,
                "poverty_line": float(v.poverty_line),
                "own_household": context.get("own_household")}
    if decision == "team_listing":
        return {"estimate": _numbers(view.estimate),
                "shown": None if view.shown is None else _numbers(view.shown),
                "eligible": _ids(view.eligible), "quota": view.quota,
                "poverty_line": float(view.poverty_line)}
    if decision == "diversion":
        k = seat.index
        return {"risk": _number(view.risk[k]), "sanction": float(view.sanction),
                "own_household": context.get("own_household")}
    if decision == "aid":
        w = 1.0 + view.favoritism * view.fav_weight
        rule = view.fund * w / w.sum()
        return {"fund": _number(view.fund), "households": [
            {"household": int(h), "estimate": _number(e), "kin_of_cadre": bool(f >= 1.0),
             "friend_of_cadre": bool(0 < f < 1.0), "rule": _number(r)}
            for h, e, f, r in zip(view.households.tolist(), view.estimate.tolist(),
                                  view.fav_weight.tolist(), rule.tolist(), strict=True)],
            "own_household": context.get("own_household")}
    if decision == "visits":
        waiting = view.pending_since < policies.NO_REQUEST
        return {"capacity": int(view.capacity), "households": int(view.known.size),
                "requests": [{"household": h, "since": int(view.pending_since[h]),
                              "purpose": int(view.pending_purpose[h])}
                             for h in np.flatnonzero(waiting).tolist()],
                "known": _ids(view.known),
                "last_visit": {h: int(view.last_visit[h]) for h in _ids(view.last_visit >= 0)},
                "registered": _ids(view.registered),
                "shown": None if view.shown is None else _numbers(view.shown),
                "kin_of_cadre": _ids(view.kin_of_cadre),
                "poverty_line": float(view.poverty_line)}
    if decision == "challenge":
        return {"visited": [
            {"household": int(h), "estimate": _number(e), "registered": bool(r),
             "purpose": int(p), "eligible": bool(el), "recently_exited": bool(x)}
            for h, e, r, p, el, x in zip(view.households.tolist(), view.estimate.tolist(),
                                         view.registered.tolist(), view.purpose.tolist(),
                                         view.eligible.tolist(),
                                         view.recently_exited.tolist(), strict=True)],
            "poverty_line": float(view.poverty_line)}
    if decision == "report":
        # the public list and who is kin to its own households (common knowledge); never
        # who is wronged (the rule's villagers know it; a player judges for itself)
        mine = [h for h in seat.households if 0 <= h < view.listed.size]
        kin = sorted({int(k) for h in mine for k in view.kin.indices[
            view.kin.indptr[h]:view.kin.indptr[h + 1]]} - set(mine))
        return {"households": mine, "listed": _ids(view.listed), "kin": kin,
                "households_in_village": int(view.listed.size)}
    if decision == "kin_request":
        return {"households": [
            {"household": h, "income": _number(view.income[h]), "need": _number(view.need[h])}
            for h in seat.households if 0 <= h < view.income.size]}
    if decision == "complaint":
        # its own households only, and the list everyone sees at the public notice (公示)
        return {"households": [
            {"household": h, "own_income": _number(view.own_income[h]),
             "listed": bool(view.listed[h]), "eligible": bool(view.eligible[h]),
             "trust": _number(view.trust[h])} for h in seat.households
            if 0 <= h < view.listed.size],
            "listed": _ids(view.listed), "poverty_line": float(view.poverty_line)}
    if decision == "share":
        # its own findings (the team's to know) and the public list
        return {"findings": [
            {"household": h, "estimate": _number(view.estimate[h]),
             "registered": bool(view.registered[h])} for h in _ids(view.known)],
            "poverty_line": float(view.poverty_line)}
    if decision == "accounts":
        # the public record of each cadre (seat 0: the chair), never what it took
        return {"budget": int(view.budget), "cadres": [
            {"seat": k, "times_caught": int(c), "kin_listed": int(n)}
            for k, (c, n) in enumerate(zip(view.times_caught.tolist(),
                                           view.kin_listed.tolist(), strict=True))]}
    # audit
    return {"month": int(view.month), "reported_spent_12": _number(view.reported_spent_12)}


def asks(decision: str, view: Any, seat: Seat) -> bool:
    """Whether ``seat`` has anything to decide at this decision point.

    A household is asked to complain only for a household of its own left off the list (and
    eligible), to ask kin only in a month one of its households is short of its needs, and to
    report only when reports reach a team; the team is asked what to tell the committee only
    when its visits found something; every other seat of the role is always asked.
    """
    if DECISIONS.get(decision) != seat.role:
        return False
    mine = [h for h in seat.households]
    if decision == "complaint":
        return any(0 <= h < view.listed.size and not view.listed[h] and view.eligible[h]
                   for h in mine)
    if decision == "kin_request":
        return any(0 <= h < view.income.size and view.income[h] < view.need[h] for h in mine)
    if decision == "report":
        return bool(view.open)
    if decision == "share":
        return bool(view.known.any())
    if decision == "aid":
        return seat.index == 0
    return True


# ---------------------------------------------------------------------------- actions
def _household_list(name: str, value: Any, n: int) -> list[int]:
    """Distinct household numbers in [0, n), in the order given."""
    return _number_list(name, value, n, "household")


_LIST_REFUSALS = {
    "household": ("error.classroom_not_a_household_list", "error.classroom_bad_household",
                  "error.classroom_household_twice"),
    "seat": ("error.classroom_not_a_seat_list", "error.classroom_bad_seat",
             "error.classroom_seat_twice"),
}
"""What :func:`_number_list` says of a list that is not one, a bad entry, a repeated one."""


def _number_list(name: str, value: Any, n: int, what: str) -> list[int]:
    """Distinct numbers in [0, n) (``what``: ``household`` numbers or ``seat`` of cadres)."""
    not_a_list, bad, twice = _LIST_REFUSALS[what]
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ActionRefused(not_a_list, field=name, value=value)
    out: list[int] = []
    for h in value:
        if isinstance(h, bool) or not isinstance(h, int) or not 0 <= h < n:
            raise ActionRefused(bad, field=name, value=h, last=n - 1)
        if h in out:
            raise ActionRefused(twice, field=name, value=h)
        out.append(h)
    return out


def _own(name: str, value: Any, n: int, seat: Seat) -> list[int]:
    """Households of ``seat``'s own, as :func:`_household_list` reads them."""
    chosen = _household_list(name, value, n)
    stray = [h for h in chosen if h not in seat.households]
    if stray:
        raise ActionRefused("error.classroom_not_yours", field=name, value=stray,
                            allowed=list(seat.households))
    return chosen


def _field(payload: Mapping[str, Any], name: str) -> Any:
    if name not in payload:
        raise ActionRefused("error.classroom_no_field", field=name)
    extra = sorted(set(payload) - {name})
    if extra:
        raise ActionRefused("error.classroom_unknown_fields", field=name, value=extra)
    return payload[name]


def parse_action(decision: str, view: Any, seat: Seat, payload: Any) -> Any:
    """The part ``seat`` sends for ``decision``, checked (JSON-safe, as it is recorded).

    proposal, team_listing: ``{"list": [h, ...]}``; diversion: ``{"share": x}``; visits:
    ``{"visit": [h, ...]}``; challenge: ``{"act": [h, ...]}`` (visited households);
    complaint: ``{"complain": [h, ...]}`` (own households); audit: ``{"audit": true}``;
    share: ``{"share": [h, ...]}`` (the team's findings); accounts: ``{"examine": [k, ...]}``
    (cadre seats, within the budget); aid, report, kin_request: see :data:`_EXAMPLE`.

    Raises:
        ActionRefused: naming the field, the value and what is allowed.
    """
    if DECISIONS.get(decision) != seat.role:
        raise ActionRefused("error.classroom_wrong_role", role=_role(seat.role),
                            decision=decision, owner=_role(DECISIONS.get(decision)))
    if not isinstance(payload, Mapping):
        raise ActionRefused("error.classroom_not_an_object", value=payload,
                            example=_EXAMPLE[decision])
    if decision in ("proposal", "team_listing"):
        chosen = _household_list("list", _field(payload, "list"), view.eligible.size)
        not_eligible = [h for h in chosen if not view.eligible[h]]
        if not_eligible:
            raise ActionRefused("error.classroom_not_eligible", value=not_eligible)
        if view.quota is not None and len(chosen) > view.quota:
            raise ActionRefused("error.classroom_over_quota", value=len(chosen),
                                quota=view.quota)
        return sorted(chosen)
    if decision == "diversion":
        share = _field(payload, "share")
        if isinstance(share, bool) or not isinstance(share, int | float) \
                or not 0.0 <= share <= 1.0:
            raise ActionRefused("error.classroom_bad_share", value=share)
        return float(share)
    if decision == "aid":
        amounts = _field(payload, "amounts")
        n = view.households.size
        if isinstance(amounts, str | bytes) or not isinstance(amounts, Sequence) \
                or len(amounts) != n:
            raise ActionRefused("error.classroom_bad_amounts", value=amounts, n=n)
        bad = [a for a in amounts if isinstance(a, bool) or not isinstance(a, int | float)
               or not math.isfinite(a) or a < 0]
        if bad or not sum(amounts) > 0:
            raise ActionRefused("error.classroom_bad_amount", value=bad[0] if bad else amounts)
        return [float(a) for a in amounts]
    if decision == "visits":
        chosen = _household_list("visit", _field(payload, "visit"), view.known.size)
        if len(chosen) > view.capacity:
            raise ActionRefused("error.classroom_over_capacity", value=len(chosen),
                                capacity=view.capacity)
        return chosen
    if decision == "challenge":
        visited = view.households.tolist()
        chosen = _household_list("act", _field(payload, "act"), max(visited, default=-1) + 1)
        stray = [h for h in chosen if h not in visited]
        if stray:
            raise ActionRefused("error.classroom_not_visited", value=stray, allowed=visited)
        return sorted(chosen)
    if decision == "complaint":
        chosen = _own("complain", _field(payload, "complain"), view.listed.size, seat)
        barred = [h for h in chosen if view.listed[h] or not view.eligible[h]]
        if barred:
            raise ActionRefused("error.classroom_cannot_complain", value=barred)
        return sorted(chosen)
    if decision == "report":
        chosen = _household_list("report", _field(payload, "report"), view.listed.size)
        own = [h for h in chosen if h in seat.households]
        if own:
            raise ActionRefused("error.classroom_report_own", value=own)
        return sorted(chosen)
    if decision == "kin_request":
        return sorted(_own("ask", _field(payload, "ask"), view.income.size, seat))
    if decision == "share":
        chosen = _household_list("share", _field(payload, "share"), view.known.size)
        stray = [h for h in chosen if not view.known[h]]
        if stray:
            raise ActionRefused("error.classroom_not_found", value=stray,
                                allowed=_ids(view.known))
        return sorted(chosen)
    if decision == "accounts":
        m = view.times_caught.size
        chosen = _number_list("examine", _field(payload, "examine"), m, "seat")
        if len(chosen) > view.budget:
            raise ActionRefused("error.classroom_over_budget", value=len(chosen),
                                budget=view.budget)
        return sorted(chosen)
    audit = _field(payload, "audit")
    if not isinstance(audit, bool):
        raise ActionRefused("error.classroom_bad_audit", value=audit)
    return audit


_ROLE_NAMES = {"cadre": "phrase.role_cadre", "team": "phrase.role_team",
               "household": "phrase.role_household", "auditor": "phrase.role_auditor"}


def _role(role: str | None) -> Phrase | str:
    """A role's name, said in the reader's language."""
    return Phrase(_ROLE_NAMES[role]) if role in _ROLE_NAMES else str(role)


_EXAMPLE = {"proposal": '{"list": [3, 17]}', "team_listing": '{"list": [3, 17]}',
            "diversion": '{"share": 0.1}', "aid": '{"amounts": [300, 250]}',
            "visits": '{"visit": [3, 17]}',
            "challenge": '{"act": [3]}', "complaint": '{"complain": [12]}',
            "report": '{"report": [7]}', "kin_request": '{"ask": [12]}',
            "audit": '{"audit": true}', "share": '{"share": [3, 17]}',
            "accounts": '{"examine": [0, 2]}'}


# ---------------------------------------------------------------------------- combining
def _amended(base: np.ndarray, lists: Sequence[Sequence[int]], quota: int | None) -> np.ndarray:
    """``base`` amended where a majority of ``lists`` disagree with it, within ``quota``.

    Removals first; additions then in order of votes (most first, then household number)
    while the quota has room.
    """
    listed = base.copy()
    votes = np.zeros(base.size, dtype=np.int64)
    for chosen in lists:
        votes[list(chosen)] += 1
    majority = len(lists) / 2.0
    listed[base & (len(lists) - votes > majority)] = False
    add = np.flatnonzero(~base & (votes > majority))
    add = add[np.lexsort((add, -votes[add]))]
    room = add.size if quota is None else max(0, quota - int(listed.sum()))
    listed[add[:room]] = True
    return listed


def combine(decision: str, view: Any, rule: Any, parts: Mapping[Seat, Any]) -> Any:
    """The action committed: the rule's ``rule`` with the seats' ``parts`` put in.

    Depends on the parts and their seats only (module docstring), never on their order.
    """
    if not parts:
        return rule
    seats = sorted(parts, key=lambda s: (s.index, s.households))
    if decision in ("proposal", "team_listing"):
        chair = next((s for s in seats if s.index == 0), None)
        base = np.asarray(rule, dtype=bool).copy()
        if chair is not None:
            base[:] = False
            base[parts[chair]] = True
        return _amended(base, [parts[s] for s in seats], view.quota)
    if decision == "aid":  # the chair's amounts (only the chair is asked)
        chair = next((s for s in seats if s.index == 0), None)
        return rule if chair is None else np.asarray(parts[chair], dtype=np.float64)
    if decision == "diversion":
        share = np.asarray(rule, dtype=np.float64).copy()
        for s in seats:
            if s.index < share.size:
                share[s.index] = parts[s]
        return share
    if decision == "visits":
        plan: list[int] = []
        for s in seats:
            plan.extend(h for h in parts[s] if h not in plan)
        return np.asarray(plan[:view.capacity], dtype=np.int64)
    if decision == "share":  # told where at least half of the members who answered tell it
        votes = np.zeros(view.known.size, dtype=np.int64)
        for s in seats:
            votes[list(parts[s])] += 1
        return view.known & (votes * 2 >= len(seats))
    if decision == "accounts":  # one auditor
        examined = np.zeros(view.times_caught.size, dtype=bool)
        examined[list(parts[seats[0]])] = True
        return examined
    if decision == "challenge":
        visited = view.households.tolist()
        votes = np.zeros(len(visited), dtype=np.int64)
        for s in seats:
            for h in parts[s]:
                votes[visited.index(h)] += 1
        return votes * 2 >= len(seats)
    if decision in ("complaint", "kin_request"):  # each household its own choice
        mask = np.asarray(rule, dtype=bool).copy()
        for s in seats:
            mask[[h for h in s.households if 0 <= h < mask.size]] = False
            mask[list(parts[s])] = True
        return mask
    if decision == "report":
        reported = np.asarray(rule, dtype=bool).copy()
        for s in seats:
            reported[list(parts[s])] = True
        return reported
    return bool(parts[seats[0]])  # audit: one auditor
