"""What the command-line tests share: calling ``main()`` in this process and capturing it."""

from __future__ import annotations

import contextlib
import io

from village_sim.cli import main


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Call ``village_sim.cli.main(args)``; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()
