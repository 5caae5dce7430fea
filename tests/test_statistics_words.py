"""Statistics that match their words, and outputs that explain themselves (issue "Outputs that
are never lost or mixed ...", items 3 (stated maxima), 5 and 6).

* Intervals of shares stay inside [0, 1] (a t interval on the logit scale), differences of
  shares are cut at their bounds and flagged, and no interval is given below 3 seeds — the
  failure this reproduces: ``0.653 [-0.583, 1.888]`` with 2 seeds.
* A claim "holds" only when its 95% CI excludes zero, with the t critical value for its degrees
  of freedom — the failure: ``handout team_leaves --seeds 2`` said "+0.157 (95% CI -0.066 to
  +0.380) ... holds (t >= 2.0)".
* Every CSV or Parquet file written comes with ``columns.csv``: every column has a meaning, a
  unit and where it is defined; summaries state window and confidence level; no ``-0.000``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cli_helpers import run_cli
from village_sim import experiment as ex
from village_sim.dictionary import METRIC_UNITS, bounds, describe
from village_sim.model import METRIC_NAMES
from village_sim.scenario import load_scenario, measure_claim
from village_sim.teaching import result_sentences

SMALL = ["--set", "n_households=60"]



# ---------------------------------------------------------------------------- intervals
def test_a_share_interval_stays_inside_0_1_on_the_logit_scale() -> None:
    values = np.array([0.02, 0.30, 0.90])  # wide spread, near both ends
    plain = ex.interval(values)  # what the old t interval gave: outside [0, 1]
    assert plain.low < 0 and plain.method == "t"
    got = ex.interval(values, bounds("coverage"))
    assert got.method == "logit t" and 0 < got.low <= got.mean <= got.high < 1
    logits = np.log(values / (1 - values))
    half = stats.t.ppf(0.975, 2) * logits.std(ddof=1) / math.sqrt(3)
    expit = 1 / (1 + np.exp(-(logits.mean() + np.array([-half, half]))))
    assert got.low == pytest.approx(min(expit[0], values.mean()))
    assert got.high == pytest.approx(max(expit[1], values.mean()))
    assert got.mean == pytest.approx(values.mean())


def test_values_on_a_bound_and_differences_are_cut_and_flagged() -> None:
    got = ex.interval(np.array([1.0, 0.6, 1.0]), (0.0, 1.0))
    assert got.method == "t, truncated" and got.high == 1.0 and got.low >= 0
    diff = ex.interval(np.array([-0.9, 0.8, 0.95]), ex.difference_bounds((0.0, 1.0)))
    assert diff.method == "t, truncated" and -1 <= diff.low and diff.high <= 1
    inside = ex.interval(np.array([0.1, 0.12, 0.11]), (-1.0, 1.0))
    assert inside.method == "t"  # nothing to cut: the plain t interval
    assert "†" in ex.format_cell(got.mean, got.low, got.high, 3, truncated=True)


def test_no_interval_below_three_seeds() -> None:
    got = ex.interval(np.array([0.2, 0.9]), (0.0, 1.0))
    assert math.isnan(got.low) and math.isnan(got.high) and got.method == "none (n < 3)"
    assert ex.format_cell(got.mean, got.low, got.high, 3) == "0.550"


def test_a_rounded_zero_is_never_negative() -> None:
    assert ex.format_cell(-0.00001, -0.0004, 0.0003, 3, signed=True) == "0.000 [0.000, 0.000]"
    assert ex.format_number(-0.0004, 3) == "0.000"
    assert ex.format_number(-0.0006, 3, signed=True) == "-0.001"


def test_compare_with_two_seeds_prints_no_interval_and_keeps_shares_inside(
        tmp_path: Path) -> None:
    code, stdout, err = run_cli(["compare", "--seeds", "2", "--steps", "13", *SMALL,
                                 "--out", str(tmp_path / "two")])
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "two" / "summary.csv")
    assert summary["ci_low"].isna().all() and summary["interval"].str.startswith("none").all()
    assert "[" not in stdout.split("-----")[-1]  # no interval in the table's rows
    assert "-0.000" not in stdout
    code, stdout, err = run_cli(["compare", "--seeds", "4", "--steps", "13", *SMALL,
                                 "--out", str(tmp_path / "four")])
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "four" / "summary.csv")
    for row in summary.itertuples():
        limits = bounds(row.metric)
        if limits is not None and math.isfinite(row.ci_low):
            assert limits[0] <= row.ci_low <= row.mean <= row.ci_high <= limits[1], row
    assert set(summary["confidence"]) == {0.95} and set(summary["window"]) == {"months 2-13"}
    diffs = pd.read_csv(tmp_path / "four" / "differences.csv")
    assert {"interval", "confidence", "window", "unit"} <= set(diffs.columns)
    assert "-0.000" not in stdout


# ---------------------------------------------------------------------------- claims
def test_a_claim_holds_only_when_its_interval_excludes_zero() -> None:
    s = load_scenario("team_leaves")
    two = measure_claim(s, [0, 1])
    assert not two.holds and math.isnan(two.ci_low)  # no interval, no claim
    words = " ".join(result_sentences(two, s, load_scenario(s.control), "en"))
    assert "Not shown on these villages" in words and "too few" in words
    assert "holds" not in words
    many = measure_claim(s, list(range(5)))
    crit = stats.t.ppf(0.975, many.n - 1)
    assert many.critical_t == pytest.approx(crit)
    assert many.holds == (abs(many.t) >= crit and np.sign(many.mean) == s.claim.sign)
    assert many.holds == (many.ci_low > 0 or many.ci_high < 0)
    words = " ".join(result_sentences(many, s, load_scenario(s.control), "zh"))
    assert ("结论成立" in words) == many.holds


def test_handout_with_two_seeds_says_not_shown(tmp_path: Path) -> None:
    out = tmp_path / "h.html"
    code, _, err = run_cli(["handout", "team_leaves", "--seeds", "2", "--out", str(out)])
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert "Not shown on these villages" in page and "The claim holds" not in page


# ---------------------------------------------------------------------------- data dictionary
def test_every_metric_has_a_unit_and_bounds_where_it_is_a_share() -> None:
    assert set(METRIC_NAMES) <= set(METRIC_UNITS)
    for name in METRIC_NAMES:
        entry = describe(name)
        assert entry is not None and entry.meaning and entry.unit, name
    assert bounds("coverage") == (0.0, 1.0) and bounds("kin_premium") == (-1.0, 1.0)
    assert bounds("registered_count") is None and bounds("released") is None


@pytest.mark.parametrize("command", ["compare", "run"])
def test_every_written_table_has_its_columns_explained(command: str, tmp_path: Path) -> None:
    out = tmp_path / command
    extra = ["--seeds", "3"] if command == "compare" else ["--households-every", "6"]
    code, _, err = run_cli([command, "--steps", "13", *SMALL, *extra, "--out", str(out)])
    assert code == 0, err
    dictionary = pd.read_csv(out / "columns.csv", keep_default_na=False)
    tables = [p for p in out.iterdir() if p.suffix in (".csv", ".parquet")
              and p.name != "columns.csv"]
    assert len(tables) >= 3
    for path in tables:
        frame = pd.read_csv(path, nrows=1) if path.suffix == ".csv" else pd.read_parquet(path)
        rows = dictionary.loc[dictionary["file"] == path.name]
        assert list(rows["column"]) == list(frame.columns), path.name
        for row in rows.itertuples():
            assert row.meaning and row.unit and row.defined_in.startswith(("docs/", "exp")), row
    if command == "compare":
        summary = dictionary.loc[dictionary["file"] == "summary.csv"]
        assert set(summary.loc[summary["column"] == "mean", "window"]) == {
            "months 2-13 (mean of each seed over them)"}


def test_version_is_printed_and_recorded(tmp_path: Path) -> None:
    from village_sim.cli_common import package_version

    code, stdout, _ = run_cli(["--version"])
    assert code == 0 and stdout.strip() == f"village-sim {package_version()}"
    code, _, _ = run_cli(["run", "--steps", "2", *SMALL, "--out", str(tmp_path / "r")])
    assert f"village-sim {package_version()}" in (tmp_path / "r" / "parameters.toml").read_text()


def test_counts_have_stated_maxima_checked_before_any_work(tmp_path: Path) -> None:
    code, _, err = run_cli(["compare", "--seeds", "100000000", "--out", str(tmp_path / "c")])
    assert code == 2 and "from 1 to 5,000" in err
    code, _, err = run_cli(["compare", "--seeds", "5000", "--steps", "1200", "--out",
                            str(tmp_path / "c")])
    assert code == 2 and "village-sim sweep" in err and not (tmp_path / "c").exists()
    code, _, err = run_cli(["run", "--steps", "100000", "--out", str(tmp_path / "r")])
    assert code == 2 and "1 to 1,200" in err


def test_a_sweep_and_its_report_explain_every_column(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from village_sim.outputs import package_version

    spec = tmp_path / "spec.toml"
    spec.write_text('name = "t"\nregimes = ["committee_only", "team_and_committee"]\n'
                    'replicates = 3\nroot_seed = 2\nsteps = 13\npanel_every = 12\n'
                    '[base]\nn_households = 40\n[parameters]\nfavoritism = [0.3, 0.7]\n',
                    encoding="utf-8")
    sweep = tmp_path / "s"
    assert run_cli(["sweep", str(spec), "--out", str(sweep), "--engine", "serial",
                    "--quiet"])[0] == 0
    dictionary = pd.read_csv(sweep / "columns.csv", keep_default_na=False)
    files = {"design.parquet": sweep / "design.parquet", "plan.parquet": sweep / "plan.parquet",
             "run_table.parquet": sweep / "run_table.parquet",
             "runs/<run_id>.parquet": next((sweep / "runs").glob("*.parquet")),
             "panels/<run_id>.parquet": next((sweep / "panels").glob("*.parquet"))}
    for name, path in files.items():
        rows = dictionary.loc[dictionary["file"] == name]
        names = [n for n in pq.read_schema(path).names if not n.startswith("__")]
        assert list(rows["column"]) == names, name
        assert (rows["meaning"] != "").all() and (rows["unit"] != "").all(), name
    assert run_cli(["report", str(sweep), "--quiet"])[0] == 0
    report_columns = pd.read_csv(sweep / "report" / "columns.csv", keep_default_na=False)
    for table in (sweep / "report").glob("*.csv"):
        if table.name == "columns.csv":
            continue
        rows = report_columns.loc[report_columns["file"] == table.name]
        assert list(rows["column"]) == list(pd.read_csv(table, nrows=0).columns), table.name
        assert (rows["meaning"] != "").all() and (rows["unit"] != "").all(), table.name
    assert f"village-sim {package_version()}" in (sweep / "report.md").read_text()


def test_figure_bands_are_the_table_intervals() -> None:
    """The bands drawn in metrics.png, handouts and reports: inside 0-1 for shares."""
    frame = pd.DataFrame({"step": [1, 1, 1, 2, 2, 2],
                          "coverage": [0.02, 0.30, 0.90, 0.5, 0.5, 0.5],
                          "released": [1.0, 5.0, 9.0, 2.0, 2.0, 2.0]})
    steps, mean, low, high = ex.step_bands(frame, "coverage")
    assert list(steps) == [1.0, 2.0] and (low >= 0).all() and (high <= 1).all()
    got = ex.interval(np.array([0.02, 0.30, 0.90]), (0.0, 1.0))
    assert (low[0], high[0]) == (got.low, got.high)
    _, _, low, _ = ex.step_bands(frame, "released")  # unbounded: the plain t band
    assert low[0] == pytest.approx(5 - stats.t.ppf(0.975, 2) * 4 / math.sqrt(3))
    _, _, low, high = ex.step_bands(frame.iloc[[0, 1, 3, 4]], "coverage")
    assert np.isnan(low).all() and np.isnan(high).all()  # 2 seeds: no band
