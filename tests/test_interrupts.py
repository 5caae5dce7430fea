"""Dask failures are clean, and Ctrl-C is one line on every engine (issue "Outputs that are never
lost or mixed ...", item 4).

Reproduced first: ``sweep --scheduler nofile.json`` waited for ever; an unreachable scheduler
took 30 s and left a half-started sweep folder; Ctrl-C on the Dask engine printed 11-66 lines of
worker tracebacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import run_cli

SPEC = """name = "ctrlc"
regimes = ["committee_only", "team_and_committee"]
replicates = 8
root_seed = 1
steps = 24
[base]
n_households = 100
[parameters]
favoritism = [0.3, 0.6]
"""



@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung scheduler)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_missing_scheduler_file_is_refused_at_once(spec: Path, tmp_path: Path) -> None:
    import village_sim.sweep.engines  # noqa: F401 - imported first: the timing is the check's

    started = time.perf_counter()
    code, stdout, err = run_cli(["sweep", str(spec), "--out", str(tmp_path / "o"),
                                 "--scheduler", str(tmp_path / "nofile.json")])
    assert code == 2 and "does not exist" in err and "nofile.json" in err, err
    assert len(err.strip().splitlines()) == 1 and stdout == ""
    assert time.perf_counter() - started < 5
    assert not (tmp_path / "o").exists()


def test_a_scheduler_that_does_not_answer_gives_up_within_the_timeout(
        spec: Path, tmp_path: Path, silent_listener: int) -> None:
    import distributed  # noqa: F401 - imported first: the timing is the connection's

    import village_sim.experiment  # noqa: F401
    import village_sim.sweep.engines  # noqa: F401

    started = time.perf_counter()
    code, stdout, err = run_cli(["sweep", str(spec), "--out", str(tmp_path / "o"),
                                 "--scheduler", f"tcp://127.0.0.1:{silent_listener}",
                                 "--connect-timeout", "2"])
    elapsed = time.perf_counter() - started
    assert code == 2 and "no Dask scheduler answered within 2 s" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert elapsed < 2 + 8, elapsed  # the timeout (+1 s for the handshake), on a busy machine
    assert not (tmp_path / "o").exists()  # nothing written before the engine is up
    code, _, err = run_cli(["sweep", str(spec), "--out", str(tmp_path / "o"),
                            "--connect-timeout", "0"])
    assert code == 2 and "--connect-timeout" in err


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["serial", "processes", "dask"])
def test_ctrl_c_is_one_line_on_every_engine(engine: str, spec: Path, tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C does, mid-sweep."""
    out = tmp_path / "o"
    child = subprocess.Popen(
        [sys.executable, "-m", "village_sim.cli", "sweep", str(spec), "--out", str(out),
         "--engine", engine, "--workers", "2", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "records").is_dir() or len(os.listdir(out / "records")) < 3:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no run finished in 240 s"
            time.sleep(0.1)
        os.killpg(child.pid, signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("sweep 'ctrlc' interrupted:") and "resume" in lines[0]
    assert "Traceback" not in stderr and stdout == ""
    # and the sweep resumes from what was stored
    code, _, err = run_cli(["sweep", str(spec), "--out", str(out), "--engine", "serial",
                            "--quiet"])
    assert code == 0, err


@pytest.mark.parametrize("quiet", [True, False])
def test_the_processes_engine_starts_the_resource_tracker_without_exit_warnings(
        quiet: bool) -> None:
    """The tracker the engine's semaphores start keeps quiet at exit (and only it).

    A child registers a semaphore name nobody removes, as an interrupted exit could leave one:
    with ``quiet_resource_tracker`` called first the tracker removes it silently; without it,
    the tracker's warning shows (the test's own premise).
    """
    code = "\n".join([
        "from village_sim.sweep.engines import quiet_resource_tracker",
        "quiet_resource_tracker()" if quiet else "",
        "import multiprocessing",
        "from multiprocessing import resource_tracker",
        "lock = multiprocessing.get_context('spawn').Lock()  # starts the tracker",
        "resource_tracker.register('/village-sim-test-unremoved', 'semaphore')",
    ])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("resource_tracker" in done.stderr) is not quiet, done.stderr
