"""Runs stepped together on the county engine give each run's own numbers, bit for bit.

``village-sim compare`` (``experiment.run_paired``), ``village-sim effects``, calibration and
the statistical tests (tests/test_effects.py, tests/test_model2.py) take their runs from
:func:`village_sim.experiment.run_stacked`; what they report and judge is the solo runs'
numbers only if these tests hold.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from village_sim.county.phases import draws
from village_sim.effects import frame_window_means, stacked_windows, window_means, window_means_many
from village_sim.experiment import run_model

# regimes and the switches the statistical tests turn, several to a run
RUNS = [
    ("committee_only", 0, {}),
    ("team_and_committee", 1, {}),
    ("committee_plus_mobilization", 2, {"favoritism": 0.0}),
    ("team_and_committee", 3, {"team_visits_per_month": 0}),
    ("team_and_committee", 4, {"team_size": 1, "team_visits_per_month": 400,
                               "quota_mode": "fill"}),
    ("committee_only", 5, {"audit_probability": 0.7, "upper_recheck": False}),
    ("team_and_committee", 6, {"team_leaves": 12, "internalisation_rate": 0.5}),
    ("team_and_committee", 7, {"cooptation": 1.0, "mobilization": 0.0}),
    ("team_and_committee", 8, {"team_shares_findings": False, "exit_pressure": 0.8}),
    ("committee_only", 9, {"diversion_propensity": 0.6, "project_capture": 0.0,
                           "n_households": 120}),
]


def same(a: dict[str, float], b: dict[str, float]) -> list[str]:
    """The metrics whose values differ (NaN equals NaN); the keys must be the same, in order."""
    assert list(a) == list(b)
    return [k for k in a if not (a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])))]


@pytest.mark.parametrize("months", [0, 1, 13, 26])
def test_stacked_runs_give_each_run_s_window_means(months: int) -> None:
    stacked = window_means_many([(r, s, months, o) for r, s, o in RUNS])
    for (regime, seed, overrides), got in zip(RUNS, stacked, strict=True):
        assert not same(got, window_means(regime, seed, months, overrides)), (regime, overrides)


def test_runs_of_different_lengths_are_each_their_own() -> None:
    runs = [(r, s, 12 + 5 * j, o) for j, (r, s, o) in enumerate(RUNS[:4])]
    for (regime, seed, months, overrides), got in zip(runs, window_means_many(runs),
                                                      strict=True):
        assert not same(got, window_means(regime, seed, months, overrides)), months


def test_several_windows_of_one_run_are_those_of_its_monthly_frame() -> None:
    ends = (3, 14, 25)
    got = stacked_windows(RUNS[:3], 25, ends)
    for (regime, seed, overrides), windows in zip(RUNS[:3], got, strict=True):
        frame = run_model(regime, seed, 25, overrides).datacollector.get_model_vars_dataframe()
        assert list(windows) == list(ends)
        for end in ends:
            assert not same(windows[end], frame_window_means(frame, end)), end


def test_a_county_large_enough_for_compiled_draws_gives_the_same_numbers() -> None:
    from village_sim.experiment import run_stacked

    runs = [(RUNS[j % len(RUNS)][0], 100 + j, RUNS[j % len(RUNS)][2])
            for j in range(draws.JIT_FROM_VILLAGES)]
    compiled = run_stacked(runs, 14, compiled_draws=True)
    python = run_stacked(runs, 14)
    for j in range(0, len(runs), 7):
        assert compiled[j].equals(python[j]), j
    got = stacked_windows(runs, 14)
    for (regime, seed, overrides), windows in zip(runs[::7], got[::7], strict=True):
        assert not same(windows[14], window_means(regime, seed, 14, overrides)), seed


def test_batches_of_runs_are_each_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from village_sim import experiment

    monkeypatch.setattr(experiment, "STACK_BATCH", 3)
    got = stacked_windows(RUNS[:7], 5)
    for (regime, seed, overrides), windows in zip(RUNS[:7], got, strict=True):
        assert not same(windows[5], window_means(regime, seed, 5, overrides)), seed


@pytest.mark.parametrize(("call", "message"), [
    (lambda: stacked_windows(RUNS[:1], -1), "months: got -1"),
    (lambda: stacked_windows(RUNS[:1], 12, (13,)), "ends: got 13"),
    (lambda: stacked_windows([("committee_only", 0, {"regime": "x"})], 2),
     "run 0: pass the regime"),
    (lambda: stacked_windows([RUNS[0], ("committee_only", 1, {"favoritism": 7.0})], 2),
     "run 1 .*favoritism"),
    (lambda: window_means_many([("no_such_regime", 0, 2, {})]), "no_such_regime"),
])
def test_bad_runs_get_clear_errors(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_checking_declarations_together_gives_the_verdicts_one_by_one() -> None:
    from village_sim.effects import check, check_many

    names = ["sanction", "audit_probability"]
    together = check_many(names, overrides={"n_households": 150}, seeds=3)
    for name, got in zip(names, together, strict=True):
        alone = check(name, overrides={"n_households": 150}, seeds=3)
        assert got == alone, name  # every field: mean, se, t, interval, verdict


def test_a_bad_declaration_fails_before_anything_runs() -> None:
    from village_sim.effects import check_many

    with pytest.raises(ValueError, match="'team_colour': no declared effect"):
        check_many(["sanction", "team_colour"])
    with pytest.raises(ValueError, match="seeds: got 1"):
        check_many(["sanction"], seeds=1)


def test_compare_s_paired_runs_are_each_run_s_own_time_series() -> None:
    import pandas as pd

    from village_sim.experiment import run_one, run_paired

    regimes, seeds = ["committee_only", "team_and_committee", "team_alone"], [11, 12]
    got = run_paired(regimes, seeds, 14, {"n_households": 140})
    expected = []
    for regime in regimes:
        for rep, seed in enumerate(seeds):
            frame = run_one(regime, seed, 14, {"n_households": 140})
            frame.insert(0, "replicate", rep)
            frame.insert(0, "seed", seed)
            frame.insert(0, "regime", regime)
            expected.append(frame)
    pd.testing.assert_frame_equal(got, pd.concat(expected, ignore_index=True), check_exact=True)


def test_stacked_runs_are_their_datacollectors_rows() -> None:
    from village_sim.experiment import run_stacked

    frames = run_stacked(RUNS[:4], 9, months=(0, 4, 9))
    for (regime, seed, overrides), got in zip(RUNS[:4], frames, strict=True):
        rows = run_model(regime, seed, 9, overrides).datacollector.get_model_vars_dataframe()
        assert list(got.index) == [0, 4, 9] and list(got.columns) == list(rows.columns)
        expected = rows.iloc[[0, 4, 9]].astype(float).to_numpy()
        assert ((got.to_numpy() == expected) | (np.isnan(got.to_numpy()) & np.isnan(expected))
                ).all(), seed


def test_calibration_s_stacked_runs_are_its_runs_one_by_one() -> None:
    from village_sim import calibrate

    targets = calibrate.parse_targets({
        "name": "t", "seeds": 3, "steps": 14,
        "free": {"favoritism": {"low": 0.0, "high": 1.0}},
        "base": {"n_households": 130},
        "arms": [{"name": "a", "overrides": {"regime": "committee_only"},
                  "targets": [{"metric": "kin_premium", "value": 0.1, "step": 14}]},
                 {"name": "b", "overrides": {"regime": "team_and_committee"},
                  "targets": [{"metric": "diverted_share", "value": 0.1, "step": 14}]}],
    })
    stacked = calibrate.simulate(targets, [0.6], [5, 6, 7])
    one_by_one = calibrate.simulate(targets, [0.6], [5, 6, 7],
                                    mapper=lambda fn, xs: [fn(x) for x in xs])
    assert stacked.equals(one_by_one), (stacked, one_by_one)
