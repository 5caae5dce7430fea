"""Teaching commands of the CLI: scenarios, handouts, bundles, and ``--lang``.

``scenarios``, ``handout`` and ``bundle`` are subcommands; ``run`` gains ``--scenario`` and
``--lang``, ``compare`` and ``county`` gain ``--lang`` (``county``'s: its figure and
``columns.csv``; its printed table stays in English).

:mod:`village_sim.cli` stays the one entry point; it calls :func:`add_commands` to add the
teaching subcommands, :func:`add_lang_option` and :func:`add_run_options` to add options to
``compare`` and ``run``, and hands over to :func:`cmd_run` and :func:`print_compare` when
those options are used (``compare``'s figure is translated by
:func:`village_sim.experiment.plot_metrics` itself). Errors follow the CLI's convention: a
one-line ``error: ...`` and exit code 2.

This module never imports :mod:`village_sim.cli`: what both need (:class:`InputError`, the
argument checks, the output directory) lives in :mod:`village_sim.cli_common`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from village_sim.cli_common import (
    DEFAULT_STEPS,
    MAX_SEEDS,
    PROG,
    InputError,
    RefusedArgument,
    add_overwrite_option,
    add_param_options,
    collect_overrides,
    command_line,
    int_at_least,
    one_regime,
    output_file,
    output_folder,
    package_version,
    say,
    utf8_stdout,
)
from village_sim.i18n import LANGUAGES, Catalog, check_lang, language_names
from village_sim.refusal import Phrase, Refusal

__all__ = [
    "add_commands",
    "add_lang_option",
    "add_run_options",
    "cmd_run",
    "format_compare_table",
    "print_compare",
]

LANG_ENV = "VILLAGE_SIM_LANG"
"""Environment variable: the default --lang of every command (a trainer sets it once)."""
LANG_HELP = ("language of printed labels, figure titles, error messages and the column "
             "descriptions of columns.csv: zh (中文), vi (Tiếng Việt) or en (English). Default, "
             f"for every command (the errors of commands without --lang too): ${LANG_ENV} if "
             "set, else English (compare and run then print metric names as in the code, as in "
             "their CSV files).")


def _not_a_language(text: str) -> Refusal:
    names = language_names()
    return Refusal("error.language", value=text,
                   allowed=", ".join(f"{code} ({names[code]})" for code in LANGUAGES))


def _lang(text: str) -> str:
    try:
        return check_lang(text)
    except ValueError:
        raise RefusedArgument(_not_a_language(text)) from None


def resolve_lang(args: argparse.Namespace) -> None:
    """Fill ``args.lang`` from $VILLAGE_SIM_LANG, else the command's fallback.

    Raises:
        InputError: for a $VILLAGE_SIM_LANG that is not a language.
    """
    if getattr(args, "lang", "absent") is not None:
        return
    raw = os.environ.get(LANG_ENV, "").strip()
    if raw:
        try:
            args.lang = check_lang(raw)
        except ValueError:
            raise InputError(_not_a_language(raw), at=f"${LANG_ENV}") from None
        return
    args.lang = getattr(args, "lang_fallback", None)


def text_width(text: str) -> int:
    """Columns a string takes on a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - text_width(text))


def _rjust(text: str, width: int) -> str:
    return " " * max(0, width - text_width(text)) + text


# ---------------------------------------------------------------------------- options
def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--lang`` (printed labels and figure titles) to an existing command."""
    parser.add_argument("--lang", metavar="L", type=_lang, default=None, help=LANG_HELP)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--scenario`` and ``--lang`` to ``run``."""
    parser.add_argument(
        "--scenario", metavar="ID", default=None,
        help="run a teaching scenario: its parameters, its events and its length (see "
             "'village-sim scenarios'); an id or the path of a scenario .toml file. --regime, "
             "--params, --set and --steps still override it. Writes also metrics.png and "
             "scenario.toml. Default: none.")
    add_lang_option(parser)
    parser.add_argument("--quiet", action="store_true",
                        help="print only the output folder. Default: off.")


# ---------------------------------------------------------------------------- compare
def _cell_text(text: str, _: Catalog) -> str:
    """A table cell in the reader's convention.

    Vietnamese writes 0,160 [0,094; 0,254] (the interval's ends apart by a semicolon, since the
    comma is the decimal mark) and 1.678.467; "undefined" is said in the reader's language.
    """
    if text == "undefined":
        return _("cli.undefined")
    return _.digits(text.replace(", ", "; ")) if _.lang == "vi" else text


def _metric_label(metric: str, lang: str | None) -> str:
    return metric if lang is None else Catalog(lang).metric(metric)


def format_compare_table(summary: Any, diffs: Any, regimes: Sequence[str], n_seeds: int,
                         root: int, steps: int, window: int, overrides: dict[str, Any],
                         lang: str) -> str:
    """The table ``compare`` prints, with translated headers, metric and regime names."""
    from village_sim.experiment import decimals as _decimals
    from village_sim.experiment import format_cell as _cell
    from village_sim.experiment import truncated, window_bounds
    from village_sim.params import resolve_parameters

    _ = Catalog(lang)
    first, last = window_bounds(steps, window)
    base = regimes[0]
    title = _("cli.compare_title", n_regimes=len(regimes), n_seeds=n_seeds, root=root,
              steps=steps, households=resolve_parameters(**overrides).n_households)
    if overrides:
        title += "; " + _("cli.compare_overrides", overrides=", ".join(
            f"{_.param(k)}={v!r}" for k, v in overrides.items()))
    lines = [
        title,
        _("cli.compare_window", window=window, first=first, last=last),
        _("cli.compare_cells"),
        *([_("cli.compare_diff", base=_.regime(base))] if len(regimes) > 1 else []),
        _("cli.compare_n"),
        "",
        *[f"[{k + 1}] {r}: {_.regime(r)}" for k, r in enumerate(regimes)],
        "",
    ]
    header = [_("cli.col_metric"), *[f"[{k + 1}]" for k in range(len(regimes))],
              *[_("cli.col_diff", regime=f"[{k + 2}]") for k in range(len(regimes) - 1)],
              _("cli.col_n")]
    rows: list[list[str]] = []
    for metric in dict.fromkeys(summary["metric"]):
        s = summary.loc[summary["metric"] == metric].set_index("regime")
        d = diffs.loc[diffs["metric"] == metric].set_index("regime")
        digits = _decimals([float(s.at[r, "mean"]) for r in regimes])

        def cell(frame: Any, regime: str, signed: bool = False, _digits: int = digits) -> str:
            text = _cell(float(frame.at[regime, "mean"]), float(frame.at[regime, "ci_low"]),
                         float(frame.at[regime, "ci_high"]), _digits, signed=signed,
                         truncated=truncated(frame, regime))
            return _cell_text(text, _)

        row = [_.metric(metric), *[cell(s, r) for r in regimes],
               *[cell(d, r, signed=True) for r in regimes[1:]]]
        ns = [int(s.at[r, "n"]) for r in regimes]
        paired = [int(d.at[r, "n"]) for r in regimes[1:]]
        if len(set(ns + paired)) == 1:
            row.append(str(ns[0]))
        else:
            row.append("/".join(map(str, ns)) + (f" {_('cli.paired')} "
                                                 + "/".join(map(str, paired)) if paired else ""))
        rows.append(row)
    widths = [max(text_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(_ljust(c, w) if i == 0 else _rjust(c, w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    lines.append(fmt(header))
    lines.append("  ".join("-" * w for w in widths))
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


def print_compare(summary: Any, diffs: Any, regimes: Sequence[str], args: argparse.Namespace,
                  overrides: dict[str, Any], elapsed: float, n_runs: int, window: int) -> None:
    """Print ``compare``'s table and closing lines in ``args.lang``."""
    _ = Catalog(args.lang)
    utf8_stdout()
    print(format_compare_table(summary, diffs, regimes, args.seeds, args.seed, args.steps,
                               window, overrides, args.lang))
    print()
    print(_("cli.runs_done", runs=n_runs, seconds=_.number(elapsed, ".1f")))
    print(_("cli.wrote", files="timeseries.csv, summary.csv, differences.csv, columns.csv, "
                               "parameters.toml, metrics.png"))


# ---------------------------------------------------------------------------- run
def _scenario(ref: str) -> Any:
    from village_sim.scenario import load_scenario

    try:
        return load_scenario(ref)
    except ValueError as err:
        raise InputError(err, at="--scenario") from None


def cmd_run(args: argparse.Namespace) -> int:
    """``village-sim run``: one regime on one seed, optionally a teaching scenario, translated."""
    out = output_folder(args.out, "run", overwrite=args.overwrite,
                        command=command_line(args.argv))  # checked before any import or run
    with out as folder:
        return _run_into(args, out, folder)


def _run_into(args: argparse.Namespace, out: Any, folder: Path) -> int:
    from village_sim import experiment as ex
    from village_sim.params import resolve_parameters

    scenario = _scenario(args.scenario) if args.scenario is not None else None
    if args.regime is not None:
        one_regime(args.regime, "--regime")
    overrides: dict[str, Any] = dict(scenario.parameters) if scenario is not None else {}
    overrides.update(collect_overrides(args, allow_regime=True))
    regime = args.regime if args.regime is not None else overrides.get("regime")
    overrides.pop("regime", None)
    try:
        regime = resolve_parameters(regime=regime).regime
        overrides = ex.check_overrides([regime], overrides)
    except ValueError as err:
        raise InputError(err) from None
    steps = args.steps if args.steps is not None else (
        scenario.steps if scenario is not None else DEFAULT_STEPS)
    events = list(scenario.events) if scenario is not None else []
    late = [e for e in events if e.month > steps]
    if late:
        note = Phrase("phrase.steps_before_event", steps=steps, event=late[0].kind,
                      month=late[0].month)
        print(f"note: {say(note, args.lang)}", file=sys.stderr)
    from village_sim.model import VillageModel

    started = time.perf_counter()
    model = VillageModel(rng=args.seed, regime=regime, panel_every=args.households_every,
                         events=events, **overrides)
    for _step in range(steps):
        model.step()
    elapsed = time.perf_counter() - started
    ts = ex.timeseries(model)
    ts.insert(0, "seed", args.seed)
    ts.insert(0, "regime", regime)
    tables = {"timeseries.csv": ts, "households.csv": model.household_frame(),
              "decisions.csv": model.decision_log()}
    written = [ex.write_csv(table, folder / name) for name, table in tables.items()]
    if args.households_every:
        tables["household_panel.parquet"] = model.household_panel()
        written.append(ex.write_parquet(tables["household_panel.parquet"],
                                        folder / "household_panel.parquet"))
    written.append(ex.write_columns(folder, tables, lang=args.lang))
    command = f"{PROG} run --seed {args.seed} --steps {steps} --params parameters.toml"
    if scenario is not None:
        command += " --scenario scenario.toml"
        assert scenario.path is not None
        written.append(ex.write_text(scenario.path.read_text(encoding="utf-8"),
                                     folder / "scenario.toml"))
    if args.households_every:
        command += f" --households-every {args.households_every}"
    header = [f"Parameters of a village-sim run (village-sim {package_version()}).",
              "Repeat it from this directory with:", f"  {command}"]
    written.append(ex.write_text(ex.format_toml({"regime": regime, **overrides}, header),
                                 folder / "parameters.toml"))
    lang = args.lang
    if scenario is not None:
        from village_sim.experiment import atomic_path
        from village_sim.fonts import use_fonts
        from village_sim.teaching import run_figure

        path = folder / "metrics.png"
        with use_fonts(), atomic_path(path) as tmp:
            run_figure(ts, scenario, args.seed, lang).savefig(tmp, format="png", dpi=110)
        written.append(path)
    out.commit()

    _ = Catalog(lang)
    utf8_stdout()
    if args.quiet:
        print(out.target)
        return 0
    first, last = ex.window_bounds(steps, ex.WINDOW)
    final = ts.loc[ts["step"] >= first, list(ex.KEY_METRICS)].mean()
    if scenario is not None:
        print(_("cli.run_scenario", title=scenario.text(_.lang).title, id=scenario.id))
        shown = [_("handout.month_event", month=e.month, event=_.event(e.kind))
                 for e in events]
        print(_("cli.run_events", events="; ".join(shown) if shown else _("cli.no_events")))
    print(_("cli.run_title", regime=regime if lang is None else _.regime(regime),
            seed=args.seed, steps=steps, seconds=_.number(elapsed, ".1f")))
    print(_("cli.final_year", first=first, last=last))
    labels = {m: _metric_label(m, lang) for m in ex.KEY_METRICS}
    width = max(text_width(v) for v in labels.values())
    for metric in ex.KEY_METRICS:
        value = float(final[metric])
        text = _cell_text(ex.format_cell(value, math.nan, math.nan, ex.decimals([value])), _)
        print(f"  {_ljust(labels[metric], width)}  {text}")
    if scenario is not None:
        from village_sim.scenario import ScenarioError, load_control
        from village_sim.teaching import claim_sentence

        try:
            claim = claim_sentence(scenario, load_control(scenario), lang)
        except ScenarioError:
            claim = ""
        if claim:
            print(_("cli.claim_hint", claim=claim, id=scenario.id, lang=_.lang))
    print(_("cli.wrote", files=", ".join(p.name for p in written)))
    print(out.target)
    return 0


# ---------------------------------------------------------------------------- scenarios
def _cmd_scenarios(args: argparse.Namespace) -> int:
    from village_sim.scenario import list_scenarios, load_scenario

    _ = Catalog(args.lang)
    utf8_stdout()
    if args.answers and args.id is None:
        raise InputError("error.answers_need_id", at="--answers")
    if args.id is not None:
        try:
            scenario = load_scenario(args.id)
        except ValueError as err:
            raise InputError(err) from None
        text = scenario.text(_.lang)
        print(f"{text.title} ({scenario.id})")
        print()
        for paragraph in text.paragraphs():
            print(paragraph)
            print()
        for key, items in (("handout.objectives", text.objectives),
                           ("handout.watch", text.watch)):
            print(_(key))
            for item in items:
                print(f"  - {item}")
            print()
        print(_("handout.questions"))
        for k, question in enumerate(text.questions, start=1):
            print(f"  {k}. {question}")
            if args.answers and text.answers:
                print(f"     → {text.answers[k - 1]}")
        return 0
    scenarios = list_scenarios()
    print(_("cli.scenarios_header", n=len(scenarios), lang=_.lang))
    print()
    width = max(len(s.id) for s in scenarios)
    for k, s in enumerate(scenarios, start=1):
        text = s.text(_.lang)
        print(f"{k:2d}. {s.id.ljust(width)}  {text.title}")
        print(f"    {' ' * width}  {text.summary}")
        print(f"    {' ' * width}  ({_('cli.compared_with', id=s.control)})")
    return 0


# ---------------------------------------------------------------------------- handout
def _cmd_handout(args: argparse.Namespace) -> int:
    lang = args.lang
    fmt = args.format
    suffix = Path(args.out).suffix.lower().lstrip(".") if args.out else ""
    if fmt is None:
        fmt = suffix if suffix in ("html", "pdf") else "html"
    elif suffix in ("html", "pdf") and suffix != fmt:
        raise InputError("error.format_suffix", at=f"--format {fmt}", out=args.out,
                         suffix=suffix, format=fmt)
    # an explicit --out is checked before anything is loaded or run; the default name needs
    # the scenario's id
    out = None if args.out is None else output_file(args.out, overwrite=args.overwrite)
    try:
        scenario = _handout_scenario(args.id)
    except InputError:
        if out is not None:
            out.abandon()
        raise
    if out is None:
        out = output_file(f"handout-{scenario.id}-{lang}.{fmt}", overwrite=args.overwrite,
                          default=True)
    command = (f"{PROG} handout {args.id} --lang {lang} --format {fmt} --seeds {args.seeds} "
               f"--seed {args.seed}" + (" --answers" if args.answers else ""))
    with out as staging:
        from village_sim.handout import make_handout

        make_handout(scenario.path or args.id, lang, staging, fmt, seeds=args.seeds,
                     root=args.seed, answers=args.answers, command=command)
    print(out.target)
    return 0


def _handout_scenario(ref: str) -> Any:
    from village_sim.scenario import load_scenario

    try:
        return load_scenario(ref)
    except ValueError as err:
        raise InputError(err) from None


# ---------------------------------------------------------------------------- bundle
def _cmd_bundle(args: argparse.Namespace) -> int:
    from village_sim.bundle import BundleError, build_bundle, check_target

    def progress(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    try:
        target = check_target(args.platform, args.arch, args.python)
    except BundleError as err:
        raise InputError(err) from None
    out = output_folder(args.dir, "bundle", overwrite=args.overwrite, option="DIR",
                        command=command_line(args.argv))
    with out as folder:
        try:
            build_bundle(folder, target.platform, target.arch, target.python,
                         progress=progress, reuse=out.target / "wheels")
        except BundleError as err:
            raise InputError(err) from None
    print(out.target)
    return 0


def _seconds(text: str) -> float:
    """An argparse ``type``: seconds above 0, at most 3600 (``--month-seconds``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: a number of seconds above "
                                         "0, at most 3600")
    return value


def _cmd_classroom(args: argparse.Namespace) -> int:
    from village_sim.classroom_server import run_classroom

    if args.resume is not None and (args.record is not None or args.set or args.params
                                    or args.regime is not None):
        raise InputError(ValueError("--resume LOG continues that session with its own "
                                    "village and record; allowed: --resume alone, or a new "
                                    "session with --record, --regime, --params and --set"),
                         at="--resume")
    overrides = {} if args.resume else collect_overrides(args, allow_regime=False)
    overrides.setdefault("n_households", args.households)
    if args.regime is not None:
        one_regime(args.regime, "--regime")
    try:
        return run_classroom(host=args.host, port=args.port, seed=args.seed,
                             regime=args.regime or "team_and_committee", overrides=overrides,
                             month_seconds=args.month_seconds,
                             max_participants=args.max_participants,
                             record=args.resume or args.record, resume=args.resume is not None,
                             lang=args.lang or "en")
    except KeyboardInterrupt:
        return 130
    except ValueError as err:
        raise InputError(err) from None


def _cmd_replay(args: argparse.Namespace) -> int:
    # The output is checked before anything is imported or read: a bad --out is refused first.
    out = None if args.out is None else output_file(args.out, overwrite=args.overwrite)
    import pandas as pd

    from village_sim.classroom import replay

    try:
        model = replay(args.log)
    except ValueError as err:
        if out is not None:
            out.abandon()
        raise InputError(err, at=args.log) from None
    if out is None:
        out = output_file(str(Path(args.log) / "replay_metrics.csv"), overwrite=args.overwrite,
                          default=True)
    frame = model.datacollector.get_model_vars_dataframe()
    with out as staging:
        frame.to_csv(staging, index_label="month")
    print(f"replayed {int(model.steps)} months of {args.log}: metrics in {out.target}")
    recorded = Path(args.log) / "metrics.csv"
    if recorded.is_file():
        session = pd.read_csv(recorded, index_col="month")
        again = pd.read_csv(out.target, index_col="month")
        same = session.shape == again.shape and session.equals(again)
        print("identical to the session's metrics.csv" if same else
              "DIFFERS from the session's metrics.csv")
        return 0 if same else 1
    return 0


def add_commands(sub: Any) -> None:
    """Add ``scenarios``, ``handout``, ``bundle``, ``classroom`` and ``replay``."""
    from village_sim.bundle import ARCHES, PLATFORMS, PYTHONS

    sc = sub.add_parser(
        "scenarios", help="list the teaching scenarios (or show one in full)",
        description="List the teaching scenarios shipped with the package: id, title and the "
                    "first sentence of the story, in the chosen language. With an ID, print "
                    "that scenario's story, objectives, what to watch and questions. Run one "
                    "with 'village-sim run --scenario ID'; print it with 'village-sim handout "
                    "ID'.")
    sc.add_argument("id", metavar="ID", nargs="?", default=None,
                    help="show this scenario in full (an id or a .toml file). Default: list "
                         "all.")
    sc.add_argument("--lang", metavar="L", type=_lang, default=None,
                    help=LANG_HELP)
    sc.add_argument("--answers", action="store_true",
                    help="with an ID: also print the instructor's answers. Default: off.")
    sc.set_defaults(func=_cmd_scenarios, lang_fallback="en")

    h = sub.add_parser(
        "handout", help="write a printable handout of a scenario (HTML or PDF)",
        description="Run the scenario and its control on the same paired seeds, then write a "
                    "printable handout: story, objectives, what to watch, settings, a figure "
                    "of the scenario against its control, the measured claim, and the "
                    "discussion questions with room to write. HTML is one self-contained file "
                    "(figure embedded); PDF is A4 with the fonts embedded. No internet needed.")
    h.add_argument("id", metavar="ID", help="scenario id (see 'village-sim scenarios') or the "
                                            "path of a scenario .toml file")
    h.add_argument("--lang", metavar="L", type=_lang, default=None,
                   help=LANG_HELP)
    h.add_argument("--out", metavar="FILE", default=None,
                   help="file to write: checked before the runs, written whole at the end. "
                        "Default: handout-ID-LANG.FORMAT in the current folder (-2, -3 ... "
                        "added when that name is taken).")
    add_overwrite_option(h, what="file")
    h.add_argument("--format", choices=("html", "pdf"), default=None,
                   help="html or pdf. Default: from --out's suffix, else html.")
    h.add_argument("--seeds", metavar="N",
                   type=int_at_least(2, "phrase.paired_villages", MAX_SEEDS), default=10,
                   help="paired villages (seeds) for the figure and the claim, >= 2. Default: 10.")
    h.add_argument("--seed", metavar="ROOT", type=int_at_least(0, "phrase.root_seed"), default=0,
                   help="root seed of the replicate seeds (as in compare). Default: 0.")
    h.add_argument("--answers", action="store_true",
                   help="add the instructor's answers on a last page. Default: off.")
    h.set_defaults(func=_cmd_handout, lang_fallback="en")

    b = sub.add_parser(
        "bundle", help="write an offline install bundle (wheels) for a classroom laptop",
        description="Write DIR with every wheel needed to install village-sim on a laptop "
                    "with no internet (the exact versions of uv.lock, for the chosen platform "
                    "and Python; the app's assets come in the solara-assets wheel), "
                    "INSTALL.txt with the one-line install 'pip install --no-index "
                    "--find-links wheels village-sim' and the Python it needs, and install "
                    "scripts. Needs a source checkout, uv and internet access to PyPI.")
    b.add_argument("dir", metavar="DIR", help="folder to write: new or empty (checked "
                                              "before any download; filled as a whole at "
                                              "the end)")
    add_overwrite_option(b)
    b.add_argument("--platform", choices=PLATFORMS, default=None,
                   help="operating system of the laptop. Default: this machine's.")
    b.add_argument("--arch", metavar="ARCH", default=None,
                   help="processor: " + "; ".join(f"{p}: {', '.join(a)}"
                                                  for p, a in ARCHES.items())
                        + ". Default: this machine's, else the first listed.")
    b.add_argument("--python", metavar="X.Y", default=None,
                   help="Python version on the laptop: " + ", ".join(PYTHONS)
                        + ". Default: this Python's.")
    b.add_argument("--quiet", action="store_true", help="print only the bundle's path.")
    b.set_defaults(func=_cmd_bundle)

    cr = sub.add_parser(
        "classroom", help="open a classroom room: trainees take the village's decisions "
                          "from their phones",
        description="Open a room on this laptop: trainees open the printed address on a "
                    "phone or laptop browser, enter the room code and a nickname, choose a "
                    "language (zh, vi, en) and play a cadre, a work team member, a "
                    "household or the upper-level auditor; any decision nobody takes before "
                    "the timer ends is taken by the model's own rule, so the village always "
                    "advances. The instructor's screen (this laptop only; its address is "
                    "printed with a key) seats people, runs the months, triggers events, "
                    "reveals the truth and compares the class's village with the same "
                    "village run by the rules alone. Needs no internet. Every decision is "
                    "recorded as it is taken; 'village-sim replay DIR' re-makes the run.")
    cr.add_argument("--host", metavar="ADDRESS", default="127.0.0.1",
                    help="address to listen on: 127.0.0.1 (this laptop only; no room code) "
                         "or 0.0.0.0 (every network of this laptop, e.g. a phone hotspot; "
                         "then a room code is required). Default: 127.0.0.1.")
    cr.add_argument("--port", metavar="N", type=int_at_least(0, "phrase.tcp_port", 65535),
                    default=8765, help="TCP port, 1-65535; 0: any free port (printed). "
                                       "Default: 8765.")
    cr.add_argument("--seed", metavar="S", type=int_at_least(0, "phrase.seed"), default=0,
                    help="the village's seed, >= 0 (the debrief runs the same village). "
                         "Default: 0.")
    cr.add_argument("--regime", metavar="R", default=None,
                    help="the village's regime. Default: team_and_committee.")
    cr.add_argument("--households", metavar="N", type=int_at_least(10, "phrase.households"),
                    default=60, help="households in the village, >= 10 (a class plays a "
                                     "small village). Default: 60.")
    add_param_options(cr, "The file may not set 'regime' (use --regime).")
    cr.add_argument("--month-seconds", metavar="S", type=_seconds, default=60.0,
                    help="how long each decision stays open for people, in seconds (0 < S "
                         "<= 3600); the instructor can close it sooner. Default: 60.")
    cr.add_argument("--max-participants", metavar="N",
                    type=int_at_least(1, "phrase.participants", 500), default=60,
                    help="most participants at once, 1-500. Default: 60.")
    cr.add_argument("--record", metavar="DIR", default=None,
                    help="folder of the session's record (new). Default: "
                         "classroom-YYYYmmdd-HHMMSS in the current folder.")
    cr.add_argument("--resume", metavar="LOG", default=None,
                    help="continue the session recorded in LOG (its village is rebuilt from "
                         "the record, exactly, and the record goes on). Default: a new "
                         "session.")
    cr.add_argument("--lang", metavar="L", type=_lang, default=None, help=LANG_HELP)
    cr.set_defaults(func=_cmd_classroom, lang_fallback="en")

    rp = sub.add_parser(
        "replay", help="re-simulate a classroom session from its record",
        description="Re-simulate the session recorded in LOG (a classroom record folder) "
                    "from its decisions alone: the same village, the same decisions at the "
                    "same points, the same run. Writes the monthly metrics and, when the "
                    "session wrote metrics.csv, says whether the replay is identical to it "
                    "(exit code 1 if not).")
    rp.add_argument("log", metavar="LOG", help="the session's record folder")
    rp.add_argument("--out", metavar="FILE", default=None,
                    help="CSV file of the replayed metrics (checked before the replay, written "
                         "whole). Default: LOG/replay_metrics.csv (-2, -3 ... added when that "
                         "name is taken).")
    add_overwrite_option(rp, what="file")
    rp.set_defaults(func=_cmd_replay)
