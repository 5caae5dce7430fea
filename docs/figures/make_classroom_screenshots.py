"""Screenshots of classroom mode for the instructor's guide (chapter 8).

Opens a room in this process on a free loopback port (as ``village-sim classroom`` does, seed
5, 40 households), the instructor's screen and three phones in headless Chromium (Debian's
``/usr/bin/chromium`` or ``$CHROMIUM_PATH``; every request to anything but 127.0.0.1 blocked),
seats the phones (the chair, a household, a team member), plays the first year with each
phone answering what it is shown and the rule taking the seats nobody holds, turns on "Reveal
the truth" and saves:

* ``classroom_instructor_<lang>.png``: the instructor's screen at month 12;
* ``classroom_phone_<lang>.png``: the chair's phone at month 13's proposal.

Usage (from the repository root)::

    uv run python docs/figures/make_classroom_screenshots.py --lang en --out docs/figures
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from village_sim.classroom import Room
from village_sim.classroom_server import Debrief, Runner, bind, make_app, server_for

KEY = "screenshot-key"
CODE = "K7PQ2M"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str:
    """Debian's Chromium, ``$CHROMIUM_PATH``, or one on PATH."""
    for path in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium",
                 shutil.which("chromium")):
        if path and os.path.isfile(path):
            return path
    raise SystemExit("no Chromium: install Debian's chromium, or set CHROMIUM_PATH")


def main() -> None:
    """Open the room, play a year, save the two screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("en", "zh", "vi"), default="en")
    parser.add_argument("--out", default="docs/figures")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    room = Room(rng=5, regime="team_and_committee", n_households=40, month_seconds=600.0,
                record=Path(tempfile.mkdtemp()) / "session")
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    debrief = Debrief(room)
    runner = Runner(room, debrief)
    app = make_app(room, code=CODE, instructor_key=KEY, runner=runner, debrief=debrief,
                   join_url=f"http://192.168.43.20:{port}/?code={CODE}", lang=args.lang)
    server = server_for(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    outside = re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1[:/]).*")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True,
                                             args=ARGS)

        def page(width: int, height: int, url: str):  # type: ignore[no-untyped-def]
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route(outside, lambda route: route.abort())
            p = context.new_page()
            p.goto(url)
            return p

        instructor = page(1400, 1000, f"{base}/instructor?key={KEY}")
        instructor.wait_for_selector(f"#room-code:has-text('{CODE}')")
        phones = []
        for name in ("Lan", "Wei", "Ann"):
            phone = page(390, 844, f"{base}/?code={CODE}")
            phone.select_option("#lang", args.lang)
            phone.fill("#nickname", name)
            phone.click("#join-button")
            phone.wait_for_selector("#room:not([hidden])")
            phones.append(phone)
        rows = instructor.locator("#participants tr")
        rows.nth(2).wait_for()
        for k, (value, households) in enumerate((("cadre:0", ""), ("household", "3, 17"),
                                                 ("team:0", ""))):
            rows.nth(k).locator("select").select_option(value)
            if households:
                rows.nth(k).locator("input").fill(households)
            rows.nth(k).locator("button").first.click()
            instructor.wait_for_timeout(300)
        instructor.click("#year-button")

        def answer_all() -> None:
            for phone in phones:
                if phone.locator("#send").count():
                    boxes = phone.locator("input[type=checkbox]:not([disabled])")
                    for j in range(min(2, boxes.count())):
                        boxes.nth(j).check()
                    phone.click("#send")
                elif phone.locator("#decision button").count():
                    phone.locator("#decision button").first.click()

        while room.model.steps < 12 or runner.busy:
            answer_all()
            time.sleep(0.3)
        instructor.check("#reveal")
        instructor.wait_for_timeout(3000)
        instructor.evaluate("document.fonts.ready")
        instructor.screenshot(path=str(out / f"classroom_instructor_{args.lang}.png"),
                              full_page=True)
        instructor.click("#month-button")
        while not phones[0].locator("#send").count():
            for phone in phones[1:]:
                if phone.locator("#send").count():
                    phone.click("#send")
            time.sleep(0.3)
        phones[0].wait_for_timeout(500)
        phones[0].screenshot(path=str(out / f"classroom_phone_{args.lang}.png"))
        browser.close()
    room.month_seconds = 0.01  # the rest of month 13 by the rule, at once
    runner.stop()
    server.should_exit = True
    thread.join(10)
    room.close()
    print(f"wrote {out}/classroom_instructor_{args.lang}.png and "
          f"classroom_phone_{args.lang}.png")


if __name__ == "__main__":
    main()
