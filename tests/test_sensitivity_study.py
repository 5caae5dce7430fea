"""experiments/sensitivity: its spec is a valid Sobol sweep of the paired contrast, and its
analysis script (the README's tables and figures) runs on a sweep of the same shape."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from cli_helpers import run_cli
from village_sim.sweep.engines import run_sweep
from village_sim.sweep.spec import load_spec

STUDY = Path(__file__).resolve().parents[1] / "experiments" / "sensitivity"


def _analyse():
    spec = importlib.util.spec_from_file_location("sensitivity_analyse", STUDY / "analyse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_study_spec_is_what_its_readme_says() -> None:
    spec = tomllib.loads((STUDY / "spec.toml").read_text(encoding="utf-8"))
    assert spec["design"]["kind"] == "sobol" and spec["design"]["samples"] >= 512
    assert spec["replicates"] >= 5
    assert spec["regimes"] == ["committee_plus_mobilization", "team_and_committee"]
    assert len(spec["parameters"]) >= 10
    readme = (STUDY / "README.md").read_text(encoding="utf-8")
    for name in spec["parameters"]:  # every swept parameter is in the README's table
        assert f"| `{name}` |" in readme, name
    assert "sobol.png" in readme and "conditional.png" in readme
    assert (STUDY / "sobol.png").is_file() and (STUDY / "conditional.png").is_file()


@pytest.mark.slow
def test_the_analysis_runs_on_a_small_sweep_of_the_same_shape(tmp_path: Path) -> None:
    text = (STUDY / "spec.toml").read_text(encoding="utf-8")
    text = text.replace("samples = 512", "samples = 2").replace("replicates = 5",
                                                                 "replicates = 3")
    text = re.sub(r"steps = \d+", "steps = 13", text)
    text = text.replace("n_households = 300", "n_households = 40")
    text = text[:text.index("[parameters]")] + (
        "[parameters]\nfavoritism = { low = 0.1, high = 1.0 }\n"
        "team_size = { low = 1, high = 6 }\nteam_visits_per_month = { low = 1, high = 12 }\n")
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    sweep = tmp_path / "sweep"
    assert run_sweep(load_spec(tmp_path / "s.toml"), sweep, engine="serial",
                     progress=False).exit_code == 0
    assert run_cli(["report", str(sweep), "--quiet"])[0] == 0
    out = tmp_path / "analysis"
    out.mkdir()
    _analyse().main([str(sweep), "--out", str(out), "--top", "2"])
    table = pd.read_csv(out / "conditional.csv")
    assert {"favoritism", "team_size", "team_visits_per_month", "team_capacity"} <= set(
        table["parameter"])
    assert table["ci_low"].le(table["mean"]).all() and table["mean"].le(table["ci_high"]).all()
    for name in ("conditional.png", "sobol.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
