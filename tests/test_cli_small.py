"""The small items of the issue "Outputs that are never lost or mixed ..." (item 7), and the
inputs that gave tracebacks: each reproduces the reported failure first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import run_cli
from village_sim.cli import build_parser

SMALL = ["--set", "n_households=60"]



def one_error_line(code: int, stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "adir"
    folder.mkdir()
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x00\x01\xff\xfe\x80")
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "t"\nregimes = ["committee_only"]\nreplicates = 2\nroot_seed = 1\n'
                    'steps = 2\nparams = "adir"\n', encoding="utf-8")
    base3 = tmp_path / "base3.toml"
    base3.write_text("base = 3\n", encoding="utf-8")
    single = tmp_path / "single.toml"
    single.write_text('[free.favoritism]\nlow = 0.1\nhigh = 0.9\n[[arms]]\nname = "a"\n'
                      '[arms.targets]\nmetric = "coverage"\nvalue = 0.5\n', encoding="utf-8")
    return {"dir": folder, "binary": binary, "spec": spec, "base3": base3, "single": single}


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "--params", "DIR"], ["--params", "is a folder"]),
    (["run", "--scenario", "DIR"], ["--scenario", "is a folder"]),
    (["calibrate", "DIR", "--out", "OUT"], ["targets file", "is a folder"]),
    (["sweep", "SPEC", "--out", "OUT", "--dry-run"], ["params", "is a folder"]),
    (["run", "--params", "BINARY"], ["binary.toml", "not valid TOML"]),
    (["calibrate", "BASE3", "--out", "OUT"], ["[base]", "a table"]),
    (["calibrate", "SINGLE", "--out", "OUT"], ["[[arms.targets]]", "two brackets"]),
])
def test_files_of_the_wrong_kind_give_one_line(args: list[str], expected: list[str],
                                               files: dict[str, Path], tmp_path: Path) -> None:
    names = {"DIR": files["dir"], "BINARY": files["binary"], "SPEC": files["spec"],
             "BASE3": files["base3"], "SINGLE": files["single"], "OUT": tmp_path / "out"}
    line = one_error_line(*run_cli([str(names.get(a, a)) for a in args])[::2])
    for text in expected:
        assert text in line, line
    assert not (tmp_path / "out").exists()


def test_help_texts_have_no_doubled_percent_signs() -> None:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    for name, sub in action.choices.items():
        assert "%%" not in sub.format_help(), name


def test_an_unknown_option_points_at_the_commands_own_help() -> None:
    line = one_error_line(*run_cli(["compare", "--bogus"])[::2])
    assert "--bogus" in line and "'village-sim compare --help'" in line


def test_run_quiet_prints_only_the_folder(tmp_path: Path) -> None:
    code, stdout, _ = run_cli(["run", "--steps", "2", *SMALL, "--quiet", "--out",
                               str(tmp_path / "q")])
    assert code == 0 and stdout.strip() == str(tmp_path / "q")


def test_one_regime_compare_has_no_difference_legend(tmp_path: Path) -> None:
    code, stdout, _ = run_cli(["compare", "--regimes", "committee_only", "--seeds", "3",
                               "--steps", "2", *SMALL, "--out", str(tmp_path / "c")])
    assert code == 0
    assert "One regime: committee_only" in stdout
    assert "1 regimes" not in stdout and "diff:" not in stdout


def test_scenarios_answers_needs_an_id() -> None:
    line = one_error_line(*run_cli(["scenarios", "--answers"])[::2])
    assert "--answers" in line and "ID" in line


def test_the_language_default_is_one_setting_for_every_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from village_sim.scenario import load_scenario

    titles = load_scenario("team_leaves").texts
    monkeypatch.setenv("VILLAGE_SIM_LANG", "vi")
    code, stdout, _ = run_cli(["scenarios"])
    assert code == 0 and titles["vi"].title in stdout
    code, stdout, _ = run_cli(["scenarios", "--lang", "zh"])  # the option still wins
    assert code == 0 and titles["zh"].title in stdout
    monkeypatch.setenv("VILLAGE_SIM_LANG", "xx")
    line = one_error_line(*run_cli(["scenarios"])[::2])
    assert "VILLAGE_SIM_LANG" in line and "xx" in line
    monkeypatch.delenv("VILLAGE_SIM_LANG")
    code, stdout, _ = run_cli(["scenarios"])
    assert code == 0 and titles["en"].title in stdout
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    helps = {name: next(a.help for a in sub._actions if a.dest == "lang")
             for name, sub in action.choices.items()
             if any(a.dest == "lang" for a in sub._actions)}
    assert set(helps) == {"compare", "county", "run", "scenarios", "handout", "params",
                          "classroom"}
    assert len(set(helps.values())) == 1  # one default, stated once for all


def test_bundle_python_is_checked_and_pip_failures_are_one_line() -> None:
    line = one_error_line(*run_cli(["bundle", "nowhere", "--python", "3.99"])[::2])
    assert "--python" in line and "3.12" in line and len(line) < 250


def test_handout_format_must_match_the_file_name(tmp_path: Path) -> None:
    line = one_error_line(*run_cli(["handout", "committee_alone", "--out",
                                    str(tmp_path / "h.pdf"), "--format", "html"])[::2])
    assert ".pdf" in line and "--format" in line
    assert not (tmp_path / "h.pdf").exists()


@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_a_bad_parameter_is_said_in_the_language_asked_for(lang: str, tmp_path: Path) -> None:
    """Issue 15 item 8: under --lang the error names the parameter by its label, in plain
    words of that language; without it (or in English) the message keeps the code names."""
    from village_sim.i18n import Catalog

    _ = Catalog(lang)
    code, _out, err = run_cli(["run", "--set", "favoritism=3", "--lang", lang,
                               "--out", str(tmp_path / "a")])
    assert code == 2
    assert err.startswith("error: --set favoritism=3: ") and _.param("favoritism") in err
    assert "“3”" in err and "allowed" not in err and "parameter '" not in err
    code, _out, err = run_cli(["run", "--set", "team_arrives=10", "team_leaves=5", "--lang",
                               lang, "--out", str(tmp_path / "b")])
    assert code == 2 and _.param("team_leaves") in err and _.param("team_arrives") in err
    code, _out, err = run_cli(["run", "--set", "favoritism=3", "--out", str(tmp_path / "c")])
    assert err.strip() == ("error: --set favoritism=3: parameter 'favoritism': got 3; "
                           "allowed: a number in [0, 1]")


@pytest.mark.parametrize("lang", ["zh", "vi", "en"])
def test_params_in_a_language_lists_labels_units_and_ranges(lang: str) -> None:
    from village_sim.i18n import Catalog
    from village_sim.params import PARAMETERS

    _ = Catalog(lang)
    code, out, _err = run_cli(["params", "--lang", lang, "--regime", "team_alone"])
    assert code == 0
    lines = out.splitlines()
    assert _("cli.params_label") in lines[0] and _("cli.params_allowed") in lines[0]
    for p in PARAMETERS:
        row = next(line for line in lines if line.startswith(p.name + " "))
        assert _.param(p.name) in row, p.name
        if p.unit:
            assert _.unit(p.unit) in row, p.name
    favoritism = next(line for line in lines if line.startswith("favoritism "))
    assert _.allowed("favoritism") in favoritism
    assert _("cli.params_changed") in out


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """`village-sim params --lang zh | head -1`: exit 141 (SIGPIPE's), no traceback."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from village_sim.cli import main; "
                               "sys.exit(main(['params', '--lang', 'zh']))"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the child has written: its first write finds no reader
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141 and "Traceback" not in err, err
