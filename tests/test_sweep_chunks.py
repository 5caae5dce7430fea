"""Chunked tasks (``--runs-per-task``, issue 14 item 3): the same results whatever the chunks.

A chunk is a batch of independent runs sent to a worker as one task. Its size changes speed
only: the run tables and time series of runs-per-task 1, 7 and ``auto`` are identical (timing
columns aside) on serial, processes and Dask; runs are stored and resumed one by one.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sweep_plugins import write_spec
from test_sweep_engines import comparable, run_cli
from village_sim.refusal import Refusal
from village_sim.sweep.engines import (
    AUTO,
    TASK_SECONDS,
    TASKS_PER_WORKER,
    Chunker,
    check_runs_per_task,
    run_sweep,
)
from village_sim.sweep.runner import RunResult, RunTask
from village_sim.sweep.spec import load_spec
from village_sim.sweep.store import load_timeseries

PARAMETERS = "favoritism = [0.2, 0.5, 0.8]\nn_clans = [2, 3]"  # 6 points x 2 regimes x 2 reps


def _task(i: int) -> RunTask:
    return RunTask(run_id=f"r{i}", regime="committee_only", replicate=i, seed=i, overrides={},
                   steps=1, record_every=1, metrics=(), panel_every=0, run_function="m:f",
                   spec_hash="h")


def _result(seconds: float) -> RunResult:
    return RunResult(run_id="r", status="ok", error="", duration_s=seconds, cpu_s=seconds,
                     started="", finished="", worker="", blas_threads="1")


# ---------------------------------------------------------------------------- sizes
def test_chunker_fixed_sizes_take_every_run_once() -> None:
    tasks = iter([_task(i) for i in range(17)])
    chunker = Chunker(7, workers=2, runs=17)
    chunks = []
    while chunk := chunker.next_chunk(tasks):
        chunks.append([t.run_id for t in chunk])
    assert [len(c) for c in chunks] == [7, 7, 3]
    assert sum(chunks, []) == [f"r{i}" for i in range(17)]
    assert chunker.unsubmitted == 0


def test_chunker_auto_times_a_first_run_then_aims_at_a_few_seconds() -> None:
    chunker = Chunker(AUTO, workers=2, runs=100_000)
    assert chunker.size() == 1  # nothing measured yet: one run per task
    chunker.observe(_result(0.05))
    assert chunker.size() == int(TASK_SECONDS / 0.05)  # 60 runs of 50 ms: 3 s
    chunker.observe(_result(0.15))  # mean 0.1 s
    assert chunker.size() == int(TASK_SECONDS / 0.1)
    slow = Chunker(AUTO, workers=2, runs=1000)
    slow.observe(_result(20.0))
    assert slow.size() == 1  # a run longer than a task's aim: one per task


def test_chunker_auto_leaves_several_tasks_per_worker() -> None:
    chunker = Chunker(AUTO, workers=2, runs=80)
    chunker.observe(_result(0.001))  # 3,000 runs would make 3 s; 80 runs must feed 2 workers
    assert chunker.size() == 80 // (TASKS_PER_WORKER * 2)
    tasks = iter([_task(i) for i in range(80)])
    sizes = []
    while chunk := chunker.next_chunk(tasks):
        sizes.append(len(chunk))
    assert sum(sizes) == 80
    assert len(sizes) >= TASKS_PER_WORKER * 2
    assert sizes[-1] == 1  # chunks shrink towards the end of the sweep


@pytest.mark.parametrize("value", [0, -3, "0", "1.5", "", "many", 2.0, True])
def test_runs_per_task_is_an_integer_at_least_one_or_auto(value: object) -> None:
    with pytest.raises(Refusal, match="allowed: an integer >= 1 .* or 'auto'"):
        check_runs_per_task(value)  # type: ignore[arg-type]


def test_runs_per_task_accepted_values() -> None:
    assert check_runs_per_task("auto") == AUTO
    assert check_runs_per_task(" AUTO ") == AUTO
    assert check_runs_per_task("7") == 7
    assert check_runs_per_task(1) == 1


def test_runs_per_task_refused_on_the_command_line_in_the_reader_language(
        tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml")
    for lang, words in [("en", "allowed: an integer >= 1"), ("zh", "不小于 1 的整数"),
                        ("vi", "một số nguyên từ 1 trở lên")]:
        code, _, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "o"),
                                "--lang", lang, "--runs-per-task", "0"])
        assert code == 2
        assert "--runs-per-task" in err and words in err, err
    assert not (tmp_path / "o").exists()
    with pytest.raises(Refusal):
        run_sweep(load_spec(spec_path), tmp_path / "o", engine="serial", runs_per_task=0)
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------- same results
@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The spec and its serial sweep (one run at a time)."""
    folder = tmp_path_factory.mktemp("chunks")
    spec_path = write_spec(folder / "s.toml", parameters=PARAMETERS, extra="record_every = 2")
    summary = run_sweep(load_spec(spec_path), folder / "serial", engine="serial", progress=False)
    assert summary.exit_code == 0 and summary.stored_ok == 24
    return spec_path, folder / "serial"


@pytest.mark.parametrize(("engine", "runs_per_task"), [
    ("serial", 7), ("processes", 1), ("processes", 7), ("processes", AUTO),
    ("dask", 7), ("dask", AUTO),
])
def test_same_results_whatever_the_runs_per_task(tmp_path: Path, reference: tuple[Path, Path],
                                                 engine: str, runs_per_task: int | str) -> None:
    spec_path, serial = reference
    out = tmp_path / "out"
    options = {} if engine == "serial" else {"workers": 2}
    summary = run_sweep(load_spec(spec_path), out, engine=engine, progress=False,
                        runs_per_task=runs_per_task, **options)  # type: ignore[arg-type]
    assert summary.exit_code == 0, summary.line()
    assert summary.stored_ok == 24
    for got, want in zip(comparable(out), comparable(serial), strict=True):
        pd.testing.assert_frame_equal(got, want)
    # one file and one record per run, as without chunks
    assert len(list((out / "runs").glob("*.parquet"))) == 24
    assert len(list((out / "records").glob("*.json"))) == 24


def test_a_chunk_cut_halfway_resumes_only_its_missing_runs(tmp_path: Path,
                                                           reference: tuple[Path, Path]) -> None:
    """Runs are committed one by one: a resumed sweep reruns exactly the runs not stored."""
    spec_path, serial = reference
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    records = sorted((out / "records").glob("*.json"))
    removed = records[3:10]  # part of what one 7-run chunk would hold, and more
    for record in removed:
        record.unlink()
        (out / "runs" / f"{record.stem}.parquet").unlink()
    (out / "runs" / f"{records[3].stem}.parquet").write_bytes(b"half")  # a run without record
    summary = run_sweep(load_spec(spec_path), out, engine="processes", workers=2,
                        runs_per_task=7, progress=False)
    assert summary.exit_code == 0, summary.line()
    assert summary.already_stored == 24 - len(removed)
    assert summary.ok == len(removed)
    for got, want in zip(comparable(out), comparable(serial), strict=True):
        pd.testing.assert_frame_equal(got, want)
    assert not load_timeseries(out).duplicated(["run_id", "step"]).any()


# ---------------------------------------------------------------------------- streaming
def _assert_same_runs(out: Path, serial: Path) -> None:
    """Same series and run table as the serial sweep (the run function, part of the spec's
    hash but not of a run's identity, aside)."""
    for got, want in zip(comparable(out), comparable(serial), strict=True):
        pd.testing.assert_frame_equal(got.drop(columns=["spec_hash"], errors="ignore"),
                                      want.drop(columns=["spec_hash"], errors="ignore"))


def _records(out: Path) -> list[Path]:
    return sorted((out / "records").glob("*.json")) if (out / "records").exists() else []


@pytest.mark.parametrize("engine", ["processes", "dask"])
def test_runs_stream_back_before_their_chunk_ends(tmp_path: Path, engine: str,
                                                  reference: tuple[Path, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker, one chunk of all 24 runs; its 4th run waits on a gate. The 3 runs before it
    are stored while the chunk is still running (they were sent back one by one); once the gate
    opens the sweep ends with every run once, as the serial sweep has them."""
    _, serial = reference
    gate = tmp_path / "gate"
    monkeypatch.setenv("VILLAGE_SIM_TEST_GATE", str(gate))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])))
    spec_path = write_spec(tmp_path / "s.toml", parameters=PARAMETERS, extra=(
        'record_every = 2\nrun_function = "sweep_plugins:gate_after_three"'))
    out = tmp_path / "out"
    done: list[Any] = []
    sweep = threading.Thread(target=lambda: done.append(run_sweep(
        load_spec(spec_path), out, engine=engine, workers=1, runs_per_task=24,
        progress=False)))
    sweep.start()
    try:
        deadline = time.monotonic() + 90
        while len(_records(out)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # time for a 4th record, if one were coming
        assert len(_records(out)) == 3, "the chunk's first runs were not stored as they ended"
        assert sweep.is_alive() and not done
    finally:
        gate.touch()
        sweep.join(timeout=120)
    summary = done[0]
    assert summary.exit_code == 0 and summary.ok == 24, summary.line()
    _assert_same_runs(out, serial)
    assert not load_timeseries(out).duplicated(["run_id", "step"]).any()


def test_a_worker_killed_halfway_through_a_chunk_keeps_the_runs_it_finished(
        tmp_path: Path, reference: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker dies on its 4th run of a 24-run chunk: the 3 runs it finished are stored
    (streamed), the other 21 are lost, and a resumed sweep runs exactly those 21."""
    _, serial = reference
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])))
    spec = load_spec(write_spec(tmp_path / "s.toml", parameters=PARAMETERS, extra=(
        'record_every = 2\nrun_function = "sweep_plugins:die_after_three"')))
    out = tmp_path / "out"
    monkeypatch.setenv("VILLAGE_SIM_TEST_DIE", "1")
    summary = run_sweep(spec, out, engine="processes", workers=1, runs_per_task=24,
                        progress=False)
    assert (summary.ok, summary.lost, summary.stored_ok) == (3, 21, 3), summary.line()
    monkeypatch.delenv("VILLAGE_SIM_TEST_DIE")
    resumed = run_sweep(spec, out, engine="processes", workers=1, progress=False)
    assert (resumed.already_stored, resumed.ok, resumed.exit_code) == (3, 21, 0), resumed.line()
    _assert_same_runs(out, serial)
