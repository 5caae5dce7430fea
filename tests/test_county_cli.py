"""``village-sim county``: deployment rules on paired seeds (issue 11, items 3 and 4).

The command runs, writes its files, prints the paired table and what a team-year buys; its
numbers are those of the library (``county_compare``) on the same seeds; bad input is refused
before any run, naming the option.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cli_helpers import run_cli
from village_sim import county_compare as cc
from village_sim.county.budgets import CountyView
from village_sim.county.deployment import DeploymentHistory, unseen_rules
from village_sim.experiment import replicate_seeds

ARGS = ["county", "--villages", "4", "--teams", "2", "--seeds", "3", "--years", "3",
        "--rules", "none,random,cash_equivalent", "--set", "n_households=120"]
FILES = {"county_timeseries.csv", "village_year.parquet", "deployment_log.csv", "summary.csv",
         "differences.csv", "cost_effectiveness.csv", "columns.csv", "parameters.toml",
         "county_metrics.png", ".village-sim-output.json"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("county") / "out"
    code, stdout, stderr = run_cli([*ARGS, "--out", str(out)])
    assert code == 0, stderr
    return out, stdout


def test_the_command_writes_its_files_and_prints_its_tables(written: tuple[Path, str]) -> None:
    out, stdout = written
    assert {p.name for p in out.iterdir()} == FILES
    assert "diff random" in stdout and "What a team-year buys" in stdout
    assert stdout.strip().splitlines()[-1] == str(out)
    columns = pd.read_csv(out / "columns.csv")
    assert not (columns["meaning"].isna() | (columns["meaning"] == "")).any(), \
        columns.loc[columns["meaning"].isna(), ["file", "column"]]
    yearly = pd.read_parquet(out / "village_year.parquet")
    assert len(yearly) == 3 * 3 * 3 * 4  # rules x seeds x years x villages
    assert set(yearly["rule"]) == {"none", "random", "cash_equivalent"}
    assert not yearly.loc[yearly["rule"] == "none", "had_team"].any()
    assert (yearly.loc[yearly["rule"] == "random"].groupby(["seed", "year"])["had_team"].sum()
            == 2).all()
    log = pd.read_csv(out / "deployment_log.csv")
    assert set(log["rule"]) == {"random", "cash_equivalent"}


def test_its_numbers_are_the_library_s_on_the_same_seeds(written: tuple[Path, str]) -> None:
    out, _ = written
    seeds = replicate_seeds(0, 3)
    runs = cc.run_rules(["none", "random", "cash_equivalent"], seeds, 3,
                        {"n_villages": 4, "teams": 2, "allocation_rule": "fixed",
                         "n_households": 120})
    summary, diffs = cc.summarise_rules(runs)
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), summary,
                                  check_dtype=False, rtol=1e-12)
    effectiveness = cc.cost_effectiveness(runs)
    pd.testing.assert_frame_equal(pd.read_csv(out / "cost_effectiveness.csv"), effectiveness,
                                  check_dtype=False, rtol=1e-12)
    got = effectiveness.set_index(["rule", "baseline", "quantity"])["mean"]
    # 2 teams of 3 members: 2 team-years a year, each its cost and 940,000 yuan
    assert got[("random", "none", "team_years")] == 2.0
    assert got[("random", "none", "yuan")] == pytest.approx(2 * (1500.0 * 3 * 12 + 940_000))
    assert got[("cash_equivalent", "none", "yuan")] == got[("random", "none", "yuan")]
    assert ("none", "cash_equivalent", "team_years") not in got.index


@pytest.mark.parametrize(("extra", "message"), [
    (["--rules", "none,everywhere"], "parameter 'rules': got 'everywhere'"),
    (["--rules", "none,none"], "allowed: distinct rules"),
    (["--villages", "nofile.toml"], "nofile.toml"),
    (["--teams", "0.5"], "0.5"),
    (["--teams", "-2"], "teams: got -2; allowed: a number of teams in [0, 100000]"),
    (["--villages", "-3"], "parameter 'n_villages': got -3"),
    (["--county-budget-per-household", "100"], "allocation_rule 'fixed'"),
    (["--set", "team_arrives=3"], "parameter 'team_arrives': set by the county"),
    (["--years", "0"], "--years"),
])
def test_bad_input_is_refused_before_any_run(extra: list[str], message: str,
                                             tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, stdout, stderr = run_cli([*ARGS, *extra, "--out", str(out), "--quiet"])
    assert code == 2, (stdout, stderr)
    assert stderr.startswith("error: ") and message in stderr, stderr
    assert "Traceback" not in stderr and not out.exists()


# ---------------------------------------------------------------------------- --lang
SMALL = ["county", "--villages", "4", "--teams", "2", "--seeds", "2", "--years", "1",
         "--rules", "none,random", "--set", "n_households=120", "--quiet"]


@pytest.fixture(scope="module")
def by_lang(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same small county written with no --lang (English), --lang zh and --lang vi."""
    root = tmp_path_factory.mktemp("county-lang")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("VILLAGE_SIM_LANG", raising=False)
        for lang in ("en", "zh", "vi"):
            folder = root / lang
            code, _o, err = run_cli([*SMALL, "--out", str(folder),
                                     *(["--lang", lang] if lang != "en" else [])])
            assert code == 0, err
            out[lang] = folder
    return out


def _columns(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "columns.csv", keep_default_na=False)


@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_columns_csv_and_figure_are_in_the_language_asked_for(
        lang: str, by_lang: dict[str, Path]) -> None:
    """Every meaning, unit and window of columns.csv in zh or vi, none left in English; names,
    files and defining sections as in English; the figure written."""
    from village_sim.dictionary import county_notes, describe
    from village_sim.i18n import t

    notes = county_notes(lang)  # what the county's files mean by names used otherwise

    english, other = _columns(by_lang["en"]), _columns(by_lang[lang])
    for key in ("file", "column", "defined_in"):
        assert list(other[key]) == list(english[key]), key
    own = set(cc.COUNTY_COLUMNS)
    assert own & set(other["column"]) >= {"between_village_gini", "between_village_share",
                                          "headcount_spread", "teams_deployed", "team_yuan",
                                          "quota_households", "greed_factor", "quantity"}
    for row, eng in zip(other.itertuples(), english.itertuples(), strict=True):
        entry = notes.get(row.column) or describe(row.column, lang)
        assert entry is not None and (row.meaning, row.unit) == (entry.meaning, entry.unit)
        assert row.meaning and row.meaning != eng.meaning, (row.file, row.column, row.meaning)
        assert (row.unit == "") == (eng.unit == ""), (row.column, row.unit)
        assert row.unit == "" or row.unit != eng.unit, (row.column, row.unit)
        assert (row.window == "") == (eng.window == ""), (row.column, row.window)
        assert row.window == "" or row.window != eng.window, (row.column, row.window)
        has_chinese = bool(re.search(r"[\u4e00-\u9fff]", row.meaning))
        assert has_chinese == (lang == "zh"), (row.column, row.meaning)
        if row.column in notes:
            assert row.meaning == t(f"county_column.{row.column}", lang), row.column
        elif row.column in own:
            assert row.meaning == t(f"column.{row.column}", lang), row.column
    windows = set(other.loc[other["file"] == "summary.csv", "window"]) - {""}
    assert windows == {t("dictionary.county_window", lang, first=1, last=12)}
    assert (by_lang[lang] / "county_metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_english_columns_csv_keeps_the_county_s_own_words(by_lang: dict[str, Path]) -> None:
    """Without --lang, every county column says what COUNTY_COLUMNS says, in every file: also
    the names other files use otherwise (year, month, persons, reason, regime, baseline), and
    each file's window is its own (a month's row, a year's end, the final year)."""
    english = _columns(by_lang["en"])
    rows = english.set_index(["file", "column"])
    checked = set()
    for (file, column), row in rows.iterrows():
        if column in cc.COUNTY_COLUMNS:
            meaning, unit = cc.COUNTY_COLUMNS[column][:2]
            assert (row["meaning"], row["unit"]) == (meaning, unit), (file, column)
            checked.add(column)
    assert {"year", "month", "persons", "reason", "regime", "baseline"} <= checked
    assert rows.loc[("village_year.parquet", "greed_factor"), "meaning"] == \
        "factor on the village's favoritism channels"
    assert rows.loc[("county_timeseries.csv", "headcount_spread"), "unit"] == \
        "difference of shares"
    assert rows.loc[("village_year.parquet", "persons"), "meaning"] == \
        "people living in the village's households"
    assert rows.loc[("summary.csv", "regime"), "meaning"].startswith("deployment rule")

    def windows(file: str, columns: list[str]) -> set[str]:
        return {rows.loc[(file, c), "window"] for c in columns}

    assert windows("county_timeseries.csv", ["poverty_headcount", "teams_deployed"]) == \
        {"the month in 'step'"}
    assert windows("village_year.parquet", ["poverty_headcount", "team_yuan"]) == \
        {"the end of the year in 'year'"}
    assert windows("village_year.parquet", ["year", "village", "rule"]) == {""}
    assert windows("deployment_log.csv", ["reason"]) == {"the month in 'month'"}
    assert set(english.loc[english["file"] == "summary.csv", "window"]) == {"", "months 1-12"}


def reverse_order(view: CountyView, history: DeploymentHistory, rng: object) -> list[int]:
    """A custom deployment rule (the API's callable): the last village first."""
    return list(range(len(history.holds_team)))[::-1]


@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_a_custom_rule_is_labelled_by_its_own_name(lang: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A callable rule (the API; the command takes only built-in names) keeps its name in the
    figure's legend, beside the built-in rules' translated labels."""
    from matplotlib.figure import Figure

    from village_sim.i18n import Catalog

    legends: list[list[str]] = []
    save = Figure.savefig

    def savefig(fig: Figure, *args: object, **kwargs: object) -> None:
        legends.append([text.get_text() for legend in fig.legends for text in legend.texts])
        save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    runs = cc.run_rules(["none", reverse_order], [0, 1], 1,
                        {"n_villages": 4, "teams": 1, "n_households": 120})
    summary, diffs = cc.summarise_rules(runs)
    cc.write_county_outputs(tmp_path, runs, summary, diffs, cc.cost_effectiveness(runs), "",
                            lang=lang)
    assert cc.rule_labels(["none", "reverse_order"], lang) == {
        "none": Catalog(lang).rule("none"), "reverse_order": "reverse_order"}
    assert Catalog(lang).rule("none") != "none"
    assert legends == [[Catalog(lang).rule("none"), "reverse_order"]]
    assert (tmp_path / "county_metrics.png").is_file()
    yearly = pd.read_parquet(tmp_path / "village_year.parquet")
    assert set(yearly["rule"]) == {"none", "reverse_order"}
    code, _o, stderr = run_cli([*SMALL, "--rules", "none,reverse_order", "--lang", lang,
                                "--out", str(tmp_path / "cli")])
    assert code == 2 and "reverse_order" in stderr  # the command: built-in rules only


def test_rules_that_chose_only_in_year_one_are_said_to_have_deployed_at_random(
        written: tuple[Path, str], tmp_path: Path) -> None:
    """In year 1 a county has seen no register, survey or complaint: the informed rules rank
    villages by the random keys every rule draws, as ``random`` does. A run that never
    deploys again measures a random deployment, and the command says so."""
    county = {"n_villages": 6, "teams": 2, "allocation_rule": "fixed", "n_households": 60}
    rules = ["random", "poorest_first", "most_complaints_first", "cash_equivalent", "rotate"]
    runs = cc.run_rules(rules, [5, 6], 1, county)
    by_rule = {rule: [r for r in runs if r.rule == rule] for rule in rules}
    for rule in ("poorest_first", "most_complaints_first", "cash_equivalent"):
        for mine, theirs in zip(by_rule[rule], by_rule["random"], strict=True):
            assert mine.log["village"].tolist() == theirs.log["village"].tolist(), rule
    # rotate ranks by village order in year 1 (never served, then village), not at random
    assert any(r.log["village"].tolist() != t.log["village"].tolist()
               for r, t in zip(by_rule["rotate"], by_rule["random"], strict=True))
    # what the runs did (every arrival in year 1) is what unseen_rules foresees from the terms
    only_year_one = [rule for rule in rules if all(
        (r.log.loc[r.log["event"] == "arrives", "year"] == 1).all() for r in by_rule[rule])]
    assert unseen_rules(rules, [2, 2], 12) == ["poorest_first", "most_complaints_first",
                                               "cash_equivalent"]
    assert set(unseen_rules(rules, [2, 2], 12)) <= set(only_year_one)
    assert unseen_rules(rules, [2, 2], 25) == [] and unseen_rules(rules, [], 12) == []
    # three years with terms of two: cash_equivalent chose again in year 3, with information
    _, stdout = written
    assert "Note:" not in stdout
    code, stdout, stderr = run_cli(["county", "--villages", "4", "--teams", "2", "--seeds", "2",
                                    "--years", "1", "--rules", "none,poorest_first",
                                    "--set", "n_households=60", "--out", str(tmp_path / "o")])
    assert code == 0, stderr
    assert "Note: poorest_first chose every village in year 1" in stdout
