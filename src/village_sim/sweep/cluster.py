"""A sweep on a SLURM batch cluster: a ``[cluster]`` table read, checked, and run as Dask workers.

``village-sim sweep SPEC --engine slurm`` (docs/cluster.md) starts a Dask scheduler in the
client process and a dask-jobqueue ``SLURMCluster`` that submits SLURM jobs, each starting
``processes`` single-threaded Dask workers; the sweep then runs exactly as on
``--engine dask`` (:class:`~village_sim.sweep.engines.DaskEngine`), so the results equal those
of every other engine (DESIGN §7).

The cluster is described by a ``[cluster]`` table of the spec or a ``--cluster-config`` TOML
file (which wins); it does not decide the results, so it is not part of the spec hash (a sweep
started on a laptop resumes on the cluster). Every key is checked here, constraints as data
(:data:`CLUSTER_KEYS`), and a bad one is a :class:`~village_sim.refusal.Refusal` naming the
key, the value and what is allowed.

Two choices protect a long sweep against the batch system (dask-jobqueue's documentation,
"How to handle job queueing system walltime killing workers"):

* ``lifetime`` (with ``lifetime_stagger``): each worker retires cleanly before the job's
  walltime, handing its work back, instead of being killed mid-run;
* the job count is kept by ``cluster.adapt(minimum_jobs, maximum_jobs)``, not
  ``cluster.scale``: after a job ends (lifetime, ``scancel``, a node failure) only the adaptive
  loop submits a replacement.

dask-jobqueue learns that a job ended only from its workers leaving the scheduler, so a job
that ends before its worker ever connected (a failing job script, a ``scancel`` while pending,
a node lost at start-up) would be counted as starting for ever, never replaced, and a sweep
with no other worker would wait for ever. :class:`SlurmEngine` watches ``squeue`` for such
jobs (every :data:`JOB_CHECK_SECONDS`) and has them replaced.
"""

from __future__ import annotations

import contextlib
import getpass
import re
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from village_sim.params import read_toml
from village_sim.refusal import Phrase, Refusal, did_you_mean
from village_sim.sweep.engines import QUIET_CLUSTER, DaskEngine

__all__ = [
    "CLUSTER_KEYS",
    "ClusterConfig",
    "WORKER_PRELOAD",
    "SlurmEngine",
    "cluster_kwargs",
    "dask_config_exports",
    "load_cluster_config",
    "parse_cluster_config",
    "start_slurm_cluster",
    "walltime_seconds",
]

_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


def walltime_seconds(text: str) -> int:
    """Seconds in a SLURM time limit (``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``).

    Raises:
        ValueError: if ``text`` is none of those forms.
    """
    match = _WALLTIME.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(text)
    days, first, second, third = match.groups()
    parts = [int(p) for p in (first, second, third) if p is not None]
    if days is not None:  # D-HH, D-HH:MM, D-HH:MM:SS
        hours, minutes, seconds = (parts + [0, 0])[:3]
        return int(days) * 86400 + hours * 3600 + minutes * 60 + seconds
    if len(parts) == 3:
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    return parts[0] * 60 + (parts[1] if len(parts) == 2 else 0)  # MM, MM:SS


def _duration_seconds(text: Any) -> float:
    """Seconds in a Dask duration (``"55m"``, ``"1h"``, ``"90s"``); ValueError if not one."""
    from dask.utils import parse_timedelta

    if not isinstance(text, str) or not text.strip():
        raise ValueError(text)
    try:
        seconds = parse_timedelta(text.strip(), default="s")
    except KeyError:  # an unknown unit; dask worker --lifetime would refuse it too
        raise ValueError(text) from None
    if seconds is None or not seconds > 0:
        raise ValueError(text)
    return float(seconds)


# ---------------------------------------------------------------------------- checks as data
def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refusal("error.cluster_string", value=value)
    return value.strip()


def _integer_at_least(low: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise Refusal("error.integer_at_least", value=value, low=low)
        return int(value)
    return check


_positive_int = _integer_at_least(1)
_count = _integer_at_least(0)


def _parsed_string(parse: Callable[[str], float], error: str) -> Callable[[Any], str]:
    """A check of a string ``parse`` reads as a positive amount (refused as ``error``)."""
    def check(value: Any) -> str:
        try:
            ok = isinstance(value, str) and parse(value) > 0
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise Refusal(error, value=value)
        return str(value).strip()
    return check


def _bytes(text: str) -> float:
    from dask.utils import parse_bytes

    return float(parse_bytes(text))


_memory = _parsed_string(_bytes, "error.cluster_memory")
_walltime = _parsed_string(walltime_seconds, "error.cluster_walltime")
_duration = _parsed_string(_duration_seconds, "error.cluster_duration")


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise Refusal("error.seconds", value=value)
    return float(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refusal("error.cluster_strings", value=value)
    return tuple(value)


CLUSTER_KEYS: dict[str, Callable[[Any], Any]] = {
    "queue": _string,                   # the partition (sbatch -p)
    "account": _string,                 # sbatch -A
    "cores": _positive_int,             # cores per job
    "processes": _positive_int,         # worker processes per job (one thread each at = cores)
    "memory": _memory,                  # per job, e.g. "64GB"
    "walltime": _walltime,              # per job, SLURM's forms
    "job_extra_directives": _strings,   # more #SBATCH lines, e.g. ["--qos=long"]
    "job_script_prologue": _strings,    # shell lines before the worker starts (activate a venv)
    "lifetime": _duration,              # each worker retires after this (dask worker --lifetime)
    "lifetime_stagger": _duration,      # ... plus or minus up to this, so they do not retire
                                        # all at once
    "minimum_jobs": _count,             # cluster.adapt(minimum_jobs=...)
    "maximum_jobs": _positive_int,      # cluster.adapt(maximum_jobs=...)
    "death_timeout": _seconds,          # a worker without its scheduler stops after this
    "interface": _string,               # the workers' network interface, e.g. "ib0"
    "local_directory": _string,         # worker scratch, e.g. "$TMPDIR"
    "log_directory": _string,           # the jobs' stdout/stderr
}
"""Every key of a ``[cluster]`` table and the check that validates (and normalises) it."""

REQUIRED_KEYS = {"cores": "phrase.cluster_cores", "memory": "phrase.cluster_memory"}
"""Keys a table must give, and what they mean (for the refusal of a missing one)."""


@dataclass(frozen=True)
class ClusterConfig:
    """A validated ``[cluster]`` table (build with :func:`parse_cluster_config`).

    Attributes:
        cores: Cores per job.
        memory: Memory per job (``"4GB"``).
        processes: Dask worker processes per job (default ``cores``: one thread each).
        queue: SLURM partition, or ``None`` for the default one.
        account: SLURM account, or ``None``.
        walltime: Time limit per job (SLURM's form, ``"04:00:00"``).
        job_extra_directives: More ``#SBATCH`` options.
        job_script_prologue: Shell lines run in the job before the workers start.
        lifetime: Dask duration after which a worker retires (``None``: never).
        lifetime_stagger: Random spread of the lifetimes (``None``: none).
        minimum_jobs: Fewest jobs the adaptive loop keeps.
        maximum_jobs: Most jobs it submits.
        death_timeout: Seconds a worker waits for a lost scheduler before stopping.
        interface: The workers' network interface, or ``None``.
        local_directory: Worker scratch folder, or ``None``.
        log_directory: Folder of the jobs' output, or ``None`` (the current folder).
        source: Where the table came from (for messages).
    """

    cores: int
    memory: str
    processes: int
    queue: str | None = None
    account: str | None = None
    walltime: str = "01:00:00"
    job_extra_directives: tuple[str, ...] = ()
    job_script_prologue: tuple[str, ...] = ()
    lifetime: str | None = None
    lifetime_stagger: str | None = None
    minimum_jobs: int = 1
    maximum_jobs: int = 1
    death_timeout: float = 60.0
    interface: str | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    source: str = "[cluster]"

    @property
    def workers(self) -> tuple[int, int]:
        """Fewest and most Dask workers (jobs times processes)."""
        return self.minimum_jobs * self.processes, self.maximum_jobs * self.processes

    def describe(self) -> str:
        """One line for the sweep's summary."""
        jobs = (f"{self.minimum_jobs} jobs" if self.minimum_jobs == self.maximum_jobs
                else f"{self.minimum_jobs}-{self.maximum_jobs} jobs")
        threads = self.cores // self.processes
        return (f"SLURMCluster, {jobs} x {self.processes} worker{'s' * (self.processes > 1)} "
                f"x {threads} thread{'s' * (threads > 1)}")


def parse_cluster_config(table: Mapping[str, Any], source: str = "[cluster]") -> ClusterConfig:
    """Check a ``[cluster]`` table (see docs/cluster.md) and normalise it.

    Args:
        table: The table's keys and values.
        source: Where it came from, prefixed to every message (a file, ``SPEC: cluster``).

    Returns:
        The validated configuration.

    Raises:
        Refusal: naming the key, the value and what is allowed.
    """
    if not isinstance(table, Mapping):
        raise Refusal("error.cluster_table", at=source, value=table)
    values: dict[str, Any] = {}
    for key, value in table.items():
        check = CLUSTER_KEYS.get(key)
        if check is None:
            raise Refusal("error.unknown_key", at=source, key=key, where="[cluster]",
                          hint=did_you_mean(key, CLUSTER_KEYS, 0.5),
                          allowed=", ".join(CLUSTER_KEYS))
        try:
            values[key] = check(value)
        except Refusal as err:
            raise Refusal.within(f"{source}: {key}", err) from None
    for key, meaning in REQUIRED_KEYS.items():
        if key not in values:
            raise Refusal("error.cluster_missing_key", at=source, key=key, what=Phrase(meaning))
    values.setdefault("processes", values["cores"])
    if values["processes"] > values["cores"]:
        raise Refusal("error.cluster_processes", at=f"{source}: processes",
                      processes=values["processes"], cores=values["cores"])
    values.setdefault("minimum_jobs", 1)
    values.setdefault("maximum_jobs", max(1, values["minimum_jobs"]))
    if values["minimum_jobs"] > values["maximum_jobs"]:
        raise Refusal("error.cluster_jobs", at=f"{source}: minimum_jobs",
                      minimum=values["minimum_jobs"], maximum=values["maximum_jobs"])
    if "lifetime_stagger" in values and "lifetime" not in values:
        raise Refusal("error.cluster_stagger_alone", at=f"{source}: lifetime_stagger")
    walltime = values.get("walltime", ClusterConfig.walltime)
    if "lifetime" in values:
        retire = _duration_seconds(values["lifetime"])
        if "lifetime_stagger" in values:
            retire += _duration_seconds(values["lifetime_stagger"])
        if retire >= walltime_seconds(walltime):
            raise Refusal("error.cluster_lifetime", at=f"{source}: lifetime",
                          lifetime=values["lifetime"],
                          stagger=values.get("lifetime_stagger", "0s"), walltime=walltime)
    return ClusterConfig(source=source, **values)


def load_cluster_config(path: str | Path) -> ClusterConfig:
    """Read a ``--cluster-config`` file.

    The file holds the keys of :data:`CLUSTER_KEYS`, at its top level or under ``[cluster]``
    (so that a spec's table can be copied as it is).

    Raises:
        Refusal: for a missing or unreadable file, bad TOML, or a bad key.
    """
    data = read_toml(path, Phrase("phrase.cluster_file"))
    if set(data) == {"cluster"}:
        data = data["cluster"]
    return parse_cluster_config(data, source=str(path))


# ---------------------------------------------------------------------------- the cluster
WORKER_PRELOAD = "village_sim.sweep.dask_plugin"
"""The nanny preload that gives each job's workers the engine's environment (no
``MALLOC_TRIM_THRESHOLD_``, BLAS pinned): :func:`village_sim.sweep.dask_plugin.dask_setup`."""


def dask_config_exports(settings: Mapping[str, Any]) -> list[str]:
    """Shell lines that set Dask configuration ``settings`` in a job (``DASK_*`` variables).

    ``{"distributed.admin.tick.interval": "1s"}`` gives
    ``export DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=1s``; Dask reads the variable when the
    worker starts (hyphens become underscores, which Dask matches to the hyphenated key).
    """
    lines = []
    for key, value in settings.items():
        name = "DASK_" + "__".join(part.replace("-", "_").upper() for part in key.split("."))
        lines.append(f"export {name}={shlex.quote(str(value))}")
    return lines


def cluster_kwargs(config: ClusterConfig) -> dict[str, Any]:
    """The keyword arguments of ``dask_jobqueue.SLURMCluster`` for ``config``.

    Each job's workers run as the local Dask engine's do: the nanny preload
    :data:`WORKER_PRELOAD` drops Dask's ``MALLOC_TRIM_THRESHOLD_`` and pins BLAS, and the
    job exports :data:`~village_sim.sweep.engines.QUIET_CLUSTER` (before the table's own
    ``job_script_prologue``, which can override it).
    """
    worker_args: list[str] = ["--preload-nanny", WORKER_PRELOAD]
    if config.lifetime:
        worker_args += ["--lifetime", config.lifetime]
        if config.lifetime_stagger:
            worker_args += ["--lifetime-stagger", config.lifetime_stagger]
    kwargs: dict[str, Any] = {
        "cores": config.cores,
        "processes": config.processes,
        "memory": config.memory,
        "walltime": config.walltime,
        "job_extra_directives": list(config.job_extra_directives),
        "job_script_prologue": [*dask_config_exports(QUIET_CLUSTER),
                                *config.job_script_prologue],
        "worker_extra_args": worker_args,
        "death_timeout": config.death_timeout,
        "name": "village-sim",
        # no dashboard on 8787, which another cluster may hold
        "scheduler_options": {"dashboard_address": ":0"},
    }
    optional = {"queue": config.queue, "account": config.account,
                "interface": config.interface, "local_directory": config.local_directory,
                "log_directory": config.log_directory}
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    return kwargs


def start_slurm_cluster(config: ClusterConfig) -> Any:
    """A ``SLURMCluster`` for ``config``, its job count kept by ``adapt`` (not ``scale``).

    Raises:
        Refusal: if dask-jobqueue is not installed.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise Refusal("error.cluster_needs_jobqueue") from None
    cluster = SLURMCluster(**cluster_kwargs(config))
    try:
        # adapt, not scale: scale(n) does not resubmit a job that ended; adapt does
        cluster.adapt(minimum_jobs=config.minimum_jobs, maximum_jobs=config.maximum_jobs)
    except BaseException:
        cluster.close()
        raise
    return cluster


JOB_CHECK_SECONDS = 10.0
"""How often :class:`SlurmEngine` looks in ``squeue`` for jobs that ended before connecting."""


def queued_job_ids() -> set[str] | None:
    """Ids of this user's jobs in the SLURM queue (pending or running), or None if unknown."""
    try:
        done = subprocess.run(["squeue", "--noheader", "--format=%i", "--user",
                               getpass.getuser()], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode:
        return None
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


class SlurmEngine(DaskEngine):
    """The Dask engine on a ``SLURMCluster`` that this engine starts and stops.

    Args:
        config: The cluster.
        max_in_flight: Runs submitted but not yet collected (default: twice the cluster's
            threads, at least 4, followed as jobs start and end).
        connect_timeout: Seconds to wait for the cluster's scheduler.
    """

    name = "slurm"

    def __init__(self, config: ClusterConfig, max_in_flight: int | None = None,
                 connect_timeout: float = 10.0):
        super().__init__(config.maximum_jobs * config.processes, None, max_in_flight,
                         connect_timeout)
        self.config = config
        self.slurm: Any = None
        self._connected_jobs: set[str] = set()
        self._stop_watch = threading.Event()
        self._watch: threading.Thread | None = None

    def __enter__(self) -> SlurmEngine:
        import dask
        import distributed  # noqa: F401 - its config defaults first, or leaving the set below
        # would remove the whole "distributed" section that importing dask_jobqueue added

        with dask.config.set(QUIET_CLUSTER):  # the scheduler, here in the client
            self.slurm = start_slurm_cluster(self.config)
        self.scheduler = self.slurm.scheduler_address
        try:
            super().__enter__()
        except BaseException:
            self.slurm.close()
            raise
        self.description = f"slurm ({self.config.describe()})"
        self._watch = threading.Thread(target=self._watch_jobs, name="village-sim squeue",
                                       daemon=True)
        self._watch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_watch.set()
        try:
            super().__exit__(*exc)
        finally:
            if self._watch is not None:
                self._watch.join(timeout=JOB_CHECK_SECONDS)
            if self.slurm is not None:
                self.slurm.close()  # cancels the jobs (scancel)

    def _watch_jobs(self) -> None:
        while not self._stop_watch.wait(JOB_CHECK_SECONDS):
            with contextlib.suppress(Exception):  # a check that fails is tried again later
                self.replace_jobs_that_never_connected()

    def replace_jobs_that_never_connected(self) -> list[str]:
        """Have the cluster resubmit the jobs that left the queue before a worker connected.

        A job whose worker connected is left alone: when it ends, its workers leave the
        scheduler and Dask replaces it (``distributed.deploy.lost-worker-timeout`` later).

        Returns:
            The names (in the cluster) of the jobs replaced.
        """
        cluster = self.slurm
        workers = {str(info.get("name")) for info in
                   cluster.scheduler_info.get("workers", {}).values()}
        jobs = {name: getattr(job, "job_id", None) for name, job in list(cluster.workers.items())}
        for name, job_id in jobs.items():
            if job_id and any(w == str(name) or w.startswith(f"{name}-") for w in workers):
                self._connected_jobs.add(job_id)
        candidates = {name: job_id for name, job_id in jobs.items()
                      if job_id and job_id not in self._connected_jobs}
        if not candidates:
            return []
        queued = queued_job_ids()
        if queued is None:
            return []  # squeue did not answer: nothing is known, nothing is changed
        ended = [name for name, job_id in candidates.items() if job_id not in queued]
        if ended:
            cluster.sync(self._resubmit, ended)
        return ended

    async def _resubmit(self, names: list[str]) -> None:
        for name in names:
            self.slurm.workers.pop(name, None)  # still planned: _correct_state starts it again
        await self.slurm._correct_state()
