"""``village-sim county``: deployment rules on paired seeds (issue 11, items 3 and 4).

The command runs, writes its files, prints the paired table and what a team-year buys; its
numbers are those of the library (``county_compare``) on the same seeds; bad input is refused
before any run, naming the option.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cli_helpers import run_cli
from village_sim import county_compare as cc
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
