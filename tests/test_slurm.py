"""``--engine slurm``: the ``[cluster]`` table checked, and sweeps on a real one-node SLURM.

The cluster (munged, slurmctld, slurmd) is started once per session by the ``slurm`` fixture
of ``slurm_cluster.py``; without SLURM these tests skip, with ``REQUIRE_SLURM=1`` (``.ci/run``)
they fail. Worker jobs of 1 core each (this machine has 2), tiny villages and few months keep
each test within a minute.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from slurm_cluster import LocalSlurm, slurm_fixture  # noqa: F401 - the fixture "slurm"
from sweep_plugins import assert_same_as_uninterrupted, comparable, write_spec
from village_sim.cli import main
from village_sim.refusal import Refusal
from village_sim.sweep.cluster import (
    WORKER_PRELOAD,
    ClusterConfig,
    SlurmEngine,
    cluster_kwargs,
    load_cluster_config,
    parse_cluster_config,
    walltime_seconds,
)
from village_sim.sweep.engines import run_sweep
from village_sim.sweep.spec import SpecError, load_spec
from village_sim.sweep.store import load_timeseries, run_table

TESTS_DIR = Path(__file__).resolve().parent


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def cluster_table(tmp_path: Path, **overrides: object) -> str:
    """A ``[cluster]`` table for the test SLURM: 2 jobs of 1 core, logs under ``tmp_path``."""
    table: dict[str, object] = {
        "queue": "debug", "cores": 1, "memory": "1GB", "walltime": "00:10:00",
        "minimum_jobs": 2, "maximum_jobs": 2,
        # also the time a worker process has to start (on a busy 2-core machine, several s)
        "death_timeout": 20,
        "log_directory": str(tmp_path / "jobs"), "local_directory": str(tmp_path / "scratch"),
    }
    table.update(overrides)
    lines = []
    for key, value in table.items():
        text = f'"{value}"' if isinstance(value, str) else str(value)
        lines.append(f"{key} = {text}")
    return "[cluster]\n" + "\n".join(lines) + "\n"


def slurm_spec(path: Path, tmp_path: Path, cluster: dict[str, object] | None = None,
               **spec: object) -> Path:
    """A small spec (see sweep_plugins.write_spec) with a ``[cluster]`` table at the end."""
    write_spec(path, **spec)  # type: ignore[arg-type]
    with path.open("a", encoding="utf-8") as f:
        f.write("\n" + cluster_table(tmp_path, **(cluster or {})))
    return path


@pytest.fixture()
def on_slurm(slurm: LocalSlurm, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSlurm]:
    """The test SLURM with an empty queue; worker jobs can import sweep_plugins.

    Jobs inherit the submitting environment (sbatch --export=ALL), hence PYTHONPATH here. A
    worker that leaves is forgotten by the cluster after 2 s rather than 15 s
    (distributed.deploy.lost-worker-timeout), so that its replacement is submitted sooner.
    """
    import dask
    import distributed  # noqa: F401 - its defaults first: the set below restores what it found

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")])))
    wait_for(lambda: not slurm.jobs(), 60, "the queue to empty before the test")
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "2s"}):
        yield slurm


def records(out: Path) -> int:
    return len(list((out / "records").glob("*.json")))


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out ({timeout:g} s) waiting for {what}"
        time.sleep(0.1)


def assert_every_run_once(out: Path, planned: int) -> pd.DataFrame:
    table = run_table(out, write=False)
    assert len(table) == table["run_id"].nunique() == planned
    assert set(table["status"]) == {"ok"}
    series = load_timeseries(out)
    assert not series.duplicated(["run_id", "step"]).any()
    return table


# ---------------------------------------------------------------------------- the [cluster] table
def test_a_full_table_becomes_slurmcluster_arguments(tmp_path: Path) -> None:
    config = parse_cluster_config({
        "queue": "normal", "account": "my_project", "cores": 32, "processes": 32,
        "memory": "64GB", "walltime": "04:00:00", "job_extra_directives": ["--qos=long"],
        "job_script_prologue": ["source .venv/bin/activate"], "lifetime": "230m",
        "lifetime_stagger": "4m", "minimum_jobs": 1, "maximum_jobs": 20, "death_timeout": 120,
        "interface": "ib0", "local_directory": "$TMPDIR", "log_directory": "dask-logs",
    })
    assert config.workers == (32, 640)
    assert config.describe() == "SLURMCluster, 1-20 jobs x 32 workers x 1 thread"
    kwargs = cluster_kwargs(config)
    assert kwargs["worker_extra_args"] == ["--preload-nanny", WORKER_PRELOAD, "--lifetime",
                                           "230m", "--lifetime-stagger", "4m"]
    assert kwargs["queue"] == "normal" and kwargs["account"] == "my_project"
    assert kwargs["death_timeout"] == 120.0 and kwargs["interface"] == "ib0"
    # the job script dask-jobqueue writes from them (no SLURM needed)
    from dask_jobqueue import SLURMCluster

    with SLURMCluster(**{**kwargs, "interface": None, "log_directory": str(tmp_path)}) as c:
        script = c.job_script()
    for line in ("#SBATCH -p normal", "#SBATCH -A my_project", "#SBATCH -n 1",
                 "#SBATCH --cpus-per-task=32", "#SBATCH -t 04:00:00", "#SBATCH --qos=long",
                 "source .venv/bin/activate", "--nworkers 32", "--nthreads 1",
                 "--lifetime 230m --lifetime-stagger 4m", "--death-timeout 120",
                 f"--preload-nanny {WORKER_PRELOAD}",
                 "export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False"):
        assert line in script, (line, script)
    # the engine's Dask settings come first, so that the table's own lines can override them
    assert (script.index("export DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=1s")
            < script.index("source .venv/bin/activate"))


def test_defaults_one_thread_per_worker_one_job() -> None:
    config = parse_cluster_config({"cores": 4, "memory": "8GB"})
    assert (config.processes, config.minimum_jobs, config.maximum_jobs) == (4, 1, 1)
    assert cluster_kwargs(config)["worker_extra_args"] == ["--preload-nanny", WORKER_PRELOAD]
    assert config.describe() == "SLURMCluster, 1 jobs x 4 workers x 1 thread"


@pytest.mark.parametrize("text, seconds", [
    ("30", 1800), ("30:15", 1815), ("04:00:00", 14400), ("1-00", 86400),
    ("1-02:30", 95400), ("2-00:00:10", 172810),
])
def test_slurm_time_limits(text: str, seconds: int) -> None:
    assert walltime_seconds(text) == seconds


@pytest.mark.parametrize("table, words", [
    ({"cores": 0, "memory": "1GB"}, ["cores", "got 0", "an integer >= 1"]),
    ({"cores": True, "memory": "1GB"}, ["cores", "got True", "an integer >= 1"]),
    ({"cores": 2, "memory": "lots"}, ["memory", "'lots'", "'4GB'"]),
    ({"cores": 2, "memory": 4}, ["memory", "got 4", "a memory size"]),
    ({"cores": 2, "memory": "1GB", "walltime": "4h"}, ["walltime", "'4h'", "HH:MM:SS"]),
    ({"cores": 2, "memory": "1GB", "lifetime": "soon"}, ["lifetime", "'soon'", "'55m'"]),
    ({"cores": 2, "memory": "1GB", "queue": ""}, ["queue", "''", "a non-empty string"]),
    ({"cores": 2, "memory": "1GB", "job_extra_directives": "--qos=long"},
     ["job_extra_directives", "'--qos=long'", "a list of strings"]),
    ({"cores": 2, "memory": "1GB", "death_timeout": -1}, ["death_timeout", "-1", "seconds > 0"]),
    ({"cores": 2, "memory": "1GB", "queu": "normal"},
     ["unknown key 'queu'", "did you mean 'queue'", "allowed: queue, account, cores"]),
    ({"cores": 2}, ["missing key 'memory'", "memory per job"]),
    ({"memory": "1GB"}, ["missing key 'cores'", "cores per job"]),
    ({"cores": 2, "processes": 4, "memory": "1GB"},
     ["processes = 4 is more than cores = 2", "1 to 2 worker processes"]),
    ({"cores": 2, "memory": "1GB", "minimum_jobs": 3, "maximum_jobs": 2},
     ["minimum_jobs = 3 is more than maximum_jobs = 2"]),
    ({"cores": 2, "memory": "1GB", "lifetime_stagger": "1m"}, ["give lifetime too"]),
    ({"cores": 2, "memory": "1GB", "walltime": "01:00:00", "lifetime": "55m",
      "lifetime_stagger": "5m"},
     ["lifetime 55m plus lifetime_stagger 5m does not end before walltime 01:00:00",
      "retire and are replaced before SLURM kills them"]),
    ("cores = 2", ["a table of cluster settings"]),
])
def test_bad_tables_are_refused_naming_key_value_and_allowed(table: object,
                                                             words: list[str]) -> None:
    with pytest.raises(Refusal) as caught:
        parse_cluster_config(table, source="c.toml")  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("c.toml: "), message
    for word in words:
        assert word in message, (word, message)


def test_the_spec_table_is_checked_and_is_not_part_of_the_hash(tmp_path: Path) -> None:
    plain = load_spec(write_spec(tmp_path / "plain.toml"))
    with_cluster = load_spec(slurm_spec(tmp_path / "c.toml", tmp_path))
    assert plain.cluster is None
    assert isinstance(with_cluster.cluster, ClusterConfig)
    assert with_cluster.cluster.maximum_jobs == 2
    assert with_cluster.spec_hash == plain.spec_hash  # where runs run is not what they give
    bad = slurm_spec(tmp_path / "bad.toml", tmp_path, cluster={"walltime": "soon"})
    with pytest.raises(SpecError, match=r"bad.toml: cluster: walltime: got 'soon'"):
        load_spec(bad)


def test_cluster_config_file_and_refusals_on_the_command_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.toml")
    config = tmp_path / "cluster.toml"
    config.write_text(cluster_table(tmp_path), encoding="utf-8")  # a [cluster] table
    assert load_cluster_config(config).maximum_jobs == 2
    config.write_text('cores = 1\nmemory = "1GB"\n', encoding="utf-8")  # or bare keys
    assert load_cluster_config(config).cores == 1
    out = str(tmp_path / "out")
    code, _, err = run_cli(["sweep", str(spec), "--out", out, "--engine", "dask",
                            "--cluster-config", str(config)])
    assert code == 2 and "use it with --engine slurm" in err, err
    code, _, err = run_cli(["sweep", str(spec), "--out", out, "--engine", "slurm"])
    assert code == 2 and "a [cluster] table in the spec or --cluster-config FILE" in err, err
    code, _, err = run_cli(["sweep", str(spec), "--out", out, "--engine", "slurm",
                            "--cluster-config", str(tmp_path / "nowhere.toml")])
    assert code == 2 and "nowhere.toml' does not exist" in err, err
    config.write_text('cores = 1\nmemory = "1GB"\nwalltime = "1h"\n', encoding="utf-8")
    code, _, err = run_cli(["sweep", str(spec), "--out", out, "--engine", "slurm",
                            "--cluster-config", str(config)])
    assert code == 2 and "walltime: got '1h'" in err, err
    assert not Path(out).exists()  # refused before anything is written


@pytest.mark.parametrize("lang, words", [
    ("zh", ["--engine slurm 需要集群描述", "walltime: “1h”不可用"]),
    ("vi", ["--engine slurm cần mô tả cụm máy", "walltime: “1h” không được phép"]),
])
def test_cluster_refusals_in_the_reader_s_language(tmp_path: Path, lang: str, words: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VILLAGE_SIM_LANG", lang)
    spec = write_spec(tmp_path / "s.toml")
    config = tmp_path / "cluster.toml"
    config.write_text('cores = 1\nmemory = "1GB"\nwalltime = "1h"\n', encoding="utf-8")
    out = str(tmp_path / "out")
    _, _, missing = run_cli(["sweep", str(spec), "--out", out, "--engine", "slurm"])
    _, _, bad = run_cli(["sweep", str(spec), "--out", out, "--engine", "slurm",
                         "--cluster-config", str(config)])
    assert words[0] in missing, missing
    assert words[1] in bad, bad


# ---------------------------------------------------------------------------- on SLURM
@pytest.mark.slow
def test_sweep_on_slurm_equals_the_serial_sweep(tmp_path: Path, on_slurm: LocalSlurm) -> None:
    spec_path = slurm_spec(tmp_path / "s.toml", tmp_path, extra="record_every = 2")
    code, out, err = run_cli(["sweep", str(spec_path), "--out", str(tmp_path / "slurm"),
                              "--engine", "slurm", "--quiet"])
    assert code == 0, err
    assert "slurm (SLURMCluster, 2 jobs x 1 worker x 1 thread)" in out, out
    assert "Stored: 8 ok, 0 failed, 0 missing." in out, out
    serial = run_sweep(load_spec(spec_path), tmp_path / "serial", engine="serial",
                       progress=False)
    assert serial.exit_code == 0
    for a, b in zip(comparable(tmp_path / "slurm"), comparable(tmp_path / "serial"),
                    strict=True):
        pd.testing.assert_frame_equal(a, b)
    table = run_table(tmp_path / "slurm", write=False)
    assert set(table["blas_threads"]) == {"1"}
    wait_for(lambda: not on_slurm.jobs(), 30, "the worker jobs to end with the sweep")


def test_slurm_workers_run_without_malloc_trimming_and_quiet(
        tmp_path: Path, on_slurm: LocalSlurm) -> None:
    # the environment of the local engine's workers (benchmarks/README.md, "Sweeps": Dask's
    # MALLOC_TRIM_THRESHOLD_ was its extra CPU per run), given to each job's workers by the
    # nanny preload and the job's DASK_* exports
    import dask

    def environment() -> tuple[str | None, str | None, object, object]:
        return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"),
                dask.config.get("distributed.worker.profile.enabled"),
                dask.config.get("distributed.admin.tick.interval"))

    path = tmp_path / "cluster.toml"
    path.write_text(cluster_table(tmp_path, minimum_jobs=1, maximum_jobs=1), encoding="utf-8")
    with SlurmEngine(load_cluster_config(path)) as engine:
        engine.client.wait_for_workers(1, timeout=60)
        seen = engine.client.run(environment)
    assert seen and set(seen.values()) == {(None, "1", False, "1s")}, seen
    wait_for(lambda: not on_slurm.jobs(), 30, "the worker job to end with the engine")


@pytest.mark.slow
def test_scancel_of_a_worker_job_mid_sweep_loses_nothing(
        tmp_path: Path, on_slurm: LocalSlurm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VILLAGE_SIM_TEST_DELAY", "0.3")
    spec_path = slurm_spec(tmp_path / "s.toml", tmp_path, replicates=6,
                           parameters="favoritism = [0.2, 0.5, 0.8]",
                           extra='run_function = "sweep_plugins:slow_village"')
    out = tmp_path / "out"
    cancelled: list[str] = []

    def cancel_one() -> None:  # once runs are being stored, scancel one of the two jobs
        with contextlib.suppress(AssertionError):
            wait_for(lambda: records(out) >= 4, 120, "runs to be stored")
            running = [job for job, _, state in on_slurm.jobs() if state == "RUNNING"]
            if running:
                on_slurm.run("scancel", running[0])
                cancelled.append(running[0])

    canceller = threading.Thread(target=cancel_one, daemon=True)
    canceller.start()
    summary = run_sweep(load_spec(spec_path), out, engine="slurm", progress=False)
    canceller.join(timeout=5)
    assert cancelled, "no worker job was cancelled"
    assert summary.exit_code == 0, summary.line()
    assert_every_run_once(out, 36)


def _client(spec_path: Path, out: Path, config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "village_sim.cli", "sweep", str(spec_path), "--out", str(out),
         "--engine", "slurm", "--cluster-config", str(config), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kill_9_of_the_client_empties_the_queue_then_resume_on_slurm(
        tmp_path: Path, on_slurm: LocalSlurm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VILLAGE_SIM_TEST_DELAY", "0.3")
    death_timeout = 20
    spec_path = write_spec(tmp_path / "s.toml", replicates=6,
                           parameters="favoritism = [0.2, 0.5, 0.8]",
                           extra='run_function = "sweep_plugins:slow_village"')
    config = tmp_path / "cluster.toml"
    config.write_text(cluster_table(tmp_path, death_timeout=death_timeout), encoding="utf-8")
    out = tmp_path / "out"
    planned = 36
    proc = _client(spec_path, out, config)
    try:
        deadline = time.monotonic() + 120
        while records(out) < 4:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no runs were stored"
            time.sleep(0.05)
        assert on_slurm.jobs(), "no worker jobs in the queue"
        proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    # the orphaned workers find no scheduler, stop after their death timeout; the jobs end
    wait_for(lambda: not on_slurm.jobs(), death_timeout + 30, "the orphaned jobs to leave squeue")
    emptied = time.monotonic() - killed
    stored_before = records(out)
    assert 4 <= stored_before < planned

    summary = run_sweep(load_spec(spec_path), out, engine="slurm",
                        cluster=load_cluster_config(config), progress=False)
    assert summary.exit_code == 0, summary.line()
    assert summary.already_stored == stored_before, emptied
    assert summary.ok == planned - stored_before
    assert_every_run_once(out, planned)
    # the same as an uninterrupted serial sweep of the same runs
    assert_same_as_uninterrupted(out, tmp_path)


@pytest.mark.slow
def test_workers_retire_at_their_lifetime_and_are_replaced(
        tmp_path: Path, on_slurm: LocalSlurm, monkeypatch: pytest.MonkeyPatch) -> None:
    # one job at a time, its worker retiring after 20 s (give or take 1 s) of a sweep of more
    # than 48 x 0.5 s of runs: at least one replacement (a new worker's start-up, a few seconds
    # here, is paid again by each generation, hence a lifetime well above it). A retiring
    # worker gives back the task it runs (its runs are run again by the next): one run per
    # task here, so that little is run twice (with --runs-per-task auto a task holds a few
    # seconds of runs).
    monkeypatch.setenv("VILLAGE_SIM_TEST_DELAY", "0.5")
    spec_path = slurm_spec(tmp_path / "s.toml", tmp_path, replicates=12,
                           extra='run_function = "sweep_plugins:slow_village"',
                           cluster={"lifetime": "20s", "lifetime_stagger": "1s",
                                    "walltime": "00:05:00", "minimum_jobs": 1,
                                    "maximum_jobs": 1})
    summary = run_sweep(load_spec(spec_path), tmp_path / "out", engine="slurm",
                        runs_per_task=1, progress=False)
    assert summary.exit_code == 0, summary.line()
    table = assert_every_run_once(tmp_path / "out", 48)
    # more than the one worker: the retired worker was replaced
    assert table["worker"].nunique() > 1, table["worker"].value_counts()


@pytest.mark.slow
def test_a_job_that_ends_before_its_worker_connects_is_replaced(
        tmp_path: Path, on_slurm: LocalSlurm) -> None:
    # the first job's script fails before its worker starts; dask-jobqueue alone would wait
    # for that worker for ever (it hears of a job's end only from its workers)
    marker = tmp_path / "first-job-failed"
    spec_path = write_spec(tmp_path / "s.toml", replicates=1)
    config = tmp_path / "cluster.toml"
    config.write_text(
        cluster_table(tmp_path, minimum_jobs=1, maximum_jobs=1)
        + f'job_script_prologue = ["if [ ! -e {marker} ]; then touch {marker}; exit 1; fi"]\n',
        encoding="utf-8")
    proc = _client(spec_path, tmp_path / "out", config)
    try:
        stdout, stderr = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert marker.exists()
    assert "Stored: 4 ok, 0 failed, 0 missing." in stdout.decode()
    assert_every_run_once(tmp_path / "out", 4)
