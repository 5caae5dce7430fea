"""Classroom mode in a real browser (issue 13): the instructor's screen and three phones.

Headless Chromium through Playwright (as tests/test_browser.py), every request to anything but
127.0.0.1 blocked and counted: there must be none, and no console error. The server binds
0.0.0.0 and is reached through 127.0.0.1. The instructor seats three participants who joined
with the room code in three languages, runs a month, and each phone answers what it is shown;
a phone that reloads keeps its seat; the instructor's screen shows who answered, the network
and the charts. Screenshots go to ``$ARTIFACTS_DIR`` (default ``tests/artifacts/``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from required import unavailable
from test_browser import ARTIFACTS, CHROMIUM_ARGS, find_chromium
from village_sim.classroom import Room
from village_sim.classroom_server import Debrief, Runner, bind, make_app, server_for

CODE = "BR7WSE"
KEY = "browser-test-key"
OUTSIDE = re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1[:/]).*")


@dataclass
class Classroom:
    room: Room
    base: str
    runner: Runner


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Classroom]:
    if find_chromium() is None:
        unavailable("REQUIRE_BROWSER", "browser", "no Chromium executable found",
                    "install Debian's chromium, or set CHROMIUM_PATH")
    room = Room(rng=5, regime="team_and_committee", n_households=40, month_seconds=120.0,
                record=tmp_path_factory.mktemp("browser-session"))
    sock = bind("0.0.0.0", 0)
    port = sock.getsockname()[1]
    debrief = Debrief(room)
    runner = Runner(room, debrief)
    app = make_app(room, code=CODE, instructor_key=KEY,
                   join_url=f"http://127.0.0.1:{port}/?code={CODE}", runner=runner,
                   debrief=debrief)
    server = server_for(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 10
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    yield Classroom(room, f"http://127.0.0.1:{port}", runner)
    runner.stop()
    server.should_exit = True
    thread.join(10)
    sock.close()
    room.close()


@dataclass
class Page:
    page: Any
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    received: list[Any] = field(default_factory=list)  # websocket frames, as they arrive

    def replies(self) -> list[dict[str, Any]]:
        """The server's answers to this page's actions (acknowledged or refused)."""
        frames = [json.loads(f if isinstance(f, str) else f["payload"])
                  for f in list(self.received)]
        return [m for m in frames if m["type"] in ("ack", "refused")]


def open_page(browser: Any, url: str, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    seen = Page(context.new_page())

    def block(route: Any) -> None:
        seen.blocked.append(route.request.url)
        route.abort()

    context.route(OUTSIDE, block)
    seen.page.on("websocket", lambda ws: ws.on("framereceived",
                                             lambda frame: seen.received.append(frame)))
    seen.page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    seen.page.on("pageerror", lambda err: seen.errors.append(f"page error: {err}"))
    seen.page.goto(url)
    return seen


@pytest.fixture(scope="module")
def browser(classroom: Classroom) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def answer_what_is_shown(phone: Page) -> bool:
    """Send whatever the phone shows (its default choices); whether it sent anything."""
    page = phone.page
    if page.locator("#send").count():
        page.click("#send")
        return True
    audit = page.locator("#decision button")
    if audit.count():
        audit.first.click()
        return True
    return False


def test_a_class_plays_a_month_in_the_browser(classroom: Classroom, browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    instructor = open_page(browser, f"{classroom.base}/instructor?key={KEY}", 1400, 1000)
    instructor.page.wait_for_selector(f"#room-code:has-text('{CODE}')")
    phones = []
    for name, lang in (("Lan", "vi"), ("Wei", "zh"), ("Ann", "en")):
        phone = open_page(browser, f"{classroom.base}/?code={CODE}", 390, 800)
        phone.page.select_option("#lang", lang)
        phone.page.fill("#nickname", name)
        phone.page.click("#join-button")
        phone.page.wait_for_selector("#room:not([hidden])")
        phones.append(phone)
    assert phones[0].page.locator("#who").inner_text() == "Bạn là Lan"
    # the instructor seats them: the chair, a household (two households), a team member
    rows = instructor.page.locator("#participants tr")
    rows.nth(2).wait_for()
    for k, (value, households) in enumerate((("cadre:0", ""), ("household", "3, 17"),
                                             ("team:0", ""))):
        row = rows.nth(k)
        row.locator("select").select_option(value)
        if households:
            row.locator("input").fill(households)
        row.locator("button", has_text="Assign").click()
        instructor.page.wait_for_timeout(300)
    seats = {p.nickname: p.seat.label() if p.seat else None
             for p in classroom.room.participants()}
    assert seats == {"Lan": "cadre 0", "Wei": "household 3+17", "Ann": "team 0"}
    phones[1].page.wait_for_selector("#seat:has-text('3, 17')")
    # a phone that reloads keeps its seat
    phones[1].page.reload()
    phones[1].page.wait_for_selector("#seat:has-text('3, 17')")
    # a month: each phone answers what it is shown, until the month is over
    instructor.page.click("#month-button")
    sent = 0

    def answer(phone: Page) -> int:
        """Answer what the phone shows; 1 once the server acknowledged it (0: nothing shown).

        Read from the page's websocket, not from its feedback line: the next decision can
        replace that line before a test would see it.
        """
        before = len(phone.replies())
        if not answer_what_is_shown(phone):
            return 0
        end = time.monotonic() + 10
        while len(phone.replies()) == before:
            assert time.monotonic() < end, "no answer from the server"
            phone.page.wait_for_timeout(50)  # Playwright delivers the frames meanwhile
        reply = phone.replies()[before]
        assert reply["type"] == "ack", reply
        return 1

    end = time.monotonic() + 30  # the household may ask its kin first; then the chair
    while not phones[0].page.locator("#send").count():
        assert time.monotonic() < end, "the chair was never asked for the list"
        sent += sum(answer(phone) for phone in phones[1:])
        time.sleep(0.2)
    phones[0].page.screenshot(path=str(ARTIFACTS / "classroom-phone-vi.png"))
    instructor.page.wait_for_selector("#decision li:has-text('Lan')")
    instructor.page.screenshot(path=str(ARTIFACTS / "classroom-instructor.png"),
                               full_page=True)
    boxes = phones[0].page.locator("input[type=checkbox]:not([disabled])")
    for k in range(2):
        boxes.nth(k).check()
    end = time.monotonic() + 60

    def month_over() -> bool:
        return any(r["decision"] == "advance" for r in classroom.room.rows)

    while not month_over() and time.monotonic() < end:
        sent += sum(answer(phone) for phone in phones)
        time.sleep(0.2)
    assert month_over() and classroom.room.model.steps == 1
    recorded = [r for r in classroom.room.rows if r["decision"] != "advance"]
    assert sent == len(recorded) >= 3  # the proposal, the team's visits, ...
    proposal = next(r for r in recorded if r["decision"] == "proposal")
    assert proposal["nickname"] == "Lan" and len(proposal["action"]) == 2
    assert {r["nickname"] for r in recorded} >= {"Lan", "Ann"}
    instructor.page.wait_for_selector("#month:text-is('1')")
    for image in ("network", "chart-kin_premium", "chart-poverty_headcount"):
        drawn = instructor.page.locator(f"#{image}")
        end = time.monotonic() + 30
        while not drawn.evaluate("img => img.complete && img.naturalWidth > 0"):
            assert time.monotonic() < end, f"{image} was never drawn"
            time.sleep(0.2)
    # the Chinese phone drew its text in the packaged font (no Chinese font on this machine)
    assert phones[1].page.evaluate(
        "() => [...document.fonts].some(f => f.family.includes('VillageSim') && "
        "f.status === 'loaded')")
    phones[1].page.screenshot(path=str(ARTIFACTS / "classroom-phone-zh.png"))
    for page in (instructor, *phones):
        assert page.blocked == [], page.blocked
        assert page.errors == [], page.errors


def test_a_wrong_code_in_the_browser_says_so(classroom: Classroom, browser: Any) -> None:
    phone = open_page(browser, f"{classroom.base}/", 390, 800)
    phone.page.fill("#code", "WRONG9")
    phone.page.fill("#nickname", "Mallory")
    phone.page.click("#join-button")
    phone.page.wait_for_selector("#join-error:has-text('wrong room code')")
    assert "wrong room code" in phone.page.locator("#join-error").inner_text()
    assert "Mallory" not in {p.nickname for p in classroom.room.participants()}
    assert phone.blocked == []
    assert [e for e in phone.errors if "403" not in e] == []

