"""Where commands write results, and how: checked before any work, written whole or not at all.

Every command that writes results (``compare``, ``run``, ``calibrate``, ``handout``, ``report``,
``bundle``) goes through this module:

1. **Checked first.** :func:`prepare_folder` and :func:`prepare_file` are called before any
   simulation: an empty path, a file where a folder goes (or the reverse), a folder that cannot
   be created or written (a probe: the staging folder or a temporary file is created there),
   or a folder that already holds results without ``--overwrite`` is refused with one line
   naming the option, the path and what is allowed (:class:`OutputError`).
2. **Staged, then moved into place.** Files are written into a hidden staging folder (beside a
   new target, so the target appears in one ``rename``; inside an existing target, whose
   previous set is then swapped out with Ctrl-C held back for the few renames). A failure or
   Ctrl-C before the move removes the staging folder: the previous complete set stays, or
   there is none. The ``KeyboardInterrupt`` carries a note saying which.
3. **A set knows its files.** Each set writes ``.village-sim-output.json`` (the command, the
   version, the files); ``--overwrite`` replaces exactly such a set, and refuses a folder that
   holds anything else (so ``--out ~ --overwrite`` deletes nothing).

The write points (every staged file, and the move into place) count calls of
:func:`write_point`; with the environment variable ``VILLAGE_SIM_INTERRUPT_AT=k`` the k-th
raises ``KeyboardInterrupt``, so tests interrupt a command at every write point.

No model code imports this module; it imports nothing of the package but the refusal type
(:mod:`village_sim.refusal`: its errors are said in the language of ``--lang``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from village_sim.refusal import Phrase, Refusal

__all__ = [
    "INTERRUPT_ENV",
    "MARKER",
    "OutputError",
    "OutputFile",
    "OutputSet",
    "check_folder",
    "keep_swallowed_interrupts",
    "ordinary_permissions",
    "package_version",
    "raise_swallowed_interrupt",
    "prepare_file",
    "prepare_folder",
    "write_point",
]

INTERRUPT_ENV = "VILLAGE_SIM_INTERRUPT_AT"
MARKER = ".village-sim-output.json"
_STAGING = ".village-sim-partial-"
_OLD = ".village-sim-old-"
_write_points = 0


class OutputError(Refusal):
    """An output path that cannot take the results; the message names the option and path."""


def write_point(label: str) -> None:
    """Count one write point; raise ``KeyboardInterrupt`` at the k-th when the test hook asks.

    Args:
        label: What is about to be written (shown in the interrupt's message).
    """
    global _write_points
    _write_points += 1
    raise_swallowed_interrupt()
    raw = os.environ.get(INTERRUPT_ENV)
    if raw and raw.isdigit() and int(raw) == _write_points:
        raise KeyboardInterrupt(f"{INTERRUPT_ENV}={raw}: interrupted at write point "
                                f"{_write_points} ({label})")


_swallowed: list[str] = []


def keep_swallowed_interrupts() -> None:
    """Let no Ctrl-C be lost: one that lands in a finalizer is raised at the next write point.

    A ``KeyboardInterrupt`` raised while Python runs a weakref callback or ``__del__`` cannot
    propagate: Python prints "Exception ignored in ..." with a traceback and goes on, so the
    command would finish as if Ctrl-C had not been pressed. This hook (``sys.unraisablehook``)
    keeps such an interrupt, silently, and :func:`write_point` raises it, before any result is
    moved into place; other unraisable exceptions go to the previous hook.
    """
    import sys

    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type,
                                                          KeyboardInterrupt):
            _swallowed.append(repr(unraisable.object))
            return
        previous(unraisable)

    sys.unraisablehook = hook


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is a Ctrl-C, or an exception a Ctrl-C caused.

    A ``KeyboardInterrupt`` that lands while a compiled extension initialises is turned into
    another exception by the extension: a pybind11 module (matplotlib's ``_image``,
    ``ft2font``, contourpy, scipy's) raises ``ImportError("initialization failed")`` from it.
    A command interrupted during such an import was interrupted, not broken: found in CI, a
    Ctrl-C 2.7 s into ``compare`` ended with exit 1 and a traceback (3 Ctrl-Cs in 150 landed
    there while matplotlib was imported). Follows ``__cause__`` and ``__context__``.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def raise_swallowed_interrupt() -> None:
    """Raise the ``KeyboardInterrupt`` a finalizer swallowed since the last call, if any."""
    if _swallowed:
        _swallowed.clear()
        raise KeyboardInterrupt


def reset_write_points() -> None:
    """Start counting write points from 0 again (each command run counts its own)."""
    global _write_points
    _write_points = 0


# ---------------------------------------------------------------------------- checks
def _check_text(out: str | os.PathLike[str], option: str) -> Path:
    text = os.fspath(out)
    if not text.strip():
        raise OutputError("error.out_empty", at=option, value=text)
    return Path(text).expanduser()


def _nearest_existing(path: Path) -> Path:
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _creatable_parent(path: Path, option: str) -> None:
    """Create ``path``'s parent folders, or raise naming the first that is in the way."""
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise OutputError("error.out_file_in_the_way", at=option, path=str(path),
                          existing=str(existing))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError("error.out_cannot_create", at=option, path=str(path.parent),
                          reason=err.strerror or err) from None


def _probe_writable(folder: Path, option: str, what: Phrase) -> None:
    try:
        fd, name = tempfile.mkstemp(prefix=".village-sim-probe-", dir=folder)
    except OSError as err:
        raise OutputError("error.out_cannot_write", at=option, folder=str(folder), what=what,
                          reason=err.strerror or err) from None
    os.close(fd)
    os.unlink(name)


def _visible_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _marker_files(folder: Path) -> list[str] | None:
    """The files a previous set in ``folder`` wrote, or ``None`` when there is no marker."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return [str(name) for name in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ordinary_permissions(path: Path) -> None:
    """Give ``path`` the mode a new file or folder gets (temporary ones are made 0600/0700)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP for the few renames that swap a set in."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def check_folder(out: str | os.PathLike[str], option: str = "--out") -> Path:
    """Check, without writing results, that ``out`` can be a folder of results.

    For commands that keep their own store in the folder (``sweep``): the path is not empty,
    not a file or under one, creatable, and writable (a probe file). Creates missing parent
    folders, not ``out`` itself.

    Raises:
        OutputError: naming the option, the path and the reason.
    """
    target = _check_text(out, option)
    if target.exists() and not target.is_dir():
        raise OutputError("error.out_is_a_file", at=option, path=str(target))
    if target.exists():
        _probe_writable(target, option, Phrase("phrase.the_output_folder"))
    else:
        _creatable_parent(target, option)
        _probe_writable(target.parent, option, Phrase("phrase.where_created", path=str(target)))
    return target


class _Staged:
    """What an output set and an output file share: the ``with`` block stages, then commits.

    On a clean exit the staged result is moved into place (:meth:`commit`); on an error or
    Ctrl-C it is removed (:meth:`abandon`) and the exception carries a note saying what the
    target holds now (:meth:`state`).
    """

    staging: Path
    committed: bool
    abandoned: bool

    def __enter__(self) -> Path:
        return self.staging

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if error is None:
            try:
                self.commit()
            except BaseException as late:  # before the move, or a Ctrl-C held back during it
                self.abandon()
                late.add_note(self.state())
                raise
            return
        self.abandon()
        if isinstance(error, KeyboardInterrupt | Exception):
            error.add_note(self.state())

    def commit(self) -> None:
        """Move the staged result into place (once; never after :meth:`abandon`)."""
        if self.committed or self.abandoned:
            return
        write_point("move into place")
        self._prepare()
        with _signals_held():
            self._move()
            self.committed = True

    def abandon(self) -> None:
        """Remove the staged result; the target keeps what it held."""
        if not self.committed:
            self._remove()
            self.abandoned = True

    def state(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _prepare(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _move(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _remove(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


# ---------------------------------------------------------------------------- a folder of results
@dataclass
class OutputSet(_Staged):
    """A folder of results being written: stage into :attr:`staging`, then :meth:`commit`.

    Use :func:`prepare_folder` to make one, and as a context manager::

        out = prepare_folder(args.out, "compare", option="--out")   # before any work
        ...                                                          # the work
        with out as folder:                                          # write into folder
            write_csv(df, folder / "timeseries.csv")
        print(out.target)

    Attributes:
        target: The folder the results end in.
        staging: The hidden folder they are written into first.
        replaces: Names in ``target`` the commit replaces (a previous set's files).
        command: The command line recorded in the marker.
    """

    target: Path
    staging: Path
    replaces: list[str] = field(default_factory=list)
    command: str = ""
    inside: bool = False  # the staging folder is inside target (target existed)
    committed: bool = False
    abandoned: bool = False

    def state(self) -> str:
        """A sentence saying what ``target`` holds now (for an interrupt's message)."""
        if self.committed:
            return f"the results are complete in {self.target}"
        if self.replaces:
            return f"nothing new was written: {self.target} holds its previous results, unchanged"
        return f"nothing was written to {self.target}"

    def _prepare(self) -> None:
        """Write the marker (the files of the set); give the staged folders usual modes."""
        files = sorted(p.relative_to(self.staging).as_posix()
                       for p in self.staging.rglob("*") if p.is_file())
        marker = {"command": self.command, "version": package_version(),
                  "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files}
        (self.staging / MARKER).write_text(json.dumps(marker, indent=1, ensure_ascii=False)
                                           + "\n", encoding="utf-8")
        for path in [self.staging, *self.staging.rglob("*")]:
            if path.is_dir() or path.name == MARKER:  # files came through atomic_path
                ordinary_permissions(path)

    def _move(self) -> None:
        """Replace the previous set as a whole (SIGINT, SIGTERM, SIGHUP held back)."""
        if not self.inside:
            os.rename(self.staging, self.target)
            return
        old = Path(tempfile.mkdtemp(prefix=_OLD, dir=self.target))
        for name in [*self.replaces, MARKER]:
            if (self.target / name).exists() or (self.target / name).is_symlink():
                os.rename(self.target / name, old / name.replace("/", "_"))
        for entry in self.staging.iterdir():
            os.rename(entry, self.target / entry.name)
        self.staging.rmdir()
        shutil.rmtree(old, ignore_errors=True)

    def _remove(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


@functools.cache
def package_version() -> str:
    """The installed village-sim version (``"unknown"`` from a bare source tree).

    Written into every output's marker, parameters file, report, handout and sweep manifest,
    and into every run's record of a sweep: read once per process (reading the installed
    metadata takes about a millisecond, half of a sweep client's work per stored run before it
    was kept).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("village-sim")
    except PackageNotFoundError:  # pragma: no cover - a source tree
        return "unknown"


def prepare_folder(out: str | os.PathLike[str] | None, kind: str, *, option: str = "--out",
                   overwrite: bool = False, own: Sequence[str] | None = None,
                   command: str = "", root: Path = Path("village_sim_output")) -> OutputSet:
    """Check a results folder before any work and create its staging folder.

    Args:
        out: The folder (``--out``), or ``None`` for ``ROOT/KIND-YYYYmmdd-HHMMSS``.
        kind: The command's name (the default folder's prefix).
        option: The option named in errors.
        overwrite: Replace a previous set of results in ``out`` (``--overwrite``).
        own: Names this command always replaces in an existing ``out`` without
            ``--overwrite`` (a sweep report's ``report.md``, ``report.html``, ``report/``);
            other entries there are left alone.
        command: The command line, recorded in the set's marker.
        root: Parent of the default folders.

    Returns:
        The output set (a context manager yielding the staging folder).

    Raises:
        OutputError: the path is empty, a file, not creatable or writable, the current folder
            or one above it, or holds results and neither ``overwrite`` nor ``own`` covers them.
    """
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = root / f"{kind}-{stamp}"
        k = 2
        while target.exists():  # two runs in the same second
            target = root / f"{kind}-{stamp}-{k}"
            k += 1
    else:
        target = _check_text(out, option)
    shown = str(target)
    if target.exists() and not target.is_dir():
        raise OutputError("error.out_is_a_file_not_results", at=option, path=shown)
    here = Path.cwd().resolve()
    if own is None and target.exists() and (target.resolve() == here
                                             or target.resolve() in here.parents):
        raise OutputError("error.out_is_here", at=option, path=shown)
    if not target.exists():
        _creatable_parent(target, option)
        try:
            staging = Path(tempfile.mkdtemp(prefix=_STAGING + target.name + "-",
                                            dir=target.parent))
        except OSError as err:
            raise OutputError("error.out_cannot_write_new", at=option,
                              folder=str(target.parent), path=shown,
                              reason=err.strerror or err) from None
        return OutputSet(target, staging, command=command)

    _probe_writable(target, option, Phrase("phrase.the_results_folder"))
    if own is not None:  # a command's own entries beside other things (a sweep's report)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=target))
        return OutputSet(target, staging, replaces=list(own), command=command, inside=True)
    previous = _marker_files(target)
    visible = _visible_entries(target)
    if visible:
        ours = {name.split("/", 1)[0] for name in previous or []}
        foreign = [n for n in visible if n not in ours]
        if foreign:
            listed: str | Phrase = ", ".join(foreign[:3])
            if len(foreign) > 3:
                listed = Phrase("phrase.and_more", names=listed, more=len(foreign) - 3)
            raise OutputError("error.out_holds_other_files", at=option, path=shown,
                              listed=listed)
        if not overwrite:
            raise OutputError("error.out_holds_results", at=option, path=shown,
                              files=len(previous or []))
    replaces = visible
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=target))
    return OutputSet(target, staging, replaces=replaces, command=command, inside=True)


# ---------------------------------------------------------------------------- one file
@dataclass
class OutputFile(_Staged):
    """One result file being written: write to :attr:`staging`, then :meth:`commit`."""

    target: Path
    staging: Path
    existed: bool
    committed: bool = False
    abandoned: bool = False

    def state(self) -> str:
        """A sentence saying what ``target`` holds now (for an interrupt's message)."""
        if self.committed:
            return f"{self.target} is complete"
        if self.existed:
            return f"nothing new was written: {self.target} is unchanged"
        return f"nothing was written to {self.target}"

    def _prepare(self) -> None:
        ordinary_permissions(self.staging)

    def _move(self) -> None:
        os.replace(self.staging, self.target)

    def _remove(self) -> None:
        self.staging.unlink(missing_ok=True)


def prepare_file(out: str | os.PathLike[str], *, option: str = "--out",
                 overwrite: bool = False, default: bool = False) -> OutputFile:
    """Check a result file's path before any work and create its staging file beside it.

    Args:
        out: The file.
        option: The option named in errors.
        overwrite: Replace an existing file (``--overwrite``).
        default: ``out`` is the command's default name, not the user's: when it exists, the
            first free ``NAME-2.EXT``, ``NAME-3.EXT`` ... is used instead of refusing.

    Raises:
        OutputError: the path is empty, a folder, in a folder that cannot be created or
            written, or an existing file without ``overwrite``.
    """
    target = _check_text(out, option)
    shown = str(target)
    if target.is_dir():
        raise OutputError("error.out_is_a_folder", at=option, path=shown,
                          example=str(target / "handout.html"))
    if default and target.exists() and not overwrite:
        k = 2
        while target.exists():
            target = target.with_name(f"{Path(out).stem}-{k}{Path(out).suffix}")
            k += 1
    elif target.exists() and not overwrite:
        raise OutputError("error.out_exists", at=option, path=shown)
    _creatable_parent(target, option)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent)
    except OSError as err:
        raise OutputError("error.out_cannot_write_file", at=option,
                          folder=str(target.parent), reason=err.strerror or err) from None
    os.close(fd)
    return OutputFile(target, Path(name), existed=target.exists())
