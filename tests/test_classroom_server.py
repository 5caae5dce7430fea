"""Classroom mode over the network (issue 13): room code, cookies, websockets, the instructor.

The server under test binds 0.0.0.0 and is reached only through 127.0.0.1. What is checked:
a wrong room code is refused and a right one sets the participant's cookie; a participant who
reconnects keeps its seat; no frame sent to a household's page holds another household's
income; bad messages get a message, never a server error, and the connection stays up; a
household sending a cadre's action is refused and logged; the instructor's screen needs its
key; a session played over websockets replays exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from classroom_helpers import choice
from village_sim.classroom import Room, replay
from village_sim.classroom_server import bind, is_loopback, make_app, room_code, server_for

VILLAGE = {"regime": "team_and_committee", "n_households": 60}
CODE = "K7PQ2M"
KEY = "instructor-key-for-tests"


@dataclass
class Served:
    room: Room
    base: str
    ws: str
    server: Any
    thread: threading.Thread
    record: Path
    sock: Any


def start(tmp_path: Path, **room_args: Any) -> Served:
    room = Room(rng=3, record=tmp_path, **{**VILLAGE, "month_seconds": 5.0, **room_args})
    sock = bind("0.0.0.0", 0)
    port = sock.getsockname()[1]
    app = make_app(room, code=CODE, instructor_key=KEY,
                   join_url=f"http://127.0.0.1:{port}/?code={CODE}")
    server = server_for(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 10
    while not server.started and time.monotonic() < end:
        time.sleep(0.02)
    assert server.started
    return Served(room, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", server,
                  thread, tmp_path, sock)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path)
    yield s
    s.room.close_decision()
    s.server.should_exit = True
    s.thread.join(10)
    s.sock.close()
    s.room.close()


def request(url: str, body: Any = None, cookie: str | None = None) -> tuple[int, Any, str]:
    """Status, JSON (or text) and the cookie set, of one HTTP request."""
    data = None if body is None else (body if isinstance(body, bytes) else
                                      json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json",
                                          **({"Cookie": cookie} if cookie else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, raw, headers = r.status, r.read(), r.headers
    except urllib.error.HTTPError as err:
        status, raw, headers = err.code, err.read(), err.headers
    set_cookie = (headers.get("Set-Cookie") or "").split(";")[0]
    try:
        return status, json.loads(raw), set_cookie
    except ValueError:
        return status, raw.decode("utf-8", "replace"), set_cookie


def join(s: Served, nickname: str, code: str = CODE, lang: str = "en") -> str:
    status, answer, cookie = request(f"{s.base}/api/join",
                                     {"code": code, "nickname": nickname, "lang": lang})
    assert status == 200, answer
    assert cookie.startswith("vs_token=")
    return cookie


def instructor(s: Served) -> str:
    status, _, cookie = request(f"{s.base}/instructor?key={KEY}")
    assert status == 200 and cookie.startswith("vs_instructor=")
    return cookie


def socket(s: Served, cookie: str) -> ClientConnection:
    return connect(s.ws, additional_headers={"Cookie": cookie}, open_timeout=10)


def frame(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


# ---------------------------------------------------------------------------- joining
def test_a_wrong_room_code_is_refused_and_the_right_one_lets_you_in(served: Served) -> None:
    for code in ("WRONG1", "", None):
        status, answer, cookie = request(f"{served.base}/api/join",
                                         {"code": code, "nickname": "x"})
        assert status == 403 and "wrong room code" in answer["error"] and not cookie
    assert served.room.participants() == []
    cookie = join(served, "mai", code=CODE.lower())  # typed in lower case: still the code
    status, me, _ = request(f"{served.base}/api/me", cookie=cookie)
    assert status == 200 and me["nickname"] == "mai" and me["seat"] is None
    status, answer, _ = request(f"{served.base}/api/me", cookie="vs_token=forged")
    assert status == 200 and answer == {"type": "none"}  # the page shows the join form


def test_guessing_the_room_code_is_cut_off(served: Served) -> None:
    for k in range(20):
        status, _, _ = request(f"{served.base}/api/join", {"code": f"GUES{k:02d}",
                                                             "nickname": f"m{k}"})
        assert status == 403
    status, answer, _ = request(f"{served.base}/api/join", {"code": CODE, "nickname": "m"})
    assert status == 429 and "too many wrong room codes" in answer["error"]
    assert served.room.participants() == []


def test_another_sites_page_cannot_open_a_participants_socket(served: Served) -> None:
    cookie = join(served, "lan")
    with pytest.raises(InvalidStatus) as refused:
        with connect(served.ws, additional_headers={"Cookie": cookie},
                     origin="http://evil.example", open_timeout=10) as ws:  # type: ignore[arg-type]
            ws.recv(timeout=5)
    assert refused.value.response.status_code == 403
    with socket(served, cookie) as ws:  # no Origin (or this server's): the page's own socket
        assert frame(ws)["type"] == "state"


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not JSON"),
    ([1, 2], "allowed: {\"code\""),
    ({"code": CODE, "nickname": ""}, "nickname: got ''"),
    ({"code": CODE, "nickname": "a", "lang": "fr"}, "lang: got 'fr'"),
])
def test_a_bad_join_gets_a_message(served: Served, body: Any, message: str) -> None:
    status, answer, _ = request(f"{served.base}/api/join", body)
    assert status == 400 and message in answer["error"]


def test_pages_are_served_from_the_package_with_no_outside_address(served: Served) -> None:
    for path in ("/", "/static/classroom.js", "/static/classroom.css",
                 "/static/instructor.js", "/static/font.ttf"):
        status, text, _ = request(served.base + path)
        assert status == 200, path
        if not path.endswith(".ttf"):
            assert "http://" not in text and "https://" not in text, path
    status, texts, _ = request(f"{served.base}/api/texts?lang=vi")
    assert status == 200 and texts["join"] == "Vào phòng" and texts["needs_code"] is True
    assert "instructor_title" not in texts  # the instructor's words are the instructor's
    assert request(f"{served.base}/static/../pyproject.toml")[0] == 404
    # the instructor's legend names the charts' two lines in their colours
    from village_sim.viz.charts import REGIME_COLORS

    css = request(f"{served.base}/static/classroom.css")[1]
    assert all(color in css for color in REGIME_COLORS)


# ---------------------------------------------------------------------------- the instructor
def test_the_instructors_screen_needs_its_key(served: Served) -> None:
    assert request(f"{served.base}/instructor")[0] == 403
    assert request(f"{served.base}/instructor?key=guess")[0] == 403
    assert request(f"{served.base}/api/instructor/overview")[0] == 403
    participant = join(served, "lan")
    assert request(f"{served.base}/api/instructor/overview", cookie=participant)[0] == 403
    cookie = instructor(served)
    status, overview, _ = request(f"{served.base}/api/instructor/overview", cookie=cookie)
    assert status == 200 and overview["code"] == CODE and overview["month"] == 0
    assert [p["nickname"] for p in overview["participants"]] == ["lan"]
    status, svg, _ = request(f"{served.base}/api/instructor/qr.svg", cookie=cookie)
    assert status == 200 and svg.startswith("<?xml") and "<svg" in svg


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.3.2.1")
    assert not is_loopback("192.168.1.5") and not is_loopback(None)
    assert not is_loopback("0.0.0.0")
    code = room_code()
    assert len(code) == 6 and not set(code) & set("01OIL")


def test_the_instructor_seats_people_and_bad_seats_get_a_message(served: Served) -> None:
    cookie = instructor(served)
    for name in ("a", "b"):
        join(served, name)
    url = f"{served.base}/api/instructor/assign"
    assert request(url, {"participant": 0, "role": "cadre", "index": 0}, cookie)[0] == 200
    status, answer, _ = request(url, {"participant": 1, "role": "cadre", "index": 0}, cookie)
    assert status == 400 and "is held by 'a'" in answer["error"]
    status, answer, _ = request(url, {"participant": "b", "role": "team"}, cookie)
    assert status == 400 and "participant: got 'b'" in answer["error"]
    status, answer, _ = request(url, {"participant": 1, "role": "mayor"}, cookie)
    assert status == 400 and "role: got 'mayor'" in answer["error"]
    status, answer, _ = request(f"{served.base}/api/instructor/control", {"action": "fly"},
                                cookie)
    assert status == 400 and "action: got 'fly'" in answer["error"]
    status, answer, _ = request(f"{served.base}/api/instructor/event", {"kind": "meteor"},
                                cookie)
    assert status == 400 and "kind: got 'meteor'" in answer["error"]
    assert request(url, {"participant": 1, "remove": True}, cookie)[0] == 200
    assert [p.nickname for p in served.room.participants()] == ["a"]


# ---------------------------------------------------------------------------- playing
@dataclass
class Player:
    cookie: str
    ws: ClientConnection
    frames: list[str] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)


def play(player: Player, stop: threading.Event) -> None:
    """Answer every decision the page is shown, keeping every frame received."""
    answered: set[int] = set()
    while not stop.is_set():
        try:
            text = player.ws.recv(timeout=0.2)
        except TimeoutError:
            continue
        except Exception:  # the connection closed at the end of the test
            return
        player.frames.append(text)
        message = json.loads(text)
        if message["type"] != "state":
            player.replies.append(message)
            continue
        for item in message["pending"]:
            if item["id"] not in answered:
                answered.add(item["id"])
                player.ws.send(json.dumps({"type": "act", "decision": item["id"],
                                           "action": choice(item["decision"],
                                                            item["observation"])}))


def test_a_session_over_websockets_is_private_checked_and_replays_exactly(
        served: Served) -> None:
    cookies = [join(served, f"p{i}") for i in range(12)]
    seat_cookie = instructor(served)
    assert request(f"{served.base}/api/instructor/control", {"action": "deal"},
                   seat_cookie)[0] == 200
    with contextlib.ExitStack() as sockets:
        players = [Player(c, sockets.enter_context(socket(served, c))) for c in cookies]
        stop = threading.Event()
        threads = [threading.Thread(target=play, args=(p, stop), daemon=True)
                   for p in players]
        for t in threads:
            t.start()
        for _ in range(13):  # a year and the next identification
            served.room.advance()
        stop.set()
        for t in threads:
            t.join(5)
    served.room.close()
    assert not served.room.refusals
    assert all(r["type"] == "ack" for p in players for r in p.replies)
    # every part the players sent was recorded, once
    parts = [r for r in served.room.rows if r["decision"] not in ("advance", "event")]
    assert len(parts) == sum(len(p.replies) for p in players) > 0
    # no household's page ever received another household's income
    households = {p.id: p.seat.households for p in served.room.participants()
                  if p.seat is not None and p.seat.role == "household"}
    incomes: dict[int, set[str]] = {}
    for row in served.room.rows:
        if row["decision"] in ("complaint", "kin_request"):
            for h in row["observation"]["households"]:
                income = h.get("own_income", h.get("income"))
                incomes.setdefault(h["household"], set()).add(json.dumps(income))
    assert incomes, "no household was asked"
    by_cookie = {p.token: p.id for p in served.room.participants()}
    for player in players:
        pid = by_cookie[player.cookie.split("=", 1)[1]]
        if pid not in households:
            continue
        mine = set(households[pid])
        for text in player.frames:
            message = json.loads(text)
            for item in message.get("pending", []):
                shown = {h if isinstance(h, int) else h["household"]
                         for h in item["observation"]["households"]}
                assert shown == mine
            for h, values in incomes.items():
                if h not in mine:
                    assert not any(f'"own_income": {v}' in text or f'"income": {v}' in text
                                   for v in values)
    # the record re-makes the run
    again = replay(served.record)
    pd.testing.assert_frame_equal(again.datacollector.get_model_vars_dataframe(),
                                  served.room.model.datacollector.get_model_vars_dataframe())


def test_bad_messages_get_a_message_and_the_connection_stays(served: Served) -> None:
    cookie = join(served, "eve")
    with socket(served, cookie) as ws:
        assert frame(ws)["type"] == "state"
        for text, message in [
            ("not json", "not JSON"),
            ("[1]", 'allowed: {"type": "act"'),
            (json.dumps({"type": "shout"}), 'allowed: {"type": "act"'),
            (json.dumps({"type": "act", "decision": 99, "action": {}}), "is not open"),
            ("x" * 20_000, "over 16384 bytes"),
        ]:
            if len(text) > 16_384:
                continue  # over the frame limit uvicorn enforces: closed, tested below
            ws.send(text)
            reply = frame(ws)
            assert reply["type"] == "refused" and message in reply["message"], reply
        ws.send(json.dumps({"type": "act", "decision": 1, "action": {"share": 0.1}}))
        assert frame(ws)["type"] == "refused"
    # a frame over the limit closes that connection, never the server
    with socket(served, cookie) as ws:
        frame(ws)
        ws.send("x" * 20_000)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # too big
    assert request(f"{served.base}/api/me", cookie=cookie)[1]["type"] == "state"


def test_refusals_are_said_in_the_participants_language(served: Served) -> None:
    """A trainee reads why an action or a join was refused in the language it chose (the
    room's log keeps English)."""
    status, answer, _ = request(f"{served.base}/api/join",
                                {"code": "WRONG1", "nickname": "x", "lang": "vi"})
    assert status == 403 and answer["error"].startswith("mã phòng sai")
    join(served, "lan", lang="zh")
    status, answer, _ = request(f"{served.base}/api/join",
                                {"code": CODE, "nickname": "lan", "lang": "zh"})
    assert status == 400 and answer["error"] == "昵称：“lan”已被使用；允许：换一个昵称"
    for nickname, lang, said in [("mai", "vi", "quyết định “99” không còn mở; cho phép: chờ "
                                              "quyết định tiếp theo"),
                                 ("wei", "zh", "决定“99”已不在进行中；允许：等待下一个决定"),
                                 ("ann", "en", "decision 99 is not open; allowed: wait for "
                                               "the next decision")]:
        with socket(served, join(served, nickname, lang=lang)) as ws:
            frame(ws)
            ws.send(json.dumps({"type": "act", "decision": 99, "action": {}}))
            reply = frame(ws)
        assert reply["type"] == "refused" and reply["message"] == said, reply
        assert reply["english"] == served.room.refusals[-1]["message"] == (
            "decision 99 is not open; allowed: wait for the next decision")


def test_a_household_sending_a_cadres_action_is_refused_and_logged(served: Served) -> None:
    cookies = [join(served, f"p{i}") for i in range(12)]
    served.room.deal()
    household = next(c for c, p in zip(cookies, served.room.participants(), strict=True)
                     if p.seat and p.seat.role == "household")
    runner = threading.Thread(target=served.room.advance, daemon=True)
    runner.start()  # month 1: households may ask kin first, then the committee proposes
    decision = served.room.wait_for_decision(10)
    while decision is not None and decision.decision != "proposal":
        served.room.close_decision()
        time.sleep(0.05)
        decision = served.room.wait_for_decision(10)
    assert decision is not None and decision.decision == "proposal"
    with socket(served, household) as ws:
        frame(ws)
        ws.send(json.dumps({"type": "act", "decision": decision.id,
                            "action": {"list": [1, 2]}}))
        reply = frame(ws)
    assert reply["type"] == "refused"
    assert "a household may not take decision 'proposal'" in reply["message"]
    assert served.room.refusals[-1]["message"] == reply["message"]
    served.room.close_decision()
    while runner.is_alive():
        served.room.close_decision()
        runner.join(0.05)


def test_a_participant_who_reconnects_keeps_its_seat(served: Served) -> None:
    cookies = [join(served, f"p{i}") for i in range(3)]
    served.room.deal()
    with socket(served, cookies[1]) as ws:
        first = frame(ws)
    with socket(served, cookies[1]) as ws:  # the phone's screen went off, and back on
        again = frame(ws)
    assert first["seat"] == again["seat"] == {"role": "cadre", "index": 1, "households": [],
                                              "label": "cadre 1"}
    # a forged cookie gets no socket
    with pytest.raises(InvalidStatus) as refused:
        with socket(served, "vs_token=forged") as ws:
            ws.recv(timeout=5)
    assert refused.value.response.status_code == 403


def test_a_removed_participant_is_told_and_loses_its_socket(served: Served) -> None:
    cookie = join(served, "gone")
    with socket(served, cookie) as ws:
        frame(ws)
        served.room.remove(served.room.participants()[0].id)
        assert frame(ws)["type"] == "removed"


# ---------------------------------------------------------------------------- a full class
def test_stopping_the_command_with_sigterm_writes_the_whole_record(tmp_path: Path) -> None:
    """``kill`` (SIGTERM), like Ctrl-C, ends the room with its Parquet and metrics written."""
    record = tmp_path / "session"
    server = subprocess.Popen(
        [sys.executable, "-m", "village_sim.cli", "classroom", "--port", "0", "--households",
         "40", "--record", str(record), "--seed", "2", "--month-seconds", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert server.stdout is not None
        banner = [server.stdout.readline() for _ in range(3)]
        assert "record:" in banner[2], banner
        base = re.search(r"(http://127\.0\.0\.1:\d+)/instructor\?key=(\S+)", banner[1])
        assert base is not None
        instructor = request(f"{base.group(1)}/instructor?key={base.group(2)}")[2]
        request(f"{base.group(1)}/api/instructor/control", {"action": "month"},
                instructor)
        deadline = time.monotonic() + 60
        while "advance" not in (record / "decisions.csv").read_text():
            assert time.monotonic() < deadline, "the month never ended"
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    finally:
        server.kill()
    assert server.returncode == 0, output
    assert "record written" in output and "(1 months)" in output, output
    assert pd.read_csv(record / "metrics.csv")["month"].tolist() == [0, 1]
    assert (record / "decisions.parquet").exists()


async def _bot(ws_url: str, cookie: str, idle: bool, acks: list[tuple[int, str]],
               done: asyncio.Event) -> None:
    """Answer every decision shown at once; an ``idle`` one never answers the public notice."""
    async with aconnect(ws_url, additional_headers={"Cookie": cookie}) as ws:
        answered: set[int] = set()
        while not done.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.2))
            except TimeoutError:
                continue
            if message["type"] == "ack":
                acks.append((message["decision"], cookie))
            if message["type"] != "state":
                continue
            for item in message["pending"]:
                if idle and item["decision"] == "complaint":
                    continue
                if item["id"] not in answered:
                    answered.add(item["id"])
                    await ws.send(json.dumps({"type": "act", "decision": item["id"],
                                              "action": choice(item["decision"],
                                                               item["observation"])}))


def test_forty_participants_play_24_months_on_the_timer(tmp_path: Path) -> None:
    """40 participants on websockets, 4 of them never answering the public notice: it closes
    on the timer, the village advances, every part is acknowledged once and recorded once,
    and the record replays."""
    s = start(tmp_path, n_households=100, month_seconds=3.0)
    try:
        cookies = [join(s, f"p{k}", lang=("zh", "vi", "en")[k % 3]) for k in range(40)]
        s.room.deal()
        seated = s.room.participants()
        idle = {p.token for p in seated if p.seat and p.seat.role == "household"}
        idle = set(sorted(idle)[:4])
        acks: list[tuple[int, str]] = []

        async def session() -> float:
            done = asyncio.Event()
            bots = [asyncio.create_task(_bot(s.ws, c, c.split("=", 1)[1] in idle, acks, done))
                    for c in cookies]
            await asyncio.sleep(0.5)
            began = time.monotonic()
            for _ in range(24):
                await asyncio.to_thread(s.room.advance)
            seconds = time.monotonic() - began
            done.set()
            await asyncio.gather(*bots)
            return seconds

        seconds = asyncio.run(session())
        s.room.close()
        assert s.room.model.steps == 24
        assert seconds < 120
        assert len(acks) == len(set(acks)) > 300
        parts = [r for r in s.room.rows if r["decision"] not in ("advance", "event")]
        assert len(parts) == len(acks)
        assert not s.room.refusals
        # the idle households' public notices closed on the timer, taken by the rule
        notices = {r["decision_id"] for r in parts if r["decision"] == "complaint"}
        assert len(notices) == 2  # months 1 and 13
        silent = {p.nickname for p in seated if p.token in idle}
        assert len(silent) == 4
        assert not silent & {r["nickname"] for r in parts if r["decision"] == "complaint"}
        again = replay(s.record)
        pd.testing.assert_frame_equal(again.datacollector.get_model_vars_dataframe(),
                                      s.room.model.datacollector.get_model_vars_dataframe())
    finally:
        s.room.close_decision()
        s.server.should_exit = True
        s.thread.join(10)
        s.sock.close()
