"""Issue 15 item 8 on the command line: every refusal and the data dictionary in --lang.

Each error path of the CLI is run in Chinese and Vietnamese (``--lang`` where the command has
it, ``$VILLAGE_SIM_LANG`` otherwise) and its one line must hold the translated message's own
words, the option and the value as typed, and none of the English message's words; the same
paths in English keep their messages (tests/test_cli*.py, tests/test_sweep_spec.py). Every
kind of refusal has its message in all three catalogs; ``columns.csv`` is in the language of
``--lang``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import village_sim
from cli_helpers import run_cli
from village_sim.cli_common import say
from village_sim.i18n import messages, t
from village_sim.refusal import Allowed, Number, Phrase, Quoted, Refusal

PACKAGE = Path(village_sim.__file__).parent
SMALL = ["--set", "n_households=60"]
LANGS = ["zh", "vi"]
WITH_LANG = {"compare", "run", "params", "scenarios", "handout"}  # the others: the environment
SPEC = ('name = "t"\nregimes = ["committee_only"]\nreplicates = 2\nroot_seed = 1\nsteps = 2\n'
        "[base]\nn_households = 30\n")


# ---------------------------------------------------------------------------- words
def _literals(template: str) -> list[str]:
    """The template's own text, between its {fields}."""
    return [lit for lit, _f, _s, _c in string.Formatter().parse(template) if lit]


def english_words(keys: Iterable[str], lang: str) -> set[str]:
    """Words of the English messages ``keys`` that the translations do not keep as they are
    (code words such as ``compare``, ``regime = ``, ``TOML`` are kept in every language)."""
    english, other = messages("en"), messages(lang)
    words = {w for key in keys for lit in _literals(english[key])
             for w in re.findall(r"[A-Za-z]{3,}", lit)}
    kept = {w for key in keys for lit in _literals(other[key])
            for w in re.findall(r"[A-Za-z]{3,}", lit)}
    return words - kept


def check_said(line: str, lang: str, keys: Iterable[str], typed: Iterable[str],
               foreign: str = "") -> None:
    """``line`` says ``keys`` in ``lang``: their own text, what was typed, no English words.

    Args:
        line: The message.
        lang: Its language.
        keys: The catalog messages it is made of.
        typed: Options and values that must be there as typed.
        foreign: Text that may hold English words (paths, the file parser's own words).
    """
    keys = list(keys)
    catalog = messages(lang)
    for key in keys:
        for piece in _literals(catalog[key]):
            if piece.strip(" .,;:") and len(piece.strip()) > 1:
                assert piece.strip() in line, (key, piece, line)
    for text in typed:
        assert text in line, (text, line)
    bare = line
    for text in [*typed, foreign]:
        bare = bare.replace(text, " ") if text else bare
    leftover = [w for w in english_words(keys, lang) if re.search(rf"\b{w}\b", bare)]
    assert not leftover, f"English words {leftover} in {lang}: {line}"


# ---------------------------------------------------------------------------- error paths
@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    (tmp_path / "broken.toml").write_text("quota = = 0.3\n", encoding="utf-8")
    (tmp_path / "unknown.toml").write_text("qouta = 0.3\n", encoding="utf-8")
    (tmp_path / "beside.toml").write_text("quota = 0.3\n[parameters]\nfavoritism = 0.2\n",
                                          encoding="utf-8")
    (tmp_path / "regime.toml").write_text('regime = "team_alone"\n', encoding="utf-8")
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "h.html").write_text("x", encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "spec_key.toml").write_text(SPEC.replace("replicates", "replicate"),
                                            encoding="utf-8")
    (tmp_path / "spec_param.toml").write_text(SPEC + "[parameters]\nfavouritism = [0.1]\n",
                                              encoding="utf-8")
    (tmp_path / "spec_value.toml").write_text(SPEC + "[parameters]\nquota = [0.2, 0.2]\n",
                                              encoding="utf-8")
    (tmp_path / "targets.toml").write_text("seeds = [", encoding="utf-8")
    return {"tmp": str(tmp_path), "out": str(tmp_path / "never")}


# id: (arguments, messages it is made of, what must be there as typed)
CASES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "set_syntax": (["run", "--set", "quota"], ["error.set_syntax"], ["--set 'quota'"]),
    "unknown_parameter": (["run", "--set", "qouta=0.3"],
                          ["error.unknown_parameter", "phrase.did_you_mean"],
                          ["--set qouta=0.3", "“qouta”", "“quota”"]),
    "bad_value": (["run", "--set", "quota=1.5"], ["problem.value"], ["--set quota=1.5"]),
    "params_missing": (["run", "--params", "missing.toml"],
                       ["error.file_missing", "phrase.params_file"], ["--params", "missing.toml"]),
    "params_folder": (["run", "--params", "adir"],
                      ["error.file_is_folder", "phrase.params_file", "phrase.params_allowed"],
                      ["--params", "adir"]),
    "params_not_toml": (["run", "--params", "broken.toml"],
                        ["error.file_not_toml", "phrase.params_file"], ["broken.toml"]),
    "params_unknown": (["run", "--params", "unknown.toml"], ["error.unknown_parameter"],
                       ["unknown.toml", "“qouta”"]),
    "params_beside": (["run", "--params", "beside.toml"], ["error.keys_beside_parameters"],
                      ["beside.toml", "quota", "[parameters]"]),
    "regime_in_file": (["compare", "--params", "regime.toml"], ["error.regime_in_file"],
                       ["--params regime.toml", "team_alone", "--regimes"]),
    "regime_in_set": (["compare", "--set", "regime=team_alone"], ["error.regime_in_set"],
                      ["--set regime=...", "--regimes"]),
    "unknown_regime": (["run", "--regime", "team"],
                       ["error.unknown_regime", "phrase.did_you_mean"],
                       ["--regime", "“team”", "“team_alone”", "committee_only"]),
    "params_regime": (["params", "--regime", "team_alon"], ["error.unknown_regime"],
                      ["--regime", "“team_alon”"]),
    "regimes_unknown": (["compare", "--regimes", "committee_only,team_and_comittee"],
                        ["error.unknown_regime"], ["--regimes", "“team_and_comittee”"]),
    "regimes_empty": (["compare", "--regimes", ","], ["error.no_regimes"],
                      ["--regimes", "committee_only"]),
    "regimes_repeated": (["compare", "--regimes", "committee_only,committee_only"],
                         ["error.repeated_regime"], ["--regimes", "“committee_only”"]),
    "markdown_regime": (["params", "--markdown", "--regime", "team_alone"],
                        ["error.markdown_regime"], ["--markdown", "--regime"]),
    "seeds_zero": (["compare", "--seeds", "0"],
                   ["error.see_help", "error.argument", "error.int_between", "phrase.replicates"],
                   ["--seeds", "“0”", "village-sim compare --help"]),
    "seeds_text": (["compare", "--seeds", "x"], ["error.argument", "error.int_between"],
                   ["--seeds", "“x”"]),
    "steps_too_many": (["run", "--steps", "100000"],
                       ["error.argument", "error.int_between", "phrase.months"],
                       ["--steps", "“100000”"]),
    "seed_negative": (["run", "--seed", "-1"],
                      ["error.argument", "error.int_at_least", "phrase.seed"],
                      ["--seed", "“-1”"]),
    "too_many_rows": (["compare", "--seeds", "5000", "--steps", "1200"],
                      ["error.too_many_rows"],
                      ["--seeds 5000", "--steps 1200", "village-sim sweep"]),
    "answers_need_id": (["scenarios", "--answers"], ["error.answers_need_id"], ["--answers"]),
    "unknown_scenario": (["run", "--scenario", "team_leave"],
                         ["error.unknown_scenario", "phrase.did_you_mean"],
                         ["--scenario", "“team_leave”", "“team_leaves”"]),
    "scenarios_unknown": (["scenarios", "nope"], ["error.unknown_scenario"], ["“nope”"]),
    "handout_unknown": (["handout", "nope"], ["error.unknown_scenario"], ["“nope”"]),
    "scenario_folder": (["run", "--scenario", "adir"],
                        ["error.file_is_folder", "phrase.scenario_file",
                         "phrase.scenario_allowed"], ["--scenario", "adir"]),
    "format_suffix": (["handout", "committee_alone", "--out", "h.pdf", "--format", "html"],
                      ["error.format_suffix"], ["--format html", "--out", "h.pdf", "--format"]),
    "format_choice": (["handout", "committee_alone", "--format", "docx"],
                      ["error.argument", "error.invalid_choice"], ["--format", "docx", "pdf"]),
    "unrecognized": (["compare", "--bogus"], ["error.unrecognized", "error.see_help"],
                     ["--bogus"]),
    "unknown_command": (["comapre"], ["error.argument", "error.invalid_choice"],
                        ["COMMAND", "comapre"]),
    "required": (["sweep", "spec.toml"], ["error.required"], ["--out"]),
    "expected_one": (["compare", "--seeds"], ["error.argument", "error.expected_one"],
                     ["--seeds"]),
    "seconds": (["sweep", "spec.toml", "--out", "s", "--connect-timeout", "0"],
                ["error.argument", "error.seconds"], ["--connect-timeout", "“0”"]),
    "workers": (["sweep", "spec.toml", "--out", "s", "--workers", "0"],
                ["error.int_at_least", "phrase.workers"], ["--workers", "“0”"]),
    "scheduler_needs_dask": (["sweep", "spec.toml", "--out", "s", "--engine", "serial",
                              "--scheduler", "x"], ["error.scheduler_needs_dask"],
                             ["--scheduler", "--engine dask"]),
    "no_declared_effect": (["effects", "--only", "team_colour"], ["error.no_declared_effect"],
                           ["--only", "“team_colour”", "sanction"]),
    "shared_and_changed": (["effects", "--only", "sanction", "--set", "sanction=1"],
                           ["error.shared_and_changed"], ["--params/--set", "sanction", "--only"]),
    "out_empty": (["run", "--out", ""], ["error.out_empty"], ["--out"]),
    "out_is_a_file": (["run", "--out", "afile"], ["error.out_is_a_file_not_results"],
                      ["--out", "afile", "--overwrite"]),
    "out_in_the_way": (["run", "--out", "afile/under"], ["error.out_file_in_the_way"],
                       ["--out", "afile/under"]),
    "out_is_here": (["run", "--out", "."], ["error.out_is_here"], ["--out", "--out results"]),
    "out_holds_other_files": (["compare", "--out", "other"], ["error.out_holds_other_files"],
                              ["--out", "other", "notes.txt", "village-sim"]),
    "out_exists": (["handout", "committee_alone", "--out", "h.html"], ["error.out_exists"],
                   ["--out", "h.html", "--overwrite"]),
    "out_is_a_folder": (["handout", "committee_alone", "--out", "adir"],
                        ["error.out_is_a_folder"], ["--out", "adir", "handout.html"]),
    "sweep_out_is_a_file": (["sweep", "spec.toml", "--out", "afile"], ["error.out_is_a_file"],
                            ["--out", "afile"]),
    "sweep_folder_not_empty": (["sweep", "spec.toml", "--out", "other", "--engine", "serial"],
                               ["error.sweep_folder_not_empty"], ["--out", "other", "manifest"]),
    "no_sweep": (["report", "adir"], ["error.no_sweep"], ["adir", "--out", "village-sim sweep"]),
    "report_folder": (["report", "afile"], ["error.report_folder",
                                            "error.out_is_a_file_not_results"], ["afile", "--out"]),
    "spec_missing": (["sweep", "nope.toml", "--out", "s", "--dry-run"],
                     ["error.file_missing", "phrase.spec_file"], ["nope.toml"]),
    "spec_unknown_key": (["sweep", "spec_key.toml", "--out", "s", "--dry-run"],
                         ["error.unknown_key", "phrase.the_spec", "phrase.did_you_mean"],
                         ["spec_key.toml", "“replicate”", "“replicates”"]),
    "spec_unknown_parameter": (["sweep", "spec_param.toml", "--out", "s", "--dry-run"],
                               ["error.unknown_parameter"],
                               ["spec_param.toml: parameters", "“favouritism”", "“favoritism”"]),
    "spec_value_twice": (["sweep", "spec_value.toml", "--out", "s", "--dry-run"],
                         ["error.spec_value_twice"], ["parameters.quota", "0.2"]),
    "bundle_python": (["bundle", "b", "--python", "3.99"], ["error.bundle_python"],
                      ["--python", "“3.99”", "3.12"]),
    "bundle_arch": (["bundle", "b", "--platform", "linux", "--arch", "sparc"],
                        ["error.bundle_arch"], ["--arch", "“sparc”", "linux", "x86_64"]),
    "targets_not_toml": (["calibrate", "targets.toml", "--out", "c"],
                         ["error.file_not_toml", "phrase.targets_file"], ["targets.toml"]),
}
DECIMALS = {"spec_value_twice"}  # cases whose typed numbers are numbers (not versions)
FOREIGN = {"params_not_toml": "Invalid value (at line 1, column 9)",
           "targets_not_toml": "Invalid value (at end of document)"}


def _run(args: list[str], lang: str, files: dict[str, str],
         monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    command = args[0]
    writes = {"run", "compare"} & {command} and "--out" not in args
    args = [*args, *(["--out", files["out"]] if writes else [])]
    if command in WITH_LANG:
        monkeypatch.delenv("VILLAGE_SIM_LANG", raising=False)
        args = [*args, "--lang", lang]
    else:
        monkeypatch.setenv("VILLAGE_SIM_LANG", lang)
    code, _out, err = run_cli(args)
    return code, err


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", list(CASES))
def test_every_refusal_is_said_in_the_language_asked_for(
        case: str, lang: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    args, keys, typed = CASES[case]
    code, err = _run(args, lang, files, monkeypatch)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    if lang == "vi" and case in DECIMALS:  # a number said in the reader's convention
        typed = [t.replace(".", ",") if re.fullmatch(r"\d+\.\d+", t) else t for t in typed]
    check_said(lines[0], lang, keys, typed, foreign=f"{files['tmp']} {FOREIGN.get(case, '')}")
    assert not Path(files["out"]).exists()


def test_the_same_paths_in_english_keep_their_messages(files: dict[str, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """English is the catalog's English: no translated word, the typed values in 'quotes'."""
    for case, (args, _keys, _typed) in CASES.items():
        code, err = _run([*args], "en", files, monkeypatch)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (case, err)
        assert not re.search(r"[\u4e00-\u9fff“”]", err.replace(files["tmp"], "")), (case, err)


def test_a_usage_error_follows_the_language_typed_even_before_parsing(
        files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VILLAGE_SIM_LANG", "vi")
    code, _out, err = run_cli(["compare", "--seeds", "0", "--lang", "zh"])  # --lang wins
    assert code == 2 and "“0”" in err and "允许" in err
    code, _out, err = run_cli(["scenarios", "--lang", "fr"])  # a bad --lang: the environment's
    assert code == 2 and "--lang" in err and "“fr”" in err and "Cho phép" in err
    monkeypatch.setenv("VILLAGE_SIM_LANG", "xx")  # nothing to go by: English
    code, _out, err = run_cli(["compare", "--seeds", "0"])
    assert code == 2 and "allowed: an integer from 1 to 5,000" in err


@pytest.mark.parametrize("lang", LANGS)
def test_a_note_on_the_terminal_is_in_the_language_too(lang: str, tmp_path: Path) -> None:
    code, _out, err = run_cli(["run", "--scenario", "team_leaves", "--steps", "12", *SMALL,
                               "--lang", lang, "--quiet", "--out", str(tmp_path / "r")])
    assert code == 0 and err.startswith("note: "), err
    check_said(err.strip()[len("note: "):], lang, ["phrase.steps_before_event"],
               ["--steps 12", "team_leaves"])


# ---------------------------------------------------------------------------- sweep specs
SPEC_CASES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    "regimes": ({"regimes": ["team_and_comittee"]}, ["error.unknown_regime"],
                ["regimes", "“team_and_comittee”"]),
    "metric": ({"metrics": ["kin_premum"]}, ["error.unknown_metric", "phrase.did_you_mean"],
               ["metrics", "“kin_premum”", "“kin_premium”"]),
    "design": ({"design": "latin"}, ["error.spec_design_kind"], ["design", "“latin”", "sobol"]),
    "design_key": ({"design": {"kind": "lhs", "sample": 4},
                    "parameters": {"quota": {"low": 0.1, "high": 0.4}}},
                   ["error.unknown_key"], ["[design]", "“sample”", "“samples”"]),
    "low_high": ({"design": {"kind": "lhs", "samples": 4},
                  "parameters": {"quota": {"low": 0.4, "high": 0.1}}},
                 ["error.spec_low_high"], ["parameters.quota", "low < high"]),
    "range_needed": ({"design": {"kind": "lhs", "samples": 4}, "parameters": {"quota": [0.1]}},
                     ["error.spec_axis_range_needed"], ["parameters.quota", "“lhs”"]),
    "list_needed": ({"parameters": {"quota": {"low": 0.1, "high": 0.2}}},
                    ["error.spec_axis_list_needed"], ["parameters.quota", "“grid”"]),
    "no_range": ({"design": {"kind": "lhs", "samples": 4},
                  "parameters": {"recheck": {"low": 0, "high": 1}}},
                 ["error.spec_axis_no_range"], ["parameters.recheck", "bool"]),
    "sobol": ({"design": {"kind": "sobol", "samples": 6},
               "parameters": {"quota": {"low": 0.1, "high": 0.2}}},
              ["error.spec_sobol_samples"], ["design.samples", "“6”"]),
    "lengths": ({"design": "list", "parameters": {"quota": [0.1, 0.2], "sanction": [1.0]}},
                ["error.spec_list_lengths"], ["“list”", "quota"]),
    "base_regime": ({"base": {"regime": "team_alone"}}, ["error.spec_base_regime"],
                    ["base", "regimes = [...]"]),
    "regime_swept": ({"parameters": {"regime": ["team_alone"]}}, ["error.spec_regime_swept"],
                     ["parameters", "regimes = [...]"]),
    "both": ({"parameters": {"n_households": [30]}}, ["error.spec_base_and_swept"],
             ["“n_households”", "[base]", "[parameters]"]),
    "replicates": ({"replicates": 0}, ["error.int_at_least", "phrase.replicates_per_point"],
                   ["replicates", "“0”"]),
    "missing": ({"steps": None}, ["error.spec_missing_integer", "phrase.months_per_run"],
                ["“steps”"]),
    "metric_twice": ({"metrics": ["coverage", "coverage"]}, ["error.spec_metric_twice"],
                     ["metrics", "“coverage”"]),
    "run_function": ({"run_function": "village_sim:no_such_function"},
                     ["error.run_function_missing"], ["“village_sim:no_such_function”"]),
    "design_point": ({"base": {"n_households": 30, "team_arrives": 12},
                      "parameters": {"team_leaves": [24, 6]}},
                     ["error.design_point", "problem.after"], ["team_leaves=6", "committee_only"]),
    "design_sample": ({"base": {"n_households": 12}, "design": {"kind": "lhs", "samples": 16},
                       "parameters": {"committee_size": {"low": 3, "high": 20}}},
                      ["error.design_sample", "problem.fewer_than"], ["lhs", "committee_size="]),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", list(SPEC_CASES))
def test_sweep_spec_refusals_are_said_in_the_language(case: str, lang: str) -> None:
    from village_sim.sweep.spec import SpecError, parse_spec

    base = {"name": "t", "regimes": ["committee_only"], "replicates": 2, "root_seed": 3,
            "steps": 13, "base": {"n_households": 30}}
    changes, keys, typed = SPEC_CASES[case]
    data = {k: v for k, v in {**base, **changes}.items() if v is not None}
    with pytest.raises(SpecError) as info:
        parse_spec(data, source="t.toml")
    line = say(info.value, lang)
    assert line.startswith("t.toml: ") and "\n" not in line, line
    check_said(line, lang, keys, typed)


# ---------------------------------------------------------------------------- targets files
TARGETS = ('seeds = 2\n[free.quota]\nlow = 0.1\nhigh = 0.5\n[[arms]]\nname = "a"\n'
           '[[arms.targets]]\nmetric = "coverage"\nvalue = 0.5\n')
TARGET_CASES: dict[str, tuple[str, list[str], list[str]]] = {
    "no_arms": (TARGETS.split("[[arms]]")[0], ["error.no_arms"], ["[[arms]]"]),
    "metric": (TARGETS.replace('"coverage"', '"coverge"'),
               ["error.unknown_metric", "phrase.did_you_mean"], ["“coverge”", "“coverage”"]),
    "parameter": (TARGETS.replace("[free.quota]", "[free.qota]"), ["error.unknown_parameter"],
                  ["[free.qota]", "“qota”", "“quota”"]),
    "low_high": (TARGETS.replace("low = 0.1", "low = 0.6"), ["error.free_low_high"],
                 ["[free.quota]", "low", "high"]),
    "key": ("bogus = 1\n" + TARGETS, ["error.unknown_key", "phrase.targets_file"],
            ["“bogus”"]),
    "number": (TARGETS.replace("value = 0.5", 'value = "half"'), ["error.number"],
               ["arms[0].targets[0].value", "“half”"]),
    "integer": ("check_seeds = 1\n" + TARGETS, ["error.integer_at_least"],
                ["check_seeds", "“1”"]),
    "one_table": (TARGETS.replace("[[arms.targets]]", "[arms.targets]"), ["error.one_table"],
                  ["[arms.targets]", "[[arms.targets]]"]),
    "not_numeric": (TARGETS.replace("[free.quota]", "[free.regime]"),
                    ["error.free_not_numeric"], ["“regime”", "choice"]),
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", list(TARGET_CASES))
def test_targets_file_refusals_are_said_in_the_language(case: str, lang: str,
                                                        tmp_path: Path) -> None:
    from village_sim.calibrate import load_targets

    text, keys, typed = TARGET_CASES[case]
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_targets(path)
    line = say(info.value, lang)
    assert line.startswith(repr(str(path))) and "\n" not in line, line
    check_said(line, lang, keys, typed, foreign=str(path))


# ---------------------------------------------------------------------------- the catalogs
def _kinds_in_code() -> set[str]:
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    return set(re.findall(r"""["']((?:error|phrase)\.[a-z0-9_]+)["']""", source))


def test_every_kind_of_refusal_has_its_message_in_every_catalog() -> None:
    kinds = _kinds_in_code()
    assert len(kinds) > 100
    for lang in ("en", "zh", "vi"):
        missing = sorted(k for k in kinds if k not in messages(lang))
        assert not missing, f"{lang}.toml has no message for {missing}"
    english = {k for k in messages("en") if k.split(".")[0] in ("error", "phrase")}
    assert english == kinds, f"messages no code raises: {sorted(english - kinds)}"


def _dummy(field: str) -> Any:
    return {"problem": Refusal("error.expected_one"), "hint": Phrase("phrase.did_you_mean",
                                                                     name="quota"),
            "what": Phrase("phrase.months"), "high": Number(5000, ","),
            "names": Quoted(["a_b"]), "allowed": "x_1, x_2"}.get(field, "v_1")


@pytest.mark.parametrize("lang", LANGS)
def test_every_kind_is_said_without_english_words(lang: str) -> None:
    """Every message of the catalogs, filled with code-like values, in Chinese and Vietnamese:
    its own text, and none of the English message's words (the paths no test reaches, too)."""
    english = messages("en")
    for key in sorted(k for k in english if k.split(".")[0] in ("error", "phrase")):
        fields = {name: _dummy(name) for _l, name, _s, _c in
                  string.Formatter().parse(english[key]) if name}
        said = say(Refusal(key, **fields) if key.startswith("error.") else Phrase(key, **fields),
                   lang)
        nested = [key, *(["error.expected_one"] if "problem" in fields else []),
                  *(["phrase.did_you_mean"] if "hint" in fields else []),
                  *(["phrase.months"] if "what" in fields else [])]
        check_said(said, lang, nested, [])
        assert "!r" not in messages(lang)[key] and "'v_1'" not in said, (key, said)


def test_parts_of_refusals_are_said_in_the_readers_convention() -> None:
    assert say(Number(12_010_000, ","), "vi") == "12.010.000"
    assert say(Number(12_010_000, ","), "zh") == str(Number(12_010_000, ",")) == "12,010,000"
    assert say(Quoted(["a", "b"]), "zh") == "“a”、“b”" and str(Quoted(["a", "b"])) == "'a', 'b'"
    assert say(Allowed("quota", "a number in [0, 1]"), "vi") == "một số từ 0 đến 1"
    assert say(0.25, "vi") == "0,25" and say(True, "zh") == "true" and say(None, "vi") == "none"
    plain = Refusal("a message not yet in the catalogs", at="--x")
    assert say(plain, "zh") == str(plain) == "--x: a message not yet in the catalogs"


# ---------------------------------------------------------------------------- columns.csv
@pytest.fixture(scope="module")
def dictionaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("columns")
    out = {}
    for lang in ("en", "vi", "zh"):
        folder = root / f"run-{lang}"
        code, _o, err = run_cli(["run", "--steps", "13", *SMALL, "--households-every", "6",
                                 "--quiet", "--out", str(folder),
                                 *(["--lang", lang] if lang != "en" else [])])
        assert code == 0, err
        out[f"run-{lang}"] = pd.read_csv(folder / "columns.csv", keep_default_na=False)
    for lang in ("en", "vi"):
        folder = root / f"compare-{lang}"
        code, _o, err = run_cli(["compare", "--steps", "13", "--seeds", "3", *SMALL, "--quiet",
                                 "--out", str(folder),
                                 *(["--lang", lang] if lang != "en" else [])])
        assert code == 0, err
        out[f"compare-{lang}"] = pd.read_csv(folder / "columns.csv", keep_default_na=False)
    return out


@pytest.mark.parametrize("command", ["run", "compare"])
def test_columns_csv_is_in_vietnamese_under_lang_vi(command: str,
                                                    dictionaries: dict[str, pd.DataFrame]) -> None:
    from village_sim.dictionary import describe

    english, vi = dictionaries[f"{command}-en"], dictionaries[f"{command}-vi"]
    assert list(vi["file"]) == list(english["file"])
    assert list(vi["column"]) == list(english["column"])  # names are identifiers
    assert list(vi["defined_in"]) == list(english["defined_in"])
    for row, eng in zip(vi.itertuples(), english.itertuples(), strict=True):
        entry = describe(row.column, "vi")
        assert entry is not None and row.meaning == entry.meaning and row.unit == entry.unit
        assert row.meaning and row.meaning != eng.meaning, (row.column, row.meaning)
        assert row.unit and row.unit != eng.unit, (row.column, row.unit)
        assert row.window == "" or row.window != eng.window, (row.column, row.window)
        assert not re.search(r"[\u4e00-\u9fff]", row.meaning + row.unit + row.window), row
    if command == "compare":
        windows = set(vi.loc[vi["file"] == "summary.csv", "window"]) - {""}
        assert windows == {t("dictionary.compare_window", "vi", first=2, last=13)}


def test_columns_csv_in_chinese_and_english_by_default(
        dictionaries: dict[str, pd.DataFrame]) -> None:
    zh, english = dictionaries["run-zh"], dictionaries["run-en"]
    registered = zh.loc[zh["column"] == "registered"].iloc[0]
    assert "建档立卡" in registered.meaning and registered.window == "运行的最后一个月"
    assert english.loc[english["column"] == "registered", "meaning"].iloc[0] == \
        "on the poverty register (建档立卡)"


def test_the_english_units_of_the_catalog_are_the_dictionarys() -> None:
    from village_sim.dictionary import UNITS, unit_words
    from village_sim.i18n import unit_key

    for unit in UNITS:
        assert t(f"column_unit.{unit_key(unit)}", "en") == unit == unit_words(unit)
