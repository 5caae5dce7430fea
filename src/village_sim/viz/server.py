"""Start the live app: ``solara run village_sim.app`` on a loopback address, offline.

``village-sim viz`` calls :func:`serve`. The server runs in a child process (Solara's own
command line, with this interpreter), in production mode, without Solara's version check or
usage statistics (both would try the internet), and without opening a browser: the URL is
printed for the trainer to open (or to project).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from typing import TextIO

from village_sim.refusal import Refusal

__all__ = ["DEFAULT_PORT", "port_is_free", "serve", "solara_command", "solara_environment"]

DEFAULT_PORT = 8765
"""Solara's own default port."""

HOST = "127.0.0.1"


def solara_command(port: int, host: str = HOST) -> list[str]:
    """The command that runs the app's server (this Python, Solara's command line)."""
    return [
        sys.executable, "-m", "solara", "run", "village_sim.app",
        "--host", host, "--port", str(port), "--production", "--no-open",
        "--no-check-version",
    ]


def solara_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of the server: usage statistics off (nothing leaves the machine)."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    env["SOLARA_THEME_SHOW_BANNER"] = "false"  # the "runs on Solara" badge covers the page
    # the browser tab's title before the page sets its own (Solara's default: "Solara ☀️")
    env.setdefault("SOLARA_THEME_TITLE", "village_sim")
    return env


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve(port: int = DEFAULT_PORT, host: str = HOST, out: TextIO | None = None) -> int:
    """Run the app's server until it stops or Ctrl-C; return an exit code.

    Args:
        port: TCP port (1-65535) on ``host``.
        host: Address to listen on (loopback by default: the app is not exposed to the LAN).
        out: Where to print the URL (default: standard output).

    Returns:
        The server's exit code, or 130 after Ctrl-C.

    Raises:
        Refusal: (a ``ValueError``) if the port is out of range or already in use, said in
            the language of ``$VILLAGE_SIM_LANG`` by the command line.
    """
    if not 1 <= port <= 65535:
        raise Refusal("error.port_range", at="--port", value=port)
    if not port_is_free(port, host):
        raise Refusal("error.port_in_use", at="--port", host=host, port=port)
    out = sys.stdout if out is None else out
    print(f"village-sim live app: http://{host}:{port}/  (Ctrl-C to stop)", file=out,
          flush=True)
    process = subprocess.Popen(solara_command(port, host), env=solara_environment())

    def stop(signum: int, frame: object) -> None:
        raise _Stopped(signum)

    held = (signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, stop) for sig in held}
    try:
        return process.wait()
    except (KeyboardInterrupt, _Stopped) as why:
        # Ctrl-C, SIGTERM and SIGHUP all stop the server: it never outlives this command
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 128 + why.signum if isinstance(why, _Stopped) else 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Stopped(Exception):
    """SIGTERM or SIGHUP arrived while the server ran."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
