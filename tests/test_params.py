"""The parameter schema: documentation, validation (never clamping), regimes, TOML overrides.

DESIGN §3 "Parameters" and STYLE.md (scikit-learn's ``_parameter_constraints``): constraints
are data next to the parameter, one error format names the parameter, the value and what is
allowed, and a bad value is refused, never silently clamped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from village_sim import VillageModel
from village_sim.params import (
    PARAMETERS,
    REGIMES,
    load_overrides,
    parameters_markdown,
    resolve_parameters,
)

REPO = Path(__file__).resolve().parents[1]
BY_NAME = {p.name: p for p in PARAMETERS}
NUMERIC = [p for p in PARAMETERS if p.kind in ("int", "float", "optional_int")]
FLOATS = [p for p in PARAMETERS if p.kind == "float"]
INTS = [p for p in PARAMETERS if p.kind in ("int", "optional_int")]
BOOLS = [p for p in PARAMETERS if p.kind == "bool"]
SMALL = {"n_households": 40}  # keeps model construction cheap where a model is built

# Overrides that keep a boundary value of one parameter consistent with the cross-parameter
# rules (measure_share + project_share <= 1, committee_size < n_households, team_leaves after
# team_arrives).
COMPANIONS = {
    "measure_share": {"project_share": 0.0},
    "project_share": {"measure_share": 0.0},
    "committee_size": {"n_households": 1000},
    "n_households": {"committee_size": 1},
    "team_arrives": {"team_leaves": None},
}


def _outside_values(p) -> list[float]:
    """Values just outside the allowed range of numeric parameter ``p``."""
    step = 1 if p.kind in ("int", "optional_int") else 0.001
    out = []
    if p.low is not None:
        out.append(p.low if p.low_open else p.low - step)
    if p.high is not None:
        out.append(p.high + step)
    return [int(v) if p.kind != "float" else float(v) for v in out]


def _boundary_values(p) -> list[float]:
    """Values inside the allowed range, including the closed ends."""
    lo = p.low if p.low is not None else -1e6
    hi = p.high if p.high is not None else 1e6
    if p.low_open:
        lo = lo + (1 if p.kind != "float" else 0.001)
    if p.kind == "float":
        return [float(lo), float(hi), float(lo + (hi - lo) / 3.0)]
    return [int(lo), int(hi), int(lo + (hi - lo) // 2)]


def _model_frame(model: VillageModel) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


def _run(model: VillageModel, steps: int) -> VillageModel:
    for _ in range(steps):
        model.step()
    return model


# ---------------------------------------------------------------------------- documentation
def test_parameter_names_are_unique_and_cover_design_units():
    names = [p.name for p in PARAMETERS]
    assert len(names) == len(set(names))
    # the parameters whose units DESIGN §3 fixes are all declared
    for name in ("regime", "poverty_line", "budget_per_household", "team_visits_per_month",
                 "audit_probability", "detection", "sanction", "quota", "committee_noise",
                 "team_noise", "exit_pressure", "favoritism", "amount_favoritism",
                 "diversion_propensity", "project_capture", "team_arrives", "team_leaves"):
        assert name in BY_NAME, name
    assert "yuan" in BY_NAME["poverty_line"].unit and "person" in BY_NAME["poverty_line"].unit
    assert "household" in BY_NAME["budget_per_household"].unit
    assert "year" in BY_NAME["audit_probability"].unit  # DESIGN §3: per year (was per month)
    assert "member" in BY_NAME["team_visits_per_month"].unit


@pytest.mark.parametrize("p", PARAMETERS, ids=lambda p: p.name)
def test_every_parameter_is_documented_and_its_default_validates(p):
    assert isinstance(p.unit, str)  # "" for dimensionless
    assert isinstance(p.meaning, str) and p.meaning.strip()
    assert isinstance(p.source, str) and p.source.strip()
    assert p.kind in ("int", "float", "bool", "choice", "optional_int")
    value = p.validate(p.default)
    assert value == p.default and type(value) is type(p.default)
    if p.kind in ("int", "float", "optional_int") and p.default is not None:
        if p.low is not None:
            assert p.default > p.low if p.low_open else p.default >= p.low
        if p.high is not None:
            assert p.default <= p.high
    assert resolve_parameters().as_dict()[p.name] == (
        REGIMES[BY_NAME["regime"].default].get(p.name, p.default)
    )


# ---------------------------------------------------------------------------- ranges
@pytest.mark.parametrize("p", NUMERIC, ids=lambda p: p.name)
def test_value_just_outside_the_range_is_refused_with_a_clear_message(p):
    bad_values = _outside_values(p)
    assert bad_values, f"{p.name} has no bound at all"
    for bad in bad_values:
        with pytest.raises(ValueError) as err:
            resolve_parameters(**{p.name: bad})
        message = str(err.value)
        assert p.name in message
        assert repr(bad) in message or str(bad) in message
        assert "allowed" in message
        # the model refuses it the same way, before building anything
        with pytest.raises(ValueError, match="allowed") as err_model:
            VillageModel(rng=1, **{p.name: bad})
        assert p.name in str(err_model.value)


@pytest.mark.parametrize("p", NUMERIC, ids=lambda p: p.name)
def test_values_inside_the_range_are_stored_unchanged(p):
    for good in _boundary_values(p):
        extra = dict(COMPANIONS.get(p.name, {}))
        if p.name == "team_leaves":
            extra["team_arrives"] = 0
        params = resolve_parameters(**{**extra, p.name: good})
        stored = getattr(params, p.name)
        assert stored == good, f"{p.name}: passed {good!r}, stored {stored!r} (clamped?)"


@pytest.mark.parametrize(
    "name, value",
    [("quota", 1.0), ("quota", 0.0), ("favoritism", 1.0), ("sanction", 100.0),
     ("committee_noise", 5.0), ("cooptation", 1.0), ("exit_pressure", 1.0),
     ("team_visits_per_month", 0), ("poverty_line", 100.0), ("team_arrives", 50)],
)
def test_model_stores_edge_values_unclamped(name, value):
    model = VillageModel(rng=3, **SMALL, **{name: value})
    stored = getattr(model.p, name)
    assert stored == value
    expected_type = float if BY_NAME[name].kind == "float" else int
    assert type(stored) is expected_type


def test_cross_parameter_rules_are_refused_not_repaired():
    with pytest.raises(ValueError, match="team_leaves.*allowed"):
        resolve_parameters(team_arrives=12, team_leaves=12)
    with pytest.raises(ValueError, match="measure_share.*allowed"):
        resolve_parameters(measure_share=0.7, project_share=0.4)
    with pytest.raises(ValueError, match="committee_size.*allowed"):
        resolve_parameters(n_households=10, committee_size=10)
    ok = resolve_parameters(measure_share=0.6, project_share=0.4, team_arrives=3, team_leaves=4)
    assert (ok.measure_share, ok.project_share, ok.team_leaves) == (0.6, 0.4, 4)


# ---------------------------------------------------------------------------- types
@pytest.mark.parametrize("p", FLOATS, ids=lambda p: p.name)
def test_float_parameters_refuse_strings_none_and_bools(p):
    for bad in (str(p.default), None, True, float("nan"), float("inf"), [p.default]):
        with pytest.raises(ValueError, match="allowed") as err:
            resolve_parameters(**{p.name: bad})
        assert p.name in str(err.value)
    with pytest.raises(ValueError, match=f"{p.name}.*allowed"):
        VillageModel(rng=1, **{p.name: str(p.default)})


@pytest.mark.parametrize("p", INTS, ids=lambda p: p.name)
def test_int_parameters_refuse_fractions_and_strings(p):
    bads = [2.5 if p.low is None or p.low <= 2.5 else p.low + 0.5, str(p.default or 3), True]
    if p.kind == "int":
        bads.append(None)
    for bad in bads:
        with pytest.raises(ValueError, match="allowed") as err:
            resolve_parameters(**{p.name: bad})
        assert p.name in str(err.value)
    with pytest.raises(ValueError, match=f"{p.name}.*allowed"):
        VillageModel(rng=1, **{p.name: bads[0]})


def test_optional_int_accepts_none():
    assert resolve_parameters(team_leaves=None).team_leaves is None


@pytest.mark.parametrize("p", BOOLS, ids=lambda p: p.name)
def test_bool_parameters_refuse_strings_and_numbers(p):
    for bad in ("true", "false", 1, 0, None, 1.0):
        with pytest.raises(ValueError, match="allowed") as err:
            resolve_parameters(**{p.name: bad})
        assert p.name in str(err.value)
    with pytest.raises(ValueError, match=f"{p.name}.*allowed"):
        VillageModel(rng=1, **{p.name: "true"})
    for good in (True, False, np.bool_(True)):
        assert getattr(resolve_parameters(**{p.name: good}), p.name) is bool(good)


def test_regime_refuses_unknown_names_and_non_strings():
    assert resolve_parameters(regime=None).regime == BY_NAME["regime"].default
    for bad in ("Committee_only", "committee only", "", 1):
        with pytest.raises(ValueError, match="regime.*allowed"):
            resolve_parameters(regime=bad)
        with pytest.raises(ValueError, match="regime"):
            VillageModel(rng=1, regime=bad)


def test_unknown_parameter_is_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'favoritism'") as err:
        resolve_parameters(favouritism=0.2)
    assert "favouritism" in str(err.value)
    with pytest.raises(ValueError, match="did you mean 'favoritism'"):
        VillageModel(rng=1, favouritism=0.2)
    with pytest.raises(ValueError, match="unknown parameter"):
        VillageModel(rng=1, zzzz_not_a_parameter=1)


# ---------------------------------------------------------------------------- rng
def test_rng_numeric_string_equals_int():
    a = _run(VillageModel(rng=42, **SMALL), 13)
    b = _run(VillageModel(rng="42", **SMALL), 13)
    pd.testing.assert_frame_equal(_model_frame(a), _model_frame(b))
    pd.testing.assert_frame_equal(a.household_frame(), b.household_frame())


@pytest.mark.parametrize(
    "make_rng",
    [lambda: 7, lambda: np.int64(7), lambda: np.random.default_rng(7),
     lambda: np.random.SeedSequence(7)],
    ids=["int", "numpy int", "Generator", "SeedSequence"],
)
def test_rng_accepts_seed_generator_and_seedsequence_reproducibly(make_rng):
    a = _run(VillageModel(rng=make_rng(), **SMALL), 13)
    b = _run(VillageModel(rng=make_rng(), **SMALL), 13)
    pd.testing.assert_frame_equal(_model_frame(a), _model_frame(b))
    assert np.isfinite(_model_frame(a)["poverty_headcount"]).all()


def test_one_seedsequence_object_gives_the_same_village_twice():
    """A SeedSequence is a seed: passing the same one to two regimes gives the same village.

    (DESIGN §4: two regimes run with the same seed face the same village and shocks.)
    """
    seed = np.random.SeedSequence(11)
    a = VillageModel(rng=seed, regime="committee_only", **SMALL)
    b = VillageModel(rng=seed, regime="team_and_committee", **SMALL)
    np.testing.assert_array_equal(a.clan, b.clan)
    np.testing.assert_array_equal(a.assets, b.assets)
    np.testing.assert_array_equal(a.cadre, b.cadre)


def test_rng_refuses_non_numeric_strings_clearly():
    with pytest.raises(ValueError) as err:
        VillageModel(rng="abc", **SMALL)
    message = str(err.value)
    assert "rng" in message and "'abc'" in message and "allowed" in message
    for bad in (1.5, [1, 2, "x"], object()):
        with pytest.raises((ValueError, TypeError)):
            VillageModel(rng=bad, **SMALL)


# ---------------------------------------------------------------------------- regimes
# The switches DESIGN §3 documents for each regime, written out independently of REGIMES.
DOCUMENTED_REGIMES = {
    "committee_only": {"team_present": False, "resource_mobilization": False,
                       "committee_identifies": True},
    "committee_plus_mobilization": {"team_present": False, "resource_mobilization": True,
                                    "committee_identifies": True},
    "team_and_committee": {"team_present": True, "resource_mobilization": True,
                           "committee_identifies": True, "team_verification": True,
                           "team_cooperation": True, "team_supervision": True},
    "team_without_supervision": {"team_present": True, "committee_identifies": True,
                                 "team_cooperation": True, "team_supervision": False},
    "team_alone": {"team_present": True, "committee_identifies": False,
                   "team_supervision": True},
}


def test_the_documented_regimes_exist():
    assert set(DOCUMENTED_REGIMES) <= set(REGIMES)
    assert set(REGIMES) == set(BY_NAME["regime"].choices)


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_each_regime_builds_with_its_switches(regime):
    model = VillageModel(rng=5, regime=regime, **SMALL)
    assert model.p.regime == regime
    for switch, value in REGIMES[regime].items():
        assert getattr(model.p, switch) == value, (regime, switch)
    for switch, value in DOCUMENTED_REGIMES.get(regime, {}).items():
        assert getattr(model.p, switch) is value, (regime, switch)
    # switches a regime does not name keep their defaults
    for p in BOOLS:
        if p.name not in REGIMES[regime]:
            assert getattr(model.p, p.name) == p.default
    assert model.team_active is model.p.team_present
    model.step()
    mobilized = model.flows["mobilized"]
    assert (mobilized > 0) is model.p.resource_mobilization, (regime, mobilized)


def test_team_alone_lists_without_the_committee():
    # filling the quota, the team lists in year 1 (whom it has not measured, at random)
    model = _run(VillageModel(rng=5, regime="team_alone", quota_mode="fill", **SMALL), 1)
    log = model.decision_log()
    proposers = set(log.loc[log["year"] == 1, "proposed_by"]) - {""}
    assert proposers == {"team"}
    # under a cap it lists only whom it judges poor: nobody before its first visits, then
    # the poor its visits found, never the committee
    model = _run(VillageModel(rng=5, regime="team_alone", **SMALL), 13)
    log = model.decision_log()
    assert not log.loc[log["year"] == 1, "proposed_by"].isin(["team", "committee"]).any()
    proposers = set(log.loc[log["year"] == 2, "proposed_by"]) - {""}
    assert proposers == {"team"}


def test_overrides_apply_after_the_regime_preset():
    model = VillageModel(rng=1, regime="committee_only", team_present=True, **SMALL)
    assert model.p.team_present is True and model.team_active
    assert model.p.resource_mobilization is False  # the rest of the preset still applies
    params = resolve_parameters(regime="team_and_committee", team_supervision=False)
    assert params.team_supervision is False and params.team_present is True
    assert resolve_parameters(regime="team_alone", committee_identifies=True).committee_identifies


# ---------------------------------------------------------------------------- TOML
def test_load_overrides_top_level_keys(tmp_path):
    path = tmp_path / "over.toml"
    path.write_text('regime = "committee_only"\nquota = 0.25\nn_households = 50\n'
                    "team_present = true\npoverty_line = 3000\n", encoding="utf-8")
    overrides = load_overrides(path)
    assert overrides == {"regime": "committee_only", "quota": 0.25, "n_households": 50,
                         "team_present": True, "poverty_line": 3000}
    model = VillageModel(rng=1, **overrides)
    assert model.p.regime == "committee_only" and model.p.team_present is True
    assert model.p.quota == 0.25 and model.p.poverty_line == 3000.0


def test_load_overrides_parameters_table(tmp_path):
    path = tmp_path / "table.toml"
    path.write_text('[parameters]\nregime = "team_alone"\nfavoritism = 0.1\n', encoding="utf-8")
    assert load_overrides(str(path)) == {"regime": "team_alone", "favoritism": 0.1}


def test_load_overrides_refuses_unknown_keys_naming_the_file(tmp_path):
    path = tmp_path / "typo_file.toml"
    path.write_text("favouritism = 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_overrides(path)
    message = str(err.value)
    assert "typo_file.toml" in message and "favouritism" in message
    assert "did you mean 'favoritism'" in message


def test_load_overrides_refuses_keys_beside_the_parameters_table(tmp_path):
    path = tmp_path / "mixed.toml"
    path.write_text('quota = 0.2\n[parameters]\nfavoritism = 0.1\n', encoding="utf-8")
    with pytest.raises(ValueError, match="mixed.toml"):
        load_overrides(path)


def test_load_overrides_refuses_syntax_errors(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("quota = = 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.toml"):
        load_overrides(path)


@pytest.mark.parametrize(
    "line, name",
    [("quota = 1.5", "quota"), ('quota = "0.3"', "quota"), ("n_households = 2.5", "n_households"),
     ('team_present = "true"', "team_present"), ('regime = "nobody"', "regime")],
)
def test_load_overrides_refuses_bad_values(tmp_path, line, name):
    path = tmp_path / "bad_values.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_overrides(path)
    message = str(err.value)
    assert "bad_values.toml" in message and name in message and "allowed" in message


def test_load_overrides_missing_file(tmp_path):
    with pytest.raises(ValueError, match="nowhere.toml"):
        load_overrides(tmp_path / "nowhere.toml")


# ---------------------------------------------------------------------------- docs
def test_docs_parameters_md_is_generated_from_the_schema():
    text = (REPO / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert text == parameters_markdown(), (
        "docs/parameters.md is stale: regenerate it with "
        "`uv run village-sim params --markdown > docs/parameters.md`"
    )


def test_parameters_markdown_lists_every_parameter_and_regime():
    text = parameters_markdown()
    for p in PARAMETERS:
        assert f"`{p.name}`" in text
        assert p.allowed() in text
    for regime in REGIMES:
        assert f"`{regime}`" in text


def test_a_removed_parameter_says_what_replaced_it(tmp_path):
    with pytest.raises(ValueError, match="supervision_strength.*removed in Model 2.*"
                                         "team_visits_per_month"):
        resolve_parameters(supervision_strength=0.5)
    old = tmp_path / "old.toml"
    old.write_text("supervision_strength = 0.3\n")
    with pytest.raises(ValueError, match="removed in Model 2"):
        load_overrides(old)


def test_replace_equals_resolving_every_value_again():
    """``Parameters.replace`` checks only what changes; its result is a full resolve's."""
    base = resolve_parameters(regime="committee_only", n_households=120, quota=0.2)
    changes = {"budget_per_household": 333.5, "quota": 0.1, "team_leaves": 40,
               "regime": "team_alone"}
    assert base.replace(**changes) == resolve_parameters(
        **{**base.as_dict(), **changes, "regime": "committee_only"})
    assert base.replace().regime == "committee_only"
    with pytest.raises(ValueError, match=r"parameter 'quota': got -1"):
        base.replace(quota=-1)
    with pytest.raises(ValueError, match="did you mean 'quota'"):
        base.replace(qota=0.1)
    with pytest.raises(ValueError, match="team_leaves"):  # a combination rule
        base.replace(team_arrives=30, team_leaves=20)
    with pytest.raises(ValueError, match="committee_size"):
        base.replace(committee_size=120)
