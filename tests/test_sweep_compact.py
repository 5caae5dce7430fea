"""Compaction of sweep directories (issue 14 item 4): fewer, larger files; nothing lost or doubled.

A sweep stores each run in its own files, then moves finished runs into Parquet part sets
(``parts/<kind>/part-<seq>.parquet``). Checked here: every reader sees the same runs, once,
before and after; a compaction interrupted at every write point (an exception, and SIGKILL of
a subprocess) and then run again loses nothing and stores nothing twice; resume after
compaction runs no finished run again; a retried failed run supersedes its compacted record;
a new table kind is compacted with no new code; ``village-sim sweep compact`` refuses a folder
that is not a sweep, in the reader's language.

The runs are a fast stand-in for the model (:func:`quick_run`, this module's ``run_function``):
what is tested is the storage, not the simulation.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sweep_plugins import write_spec
from village_sim import outputs
from village_sim.cli import main
from village_sim.sweep import compact as compaction
from village_sim.sweep.engines import run_sweep
from village_sim.sweep.runner import RunOutput, RunTask
from village_sim.sweep.spec import load_spec
from village_sim.sweep.store import (
    ENVIRONMENT_COLUMNS,
    SweepStore,
    compact_sweep,
    load_panels,
    load_table,
    load_timeseries,
    run_table,
)

TESTS_DIR = Path(__file__).resolve().parent
FAIL_ENV = "VILLAGE_SIM_TEST_COMPACT_FAIL"


def quick_run(task: RunTask) -> RunOutput:
    """A fast stand-in for a village run: seeded series and panel; one run fails (if asked)."""
    if (os.environ.get(FAIL_ENV, "1") == "1" and task.replicate == 1
            and task.regime == "committee_only" and task.overrides.get("favoritism") == 0.5):
        raise RuntimeError("deliberate failure")
    rng = np.random.default_rng(task.seed + 1000 * task.replicate)
    steps = np.arange(task.steps + 1)
    series = pd.DataFrame({"step": steps, **{m: rng.random(steps.size) for m in task.metrics}})
    panel = pd.DataFrame({"step": np.repeat([0, 6, 12], 4), "household_id": np.tile(range(4), 3),
                          "income": rng.random(12), "poor": rng.random(12) < 0.3})
    return RunOutput(series, panel)


def make_spec(tmp_path: Path, replicates: int = 3) -> Path:
    return write_spec(tmp_path / "spec.toml", replicates=replicates,
                      parameters="favoritism = [0.2, 0.5, 0.8]",
                      extra='panel_every = 6\nrun_function = "test_sweep_compact:quick_run"')


def sweep(spec: Path, out: Path, **options: object):  # noqa: ANN201 - a SweepSummary
    return run_sweep(load_spec(spec), out, engine="serial", progress=False, **options)


def files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def loose(out: Path) -> list[str]:
    return [f for f in files(out) if f.split("/")[0] in ("runs", "panels", "records")]


def contents(out: Path) -> dict[str, pd.DataFrame]:
    """What the readers give, sorted, without the environment columns."""
    table = run_table(out, write=False).drop(columns=list(ENVIRONMENT_COLUMNS))
    return {"runs": table.sort_values("run_id").reset_index(drop=True),
            "series": load_timeseries(out),
            "all_series": load_timeseries(out, ok_only=False),
            "panels": load_panels(out),
            "statuses": pd.Series(SweepStore(out).statuses()).sort_index().to_frame()}


def assert_same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)
    ids = got["runs"]["run_id"]
    assert ids.is_unique and got["series"].groupby("run_id")["step"].apply(
        lambda s: s.is_unique).all()


@pytest.fixture(autouse=True)
def no_compaction_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweeps here keep their per-run files unless a test lowers the part size."""
    monkeypatch.setattr(SweepStore, "runs_per_part", 10**9)
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    monkeypatch.delenv(outputs.INTERRUPT_ENV, raising=False)


@pytest.fixture
def old_sweep(tmp_path: Path) -> tuple[Path, Path, dict[str, pd.DataFrame]]:
    """A finished sweep in per-run files (18 runs, one failed), and what its readers give."""
    spec = make_spec(tmp_path)
    out = tmp_path / "old"
    summary = sweep(spec, out)
    assert summary.planned == 18 and summary.stored_failed == 1
    assert not (out / "parts").exists()
    return spec, out, contents(out)


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------- compacting
def test_compaction_keeps_what_every_reader_sees(old_sweep, tmp_path: Path) -> None:
    spec, out, before = old_sweep
    n_before = len(files(out))
    result = compact_sweep(out, runs_per_part=8)
    assert (result.runs, result.parts) == (18, 3)
    assert result.files_before == n_before and result.files_after == len(files(out))
    assert loose(out) == []
    # 3 part sets of runs, panels and records (and a lock file) replace 18 x 3 - 2 files (the
    # failed run has no series and no panel)
    assert n_before - result.files_after == 18 * 3 - 2 - 3 * 3 - 1
    assert_same(contents(out), before)
    assert {p.name for p in (out / "parts").iterdir()} == {"runs", "panels", "records", ".lock"}
    # row groups: one per part, not one per run
    import pyarrow.parquet as pq

    # (every part, not the first one listed: which part holds the failed run, which has no
    # series, follows the run ids, and those hash every parameter — new parameters move it)
    parts = [pq.ParquetFile(p).metadata for p in (out / "parts" / "runs").glob("*.parquet")]
    assert [m.num_row_groups for m in parts] == [1, 1, 1]
    # parts of 8, 8 and 2 runs; one of those runs failed and stored no series
    runs_in_parts = sorted(m.num_rows / 14 for m in parts)
    assert runs_in_parts in ([2, 7, 8], [1, 8, 8]), runs_in_parts
    # idempotent: a second compaction changes nothing
    listing = files(out)
    again = compact_sweep(out, runs_per_part=8)
    assert (again.runs, again.parts, again.files_removed) == (0, 0, 0)
    assert files(out) == listing
    # resume after compaction runs no finished run again; the report reads the parts
    summary = sweep(spec, out)
    assert summary.already_stored == summary.planned == 18 and summary.ok + summary.failed == 0
    assert_same(contents(out), before)
    assert run_cli(["report", str(out), "--quiet"])[0] == 1  # one failed run
    assert "deliberate failure" in (out / "report.md").read_text(encoding="utf-8")


def test_a_large_sweep_compacts_as_it_goes(old_sweep, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _, reference = old_sweep
    monkeypatch.setattr(SweepStore, "runs_per_part", 5)
    out = tmp_path / "new"
    sweep(spec, out)
    parts = sorted((out / "parts" / "records").glob("*.parquet"))
    assert len(parts) == 4 and loose(out) == []  # 3 parts of 5 as it went, the rest at the end
    assert_same(contents(out), reference)
    assert sweep(spec, out).already_stored == 18


def test_a_retried_failed_run_supersedes_its_compacted_record(
        old_sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, out, before = old_sweep
    compact_sweep(out)
    monkeypatch.setenv(FAIL_ENV, "0")
    summary = sweep(spec, out, retry_failed=True)
    assert summary.ok == 1 and summary.stored_ok == 18 and summary.stored_failed == 0
    for _ in range(2):  # the retried run in a per-run file, then in a newer part set
        after = contents(out)
        assert len(after["runs"]) == 18 and set(after["runs"]["status"]) == {"ok"}
        assert after["series"]["run_id"].nunique() == 18
        unchanged = after["series"][after["series"]["run_id"].isin(before["series"]["run_id"])]
        pd.testing.assert_frame_equal(unchanged.reset_index(drop=True), before["series"])
        compact_sweep(out)
    assert loose(out) == []


def test_a_new_table_kind_is_compacted_with_no_new_code(old_sweep) -> None:
    _, out, before = old_sweep
    (out / "villages").mkdir()
    for rid, status in SweepStore(out).statuses().items():
        if status == "ok":
            frame = pd.DataFrame({"run_id": rid, "village": [0, 1], "year": [1, 1],
                                  "poverty": [0.1, 0.2]})
            frame.to_parquet(out / "villages" / f"{rid}.parquet", index=False)
    villages = load_table(out, "villages")
    assert villages is not None and len(villages) == 2 * 17
    compact_sweep(out)
    assert not list((out / "villages").glob("*.parquet"))
    assert len(list((out / "parts" / "villages").glob("*.parquet"))) == 1
    pd.testing.assert_frame_equal(load_table(out, "villages"), villages)
    assert_same(contents(out), before)


# ---------------------------------------------------------------------------- interrupted
@pytest.mark.slow
def test_an_interrupt_at_every_write_point_of_compaction_loses_nothing(
        old_sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, template, before = old_sweep
    outputs.reset_write_points()
    compact_sweep(shutil.copytree(template, tmp_path / "count"), runs_per_part=8)
    points = outputs._write_points
    assert points == 3 * 3 + 18 * 3 - 2  # 3 part sets of 3 files, then the per-run files
    for k in range(1, points + 1):
        out = shutil.copytree(template, tmp_path / f"k{k}")
        monkeypatch.setenv(outputs.INTERRUPT_ENV, str(k))
        outputs.reset_write_points()
        with pytest.raises(KeyboardInterrupt):
            compact_sweep(out, runs_per_part=8)
        monkeypatch.delenv(outputs.INTERRUPT_ENV)
        assert_same(contents(out), before)  # readable as it is: every run once
        compact_sweep(out, runs_per_part=8)
        assert loose(out) == [] and not list(out.rglob(".*.tmp")), k
        assert_same(contents(out), before)
        records = pd.concat([pd.read_parquet(p) for p in (out / "parts" / "records").glob("*")])
        assert records["run_id"].is_unique, k  # no run stored twice, even in the parts
        shutil.rmtree(out)


KILLER = """
import os, signal, sys
from village_sim import outputs
from village_sim.sweep.store import compact_sweep
at, calls = int(sys.argv[2]), [0]
def write_point(label):
    calls[0] += 1
    if calls[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
outputs.write_point = write_point
compact_sweep(sys.argv[1], runs_per_part=8)
"""


@pytest.mark.slow
def test_sigkill_during_compaction_then_compacting_again_loses_nothing(
        old_sweep, tmp_path: Path) -> None:
    spec, template, before = old_sweep
    # into a part's temporary file, between parts, between the removal of a run's files
    for k in (1, 3, 4, 10, 11):
        out = shutil.copytree(template, tmp_path / f"k{k}")
        killed = subprocess.run([sys.executable, "-c", KILLER, str(out), str(k)],
                                capture_output=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
        assert_same(contents(out), before)
        assert sweep(spec, out).ok == 0  # resume: nothing runs again (and the sweep cleans up)
        compact_sweep(out, runs_per_part=8)
        assert loose(out) == [] and not list(out.rglob(".*.tmp")), k
        assert_same(contents(out), before)


@pytest.mark.slow
def test_a_sweep_interrupted_while_it_compacts_resumes_exactly(
        old_sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _, reference = old_sweep
    monkeypatch.setattr(SweepStore, "runs_per_part", 4)
    outputs.reset_write_points()
    sweep(spec, tmp_path / "count")
    points = outputs._write_points
    for k in range(1, points + 1, 3):
        out = tmp_path / f"k{k}"
        monkeypatch.setenv(outputs.INTERRUPT_ENV, str(k))
        outputs.reset_write_points()
        with contextlib.suppress(KeyboardInterrupt):
            sweep(spec, out)
        monkeypatch.delenv(outputs.INTERRUPT_ENV)
        if not (out / "manifest.json").exists():
            continue  # interrupted before the sweep folder was made
        summary = sweep(spec, out)
        assert summary.stored_ok + summary.stored_failed == 18, k
        compact_sweep(out)
        assert_same(contents(out), reference)
        shutil.rmtree(out)


# ---------------------------------------------------------------------------- the command
def test_the_command_compacts_and_refuses_a_folder_that_is_not_a_sweep(
        old_sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, out, before = old_sweep
    code, said, err = run_cli(["sweep", "compact", str(out)])
    assert code == 0 and err == "" and "18 runs moved into 1 part sets" in said
    assert_same(contents(out), before)
    code, said, _ = run_cli(["sweep", "compact", str(out), "--quiet"])
    assert code == 0 and said.strip() == str(out)
    (tmp_path / "other").mkdir()
    code, _, err = run_cli(["sweep", "compact", str(tmp_path / "other")])
    assert code == 2 and "holds none (no manifest.json)" in err and "sweep compact" in err
    monkeypatch.setenv("VILLAGE_SIM_LANG", "zh")
    code, _, err = run_cli(["sweep", "compact", str(tmp_path / "other")])
    assert code == 2 and "压缩" in err
    monkeypatch.setenv("VILLAGE_SIM_LANG", "vi")
    code, _, err = run_cli(["sweep", "compact", str(tmp_path / "other")])
    assert code == 2 and "nén" in err
    assert not (tmp_path / "other" / "parts").exists()


def test_compactions_of_one_folder_take_turns(old_sweep) -> None:
    import fcntl
    import threading

    _, out, before = old_sweep
    (out / "parts").mkdir()
    with open(out / "parts" / ".lock", "w") as held:  # another compaction holds the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=compact_sweep, args=(out,))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and not (out / "parts" / "records").exists()
    worker.join(60)
    assert not worker.is_alive() and loose(out) == []
    assert_same(contents(out), before)


def test_a_reader_during_a_compaction_still_sees_every_run(old_sweep) -> None:
    _, out, before = old_sweep
    records = compaction.iter_records(out)
    first = next(records)  # the per-run records are listed, no part set yet
    compact_sweep(out)  # ... then moved into one, and removed
    rest = list(records)
    assert [first[0], *(rid for rid, _ in rest)] == list(before["runs"]["run_id"])
