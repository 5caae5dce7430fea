"""The classroom's web server (issue 13): participants' pages, the instructor's screen.

``village-sim classroom`` runs it on the instructor's laptop: by default on 127.0.0.1 only; with
``--host`` on the room's network, and then every participant needs the room code (shown large
on the instructor's screen, with a QR code drawn here, offline). Pages are plain HTML and
JavaScript served from the package (``classroom_pages/``; nothing from the internet), each
participant's page talks to the room over one websocket, and the instructor's screen over
HTTP.

Security for a room network:

* a room code for every join when the server listens anywhere but loopback (compared in
  constant time; 20 wrong codes a minute from one address, then refused for the minute);
* a per-participant token in an HttpOnly, SameSite=Strict cookie, so a phone that
  reconnects or reloads gets its seat back (a websocket opened by another site's page is
  refused);
* every action checked by the room (:mod:`village_sim.classroom.room`), never by the page:
  seat, decision, payload, once per seat, flood control; each websocket message at most
  :data:`MAX_MESSAGE` bytes and valid JSON, answered with a message when it is not;
* the instructor's screen and controls only from the laptop itself (a loopback client) with
  the instructor's key, printed at start;
* nothing stored but nicknames (:mod:`village_sim.classroom.record`).
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from village_sim.classroom import ActionRefused, Room, Seat
from village_sim.classroom.roles import DECISIONS, ROLES
from village_sim.cli_common import say
from village_sim.events import EVENT_KINDS
from village_sim.i18n import LANGUAGES, Catalog, check_lang
from village_sim.model import VillageModel
from village_sim.refusal import Refusal

__all__ = ["PAGE_KEYS", "Debrief", "Runner", "bind", "make_app", "room_code", "server_for"]

MAX_MESSAGE = 16_384
WRONG_CODES_A_MINUTE = 20  # from one address: then refused for the rest of the minute
TOKEN_COOKIE = "vs_token"
INSTRUCTOR_COOKIE = "vs_instructor"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector
PAGES = resources.files("village_sim") / "classroom_pages"
FONT = resources.files("village_sim") / "fonts" / "VillageSimCJKSC-Regular.ttf"
FIGURE_CHARTS = ("kin_premium", "diverted_share", "exclusion_error", "poverty_headcount")
"""The app's charts the instructor's screen shows, the class beside the rules alone."""
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self'; script-src 'self'; connect-src 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

PAGE_KEYS = (
    "classroom.title", "classroom.join", "classroom.code", "classroom.nickname",
    "classroom.language", "classroom.joined_as", "classroom.no_seat", "classroom.your_seat",
    "classroom.month", "classroom.wait", "classroom.seconds_left", "classroom.paused",
    "classroom.send", "classroom.sent", "classroom.refused", "classroom.removed",
    "classroom.reconnecting", "classroom.household", "classroom.estimate",
    "classroom.kin_of_cadre", "classroom.friend_of_cadre", "classroom.your_household",
    "classroom.eligible", "classroom.listed", "classroom.quota", "classroom.no_quota",
    "classroom.poverty_line", "classroom.chosen", "classroom.capacity",
    "classroom.requested", "classroom.registered", "classroom.known", "classroom.shown",
    "classroom.risk", "classroom.sanction", "classroom.share", "classroom.own_income",
    "classroom.trust", "classroom.complain", "classroom.act_on", "classroom.audit_yes",
    "classroom.audit_no", "classroom.reported_spent", "classroom.yuan",
    "classroom.decision_proposal", "classroom.decision_team_listing",
    "classroom.decision_diversion", "classroom.decision_visits",
    "classroom.decision_challenge", "classroom.decision_complaint",
    "classroom.decision_audit", "classroom.help_proposal", "classroom.help_team_listing",
    "classroom.help_diversion", "classroom.help_visits", "classroom.help_challenge",
    "classroom.help_complaint", "classroom.help_audit", "classroom.decision_report",
    "classroom.decision_kin_request", "classroom.help_report", "classroom.help_kin_request",
    "classroom.your_kin", "classroom.need", "classroom.income_month", "classroom.ask_kin",
    "classroom.report_tick", "classroom.decision_aid", "classroom.help_aid",
    "classroom.fund", "classroom.total", "classroom.amount", "classroom.role_cadre",
    "classroom.role_team", "classroom.role_household", "classroom.role_auditor",
    "classroom.chair", "classroom.chair_proposes", "classroom.decision_share",
    "classroom.help_share", "classroom.share_tick", "classroom.measured",
    "classroom.decision_accounts", "classroom.help_accounts", "classroom.audit_budget",
    "classroom.times_caught", "classroom.kin_listed", "classroom.cadre_seat",
    "classroom.examine_tick",
)
"""The messages the participant's page shows (``i18n`` catalogs' ``[classroom]``)."""

INSTRUCTOR_KEYS = (
    "classroom.instructor_title", "classroom.join_at", "classroom.participants",
    "classroom.deal", "classroom.remove", "classroom.pause", "classroom.resume",
    "classroom.close_decision", "classroom.next_month", "classroom.next_year",
    "classroom.auto", "classroom.stop", "classroom.event", "classroom.trigger",
    "classroom.reveal", "classroom.debrief", "classroom.decision_now", "classroom.answered",
    "classroom.waiting_for", "classroom.nobody", "classroom.seat", "classroom.assign",
    "classroom.this_class", "classroom.rules_alone", "classroom.view_truth",
    "classroom.view_committee", "classroom.refusals", "classroom.votes_so_far",
    "classroom.chair_proposed",
    "classroom.list_result",
)
"""The messages the instructor's screen shows."""


def room_code(length: int = 6) -> str:
    """A room code: ``length`` characters a projector cannot confuse (no 0/O, no 1/I/L)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address) is this machine."""
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def texts(lang: str, keys: tuple[str, ...]) -> dict[str, str]:
    """Messages ``keys`` in ``lang``, keyed by the part after ``classroom.``."""
    _ = Catalog(lang)
    return {key.split(".", 1)[1]: _(key) for key in keys}


# ---------------------------------------------------------------------------- the months
class Runner:
    """Advances the room on a thread of its own, as the instructor asks."""

    def __init__(self, room: Room, debrief: Debrief | None = None) -> None:
        self.room = room
        self.debrief = debrief
        self._cond = threading.Condition()
        self._target = int(room.model.steps)
        self._auto = False
        self._stop = False
        self._stepping = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="classroom-months",
                                        daemon=True)
        self._thread.start()

    def months(self, k: int) -> None:
        """``k`` more months after those already asked for."""
        with self._cond:
            self._target = max(self._target, int(self.room.model.steps)) + k
            self._cond.notify_all()

    def to_year_end(self) -> None:
        """The months up to the end of the year under way (12, 24, ...)."""
        with self._cond:
            now = max(self._target, int(self.room.model.steps))
            self._target = now + (12 - now % 12)
            self._cond.notify_all()

    def auto(self, on: bool) -> None:
        """Advance month after month (on), or stop after the month under way (off)."""
        with self._cond:
            self._auto = on
            if not on:  # the month under way ends; no other starts
                self._target = int(self.room.model.steps)
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """Whether a month is under way or asked for."""
        return self._auto or self._stepping or self._target > int(self.room.model.steps)

    def stop(self) -> None:
        """End the thread after the month under way (closing its decision)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self.room.close_decision()
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and not (self._auto or
                                              self._target > self.room.model.steps):
                    self._cond.wait()
                if self._stop:
                    return
                self._stepping = True
            try:
                self.room.advance()
            except Exception as err:  # the room stops; the instructor's screen says why
                self.error = f"{type(err).__name__}: {err}"
                self._auto = False
                return
            finally:
                self._stepping = False


class Debrief:
    """The same village run by the model's rules alone, kept up with the class's month.

    Same seed, same shocks, the same instructor events: what the class's choices changed.
    """

    def __init__(self, room: Room) -> None:
        self.room = room
        build = room.build
        events = [{"month": int(e.month), "kind": e.kind} for e in room.model.events]
        self.model = VillageModel(**build, events=events)
        self._lock = threading.Lock()

    def trigger(self, kind: str, month: int) -> None:
        """Mirror an instructor event (the rules-alone village is never ahead of the class)."""
        with self._lock:
            self.model.trigger(kind, month)

    def caught_up(self) -> VillageModel:
        """The rules-alone village at the class's month."""
        with self._lock:
            while self.model.steps < self.room.model.steps:
                self.model.step()
            return self.model


# ---------------------------------------------------------------------------- figures
def network_png(room: Room, view: str, lang: str) -> bytes:
    """The village's network (the app's picture): the truth, or what the committee sees."""
    from village_sim.viz.controller import Run, Side

    with room.model_lock:
        run = Run(Side(regime=room.model.p.regime, overrides={}), seed=0, lang=lang,
                  model=room.model)
        png, _counts = run.render(view, "income", None)
    return png


def charts_png(room: Room, debrief: Debrief | None, lang: str, key: str) -> bytes:
    """Chart ``key`` of the app: the class's village, and the rules-alone one beside it."""
    from village_sim.viz.charts import CHARTS, MetricChart, Series

    _ = Catalog(lang)
    spec = next(c for c in CHARTS if c.key == key)
    with room.model_lock:
        mine: dict[str, Sequence[float]] = {
            m: list(room.model.datacollector.model_vars[m]) for m in spec.metrics}
        month = int(room.model.steps)
    series = [Series(_("classroom.this_class"), mine)]
    if debrief is not None:
        rules = debrief.caught_up()
        theirs: dict[str, Sequence[float]] = {
            m: list(rules.datacollector.model_vars[m])[:month + 1] for m in spec.metrics}
        series.append(Series(_("classroom.rules_alone"), theirs))
    chart = MetricChart(spec, [s.label for s in series], width_px=460, height_px=260,
                        lang=lang)
    return chart.render(series, month)


def qr_svg(url: str) -> bytes:
    """A QR code of ``url``, drawn here (SVG)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, dark="#000",
                                    light="#fff")
    return out.getvalue()


# ---------------------------------------------------------------------------- the app
def make_app(room: Room, *, code: str | None, instructor_key: str, join_url: str,
             runner: Runner | None = None, debrief: Debrief | None = None,
             lang: str = "en") -> Starlette:
    """The room's web app.

    Args:
        room: The room.
        code: The room code every join needs (None: none, on loopback only).
        instructor_key: The key of the instructor's screen (its URL carries it once).
        join_url: The address participants open (shown and drawn as a QR code).
        runner: What advances the months (None: the instructor's controls of months do
            nothing; tests advance the room themselves).
        debrief: The rules-alone village (None: no debrief).
        lang: The instructor screen's first language.
    """
    lang = check_lang(lang)
    listeners: set[Callable[[], None]] = set()
    wrong_codes: dict[str, list[float]] = {}  # client address -> times of wrong codes

    def changed() -> None:
        for listener in list(listeners):
            listener()

    room.listeners.append(changed)

    def page(name: str) -> Response:
        path = Path(str(PAGES / name))
        kind = "text/html" if name.endswith(".html") else \
            "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(path, media_type=kind, headers=SECURITY_HEADERS)

    async def participant_page(request: Request) -> Response:
        return page("participant.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "font.ttf":
            return FileResponse(Path(str(FONT)), media_type="font/ttf",
                                headers={"Cache-Control": "max-age=86400"})
        if name not in ("common.js", "classroom.js", "instructor.js", "classroom.css"):
            return JSONResponse({"error": "not found"}, status_code=404)
        return page(name)

    async def page_texts(request: Request) -> Response:
        asked = request.query_params.get("lang", "en")
        if asked not in ("zh", "vi", "en"):
            return JSONResponse({"error": f"lang: got {asked!r}; allowed: zh, vi, en"},
                                status_code=400)
        keys = PAGE_KEYS + (INSTRUCTOR_KEYS if instructor(request) else ())
        out = texts(asked, keys)
        if instructor(request):
            from village_sim.viz.charts import chart_title

            out.update({f"event_{kind}": Catalog(asked).event(kind) for kind in EVENT_KINDS})
            out.update({f"chart_{key}": chart_title(key, asked) for key in FIGURE_CHARTS})
        out["needs_code"] = code is not None  # type: ignore[assignment]
        return JSONResponse(out, headers=SECURITY_HEADERS)

    async def join(request: Request) -> Response:
        try:
            body = json.loads((await request.body())[:MAX_MESSAGE] or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"error": "the request is not JSON; allowed: "
                                 '{"code": ..., "nickname": ..., "lang": ...}'},
                                status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": 'allowed: {"code": ..., "nickname": ..., '
                                 '"lang": ...}'}, status_code=400)
        lang = body.get("lang") if body.get("lang") in LANGUAGES else None
        if code is not None:
            client = request.client.host if request.client else ""
            now = time.monotonic()
            tries = [t for t in wrong_codes.get(client, []) if now - t < 60.0]
            wrong_codes[client] = tries
            if len(tries) >= WRONG_CODES_A_MINUTE:
                return JSONResponse({"error": say(Refusal(
                    "error.classroom_too_many_codes", n=WRONG_CODES_A_MINUTE), lang)},
                    status_code=429)
            given = body.get("code")
            if not isinstance(given, str) or not secrets.compare_digest(
                    given.strip().upper().encode(), code.encode()):
                tries.append(now)
                return JSONResponse({"error": say(Refusal("error.classroom_wrong_code"), lang)},
                                    status_code=403)
        try:
            participant = room.join(body.get("nickname"), body.get("lang", "en"))
        except ValueError as err:  # said in the language chosen on the join form
            return JSONResponse({"error": say(err, lang)}, status_code=400)
        response = JSONResponse({"nickname": participant.nickname, "lang": participant.lang})
        response.set_cookie(TOKEN_COOKIE, participant.token, httponly=True, samesite="strict",
                            max_age=12 * 3600)
        return response

    async def me(request: Request) -> Response:
        token = request.cookies.get(TOKEN_COOKIE)
        try:
            return JSONResponse(room.state_for(token or ""), headers=SECURITY_HEADERS)
        except ActionRefused:  # not (or no longer) in the room: the page shows the join form
            return JSONResponse({"type": "none"}, headers=SECURITY_HEADERS)

    async def participant_socket(ws: WebSocket) -> None:
        origin = ws.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=4403, reason="another site's page may not join the room")
            return
        token = ws.cookies.get(TOKEN_COOKIE) or ""
        try:
            room.rejoin(token)
        except ActionRefused:
            await ws.close(code=4401, reason="join the room first")
            return
        await ws.accept()
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def listener() -> None:
            loop.call_soon_threadsafe(wake.set)

        listeners.add(listener)
        sender = asyncio.create_task(_push_state(ws, room, token, wake))
        try:
            while True:
                text = await ws.receive_text()
                reply = _answer(room, token, text)
                await ws.send_json(reply)
                if reply.get("type") == "removed":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            listeners.discard(listener)
            sender.cancel()

    # ------------------------------------------------------------------ the instructor
    def instructor(request: Request) -> bool:
        client = request.client.host if request.client else None
        key = request.cookies.get(INSTRUCTOR_COOKIE, "")
        return is_loopback(client) and secrets.compare_digest(key.encode(),
                                                              instructor_key.encode())

    def guarded(handler: Callable[[Request], Awaitable[Response]]
                ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            if not instructor(request):
                return JSONResponse({"error": "the instructor's screen only (on the "
                                     "instructor's laptop, with its key)"}, status_code=403)
            return await handler(request)
        return wrapped

    async def instructor_page(request: Request) -> Response:
        client = request.client.host if request.client else None
        key = request.query_params.get("key", "")
        if not is_loopback(client) or not secrets.compare_digest(
                key.encode(), instructor_key.encode()):
            if instructor(request):
                return page("instructor.html")
            return JSONResponse({"error": "the instructor's screen only (on the instructor's "
                                 "laptop, with its key)"}, status_code=403)
        response = page("instructor.html")
        response.set_cookie(INSTRUCTOR_COOKIE, instructor_key, httponly=True,
                            samesite="strict")
        return response

    async def overview(request: Request) -> Response:
        out = room.overview()
        out.update(code=code, join_url=join_url, lang=lang, events=list(EVENT_KINDS),
                   running=bool(runner and runner.busy),
                   error=runner.error if runner else None,
                   decisions={d: DECISIONS[d] for d in DECISIONS}, roles=list(ROLES))
        return JSONResponse(out, headers=SECURITY_HEADERS)

    async def control(request: Request) -> Response:
        body = await _json_body(request)
        action = body.get("action") if isinstance(body, dict) else None
        if action == "pause":
            room.pause()
        elif action == "resume":
            room.resume()
        elif action == "close":
            room.close_decision()
        elif action in ("month", "year", "auto", "stop") and runner is None:
            return JSONResponse({"error": "this room's months are advanced elsewhere"},
                                status_code=409)
        elif action == "month":
            assert runner is not None
            runner.months(1)
        elif action == "year":
            assert runner is not None
            runner.to_year_end()
        elif action in ("auto", "stop"):
            assert runner is not None
            runner.auto(action == "auto")
        elif action == "deal":
            room.deal()
        else:
            return JSONResponse({"error": f"action: got {action!r}; allowed: pause, resume, "
                                 "close, month, year, auto, stop, deal"}, status_code=400)
        return JSONResponse({"ok": True})

    async def event(request: Request) -> Response:
        body = await _json_body(request)
        kind = body.get("kind") if isinstance(body, dict) else None
        if kind not in EVENT_KINDS:
            return JSONResponse({"error": f"kind: got {kind!r}; allowed: "
                                 f"{', '.join(EVENT_KINDS)}"}, status_code=400)
        room.trigger(kind)
        if debrief is not None:
            debrief.trigger(kind, int(room.model.steps) + 1)
        return JSONResponse({"ok": True})

    async def assign(request: Request) -> Response:
        body = await _json_body(request)
        try:
            if not isinstance(body, dict):
                raise ValueError('allowed: {"participant": id, "role": ..., "index": ..., '
                                 '"households": [...]}')
            who = body.get("participant")
            if isinstance(who, bool) or not isinstance(who, int):
                raise ValueError(f"participant: got {who!r}; allowed: the id of someone in "
                                 "the room")
            if body.get("remove"):
                room.remove(who)
                return JSONResponse({"ok": True})
            role = body.get("role")
            seat = None if role in (None, "") else Seat(
                role, body.get("index", 0), tuple(body.get("households") or ()))
            room.assign(who, seat)
        except (ValueError, TypeError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse({"ok": True})

    async def figure(request: Request) -> Response:
        asked = request.query_params.get("lang", lang)
        which = request.path_params["name"]
        asked = asked if asked in ("zh", "vi", "en") else lang
        if which == "network":
            view = "truth" if request.query_params.get("reveal") == "1" else "committee"
            png = await asyncio.to_thread(network_png, room, view, asked)
        elif which in FIGURE_CHARTS:
            png = await asyncio.to_thread(charts_png, room, debrief, asked, which)
        else:
            return JSONResponse({"error": "no such figure"}, status_code=404)
        return Response(png, media_type="image/png", headers=SECURITY_HEADERS)

    async def qr(request: Request) -> Response:
        return Response(qr_svg(join_url), media_type="image/svg+xml",
                        headers=SECURITY_HEADERS)

    routes = [
        Route("/", participant_page),
        Route("/static/{name}", asset),
        Route("/api/texts", page_texts),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/me", me),
        WebSocketRoute("/ws", participant_socket),
        Route("/instructor", instructor_page),
        Route("/api/instructor/overview", guarded(overview)),
        Route("/api/instructor/control", guarded(control), methods=["POST"]),
        Route("/api/instructor/event", guarded(event), methods=["POST"]),
        Route("/api/instructor/assign", guarded(assign), methods=["POST"]),
        Route("/api/instructor/figure/{name}", guarded(figure)),
        Route("/api/instructor/qr.svg", guarded(qr)),
    ]
    return Starlette(routes=routes)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads((await request.body())[:MAX_MESSAGE] or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def _push_state(ws: WebSocket, room: Room, token: str, wake: asyncio.Event) -> None:
    """Send the participant's state whenever it changes (and the timer each few seconds)."""
    last: Any = None
    while True:
        try:
            state = room.state_for(token)
        except ActionRefused:
            await ws.send_json({"type": "removed"})
            await ws.close(code=4403)
            return
        if state != last:
            await ws.send_json(state)
            last = state
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), timeout=5.0)
        except TimeoutError:
            last = None  # resend: the page re-syncs its countdown


ACT_EXAMPLE = '{"type": "act", "decision": id, "action": {...}}'
"""What a participant's websocket message looks like."""


def _answer(room: Room, token: str, text: str) -> dict[str, Any]:
    """The reply to one websocket message (never an exception), in the participant's tongue."""
    try:
        lang: str | None = room.rejoin(token).lang
    except ActionRefused:
        return {"type": "removed"}
    if len(text.encode("utf-8", "replace")) > MAX_MESSAGE:
        return _refused(Refusal("error.classroom_too_long", n=MAX_MESSAGE), lang)
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        return _refused(Refusal("error.classroom_not_json", example=ACT_EXAMPLE), lang)
    if not isinstance(message, dict) or message.get("type") != "act":
        return _refused(Refusal("error.classroom_not_an_act", example=ACT_EXAMPLE), lang)
    decision = message.get("decision")
    try:
        room.act(token, decision, message.get("action"))
    except ActionRefused as refusal:
        try:
            room.rejoin(token)
        except ActionRefused:
            return {"type": "removed"}
        return {**_refused(refusal, lang), "decision": decision}
    return {"type": "ack", "decision": decision}


def _refused(refusal: Refusal, lang: str | None) -> dict[str, Any]:
    """A refusal said in ``lang`` (``message``), and in English (``english``, for the log)."""
    return {"type": "refused", "message": say(refusal, lang), "english": str(refusal)}


# ---------------------------------------------------------------------------- serving
def lan_address() -> str:
    """This machine's address on the room's network (127.0.0.1 when it has none)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: it only picks the interface
        return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free port).

    Raises:
        ValueError: when the address cannot be used (naming it and why).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ValueError(f"host/port: cannot listen on {host}:{port} ({err.strerror}); "
                         "allowed: an address of this machine and a free port") from err
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def server_for(app: Starlette) -> Any:
    """A uvicorn server of ``app``.

    ``server.run(sockets=[bind(host, port)])`` serves until interrupted (or until
    ``server.should_exit = True``).
    """
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="off",
                            ws_max_size=MAX_MESSAGE, timeout_graceful_shutdown=2)
    return uvicorn.Server(config)


def _quiet_sigterm() -> Callable[[], None]:
    """Make SIGTERM (a service manager's or ``kill``'s stop) end the room as Ctrl-C does.

    uvicorn stops gracefully on SIGTERM and then raises it again with the handler it found,
    which by default ends the process at once: the record's Parquet and ``metrics.csv`` would
    never be written. A handler that does nothing lets ``server.run`` return instead. Returns
    what puts the previous handler back (nothing is changed outside the main thread).
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)
    return restore


def run_classroom(*, host: str = "127.0.0.1", port: int = 8765, seed: int = 0,
                  regime: str | None = None, overrides: dict[str, Any] | None = None,
                  month_seconds: float = 60.0, max_participants: int = 60,
                  record: str | Path | None = None, resume: bool = False, lang: str = "en",
                  out: Any = None) -> int:
    """``village-sim classroom``: open a room, serve it until Ctrl-C; an exit code.

    The record goes to ``record`` (default: a new folder ``classroom-YYYYmmdd-HHMMSS``),
    decision by decision; at the end ``decisions.parquet`` and the class village's monthly
    ``metrics.csv`` are written beside it.

    Raises:
        ValueError: for a bad argument or an address it cannot listen on (naming them).
    """
    import datetime as dt
    import sys

    out = sys.stdout if out is None else out
    if record is None:
        record = Path(f"classroom-{dt.datetime.now():%Y%m%d-%H%M%S}")
    sock = bind(host, port)  # first: a port in use leaves no record behind
    try:
        room = Room(month_seconds=month_seconds, max_participants=max_participants,
                    record=record, resume=True) if resume else \
            Room(seed, regime, month_seconds=month_seconds, max_participants=max_participants,
                 record=record, **(overrides or {}))
    except BaseException:
        sock.close()
        raise
    port = sock.getsockname()[1]
    local = is_loopback(host)
    code = None if local else room_code()
    shown_host = host if local or host not in ("0.0.0.0", "::") else lan_address()
    join_url = f"http://{shown_host}:{port}/" + (f"?code={code}" if code else "")
    key = secrets.token_urlsafe(16)
    debrief = Debrief(room)
    runner = Runner(room, debrief)
    app = make_app(room, code=code, instructor_key=key, join_url=join_url, runner=runner,
                   debrief=debrief, lang=lang)
    print(f"village-sim classroom: participants open {join_url}"
          + (f"  (room code {code})" if code else "  (this laptop only: --host to open it "
             "to the room's network)"), file=out)
    print("  instructor's screen, on this laptop: "
          f"http://127.0.0.1:{port}/instructor?key={key}", file=out)
    resumed = f"  (resumed at month {room.model.steps})" if resume else ""
    print(f"  record: {Path(record)}{resumed}; Ctrl-C to stop", file=out, flush=True)
    server = server_for(app)
    stop_quietly = _quiet_sigterm()
    try:
        server.run(sockets=[sock])
    finally:
        stop_quietly()
        runner.stop()
        room.close()
        from village_sim.classroom import export

        export(record)
        room.model.datacollector.get_model_vars_dataframe().to_csv(
            Path(record) / "metrics.csv", index_label="month")
        print(f"record written: {Path(record)} ({int(room.model.steps)} months)", file=out)
    return 0
