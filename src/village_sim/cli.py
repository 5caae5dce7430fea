"""Command-line interface: ``village-sim compare | run | params``.

This module only parses arguments, checks them and prints; the experiment logic lives in
:mod:`village_sim.experiment`. Every input is checked before anything runs; a bad input ends
with a one-line ``error: ...`` message on stderr and exit code 2 (no traceback).

Exit codes: 0 success, 2 bad input, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from village_sim.params import (
    PARAM_BY_NAME,
    PARAMETERS,
    REGIMES,
    load_overrides,
    parameters_markdown,
    resolve_parameters,
)

__all__ = ["build_parser", "main", "parse_assignment"]

PROG = "village-sim"
OUTPUT_ROOT = Path("village_sim_output")
DEFAULT_REGIMES = "committee_only,team_and_committee"  # = experiment.DEFAULT_REGIMES
DEFAULT_SEEDS = 20
DEFAULT_STEPS = 60
WINDOW = 12  # = experiment.WINDOW (kept here so --help does not import the model)


class InputError(ValueError):
    """A bad command-line input: reported as ``error: ...`` with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: ``error: ... (see 'PROG --help')``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


# ---------------------------------------------------------------------------- argument types
def _int_at_least(low: int, what: str) -> Any:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"got {text!r}; allowed: an integer >= {low} ({what})"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"got {value}; allowed: an integer >= {low} ({what})")
        return value

    return convert


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
            raise InputError(f"--set {item}: {err}") from None
        out[name] = value
    return out


def _collect_overrides(args: argparse.Namespace, allow_regime: bool) -> dict[str, Any]:
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


def _regime_list(text: str) -> list[str]:
    from village_sim.experiment import check_regimes

    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        return check_regimes(names)
    except ValueError as err:
        raise InputError(f"--regimes: {err}") from None


def _one_regime(name: str, option: str) -> str:
    from village_sim.experiment import check_regimes

    try:
        return check_regimes([name])[0]
    except ValueError as err:
        raise InputError(f"{option}: {err}") from None


def _output_dir(out: str | None, kind: str) -> Path:
    """The output directory: ``--out`` or ``village_sim_output/KIND-YYYYmmdd-HHMMSS``."""
    if out is not None:
        path = Path(out)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = OUTPUT_ROOT / f"{kind}-{stamp}"
        k = 2
        while path.exists():  # two runs in the same second
            path = OUTPUT_ROOT / f"{kind}-{stamp}-{k}"
            k += 1
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"--out: cannot create directory {str(path)!r}: {err}") from None
    if not path.is_dir():
        raise InputError(f"--out: {str(path)!r} is not a directory")
    return path


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("village-sim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# ---------------------------------------------------------------------------- formatting
def _decimals(values: Sequence[float]) -> int:
    finite = [abs(v) for v in values if math.isfinite(v)]
    big = max(finite, default=0.0)
    if big >= 100:
        return 0
    if big >= 10:
        return 1
    if big >= 1:
        return 2
    return 3


def _cell(mean: float, lo: float, hi: float, digits: int, signed: bool = False) -> str:
    if not math.isfinite(mean):
        return "undefined"
    sign = "+" if signed else ""
    text = f"{mean:{sign},.{digits}f}"
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{lo:{sign},.{digits}f}, {hi:{sign},.{digits}f}]"
        if signed and (lo > 0 or hi < 0):
            text += " *"
    return text


def format_compare_table(
    summary: Any, diffs: Any, regimes: Sequence[str], n_seeds: int, root: int, steps: int,
    window: int, overrides: dict[str, Any],
) -> str:
    """The table ``compare`` prints: per-regime means with CIs, paired differences, n."""
    from village_sim.experiment import window_bounds

    first, last = window_bounds(steps, window)
    base = regimes[0]
    n_households = resolve_parameters(**overrides).n_households
    lines = [
        f"Paired comparison: {len(regimes)} regimes x {n_seeds} seeds (root seed {root}), "
        f"{steps} months, {n_households} households"
        + (", overrides: " + ", ".join(f"{k}={v!r}" for k, v in overrides.items())
           if overrides else ""),
        f"Measurement window: the final {window} months of each run (months {first}-{last}); "
        "each seed's value is its mean over the window, ignoring months where the metric is "
        "undefined.",
        "Cells: mean over seeds [95% CI, t distribution over seeds].",
        f"diff: regime minus {base} on the same seeds (paired, common random numbers); "
        "* = CI excludes 0.",
        "n: seeds where the metric is defined (per regime / paired if they differ).",
        "",
    ]
    header = ["metric", *regimes, *[f"diff {r}" for r in regimes[1:]], "n"]
    rows: list[list[str]] = []
    for metric in dict.fromkeys(summary["metric"]):
        s = summary.loc[summary["metric"] == metric].set_index("regime")
        d = diffs.loc[diffs["metric"] == metric].set_index("regime")
        digits = _decimals([float(s.at[r, "mean"]) for r in regimes])
        row = [metric]
        row += [_cell(float(s.at[r, "mean"]), float(s.at[r, "ci_low"]),
                      float(s.at[r, "ci_high"]), digits) for r in regimes]
        row += [_cell(float(d.at[r, "mean"]), float(d.at[r, "ci_low"]),
                      float(d.at[r, "ci_high"]), digits, signed=True) for r in regimes[1:]]
        ns = [int(s.at[r, "n"]) for r in regimes]
        paired = [int(d.at[r, "n"]) for r in regimes[1:]]
        if len(set(ns + paired)) == 1:
            row.append(str(ns[0]))
        else:
            row.append("/".join(map(str, ns)) + (" paired " + "/".join(map(str, paired))
                                                  if paired else ""))
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    lines.append(fmt(header))
    lines.append("  ".join("-" * w for w in widths))
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- commands
def _cmd_compare(args: argparse.Namespace) -> int:
    from village_sim import experiment as ex

    regimes = _regime_list(args.regimes)
    overrides = _collect_overrides(args, allow_regime=False)
    try:
        overrides = ex.check_overrides(regimes, overrides)
    except ValueError as err:
        raise InputError(str(err)) from None
    out = _output_dir(args.out, "compare")

    seeds = ex.replicate_seeds(args.seed, args.seeds)
    started = time.perf_counter()
    df = ex.run_paired(regimes, seeds, args.steps, overrides,
                       progress=False if args.quiet else None)
    elapsed = time.perf_counter() - started
    summary, diffs = ex.summarise(df, ex.KEY_METRICS, ex.WINDOW)
    command = (f"{PROG} compare --regimes {','.join(regimes)} --seeds {args.seeds} "
               f"--seed {args.seed} --steps {args.steps} --params parameters.toml")
    header = [
        f"Parameter overrides of a village-sim compare run (village-sim {_version()}).",
        "Repeat it from this directory with:",
        f"  {command}",
    ]
    ex.write_compare_outputs(out, df, summary, diffs, overrides, header, ex.PLOT_METRICS,
                             ex.WINDOW)
    if not args.quiet:
        print(format_compare_table(summary, diffs, regimes, args.seeds, args.seed, args.steps,
                                   ex.WINDOW, overrides))
        print()
        print(f"{len(regimes) * len(seeds)} runs in {elapsed:.1f} s.")
        print("Wrote timeseries.csv, summary.csv, differences.csv, parameters.toml, "
              "metrics.png to:")
    print(out)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from village_sim import experiment as ex

    if args.regime is not None:
        _one_regime(args.regime, "--regime")
    overrides = _collect_overrides(args, allow_regime=True)
    regime = args.regime if args.regime is not None else overrides.get("regime")
    overrides.pop("regime", None)
    try:
        regime = resolve_parameters(regime=regime).regime
        overrides = ex.check_overrides([regime], overrides)
    except ValueError as err:
        raise InputError(str(err)) from None
    out = _output_dir(args.out, "run")

    started = time.perf_counter()
    model = ex.run_model(regime, args.seed, args.steps, overrides,
                         panel_every=args.households_every)
    elapsed = time.perf_counter() - started
    ts = ex.timeseries(model)
    ts.insert(0, "seed", args.seed)
    ts.insert(0, "regime", regime)
    written = [
        ex.write_csv(ts, out / "timeseries.csv"),
        ex.write_csv(model.household_frame(), out / "households.csv"),
        ex.write_csv(model.decision_log(), out / "decisions.csv"),
    ]
    if args.households_every:
        written.append(ex.write_parquet(model.household_panel(), out / "household_panel.parquet"))
    command = f"{PROG} run --seed {args.seed} --steps {args.steps} --params parameters.toml"
    if args.households_every:
        command += f" --households-every {args.households_every}"
    header = [
        f"Parameters of a village-sim run (village-sim {_version()}).",
        "Repeat it from this directory with:",
        f"  {command}",
    ]
    written.append(ex.write_text(ex.format_toml({"regime": regime, **overrides}, header),
                                 out / "parameters.toml"))

    first, last = ex.window_bounds(args.steps, ex.WINDOW)
    final = ts.loc[ts["step"] >= first, list(ex.KEY_METRICS)].mean()
    print(f"Run: regime {regime}, seed {args.seed}, {args.steps} months "
          f"({elapsed:.1f} s).")
    print(f"Final-year means (months {first}-{last}, ignoring undefined months):")
    width = max(len(m) for m in ex.KEY_METRICS)
    for metric in ex.KEY_METRICS:
        value = float(final[metric])
        text = _cell(value, math.nan, math.nan, _decimals([value]))
        print(f"  {metric.ljust(width)}  {text}")
    print("Wrote " + ", ".join(p.name for p in written) + " to:")
    print(out)
    return 0


def _utf8_stdout() -> None:
    """Parameter text holds Chinese terms: write UTF-8 whatever the console's code page."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(encoding="utf-8")
        except (ValueError, OSError):  # pragma: no cover - stream already in use
            pass


def _cmd_params(args: argparse.Namespace) -> int:
    if args.markdown and args.regime is not None:
        raise InputError("--markdown prints the full reference; it cannot take --regime")
    _utf8_stdout()
    if args.markdown:
        sys.stdout.write(parameters_markdown())
        return 0
    if args.regime is not None and args.regime not in REGIMES:
        _one_regime(args.regime, "--regime")  # raises, naming the allowed regimes
    preset = REGIMES.get(args.regime, {}) if args.regime else {}
    values = resolve_parameters(regime=args.regime).as_dict()
    value_head = f"value ({args.regime})" if args.regime else "default"
    rows = [["name", value_head, "unit", "allowed", "meaning"]]
    for p in PARAMETERS:
        value = values[p.name]
        text = "none" if value is None else (str(value).lower() if isinstance(value, bool)
                                             else str(value))
        if p.name in preset and preset[p.name] != p.default:
            text += " *"
        allowed = "a regime (listed below)" if p.name == "regime" else p.allowed()
        rows.append([p.name, text, p.unit, allowed, p.meaning])
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for k, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  "
              + row[4])
        if k == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    print("\nRegimes (presets of the mechanism switches; see docs/parameters.md):")
    for name, switches in REGIMES.items():
        print(f"  {name}: " + ", ".join(f"{k}={str(v).lower()}" for k, v in switches.items()))
    if args.regime:
        print(f"\n* set by the regime {args.regime!r} (differs from the default).")
    return 0


# ---------------------------------------------------------------------------- parser
def _add_param_options(p: argparse.ArgumentParser, regime_note: str) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    """Build the ``village-sim`` argument parser (subcommands compare, run, params)."""
    parser = _Parser(
        prog=PROG,
        description="Agent-based simulation of poverty-aid allocation in a village: "
                    "favoritism (优亲厚友) under the village committee alone versus with a "
                    "resident work team (驻村工作队). One step is one month; money in yuan.",
        epilog="Examples:\n"
               f"  {PROG} compare                      # committee_only vs team_and_committee\n"
               f"  {PROG} compare --seeds 50 --set quota=0.2\n"
               f"  {PROG} run --regime team_alone --steps 36\n"
               f"  {PROG} params --markdown > docs/parameters.md\n"
               "Exit codes: 0 success, 2 bad input, 130 interrupted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)
    regimes = ", ".join(REGIMES)

    # -- compare
    c = sub.add_parser(
        "compare", help="run regimes on the same seeds and compare them (paired, with CIs)",
        description="Run each regime on the same replicate seeds (common random numbers: the "
                    "same villages and shocks), then print, for key metrics, each regime's "
                    "mean over seeds with a 95% confidence interval (t distribution over "
                    "seeds) and the paired difference of each regime minus the first. A "
                    f"seed's value is its mean over the final {WINDOW} months of the run (the "
                    "measurement window). Writes timeseries.csv, summary.csv, differences.csv, "
                    "parameters.toml and metrics.png.",
    )
    c.add_argument(
        "--regimes", metavar="R1,R2,...", default=DEFAULT_REGIMES,
        help=f"comma-separated regimes to compare; the first is the baseline of the "
             f"differences. Allowed: {regimes}. Default: {DEFAULT_REGIMES}.",
    )
    c.add_argument(
        "--seeds", metavar="N", type=_int_at_least(1, "replicates"), default=DEFAULT_SEEDS,
        help=f"number of replicates (seeds) per regime, >= 1; CIs need >= 2. "
             f"Default: {DEFAULT_SEEDS}.",
    )
    c.add_argument(
        "--seed", metavar="ROOT", type=_int_at_least(0, "root seed"), default=0,
        help="root seed, >= 0: replicate i uses "
             "SeedSequence(ROOT).spawn(N)[i].generate_state(1)[0]. Default: 0.",
    )
    c.add_argument(
        "--steps", metavar="MONTHS", type=_int_at_least(1, "months"), default=DEFAULT_STEPS,
        help=f"months to simulate per run, >= 1 (identification runs in month 1 and then "
             f"yearly). Default: {DEFAULT_STEPS}.",
    )
    _add_param_options(c, "The file may not set 'regime' (use --regimes).")
    c.add_argument(
        "--out", metavar="DIR", default=None,
        help="output directory (created if needed; files in it are replaced). Default: "
             "village_sim_output/compare-YYYYmmdd-HHMMSS in the current directory.",
    )
    c.add_argument(
        "--quiet", action="store_true",
        help="no progress bar and no table; print only the output directory. Default: off "
             "(the progress bar shows only on a terminal).",
    )
    c.set_defaults(func=_cmd_compare)

    # -- run
    r = sub.add_parser(
        "run", help="run one regime on one seed and save its outputs",
        description="Run one simulation. Writes timeseries.csv (metrics by month), "
                    "households.csv (final household frame), decisions.csv (registration "
                    "decision log), parameters.toml and, with --households-every, "
                    "household_panel.parquet. Prints the final-year means of key metrics.",
    )
    r.add_argument(
        "--regime", metavar="R", default=None,
        help=f"regime to run; overrides a 'regime' in --params or --set. Allowed: {regimes}. "
             f"Default: the file's regime, else {PARAM_BY_NAME['regime'].default}.",
    )
    r.add_argument("--seed", metavar="S", type=_int_at_least(0, "seed"), default=0,
                   help="seed of the run (the model's rng), >= 0. Default: 0.")
    r.add_argument(
        "--steps", metavar="MONTHS", type=_int_at_least(1, "months"), default=DEFAULT_STEPS,
        help=f"months to simulate, >= 1. Default: {DEFAULT_STEPS}.",
    )
    _add_param_options(r, "The file may set 'regime'.")
    r.add_argument(
        "--out", metavar="DIR", default=None,
        help="output directory (created if needed; files in it are replaced). Default: "
             "village_sim_output/run-YYYYmmdd-HHMMSS in the current directory.",
    )
    r.add_argument(
        "--households-every", metavar="K", type=_int_at_least(0, "months"), default=0,
        help="record every household every K months (month 0 included) and write "
             "household_panel.parquet; 0: do not. Default: 0.",
    )
    r.set_defaults(func=_cmd_run)

    # -- params
    p = sub.add_parser(
        "params", help="print the parameter table (names, defaults, units, ranges)",
        description="Print every parameter with its default, unit, allowed values and "
                    "meaning. With --markdown, print docs/parameters.md "
                    f"({PROG} params --markdown > docs/parameters.md).",
    )
    p.add_argument("--markdown", action="store_true",
                   help="print the Markdown reference (docs/parameters.md) instead of the "
                        "plain table. Default: off.")
    p.add_argument("--regime", metavar="R", default=None,
                   help=f"show the values under this regime's preset (changed ones marked *). "
                        f"Allowed: {regimes}. Default: none (plain defaults).")
    p.set_defaults(func=_cmd_params)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 2 bad input, 130 interrupted).

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return int(args.func(args))
    except InputError as err:
        message = " ".join(str(err).splitlines())
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
