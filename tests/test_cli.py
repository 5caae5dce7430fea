"""Tests of the command line (village_sim.cli) and the experiment helpers it is built on."""

from __future__ import annotations

import contextlib
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from village_sim import experiment as ex
from village_sim.cli import main, parse_assignment
from village_sim.params import PARAMETERS, REGIMES, load_overrides, parameters_markdown

REGIMES_DEFAULT = ["committee_only", "team_and_committee"]
COMPARE_FILES = ["timeseries.csv", "summary.csv", "differences.csv", "parameters.toml",
                 "metrics.png"]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Call main() in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("compare") / "a"
    code, stdout, stderr = run_cli(["compare", "--seeds", "3", "--steps", "24", "--out", str(out)])
    assert code == 0, stderr
    return out, stdout


# ---------------------------------------------------------------------------- compare
def test_compare_writes_every_file(compare_run: tuple[Path, str]) -> None:
    out, stdout = compare_run
    for name in COMPARE_FILES:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    assert str(out) in stdout


def test_compare_timeseries_is_paired(compare_run: tuple[Path, str]) -> None:
    out, _ = compare_run
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns[:4]) == ["regime", "seed", "replicate", "step"]
    assert {"poverty_headcount", "coverage", "kin_premium"} <= set(ts.columns)
    assert len(ts) == 2 * 3 * 25
    seeds = ex.replicate_seeds(0, 3)
    for regime in REGIMES_DEFAULT:
        sub = ts[ts["regime"] == regime]
        assert sorted(sub["seed"].unique()) == sorted(seeds)  # same seeds for every regime
        assert sorted(sub["step"].unique()) == list(range(25))
    # common random numbers: month 0 (before any step) is the same village in both regimes
    first = ts[ts["step"] == 0].set_index(["regime", "replicate"])["poverty_headcount"]
    assert np.allclose(first["committee_only"], first["team_and_committee"])


def test_compare_summary_has_every_regime_and_metric(compare_run: tuple[Path, str]) -> None:
    out, stdout = compare_run
    summary = pd.read_csv(out / "summary.csv")
    # interval, confidence, window and unit state what the numbers are (issue "Outputs ...")
    assert list(summary.columns) == ["metric", "regime", "mean", "ci_low", "ci_high", "n",
                                     "interval", "confidence", "window", "unit"]
    assert set(summary["regime"]) == set(REGIMES_DEFAULT)
    for metric in ex.KEY_METRICS:
        rows = summary[summary["metric"] == metric]
        assert sorted(rows["regime"]) == sorted(REGIMES_DEFAULT), metric
    assert summary["n"].between(0, 3).all()
    assert (summary.loc[summary["metric"] == "poverty_headcount", "n"] == 3).all()
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["regime"]) == {"team_and_committee"}
    assert set(diffs["baseline"]) == {"committee_only"}
    assert set(diffs["metric"]) == set(ex.KEY_METRICS)
    # the printed table names the window and every metric
    assert "final 12 months" in stdout and "months 13-24" in stdout
    for metric in ex.KEY_METRICS:
        assert metric in stdout


def test_compare_summary_matches_timeseries(compare_run: tuple[Path, str]) -> None:
    """summary.csv recomputed by hand from timeseries.csv: window means, t CI, paired diff."""
    out, _ = compare_run
    ts = pd.read_csv(out / "timeseries.csv")
    summary = pd.read_csv(out / "summary.csv").set_index(["metric", "regime"])
    diffs = pd.read_csv(out / "differences.csv").set_index(["metric", "regime"])
    window = ts[ts["step"] >= 13]  # months 13-24
    per_seed = window.groupby(["regime", "replicate"])["coverage"].mean().unstack("regime")
    for regime in REGIMES_DEFAULT:
        values = per_seed[regime].to_numpy()
        row = summary.loc[("coverage", regime)]
        assert row["mean"] == pytest.approx(values.mean())
        # coverage is a share: its t interval is taken on the logit scale (issue "Outputs
        # ...", item 5); inside (0, 1) it is exactly this
        assert ((values > 0) & (values < 1)).all() and row["interval"] == "logit t"
        logits = np.log(values / (1 - values))
        half = stats.t.ppf(0.975, len(values) - 1) * logits.std(ddof=1) / math.sqrt(len(values))
        ends = 1 / (1 + np.exp(-(logits.mean() + np.array([-half, half]))))
        assert row["ci_low"] == pytest.approx(min(ends[0], values.mean()))
        assert row["ci_high"] == pytest.approx(max(ends[1], values.mean()))
    # an unbounded metric keeps the plain t interval
    ratio = window.groupby(["regime", "replicate"])["amount_kin_premium"].mean().unstack("regime")
    for regime in REGIMES_DEFAULT:
        values = ratio[regime].dropna().to_numpy()
        half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
        row = summary.loc[("amount_kin_premium", regime)]
        assert row["interval"] == "t"
        assert row["ci_low"] == pytest.approx(values.mean() - half)
        assert row["ci_high"] == pytest.approx(values.mean() + half)
    d = (per_seed["team_and_committee"] - per_seed["committee_only"]).to_numpy()
    assert diffs.loc[("coverage", "team_and_committee"), "mean"] == pytest.approx(d.mean())


def test_compare_parameters_toml_round_trips(compare_run: tuple[Path, str]) -> None:
    out, _ = compare_run
    assert load_overrides(out / "parameters.toml") == {}


def test_compare_is_reproducible(compare_run: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = compare_run
    again = tmp_path / "b"
    code, _, err = run_cli(["compare", "--seeds", "3", "--steps", "24", "--out", str(again),
                            "--quiet"])
    assert code == 0, err
    assert (again / "timeseries.csv").read_bytes() == (out / "timeseries.csv").read_bytes()
    assert (again / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_compare_root_seed_changes_the_runs(compare_run: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = compare_run
    other = tmp_path / "c"
    code, _, err = run_cli(["compare", "--seeds", "3", "--steps", "24", "--seed", "1",
                            "--out", str(other), "--quiet"])
    assert code == 0, err
    assert (other / "timeseries.csv").read_bytes() != (out / "timeseries.csv").read_bytes()


def test_compare_set_and_params_file_agree(tmp_path: Path) -> None:
    """--set writes parameters.toml; rerunning from that file gives the same runs."""
    base = ["compare", "--regimes", "committee_only,team_alone", "--seeds", "2", "--steps", "13",
            "--quiet"]
    code, _, err = run_cli([*base, "--set", "quota=0.2", "team_size=4.0", "--out",
                            str(tmp_path / "s")])
    assert code == 0, err
    written = load_overrides(tmp_path / "s" / "parameters.toml")
    assert written == {"quota": 0.2, "team_size": 4}
    assert isinstance(written["team_size"], int)
    code, _, err = run_cli([*base, "--params", str(tmp_path / "s" / "parameters.toml"),
                            "--out", str(tmp_path / "p")])
    assert code == 0, err
    a = (tmp_path / "s" / "timeseries.csv").read_bytes()
    assert a == (tmp_path / "p" / "timeseries.csv").read_bytes()
    assert set(pd.read_csv(tmp_path / "p" / "summary.csv")["regime"]) == {
        "committee_only", "team_alone"}


# ---------------------------------------------------------------------------- bad input
def _bad_toml(tmp_path: Path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text("quota = = 0.3\n", encoding="utf-8")
    return path


def _regime_toml(tmp_path: Path) -> Path:
    path = tmp_path / "with_regime.toml"
    path.write_text('regime = "team_alone"\nquota = 0.25\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--regimes", "committee_only,team_and_comittee"],
         ["unknown regime 'team_and_comittee'", "did you mean 'team_and_committee'"]),
        (["--regimes", "nonsense"], ["unknown regime 'nonsense'", "committee_only"]),
        (["--set", "qouta=0.3"], ["unknown parameter 'qouta'", "did you mean 'quota'"]),
        (["--set", "quota=1.5"], ["'quota'", "1.5", "[0, 1]"]),
        (["--set", "team_present=maybe"], ["'team_present'", "true or false"]),
        (["--set", "quota"], ["NAME=VALUE"]),
        (["--set", "measure_share=0.7", "project_share=0.4"], ["measure_share", "project_share"]),
        (["--params", "BAD_TOML"], ["not valid TOML", "broken.toml"]),
        (["--params", "REGIME_TOML"], ["regime", "--regimes", "with_regime.toml"]),
        (["--set", "regime=team_alone"], ["regime", "--regimes"]),
        (["--params", "missing.toml"], ["missing.toml", "does not exist"]),
        (["--seeds", "0"], ["--seeds", "from 1 to"]),
        (["--steps", "x"], ["--steps"]),
    ],
)
def test_compare_bad_input_exits_2(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    args = [str(_bad_toml(tmp_path)) if a == "BAD_TOML" else a for a in args]
    args = [str(_regime_toml(tmp_path)) if a == "REGIME_TOML" else a for a in args]
    out = tmp_path / "out"
    small = [] if {"--seeds", "--steps"} & set(args) else ["--steps", "2", "--seeds", "1"]
    code, stdout, stderr = run_cli(["compare", *args, *small, "--out", str(out)])
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert not out.exists(), "bad input must be refused before anything runs or is written"


def test_run_bad_regime_exits_2(tmp_path: Path) -> None:
    code, _, stderr = run_cli(["run", "--regime", "team", "--out", str(tmp_path / "o")])
    assert code == 2
    assert stderr.startswith("error: ") and "unknown regime" in stderr and "team" in stderr


# ---------------------------------------------------------------------------- run
def test_run_writes_households_and_decisions(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(["run", "--params", str(_regime_toml(tmp_path)),
                                    "--regime", "committee_only", "--seed", "3", "--steps", "14",
                                    "--out", str(out)])
    assert code == 0, stderr
    households = pd.read_csv(out / "households.csv")
    assert len(households) == 300
    assert {"household_id", "clan", "persons", "per_capita_income", "poor", "registered",
            "aid_received", "cadre", "cadre_kin", "trust"} <= set(households.columns)
    decisions = pd.read_csv(out / "decisions.csv")
    assert list(decisions.columns) == ["household_id", "year", "month", "proposed_by",
                                       "challenged_by", "outcome", "reason"]
    assert len(decisions) > 0  # identification ran in month 1 and month 13
    assert set(decisions["outcome"]) <= {"registered", "not registered", "removed",
                                         "re-registered", "exited"}
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns[:3]) == ["regime", "seed", "step"] and len(ts) == 15
    assert set(ts["regime"]) == {"committee_only"}  # --regime beats the file's regime
    params = load_overrides(out / "parameters.toml")
    assert params == {"regime": "committee_only", "quota": 0.25}
    assert not (out / "household_panel.parquet").exists()
    assert "Final-year means (months 3-14" in stdout and "coverage" in stdout


def test_run_uses_regime_from_file_and_writes_panel(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, _, stderr = run_cli(["run", "--params", str(_regime_toml(tmp_path)), "--steps", "12",
                               "--households-every", "6", "--out", str(out)])
    assert code == 0, stderr
    assert set(pd.read_csv(out / "timeseries.csv")["regime"]) == {"team_alone"}
    panel = pd.read_parquet(out / "household_panel.parquet")
    assert sorted(panel["step"].unique()) == [0, 6, 12]
    assert len(panel) == 3 * 300


# ---------------------------------------------------------------------------- params
def test_params_markdown_is_the_generated_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--markdown"]) == 0
    assert capsys.readouterr().out == parameters_markdown()


def test_params_table_lists_every_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "--regime", "committee_only"]) == 0
    text = capsys.readouterr().out
    names = {line.split()[0] for line in text.splitlines() if line.strip()}
    assert {p.name for p in PARAMETERS} <= names
    team_line = next(line for line in text.splitlines() if line.startswith("team_present "))
    assert "false *" in team_line  # the regime switches the team off, marked
    for regime in REGIMES:
        assert regime in text


# ---------------------------------------------------------------------------- parsing, help
@pytest.mark.parametrize(
    ("text", "expected"),
    [("quota=0.2", ("quota", 0.2)), ("team_size=4", ("team_size", 4)),
     ("team_present=false", ("team_present", False)), ("regime=team_alone",
                                                        ("regime", "team_alone")),
     ('regime="team_alone"', ("regime", "team_alone")), ("team_leaves=none",
                                                          ("team_leaves", None)),
     (" quota = 0.2 ", ("quota", 0.2))],
)
def test_parse_assignment(text: str, expected: tuple[str, object]) -> None:
    assert parse_assignment(text) == expected


def test_help_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in ("compare", "run", "params"):
        assert command in text


def test_help_subprocess() -> None:
    """The module runs as a script (python -m village_sim.cli) and documents every option."""
    env = {**os.environ, "COLUMNS": "200"}  # argparse wraps help text at the terminal width
    result = subprocess.run([sys.executable, "-m", "village_sim.cli", "compare", "--help"],
                            capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for option in ("--regimes", "--seeds", "--seed", "--steps", "--params", "--set", "--out",
                   "--quiet"):
        assert option in text
    for default in ("Default: committee_only,team_and_committee", "Default: 20",
                    "Default: 60", "Default: 0", "village_sim_output/compare-YYYYmmdd-HHMMSS",
                    "months", "final 12 months"):
        assert default in text, default


# ---------------------------------------------------------------------------- experiment
def test_replicate_seeds() -> None:
    seeds = ex.replicate_seeds(7, 5)
    expected = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(7).spawn(5)]
    assert seeds == expected
    assert len(set(seeds)) == 5
    assert ex.replicate_seeds(7, 3) == seeds[:3]  # more seeds extend, never reshuffle
    assert ex.replicate_seeds(8, 5) != seeds
    with pytest.raises(ValueError, match="root seed"):
        ex.replicate_seeds(-1, 2)


def test_summarise_ignores_nan_and_pairs_by_seed() -> None:
    rows = []
    # 3 seeds x 2 regimes x months 0..4, window 2 -> months 3, 4
    for regime, shift in (("a", 0.0), ("b", 1.0)):
        for rep in range(3):
            for step in range(5):
                value = float(rep) + shift + (100.0 if step < 3 else 0.0)
                undefined = math.nan if (rep == 0 and regime == "b") else value
                half = math.nan if step == 4 else value  # a NaN month inside the window
                rows.append({"regime": regime, "seed": rep, "replicate": rep, "step": step,
                             "x": value, "y": undefined, "z": half})
    df = pd.DataFrame(rows)
    summary, diffs = ex.summarise(df, ["x", "y", "z"], window=2)
    s = summary.set_index(["metric", "regime"])
    assert s.loc[("x", "a"), "mean"] == pytest.approx(1.0)  # months 0-2 (value +100) excluded
    assert s.loc[("x", "a"), "n"] == 3
    assert s.loc[("y", "b"), "n"] == 2 and s.loc[("y", "b"), "mean"] == pytest.approx(2.5)
    assert s.loc[("z", "a"), "mean"] == pytest.approx(1.0)  # the NaN month is skipped
    d = diffs.set_index(["metric", "regime"])
    assert d.loc[("x", "b"), "mean"] == pytest.approx(1.0)
    assert d.loc[("x", "b"), "ci_low"] == pytest.approx(1.0)  # identical differences: zero width
    assert d.loc[("y", "b"), "n"] == 2  # paired only where both are defined
    with pytest.raises(ValueError, match="unknown metrics"):
        ex.summarise(df, ["nope"])


# --- effects: the declared effects, checked from the command line ----------------------------
def test_effects_checks_a_declaration_and_says_whether_it_holds() -> None:
    code, out, err = run_cli(["effects", "--only", "sanction", "--seeds", "4"])
    assert code == 0, err
    assert out.startswith("sanction = 0.0 in committee_only: diverted_share +")
    assert out.rstrip().endswith("holds")
    code, out, _ = run_cli(["effects", "--only", "sanction", "--seeds", "4", "--markdown"])
    assert code == 0 and "| `sanction` | 0.0 | `diverted_share` | raises |" in out


def test_effects_exits_1_when_a_declaration_fails_in_the_users_village() -> None:
    # with no inclination to divert there is nothing for sanctions to deter
    code, out, err = run_cli(["effects", "--only", "sanction", "--seeds", "3",
                              "--set", "diversion_propensity=0"])
    assert code == 1
    assert "DOES NOT HOLD" in out and "1 of 1 declared effects do not hold: sanction" in err


@pytest.mark.parametrize(("args", "names"), [
    (["--only", "team_colour"], ["--only", "'team_colour'", "team_size"]),
    (["--only", "sanction", "--set", "sanction=1"], ["sanction", "both shared and changed"]),
    (["--seeds", "1"], ["--seeds", "1"]),
    (["--set", "quota=2"], ["quota", "2"]),
])
def test_effects_refuses_bad_input_before_running(args: list[str], names: list[str]) -> None:
    code, _, err = run_cli(["effects", *args])
    assert code == 2 and err.startswith("error:")
    for name in names:
        assert name in err, err
