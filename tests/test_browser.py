"""The live app in a real browser: headless Chromium through Playwright, offline.

A module fixture starts ``solara run village_sim.app`` (the command ``village-sim viz`` runs) on
a free loopback port and stops it afterwards. Every page is loaded with each request to a
non-loopback address blocked and counted: there must be none. The server's CDN address is
pointed at a closed loopback port, so an asset missing from the local ``solara-assets`` copy
would fail loudly (a console error) instead of being fetched from the internet. Any console
error (a missing favicon aside) fails the test. Screenshots go to ``$ARTIFACTS_DIR`` (default
``tests/artifacts/``).

Without Chromium these tests skip, saying why; with ``REQUIRE_BROWSER=1`` (set by ``.ci/run``,
DESIGN §8) a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest

from required import unavailable
from village_sim.app import _packaged_cjk_font, data_url
from village_sim.i18n import language_names, t
from village_sim.viz.charts import CHARTS, KEY_CHARTS
from village_sim.viz.controller import Controller, Settings
from village_sim.viz.county import CountyController, CountySettings
from village_sim.viz.server import solara_command, solara_environment

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR") or ROOT / "tests" / "artifacts")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 90_000
CHART_IDS = [f"chart-{spec.key}" for spec in CHARTS]


def find_chromium() -> str | None:
    """A Chromium executable: $CHROMIUM_PATH, Debian's /usr/bin/chromium, or one on PATH."""
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser"),
                  shutil.which("google-chrome")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _missing_browser(reason: str) -> None:
    unavailable("REQUIRE_BROWSER", "browser", reason,
                "install Debian's chromium, or set CHROMIUM_PATH")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        _missing_browser("no Chromium executable found ($CHROMIUM_PATH, /usr/bin/chromium, "
                         "chromium on PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing_browser("the Python package playwright is not installed")
    assert path is not None
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(chromium: str) -> Iterator[str]:
    """The app's server on a free loopback port, as ``village-sim viz`` starts it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = solara_environment()
    # a CDN nobody answers: an asset missing locally must fail, never come from the internet
    env["SOLARA_ASSETS_CDN"] = "http://127.0.0.1:9/"
    env["MPLBACKEND"] = "Agg"
    log_path = ARTIFACTS / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(solara_command(port), env=env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=ROOT)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 180
        try:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the app's server exited with {process.returncode}:\n"
                                + log_path.read_text(errors="replace")[-3000:])
                try:
                    with urllib.request.urlopen(url + "readyz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("the app's server was not ready within 180 s:\n"
                                + log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    text = log_path.read_text(errors="replace")
    assert "Could not load URL" not in text, "the server tried to fetch an asset from a CDN"


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Session:
    """A page of the app, with what it tried to fetch and what it complained about."""

    page: Any
    url: str
    blocked: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    caught_on_purpose: list[str] = field(default_factory=list)

    def check(self) -> None:
        """No request left the machine; no console error (a missing favicon aside)."""
        assert self.blocked == [], f"{len(self.blocked)} non-loopback requests: {self.blocked}"
        for ws in self.websockets:
            assert urlparse(ws).hostname in LOOPBACK, ws
        assert self.errors == [], "\n".join(self.errors)

    def src(self, testid: str) -> str:
        return str(self.page.get_attribute(f"img[data-testid='{testid}']", "src"))

    def month(self) -> str:
        return self.page.inner_text("[data-testid='month']")

    def wait_month(self, month: int) -> None:
        self.page.wait_for_function(
            "m => { const e = document.querySelector(\"[data-testid='month']\");"
            " return e && e.textContent === 'month ' + m; }", arg=month, timeout=TIMEOUT_MS)

    def step(self, months: int = 1, lang: str = "en") -> None:
        for _ in range(months):
            current = int(re.findall(r"\d+", self.month())[0])
            self.page.get_by_role("button", name=t("app.step", lang), exact=True).click()
            self.page.wait_for_function(
                "m => { const e = document.querySelector(\"[data-testid='month']\");"
                " return e && e.textContent === m; }",
                arg=t("app.month", lang, month=current + 1), timeout=TIMEOUT_MS)


@contextlib.contextmanager
def open_session(server: str, browser: Any, name: str, query: str = "",
                 **options: Any) -> Iterator[Session]:
    """A page of the app in a new browser context (``options``: Playwright's).

    ``query``: the address's query (``?lang=vi&...``) the page opens at; the test then waits
    for what that view shows. Without one: the default view, its network and every chart
    drawn, at month 0.
    """
    context = browser.new_context(**{"viewport": {"width": 1600, "height": 1200}, **options})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    s = Session(page, server)

    def route(route: Any) -> None:
        url = route.request.url
        s.requested.append(url)
        host = urlparse(url).hostname
        if url.startswith(("http:", "https:", "ws:", "wss:")) and host not in LOOPBACK:
            s.blocked.append(url)
            route.abort()
        else:
            route.continue_()

    def console(message: Any) -> None:
        if message.type == "error" and "favicon" not in message.text:
            s.errors.append(f"console error: {message.text}")

    def response(resp: Any) -> None:
        if resp.status >= 400 and not resp.url.endswith("favicon.ico"):
            s.errors.append(f"HTTP {resp.status} for {resp.url}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: s.errors.append(f"page error: {error}"))
    page.on("response", response)
    page.on("websocket", lambda ws: s.websockets.append(ws.url))
    page.goto(server + query)
    if not query:
        page.wait_for_selector("img[data-testid='network-0']")
        for testid in CHART_IDS:
            page.wait_for_selector(f"img[data-testid='{testid}']")
        s.wait_month(0)
    yield s
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=True)
    with (ARTIFACTS / "requests.txt").open("a", encoding="utf-8") as log:
        log.write(f"{name}: {len(s.requested)} requests routed, "
                  f"{len(s.blocked)} non-loopback blocked (+{len(s.caught_on_purpose)} "
                  f"made on purpose by the test), websockets {s.websockets}\n")
    context.close()


@pytest.fixture
def session(server: str, browser: Any, request: pytest.FixtureRequest) -> Iterator[Session]:
    with open_session(server, browser, request.node.name) as s:
        yield s


def test_page_loads_offline(session: Session) -> None:
    page = session.page
    assert page.title().startswith("village_sim")
    assert any(urlparse(u).hostname in LOOPBACK for u in session.requested)
    assert session.websockets, "no websocket: the page is not live"
    for testid in ["network-0", *CHART_IDS]:
        assert session.src(testid).startswith("data:image/png;base64,")
        box = page.locator(f"img[data-testid='{testid}']").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, testid
    assert "Kin premium" in page.inner_text("[data-testid='metric-table']")
    if _packaged_cjk_font() is not None:
        # Chinese renders where no CJK font is installed: the packaged one, from this server
        loaded = page.evaluate(
            "async () => (await document.fonts.load(\"15px 'VillageSim CJK SC'\", "
            "'优亲厚友')).length")
        assert loaded >= 1, "the packaged CJK font was not served"
        assert any("/static/assets/VillageSimCJKSC" in u for u in session.requested)
    session.check()


def test_ten_steps_change_the_network_and_every_chart(session: Session) -> None:
    before = {testid: session.src(testid) for testid in ["network-0", *CHART_IDS]}
    session.step(10)
    assert session.month() == "month 10"
    for testid, src in before.items():
        assert session.src(testid) != src, f"{testid} did not change in 10 months"
    session.check()


def test_play_pause_and_side_by_side(session: Session) -> None:
    page = session.page
    page.get_by_text("side by side: a second regime").click()
    page.wait_for_selector("img[data-testid='network-1']")
    assert session.src("network-0") != session.src("network-1")
    header = page.inner_text("[data-testid='metric-table'] thead")
    assert t("regime_short.committee_only", "en") in header
    assert t("regime_short.team_and_committee", "en") in header
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(
        "() => { const e = document.querySelector(\"[data-testid='month']\");"
        " return e && parseInt(e.textContent.split(' ')[1]) >= 3; }", timeout=TIMEOUT_MS)
    # the rate actually played is shown while playing (the page may draw slower than asked)
    rate = page.wait_for_selector("[data-testid='rate']", timeout=TIMEOUT_MS)
    assert rate is not None and "months/s" in rate.inner_text()
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for()
    time.sleep(1.0)
    stopped = session.month()
    time.sleep(1.0)
    assert session.month() == stopped, "the village kept stepping after Pause"
    session.step(1)
    session.check()


def test_inspect_a_household_by_clicking_the_network(session: Session) -> None:
    page = session.page
    session.step(2)
    # the same settings give the same village and picture geometry in this process
    reference = Controller(Settings())
    reference.step(2)
    run = reference.runs[0]
    log = run.model.decision_log()
    household = int(log.loc[(log["proposed_by"] == "committee")
                            & (log["outcome"] == "registered"), "household_id"].iloc[0])
    width, height = run.picture.fig.size()
    x, y = run.picture.ax.transData.transform(run.layout.xy[household])
    image = page.locator("img[data-testid='network-0']")
    box = image.bounding_box()
    assert box is not None
    image.click(position={"x": x / width * box["width"], "y": (1 - y / height) * box["height"]})
    page.wait_for_selector("img[data-testid='household-chart']")
    facts = page.inner_text("[data-testid='household-facts']")
    assert "responsible helper" in facts and "registered now" in facts
    picker = page.locator(".vs-household-select input[type=text]")
    assert f"#{household} · clan" in picker.input_value()
    decisions = page.inner_text("[data-testid='household-decisions']")
    assert "registered" in decisions and "committee" in decisions
    before = session.src("household-chart")
    session.step(1)
    page.wait_for_function(
        "old => document.querySelector(\"img[data-testid='household-chart']\").src !== old",
        arg=before, timeout=TIMEOUT_MS)
    session.check()


def test_inspector_side_by_side_at_1280_shows_its_values_and_searches(
        session: Session) -> None:
    """Issue 15 item 3 on a projector: the story opens on screen, every value cell of the
    facts table is visible side by side, and the picker narrows by what is typed."""
    page = session.page
    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_text("side by side: a second regime").click()
    page.wait_for_selector("img[data-testid='network-1']")
    session.step(13)
    image = page.locator("img[data-testid='network-1']")
    box = image.bounding_box()
    assert box is not None
    reference = Controller(Settings(side_by_side=True))
    reference.step(13)
    run = reference.runs[1]
    household = int(np.flatnonzero(run.model.registered)[0])
    width, height = run.picture.fig.size()
    x, y = run.picture.ax.transData.transform(run.layout.xy[household])
    image.click(position={"x": x / width * box["width"], "y": (1 - y / height) * box["height"]})
    facts = page.locator("[data-testid='household-facts']")
    facts.wait_for()
    time.sleep(0.5)
    screen = {"x": 0, "y": 0, "width": 1280, "height": 720}
    header = facts.locator("thead th")
    assert header.count() == 3  # the fact, then one column per run
    for i in range(3):  # every column's heading and first value on screen
        assert _inside(header.nth(i).bounding_box(), screen), i
        assert _inside(facts.locator("tbody tr").first.locator("td").nth(i).bounding_box(),
                       {"x": 0, "y": -10_000, "width": 1280, "height": 20_000}), i
    top = page.locator(".vs-household-select").bounding_box()
    assert top is not None and 0 <= top["y"] < 720, "the story opened off screen"
    footer = page.locator(".vs-footer").bounding_box()  # the controls keep their fifth
    assert footer is not None and footer["width"] <= 0.22 * 1280, footer
    # search: typing narrows the list of households
    picker = page.locator(".vs-household-select input[type=text]")
    picker.click()
    picker.fill(f"#{household} ")
    item = page.locator(".v-autocomplete__content .v-list-item")
    item.first.wait_for()
    assert 1 <= item.count() <= 3 and f"#{household} ·" in item.first.inner_text()
    page.keyboard.press("Escape")
    session.check()


def test_pictures_are_sharp_on_a_2x_screen(server: str, browser: Any) -> None:
    """Issue 15 item 2: rendered picture pixels per CSS pixel at least the device pixel
    ratio (2), for the networks and every chart, side by side at 1280×720."""
    with open_session(server, browser, "pixel-ratio-2", device_scale_factor=2,
                      viewport={"width": 1280, "height": 720}) as s:
        page = s.page
        page.get_by_text("side by side: a second regime").click()
        page.wait_for_selector("img[data-testid='network-1']")
        s.step(1)
        for testid in ["network-0", "network-1", *CHART_IDS]:
            page.wait_for_function(
                "id => { const i = document.querySelector(`img[data-testid='${id}']`);"
                " return i && i.complete && i.naturalWidth >= 2 * i.clientWidth; }",
                arg=testid, timeout=TIMEOUT_MS)
            ratio = page.evaluate(
                "id => { const i = document.querySelector(`img[data-testid='${id}']`);"
                " return i.naturalWidth / i.clientWidth; }", testid)
            assert ratio >= 2.0, (testid, ratio)
        s.check()


PROJECTOR_SCREENS = [("en", 1280, 720, 1), ("en", 1920, 1080, 1), ("en", 1280, 720, 2),
                     ("vi", 1280, 720, 1), ("vi", 1920, 1080, 1)]
"""(language, width, height, pixel ratio): both sizes in both scripts, and a 2x screen."""


@pytest.mark.parametrize(("lang", "width", "height", "ratio"), PROJECTOR_SCREENS)
def test_projector_mode_shows_both_networks_and_key_charts_on_one_screen(
        server: str, browser: Any, lang: str, width: int, height: int, ratio: int) -> None:
    """Issue 15 item 2: in projector mode, a scenario side by side (its events line shown):
    both networks, the three key charts and the month label (at least 20 px) lie inside the
    viewport; every text drawn in those pictures is at least 14 px on screen and the pictures
    are sharp (image pixels per CSS pixel at least the display's ratio); the runs' titles are
    not cut; the networks' key is shown once; the mode is remembered."""
    with open_session(server, browser, f"projector-{lang}-{width}-{ratio}x",
                      f"?lang={lang}&scenario=team_leaves&side_by_side=1&projector=1",
                      viewport={"width": width, "height": height},
                      device_scale_factor=ratio) as s:
        page = s.page
        page.wait_for_selector("img[data-testid='network-1']")
        page.locator("[data-testid='events']").wait_for()
        s.step(2, lang=lang)
        pictures = ["network-0", "network-1", *(f"chart-{k}" for k in KEY_CHARTS)]
        # drawn for its box: wait until every picture is drawn at the size it is shown
        page.wait_for_function(
            """([ids, ratio]) => ids.every(id => {
                 const i = document.querySelector(`img[data-testid='${id}']`);
                 return i && i.complete && Number(i.dataset.textPx) > 0
                   && Math.abs(i.naturalWidth / ratio - i.clientWidth) <= 1; })""",
            arg=[pictures, ratio], timeout=TIMEOUT_MS)
        screen = {"x": 0, "y": 0, "width": width, "height": height}
        for testid in pictures:
            image = page.locator(f"img[data-testid='{testid}']")
            assert _inside(image.bounding_box(), screen), (testid, image.bounding_box())
            natural, shown, text = image.evaluate(
                "i => [i.naturalWidth, i.clientWidth, Number(i.dataset.textPx)]")
            assert natural / shown >= ratio - 0.01, (testid, natural, shown)  # sharp
            on_screen = text * shown / (natural / ratio)  # drawn size x how much it is shown
            assert on_screen >= 14 - 0.01, (testid, text, natural, shown)
        month = page.locator("[data-testid='month']")
        assert _inside(month.bounding_box(), screen)
        size = float(month.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert size >= 20, size
        # the runs' names and the charts' titles are the page's text: wrapped, never cut
        for testid in ["network-title-0", "network-title-1",
                       *(f"chart-title-{k}" for k in KEY_CHARTS)]:
            title = page.locator(f".vs-stage [data-testid='{testid}']")
            assert _inside(title.bounding_box(), screen), testid
            assert title.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), testid
        assert page.locator("[data-testid='network-key']").count() == 1  # one key for both
        assert _inside(page.locator("[data-testid='network-key']").bounding_box(), screen)
        assert page.locator(".vs-footer").count() == 0  # the controls collapsed to a button
        page.screenshot(path=str(ARTIFACTS / f"projector-{lang}-{width}x{height}-{ratio}x.png"))
        # remembered by this browser: the bare address opens in projector mode again
        page.goto(s.url)
        page.wait_for_selector("img[data-testid='network-0']")
        page.wait_for_function("() => document.querySelector('.vs-projector') !== null")
        page.get_by_role("button", name=t("app.settings_show", "en"), exact=True).click()
        page.locator(".vs-footer").wait_for()  # the settings come back on request
        s.check()


def test_bad_parameter_is_refused_in_the_page(session: Session) -> None:
    page = session.page
    field = page.get_by_label(t("param.favoritism", "en"), exact=True)
    field.fill("7")
    field.press("Enter")
    page.get_by_text("Favouritism in registration: “7” is not allowed. Allowed: a number from "
                     "0 to 1.").first.wait_for()
    page.get_by_role("button", name="Restart with these settings").click()
    page.locator("[data-testid='error-banner']").wait_for()
    assert "“7” is not allowed" in page.inner_text("[data-testid='error-banner']")
    session.step(1)  # still running
    session.check()


def _inside(inner: dict[str, float] | None, outer: dict[str, float] | None,
            slack: float = 0.5) -> bool:
    assert inner is not None and outer is not None
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


def test_restart_stays_on_screen_and_errors_show_by_the_toolbar_at_1280(
        session: Session) -> None:
    """Issue 15 item 4 on a projector (1280×720): seed and Restart in a sticky footer that
    fits, a refusal in a banner under the toolbar, a typed change marked until Restart."""
    page = session.page
    page.set_viewport_size({"width": 1280, "height": 720})
    time.sleep(1.0)  # the page reflows to the new width
    screen = {"x": 0, "y": 0, "width": 1280, "height": 720}
    restart = page.get_by_role("button", name="Restart with these settings")
    seed = page.get_by_label("seed", exact=True)
    page.mouse.move(640, 400)  # the page scrolls in Solara's content box, not the window
    top = page.locator("[data-testid='month']").bounding_box()
    for scrolled in (0, 500, 400):  # the top, the middle, the end of a 1,800 px page
        page.mouse.wheel(0, scrolled)
        time.sleep(0.3)
        moved = page.locator("[data-testid='month']").bounding_box()
        assert top is not None and moved is not None
        assert moved["y"] <= top["y"] - 0.9 * scrolled, "the page did not scroll"
        top = moved
        footer = page.locator(".vs-footer").bounding_box()
        assert _inside(footer, screen), (scrolled, footer)
        assert footer is not None and footer["width"] <= 0.22 * 1280, footer  # a fifth
        assert _inside(restart.bounding_box(), footer), (scrolled, restart.bounding_box())
        assert _inside(seed.bounding_box(), screen), scrolled
    # the button's label wraps inside it rather than overflowing the narrow column
    overflow = restart.evaluate("b => b.scrollWidth - b.clientWidth")
    assert overflow <= 1, f"Restart's label overflows by {overflow} px"
    field = page.get_by_label(t("param.favoritism", "en"), exact=True)
    field.fill("7")
    field.press("Enter")
    pending = page.locator("[data-testid='pending']")
    pending.wait_for()
    assert t("param.favoritism", "en") in pending.inner_text()
    restart.click()
    banner = page.locator("[data-testid='error-banner']")
    banner.wait_for()
    page.mouse.move(640, 400)
    page.mouse.wheel(0, -5000)
    time.sleep(0.3)
    # where the eye is: on the first screen, under the month and the step buttons
    box, month = banner.bounding_box(), page.locator("[data-testid='month']").bounding_box()
    assert _inside(box, screen) and box is not None and month is not None
    assert box["y"] > month["y"] and box["y"] < 400, box
    field.fill("0.5")
    field.press("Enter")
    restart.click()
    banner.wait_for(state="detached")
    assert page.locator("[data-testid='pending']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "browser-1280-footer.png"))
    session.check()


def test_address_opens_a_shared_view_and_follows_changes(server: str, browser: Any) -> None:
    """Issue 15 item 7: a link opens the same view; applied settings go to the address; the
    run's data and settings download from the page."""
    with open_session(server, browser, "address",
                      "?lang=vi&regime=committee_only&side_by_side=1&compare=team_alone"
                      "&seed=7&favoritism=0.8") as session:
        page = session.page
        page.wait_for_selector("img[data-testid='network-1']")
        assert page.locator("[data-testid='month']").inner_text() == t("app.month", "vi", month=0)
        status = page.locator("[data-testid='month']").locator("xpath=..").inner_text()
        assert t("app.status", "vi", households=300, seed=7) in status
        # the value of the address, shown as a Vietnamese reader writes it (decimal comma)
        assert page.get_by_label(t("param.favoritism", "vi"), exact=True).input_value() == "0,8"
        # back to English with the language switch: the address follows
        assert page.evaluate("document.documentElement.lang") == "vi"
        page.get_by_role("button", name="English", exact=True).click()
        page.wait_for_function("() => location.search.includes('lang=en')")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert "seed=7" in page.evaluate("location.search")
        seed = page.get_by_label("seed", exact=True)
        seed.fill("9")
        seed.press("Enter")
        page.get_by_role("button", name="Restart with these settings").click()
        page.wait_for_function("() => location.search.includes('seed=9')")
        session.step(2)
        with page.expect_download() as info:
            page.get_by_role("button", name=t("app.download_settings", "en")).click()
        download = info.value
        assert download.suggested_filename == "village_sim_seed9_month2_settings.toml"
        text = Path(download.path()).read_text(encoding="utf-8")
        assert "village-sim run --seed 9 --steps 2 --params settings.toml" in text
        assert 'regime = "committee_only"' in text and "favoritism = 0.8" in text
        with page.expect_download() as info:
            page.get_by_role("button", name=t("app.download_series", "en")).click()
        lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("run,role,regime,scenario,seed,step,")
        assert len(lines) == 1 + 2 * 3  # two runs, months 0-2
        # a link with bad entries opens anyway, and says what it left out
        page.goto(session.url + "?seed=abc&favoritism=3")
        page.locator("[data-testid='error-banner']").wait_for()
        banner = page.inner_text("[data-testid='error-banner']")
        assert "“abc”" in banner and "“3”" in banner
        session.wait_month(0)
        session.check()


def test_language_switch_translates_chart_titles_and_metric_names(session: Session) -> None:
    """English first; then Chinese, then Vietnamese: headings, table, buttons and pictures."""
    page = session.page
    heading = "[data-testid='chart-title-kin_premium']"
    table = "[data-testid='metric-table']"

    def texts(lang: str) -> tuple[str, str]:
        return t("app.chart_kin_premium", lang), t("metric.kin_premium", lang)

    title, metric = texts("en")
    assert page.inner_text(heading) == title
    assert metric in page.inner_text(table)
    assert page.get_attribute("img[data-testid='chart-kin_premium']", "alt") == title
    previous = {testid: session.src(testid) for testid in ["network-0", *CHART_IDS]}
    for lang in ("zh", "vi"):
        page.get_by_role("button", name=language_names()[lang], exact=True).click()
        title, metric = texts(lang)
        page.wait_for_function(
            "([sel, text]) => { const e = document.querySelector(sel);"
            " return e && e.textContent === text; }", arg=[heading, title], timeout=TIMEOUT_MS)
        # the table is redrawn after the headings: wait for it too (no assertion is weakened)
        page.wait_for_function(
            "([sel, text]) => { const e = document.querySelector(sel);"
            " return e && e.innerText.includes(text); }", arg=[table, metric], timeout=TIMEOUT_MS)
        assert title != texts("en")[0] and metric != texts("en")[1]
        assert metric in page.inner_text(table)
        assert texts("en")[1] not in page.inner_text(table)
        assert page.get_attribute("img[data-testid='chart-kin_premium']", "alt") == title
        page.get_by_role("button", name=t("app.step", lang), exact=True).wait_for()
        page.get_by_role("button", name=t("event.flood", lang), exact=True).wait_for()
        now = {testid: session.src(testid) for testid in previous}
        for testid, src in now.items():  # the PNGs are drawn anew in the new language
            assert src != previous[testid], (lang, testid)
        previous = now
    page.screenshot(path=str(ARTIFACTS / "browser-language-vi.png"))
    session.check()


COUNTY = CountySettings(villages="9", households="60", teams="3", rule="rotate", years="3",
                        seed="3")


def test_county_view_deploys_teams_and_a_click_opens_a_village(server: str, browser: Any) -> None:
    """Issue 11 item 6: the county view from its address; a step past the first deployment
    draws the teams on their villages (the picture is the one a controller draws for the
    same county) and logs their arrivals; a click on a village opens its network; back."""
    query = "&".join(f"{k}={v}" for k, v in COUNTY.texts().items())
    with open_session(server, browser, "county-view", "?view=county&" + query) as session:
        page = session.page
        page.wait_for_selector("img[data-testid='county-map']")
        session.wait_month(0)
        assert "No deployment yet" in page.inner_text("body")
        reference = CountyController(COUNTY)
        assert session.src("county-map") == data_url(reference.frame().png)
        session.step(1)
        reference.step(1)
        log = page.inner_text("[data-testid='county-log']")
        assert log.count("arrives") == 3 and "never had a team" in log
        # the teams' markers where the county sent them: the same picture, pixel for pixel
        assert (reference.frame().team_village >= 0).sum() == 3
        assert session.src("county-map") == data_url(reference.frame().png)
        village = int(reference.model.deployment.village[0])
        x, y = reference.picture.cell_fraction(village)
        image = page.locator("img[data-testid='county-map']")
        box = image.bounding_box()
        assert box is not None
        image.click(position={"x": x * box["width"], "y": y * box["height"]})
        page.wait_for_selector("img[data-testid='county-village-network']")
        values = page.inner_text("[data-testid='county-village-values']")
        assert f"village {village}" in values
        reference.open_village(village)
        run = reference.village_run()
        assert run is not None and run.team_state() == "active"
        assert session.src("county-village-network") == data_url(
            run.render("truth", "income", None)[0])
        session.step(1)  # the opened village steps with the county
        page.get_by_role("button", name="← " + t("app.county_back", "en")).click()
        page.wait_for_selector("img[data-testid='county-map']")
        page.screenshot(path=str(ARTIFACTS / "browser-county.png"))
        session.check()


def test_the_offline_check_would_catch_a_request(session: Session) -> None:
    """The blocking and counting are not vacuous: a request to the internet is caught."""
    session.page.evaluate("() => fetch('https://cdn.jsdelivr.net/npm/vega@5').catch(() => 0)")
    session.page.wait_for_timeout(500)
    assert session.blocked == ["https://cdn.jsdelivr.net/npm/vega@5"]
    session.caught_on_purpose, session.blocked = session.blocked, []
    session.errors = [e for e in session.errors if "cdn.jsdelivr.net" not in e
                      and "ERR_FAILED" not in e]
    session.check()
