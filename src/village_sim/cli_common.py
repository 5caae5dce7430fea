"""What the CLI's two command modules share: the error type, argument checks and helpers.

:mod:`village_sim.cli` (the entry point) and :mod:`village_sim.teaching_cli` (the teaching
commands and ``run``) both import from here; this module imports neither of them, so imports
between the three point one way (``cli`` -> ``teaching_cli`` -> ``cli_common``).

Kept light, like :mod:`village_sim.cli`: importing it loads only :mod:`village_sim.params`
(``--help`` does not import the model); the experiment helpers are imported where used.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from village_sim.outputs import package_version
from village_sim.params import PARAM_BY_NAME, load_overrides, resolve_parameters

__all__ = [
    "DEFAULT_STEPS",
    "MAX_ROWS_IN_MEMORY",
    "MAX_SEEDS",
    "MAX_STEPS",
    "OUTPUT_ROOT",
    "PROG",
    "InputError",
    "collect_overrides",
    "int_at_least",
    "one_regime",
    "add_overwrite_option",
    "command_line",
    "output_file",
    "output_folder",
    "package_version",
    "parse_assignment",
    "utf8_stdout",
]

PROG = "village-sim"
OUTPUT_ROOT = Path("village_sim_output")
DEFAULT_STEPS = 60


class InputError(ValueError):
    """A bad command-line input: reported as ``error: ...`` with exit code 2.

    Args:
        message: The English message (the CLI's default, with the parameters' code names).
        problem: The bad parameter value behind it, if any: under ``--lang zh`` or ``vi`` the
            error is said in that language with the parameter's label
            (:meth:`village_sim.i18n.Catalog.problem`).
        where: The option it came from (``--set quota=2``), kept in every language.
    """

    def __init__(self, message: str, problem: Any = None, where: str = ""):
        super().__init__(message)
        self.problem = problem
        self.where = where

    def in_language(self, lang: str | None) -> str:
        """The message in ``lang`` (English, unchanged, for None or ``en``)."""
        from village_sim.i18n import Catalog

        if self.problem is None or lang is None or Catalog(lang).lang == "en":
            return str(self)
        text = Catalog(lang).problem(self.problem)
        return f"{self.where}: {text}" if self.where else text


def parameter_input_error(err: ValueError, where: str = "") -> InputError:
    """An :class:`InputError` for a bad parameter value, translatable under ``--lang``."""
    from village_sim.params import ParameterError

    message = f"{where}: {err}" if where else str(err)
    return InputError(message, err if isinstance(err, ParameterError) else None, where)


# ---------------------------------------------------------------------------- argument types
MAX_SEEDS = 5_000
"""Most seeds ``compare``, ``effects``, ``handout`` and ``calibrate`` take (they hold every
run's series in memory; a sweep streams to disk and has no such limit)."""
MAX_STEPS = 1_200
"""Most months a run of ``compare`` or ``run`` takes (100 years)."""
MAX_ROWS_IN_MEMORY = 2_000_000
"""Most rows (runs x months) ``compare`` holds in memory (about 1.3 GB of series)."""


def int_at_least(low: int, what: str, high: int | None = None) -> Any:
    """An argparse ``type``: an integer ``>= low`` (and ``<= high``); ``what`` names it."""
    allowed = f"an integer >= {low}" if high is None else f"an integer from {low} to {high:,}"

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}; allowed: {allowed} ({what})") \
                from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"got {value}; allowed: {allowed} ({what})")
        return value

    return convert


# ---------------------------------------------------------------------------- parameter overrides
def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse one ``--set NAME=VALUE``.

    The value is read as a TOML value (``0.2``, ``3``, ``true``, ``"text"``), so numbers and
    booleans work; anything else is kept as a string. ``none`` gives ``None`` for parameters
    that allow it (``team_leaves``).

    Raises:
        InputError: for a missing ``=`` or an empty name.
    """
    name, sep, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if not sep or not name:
        raise InputError(f"--set {text!r}: expected NAME=VALUE, e.g. --set quota=0.2")
    param = PARAM_BY_NAME.get(name)
    if param is not None and param.kind == "optional_int" and raw.lower() in ("none", "null"):
        return name, None
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return name, raw
    return name, parsed["v"] if set(parsed) == {"v"} else raw


def _set_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Parse and check every ``--set`` (names and single values; combinations come later)."""
    out: dict[str, Any] = {}
    for item in items:
        name, value = parse_assignment(item)
        try:
            if name not in PARAM_BY_NAME:
                resolve_parameters(**{name: value})  # raises, suggesting the closest name
            # only the value here: combinations are checked once every override is known
            value = PARAM_BY_NAME[name].validate(value)
        except ValueError as err:
            raise parameter_input_error(err, f"--set {item}") from None
        out[name] = value
    return out


def collect_overrides(args: argparse.Namespace, allow_regime: bool) -> dict[str, Any]:
    """Overrides from ``--params FILE`` then ``--set`` (later wins), checked one by one."""
    overrides: dict[str, Any] = {}
    if args.params is not None:
        try:
            overrides.update(load_overrides(args.params))
        except ValueError as err:
            raise InputError(str(err)) from None
        if "regime" in overrides and not allow_regime:
            raise InputError(
                f"--params {args.params}: the file sets regime = {overrides['regime']!r}, but "
                "compare runs the regimes chosen with --regimes; remove 'regime' from the file"
            )
    from_set = _set_overrides(args.set or [])
    if "regime" in from_set and not allow_regime:
        raise InputError(
            "--set regime=...: compare runs the regimes chosen with --regimes; use --regimes"
        )
    overrides.update(from_set)
    return overrides


def one_regime(name: str, option: str) -> str:
    """Check one regime name given with ``option``; raise :class:`InputError` naming the allowed."""
    from village_sim.experiment import check_regimes

    try:
        return check_regimes([name])[0]
    except ValueError as err:
        raise InputError(f"{option}: {err}") from None


# ---------------------------------------------------------------------------- output
def output_folder(out: str | None, kind: str, *, overwrite: bool = False, command: str = "",
                  own: Sequence[str] | None = None, option: str = "--out") -> Any:
    """Check a results folder before any work (:func:`village_sim.outputs.prepare_folder`).

    ``None`` gives ``village_sim_output/KIND-YYYYmmdd-HHMMSS``. Returns the output set: use it
    as ``with out as folder:`` around the work and the writing; the files appear in
    ``out.target`` as a whole when the block ends, or not at all.
    """
    from village_sim.outputs import OutputError, prepare_folder

    try:
        return prepare_folder(out, kind, option=option, overwrite=overwrite, own=own,
                              command=command, root=OUTPUT_ROOT)
    except OutputError as err:
        raise InputError(str(err)) from None


def output_file(out: str, *, overwrite: bool = False, default: bool = False,
                option: str = "--out") -> Any:
    """Check a result file's path before any work (:func:`village_sim.outputs.prepare_file`)."""
    from village_sim.outputs import OutputError, prepare_file

    try:
        return prepare_file(out, option=option, overwrite=overwrite, default=default)
    except OutputError as err:
        raise InputError(str(err)) from None


def add_overwrite_option(parser: argparse.ArgumentParser, what: str = "folder") -> None:
    """``--overwrite``: replace a previous set of results as a whole."""
    parser.add_argument(
        "--overwrite", action="store_true",
        help=f"replace the results already at the output {what} as a whole (only results "
             "of village-sim are ever replaced). Default: off (an output that holds results "
             "is refused before any work).")


def command_line(argv: Sequence[str]) -> str:
    """The command as typed, for the marker of an output set."""
    import shlex

    return " ".join([PROG, *(shlex.quote(a) for a in argv)])


def utf8_stdout() -> None:
    """Parameter text holds Chinese terms: write UTF-8 whatever the console's code page."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(encoding="utf-8")
        except (ValueError, OSError):  # pragma: no cover - stream already in use
            pass
