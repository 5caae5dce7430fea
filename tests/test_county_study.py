"""experiments/county: its spec is the study its README describes, and its analysis script (the
README's tables and figure) runs on a county sweep of the same shape."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from village_sim.sweep.engines import run_sweep
from village_sim.sweep.spec import load_spec

STUDY = Path(__file__).resolve().parents[1] / "experiments" / "county"


def _analyse():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("county_analyse", STUDY / "analyse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_study_spec_is_what_its_readme_says() -> None:
    spec = tomllib.loads((STUDY / "spec.toml").read_text(encoding="utf-8"))
    assert spec["model"] == "county" and spec["base"]["n_villages"] == 100
    assert spec["parameters"]["teams"] == [10, 20, 30, 40]
    assert set(spec["regimes"]) == {"none", "random", "poorest_first",
                                    "most_complaints_first", "rotate", "cash_equivalent"}
    assert spec["replicates"] >= 5 and spec["panel_every"] == 12
    load_spec(STUDY / "spec.toml")  # loads (every point checked)
    readme = (STUDY / "README.md").read_text(encoding="utf-8")
    assert "per_team_year.png" in readme and (STUDY / "per_team_year.png").is_file()
    for rule in spec["regimes"]:
        assert f"`{rule}`" in readme, rule


def test_the_analysis_runs_on_a_small_county_sweep(tmp_path: Path) -> None:
    text = (STUDY / "spec.toml").read_text(encoding="utf-8")
    small = (text.replace("n_villages = 100", "n_villages = 4\nn_households = 60")
             .replace("teams = [10, 20, 30, 40]", "teams = [1, 2]")
             .replace("replicates = 6", "replicates = 3").replace("steps = 60", "steps = 36"))
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(small, encoding="utf-8")
    assert run_sweep(load_spec(spec_path), tmp_path / "s", engine="serial",
                     progress=False).exit_code == 0
    analyse = _analyse()
    assert analyse.main([str(tmp_path / "s"), "--out", str(tmp_path / "a")]) == 0
    effectiveness = pd.read_csv(tmp_path / "a" / "effectiveness.csv")
    assert set(effectiveness["teams"]) == {1, 2}
    against_none = effectiveness[(effectiveness["baseline"] == "none")
                                 & (effectiveness["quantity"] == "team_years")]
    # every rule but none and cash holds its teams in the final year (terms of 2 years)
    held = against_none.set_index(["teams", "rule"])["mean"]
    assert held[(2, "random")] == 2.0 and held[(1, "rotate")] == 1.0
    assert held[(2, "cash_equivalent")] == 2.0
    assert (tmp_path / "a" / "per_team_year.png").is_file()
    rankings = pd.read_csv(tmp_path / "a" / "rankings.csv")
    assert set(rankings["teams"]) == {1, 2} and rankings["ranking"].str.contains(">").all()


def test_the_analysis_refuses_a_village_sweep(tmp_path: Path) -> None:
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text('name = "v"\nreplicates = 1\nroot_seed = 1\nsteps = 2\n'
                         "[base]\nn_households = 30\n", encoding="utf-8")
    assert run_sweep(load_spec(spec_path), tmp_path / "s", engine="serial",
                     progress=False).exit_code == 0
    with pytest.raises(SystemExit, match="county sweep"):
        _analyse().main([str(tmp_path / "s"), "--out", str(tmp_path / "a")])
