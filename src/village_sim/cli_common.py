"""What the CLI's two command modules share: the error type, argument checks and helpers.

:mod:`village_sim.cli` (the entry point) and :mod:`village_sim.teaching_cli` (the teaching
commands and ``run``) both import from here; this module imports neither of them, so imports
between the three point one way (``cli`` -> ``teaching_cli`` -> ``cli_common``).

Errors: every bad input is an :class:`InputError`, a refusal of the catalogs said in the
language of ``--lang`` by :func:`say` (English: its ``str()``).

Kept light, like :mod:`village_sim.cli`: importing it loads only :mod:`village_sim.params` and
:mod:`village_sim.refusal` (``--help`` does not import the model); the experiment helpers are
imported where used.
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
from village_sim.refusal import Allowed, Number, Phrase, Quoted, Refusal, did_you_mean

__all__ = [
    "DEFAULT_STEPS",
    "MAX_ROWS_IN_MEMORY",
    "MAX_SEEDS",
    "MAX_STEPS",
    "OUTPUT_ROOT",
    "PROG",
    "InputError",
    "RefusedArgument",
    "add_param_options",
    "collect_overrides",
    "int_at_least",
    "one_regime",
    "add_overwrite_option",
    "command_line",
    "output_file",
    "output_folder",
    "package_version",
    "parse_assignment",
    "say",
    "utf8_stdout",
]

PROG = "village-sim"
OUTPUT_ROOT = Path("village_sim_output")
DEFAULT_STEPS = 60


class InputError(Refusal):
    """A bad command-line input: reported as ``error: ...`` with exit code 2.

    A :class:`~village_sim.refusal.Refusal`: its kind is a message of the catalogs, said in
    English by ``str()`` and in the language of ``--lang`` (or ``$VILLAGE_SIM_LANG``) by
    :meth:`in_language`; ``at`` is the option it came from (``--set quota=2``), kept in every
    language. ``InputError(err, at=...)`` puts another error (a
    :class:`~village_sim.params.ParameterError`, a refusal of a file or a spec) at the option.
    """

    def in_language(self, lang: str | None) -> str:
        """The message in ``lang`` (English, unchanged, for None or ``en``)."""
        return say(self, lang)


def say(thing: Any, lang: str | None) -> str:
    """A refusal, or a part of one, in ``lang``; English (``None``, ``en``): ``str(thing)``.

    Refusals and their phrases are said with the catalog's message of their kind, their fields
    said in the same language (a nested error, a number, names, a parameter's range);
    a :class:`~village_sim.params.ParameterError` with the parameter's label
    (:meth:`village_sim.i18n.Catalog.problem`); any other exception keeps its English message
    (what the operating system or a file parser said).
    """
    from village_sim.i18n import Catalog

    catalog = Catalog(lang)
    return str(thing) if catalog.lang == "en" else _say(thing, catalog)


def _say(thing: Any, _: Any) -> str:
    from village_sim.params import PARAM_BY_NAME, ParameterError

    if isinstance(thing, Refusal):
        if thing.kind is not None:
            text = _(thing.kind, **{k: _say(v, _) for k, v in thing.fields.items()})
        elif "problem" in thing.fields:
            text = _say(thing.fields["problem"], _)
        else:
            text = thing.message
        return f"{thing.at}: {text}" if thing.at else text
    if isinstance(thing, Phrase):
        return _(thing.key, **{k: _say(v, _) for k, v in thing.fields.items()})
    if isinstance(thing, ParameterError):
        if thing.rule == "unknown":  # with the closest name, as in English
            return _say(Refusal("error.unknown_parameter", value=thing.name,
                                hint=did_you_mean(thing.name, PARAM_BY_NAME, 0.5)), _)
        return str(_.problem(thing))
    if isinstance(thing, Number):
        return str(_.number(thing.value, thing.spec))
    if isinstance(thing, Quoted):
        return ("、" if _.lang == "zh" else ", ").join(f"“{name}”" for name in thing)
    if isinstance(thing, Allowed):
        return str(_.allowed(thing.name))
    if isinstance(thing, BaseException):
        return str(thing)
    if isinstance(thing, bool) or thing is None:
        return str(thing).lower() if thing is not None else "none"
    if isinstance(thing, float):
        return str(_.digits(str(int(thing)) if thing.is_integer() else repr(thing)))
    if isinstance(thing, list | tuple | set | frozenset):
        return ", ".join(_say(item, _) for item in thing)
    return str(thing)


# ---------------------------------------------------------------------------- argument types
MAX_SEEDS = 5_000
"""Most seeds ``compare``, ``effects``, ``handout`` and ``calibrate`` take (they hold every
run's series in memory; a sweep streams to disk and has no such limit)."""
MAX_STEPS = 1_200
"""Most months a run of ``compare`` or ``run`` takes (100 years)."""
MAX_ROWS_IN_MEMORY = 2_000_000
"""Most rows (runs x months) ``compare`` holds in memory (about 1.3 GB of series)."""


class RefusedArgument(argparse.ArgumentTypeError):
    """What an argparse ``type`` raises, carrying its refusal.

    argparse keeps only the English text; the CLI's parser finds the refusal here (as the
    context of argparse's error) to say it in ``--lang``.
    """

    def __init__(self, refusal: Refusal):
        super().__init__(str(refusal))
        self.refusal = refusal


def int_at_least(low: int, what: str, high: int | None = None) -> Any:
    """An argparse ``type``: an integer ``>= low`` (and ``<= high``).

    Args:
        low: The smallest allowed.
        what: What the integer counts, a phrase of the catalogs (``"phrase.months"``).
        high: The largest allowed, or ``None``.
    """
    counted = Phrase(what)

    def convert(text: str) -> int:
        try:
            value: int | str = int(text)
        except ValueError:
            value = text
        if isinstance(value, str) or value < low or (high is not None and value > high):
            refusal = Refusal("error.int_at_least", value=value, low=low, what=counted) \
                if high is None else Refusal("error.int_between", value=value, low=low,
                                             high=Number(high, ","), what=counted)
            raise RefusedArgument(refusal)
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
        raise InputError("error.set_syntax", at=f"--set {text!r}")
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
            raise InputError(err, at=f"--set {item}") from None
        out[name] = value
    return out


def add_param_options(p: argparse.ArgumentParser, regime_note: str) -> None:
    """Add ``--params FILE`` and ``--set NAME=VALUE`` (read by :func:`collect_overrides`)."""
    p.add_argument(
        "--params", metavar="FILE", default=None,
        help="TOML file of parameter overrides: 'name = value' lines at the top level or "
             "under [parameters] (see 'village-sim params' and docs/parameters.md for names, "
             f"units and ranges). {regime_note} Default: none (every parameter at its default).",
    )
    p.add_argument(
        "--set", metavar="NAME=VALUE", action="extend", nargs="+", default=None,
        help="override one parameter, e.g. --set quota=0.2 favoritism=0.8 (repeatable; "
             "applied after --params, later ones win). VALUE is read as TOML: numbers, "
             "true/false, quoted strings; 'none' for team_leaves. Units as in "
             "'village-sim params'.",
    )


def collect_overrides(args: argparse.Namespace, allow_regime: bool) -> dict[str, Any]:
    """Overrides from ``--params FILE`` then ``--set`` (later wins), checked one by one."""
    overrides: dict[str, Any] = {}
    if args.params is not None:
        try:
            overrides.update(load_overrides(args.params))
        except ValueError as err:
            raise InputError(err) from None
        if "regime" in overrides and not allow_regime:
            raise InputError("error.regime_in_file", at=f"--params {args.params}",
                             value=overrides["regime"])
    from_set = _set_overrides(args.set or [])
    if "regime" in from_set and not allow_regime:
        raise InputError("error.regime_in_set", at="--set regime=...")
    overrides.update(from_set)
    return overrides


def one_regime(name: str, option: str) -> str:
    """Check one regime name given with ``option``; raise :class:`InputError` naming the allowed."""
    from village_sim.experiment import check_regimes

    try:
        return check_regimes([name])[0]
    except ValueError as err:
        raise InputError(err, at=option) from None


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
        raise InputError(err) from None


def output_file(out: str, *, overwrite: bool = False, default: bool = False,
                option: str = "--out") -> Any:
    """Check a result file's path before any work (:func:`village_sim.outputs.prepare_file`)."""
    from village_sim.outputs import OutputError, prepare_file

    try:
        return prepare_file(out, option=option, overwrite=overwrite, default=default)
    except OutputError as err:
        raise InputError(err) from None


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
