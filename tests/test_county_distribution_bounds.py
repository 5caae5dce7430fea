"""The bounds of a county's village distributions as scalar parameters (``remoteness_max`` …).

What is checked: the bounds draw exactly the villages of ``distributions`` with the same ranges
(bit for bit, and the county's months after); bad bounds, a lowest bound above its highest, a
bound given twice (with ``distributions`` or as a value for every village) and bounds with
listed villages are refused, naming them; a sweep of counties sets and sweeps them (grids and
sampled designs), checks every point at load, and stores them in its run table; and a county
sweep that gives no bound keeps the run ids and spec hash it had before the bounds existed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from village_sim.county.model import COUNTY_PARAM_BY_NAME, CountyModel, county_arguments
from village_sim.county.villages import (
    DISTRIBUTION_BOUNDS,
    DISTRIBUTION_PARAMETERS,
    VillageDistributions,
)
from village_sim.sweep.design import plan_runs
from village_sim.sweep.engines import run_sweep
from village_sim.sweep.models import resolve
from village_sim.sweep.spec import SweepSpec, parse_spec
from village_sim.sweep.store import load_panels, load_timeseries, run_table

ALL_BOUNDS = {"households_min": 50, "households_max": 90, "clans_min": 2, "clans_max": 5,
              "asset_inequality_min": 0.3, "asset_inequality_max": 1.6,
              "remoteness_min": 0.2, "remoteness_max": 0.7, "greed_min": 0.8, "greed_max": 2.5}
ALL_RANGES = {"n_households": [50, 90], "n_clans": [2, 5], "asset_inequality": [0.3, 1.6],
              "remoteness": [0.2, 0.7], "greed": [0.8, 2.5]}
SMALL = {"households_min": 50, "households_max": 90}
"""Small villages, so that a county of several runs for months in a test."""


def months(model: CountyModel, n: int) -> pd.DataFrame:
    for _ in range(n):
        model.step()
    return model.county_frame()


def spec_of(text: str) -> SweepSpec:
    return parse_spec(tomllib.loads(text), text=text)


# ---------------------------------------------------------------------------- the table
def test_every_bound_is_a_county_parameter_of_its_attribute() -> None:
    assert [p.name for p in DISTRIBUTION_PARAMETERS] == list(ALL_BOUNDS)
    for param in DISTRIBUTION_PARAMETERS:
        assert COUNTY_PARAM_BY_NAME[param.name] is param
        assert param.default is None and param.group == "county" and param.meaning
        attribute, end = DISTRIBUTION_BOUNDS[param.name]
        built_in = getattr(VillageDistributions(), attribute)[end]
        assert f"built-in distribution's, {built_in}" in param.meaning
    assert COUNTY_PARAM_BY_NAME["households_max"].allowed() == "an integer in [10, 1000000]"
    assert COUNTY_PARAM_BY_NAME["remoteness_min"].allowed() == "a number in [0, 1]"
    assert COUNTY_PARAM_BY_NAME["greed_max"].allowed() == "a number in [0, 10]"


# ---------------------------------------------------------------------------- the villages
@pytest.mark.parametrize(("bounds", "ranges"), [
    (ALL_BOUNDS, ALL_RANGES),
    ({**SMALL, "remoteness_max": 0.5}, {"n_households": [50, 90], "remoteness": [0, 0.5]}),
    ({**SMALL, "greed_min": 1.2, "clans_max": 4},
     {"n_households": [50, 90], "greed": [1.2, 1.5], "n_clans": [3, 4]}),
])
def test_bounds_draw_the_villages_of_the_same_distributions_bit_for_bit(
        bounds: dict[str, float], ranges: dict[str, list[float]]) -> None:
    by_bounds = CountyModel(rng=11, n_villages=6, teams=2, deployment="poorest_first",
                            favoritism=0.4, **bounds)  # type: ignore[arg-type]
    by_table = CountyModel(rng=11, n_villages=6, teams=2, deployment="poorest_first",
                           favoritism=0.4, distributions=ranges)
    assert by_bounds.distributions == by_table.distributions
    for v in range(6):  # the same parameters (== on floats: to the last bit), the same seed
        a, b = by_bounds.village_arguments(v), by_table.village_arguments(v)
        assert a.pop("rng").spawn_key == b.pop("rng").spawn_key
        assert a == b
    np.testing.assert_array_equal(by_bounds.greed_factor, by_table.greed_factor)
    pd.testing.assert_frame_equal(months(by_bounds, 3), months(by_table, 3))
    lowest, highest = ranges.get("remoteness", [0.0, 1.0])
    assert all(lowest <= v.p.remoteness <= highest for v in by_bounds.villages)
    assert all(50 <= v.n <= 90 for v in by_bounds.villages)


def test_a_bound_moves_only_its_attribute() -> None:
    """Each attribute has its own double: narrowing remoteness leaves the others as drawn."""
    plain = CountyModel(rng=3, n_villages=8, **SMALL)  # type: ignore[arg-type]
    near = CountyModel(rng=3, n_villages=8, remoteness_max=0.1, **SMALL)  # type: ignore[arg-type]
    for a, b in zip(plain.villages, near.villages, strict=True):
        assert (a.n, a.p.n_clans, a.p.asset_inequality) == (b.n, b.p.n_clans,
                                                            b.p.asset_inequality)
        assert b.p.remoteness == pytest.approx(a.p.remoteness * 0.1)
    np.testing.assert_array_equal(plain.greed_factor, near.greed_factor)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"remoteness_max": 1.5}, "parameter 'remoteness_max': got 1.5; allowed: a number in "
                              "[0, 1]"),
    ({"households_min": 5}, "parameter 'households_min': got 5; allowed: an integer in "
                            "[10, 1000000]"),
    ({"clans_max": 4.5}, "parameter 'clans_max': got 4.5; allowed: an integer"),
    ({"greed_min": True}, "parameter 'greed_min': got True"),
    ({"asset_inequality_max": "high"}, "parameter 'asset_inequality_max': got 'high'"),
    ({"households_min": 500}, "parameters 'households_min' and 'households_max': got "
                              "households_min = 500 and households_max = 450 (built-in); "
                              "allowed: households_min <= households_max"),
    ({"remoteness_min": 0.8, "remoteness_max": 0.3},
     "parameters 'remoteness_min' and 'remoteness_max': got remoteness_min = 0.8 and "
     "remoteness_max = 0.3; allowed: remoteness_min <= remoteness_max"),
    ({"remoteness_max": 0.5, "distributions": {"remoteness": [0, 1]}},
     "parameter 'remoteness_max': got 0.5 and also distributions.remoteness; allowed: the "
     "bound or distributions.remoteness, not both"),
    ({"greed_max": 2.0, "distributions": VillageDistributions()},
     "parameter 'greed_max': got 2.0 and also distributions.greed"),
    ({"remoteness_min": 0.2, "remoteness": 0.9},
     "parameter 'remoteness_min': got 0.2 and also remoteness = 0.9 for every village"),
    ({"households_max": 80, "n_households": 60},
     "parameter 'households_max': got 80 and also n_households = 60 for every village"),
    # a range of distributions for an attribute set for every village: it would be ignored
    ({"distributions": {"remoteness": [0.2, 0.5]}, "remoteness": 0.3},
     "parameter 'distributions': got distributions.remoteness = [0.2, 0.5] and also "
     "remoteness = 0.3 for every village (then nothing is drawn)"),
    ({"distributions": {"n_households": [60, 90]}, "n_households": 70},
     "got distributions.n_households = [60, 90] and also n_households = 70"),
    ({"remoteness_max": 0.5, "villages": [{"n_households": 60}]},
     "parameter 'remoteness_max': got 0.5; not with 'villages' (listed villages are not "
     "drawn)"),
])
def test_bad_bounds_are_refused_naming_them(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        CountyModel(rng=1, n_villages=2, **kwargs)
    assert message in str(err.value)


# ---------------------------------------------------------------------------- sweeps
SWEEP: dict[str, Any] = {
    "name": "remote-counties", "model": "county", "regimes": ["random", "poorest_first"],
    "replicates": 2, "root_seed": 4, "steps": 13, "panel_every": 12,
    "metrics": ["poverty_headcount", "kin_premium", "teams_deployed"],
    "base": {"n_villages": 4, "teams": 1, "households_min": 50, "households_max": 80},
    "parameters": {"remoteness_max": [0.1, 1.0]},
}
"""A sweep of counties over the highest remoteness of their villages (a spec as its TOML
reads: ``[parameters] remoteness_max = [0.1, 1.0]``)."""


def sweep(base: dict[str, Any] | None = None, parameters: dict[str, Any] | None = None,
          **top: Any) -> SweepSpec:
    """:data:`SWEEP` loaded, with ``base`` added to its ``[base]``, ``parameters`` instead of
    its ``[parameters]`` and ``top`` keys changed."""
    data = {**SWEEP, **top, "base": {**SWEEP["base"], **(base or {})},
            "parameters": SWEEP["parameters"] if parameters is None else parameters}
    return parse_spec(data)


@pytest.fixture(scope="module")
def remote_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bounds") / "sweep"
    summary = run_sweep(sweep(), out, engine="serial", progress=False)
    assert summary.exit_code == 0, summary.line()
    return out


def test_a_sweep_of_remoteness_max_keeps_the_villages_in_range(remote_sweep: Path) -> None:
    table = run_table(remote_sweep)
    assert len(table) == 2 * 2 * 2 and (table["status"] == "ok").all()
    assert sorted(set(table["remoteness_max"])) == [0.1, 1.0]
    assert (table["households_min"] == 50).all() and (table["households_max"] == 80).all()
    assert table["remoteness_min"].isna().all() and table["greed_max"].isna().all()
    panels = load_panels(remote_sweep).merge(table[["run_id", "remoteness_max"]], on="run_id")
    assert len(panels) == 8 * 4  # runs x villages, one year
    near = panels[panels["remoteness_max"] == 0.1]
    assert near["remoteness"].between(0.0, 0.1).all()
    assert panels[panels["remoteness_max"] == 1.0]["remoteness"].max() > 0.1
    assert panels["households"].between(50, 80).all()
    series = load_timeseries(remote_sweep)
    for _, run in table[table["regime"] == "poorest_first"].iterrows():
        overrides = {**SWEEP["base"], "remoteness_max": float(run["remoteness_max"])}
        model = CountyModel(rng=int(run["seed"]), deployment="poorest_first",
                            **county_arguments(overrides))
        got = series[series["run_id"] == run["run_id"]].sort_values("step")
        np.testing.assert_array_equal(got["kin_premium"].to_numpy(),
                                      months(model, 13)["kin_premium"].to_numpy())


def test_the_sweep_says_what_the_bounds_mean(remote_sweep: Path) -> None:
    columns = pd.read_csv(remote_sweep / "columns.csv")
    rows = columns[columns["column"].isin(list(ALL_BOUNDS))]
    assert set(rows["column"]) == set(ALL_BOUNDS)
    meaning = rows.loc[rows["column"] == "remoteness_max", "meaning"].iloc[0]
    assert "highest remoteness of a drawn village" in meaning
    assert "built-in distribution's, 1.0" in meaning


LHS = {"kind": "lhs", "samples": 8}


def test_a_sampled_design_draws_bounds_as_any_range() -> None:
    spec = sweep(parameters={"remoteness_min": {"low": 0.0, "high": 0.4},
                             "clans_max": {"low": 4, "high": 8}}, design=LHS)
    plan = plan_runs(spec)
    assert plan["remoteness_min"].between(0.0, 0.4).all()
    assert set(plan["clans_max"]) <= set(range(4, 9))
    assert all(isinstance(v, int) for v in plan["clans_max"].tolist())
    point = plan.iloc[0][["remoteness_min", "clans_max"]].to_dict()
    full = resolve("county", "random", {**spec.base, **point})
    assert full["clans_max"] == plan["clans_max"].iloc[0] and "greed_min" not in full


@pytest.mark.parametrize(("change", "message"), [
    ({"parameters": {"remoteness_max": [0.1, 1.5]}},
     "parameter 'remoteness_max': got 1.5; allowed: a number in [0, 1]"),
    ({"base": {"remoteness_min": 0.5}},
     "design point 0 [remoteness_max=0.1] under regime 'random': parameters "
     "'remoteness_min' and 'remoteness_max': got remoteness_min = 0.5 and remoteness_max = "
     "0.1; allowed: remoteness_min <= remoteness_max"),
    ({"base": {"households_max": 40}},
     "parameters 'households_min' and 'households_max': got households_min = 50 and "
     "households_max = 40"),
    ({"base": {"remoteness": 0.3}},
     "parameter 'remoteness_max': got 0.1 and also remoteness = 0.3 for every village"),
    ({"parameters": {"clans_min": [2, 2.5]}},
     "parameter 'clans_min': got 2.5; allowed: an integer"),
    ({"design": LHS}, "parameters.remoteness_max: design 'lhs' samples ranges"),
])
def test_bad_bounds_in_a_sweep_spec_are_refused_at_load(change: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(ValueError) as err:
        sweep(**change)
    assert message in str(err.value)


def test_sampled_ranges_of_a_bound_and_its_other_end_must_not_cross() -> None:
    crossing = {"remoteness_min": {"low": 0.0, "high": 0.8},
                "remoteness_max": {"low": 0.2, "high": 1.0}}
    with pytest.raises(ValueError) as err:
        sweep(parameters=crossing, design=LHS)
    assert "(lhs sample)" in str(err.value)
    assert "allowed: remoteness_min <= remoteness_max" in str(err.value)
    apart = {**crossing, "remoteness_min": {"low": 0.0, "high": 0.2}}  # cannot cross
    plan = plan_runs(sweep(parameters=apart, design=LHS))
    assert (plan["remoteness_min"] <= plan["remoteness_max"]).all()


# ---------------------------------------------------------------------------- identities
IDENTITY_SPECS = {
    "grid": """name = "ids"
model = "county"
regimes = ["none", "poorest_first"]
replicates = 2
root_seed = 7
steps = 12
[base]
n_villages = 3
n_households = 60
remoteness = 0.25
[parameters]
teams = [1, 2]
""",
    "tables": """name = "ids-tables"
model = "county"
regimes = ["random"]
replicates = 1
root_seed = 2
steps = 12
[base]
n_villages = 2
teams = [{count = 2, size = 4}]
allocation_rule = "per_household"
county_quota = 0.2
""",
    "lhs": """name = "ids-lhs"
model = "county"
regimes = ["none", "random"]
replicates = 1
root_seed = 5
steps = 12
design = {kind = "lhs", samples = 3}
[base]
n_households = 50
[parameters]
audit_capacity = {low = 0.0, high = 4.0}
n_villages = {low = 2, high = 5}
""",
}
BEFORE_BOUNDS = {
    "grid": ("fa10405921275161", ["34c6309eb6e36a80", "777f68e7f47175f4", "79159301f018a681",
                                  "df76e6220a38def0", "3ae457e41d88a81b", "62c76ad14d489f75",
                                  "6b575096e51d57cf", "4da672c4f48d612f"]),
    "tables": ("e2ad2a10380caa5e", ["bca8e714410ebb4f"]),
    "lhs": ("c4860fb6b5fbc29a", ["c3536dbe01926165", "a6c972159ab67380", "d50ae2d04e4d18cd",
                                 "1660f4adad9ea4cc", "daca58f56652729b", "6e03a589d4e5264d"]),
}
"""Spec hashes and run ids of these specs as computed at commit af22dac, before the bounds
existed: a county sweep that gives no bound must resume onto the runs it stored then."""


@pytest.mark.parametrize("name", sorted(IDENTITY_SPECS))
def test_a_county_sweep_without_bounds_keeps_its_run_ids_and_spec_hash(name: str) -> None:
    spec = spec_of(IDENTITY_SPECS[name])
    spec_hash, run_ids = BEFORE_BOUNDS[name]
    assert spec.spec_hash == spec_hash
    assert list(plan_runs(spec)["run_id"]) == run_ids
    full = resolve("county", spec.regimes[0], spec.base)  # what a run's record stores
    assert not set(full) & set(ALL_BOUNDS)


def test_a_bound_given_enters_the_runs_identity() -> None:
    plain = spec_of(IDENTITY_SPECS["grid"].replace("remoteness = 0.25\n", ""))
    bounded = spec_of(IDENTITY_SPECS["grid"].replace("remoteness = 0.25\n",
                                                     "remoteness_max = 1.0\n"))
    assert plain.spec_hash != bounded.spec_hash
    assert not set(plan_runs(plain)["run_id"]) & set(plan_runs(bounded)["run_id"])
    assert resolve("county", "none", bounded.base)["remoteness_max"] == 1.0
