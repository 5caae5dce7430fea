"""Sweep specs: validation errors, seeded designs, run identity and common random numbers."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

from sweep_plugins import write_spec
from village_sim.cli import main
from village_sim.experiment import replicate_seeds
from village_sim.params import resolve_parameters
from village_sim.sweep.design import design_points, plan_runs, run_id_for
from village_sim.sweep.spec import SpecError, SweepSpec, load_spec, parse_spec

BASE = {
    "name": "t", "regimes": ["committee_only", "team_and_committee"], "replicates": 2,
    "root_seed": 3, "steps": 13, "base": {"n_households": 30},
}


def spec_of(**changes: object) -> SweepSpec:
    data = {**BASE, **changes}
    return parse_spec({k: v for k, v in data.items() if v is not None}, source="t.toml")


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"replicate": 3}, ["unknown key 'replicate'", "did you mean 'replicates'"]),
        ({"parameters": {"favouritism": [0.1]}},
         ["unknown parameter 'favouritism'", "did you mean 'favoritism'"]),
        ({"base": {"n_houshold": 30}}, ["unknown parameter 'n_houshold'", "'n_households'"]),
        ({"metrics": ["kin_premum"]}, ["unknown metric 'kin_premum'", "'kin_premium'"]),
        ({"regimes": ["committee_only", "team_and_comittee"]},
         ["unknown regime 'team_and_comittee'", "'team_and_committee'"]),
        ({"design": "latin"}, ["design: got 'latin'", "allowed: grid, list, lhs, sobol, morris"]),
        ({"design": {"kind": "lhs", "sample": 4},
          "parameters": {"quota": {"low": 0.1, "high": 0.4}}},
         ["unknown key 'sample' in [design]", "did you mean 'samples'"]),
        ({"parameters": {"quota": [0.2, 1.5]}},
         ["parameter 'quota': got 1.5", "allowed: a number in [0, 1]"]),
        ({"parameters": {"n_clans": [2.5]}}, ["parameter 'n_clans': got 2.5", "an integer"]),
        ({"parameters": {"quota": [0.2, 0.2]}}, ["value 0.2 is given twice"]),
        ({"design": {"kind": "lhs", "samples": 4},
          "parameters": {"quota": {"low": 0.4, "high": 0.1}}},
         ["parameters.quota: got low = 0.4, high = 0.1", "low < high"]),
        ({"design": {"kind": "lhs", "samples": 4},
          "parameters": {"audit_probability": {"low": 0.0, "high": 1.5}}},
         ["parameters.audit_probability.high", "got 1.5", "[0, 1]"]),
        ({"design": {"kind": "lhs", "samples": 4}, "parameters": {"quota": [0.1, 0.2]}},
         ["design 'lhs' samples ranges"]),
        ({"parameters": {"quota": {"low": 0.1, "high": 0.2}}},
         ["design 'grid' takes a list of values"]),
        ({"design": {"kind": "lhs", "samples": 4},
          "parameters": {"recheck": {"low": 0, "high": 1}}}, ["a bool parameter has no range"]),
        ({"design": {"kind": "sobol", "samples": 6},
          "parameters": {"quota": {"low": 0.1, "high": 0.2}}}, ["a power of 2"]),
        ({"design": "list", "parameters": {"quota": [0.1, 0.2], "sanction": [1.0]}},
         ["equal lengths"]),
        ({"base": {"regime": "team_alone"}}, ["'regime' is not a base parameter"]),
        ({"parameters": {"regime": ["team_alone"]}}, ["'regime' is not swept here"]),
        ({"parameters": {"n_households": [30]}}, ["both in [base] and in [parameters]"]),
        ({"replicates": 0}, ["replicates: got 0", "an integer >= 1"]),
        ({"steps": None}, ["missing key 'steps'"]),
        ({"metrics": ["coverage", "coverage"]}, ["'coverage' is given more than once"]),
        ({"run_function": "no_such_module:run"}, ["cannot import 'no_such_module'"]),
        # a combination the schema refuses, found at a design point
        ({"base": {"n_households": 30, "team_arrives": 12}, "parameters": {"team_leaves": [24, 6]}},
         ["design point 1", "team_leaves=6", "'team_leaves': got 6", "after team_arrives"]),
        # a sampled point that breaks a combination: every sampled value is checked
        ({"base": {"n_households": 12}, "design": {"kind": "lhs", "samples": 16},
          "parameters": {"committee_size": {"low": 3, "high": 20}}},
         ["(lhs sample)", "'committee_size'", "fewer than n_households (12)"]),
    ],
)
def test_bad_specs_are_refused_clearly(changes: dict, expected: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        spec_of(**changes)
    message = str(info.value)
    assert message.startswith("t.toml: "), message
    for part in expected:
        assert part in message, message


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)


def test_cli_bad_spec_exits_2_with_one_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.toml", parameters="favoritsm = [0.1]")
    code, out, err = run_cli(["sweep", str(spec), "--out", str(tmp_path / "o")])
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "did you mean 'favoritism'" in err
    assert not (tmp_path / "o").exists()


def test_cli_dry_run_prints_the_plan(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.toml", parameters="favoritism = [0.2, 0.5, 0.8]")
    code, out, _ = run_cli(["sweep", str(spec), "--out", str(tmp_path / "o"), "--dry-run"])
    assert code == 0
    assert "3 points x 2 regimes x 2 replicates = 12 runs (12 distinct)" in out
    assert not (tmp_path / "o").exists()


def test_params_file_is_read_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "village.toml").write_text("n_households = 40\nquota = 0.25\n",
                                                   encoding="utf-8")
    spec_path = write_spec(tmp_path / "sub" / "s.toml", base="favoritism = 0.7",
                           parameters="sanction = [1.0, 3.0]",
                           extra='params = "village.toml"')
    # 'params' must come before the first table: write_spec puts extra lines before [base]
    spec = load_spec(spec_path)
    assert spec.base == {"n_households": 40, "quota": 0.25, "favoritism": 0.7}
    # the file's content is part of the spec hash
    (tmp_path / "sub" / "village.toml").write_text("n_households = 40\nquota = 0.3\n",
                                                   encoding="utf-8")
    assert load_spec(spec_path).spec_hash != spec.spec_hash


# ---------------------------------------------------------------------------- hash
def test_spec_hash_ignores_labels_and_layout_but_not_content() -> None:
    a = spec_of(parameters={"quota": [0.2, 0.3]})
    b = parse_spec({**BASE, "name": "other", "description": "words",
                    "parameters": {"quota": [0.2, 0.3]}}, source="b")
    assert a.spec_hash == b.spec_hash
    assert spec_of(parameters={"quota": [0.2, 0.3]}, replicates=3).spec_hash != a.spec_hash
    assert spec_of(parameters={"quota": [0.3, 0.2]}).spec_hash != a.spec_hash
    assert SweepSpec.from_record(a.to_record()).spec_hash == a.spec_hash


# ---------------------------------------------------------------------------- designs
def test_grid_and_list_points() -> None:
    grid = design_points(spec_of(parameters={"quota": [0.2, 0.3], "sanction": [1, 2, 3]}))
    assert len(grid.points) == 6
    assert grid.points[0] == {"quota": 0.2, "sanction": 1.0}
    assert grid.points[-1] == {"quota": 0.3, "sanction": 3.0}
    listed = design_points(spec_of(design="list",
                                   parameters={"quota": [0.2, 0.3], "sanction": [1, 2]}))
    assert listed.points == [{"quota": 0.2, "sanction": 1.0}, {"quota": 0.3, "sanction": 2.0}]
    none = design_points(spec_of(parameters={"team_leaves": [24, "none"]}))
    assert none.points == [{"team_leaves": 24}, {"team_leaves": None}]


@pytest.mark.parametrize("kind", ["lhs", "sobol", "morris"])
def test_sampled_designs_are_reproducible_from_the_root_seed(kind: str) -> None:
    parameters = {"quota": {"low": 0.1, "high": 0.5}, "n_clans": {"low": 1, "high": 4}}
    design = {"kind": kind, "samples": 8}
    a = design_points(spec_of(design=design, parameters=parameters))
    b = design_points(spec_of(design=design, parameters=parameters))
    c = design_points(spec_of(design=design, parameters=parameters, root_seed=4))
    assert a.coordinates is not None and b.coordinates is not None
    np.testing.assert_array_equal(a.coordinates, b.coordinates)
    assert a.points == b.points
    assert a.points != c.points
    expected = {"lhs": 8, "sobol": 8 * (2 + 2), "morris": 8 * (2 + 1)}[kind]
    assert len(a.points) == expected
    for point in a.points:
        assert isinstance(point["n_clans"], int) and 1 <= point["n_clans"] <= 4
        assert 0.1 <= point["quota"] <= 0.5
    if kind == "lhs":  # every integer gets its share once widened by 0.5 and rounded
        assert {p["n_clans"] for p in a.points} == {1, 2, 3, 4}


def test_sobol_second_order_sample_size() -> None:
    spec = spec_of(design={"kind": "sobol", "samples": 4, "second_order": True},
                   parameters={"quota": {"low": 0.1, "high": 0.5},
                               "sanction": {"low": 0.0, "high": 5.0},
                               "n_clans": {"low": 1, "high": 6}})
    assert len(design_points(spec).points) == 4 * (2 * 3 + 2)


# ---------------------------------------------------------------------------- runs
def test_runs_share_seeds_across_regimes_and_points() -> None:
    spec = spec_of(parameters={"quota": [0.2, 0.3, 0.4]}, replicates=3)
    plan = plan_runs(spec)
    assert len(plan) == 3 * 2 * 3 == plan["run_id"].nunique()
    seeds = replicate_seeds(spec.root_seed, spec.replicates)
    for (point, regime), group in plan.groupby(["point", "regime"]):
        assert group.sort_values("replicate")["seed"].tolist() == seeds, (point, regime)
    # identity: a hash of the full parameter set, regime, replicate and seed
    row = plan.iloc[0]
    params = resolve_parameters(regime=row["regime"], n_households=30, quota=row["quota"])
    assert row["run_id"] == run_id_for(params.as_dict(), row["regime"], 0, seeds[0])
    assert plan_runs(spec)["run_id"].tolist() == plan["run_id"].tolist()


def test_a_parameter_added_later_keeps_stored_run_ids_at_its_default() -> None:
    """``audit_coverage`` at its default leaves a run's identity as before it existed (a
    stored sweep resumes onto its runs); any other value is a different run."""
    params = resolve_parameters(regime="team_and_committee", n_households=30).as_dict()
    before = {k: v for k, v in params.items() if k != "audit_coverage"}
    assert run_id_for(params, "team_and_committee", 0, 1) == run_id_for(
        before, "team_and_committee", 0, 1)
    assert run_id_for({**params, "audit_coverage": 0.5}, "team_and_committee", 0, 1) != \
        run_id_for(params, "team_and_committee", 0, 1)
    plan = plan_runs(spec_of(parameters={"audit_coverage": [1.0, 0.5]}, replicates=1))
    assert plan["run_id"].nunique() == len(plan) == 4


def test_repeated_sampled_points_run_once() -> None:
    # one integer parameter with two values: a 16-point LHS repeats points after rounding
    spec = spec_of(design={"kind": "lhs", "samples": 16},
                   parameters={"n_clans": {"low": 1, "high": 2}}, replicates=1)
    plan = plan_runs(spec)
    assert len(plan) == 32
    assert plan["run_id"].nunique() == 2 * 2
