"""The README's screenshot of the live app: docs/figures/app.png.

Starts the app's server on a free loopback port (the command ``village-sim viz`` runs), opens it
in headless Chromium (Debian's ``/usr/bin/chromium`` or ``$CHROMIUM_PATH``) with every
non-loopback request blocked, turns on side by side (committee alone | committee and team, the
same village and seed), steps 25 months, clicks a household to open the inspector, and saves
the page.

Usage (from the repository root)::

    uv run python docs/figures/make_app_screenshot.py [--out docs/figures/app.png]

With ``--lang zh --scenario team_arrives`` it first switches the page to that language and
picks that teaching scenario (its control's regime on the right), e.g. for
docs/figures/app_zh.png::

    uv run python docs/figures/make_app_screenshot.py --lang zh --scenario team_arrives \
        --out docs/figures/app_zh.png

With ``--projector WIDTHxHEIGHT`` it shows what a class sees on a projector of that size
instead: the page opened in projector mode on a scenario side by side (``--scenario``,
default ``team_leaves``), stepped to ``--months`` (default 30: after the team left), the
screen as it is (docs/figures/app_projector_1280x720.png, app_projector_1920x1080.png)::

    uv run python docs/figures/make_app_screenshot.py --projector 1280x720 \
        --out docs/figures/app_projector_1280x720.png

With ``--county`` it shows the county view instead (``?view=county``: 30 villages, 6 work teams
sent poorest first, the villages coloured by ``--metric``), stepped to ``--months`` (default 25:
just after the second deployment, its moves drawn as arrows), e.g.
docs/figures/app_county.png and app_county_zh.png::

    uv run python docs/figures/make_app_screenshot.py --county --lang zh \
        --out docs/figures/app_county_zh.png
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

from village_sim.i18n import language_names, t
from village_sim.scenario import load_scenario
from village_sim.viz.controller import Controller, Settings, scenario_settings
from village_sim.viz.server import solara_command, solara_environment

ROOT = Path(__file__).resolve().parents[2]
MONTHS = 25
PROJECTOR_MONTHS = 30
COUNTY_MONTHS = 25


def step_to(page: Any, lang: str, months: int) -> None:
    """Click Step ``months`` times, each time until the page shows the month reached."""
    for month in range(1, months + 1):
        page.get_by_role("button", name=t("app.step", lang), exact=True).click()
        page.wait_for_function(
            "m => document.querySelector(\"[data-testid='month']\").textContent === m",
            arg=t("app.month", lang, month=month))


def county(page: Any, url: str, lang: str, metric: str, months: int) -> None:
    """Open the county view with its default settings and step to ``months``."""
    page.goto(f"{url}?lang={lang}&view=county&metric={metric}")
    page.wait_for_selector("img[data-testid='county-map']")
    step_to(page, lang, months)
    time.sleep(0.5)


def projector(page: Any, url: str, lang: str, scenario: str, months: int) -> None:
    """Open the scenario side by side in projector mode and step to ``months``."""
    page.goto(f"{url}?lang={lang}&scenario={scenario}&side_by_side=1&projector=1")
    page.wait_for_selector("img[data-testid='network-1']")
    step_to(page, lang, months)
    # every picture drawn for the box it is shown in (its drawn width is its shown width)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.vs-stage img')).every(i =>
             i.complete && Math.abs(i.naturalWidth / window.devicePixelRatio - i.clientWidth)
             <= 1)""")
    time.sleep(0.5)


def main() -> int:
    """Make the screenshot; exit 1 if the page tried to reach beyond 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "figures" / "app.png"))
    parser.add_argument("--lang", default="en", choices=["en", "zh", "vi"])
    parser.add_argument("--scenario", default=None, help="a teaching scenario's id")
    parser.add_argument("--projector", default=None, metavar="WIDTHxHEIGHT",
                        help="projector mode on a screen of this size, e.g. 1280x720")
    parser.add_argument("--months", type=int, default=None,
                        help=f"months to step (default {MONTHS}; {PROJECTOR_MONTHS} with "
                             f"--projector, {COUNTY_MONTHS} with --county)")
    parser.add_argument("--county", action="store_true", help="the county view")
    parser.add_argument("--metric", default="poverty_headcount",
                        help="with --county: the metric the villages are coloured by")
    args = parser.parse_args()
    if args.projector is not None:
        try:
            width, height = (int(v) for v in args.projector.lower().split("x"))
        except ValueError:
            parser.error(f"--projector: got {args.projector!r}; allowed: WIDTHxHEIGHT, "
                         "e.g. 1280x720")
        if not (640 <= width <= 3840 and 480 <= height <= 2160):
            parser.error(f"--projector: got {args.projector!r}; allowed: 640-3840 x 480-2160")
    if args.months is not None and not 0 <= args.months <= 120:
        parser.error(f"--months: got {args.months}; allowed: 0 to 120")
    lang = args.lang
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(solara_command(port), env=solara_environment(), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    blocked: list[str] = []
    try:
        for _ in range(360):
            try:
                urllib.request.urlopen(url + "readyz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1600, "height": 2500})
            page.set_default_timeout(120_000)

            def route(r: object) -> None:
                request = r.request  # type: ignore[attr-defined]
                if urlparse(request.url).hostname not in ("127.0.0.1", "localhost"):
                    blocked.append(request.url)
                    r.abort()  # type: ignore[attr-defined]
                else:
                    r.continue_()  # type: ignore[attr-defined]

            page.route("**/*", route)
            if args.county:
                page.set_viewport_size({"width": 1600, "height": 1000})
                county(page, url, lang, args.metric,
                       COUNTY_MONTHS if args.months is None else args.months)
                page.screenshot(path=args.out)
                browser.close()
                print(f"wrote {args.out}; blocked non-loopback requests: {len(blocked)}")
                return 0 if not blocked else 1
            if args.projector is not None:
                page.set_viewport_size({"width": width, "height": height})
                projector(page, url, lang, args.scenario or "team_leaves",
                          PROJECTOR_MONTHS if args.months is None else args.months)
                page.screenshot(path=args.out)
                browser.close()
                print(f"wrote {args.out}; blocked non-loopback requests: {len(blocked)}")
                return 0 if not blocked else 1
            page.goto(url)
            page.wait_for_selector("img[data-testid='network-0']")
            settings = Settings(side_by_side=True)
            if lang != "en":
                page.get_by_role("button", name=language_names()[lang], exact=True).click()
                page.wait_for_function(
                    "text => document.querySelector(\"[data-testid='chart-title-kin_premium']\")"
                    ".textContent === text", arg=t("app.chart_kin_premium", lang))
            page.get_by_text(t("app.side_by_side", lang)).click()
            page.wait_for_selector("img[data-testid='network-1']")
            if args.scenario:
                title = load_scenario(args.scenario).text(lang).title
                page.locator(".vs-scenario-select").click()
                page.get_by_role("option", name=title, exact=True).click()
                page.wait_for_selector("[data-testid='scenario-text']")
                settings = scenario_settings(args.scenario, side_by_side=True)
            for month in range(1, MONTHS + 1):
                page.get_by_role("button", name=t("app.step", lang), exact=True).click()
                page.wait_for_function(
                    "m => document.querySelector(\"[data-testid='month']\").textContent"
                    " === m", arg=t("app.month", lang, month=month))
            # click a household the committee registered: same village in this process
            reference = Controller(settings)
            reference.step(MONTHS)
            run = reference.runs[0]
            log = run.model.decision_log()
            household = int(log.loc[(log["reason"] == "favoured: kin or friend of a cadre"),
                                    "household_id"].iloc[-1])
            width, height = run.picture.fig.size()
            x, y = run.picture.ax.transData.transform(run.layout.xy[household])
            image = page.locator("img[data-testid='network-0']")
            box = image.bounding_box()
            assert box is not None
            image.click(position={"x": x / width * box["width"],
                                  "y": (1 - y / height) * box["height"]})
            page.wait_for_selector("img[data-testid='household-chart']")
            time.sleep(1.0)
            # the story scrolled itself into view; the picture shows the page from its top
            page.mouse.move(800, 400)
            page.mouse.wheel(0, -20_000)
            time.sleep(0.5)
            page.screenshot(path=args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    print(f"wrote {args.out}; blocked non-loopback requests: {len(blocked)}")
    return 0 if not blocked else 1


if __name__ == "__main__":
    sys.exit(main())
