"""A one-node SLURM cluster for the tests: munged, slurmctld and slurmd started by hand.

Debian's ``munge``, ``slurmctld``, ``slurmd`` and ``slurm-client`` packages (SLURM 22.05) are
all it takes; nothing is installed here. :func:`start_slurm` writes a ``slurm.conf`` under a
fresh folder, starts a private ``munged`` (its own socket, as the ``munge`` user, with the
machine's key or one it makes), then ``slurmctld -c`` and ``slurmd``, and waits until ``sinfo``
shows the node ``idle``; :meth:`LocalSlurm.stop` cancels every job and stops the daemons by
their PID files. ``SLURM_CONF`` points the commands (``sbatch``, ``squeue`` …, and so
dask-jobqueue) at this cluster.

The node line is the machine's own (``slurmd -C``): a node that claims more CPUs or memory
than it has is set ``inval``/``drained``. Ports are free ones, so another SLURM on the machine
is not disturbed. Needs root (``SlurmUser=root``; ``munged`` is started as ``munge``).

Without SLURM the tests skip, saying why; with ``REQUIRE_SLURM=1`` (set by ``.ci/run``) a
missing SLURM is a failure. docs/cluster.md describes the packages and the configuration.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from required import unavailable

DAEMONS = ("munged", "slurmctld", "slurmd")
COMMANDS = ("sinfo", "squeue", "sbatch", "scancel", "scontrol")
PARTITION = "debug"

SLURM_CONF = """\
# a one-node SLURM for the tests (tests/slurm_cluster.py; docs/cluster.md)
ClusterName=villagesim
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=2
KillWait=5
Waittime=0
{node_line} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName={partition} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


class SlurmUnavailable(RuntimeError):
    """SLURM cannot run here (a package missing, not root, a daemon that did not start)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing_programs() -> list[str]:
    """SLURM and munge programs not found (``munged``, ``slurmctld`` … ``scontrol``)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [p for p in (*DAEMONS, *COMMANDS) if shutil.which(p, path=path) is None]


@dataclass
class LocalSlurm:
    """A running one-node SLURM.

    Attributes:
        root: Its folder: ``slurm.conf``, state, spool, PID files and logs.
        conf: The ``slurm.conf`` (``SLURM_CONF``).
        node: The node's name.
        partition: The partition (queue) name.
    """

    root: Path
    conf: Path
    node: str
    partition: str = PARTITION
    pid_files: list[Path] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """This process's environment with ``SLURM_CONF`` set."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *args: str, check: bool = True) -> str:
        """Run a SLURM command (``squeue``, ``scontrol`` …) on this cluster; its stdout."""
        done = subprocess.run(args, env=self.env(), capture_output=True, text=True, timeout=30,
                              check=False)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(args)}: exit {done.returncode}: {done.stderr}")
        return done.stdout

    def jobs(self) -> list[tuple[str, str, str]]:
        """``(job id, name, state)`` of every job in the queue."""
        out = self.run("squeue", "--noheader", "--format=%i %j %T")
        return [tuple(line.split()) for line in out.splitlines() if line.strip()]  # type: ignore[misc]

    def node_state(self) -> str:
        """The node's state as ``sinfo`` prints it (``idle``, ``mix``, ``alloc``, ``down*`` …)."""
        return self.run("sinfo", "--noheader", "--format=%T", "--nodes", self.node,
                        check=False).strip()

    def cancel_all(self) -> None:
        """Cancel every job and wait (up to 30 s) until the queue is empty."""
        self.run("scancel", "--full", "--partition", self.partition, check=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if not self.jobs():
                    return
            except RuntimeError:
                return
            time.sleep(0.3)

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the node is ``idle`` (resuming it if it was drained)."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.node_state()
            if state == "idle":
                return
            if state.startswith(("drain", "inval", "down")) and not state.endswith("*"):
                self.run("scontrol", "update", f"nodename={self.node}", "state=resume",
                         check=False)
            time.sleep(0.2)
        raise SlurmUnavailable(f"node {self.node} not idle after {timeout:g} s (state "
                               f"{state!r}); logs in {self.root}")

    def stop(self) -> None:
        """Cancel the jobs, then stop slurmd, slurmctld and munged by their PID files."""
        with contextlib.suppress(Exception):
            self.cancel_all()
        for pid_file in reversed(self.pid_files):
            _stop_by_pid_file(pid_file)


def _stop_by_pid_file(pid_file: Path, timeout: float = 15.0) -> None:
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _wait_for_file(path: Path, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise SlurmUnavailable(f"{what} did not start within {timeout:g} s: {tail}")
        time.sleep(0.05)


def _daemon(args: list[str], root: Path, name: str) -> None:
    """Start a daemon that forks into the background; its output goes to ``root/name.out``."""
    with (root / f"{name}.out").open("wb") as out:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=60,
                              check=False,
                              env={**os.environ, "SLURM_CONF": str(root / "slurm.conf")})
    if done.returncode:
        raise SlurmUnavailable(f"{' '.join(args)} exited {done.returncode}: "
                               f"{(root / f'{name}.out').read_text(errors='replace')[-2000:]}")


def _node_line() -> tuple[str, str]:
    """The node line ``slurmd -C`` prints (this machine's CPUs and memory), and the name."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    line = out.splitlines()[0].strip()
    node = line.split()[0].removeprefix("NodeName=")
    return line, node


def start_slurm(base: Path | None = None) -> LocalSlurm:
    """Start a one-node SLURM (see the module docstring) and wait until its node is idle.

    Args:
        base: Folder to create the cluster's folder in (default: the system's temp folder;
            it must be traversable by the ``munge`` user, so not pytest's 0700 folders).

    Raises:
        SlurmUnavailable: if a program is missing, this is not root, or a daemon fails.
    """
    missing = missing_programs()
    if missing:
        raise SlurmUnavailable(f"not installed: {', '.join(missing)} (Debian: apt-get install "
                               "munge slurmctld slurmd slurm-client)")
    if os.geteuid() != 0:
        raise SlurmUnavailable("the test SLURM runs its daemons as root (SlurmUser=root)")
    munge_user = pwd.getpwnam("munge")
    root = Path(tempfile.mkdtemp(prefix="village-sim-slurm-", dir=base))
    root.chmod(0o755)  # munged (as munge) reaches its socket folder through it
    slurm = LocalSlurm(root=root, conf=root / "slurm.conf", node="")
    try:
        # -- munge: a private daemon and socket, the machine's key (or a new one)
        munge_dir = root / "munge"
        munge_dir.mkdir(mode=0o755)
        key = Path("/etc/munge/munge.key")
        if not key.is_file():
            key = munge_dir / "munge.key"
            key.write_bytes(os.urandom(128))
            key.chmod(0o600)
        os.chown(munge_dir, munge_user.pw_uid, munge_user.pw_gid)
        if key.parent == munge_dir:
            os.chown(key, munge_user.pw_uid, munge_user.pw_gid)
        socket_path = munge_dir / "munge.socket"
        munge_pid = munge_dir / "munged.pid"
        slurm.pid_files.append(munge_pid)
        _daemon(["runuser", "-u", "munge", "--", "munged", f"--socket={socket_path}",
                 f"--key-file={key}", f"--pid-file={munge_pid}",
                 f"--seed-file={munge_dir / 'munged.seed'}",
                 f"--log-file={munge_dir / 'munged.log'}"], root, "munged")
        _wait_for_file(munge_pid, 15, "munged", munge_dir / "munged.log")

        # -- slurm.conf, then slurmctld (-c: no state from a previous run) and slurmd
        node_line, node = _node_line()
        slurm.node = node
        for sub in ("state", "spool"):
            (root / sub).mkdir()
        slurm.conf.write_text(SLURM_CONF.format(
            host=socket.gethostname(), ctld_port=_free_port(), slurmd_port=_free_port(),
            munge_socket=socket_path, root=root, node_line=node_line, node=node,
            partition=PARTITION))
        slurm.pid_files.append(root / "slurmctld.pid")
        _daemon(["slurmctld", "-c", "-f", str(slurm.conf)], root, "slurmctld")
        _wait_for_file(root / "slurmctld.pid", 30, "slurmctld", root / "slurmctld.log")
        slurm.pid_files.append(root / "slurmd.pid")
        _daemon(["slurmd", "-f", str(slurm.conf)], root, "slurmd")
        _wait_for_file(root / "slurmd.pid", 30, "slurmd", root / "slurmd.log")
        slurm.wait_idle()
    except BaseException:
        slurm.stop()
        raise
    return slurm


def _unavailable(reason: str) -> None:
    unavailable("REQUIRE_SLURM", "SLURM", reason,
                "apt-get install munge slurmctld slurmd slurm-client")


@pytest.fixture(scope="session", name="slurm")
def slurm_fixture() -> Iterator[LocalSlurm]:
    """A running one-node SLURM, ``SLURM_CONF`` pointing at it, for the whole session.

    Skips (fails under ``REQUIRE_SLURM=1``) where SLURM cannot run. Stopped at the end, its
    jobs cancelled; its folder (configuration, logs) is removed unless ``KEEP_SLURM=1``.
    """
    try:
        cluster = start_slurm()
    except (SlurmUnavailable, OSError, KeyError, subprocess.SubprocessError) as err:
        _unavailable(str(err))
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        yield cluster
    finally:
        cluster.stop()
        if os.environ.get("KEEP_SLURM") != "1":
            shutil.rmtree(cluster.root, ignore_errors=True)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous


def _stop_on(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


if __name__ == "__main__":  # start one by hand: python tests/slurm_cluster.py
    # Ctrl-C, and kill (SIGTERM) too, stop the daemons; SIGINT is set explicitly because a shell
    # starts a background job with it ignored
    signal.signal(signal.SIGINT, _stop_on)
    signal.signal(signal.SIGTERM, _stop_on)
    cluster = start_slurm()
    print(f"export SLURM_CONF={cluster.conf}   # node {cluster.node} idle; Ctrl-C or kill "
          "stops it", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
