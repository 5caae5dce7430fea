"""Classroom mode under load (issue 13): 40 participants playing 24 months.

Run from the repository root::

    uv run python benchmarks/bench_classroom.py             # about 2 minutes
    uv run python benchmarks/bench_classroom.py --quick     # 10 participants, 3 months

The room runs as a user runs it, ``village-sim classroom --host 0.0.0.0`` in its own process
(a village of 100 households, every decision open ``--month-seconds`` seconds). The benchmark
is the class: 40 participants join over HTTP with the room code (reached through 127.0.0.1),
each on its own websocket, in one asyncio process; the instructor's API deals the roles (5
cadres, 3 team members, the auditor, 31 household players of 2 households each) and runs the
months. Every participant answers each decision it is shown after a think time of 0.05-0.5 s,
except 4 household players who never answer: the yearly public notice then waits for the
timer, and the village still advances.

Measured: the round trip of each action (sent on the websocket -> the server's ack), its
median, 95th and 99th percentiles; months and seconds; every decision recorded once (the
rows of the session's ``decisions.csv`` against the acks). Target: p95 under 300 ms on this
2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

IDLE = 4  # household players who never answer


def http(url: str, body: object | None = None, cookie: str | None = None) -> tuple[dict, str]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json",
                                          **({"Cookie": cookie} if cookie else {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        raw, cookie = r.read(), (r.headers.get("Set-Cookie") or "").split(";")[0]
    return (json.loads(raw) if r.headers.get_content_type() == "application/json" else {}), cookie


async def participant(base: str, cookie: str, idle: bool, latencies: list[float],
                      acks: list[int], done: asyncio.Event, rng: random.Random) -> None:
    ws_url = base.replace("http://", "ws://") + "/ws"
    async with connect(ws_url, additional_headers={"Cookie": cookie}, max_size=2**22) as ws:
        answered: set[int] = set()
        sent_at: dict[int, float] = {}
        while not done.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            message = json.loads(text)
            if message["type"] == "ack":
                latencies.append(time.perf_counter() - sent_at.pop(message["decision"]))
                acks.append(message["decision"])
                continue
            if message["type"] == "refused":
                print("refused:", message, file=sys.stderr)
                continue
            if message["type"] != "state" or idle:
                continue
            for item in message["pending"]:
                if item["id"] in answered:
                    continue
                answered.add(item["id"])
                await asyncio.sleep(rng.uniform(0.05, 0.5))  # a person reads and taps
                sent_at[item["id"]] = time.perf_counter()
                await ws.send(json.dumps({"type": "act", "decision": item["id"],
                                          "action": answer(item["decision"],
                                                           item["observation"], rng)}))


def answer(decision: str, seen: dict, rng: random.Random) -> dict:
    if decision == "diversion":
        return {"share": round(rng.random() * 0.3, 2)}
    if decision == "aid":
        return {"amounts": [round(h["rule"] * rng.uniform(0.5, 1.5)) + 1
                            for h in seen["households"]]}
    if decision == "visits":
        return {"visit": rng.sample(range(seen["households"]), seen["capacity"])}
    if decision == "challenge":
        return {"act": [v["household"] for v in seen["visited"] if rng.random() < 0.7]}
    if decision in ("proposal", "team_listing"):
        eligible = seen["eligible"]
        k = min(len(eligible), seen["quota"] if seen["quota"] is not None else 20)
        return {"list": sorted(rng.sample(eligible, k))}
    if decision == "complaint":
        return {"complain": [h["household"] for h in seen["households"]
                             if not h["listed"] and h["eligible"] and rng.random() < 0.5]}
    if decision == "report":
        others = [h for h in seen["listed"] if h not in seen["households"]]
        return {"report": rng.sample(others, 1) if others and rng.random() < 0.2 else []}
    if decision == "kin_request":
        return {"ask": [h["household"] for h in seen["households"]
                        if h["income"] < h["need"] and rng.random() < 0.8]}
    if decision == "share":  # tell most of what the visits found
        return {"share": [f["household"] for f in seen["findings"] if rng.random() < 0.8]}
    if decision == "accounts":
        return {"examine": rng.sample(range(len(seen["cadres"])), seen["budget"])}
    return {"audit": rng.random() < 0.2}


async def play(base: str, cookies: list[str], idle: set[int], instructor: str, months: int,
               latencies: list[float], acks: list[int]) -> float:
    done = asyncio.Event()
    tasks = [asyncio.create_task(participant(base, c, k in idle, latencies, acks, done,
                                             random.Random(k)))
             for k, c in enumerate(cookies)]
    await asyncio.sleep(1.0)
    start = time.perf_counter()
    for _ in range(months):
        await asyncio.to_thread(http, f"{base}/api/instructor/control", {"action": "month"},
                                instructor)
        while True:
            overview, _ = await asyncio.to_thread(http, f"{base}/api/instructor/overview",
                                                  None, instructor)
            if not overview["running"] and overview["decision"] is None:
                break
            await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - start
    done.set()
    await asyncio.gather(*tasks)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 participants, 3 months")
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--month-seconds", type=float, default=2.0)
    args = parser.parse_args()
    n, months = (10, 3) if args.quick else (args.participants, args.months)
    record = Path(tempfile.mkdtemp(prefix="bench-classroom-")) / "session"
    command = [sys.executable, "-m", "village_sim.cli", "classroom", "--host", "0.0.0.0",
               "--port", "0", "--households", "100", "--month-seconds",
               str(args.month_seconds), "--record", str(record), "--seed", "1"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert server.stdout is not None
    lines = [server.stdout.readline() for _ in range(2)]
    code = re.search(r"room code (\w+)", lines[0]).group(1)  # type: ignore[union-attr]
    key_url = re.search(r"(http://127\.0\.0\.1:\d+)/instructor\?key=(\S+)", lines[1])
    assert key_url is not None
    base, key = key_url.group(1), key_url.group(2)
    print(f"bench_classroom: {time.strftime('%Y-%m-%d %H:%M')} UTC; {os.cpu_count()} CPUs; "
          f"load {os.getloadavg()[0]:.2f}; {n} participants, {months} months, decisions open "
          f"{args.month_seconds:g} s; server {base} (bound 0.0.0.0)")
    try:
        cookies = [http(f"{base}/api/join", {"code": code, "nickname": f"p{k}",
                                             "lang": "zh vi en".split()[k % 3]})[1]
                   for k in range(n)]
        _, instructor = http(f"{base}/instructor?key={key}")
        http(f"{base}/api/instructor/control", {"action": "deal"}, instructor)
        seated, _ = http(f"{base}/api/instructor/overview", None, instructor)
        households = [p["id"] for p in seated["participants"]
                      if p["seat"] and p["seat"]["role"] == "household"]
        idle = set(households[-IDLE:])  # participant ids are the order they joined in
        latencies: list[float] = []
        acks: list[int] = []
        elapsed = asyncio.run(play(base, cookies, idle, instructor, months, latencies, acks))
    finally:
        server.send_signal(2)  # Ctrl-C: the record is closed and exported
        server.wait(30)
    rows = [line for line in (record / "decisions.csv").read_text().splitlines()[1:]]
    parts = [r for r in rows if ",advance," not in r and ",event," not in r]
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    print("\n| measurement | value | target |\n|---|---:|---:|")
    print(f"| months run | {months} in {elapsed:.1f} s | |")
    print(f"| participants (never answering) | {n} ({len(idle)}) | |")
    print(f"| actions acknowledged | {len(acks)} | |")
    print(f"| parts recorded (decisions.csv) | {len(parts)} | = acknowledged |")
    print(f"| action round trip, median (ms) | {statistics.median(ms):.1f} | |")
    print(f"| action round trip, p95 (ms) | {q[94]:.1f} | < 300 |")
    print(f"| action round trip, p99 (ms) | {q[98]:.1f} | |")
    print(f"| action round trip, max (ms) | {ms[-1]:.1f} | |")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    assert len(parts) == len(acks), "a part was lost or recorded twice"


if __name__ == "__main__":
    main()
