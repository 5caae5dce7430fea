"""Command line: ``village-sim compare | run | params | effects | sweep | report | viz``.

This module only parses arguments, checks them and prints; the experiment logic lives in
:mod:`village_sim.experiment`. Every input is checked before anything runs; a bad input ends
with a one-line ``error: ...`` message on stderr and exit code 2 (no traceback). The message is
a refusal of the catalogs (:mod:`village_sim.refusal`), said in the language of ``--lang`` or,
for every command, ``$VILLAGE_SIM_LANG`` (argparse's own messages too); options, names and
values stay as typed.

The teaching commands and ``run`` live in :mod:`village_sim.teaching_cli`; what both modules
share (:class:`~village_sim.cli_common.InputError`, argument checks, the output directory)
lives in :mod:`village_sim.cli_common`, so imports point one way: cli -> teaching_cli ->
cli_common.

Exit codes: 0 success, 2 bad input, 130 interrupted (Ctrl-C); ``sweep`` also exits 1 when
some runs failed or are missing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from village_sim import teaching_cli
from village_sim.cli_common import (
    DEFAULT_STEPS,
    MAX_ROWS_IN_MEMORY,
    MAX_SEEDS,
    MAX_STEPS,
    PROG,
    InputError,
    RefusedArgument,
    add_overwrite_option,
    add_param_options,
    collect_overrides,
    command_line,
    int_at_least,
    one_regime,
    output_folder,
    package_version,
    parse_assignment,
    say,
    utf8_stdout,
)
from village_sim.params import (
    PARAM_BY_NAME,
    PARAMETERS,
    REGIMES,
    parameters_markdown,
    resolve_parameters,
)
from village_sim.refusal import Number, Phrase, Quoted, Refusal

__all__ = ["build_parser", "main", "parse_assignment"]

DEFAULT_REGIMES = "committee_only,team_and_committee"  # = experiment.DEFAULT_REGIMES
DEFAULT_SEEDS = 20
COUNTY_RULES = "none,random,poorest_first,cash_equivalent"
WINDOW = 12  # = experiment.WINDOW (kept here so --help does not import the model)


_ARGPARSE_MESSAGES = {
    "error.invalid_choice": r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)",
    "error.expected_one": r"expected one argument",
    "error.expected_some": r"expected at least one argument",
    "error.explicit_ignored": r"ignored explicit argument (?P<value>.+)",
    "error.required": r"the following arguments are required: (?P<names>.+)",
    "error.ambiguous": r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)",
    "error.unrecognized": r"unrecognized arguments: (?P<names>.+)",
}
"""argparse's own messages (its English, Python 3.12) -> the refusals that say them."""


def _argparse_refusal(message: str, cause: BaseException | None) -> Refusal | None:
    """An argparse error message as a refusal, or ``None`` for a wording not known here.

    A message of one of our argument types is its :class:`RefusedArgument`'s refusal (argparse
    raised its error while handling it, so it is the error's context).
    """
    argument = re.fullmatch(r"argument (?P<option>[^:]+): (?P<problem>.+)", message, re.S)
    if argument is not None:
        inner = cause.refusal if isinstance(cause, RefusedArgument) \
            else _argparse_refusal(argument["problem"], None)
        return None if inner is None else Refusal("error.argument", option=argument["option"],
                                                  problem=inner)
    for kind, pattern in _ARGPARSE_MESSAGES.items():
        found = re.fullmatch(pattern, message, re.S)
        if found is not None:
            return Refusal(kind, **found.groupdict())
    return None


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: ``error: ... (see 'PROG --help')``.

    Said in :attr:`lang` (set by :func:`main` from ``--lang`` or ``$VILLAGE_SIM_LANG`` before
    the arguments are parsed); a wording of argparse not known here stays in English.
    """

    lang: str | None = None

    def error(self, message: str) -> NoReturn:
        cause = sys.exc_info()[1]
        refusal = _argparse_refusal(message, getattr(cause, "__context__", None))
        if refusal is None or str(refusal) != message:  # argparse worded it otherwise
            refusal = Refusal(message)
        text = say(Refusal("error.see_help", problem=refusal, prog=self.prog), self.lang)
        self.exit(2, f"error: {text}\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise RefusedArgument(Refusal("error.seconds", value=text))
    return value


def _runs_per_task(text: str) -> int | str:
    from village_sim.sweep.engines import check_runs_per_task

    try:
        return check_runs_per_task(text)
    except Refusal as refusal:
        raise RefusedArgument(refusal) from None


def _regime_list(text: str) -> list[str]:
    from village_sim.experiment import check_regimes

    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        return check_regimes(names)
    except ValueError as err:
        raise InputError(err, at="--regimes") from None


# ---------------------------------------------------------------------------- formatting
def format_compare_table(
    summary: Any, diffs: Any, regimes: Sequence[str], n_seeds: int, root: int, steps: int,
    window: int, overrides: dict[str, Any],
) -> str:
    """The table ``compare`` prints: per-regime means with CIs, paired differences, n."""
    from village_sim import experiment as ex
    from village_sim.experiment import window_bounds

    first, last = window_bounds(steps, window)
    base = regimes[0]
    n_households = resolve_parameters(**overrides).n_households
    several = len(regimes) > 1
    lines = [
        (f"Paired comparison: {len(regimes)} regimes" if several else "One regime: "
         f"{regimes[0]}") + f" x {n_seeds} seeds (root seed {root}), "
        f"{steps} months, {n_households} households"
        + (", overrides: " + ", ".join(f"{k}={v!r}" for k, v in overrides.items())
           if overrides else ""),
        f"Measurement window: the final {window} months of each run (months {first}-{last}); "
        "each seed's value is its mean over the window, ignoring months where the metric is "
        "undefined.",
        "Cells: mean over seeds [95% CI: t distribution over seeds; for shares on the logit "
        f"scale, so it stays within 0-1; none below {ex.MIN_SEEDS_FOR_CI} seeds]; "
        "† = interval cut at the metric's bounds.",
        *([f"diff: regime minus {base} on the same seeds (paired, common random numbers); "
           "* = CI excludes 0."] if several else []),
        "n: seeds where the metric is defined (per regime / paired if they differ).",
        "Units and definitions: columns.csv in the output folder; docs/ODD.md section 9.",
        "",
    ]
    return "\n".join([*lines, *paired_table_rows(summary, diffs, regimes)])


def paired_table_rows(summary: Any, diffs: Any, regimes: Sequence[str]) -> list[str]:
    """The rows of a paired table (``compare`` and ``county``).

    A metric per row: each regime's mean [CI], the differences against the first regime, n.
    """
    from village_sim import experiment as ex

    lines: list[str] = []
    header = ["metric", *regimes, *[f"diff {r}" for r in regimes[1:]], "n"]
    rows: list[list[str]] = []
    for metric in dict.fromkeys(summary["metric"]):
        s = summary.loc[summary["metric"] == metric].set_index("regime")
        d = diffs.loc[diffs["metric"] == metric].set_index("regime")
        digits = ex.decimals([float(s.at[r, "mean"]) for r in regimes])
        row = [metric]
        row += [ex.format_cell(float(s.at[r, "mean"]), float(s.at[r, "ci_low"]),
                               float(s.at[r, "ci_high"]), digits,
                               truncated=ex.truncated(s, r)) for r in regimes]
        row += [ex.format_cell(float(d.at[r, "mean"]), float(d.at[r, "ci_low"]),
                               float(d.at[r, "ci_high"]), digits, signed=True,
                               truncated=ex.truncated(d, r)) for r in regimes[1:]]
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
    return lines


# ---------------------------------------------------------------------------- commands
def _cmd_compare(args: argparse.Namespace) -> int:
    out = output_folder(args.out, "compare", overwrite=args.overwrite,
                        command=command_line(args.argv))  # checked before any import or run
    with out as folder:
        from village_sim import experiment as ex

        regimes = _regime_list(args.regimes)
        overrides = collect_overrides(args, allow_regime=False)
        try:
            overrides = ex.check_overrides(regimes, overrides)
        except ValueError as err:
            raise InputError(err) from None
        rows = len(regimes) * args.seeds * (args.steps + 1)
        if rows > MAX_ROWS_IN_MEMORY:
            raise InputError("error.too_many_rows", seeds=args.seeds, steps=args.steps,
                             regimes=len(regimes), rows=Number(rows, ","),
                             most=Number(MAX_ROWS_IN_MEMORY, ","))
        seeds = ex.replicate_seeds(args.seed, args.seeds)
        started = time.perf_counter()
        df = ex.run_paired(regimes, seeds, args.steps, overrides,
                           progress=False if args.quiet else None)
        elapsed = time.perf_counter() - started
        summary, diffs = ex.summarise(df, ex.KEY_METRICS, ex.WINDOW)
        command = (f"{PROG} compare --regimes {','.join(regimes)} --seeds {args.seeds} "
                   f"--seed {args.seed} --steps {args.steps} --params parameters.toml")
        header = [
            f"Parameter overrides of a village-sim compare run (village-sim "
            f"{package_version()}).",
            "Repeat it from this directory with:",
            f"  {command}",
        ]
        ex.write_compare_outputs(folder, df, summary, diffs, overrides, header,
                                 ex.PLOT_METRICS, ex.WINDOW, lang=args.lang)
    if not args.quiet and args.lang is not None:  # translated table (teaching_cli)
        teaching_cli.print_compare(summary, diffs, regimes, args, overrides, elapsed,
                                   len(regimes) * len(seeds), ex.WINDOW)
    elif not args.quiet:
        print(format_compare_table(summary, diffs, regimes, args.seeds, args.seed, args.steps,
                                   ex.WINDOW, overrides))
        print()
        print(f"{len(regimes) * len(seeds)} runs in {elapsed:.1f} s.")
        print("Wrote timeseries.csv, summary.csv, differences.csv, columns.csv (what every "
              "column means, with units), parameters.toml, metrics.png to:")
    print(out.target)
    return 0


def _count_or_file(text: str) -> int | str:
    """``--villages`` / ``--teams``: a number (checked by the county), or a TOML file's path."""
    try:
        return int(text.strip())
    except ValueError:
        return text


def _cmd_county(args: argparse.Namespace) -> int:
    out = output_folder(args.out, "county", overwrite=args.overwrite,
                        command=command_line(args.argv))  # checked before any run
    with out as folder:
        from village_sim import county_compare as cc
        from village_sim import experiment as ex
        from village_sim.county import CountyModel
        from village_sim.county.deployment import unseen_rules

        rules = [name.strip() for name in args.rules.split(",") if name.strip()]
        overrides = collect_overrides(args, allow_regime=False)
        county: dict[str, Any] = {"teams": _count_or_file(args.teams),
                                  "allocation_rule": args.allocation_rule, **overrides}
        villages = _count_or_file(args.villages)
        county["villages" if isinstance(villages, str) else "n_villages"] = villages
        for name in ("county_budget_per_household", "county_quota", "audit_capacity"):
            if getattr(args, name) is not None:
                county[name] = getattr(args, name)
        try:
            cc.check_rules(rules)
            probe = CountyModel(rng=args.seed, deployment=rules[0], **county)  # every argument
        except ValueError as err:
            raise InputError(err) from None
        seeds = ex.replicate_seeds(args.seed, args.seeds)
        started = time.perf_counter()
        runs = cc.run_rules(rules, seeds, args.years, county,
                            progress=False if args.quiet else None)
        elapsed = time.perf_counter() - started
        summary, diffs = cc.summarise_rules(runs)
        effectiveness = cc.cost_effectiveness(runs)
        shown = {k: v for k, v in county.items() if k not in overrides}
        header = [f"Parameters of a village-sim county run (village-sim {package_version()}).",
                  f"Rules {','.join(rules)}, {args.seeds} seeds (root {args.seed}), "
                  f"{args.years} years; county: "
                  + ", ".join(f"{k}={v!r}" for k, v in shown.items()),
                  "Village parameters common to every village:"]
        cc.write_county_outputs(folder, runs, summary, diffs, effectiveness,
                                ex.format_toml(overrides, header), lang=args.lang)
    if not args.quiet:
        print(cc.format_county_table(summary, diffs, effectiveness, rules, args.seeds,
                                     args.years, paired_table_rows(summary, diffs, rules),
                                     unseen_rules(rules, probe.deployment.term_years.tolist(),
                                                  12 * args.years)))
        print()
        print(f"{len(runs)} county runs in {elapsed:.1f} s. Wrote county_timeseries.csv, "
              "village_year.parquet, deployment_log.csv, summary.csv, differences.csv, "
              "cost_effectiveness.csv, columns.csv, parameters.toml, county_metrics.png to:")
    print(out.target)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    # One implementation serves plain runs, teaching scenarios and translated output.
    return teaching_cli.cmd_run(args)


def _params_in_language(args: argparse.Namespace, values: dict[str, Any],
                        preset: dict[str, Any]) -> None:
    """``params --lang L``: every parameter by its label, value, unit and allowed values."""
    from village_sim.i18n import Catalog
    from village_sim.viz.controller import parameter_text

    _ = Catalog(args.lang)
    head = _("cli.params_value", regime=_.regime(args.regime)) if args.regime \
        else _("cli.params_default")
    rows = [[_("cli.params_name"), _("cli.params_label"), head, _("cli.params_unit"),
             _("cli.params_allowed")]]
    for p in PARAMETERS:
        text = parameter_text(values[p.name], _.lang)
        if p.name == "regime":
            text = _.regime_short(values[p.name])
        if p.name in preset and preset[p.name] != p.default:
            text += " *"
        allowed = " / ".join(_.regime_short(r) for r in REGIMES) if p.name == "regime" \
            else _.allowed(p.name)
        rows.append([p.name, _.param(p.name), text, _.unit(p.unit), allowed])
    widths = [max(teaching_cli.text_width(r[i]) for r in rows) for i in range(4)]
    for k, row in enumerate(rows):
        print("  ".join(c + " " * (w - teaching_cli.text_width(c))
                        for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
        if k == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    print("\n" + _("cli.params_regimes"))
    for name, switches in REGIMES.items():
        print(f"  {_.regime(name)} ({name}): " + ", ".join(
            f"{k}={str(v).lower()}" for k, v in switches.items()))
    if args.regime:
        print(_("cli.params_changed"))


def _cmd_params(args: argparse.Namespace) -> int:
    if args.markdown and args.regime is not None:
        raise InputError("error.markdown_regime")
    utf8_stdout()
    if args.markdown:
        sys.stdout.write(parameters_markdown())
        return 0
    if args.regime is not None and args.regime not in REGIMES:
        one_regime(args.regime, "--regime")  # raises, naming the allowed regimes
    preset = REGIMES.get(args.regime, {}) if args.regime else {}
    values = resolve_parameters(regime=args.regime).as_dict()
    if args.lang is not None:
        _params_in_language(args, values, preset)
        return 0
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


def _cmd_effects(args: argparse.Namespace) -> int:
    from village_sim import effects
    from village_sim import experiment as ex
    from village_sim.params import EFFECTS

    names = args.only or sorted(EFFECTS)
    unknown = [n for n in names if n not in EFFECTS]
    if unknown:
        raise InputError("error.no_declared_effect", at="--only", names=Quoted(unknown),
                         allowed=", ".join(sorted(EFFECTS)))
    overrides = collect_overrides(args, allow_regime=False)
    clash = sorted(set(overrides) & set(names))
    if clash:
        raise InputError("error.shared_and_changed", at="--params/--set", names=", ".join(clash))
    for name in names:
        try:
            ex.check_overrides([EFFECTS[name].regime], {**overrides, **dict(EFFECTS[name].base)})
        except ValueError as err:
            raise InputError(err) from err
    utf8_stdout()
    # every declaration's runs stepped together (the declarations share their default sides)
    checks = effects.check_many(names, overrides=overrides, seeds=args.seeds)
    if not args.markdown:
        for result in checks:
            print(result.describe(), flush=True)
    else:
        sys.stdout.write(effects.markdown_table(checks))
    failed = [c.name for c in checks if not c.holds]
    if failed:
        print(f"{len(failed)} of {len(checks)} declared effects do not hold: "
              + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    # Pin BLAS threads before anything imports numpy: this process (serial engine) and every
    # process it starts inherit the setting (DESIGN §7).
    from village_sim.sweep.threads import pin_blas_threads

    pin_blas_threads()
    if not args.dry_run:
        from village_sim.outputs import OutputError, check_folder

        try:
            check_folder(args.out)  # before the engine starts or the spec is read
        except OutputError as err:
            raise InputError(err) from None
    from village_sim.sweep.engines import make_engine, run_sweep
    from village_sim.sweep.spec import SpecError, load_spec
    from village_sim.sweep.store import SweepDirError

    engine = args.engine or "dask"
    cluster = None
    try:
        if args.cluster_config is not None:
            from village_sim.sweep.cluster import load_cluster_config

            if engine != "slurm":
                raise Refusal("error.cluster_needs_slurm")
            cluster = load_cluster_config(args.cluster_config)
        if engine != "slurm" or cluster is not None:  # else the spec's [cluster], once read
            make_engine(engine, args.workers, args.scheduler, args.max_in_flight,
                        args.connect_timeout, cluster)
    except ValueError as err:
        raise InputError(err) from None
    try:
        spec = load_spec(args.spec)
    except SpecError as err:
        raise InputError(err) from None
    if engine == "slurm" and cluster is None and not args.dry_run:
        cluster = spec.cluster  # the spec's [cluster] (a missing one is refused here)
        try:
            make_engine(engine, args.workers, args.scheduler, args.max_in_flight,
                        args.connect_timeout, cluster)
        except ValueError as err:
            raise InputError(err) from None
    if args.dry_run:
        from village_sim.sweep.design import count_runs, design_points

        design = design_points(spec)
        rows, distinct = count_runs(spec, design)  # counted, never listed
        print(f"sweep {spec.name!r} (spec hash {spec.spec_hash}): design {spec.design}, "
              f"{len(design.points)} points x {len(spec.regimes)} regimes x {spec.replicates} "
              f"replicates = {rows} runs ({distinct} distinct), "
              f"{spec.steps} months each; regimes: {', '.join(spec.regimes)}; swept: "
              f"{', '.join(spec.axis_names) or 'nothing'}.")
        return 0
    try:
        summary = run_sweep(spec, args.out, engine=engine, workers=args.workers,
                            scheduler=args.scheduler, max_in_flight=args.max_in_flight,
                            retry_failed=args.retry_failed, runs_per_task=args.runs_per_task,
                            progress=False if args.quiet else (True if args.progress else None),
                            connect_timeout=args.connect_timeout, cluster=cluster)
    except (SweepDirError, ConnectionError) as err:
        raise InputError(err) from None
    if summary.interrupted:  # Ctrl-C: one line, nothing else (no worker tracebacks either)
        print(f"{summary.line()} Rerun the same command to resume: only the missing runs "
              "will run.", file=sys.stderr)
        return summary.exit_code
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    for run_id, regime, replicate, last in summary.failures[:5]:
        print(f"failed: run {run_id} ({regime}, replicate {replicate}): {last}", file=sys.stderr)
    if len(summary.failures) > 5:
        print(f"failed: ... and {len(summary.failures) - 5} more", file=sys.stderr)
    for line in summary.lost_errors[:5]:
        print(f"lost: {line}", file=sys.stderr)
    print(summary.line())
    if summary.stored_failed:
        print(f"Failed runs: status and traceback in {summary.out / 'run_table.parquet'} and "
              f"{summary.out / 'records'}/<run_id>.json; --retry-failed runs them again.")
    if summary.missing or summary.interrupted:
        print("Rerun the same command to resume: only the missing runs will run.")
    print(summary.out)
    return summary.exit_code


def _cmd_sweep_compact(args: argparse.Namespace) -> int:
    from village_sim.sweep.store import SweepDirError, compact_sweep

    try:
        done = compact_sweep(args.dir, args.runs_per_part)
    except SweepDirError as err:
        raise InputError(err) from None
    if not args.quiet:
        print(f"compacted: {done.runs} runs moved into {done.parts} part sets, "
              f"{done.files_removed} per-run files removed; {done.files_before} files before, "
              f"{done.files_after} after.")
    print(args.dir)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from village_sim.sweep.store import REPORT_NAMES

    try:
        out = output_folder(args.out if args.out is not None else args.dir, "report",
                            own=REPORT_NAMES, command=command_line(args.argv))
    except InputError as err:
        if args.out is None:
            raise InputError("error.report_folder", problem=err) from None
        raise
    with out as folder:
        from village_sim.sweep.report import build_report, sweep_counts
        from village_sim.sweep.store import SweepDirError

        try:
            counts = sweep_counts(args.dir)
        except SweepDirError as err:
            raise InputError(err) from None
        state = Phrase("phrase.sweep_state", planned=counts["planned"], ok=counts["ok"],
                       failed=counts["failed"], missing=counts["missing"])
        if counts["missing"] and not args.partial:
            out.abandon()
            unfinished = Refusal("error.sweep_unfinished", folder=args.dir, state=state)
            print(f"error: {say(unfinished, _language(args))}", file=sys.stderr)
            return 1
        written = build_report(args.dir, window=args.window, out=folder, partial=args.partial)
    if not args.quiet:
        print(f"Wrote report.md, report.html and {len(written.figures)} figures and "
              f"{len(written.tables)} tables in {out.target / 'report'}.")
    incomplete = counts["missing"] or counts["failed"]
    if incomplete:
        left_out = Phrase("phrase.report_leaves_out", state=state)
        print(f"warning: {say(left_out, _language(args))}", file=sys.stderr)
    print(out.target / "report.md")
    return 1 if incomplete else 0


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """Build the ``village-sim`` argument parser (compare, run, params, sweep, report)."""
    parser = _Parser(
        prog=PROG,
        description="Agent-based simulation of poverty-aid allocation in a village: "
                    "favouritism (优亲厚友) under the village committee alone versus with a "
                    "resident work team (驻村工作队). One step is one month; money in yuan.",
        epilog="Examples:\n"
               f"  {PROG} compare                      # committee_only vs team_and_committee\n"
               f"  {PROG} compare --seeds 50 --set quota=0.2\n"
               f"  {PROG} run --regime team_alone --steps 36\n"
               f"  {PROG} params --markdown > docs/parameters.md\n"
               f"  {PROG} sweep experiments/supervision/spec.toml --out sweeps/supervision\n"
               f"  {PROG} report sweeps/supervision\n"
               "Exit codes: 0 success, 1 sweep runs failed or missing, 2 bad input, "
               "130 interrupted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version",
                        version=f"{PROG} {package_version()}",
                        help="print the version and exit (it is also written into every "
                             "output's parameters file and marker)")
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
        "--seeds", metavar="N", type=int_at_least(1, "phrase.replicates", MAX_SEEDS),
        default=DEFAULT_SEEDS,
        help=f"number of replicates (seeds) per regime, 1 to {MAX_SEEDS:,}; confidence "
             f"intervals need >= 3 (runs x months at most {MAX_ROWS_IN_MEMORY:,}: compare "
             f"holds them in memory; a sweep streams to disk). Default: {DEFAULT_SEEDS}.",
    )
    c.add_argument(
        "--seed", metavar="ROOT", type=int_at_least(0, "phrase.root_seed"), default=0,
        help="root seed, >= 0: replicate i uses "
             "SeedSequence(ROOT).spawn(N)[i].generate_state(1)[0]. Default: 0.",
    )
    c.add_argument(
        "--steps", metavar="MONTHS", type=int_at_least(1, "phrase.months", MAX_STEPS),
        default=DEFAULT_STEPS,
        help=f"months to simulate per run, 1 to {MAX_STEPS:,} (identification runs in month 1 "
             f"and then yearly). Default: {DEFAULT_STEPS}.",
    )
    add_param_options(c, "The file may not set 'regime' (use --regimes).")
    c.add_argument(
        "--out", metavar="DIR", default=None,
        help="output folder: new or empty (with --overwrite, one holding an earlier result "
             "set). Checked before any run; the files appear there together when every run "
             "is done, or not at all. Default: village_sim_output/compare-YYYYmmdd-HHMMSS in "
             "the current folder.",
    )
    add_overwrite_option(c)
    c.add_argument(
        "--quiet", action="store_true",
        help="no progress bar and no table; print only the output directory. Default: off "
             "(the progress bar shows only on a terminal).",
    )
    teaching_cli.add_lang_option(c)
    c.set_defaults(func=_cmd_compare)

    # -- county
    k = sub.add_parser(
        "county", help="compare deployment rules of a county's work teams on the same seeds",
        description="Run a county of villages under each deployment rule on the same seeds "
                    "(common random numbers: the same villages with the same shocks; a "
                    "village a rule leaves alone runs exactly as under 'none'), for whole "
                    "years. Prints each rule's county metrics over the final year (means over "
                    "seeds with 95% CIs, paired differences against the first rule) and what a "
                    "team-year buys: poor people fewer and kin premium lower, per team-year "
                    "and per 10,000 yuan, against 'none' and 'cash_equivalent' (the team's "
                    "cost and money given to the village instead). Writes "
                    "county_timeseries.csv, village_year.parquet, deployment_log.csv, "
                    "summary.csv, differences.csv, cost_effectiveness.csv, columns.csv, "
                    "parameters.toml and county_metrics.png; with --lang the figure and "
                    "columns.csv are in that language (the printed table stays in English). "
                    "Model: docs/ODD.md, 7.14.",
    )
    k.add_argument(
        "--rules", metavar="R1,R2,...", default=COUNTY_RULES,
        help="comma-separated deployment rules; the first is the baseline of the differences. "
             "Allowed: none, random, poorest_first, most_complaints_first, rotate, "
             f"cash_equivalent. Default: {COUNTY_RULES}.",
    )
    k.add_argument(
        "--villages", metavar="N|FILE", default="20",
        help="number of villages drawn from the county's distributions (1 to 100,000), or a "
             "TOML file of [[village]] tables of village parameters. Default: 20.",
    )
    k.add_argument(
        "--teams", metavar="N|FILE", default="5",
        help="number of default teams (3 members, 2-year terms, 230,000 + 710,000 yuan a "
             "year), or a TOML file of [[team]] tables. Default: 5.",
    )
    k.add_argument(
        "--allocation-rule", default="fixed",
        choices=["fixed", "per_household", "estimated_poor", "last_register"],
        help="how the county divides its budget and quota each year; fixed: each village "
             "keeps its own. Default: fixed.",
    )
    for name, what in (("county_budget_per_household", "the county's budget per household, "
                        "yuan a year, divided by the allocation rule (not with fixed)"),
                       ("county_quota", "the county's quota, share of its households, divided "
                        "by the allocation rule (not with fixed)"),
                       ("audit_capacity", "audits a year shared evenly among the villages")):
        k.add_argument(f"--{name.replace('_', '-')}", type=float, default=None,
                       help=f"{what}. Default: the villages' own.")
    k.add_argument(
        "--seeds", metavar="N", type=int_at_least(1, "phrase.replicates", MAX_SEEDS),
        default=5, help="number of seeds per rule; confidence intervals need >= 3. Default: 5.",
    )
    k.add_argument(
        "--seed", metavar="ROOT", type=int_at_least(0, "phrase.root_seed"), default=0,
        help="root seed, >= 0 (replicate seeds as in compare). Default: 0.",
    )
    k.add_argument(
        "--years", metavar="N", type=int_at_least(1, "phrase.years", 100), default=4,
        help="years per run, 1 to 100 (the final year is the measurement window). Default: 4.",
    )
    add_param_options(k, "Village parameters common to every village; 'regime' is not "
                          "allowed.")
    k.add_argument(
        "--out", metavar="DIR", default=None,
        help="output folder: new or empty (with --overwrite, one holding an earlier result "
             "set). Default: village_sim_output/county-YYYYmmdd-HHMMSS.",
    )
    add_overwrite_option(k)
    k.add_argument("--quiet", action="store_true",
                   help="no progress bar and no table; print only the output folder.")
    teaching_cli.add_lang_option(k)
    k.set_defaults(func=_cmd_county)

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
    r.add_argument("--seed", metavar="S", type=int_at_least(0, "phrase.seed"), default=0,
                   help="seed of the run (the model's rng), >= 0. Default: 0.")
    r.add_argument(
        "--steps", metavar="MONTHS", type=int_at_least(1, "phrase.months", MAX_STEPS), default=None,
        help=f"months to simulate, >= 1. Default: {DEFAULT_STEPS} (with --scenario: the "
             "scenario's length).",
    )
    add_param_options(r, "The file may set 'regime'.")
    r.add_argument(
        "--out", metavar="DIR", default=None,
        help="output folder: new or empty (with --overwrite, one holding an earlier result "
             "set). Checked before the run; the files appear there together at the end, or "
             "not at all. Default: village_sim_output/run-YYYYmmdd-HHMMSS in the current "
             "folder.",
    )
    add_overwrite_option(r)
    r.add_argument(
        "--households-every", metavar="K", type=int_at_least(0, "phrase.months"), default=0,
        help="record every household every K months (month 0 included) and write "
             "household_panel.parquet; 0: do not. Default: 0.",
    )
    teaching_cli.add_run_options(r)
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
    teaching_cli.add_lang_option(p)
    p.set_defaults(func=_cmd_params)

    # -- effects
    e = sub.add_parser(
        "effects", help="check each parameter's declared effect on paired seeds",
        description="Every parameter of the groups team, recheck, complaints, deterrence, "
                    "trust and turnover declares what setting it from its default to another "
                    "value does to one metric (docs/parameters.md, 'Expected effects'). This "
                    "runs both sides of each declaration on the same seeds and says whether "
                    "the measured paired difference bears it out (one-sided paired t at p < "
                    "0.05, or a 90% CI inside the margin for 'no effect'). With --params or "
                    "--set, both sides share those parameters: does the model still behave as "
                    "declared in your village? Exit code 1 when a declaration does not hold.",
    )
    e.add_argument("--only", metavar="NAME", action="extend", nargs="+", default=None,
                   help="check only these parameters. Default: all declared.")
    e.add_argument("--seeds", metavar="N", type=int_at_least(2, "phrase.seeds_option", MAX_SEEDS),
                   default=None,
                   help="paired seeds 0..N-1 for each declaration. Default: the "
                        "declaration's own (20 or 30).")
    e.add_argument("--markdown", action="store_true",
                   help="print a Markdown table at the end instead of a line per parameter.")
    add_param_options(e, "Shared by both sides of every declaration.")
    e.set_defaults(func=_cmd_effects)

    # -- sweep
    s = sub.add_parser(
        "sweep", help="run a parameter sweep from a TOML spec (resumable; serial, processes "
                      "or Dask)",
        description="Run the sweep a TOML spec describes (docs/sweeps.md): every design point, "
                    "every regime on the same replicate seeds. Each finished run is written at "
                    "once to DIR (one file per run, written atomically; from 2000 runs on, "
                    "compacted into Parquet parts as the sweep goes; 'village-sim sweep "
                    "compact DIR' compacts an old sweep); rerunning the same command resumes, "
                    "running only the missing runs. A "
                    "failing run is recorded with its traceback and the sweep goes on. Exit "
                    "codes: 0 every run ok, 1 some runs failed or are missing, 2 bad input, "
                    "130 interrupted.",
    )
    s.add_argument("spec", metavar="SPEC", help="the sweep spec, a TOML file (docs/sweeps.md)")
    s.add_argument("--out", metavar="DIR", required=True,
                   help="sweep directory: created, or reopened to resume the same spec (a "
                        "different spec is refused). Required.")
    s.add_argument("--engine", choices=("serial", "processes", "dask", "slurm"), default=None,
                   help="serial: this process; processes: a local process pool; dask: Dask "
                        "distributed, a LocalCluster or --scheduler; slurm: Dask workers in "
                        "SLURM jobs (dask-jobqueue), as the spec's [cluster] table or "
                        "--cluster-config says (docs/cluster.md). Default: dask.")
    s.add_argument("--cluster-config", metavar="FILE", default=None,
                   help="a TOML file of SLURM cluster settings (queue, cores, memory, "
                        "walltime, lifetime, minimum_jobs, maximum_jobs ...; docs/cluster.md) "
                        "for --engine slurm, used instead of the spec's [cluster] table.")
    s.add_argument("--workers", metavar="N", type=int_at_least(1, "phrase.workers"), default=None,
                   help="worker processes for processes and the Dask LocalCluster (one thread "
                        "each). Default: the number of CPUs.")
    s.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786, or "
                        "a scheduler file (*.json); implies --engine dask (docs/cluster.md). "
                        "Default: none (start a LocalCluster).")
    s.add_argument("--connect-timeout", metavar="SECONDS", type=_seconds, default=10.0,
                   help="how long to wait for the --scheduler to answer; then exit 2 with "
                        "nothing written. Default: 10.")
    s.add_argument("--max-in-flight", metavar="K", type=int_at_least(1, "phrase.runs"),
                   default=None,
                   help="tasks (chunks of runs, --runs-per-task) submitted but not yet "
                        "collected (a sliding window keeps the client's memory flat). Default: "
                        "twice the workers (Dask: twice the cluster's threads, at least 4).")
    s.add_argument("--runs-per-task", metavar="N", type=_runs_per_task, default="auto",
                   help="runs sent to a worker as one task (processes, dask): an integer >= 1, "
                        "or auto: one run first, then tasks of about 3 s of runs, leaving at "
                        "least 4 tasks per worker. Results are stored run by run and are the "
                        "same whatever N. Default: auto.")
    s.add_argument("--retry-failed", action="store_true",
                   help="run again the runs stored as failed. Default: off (a failed run is "
                        "a result; resuming runs only missing runs).")
    s.add_argument("--dry-run", action="store_true",
                   help="check the spec and print the plan (points, runs) without running.")
    s.add_argument("--progress", action="store_true",
                   help="always show the progress bar with ETA (on stderr). Default: only on a "
                        "terminal.")
    s.add_argument("--quiet", action="store_true",
                   help="no progress bar; print the summary and the directory only.")
    s.set_defaults(func=_cmd_sweep)
    # 'sweep compact DIR' (main() turns it into this command; unlisted, SPEC stays positional)
    sc = sub.add_parser(
        "sweep-compact", prog=f"{PROG} sweep compact",
        description="Compact a sweep directory in place: move the runs stored one file per "
                    "run (runs/, panels/, records/, ...) into Parquet part sets of at most N "
                    "runs, and remove the files they replace (docs/sweeps.md, \"Compaction\"). "
                    "Readers, reports and resume see the same runs before and after. Safe to "
                    "interrupt and to run again, and while the sweep runs (compactions take "
                    "turns) where the file system has flock.")
    sc.add_argument("dir", metavar="DIR", help="the --out directory of a sweep")
    sc.add_argument("--runs-per-part", metavar="N", type=int_at_least(1, "phrase.runs"),
                    default=2000, help="at most N runs (and 64 MiB) per part set. Default: 2000.")
    sc.add_argument("--quiet", action="store_true", help="print only the directory.")
    sc.set_defaults(func=_cmd_sweep_compact)

    # -- report
    rp = sub.add_parser(
        "report", help="analyse a sweep directory: tables, figures, sensitivity indices",
        description="Write DIR/report.md and DIR/report.html (figures in DIR/report/): per "
                    "design point and regime, means over replicates with 95% confidence "
                    f"intervals of each run's mean over the final {WINDOW} months; paired "
                    "regime differences on the same seeds; metrics against each swept "
                    "parameter; Sobol indices (sobol designs) or Morris elementary effects "
                    "(morris designs). Exit code 1 when runs failed or are missing (said on "
                    "the terminal).",
    )
    rp.add_argument("dir", metavar="DIR", help="the --out directory of a sweep")
    rp.add_argument("--window", metavar="MONTHS", type=int_at_least(1, "phrase.months"),
                    default=WINDOW,
                    help=f"measurement window: each run's value is its mean over its final "
                         f"MONTHS months. Default: {WINDOW}.")
    rp.add_argument("--out", metavar="FOLDER", default=None,
                    help="folder for report.md, report.html and report/ (replaced as a set; "
                         "other files there are left alone). Default: the sweep folder DIR.")
    rp.add_argument("--partial", action="store_true",
                    help="report a sweep that is not finished (missing runs), with the "
                         "overview over every design point with results. Default: off (an "
                         "unfinished sweep is refused with exit code 1; the overview uses "
                         "complete design points only).")
    rp.add_argument("--quiet", action="store_true", help="print only the report's path.")
    rp.set_defaults(func=_cmd_report)

    # -- viz
    v = sub.add_parser(
        "viz", help="start the live app (Solara) on 127.0.0.1 and print its URL",
        description="Start the live app: the kinship network by clan, coloured by status, "
                    "metric charts, one regime or two side by side on the same village and "
                    "seed, and a household inspector. The server listens on 127.0.0.1 only "
                    "and needs no internet (every asset is served locally). Open the printed "
                    "URL in a browser; Ctrl-C stops the server. Same as 'solara run "
                    "village_sim.app'.",
    )
    v.add_argument("--port", metavar="N", type=int_at_least(1, "phrase.tcp_port"), default=8765,
                   help="TCP port on 127.0.0.1, 1-65535. Default: 8765.")
    v.set_defaults(func=_cmd_viz)

    # -- calibrate
    cb = sub.add_parser(
        "calibrate", help="fit free parameters to target metrics (simulated method of moments)",
        description="Fit the free parameters of a targets file (TOML: [free.NAME] low/high "
                    "bounds, [[arms]] with parameter overrides and [[arms.targets]] metric/"
                    "value/weight/step, optional [[contrasts]] between two arms) by the "
                    "simulated method of moments, with the same replicate seeds for every "
                    "candidate (common random numbers), using SciPy's differential evolution; "
                    "each generation is evaluated in parallel on the chosen engine. Writes "
                    "fitted.toml (a --params file for run, compare and sweep), fit_table.csv/"
                    ".md (targets against simulated values on fresh seeds, with 95% CIs) and "
                    "convergence.csv/.png. Example: experiments/calibration/alatas2012.toml.",
    )
    cb.add_argument("targets", metavar="TARGETS.toml", help="the targets file")
    cb.add_argument("--out", metavar="DIR", required=True,
                    help="output folder: new or empty (with --overwrite, one holding an "
                         "earlier fit). Checked before the fit; the files appear together at "
                         "the end, or not at all. Required.")
    add_overwrite_option(cb)
    cb.add_argument("--engine", choices=("serial", "processes", "dask"), default="processes",
                    help="where candidates are evaluated. Default: processes.")
    cb.add_argument("--workers", metavar="N", type=int_at_least(1, "phrase.workers"), default=None,
                    help="worker processes (processes, local dask). Default: one per core.")
    cb.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="address of an existing Dask scheduler (implies --engine dask).")
    cb.add_argument("--check-seeds", metavar="N",
                    type=int_at_least(2, "phrase.check_seeds", MAX_SEEDS),
                    default=None, help="fresh seeds (disjoint from those used to fit) for the "
                    "fit table. Default: the targets file's check_seeds, else its seeds.")
    cb.add_argument("--quiet", action="store_true", help="print only the output directory.")
    cb.set_defaults(func=_cmd_calibrate)

    # -- scenarios, handout, bundle (teaching; village_sim.teaching_cli)
    teaching_cli.add_commands(sub)
    return parser


def _cmd_calibrate(args: argparse.Namespace) -> int:
    out = output_folder(args.out, "calibrate", overwrite=args.overwrite,
                        command=command_line(args.argv))  # checked before the fit
    with out as folder:
        return _calibrate_into(args, out, folder)


def _calibrate_into(args: argparse.Namespace, out: Any, folder: Any) -> int:
    from village_sim.calibrate import calibrate, load_targets, write_outputs

    try:
        targets = load_targets(args.targets)
    except ValueError as err:
        raise InputError(err) from None
    engine = "dask" if args.scheduler else args.engine

    def progress(generation: int, best: float) -> None:
        if not args.quiet:
            print(f"generation {generation}: best objective {best:.5g}", flush=True)

    result = calibrate(targets, engine=engine, workers=args.workers,
                       scheduler=args.scheduler, check_seeds=args.check_seeds,
                       progress=progress)
    write_outputs(result, folder)
    out.commit()
    if not args.quiet:
        fitted = ", ".join(f"{k} = {v:.4g}" for k, v in result.fitted.items())
        print(f"fitted: {fitted} (objective {result.objective:.4g}, {result.evaluations} "
              f"evaluations, {result.seconds:.0f} s)")
        print(result.fit_table.to_string(index=False))
        for name, (low, high) in targets.free.items():
            value = result.fitted[name]
            if min(value - low, high - value) < 0.01 * (high - low):
                print(f"warning: {name} = {value:.4g} is at its bound [{low}, {high}]: the "
                      "targets may lie outside what the model can reach")
    print(out.target)
    return 0


def _cmd_viz(args: argparse.Namespace) -> int:
    from village_sim.viz.server import serve

    try:
        return serve(args.port)
    except ValueError as err:
        raise InputError(err) from None


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _env_language() -> str | None:
    """$VILLAGE_SIM_LANG's language, or ``None`` when it is unset or not a language."""
    from village_sim.i18n import check_lang

    raw = os.environ.get(teaching_cli.LANG_ENV, "").strip()
    try:
        return check_lang(raw) if raw else None
    except ValueError:
        return None


def _language_before_parsing(argv: Sequence[str]) -> str | None:
    """The language of a usage error: the ``--lang`` typed, else $VILLAGE_SIM_LANG's."""
    from village_sim.i18n import check_lang

    for k, arg in enumerate(argv):
        value = argv[k + 1] if arg == "--lang" and k + 1 < len(argv) else \
            arg.partition("=")[2] if arg.startswith("--lang=") else None
        if value is not None:
            try:
                return check_lang(value)
            except ValueError:
                break  # refused in the language of the environment, or in English
    return _env_language()


def _language(args: argparse.Namespace) -> str | None:
    """The language of errors and notes.

    ``--lang`` where the command has it (resolved from $VILLAGE_SIM_LANG when not given), else
    $VILLAGE_SIM_LANG's.
    """
    return args.lang if hasattr(args, "lang") else _env_language()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 2 bad input, 130 interrupted).

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).
    """
    from village_sim.outputs import (
        caused_by_interrupt,
        keep_swallowed_interrupts,
        reset_write_points,
    )

    keep_swallowed_interrupts()

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["sweep", "compact"]:  # a spec file named 'compact': give it as ./compact
        argv[:2] = ["sweep-compact"]
    parser = build_parser()
    usage_lang = _language_before_parsing(argv)
    for each in (parser, *_subparsers(parser).values()):
        if isinstance(each, _Parser):
            each.lang = usage_lang
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the command's own parser, which points at its own --help
            command = _subparsers(parser)[args.command]
            command.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    args.argv = argv
    reset_write_points()
    try:
        teaching_cli.resolve_lang(args)
        return int(args.func(args))
    except InputError as err:
        # said in the language asked for (--lang or $VILLAGE_SIM_LANG), a bad parameter value
        # with the parameter's label; English keeps the code names
        message = " ".join(err.in_language(_language(args)).splitlines())
        print(f"error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader stopped early (`village-sim params | head`): nothing more to say; stdout
        # goes to /dev/null so that Python's flush at exit does not complain again
        # (the recipe of the signal module's documentation)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a command killed by the broken pipe would report
    except Exception as err:
        if not caused_by_interrupt(err):
            raise
        return _interrupted(err)  # a Ctrl-C an extension's import turned into an ImportError
    except KeyboardInterrupt as err:
        return _interrupted(err)


def _interrupted(err: BaseException) -> int:
    """Say in one line what was interrupted and what the output holds now; the exit code."""
    notes = getattr(err, "__notes__", [])
    print("interrupted" + (": " + "; ".join(notes) if notes else ""), file=sys.stderr)
    return 130


def run() -> None:
    """The ``village-sim`` console script: :func:`main`, then exit with its code.

    A Ctrl-C after the command has finished (its results written, its exit code decided) is
    ignored: Python restores the default SIGINT action while it shuts down, so such a Ctrl-C
    used to kill the finished process by the signal (exit -2, nothing said; 15 of 60 Ctrl-Cs
    sent within the last 0.35 s of ``village-sim run``).
    """
    import signal

    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    run()
