"""Calibration: recovers known parameters, uses arm contrasts, refuses bad files clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from village_sim.calibrate import calibrate, load_targets, parse_targets, write_outputs
from village_sim.experiment import replicate_seeds
from village_sim.model import VillageModel


def test_two_arm_contrast_identifies_what_neither_arm_alone_does(tmp_path: Path) -> None:
    # `released` in the control arm identifies the budget; only the contrast between the arms
    # (treatment minus control) identifies the mobilized share.
    spec = {
        "name": "contrast", "seeds": 2, "check_seeds": 3, "root_seed": 3,
        "base": {"n_households": 30},
        "free": {"budget_per_household": {"low": 500.0, "high": 3000.0},
                 "mobilization": {"low": 0.0, "high": 2.0}},
        "arms": [
            {"name": "control", "overrides": {"regime": "committee_only"},
             "targets": [{"metric": "released", "value": 30 * 1200.0 / 12, "step": 2}]},
            {"name": "treatment", "overrides": {"regime": "team_and_committee"}},
        ],
        "contrasts": [{"metric": "released", "arm_a": "control", "arm_b": "treatment",
                       "value": 0.8 * 30 * 1200.0 / 12, "step": 2}],
        "optimizer": {"maxiter": 25, "popsize": 8},
    }
    result = calibrate(parse_targets(spec))
    assert result.fitted["budget_per_household"] == pytest.approx(1200.0, rel=0.02)
    assert result.fitted["mobilization"] == pytest.approx(0.8, abs=0.03)
    assert result.fit_table["target_in_ci"].all()
    assert (result.fit_table["n_seeds"] == 3).all()  # check_seeds fresh seeds
    assert len(result.check_seeds) == 3 and not set(result.check_seeds) & set(result.fit_seeds)
    files = write_outputs(result, tmp_path)
    assert {f.name for f in files} >= {"fitted.toml", "fit_table.csv", "convergence.png"}
    # the fitted file is a --params file: the model builds from it
    from village_sim.params import load_overrides
    overrides = load_overrides(tmp_path / "fitted.toml")
    assert overrides["mobilization"] == pytest.approx(result.fitted["mobilization"])
    VillageModel(rng=1, **overrides)


def _generated_targets(noise: float, quota: float, seeds: list[int]) -> dict[str, float]:
    """Targets the model itself generates at known parameter values."""
    values: dict[str, list[float]] = {"exclusion_error": [], "inclusion_error_nonpoor": [],
                                      "registered_count": []}
    for s in seeds:
        m = VillageModel(rng=s, regime="committee_only", favoritism=0.0, poverty_line=3800.0,
                         committee_noise=noise, quota=quota, democratic_appraisal=False)
        m.step()
        for k in values:
            values[k].append(m.metrics()[k])
    return {k: float(np.mean(v)) for k, v in values.items()}


def test_recovers_known_parameters_from_model_generated_targets() -> None:
    truth = {"committee_noise": 0.6, "quota": 0.25}
    fit_root = 11
    # the targets come from seeds disjoint from those the fit will use
    fit_and_check = set(replicate_seeds(fit_root, 16))
    generating = [s for s in range(5000, 5020) if s not in fit_and_check]
    observed = _generated_targets(truth["committee_noise"], truth["quota"], generating)
    spec = {
        "name": "recovery", "seeds": 8, "root_seed": fit_root,
        "base": {"regime": "committee_only", "favoritism": 0.0, "poverty_line": 3800.0,
                 "democratic_appraisal": False},
        "free": {"committee_noise": {"low": 0.05, "high": 2.0},
                 "quota": {"low": 0.1, "high": 0.5}},
        "arms": [{"name": "village", "targets": [
            {"metric": "exclusion_error", "value": observed["exclusion_error"], "step": 1},
            {"metric": "inclusion_error_nonpoor", "value": observed["inclusion_error_nonpoor"],
             "step": 1},
            {"metric": "registered_count", "value": observed["registered_count"], "step": 1,
             "scale": 3.0},
        ]}],
        "optimizer": {"maxiter": 12, "popsize": 6},
    }
    result = calibrate(parse_targets(spec))
    assert result.fitted["quota"] == pytest.approx(truth["quota"], abs=0.02)
    assert result.fitted["committee_noise"] == pytest.approx(truth["committee_noise"], abs=0.15)
    assert set(result.fit_seeds).isdisjoint(generating)
    assert set(result.check_seeds).isdisjoint(result.fit_seeds)


GOOD = """
seeds = 2
[free.quota]
low = 0.1
high = 0.5
[[arms]]
name = "a"
[[arms.targets]]
metric = "coverage"
value = 0.5
"""


@pytest.mark.parametrize(("text", "message"), [
    ("seeds = 2\n[free.quota]\nlow = 0.1\nhigh = 0.5\n", "at least one arm"),
    (GOOD.replace("metric = \"coverage\"", "metric = \"coverge\""), "did you mean 'coverage'"),
    (GOOD.replace("[free.quota]", "[free.qota]"), "did you mean 'quota'"),
    (GOOD.replace("high = 0.5", "high = 1.5"), "parameter 'quota': got 1.5"),
    (GOOD.replace("low = 0.1", "low = 0.6"), "must be below high"),
    (GOOD + "\nbogus = 1\n", "unknown key 'bogus'"),
    (GOOD.replace("value = 0.5", "value = \"half\""), "value: got 'half'"),
    (GOOD + "[[contrasts]]\nmetric='coverage'\narm_a='a'\narm_b='b'\nvalue=0.1\n",
     "unknown arm 'b'"),
    ("seeds = [", "not valid TOML"),
    (GOOD.replace("[free.quota]", "[free.regime]"), "allowed: a numeric parameter"),
    ("check_seeds = 1\n" + GOOD, "check_seeds: got 1; allowed: an integer >= 2"),
    ("check_seeds = 2.5\n" + GOOD, "check_seeds: got 2.5; allowed: an integer"),
])
def test_bad_targets_files_get_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        load_targets(path)
    assert "targets.toml" in str(err.value)


def test_the_worked_example_file_is_valid() -> None:
    path = Path(__file__).parents[1] / "experiments" / "calibration" / "alatas2012.toml"
    targets = load_targets(path)
    assert set(targets.free) == {"committee_noise", "quota"}
    assert targets.base["favoritism"] is not None
    # as the experiment was designed: a fixed number of beneficiaries; 50 fresh seeds
    assert targets.base["quota_mode"] == "fill"
    assert targets.check_seeds == 50


def test_cli_refuses_a_bad_targets_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from village_sim.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("[free.quota]", "[free.qota]"), encoding="utf-8")
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "did you mean 'quota'" in err
    assert not (tmp_path / "out").exists()
