"""Classroom mode's core (issue 13): seats, what each sees, every action checked, the record.

What is checked: a room where nobody acts, or where seated participants never act (the
timer), is ``VillageModel`` on the same seed exactly; people's choices change the run and
the record re-makes it exactly (replay, and a session resumed after an interruption); a
household never sees another household's income; a seat may take only its role's decisions,
once, with a payload the rules allow (each refusal says why and is logged); a rejoining
participant keeps its seat; parts combine as documented whatever order they arrive in.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from classroom_helpers import choice
from cli_helpers import run_cli
from village_sim import VillageModel
from village_sim.classroom import ActionRefused, Room, Seat, export, read_record, replay
from village_sim.classroom.roles import DECISIONS, asks, combine, observe, parse_action
from village_sim.cli_common import say
from village_sim.mechanisms import policies

VILLAGE = {"regime": "team_and_committee", "n_households": 60}
SEED = 3
MONTHS = 24


def metrics(model: VillageModel) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


@pytest.fixture(scope="module")
def solo() -> pd.DataFrame:
    """The village run by the model's rules alone."""
    model = VillageModel(rng=SEED, **VILLAGE)
    for _ in range(MONTHS):
        model.step()
    return metrics(model)


# ---------------------------------------------------------------------------- bots
class Bots:
    """Participants acting on every decision they are shown, each on its own thread."""

    def __init__(self, room: Room, tokens: list[str],
                 decide: Callable[[str, dict[str, Any]], dict[str, Any]] = choice) -> None:
        self.room, self.decide = room, decide
        self.stop = threading.Event()
        self.sent: list[tuple[int, str]] = []
        self.refused: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True)
                        for t in tokens]

    def __enter__(self) -> Bots:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5)

    def _run(self, token: str) -> None:
        answered: set[int] = set()
        while not self.stop.is_set():
            for item in self.room.pending(token):
                if item["id"] in answered:
                    continue
                answered.add(item["id"])
                try:
                    self.room.act(token, item["id"], self.decide(item["decision"],
                                                                 item["observation"]))
                    self.sent.append((item["id"], token))
                except ActionRefused as refusal:  # the test then fails on room.refusals
                    self.refused.append(str(refusal))
            time.sleep(0.002)


def seated_room(n_players: int = 12, **kwargs: Any) -> tuple[Room, list[str]]:
    room = Room(rng=SEED, **{**VILLAGE, "month_seconds": 5.0, **kwargs})
    tokens = [room.join(f"p{i}").token for i in range(n_players)]
    room.deal()
    return room, tokens


# ---------------------------------------------------------------------------- the rule alone
def test_a_room_where_nobody_is_seated_is_the_model_exactly(solo: pd.DataFrame) -> None:
    room = Room(rng=SEED, month_seconds=0.05, **VILLAGE)
    for _ in range(MONTHS):
        room.advance()
    pd.testing.assert_frame_equal(metrics(room.model), solo)


def test_seats_nobody_uses_are_taken_by_the_rule_when_the_timer_ends(
        solo: pd.DataFrame) -> None:
    room, _ = seated_room(month_seconds=0.01)
    roles = {p.seat.role for p in room.participants() if p.seat is not None}
    assert roles == {"cadre", "team", "auditor", "household"}
    for _ in range(MONTHS):
        room.advance()
    pd.testing.assert_frame_equal(metrics(room.model), solo)
    assert [r["decision"] for r in room.rows] == ["advance"] * MONTHS  # no part was sent


# ---------------------------------------------------------------------------- people decide
@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Room, Path, Bots]:
    """24 months of a room whose every seat is played by a bot, recorded."""
    record = tmp_path_factory.mktemp("session")
    room, tokens = seated_room(record=record)
    with Bots(room, tokens) as bots:
        for _ in range(MONTHS):
            room.advance()
            if room.model.steps == 5:
                room.trigger("flood")
    room.close()
    return room, record, bots


def test_choices_change_the_run_and_every_part_is_recorded_once(
        played: tuple[Room, Path, Bots], solo: pd.DataFrame) -> None:
    room, record, bots = played
    ran = metrics(room.model)
    assert not ran.equals(solo)
    # every cadre played takes half the fund: the diversion the model measures shows it
    assert ran["diverted_share"].iloc[-1] > solo["diverted_share"].iloc[-1] + 0.1
    parts = [r for r in room.rows if r["decision"] in DECISIONS]
    assert {r["decision"] for r in parts} >= {"proposal", "diversion", "visits", "challenge",
                                              "complaint", "audit", "share", "accounts"}
    keys = [(r["decision_id"], r["role"], r["seat"], r["households"]) for r in parts]
    assert len(keys) == len(set(keys)) == len(bots.sent)
    assert not room.refusals
    rows = pd.read_csv(record / "decisions.csv", keep_default_na=False)
    assert len(rows) == len(room.rows)
    assert rows["decision"].value_counts()["advance"] == MONTHS
    assert set(rows["nickname"]) <= {f"p{i}" for i in range(12)} | {""}


def test_replay_of_the_record_is_the_run_exactly(played: tuple[Room, Path, Bots]) -> None:
    room, record, _ = played
    again = replay(record)
    assert again.steps == MONTHS
    pd.testing.assert_frame_equal(metrics(again), metrics(room.model))
    assert [e.kind for e in again.events_applied] == ["flood"]
    frame = pd.read_parquet(export(record))
    assert len(frame) == len(room.rows)


def test_a_resumed_session_goes_on_from_where_it_stopped(tmp_path: Path) -> None:
    room, tokens = seated_room(record=tmp_path)
    with Bots(room, tokens):
        for _ in range(10):
            room.advance()
    room.close()  # the laptop's lid closes
    resumed = Room(record=tmp_path, resume=True, month_seconds=5.0)
    assert resumed.model.steps == 10
    pd.testing.assert_frame_equal(metrics(resumed.model), metrics(room.model))
    tokens = [resumed.join(f"q{i}").token for i in range(12)]
    resumed.deal()
    with Bots(resumed, tokens):
        for _ in range(6):
            resumed.advance()
    resumed.close()
    assert read_record(tmp_path).months == 16
    pd.testing.assert_frame_equal(metrics(replay(tmp_path)), metrics(resumed.model))


def test_a_session_interrupted_within_a_month_resumes_in_that_month(tmp_path: Path) -> None:
    room, tokens = seated_room(record=tmp_path)
    with Bots(room, tokens):
        for _ in range(13):
            room.advance()
    room.close()
    # the laptop died in month 13, after its first three decisions: the record ends there
    path = tmp_path / "decisions.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    month_13 = [k for k, line in enumerate(lines) if line.split(",")[1] == "13"]
    first_ids = sorted({lines[k].split(",")[0] for k in month_13
                        if lines[k].split(",")[0] != "null"}, key=int)[:3]
    keep = [line for k, line in enumerate(lines)
            if k not in month_13 or lines[k].split(",")[0] in first_ids]
    path.write_text("".join(keep), encoding="utf-8")
    resumed = Room(record=tmp_path, resume=True, month_seconds=5.0)
    assert resumed.model.steps == 12
    tokens = [resumed.join(f"q{i}").token for i in range(12)]
    resumed.deal()
    with Bots(resumed, tokens) as bots:
        resumed.advance()
    resumed.close()
    # month 13's recorded decisions were kept, the rest asked anew, with new numbers
    asked = {r["decision_id"] for r in resumed.rows if r["decision"] != "advance"}
    assert asked and min(asked) > max(int(i) for i in first_ids) and len(bots.sent) > 0
    pd.testing.assert_frame_equal(metrics(replay(tmp_path)), metrics(resumed.model))


def test_a_record_is_not_overwritten_by_a_new_session(played: tuple[Room, Path, Bots]) -> None:
    _, record, _ = played
    with pytest.raises(ValueError, match="already holds a session"):
        Room(rng=SEED, record=record, **VILLAGE)


# ---------------------------------------------------------------------------- what each sees
def test_a_household_never_sees_another_households_income() -> None:
    model = VillageModel(rng=SEED, **VILLAGE)
    model.step()
    income = model.rng.random(model.n) * 5000 + 1000  # distinct, recognisable values
    view = policies.ComplaintView(own_income=income, listed=model.registered.copy(),
                                  trust=model.trust.copy(), eligible=np.ones(model.n, bool),
                                  poverty_line=model.p.poverty_line, complaint_rate=0.1,
                                  reference_trust=0.5)
    seat = Seat("household", households=(4, 9))
    seen = observe("complaint", view, seat)
    text = json.dumps(seen)
    assert [h["household"] for h in seen["households"]] == [4, 9]
    for h in range(model.n):
        assert (repr(float(income[h])) in text) == (h in (4, 9))
    # nor the trust of others, nor the complaint rate the model's rule uses
    assert "complaint_rate" not in text and "reference_trust" not in text


def test_what_people_saw_is_what_their_seat_may_see(played: tuple[Room, Path, Bots]) -> None:
    room, _, _ = played
    for row in room.rows:
        seen = row["observation"]
        if row["decision"] == "complaint":
            mine = {int(h) for h in row["households"].split("+")}
            assert {h["household"] for h in seen["households"]} == mine
        if row["decision"] == "diversion":  # its own perceived risk, not the others'
            assert set(seen) == {"risk", "sanction", "own_household"}
        if row["decision"] == "proposal":
            assert seen["own_household"] == int(room.model.committee.cadres[row["seat"]]) \
                or row["month"] < room.model.steps  # seats may change hands at elections


def test_a_seat_is_asked_only_for_its_roles_decisions() -> None:
    model = VillageModel(rng=SEED, **VILLAGE)
    view = policies.AuditView(month=12, reported_spent_12=1.0, audit_probability=0.1)
    with pytest.raises(ValueError, match="taken by role 'auditor', not 'household'"):
        observe("audit", view, Seat("household", households=(1,)))
    assert model.n == 60


# ---------------------------------------------------------------------------- every action checked
def open_decision(room: Room, decision: str, months: int = MONTHS) -> tuple[Any, threading.Thread]:
    """Advance ``room`` on a thread until ``decision`` opens; the decision and the thread."""
    def run() -> None:
        for _ in range(months):
            room.advance()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while time.monotonic() < end:
        d = room.wait_for_decision(0.5)
        if d is not None and d.decision == decision:
            return d, thread
        if d is not None:
            room.close_decision()
    raise AssertionError(f"{decision} never opened")


def finish(room: Room, thread: threading.Thread) -> None:
    while thread.is_alive():
        room.close_decision()
        thread.join(0.05)


def test_a_household_sending_a_cadres_action_is_refused_and_logged() -> None:
    room, tokens = seated_room(month_seconds=30.0)
    household = next(p for p in room.participants() if p.seat and p.seat.role == "household")
    cadre = next(p for p in room.participants() if p.seat == Seat("cadre", 1))
    d, thread = open_decision(room, "diversion", months=2)
    with pytest.raises(ActionRefused, match="a household may not take decision 'diversion'"):
        room.act(household.token, d.id, {"share": 1.0})
    assert room.refusals[-1]["nickname"] == household.nickname
    assert "may not take decision 'diversion'" in room.refusals[-1]["message"]
    assert room.pending(household.token) == []
    room.act(cadre.token, d.id, {"share": 0.25})
    with pytest.raises(ActionRefused, match="already answered"):
        room.act(cadre.token, d.id, {"share": 0.3})
    with pytest.raises(ActionRefused, match="unknown participant"):
        room.act("forged-token", d.id, {"share": 0.3})
    with pytest.raises(ActionRefused, match="is not open"):
        room.act(tokens[0], d.id + 7, {"share": 0.3})
    finish(room, thread)
    assert len(room.refusals) == 4
    assert [r["action"] for r in room.rows if r["decision"] == "diversion"] == [0.25]


@pytest.mark.parametrize(("decision", "payload", "message"), [
    ("diversion", {"share": 1.5}, "share: got 1.5; allowed: a number from 0 to 1"),
    ("diversion", {"share": "all"}, "share: got 'all'"),
    ("diversion", {"share": True}, "share: got True"),
    ("diversion", {"take": 0.1}, "no field 'share'"),
    ("diversion", {"share": 0.1, "x": 1}, "unknown fields ['x']"),
    ("diversion", [0.1], "allowed: an object such as {\"share\": 0.1}"),
    ("visits", {"visit": [1, 1]}, "household 1 is given twice"),
    ("visits", {"visit": [0, 60]}, "got household 60; allowed: household numbers 0 to 59"),
    ("visits", {"visit": "1,2"}, "visit: got '1,2'; allowed: a list of household numbers"),
    ("visits", {"visit": list(range(59))}, "allowed: at most the month's capacity"),
    ("audit", {"audit": "yes"}, "audit: got 'yes'; allowed: true or false"),
    ("share", {"share": [2, 5]}, "share: households [5] are not among the team's findings; "
                                 "allowed: households it measured, [1, 2]"),
    ("accounts", {"examine": [0, 3]}, "examine: got 2 accounts; allowed: at most the audit's "
                                      "budget, 1"),
    ("accounts", {"examine": [5]}, "examine: got cadre 5; allowed: cadre seats 0 to 4"),
])
def test_bad_payloads_get_a_message(decision: str, payload: Any, message: str) -> None:
    model = VillageModel(rng=SEED, **VILLAGE)
    views = {
        "diversion": policies.DiversionView(inclination=np.ones(5), risk=np.ones(5) * 0.1,
                                            sanction=2.0, detection_scale=0.1),
        "visits": policies.VisitView(
            capacity=12, pending_since=np.full(60, policies.NO_REQUEST),
            pending_purpose=np.zeros(60, np.int64), known=np.zeros(60, bool),
            last_visit=np.full(60, -10000), registered=np.zeros(60, bool), shown=None,
            kin_of_cadre=np.zeros(60, bool), poverty_line=model.p.poverty_line,
            strategy="near_line_first", bins=10),
        "audit": policies.AuditView(month=12, reported_spent_12=1.0, audit_probability=0.1),
        "share": policies.ShareView(known=np.isin(np.arange(60), [1, 2]),
                                    estimate=np.ones(60), registered=np.zeros(60, bool),
                                    poverty_line=1.0, shares=True),
        "accounts": policies.AccountsView(budget=1, times_caught=np.zeros(5, np.int64),
                                          kin_listed=np.zeros(5, np.int64)),
    }
    seat = Seat(DECISIONS[decision])
    with pytest.raises(ActionRefused) as err:
        parse_action(decision, views[decision], seat, payload)
    assert message in str(err.value)
    for lang in ("zh", "vi"):  # what a trainee reads on a Chinese or Vietnamese page
        said = say(err.value, lang)
        assert said and said != str(err.value) and "{" not in said.replace('{"', ""), said


def test_a_household_complains_only_for_its_own_households_left_off() -> None:
    view = policies.ComplaintView(own_income=np.full(6, 100.0),
                                  listed=np.array([1, 0, 0, 0, 0, 0], bool),
                                  trust=np.full(6, 0.5), eligible=np.array([1, 1, 0, 1, 1, 1],
                                                                          bool),
                                  poverty_line=3000.0, complaint_rate=0.1, reference_trust=0.5)
    seat = Seat("household", households=(0, 1, 2))
    assert parse_action("complaint", view, seat, {"complain": [1]}) == [1]
    with pytest.raises(ActionRefused, match=r"households \[4\] are not yours"):
        parse_action("complaint", view, seat, {"complain": [4]})
    with pytest.raises(ActionRefused, match=r"households \[0, 2\] are on the list or declared"):
        parse_action("complaint", view, seat, {"complain": [0, 2]})


# ---------------------------------------------------------------------------- participants
def test_a_participant_who_rejoins_keeps_its_seat() -> None:
    room, tokens = seated_room()
    before = room.rejoin(tokens[3])
    assert room.rejoin(tokens[3]) is before and before.seat == Seat("cadre", 3)
    with pytest.raises(ActionRefused, match="unknown participant"):
        room.rejoin("nope")


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.join(""), "nickname: got ''; allowed: text of 1 to 24"),
    (lambda r: r.join("x" * 25), "allowed: text of 1 to 24"),
    (lambda r: r.join("bell\a"), "printable characters"),
    (lambda r: r.join(7), "nickname: got 7"),
    (lambda r: r.join("p0"), "nickname: 'p0' is taken"),
    (lambda r: r.join("new", lang="fr"), "lang: got 'fr'; allowed: zh, vi, en"),
    (lambda r: r.assign(0, Seat("cadre", 9)), "seat: got cadre 9; allowed: cadre 0 to 4"),
    (lambda r: r.assign(1, Seat("cadre", 0)), "seat 'cadre 0' is held by 'p0'"),
    (lambda r: r.assign(0, Seat("auditor", 1)), "allowed: auditor 0"),
    (lambda r: r.assign(99, None), "participant: got 99"),
    (lambda r: r.remove(99), "participant: got 99"),
    (lambda r: Seat("mayor"), "role: got 'mayor'; allowed: cadre, team, household, auditor"),
    (lambda r: Seat("household"), "households: got none"),
    (lambda r: Seat("cadre", households=(1,)), "only a household player plays households"),
])
def test_bad_seats_and_joins_are_refused_naming_them(call: Callable[[Room], Any],
                                                     message: str) -> None:
    room, _ = seated_room(n_players=2)
    with pytest.raises(ValueError) as err:
        call(room)
    assert message in str(err.value)


def test_households_are_played_by_one_participant_at_most() -> None:
    room, _ = seated_room()
    taken = next(p for p in room.participants() if p.seat and p.seat.role == "household")
    other = room.join("late")
    h = taken.seat.households[0]
    with pytest.raises(ValueError, match=rf"households \[{h}\] are played by"):
        room.assign(other.id, Seat("household", households=(h,)))


def test_the_room_is_capped_and_a_removed_participant_leaves_its_seat_to_the_rule() -> None:
    room = Room(rng=SEED, max_participants=2, **VILLAGE)
    first = room.join("a")
    room.join("b")
    with pytest.raises(ValueError, match="the room is full"):
        room.join("c")
    room.remove(first.id)
    room.join("c")
    assert [p.nickname for p in room.participants()] == ["b", "c"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"month_seconds": 0}, "parameter 'month_seconds': got 0"),
    ({"month_seconds": "fast"}, "parameter 'month_seconds': got 'fast'"),
    ({"max_participants": 0}, "parameter 'max_participants': got 0"),
    ({"actions_per_second": 0}, "parameter 'actions_per_second': got 0"),
    ({"rng": -1}, "parameter 'rng': got -1"),
    ({"resume": True}, "parameter 'resume': needs 'record'"),
    ({"n_households": 5}, "n_households"),
])
def test_bad_room_arguments_are_refused_naming_them(kwargs: dict[str, Any],
                                                    message: str) -> None:
    with pytest.raises(ValueError) as err:
        Room(**{**VILLAGE, **kwargs})
    assert message in str(err.value)


def test_a_flood_of_actions_is_refused() -> None:
    room, _ = seated_room(actions_per_second=2)
    cadre = room.participants()[0]
    refused = []
    for _ in range(6):
        with pytest.raises(ActionRefused) as err:
            room.act(cadre.token, 0, {"share": 0.1})  # nothing is open: refused anyway
        refused.append(str(err.value))
    assert refused[:4] == [refused[0]] * 4 and "is not open" in refused[0]
    assert refused[4:] == ["too many refused actions; allowed: 2 a second"] * 2
    assert len(room.refusals) == 4  # a flood is cut off unread


def test_the_trainer_closes_a_decision_and_pause_stops_its_timer() -> None:
    room, _ = seated_room(month_seconds=1.0)
    d, thread = open_decision(room, "diversion", months=1)
    room.pause()
    time.sleep(1.5)
    assert not d.closed  # the timer stood still
    room.resume()
    room.close_decision()
    thread.join(10)
    assert d.closed and not thread.is_alive()


# ---------------------------------------------------------------------------- combining
def test_the_chair_proposes_and_the_majority_amends_within_the_quota() -> None:
    view = policies.ProposalView(estimate=np.zeros(8), fav_weight=np.zeros(8),
                                 eligible=np.ones(8, bool), quota=3, poverty_line=1.0,
                                 favoritism=0.0)
    rule = np.array([1, 1, 1, 0, 0, 0, 0, 0], bool)
    parts = {Seat("cadre", 2): [0, 5], Seat("cadre", 0): [0, 1, 2], Seat("cadre", 1): [0, 5]}
    # the chair's list; 1 and 2 struck (2 of 3 left them out), 5 added (2 of 3 chose it)
    assert np.flatnonzero(combine("proposal", view, rule, parts)).tolist() == [0, 5]
    # without the chair, the rule's list stands in for it: both cadres struck it and agree
    # on 3 and 4 (5 and 6 have one vote of two)
    parts = {Seat("cadre", 1): [3, 4, 5], Seat("cadre", 2): [3, 4, 6]}
    assert np.flatnonzero(combine("proposal", view, rule, parts)).tolist() == [3, 4]
    # an amendment that would put the list over the quota does not pass
    parts = {Seat("cadre", 0): [0, 1, 2], Seat("cadre", 1): [0, 1, 3],
             Seat("cadre", 2): [0, 2, 3]}
    assert np.flatnonzero(combine("proposal", view, rule, parts)).tolist() == [0, 1, 2]
    # order of arrival does not matter
    a = {Seat("cadre", 0): [1], Seat("cadre", 1): [2]}
    b = dict(reversed(list(a.items())))
    assert (combine("proposal", view, rule, a) == combine("proposal", view, rule, b)).all()


def test_team_members_merge_visits_and_vote_on_challenges() -> None:
    visits = policies.VisitView(
        capacity=3, pending_since=np.full(9, policies.NO_REQUEST),
        pending_purpose=np.zeros(9, np.int64), known=np.zeros(9, bool),
        last_visit=np.full(9, -10000), registered=np.zeros(9, bool), shown=None,
        kin_of_cadre=np.zeros(9, bool), poverty_line=1.0, strategy="near_line_first", bins=10)
    plan = combine("visits", visits, np.arange(3), {Seat("team", 1): [7, 2],
                                                     Seat("team", 0): [2, 5]})
    assert plan.tolist() == [2, 5, 7]
    challenge = policies.ChallengeView(
        households=np.array([4, 6, 8]), estimate=np.ones(3), registered=np.zeros(3, bool),
        purpose=np.zeros(3, np.int64), eligible=np.ones(3, bool),
        recently_exited=np.zeros(3, bool), poverty_line=1.0, cooptation=0.0)
    acts = combine("challenge", challenge, np.zeros(3, bool),
                   {Seat("team", 0): [4, 6], Seat("team", 1): [6], Seat("team", 2): []})
    assert acts.tolist() == [False, True, False]  # 4: 1 of 3; 6: 2 of 3; 8: none


def test_the_team_votes_on_what_it_tells_and_the_auditor_picks_the_accounts() -> None:
    """``share``: a finding is told where at least half of the members who answered tell it
    (never one the team does not hold); ``accounts``: the auditor's choice. What each sees:
    the team its own findings, the auditor each cadre's public record, never its takings."""
    known = np.isin(np.arange(8), [1, 3, 5])
    share = policies.ShareView(known=known, estimate=np.where(known, 900.0, np.nan),
                               registered=np.isin(np.arange(8), [3]), poverty_line=2300.0,
                               shares=True)
    told = combine("share", share, known.copy(), {Seat("team", 0): [1, 3],
                                                  Seat("team", 1): [3], Seat("team", 2): [5]})
    assert np.flatnonzero(told).tolist() == [3]  # 1 and 5: one of three; 3: two of three
    seen = observe("share", share, Seat("team", 1))
    assert [f["household"] for f in seen["findings"]] == [1, 3, 5]
    # a team asked only when its visits found something (the first review: nothing yet)
    assert asks("share", share, Seat("team", 1))
    nothing = dataclasses.replace(share, known=np.zeros(8, bool))
    assert not asks("share", nothing, Seat("team", 1))
    assert [f["registered"] for f in seen["findings"]] == [False, True, False]
    accounts = policies.AccountsView(budget=2, times_caught=np.array([0, 2, 0, 1, 0]),
                                     kin_listed=np.array([3, 0, 1, 0, 0]))
    examined = combine("accounts", accounts, np.ones(5, bool), {Seat("auditor"): [1, 3]})
    assert examined.tolist() == [False, True, False, True, False]
    seen = observe("accounts", accounts, Seat("auditor"))
    assert seen == {"budget": 2, "cadres": [
        {"seat": k, "times_caught": c, "kin_listed": n}
        for k, (c, n) in enumerate(zip([0, 2, 0, 1, 0], [3, 0, 1, 0, 0], strict=True))]}


# ---------------------------------------------------------------------------- the commands
def test_replay_command_says_whether_the_run_is_identical(played: tuple[Room, Path, Bots],
                                                          tmp_path: Path) -> None:
    room, record, _ = played
    session = tmp_path / "session"
    shutil.copytree(record, session)
    metrics(room.model).to_csv(session / "metrics.csv", index_label="month")
    code, out, err = run_cli(["replay", str(session)])
    assert code == 0, err
    assert f"replayed {MONTHS} months" in out and "identical to the session's metrics.csv" in out
    assert (session / "replay_metrics.csv").is_file()
    tampered = pd.read_csv(session / "metrics.csv", index_col="month")
    tampered.loc[MONTHS, "kin_premium"] += 0.01
    tampered.to_csv(session / "metrics.csv", index_label="month")
    code, out, _ = run_cli(["replay", str(session), "--out", str(tmp_path / "again.csv")])
    assert code == 1 and "DIFFERS" in out
    code, _, err = run_cli(["replay", str(tmp_path / "nothing")])
    assert code == 2 and "does not exist" in err and "Traceback" not in err


def test_classroom_command_refuses_bad_input_before_opening_a_room(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    for args, message in [
        (["--record", str(a_file)], "is a file"),
        (["--month-seconds", "0"], "--month-seconds"),
        (["--port", "70000"], "--port"),
        (["--max-participants", "0"], "--max-participants"),
        (["--regime", "nope"], "nope"),
        (["--set", "quota=7"], "quota"),
        (["--resume", str(tmp_path / "none")], "does not exist"),
        (["--resume", str(tmp_path), "--set", "quota=0.2"], "--resume"),
    ]:
        code, out, err = run_cli(["classroom", "--port", "0", *args])
        assert code == 2, (args, out, err)
        assert message in err and "Traceback" not in err, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # nothing left behind


def test_the_chair_proposes_first_and_the_cadres_then_amend_its_list() -> None:
    room, tokens = seated_room(n_players=3, month_seconds=30.0)  # cadres 0 (chair), 1, 2
    thread = threading.Thread(target=room.advance, daemon=True)
    thread.start()
    first = room.wait_for_decision(10)
    assert first is not None and first.decision == "proposal"
    assert first.seats == (Seat("cadre", 0),)  # the chair alone, first
    assert room.pending(tokens[1]) == []
    room.act(tokens[0], first.id, {"list": [1, 2]})
    second = room.wait_for_decision(10)
    while second is not None and second.id == first.id:
        second = room.wait_for_decision(10)
    assert second is not None and second.decision == "proposal"
    assert second.seats == (Seat("cadre", 1), Seat("cadre", 2))
    for k, token in enumerate(tokens[1:]):
        (item,) = room.pending(token)
        assert item["observation"]["chair_list"] == [1, 2]
        room.act(token, item["id"], {"list": [2, 3]})
        if k == 0:  # open until the last cadre answers: the instructor's screen shows the
            # households the cadres so far would add or drop, and how many would
            votes = room.overview()["decision"]["votes"]
            assert votes == {"answered": 1, "add": [[3, 1]], "drop": [[1, 1]]}
    finish(room, thread)
    # 1 struck (two of three left it out), 3 added (two of three chose it)
    assert np.flatnonzero(room.model.committee.proposed).tolist() == [2, 3]
    assert room.overview()["last_list"] == {"month": 1, "chair": 2, "added": [3],
                                            "removed": [1]}
    rows = [r for r in room.rows if r["decision"] == "proposal"]
    assert [(r["seat"], r["action"]) for r in rows] == [(0, [1, 2]), (1, [2, 3]), (2, [2, 3])]
    assert len({r["decision_id"] for r in rows}) == 2
