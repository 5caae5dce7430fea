"""Compaction of a sweep directory: finished runs moved from per-run files into Parquet parts.

A sweep writes each finished run to its own files first (``runs/<run_id>.parquet``,
``panels/<run_id>.parquet``, ``records/<run_id>.json``; :mod:`village_sim.sweep.store`): a run
is durable the moment it comes back, and resume is exact. On a shared cluster file system
(Lustre, GPFS) 100,000 runs would then be 300,000 small files, each a metadata operation to
create, list and open. Compaction moves finished runs, a part of up to a few thousand runs (or
64 MiB) at a time, into one *part set* ``parts/<kind>/part-<seq>.parquet`` per table kind plus
``parts/records/part-<seq>.parquet``, and removes the per-run files it replaced. A sweep of
100,000 runs then leaves about 50 part sets.

**Generic over table kinds.** A *table kind* is any folder of the sweep directory holding
``<run_id>.parquet`` files, one per run (``runs``, ``panels`` today; the county's
village-by-year tables later): :func:`table_kinds` finds them on disk, so a new kind needs no
new code here, in the readers (:func:`read_kind`) or in ``village-sim sweep compact``.

**Crash safety, the same rule as for a run.** A part set is written in the order data parts,
then the records part, each to a temporary name, fsynced, renamed and its folder fsynced; the
records part is the commit mark of the part set (as ``records/<run_id>.json`` is of a run). Only
then are the per-run files removed, the record first, so that a per-run record never outlives
its data. A kill at any moment leaves, at worst:

* data parts without their records part: ignored by every reader and removed by the next
  compaction (the per-run files are all still there);
* a committed part set and some of its runs still in per-run files: identical copies. Readers
  take each run once; the next compaction removes the copies without storing them again.

**One compaction at a time.** A compaction holds an exclusive ``flock`` on ``parts/.lock``
(released by the kernel when its process dies), so a sweep and ``village-sim sweep compact``
on the same directory compact one after the other; on a file system without ``flock`` (Lustre
mounted without ``-o flock``) there is no lock, and only one process may write the directory.

**Which copy counts.** A run's results are those of its per-run record if it has one (a run
retried with ``--retry-failed`` after its failure was compacted), else those of the newest
committed part set holding it. Every reader goes through :func:`run_index`, so a run id is
read exactly once, whichever mix of parts and per-run files the directory holds.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "BYTES_PER_PART",
    "PARTS",
    "RECORDS",
    "RUNS_PER_PART",
    "CompactionResult",
    "RunIndex",
    "compact",
    "iter_records",
    "read_kind",
    "remove_uncommitted_parts",
    "run_index",
    "statuses",
    "table_kinds",
]

RECORDS = "records"
PARTS = "parts"
NOT_KINDS = frozenset({RECORDS, PARTS, "report"})
"""Folders of a sweep directory that are not table kinds (``report/`` holds figures, CSV)."""

RUNS_PER_PART = 2000
"""At most this many runs per part set (a sweep compacts as soon as it holds this many)."""
BYTES_PER_PART = 64 * 2**20
"""... or at most this many bytes of per-run files (Parquet, compressed) per part set."""
ROW_GROUP_ROWS = 128 * 1024
"""Rows per Parquet row group of a data part (a few MiB: readers skip groups by statistics)."""

FILES_PER_READ = 256
"""Per-run files read together while a part is written."""

_PART_PREFIX = "part-"


def _part_name(seq: int) -> str:
    return f"{_PART_PREFIX}{seq:06d}.parquet"


def _part_seq(path: Path) -> int | None:
    stem = path.name.removesuffix(".parquet")
    if not stem.startswith(_PART_PREFIX) or not stem[len(_PART_PREFIX):].isdigit():
        return None
    return int(stem[len(_PART_PREFIX):])


def table_kinds(root: str | Path) -> list[str]:
    """The per-run table kinds of a sweep directory: folders of ``<run_id>.parquet`` files.

    Found on disk (in the directory and under ``parts/``), so a new kind needs no code.
    """
    root = Path(root)
    kinds: set[str] = set()
    for base in (root, root / PARTS):
        if base.is_dir():
            kinds.update(p.name for p in base.iterdir()
                         if p.is_dir() and not p.name.startswith(".")
                         and p.name not in NOT_KINDS and next(p.glob("*.parquet"), None))
    return sorted(kinds)


def _committed_parts(root: Path) -> dict[int, Path]:
    """Seq -> records part of every committed part set."""
    folder = root / PARTS / RECORDS
    if not folder.is_dir():
        return {}
    found = {_part_seq(p): p for p in folder.glob(f"{_PART_PREFIX}*.parquet")}
    return {seq: path for seq, path in sorted(found.items()) if seq is not None}


@dataclass
class RunIndex:
    """Where each stored run's results are.

    Attributes:
        loose: Run ids with a per-run record (``records/<run_id>.json``): read there.
        part_of: Run id -> seq of the newest committed part set holding it (runs in
            ``loose`` included: their per-run files take precedence).
        parts: Seq -> records part of every committed part set, in order.
    """

    loose: set[str] = field(default_factory=set)
    part_of: dict[str, int] = field(default_factory=dict)
    parts: dict[int, Path] = field(default_factory=dict)

    def source(self, run_id: str) -> int | None:
        """``None``: the per-run files; else the part set's seq (``KeyError``: not stored)."""
        if run_id in self.loose:
            return None
        return self.part_of[run_id]

    def in_part(self, seq: int) -> set[str]:
        """The runs read from part set ``seq``."""
        return {rid for rid, s in self.part_of.items() if s == seq and rid not in self.loose}


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Hold the directory's compaction lock (wait for another compaction to end)."""
    import fcntl

    folder = root / PARTS
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass  # no flock on this file system: one writer at a time (module docstring)
        yield
    finally:
        os.close(fd)  # releases the lock


def run_index(root: str | Path) -> RunIndex:
    """Index the stored runs of a sweep directory (reads run ids only)."""
    import pyarrow.parquet as pq

    root = Path(root)
    index = RunIndex(parts=_committed_parts(root))
    records = root / RECORDS
    if records.is_dir():
        index.loose = {p.stem for p in records.glob("*.json")}
    for seq, path in index.parts.items():
        for rid in pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist():
            index.part_of[rid] = seq
    return index


def statuses(root: str | Path) -> dict[str, str]:
    """Run id -> status (``"ok"``/``"failed"``) of every committed run, each run once.

    Per-run records are read before the parts are listed: a record that a compaction removes
    meanwhile is in a part committed before the removal, so it is listed.
    """
    import pyarrow.parquet as pq

    root = Path(root)
    loose: dict[str, str | None] = {}
    records = root / RECORDS
    for path in records.glob("*.json") if records.is_dir() else ():
        try:
            loose[path.stem] = json.loads(path.read_text(encoding="utf-8"))["status"]
        except FileNotFoundError:
            continue  # compacted meanwhile
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            loose[path.stem] = None  # unreadable record: the run counts as missing
    out: dict[str, str] = {}
    for path in _committed_parts(root).values():  # in order: a newer part set wins
        table = pq.read_table(path, columns=["run_id", "status"])
        out.update(zip(table.column("run_id").to_pylist(), table.column("status").to_pylist(),
                       strict=True))
    for rid, status in loose.items():  # a per-run record wins over the parts
        if status is None:
            out.pop(rid, None)
        else:
            out[rid] = status
    return out


def _loose_records(root: Path, known: set[int]) -> Iterator[tuple[str, tuple[int, int], str]]:
    folder = root / RECORDS
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        text: str | None
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:  # compacted meanwhile: into a part set listed after ours
            text = _record_in_new_parts(root, path.stem, known)
        except OSError:
            continue
        if text is not None:
            yield path.stem, (0, 0), text


def _record_in_new_parts(root: Path, rid: str, known: set[int]) -> str | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for seq, path in sorted(_committed_parts(root).items(), reverse=True):
        if seq not in known:
            table = pq.read_table(path, columns=["run_id", "record"])
            found = table.filter(pc.equal(table.column("run_id"), rid))
            if found.num_rows:
                return str(found.column("record")[0].as_py())
    return None


def _part_records(path: Path, seq: int) -> Iterator[tuple[str, tuple[int, int], str]]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as part:
        for batch in part.iter_batches(batch_size=1024, columns=["run_id", "record"]):
            for rid, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(),
                                 strict=True):
                yield rid, (1, -seq), text


def iter_records(root: str | Path) -> Iterator[tuple[str, str]]:
    """``(run_id, record JSON)`` of every stored run, each once, sorted by run id (streamed).

    A merge of the per-run records and the records parts (each sorted by run id): memory holds
    one batch per part, not the records.
    """
    root = Path(root)
    parts = _committed_parts(root)
    sources = [_loose_records(root, set(parts))]
    sources += [_part_records(path, seq) for seq, path in parts.items()]
    last = None
    for rid, _, text in heapq.merge(*sources, key=lambda item: (item[0], item[1])):
        if rid != last:  # the first of equal run ids is the one that counts
            last = rid
            yield rid, text


def read_kind(root: str | Path, kind: str, runs: set[str] | None = None,
              uncommitted: bool = False) -> pa.Table | None:
    """One table kind (``runs``, ``panels``, ...) of the stored runs, each run once.

    Args:
        root: The sweep directory.
        kind: The table kind (a folder name, see :func:`table_kinds`).
        runs: Only these run ids (default: every committed run).
        uncommitted: Also per-run files that have no record and are in no part (a run killed
            between its files).

    Returns:
        The rows, unsorted (per-run files first, then each part), or ``None`` if there are none.
    """
    root = Path(root)
    for attempt in range(3):  # a compaction may remove per-run files while this reads them
        try:
            return _read_kind(root, kind, runs, uncommitted)
        except FileNotFoundError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _read_kind(root: Path, kind: str, runs: set[str] | None,
               uncommitted: bool) -> pa.Table | None:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    index = run_index(root)
    tables: list[pa.Table] = []
    folder = root / kind
    if folder.is_dir():
        files = []
        for path in sorted(folder.glob("*.parquet")):
            rid = path.stem
            stored = rid in index.loose or (uncommitted and rid not in index.part_of)
            if stored and (runs is None or rid in runs):
                files.append(str(path))
        if files:
            tables.append(ds.dataset(files, format="parquet").to_table())
    for seq in index.parts:
        path = root / PARTS / kind / _part_name(seq)
        wanted = index.in_part(seq)
        if runs is not None:
            wanted &= runs
        if wanted and path.is_file():
            table = pq.read_table(path)
            if len(wanted) < table.num_rows:  # a part may hold runs another source shadows
                import pyarrow.compute as pc

                table = table.filter(pc.is_in(table.column("run_id"),
                                              value_set=pa.array(sorted(wanted), pa.string())))
            tables.append(table)
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


# ---------------------------------------------------------------------------- writing parts
def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns, in order, cast (a missing column is all null)."""
    import pyarrow as pa

    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _write_durably(path: Path, tables: Iterable[pa.Table], schema: pa.Schema) -> None:
    """Write ``tables`` into one Parquet file: temporary name, fsync, rename, fsync folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from village_sim.experiment import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            buffer: list[pa.Table] = []
            rows = 0
            for table in tables:
                buffer.append(_conform(table, schema))
                rows += table.num_rows
                if rows >= ROW_GROUP_ROWS:  # one row group per write, not one per run
                    writer.write_table(pa.concat_tables(buffer), row_group_size=ROW_GROUP_ROWS)
                    buffer, rows = [], 0
            if buffer:
                writer.write_table(pa.concat_tables(buffer), row_group_size=ROW_GROUP_ROWS)
        _fsync(tmp)
    _fsync(path.parent)


def _write_kind_part(path: Path, files: list[Path]) -> None:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")

    def tables() -> Iterator[pa.Table]:  # a few hundred files per read: threads, bounded memory
        for start in range(0, len(files), FILES_PER_READ):
            group = [str(f) for f in files[start:start + FILES_PER_READ]]
            yield ds.dataset(group, schema=schema, format="parquet").to_table()

    _write_durably(path, tables(), schema)


def _write_records_part(path: Path, records: list[tuple[str, str]]) -> None:
    import pyarrow as pa

    schema = pa.schema([pa.field("run_id", pa.string()), pa.field("status", pa.string()),
                        pa.field("record", pa.string())])
    status = [json.loads(text).get("status") for _, text in records]
    table = pa.Table.from_arrays([pa.array([rid for rid, _ in records], pa.string()),
                                  pa.array(status, pa.string()),
                                  pa.array([text for _, text in records], pa.string())],
                                 schema=schema)
    _write_durably(path, [table], schema)


def remove_uncommitted_parts(root: str | Path) -> int:
    """Remove data parts whose part set has no records part (a compaction was killed).

    Their runs are still in per-run files. Also removes temporary files under ``parts/``.
    Call it holding the compaction lock (:func:`compact` does). Returns how many files were
    removed.
    """
    root = Path(root)
    committed = _committed_parts(root)
    removed = 0
    base = root / PARTS
    for folder in [p for p in base.iterdir() if p.is_dir()] if base.is_dir() else []:
        for path in folder.iterdir():
            seq = _part_seq(path)
            stale = path.name.startswith(".") and path.name.endswith(".tmp")
            if stale or (folder.name != RECORDS and seq is not None and seq not in committed):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _remove(path: Path) -> bool:
    from village_sim.outputs import write_point

    if not path.exists():
        return False
    write_point(f"remove {path.parent.name}/{path.name}")
    path.unlink(missing_ok=True)
    return True


@dataclass
class CompactionResult:
    """What one compaction did.

    Attributes:
        parts: Part sets written.
        runs: Runs moved into them.
        files_removed: Per-run files removed (moved runs, and copies already in a part).
        files_before: Files in the sweep directory before (recursively).
        files_after: ... and after.
    """

    parts: int = 0
    runs: int = 0
    files_removed: int = 0
    files_before: int = 0
    files_after: int = 0


def _count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def _loose_size(root: Path, kinds: list[str], rid: str) -> int:
    size = 0
    for path in [root / RECORDS / f"{rid}.json", *(root / k / f"{rid}.parquet" for k in kinds)]:
        try:
            size += path.stat().st_size
        except OSError:
            pass
    return size


def compact(root: str | Path, runs_per_part: int = RUNS_PER_PART,
            bytes_per_part: int = BYTES_PER_PART, count_files: bool = False) -> CompactionResult:
    """Move every run stored in per-run files into part sets; remove the files they replace.

    Idempotent, and safe to kill at any moment and run again (module docstring): no run is
    lost or stored twice. Every table kind on disk is compacted (:func:`table_kinds`).
    Compactions of one directory take turns (a lock, module docstring).

    Args:
        root: The sweep directory.
        runs_per_part: At most this many runs per part set.
        bytes_per_part: ... and at most this many bytes of per-run files.
        count_files: Count the directory's files before and after (a walk of the folder).

    Returns:
        What was done.
    """
    root = Path(root)
    result = CompactionResult(files_before=_count_files(root) if count_files else 0)
    with _locked(root):
        _compact(root, runs_per_part, bytes_per_part, result)
    if count_files:
        result.files_after = _count_files(root)
    return result


def _compact(root: Path, runs_per_part: int, bytes_per_part: int,
             result: CompactionResult) -> None:
    import pyarrow.parquet as pq

    remove_uncommitted_parts(root)
    kinds = table_kinds(root)
    index = run_index(root)
    # copies of runs already in a part set (a compaction killed while removing files): the
    # same record text means the same run; remove them without storing them again
    shadowing = sorted(index.loose & index.part_of.keys())
    in_part: dict[str, str] = {}
    if shadowing:
        wanted = set(shadowing)
        for seq, path in index.parts.items():
            table = pq.read_table(path, columns=["run_id", "record"])
            for rid, text in zip(table.column("run_id").to_pylist(),
                                 table.column("record").to_pylist(), strict=True):
                if rid in wanted and index.part_of[rid] == seq:
                    in_part[rid] = text
    to_move: list[tuple[str, str]] = []
    for rid in sorted(index.loose):
        try:
            text = (root / RECORDS / f"{rid}.json").read_text(encoding="utf-8")
        except OSError:
            continue
        if in_part.get(rid) == text:
            result.files_removed += _remove_run_files(root, kinds, rid)
        else:
            to_move.append((rid, text))
    seq = max(index.parts, default=0)
    start = 0
    while start < len(to_move):
        end, size = start, 0
        while end < len(to_move) and end - start < runs_per_part and (
                end == start or size < bytes_per_part):
            size += _loose_size(root, kinds, to_move[end][0])
            end += 1
        chunk = to_move[start:end]
        seq += 1
        for kind in kinds:  # data parts first ...
            files = [root / kind / f"{rid}.parquet" for rid, _ in chunk]
            files = [f for f in files if f.is_file()]
            if files:
                _write_kind_part(root / PARTS / kind / _part_name(seq), files)
        _write_records_part(root / PARTS / RECORDS / _part_name(seq), chunk)  # ... the mark
        for rid, _ in chunk:  # only now, the record first
            result.files_removed += _remove_run_files(root, kinds, rid)
        result.parts += 1
        result.runs += len(chunk)
        start = end
    # per-run data without a record, of a run a part holds, older than that part: a copy left
    # by a killed compaction (a newer file is a retry being written: left alone)
    for kind in kinds:
        folder = root / kind
        for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else ():
            holder = index.part_of.get(path.stem)
            if holder is None or (root / RECORDS / f"{path.stem}.json").exists():
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime_ns <= index.parts[holder].stat().st_mtime_ns:
                    result.files_removed += _remove(path)


def _remove_run_files(root: Path, kinds: list[str], rid: str) -> int:
    removed = int(_remove(root / RECORDS / f"{rid}.json"))
    for kind in kinds:
        removed += _remove(root / kind / f"{rid}.parquet")
    return removed
