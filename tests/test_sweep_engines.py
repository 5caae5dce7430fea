"""Sweep engines and storage: identical results on every engine, resume, failures, report.

A real Dask scheduler and two workers run as separate processes on 127.0.0.1 (the ``dask
scheduler`` / ``dask worker`` commands, from this interpreter), started once for the module
and always stopped in the fixture's finalizer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import sweep_plugins
from sweep_plugins import assert_same_as_uninterrupted, comparable, write_spec
from village_sim import experiment
from village_sim.cli import main
from village_sim.sweep.engines import run_sweep
from village_sim.sweep.spec import load_spec
from village_sim.sweep.store import (
    SweepDirError,
    load_panels,
    load_timeseries,
    run_table,
)

TESTS_DIR = Path(__file__).resolve().parent
METRICS = ["kin_premium", "diverted_share", "coverage", "poverty_headcount"]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def subprocess_env() -> dict[str, str]:
    """Environment for processes that must import ``sweep_plugins`` (this directory)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------- a real cluster
@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address of a Dask scheduler with two single-threaded workers, each its own process.

    ``worker-1`` is started as docs/cluster.md tells users to start their own workers (with
    the nanny preload ``village_sim.sweep.dask_plugin``); ``worker-0`` as Dask's defaults have it.
    """
    from distributed import Client

    workdir = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = subprocess_env()
    procs: list[subprocess.Popen[bytes]] = []
    logs = []

    def start(args: list[str], name: str) -> None:
        log = (workdir / f"{name}.log").open("wb")
        logs.append(log)
        procs.append(subprocess.Popen([sys.executable, "-m", *args], cwd=workdir, env=env,
                                      stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))

    try:
        start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
               "--no-dashboard"], "scheduler")
        for i in range(2):
            preload = ["--preload-nanny", "village_sim.sweep.dask_plugin"] if i else []
            start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1",
                   "--no-dashboard", "--host", "127.0.0.1", "--name", f"worker-{i}",
                   "--local-directory", str(workdir / f"w{i}"), *preload], f"worker-{i}")
        deadline = time.monotonic() + 120
        while True:  # the scheduler accepts connections once it is up
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for proc in reversed(procs):  # workers first, then the scheduler
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for log in logs:
            log.close()


# ---------------------------------------------------------------------------- workers' environment
def _worker_environment() -> tuple[str | None, str | None]:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")


def test_the_nanny_preload_drops_dask_s_malloc_trimming(scheduler: str) -> None:
    # Dask's default worker environment trims malloc at 64 KiB (the Dask engine's extra CPU per
    # run, benchmarks/README.md "Sweeps"); a worker started with the preload runs without it
    from distributed import Client

    with Client(scheduler, timeout="10s") as client:
        # each answer by its worker's name; the scheduler's list of workers can lag behind the
        # workers that answer (a run of 2026-12-03 under load found an answering address not in
        # it yet): asked again until it holds them all
        deadline = time.monotonic() + 30
        while True:
            answers = client.run(_worker_environment)
            names = {address: info["name"]
                     for address, info in client.scheduler_info()["workers"].items()}
            if set(answers) <= set(names) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        seen = {names.get(address, address): env for address, env in answers.items()}
    assert seen == {"worker-0": ("65536", "1"), "worker-1": (None, "1")}, seen


def test_the_local_dask_engine_s_workers_run_without_malloc_trimming() -> None:
    from village_sim.sweep.engines import DaskEngine

    with DaskEngine(workers=1) as engine:
        seen = list(engine.client.run(_worker_environment).values())
    assert seen == [(None, "1")], seen


# ---------------------------------------------------------------------------- engines agree
def test_serial_processes_and_dask_give_identical_tables(tmp_path: Path, scheduler: str) -> None:
    spec_path = write_spec(tmp_path / "s.toml", extra="record_every = 2",
                           parameters="favoritism = [0.2, 0.8]\nn_clans = [2, 3]")
    spec = load_spec(spec_path)
    outs = {}
    for engine, options in [("serial", {}), ("processes", {"workers": 2}),
                            ("dask", {"scheduler": scheduler})]:
        out = tmp_path / engine
        summary = run_sweep(spec, out, engine=engine, progress=False, **options)
        assert summary.exit_code == 0, summary.line()
        assert summary.stored_ok == summary.planned == 4 * 2 * 2
        outs[engine] = comparable(out)
        # BLAS pools pinned to one thread wherever the runs ran
        assert set(run_table(out, write=False)["blas_threads"]) == {"1"}, engine
    series, table = outs["serial"]
    assert len(series) == 16 * 8  # steps 0, 2, ..., 12 and the final month 13
    assert sorted(series["step"].unique()) == [0, 2, 4, 6, 8, 10, 12, 13]
    assert list(series.columns) == ["run_id", "regime", "replicate", "seed", "step", *METRICS]
    assert set(table["status"]) == {"ok"}
    for engine in ("processes", "dask"):
        pd.testing.assert_frame_equal(outs[engine][0], series, obj=f"{engine} series")
        pd.testing.assert_frame_equal(outs[engine][1], table, obj=f"{engine} run table")
    # and the stored series are those of a plain run of the model
    row = table.iloc[0]
    direct = experiment.run_one(row["regime"], int(row["seed"]), 13,
                                {"n_households": 30, "favoritism": row["favoritism"],
                                 "n_clans": int(row["n_clans"])})
    stored = series.loc[series["run_id"] == row["run_id"]].set_index("step")
    direct = direct.set_index("step").loc[stored.index, METRICS]
    pd.testing.assert_frame_equal(stored[METRICS], direct, check_names=False)


def test_dask_local_cluster_through_the_cli(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", replicates=1)
    code, out, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "d"),
                              "--engine", "dask", "--workers", "2", "--quiet"])
    assert code == 0, err
    assert "LocalCluster, 2 workers x 1 thread" in out
    assert "Stored: 4 ok, 0 failed, 0 missing." in out
    code, out, _ = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "s"),
                            "--engine", "serial", "--quiet"])
    assert code == 0
    for a, b in zip(comparable(tmp_path / "d"), comparable(tmp_path / "s"), strict=True):
        pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------- resume
def test_kill_the_client_mid_sweep_then_resume(tmp_path: Path, scheduler: str) -> None:
    spec_path = write_spec(tmp_path / "s.toml", replicates=6,
                           parameters="favoritism = [0.2, 0.5, 0.8]",
                           extra='run_function = "sweep_plugins:slow_village"')
    out = tmp_path / "out"
    planned = 3 * 2 * 6
    proc = subprocess.Popen(
        [sys.executable, "-m", "village_sim.cli", "sweep", str(spec_path), "--out", str(out),
         "--scheduler", scheduler, "--quiet"],
        env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "records").glob("*.json"))) < 4:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no runs were stored"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    stored_before = len(list((out / "records").glob("*.json")))
    assert 4 <= stored_before < planned

    summary = run_sweep(load_spec(spec_path), out, engine="dask", scheduler=scheduler,
                        progress=False)
    assert summary.exit_code == 0, summary.line()
    assert summary.already_stored == stored_before
    assert summary.ok == planned - stored_before
    records = sorted(p.stem for p in (out / "records").glob("*.json"))
    runs = sorted(p.stem for p in (out / "runs").glob("*.parquet"))
    assert len(records) == len(set(records)) == planned
    assert runs == records
    assert not list(out.rglob(".*.tmp")), "temporary files left behind"
    series = load_timeseries(out)
    assert not series.duplicated(["run_id", "step"]).any()
    assert series.groupby("run_id").size().eq(14).all()
    # nothing lost or corrupted: the same as an uninterrupted serial sweep of the same runs
    # (without the slow-down; the run function is not part of a run's identity)
    assert_same_as_uninterrupted(out, tmp_path)


def test_rerun_runs_only_missing_runs_and_other_specs_are_refused(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", replicates=1)
    out = tmp_path / "out"
    first = run_sweep(load_spec(spec_path), out, engine="serial", progress=False)
    assert (first.ok, first.already_stored) == (4, 0)
    victim = sorted((out / "records").glob("*.json"))[0]
    victim.unlink()  # as if the sweep had been killed before this run was committed
    (out / "runs" / f".{victim.stem}.parquet.x.tmp").write_bytes(b"half a file")
    again = run_sweep(load_spec(spec_path), out, engine="serial", progress=False)
    assert (again.ok, again.already_stored, again.stored_ok) == (1, 3, 4)
    assert not list(out.rglob(".*.tmp"))

    other = write_spec(tmp_path / "other.toml", replicates=2)
    with pytest.raises(SweepDirError, match="differ in: replicates"):
        run_sweep(load_spec(other), out, engine="serial", progress=False)
    code, _, err = run_cli(["sweep", str(other), "--out", str(out), "--engine", "serial"])
    assert code == 2
    assert "holds the sweep 'tiny' of another spec" in err
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("x", encoding="utf-8")
    code, _, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "junk")])
    assert code == 2 and "holds no sweep" in err


# ---------------------------------------------------------------------------- failures
def test_failing_run_is_isolated_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec_path = write_spec(tmp_path / "s.toml")
    spec = load_spec(spec_path)
    bad_seed = experiment.replicate_seeds(spec.root_seed, spec.replicates)[1]
    real = experiment.run_model

    def run_model(regime: str, seed: int, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if seed == bad_seed and regime == "committee_only":
            raise FloatingPointError("deliberate failure")
        return real(regime, seed, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(experiment, "run_model", run_model)
    code, out, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "o"),
                              "--engine", "serial", "--quiet"])
    assert code == 1, err
    assert "6 ok, 2 failed, 0 lost" in out  # two design points share the failing seed
    assert "FloatingPointError: deliberate failure" in err
    table = run_table(tmp_path / "o")
    failed = table.loc[table["status"] == "failed"]
    assert len(failed) == 2
    assert set(failed["replicate"]) == {1} and set(failed["regime"]) == {"committee_only"}
    assert all("Traceback" in e and "deliberate failure" in e for e in failed["error"])
    assert not any((tmp_path / "o" / "runs" / f"{r}.parquet").exists() for r in failed["run_id"])
    assert set(load_timeseries(tmp_path / "o")["run_id"]) == set(
        table.loc[table["status"] == "ok", "run_id"])


def test_a_ctrl_c_inside_a_run_is_an_interrupt_not_a_failed_run(tmp_path: Path) -> None:
    """A Ctrl-C that an extension's import turned into an ImportError stops the sweep (exit
    130); it is not stored as a failed run, which a rerun would not retry."""
    spec_path = write_spec(tmp_path / "s.toml",
                           extra='run_function = "sweep_plugins:interrupted_import"')
    code, out, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "o"),
                              "--engine", "serial", "--quiet"])
    assert code == 130, (out, err)
    assert "Traceback" not in err and "initialization failed" not in err
    assert not list((tmp_path / "o" / "records").glob("*.json"))


def test_failing_run_is_isolated_on_dask(tmp_path: Path, scheduler: str) -> None:
    spec_path = write_spec(tmp_path / "s.toml",
                           extra='run_function = "sweep_plugins:fail_on_one_replicate"')
    code, out, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "o"),
                              "--scheduler", scheduler, "--quiet"])
    assert code == 1, err
    assert "6 ok, 2 failed, 0 lost. Stored: 6 ok, 2 failed, 0 missing." in out
    record = next(json.loads(p.read_text()) for p in (tmp_path / "o" / "records").glob("*.json")
                  if json.loads(p.read_text())["status"] == "failed")
    assert record["replicate"] == sweep_plugins.FAILING_REPLICATE
    assert record["regime"] == sweep_plugins.FAILING_REGIME
    assert "RuntimeError: deliberate failure of replicate 1" in record["error"]
    assert record["worker"] and record["spec_hash"] == load_spec(spec_path).spec_hash
    # a failed run is a result: rerunning does not retry it, unless asked
    code, out, _ = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "o"),
                            "--scheduler", scheduler, "--quiet"])
    assert code == 1 and "this session ran 0" in out
    # the report shows the failures and leaves them out of the statistics; failed runs make
    # its exit code 1, said on the terminal (issue "Outputs ...", item 5; was 0)
    code, _, err = run_cli(["report", str(tmp_path / "o"), "--quiet"])
    assert code == 1 and "2 failed" in err
    report = (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    assert "## Failed runs" in report and "deliberate failure of replicate 1" in report


# ---------------------------------------------------------------------------- outputs
def test_panels_and_record_interval(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", replicates=1, parameters="favoritism = [0.5]",
                           extra="panel_every = 6\nrecord_every = 5")
    summary = run_sweep(load_spec(spec_path), tmp_path / "o", engine="serial", progress=False)
    assert summary.exit_code == 0
    series = load_timeseries(tmp_path / "o")
    assert sorted(series["step"].unique()) == [0, 5, 10, 13]
    panels = load_panels(tmp_path / "o")
    assert sorted(panels["step"].unique()) == [0, 6, 12]
    assert len(panels) == 2 * 3 * 30
    assert {"run_id", "regime", "replicate", "seed", "household_id", "registered"} <= set(panels)


def test_report_writes_markdown_html_and_figures(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", replicates=3,
                           parameters="favoritism = [0.2, 0.8]\nsanction = [0.0, 4.0]")
    assert run_sweep(load_spec(spec_path), tmp_path / "o", engine="serial",
                     progress=False).exit_code == 0
    code, out, _ = run_cli(["report", str(tmp_path / "o")])
    assert code == 0
    md = (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    for section in ["# Sweep report: tiny", "## Sweep", "## Overview (averaged over design "
                    "points)", "## By design point", "### kin_premium", "## Figures"]:
        assert section in md, section
    assert "team_and_committee - committee_only" in md
    assert "final 12 months (months 2-13)" in md
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and "<img src=" in page
    figures = sorted(p.name for p in (tmp_path / "o" / "report").glob("*.png"))
    assert {"metrics_vs_favoritism.png", "differences_vs_sanction.png",
            "heatmap_kin_premium.png", "timeseries.png"} <= set(figures)
    for name in figures:
        assert (tmp_path / "o" / "report" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"report/{name}" in md
    summary = pd.read_csv(tmp_path / "o" / "report" / "summary.csv")
    assert len(summary) == 4 * 2 * len(METRICS)
    # the numbers are those of the window means of the stored series
    series = load_timeseries(tmp_path / "o")
    plan = pd.read_parquet(tmp_path / "o" / "plan.parquet")
    window = series.loc[series["step"] >= 2].groupby("run_id")["coverage"].mean()
    runs = plan.loc[(plan["point"] == 0) & (plan["regime"] == "committee_only"), "run_id"]
    row = summary.loc[(summary["point"] == 0) & (summary["regime"] == "committee_only")
                      & (summary["metric"] == "coverage")].iloc[0]
    assert row["mean"] == pytest.approx(window.loc[runs].mean())


@pytest.mark.parametrize(("kind", "columns"), [("sobol", ["S1", "ST"]),
                                               ("morris", ["mu_star", "sigma"])])
def test_report_sensitivity_indices(tmp_path: Path, kind: str, columns: list[str]) -> None:
    spec_path = write_spec(
        tmp_path / "s.toml", replicates=1, regimes='["committee_only"]',
        design=f'{{ kind = "{kind}", samples = 4 }}',
        parameters="favoritism = { low = 0.0, high = 1.0 }\n"
                   "quota = { low = 0.15, high = 0.45 }",
    )
    assert run_sweep(load_spec(spec_path), tmp_path / "o", engine="serial",
                     progress=False).exit_code == 0
    files = run_cli(["report", str(tmp_path / "o"), "--quiet"])
    assert files[0] == 0
    md = (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    title = "Sobol indices" if kind == "sobol" else "Morris elementary effects"
    assert f"## Sensitivity: {title}" in md
    table = pd.read_csv(tmp_path / "o" / "report" / "sensitivity.csv")
    assert set(columns) <= set(table.columns)
    assert set(table["parameter"]) == {"favoritism", "quota"}
    assert (tmp_path / "o" / "report" / "sensitivity.png").is_file()


def test_progress_bar_with_eta_and_summary(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", replicates=1)
    code, out, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "o"),
                              "--engine", "serial", "--progress"])
    assert code == 0
    assert "sweep tiny: 100%" in err and "4/4" in err and "run/s" in err and "<" in err, err
    assert out.splitlines()[0].startswith("sweep 'tiny' done: 4 runs planned, 0 already stored")
    assert out.splitlines()[-1] == str(tmp_path / "o")
