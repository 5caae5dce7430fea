"""The sweep directory: a Parquet dataset written run by run, atomically, and resumable.

Layout of ``DIR`` (docs/sweeps.md, "Outputs")::

    manifest.json            spec (normalised), spec hash, package version, counts
    spec.toml                the spec file as given
    design.parquet           one row per design point (sampled designs: SALib coordinates too)
    plan.parquet             one row per (point, regime, replicate): seed and run id
    runs/<run_id>.parquet    the time series of one finished run (the Parquet dataset)
    records/<run_id>.json    the run's record: status, traceback, parameters, duration, ...
    panels/<run_id>.parquet  household panels (if the spec asks for them)
    parts/<kind>/part-<seq>.parquet   compacted runs: a part set holds up to a few thousand
                             runs of each kind (runs, panels, ...) and their records
                             (parts/records/); see :mod:`village_sim.sweep.compact`
    run_table.parquet        every record in one table (rebuilt at the end of a sweep and by
                             :func:`run_table`)
    columns.csv              what every column of these Parquet files means, with units
    report.md, report.html,  written by ``village-sim report`` (here unless --out names
    report/                  another folder)
    COMPLETE                 written last, once no planned run is missing (counts of ok and
                             failed); removed when the sweep is run again until it ends

Every file is written to a temporary name in its directory and moved into place with
``os.replace``, so a reader (or a resumed sweep) never sees half a file. A run's files are
written in the order series, panel, record: the record is the commit mark, and a run counts as
done only once its record exists. A sweep killed at any moment (``kill -9`` included) leaves
only complete runs and, at worst, a series without a record — which the resumed sweep runs
again and replaces. Runs are keyed by run id, so nothing can be stored twice.

Once a sweep holds :data:`~village_sim.sweep.compact.RUNS_PER_PART` runs (or 64 MiB) in
per-run files, :meth:`SweepStore.commit` compacts them into a part set, and the end of a sweep
compacts the rest (:meth:`SweepStore.compact`): a sweep of 100,000 runs leaves about 50 part
sets, not 300,000 files; a sweep smaller than one part keeps its per-run files. Every reader
here reads parts and per-run files alike, each run once
(:func:`~village_sim.sweep.compact.run_index`).

Atomicity holds against a killed process; against a power cut it also needs the file system
to keep the rename's order (ext4 and xfs do by default).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from village_sim.outputs import package_version
from village_sim.refusal import Refusal
from village_sim.sweep import compact as compaction
from village_sim.sweep.compact import PARTS, RECORDS
from village_sim.sweep.spec import SpecError, SweepSpec

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from village_sim.sweep.runner import RunResult, RunTask

__all__ = [
    "ENVIRONMENT_COLUMNS",
    "FORMAT",
    "REPORT_NAMES",
    "SweepDirError",
    "SweepStore",
    "compact_sweep",
    "load_panels",
    "load_timeseries",
    "run_table",
    "run_table_schema",
    "write_run_table",
]

FORMAT = 1
"""Version of the directory layout."""

MANIFEST = "manifest.json"
SPEC_COPY = "spec.toml"
RUNS = "runs"
PANELS = "panels"
RUN_TABLE = "run_table.parquet"
PLAN = "plan.parquet"
DESIGN = "design.parquet"
COMPLETE = "COMPLETE"  # written last, when every planned run is stored (ok or failed)
REPORT_DIR = "report"
REPORT_NAMES = ("report.md", "report.html", REPORT_DIR)
"""What ``village-sim report`` writes in a folder (replaced as a set; sweep/report.py)."""

ENVIRONMENT_COLUMNS = ("duration_s", "cpu_s", "started", "finished", "worker", "blas_threads")
"""Run-table columns that describe where and when a run ran, not what it computed."""


class SweepDirError(Refusal):
    """An output directory that cannot hold this sweep (another spec, not a sweep dir, ...)."""


def _write_bytes(path: Path, data: bytes) -> None:
    from village_sim.experiment import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _write_json(path: Path, obj: Any, indent: int | None = 2) -> int:
    """Write ``obj`` as JSON atomically; return the bytes written.

    ``indent=None`` writes one line, with json's C encoder (an indent turns it off): a run's
    record takes a fraction of the time that way, and a sweep client writes one per run.
    """
    text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False, default=str)
    data = (text + "\n").encode("utf-8")
    _write_bytes(path, data)
    return len(data)


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


class SweepStore:
    """Reads and writes one sweep directory (see the module docstring for the layout).

    Args:
        root: The directory.
    """

    runs_per_part: int = compaction.RUNS_PER_PART
    """Compact once this many runs are in per-run files (and at most this many per part)."""
    bytes_per_part: int = compaction.BYTES_PER_PART
    """... or once their files hold this many bytes."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs = self.root / RUNS
        self.records = self.root / RECORDS
        self.panels = self.root / PANELS
        self._pending: tuple[int, int] | None = None  # runs and bytes in per-run files

    # ------------------------------------------------------------------ opening
    @classmethod
    def check(cls, root: str | Path, spec: SweepSpec) -> SweepStore:
        """Whether ``root`` can hold ``spec``'s sweep, writing nothing (see :meth:`open`).

        Raises:
            SweepDirError: if the directory holds another spec (naming what differs), or
                exists, is not empty and is not a sweep directory.
        """
        store = cls(root)
        manifest_path = store.root / MANIFEST
        if manifest_path.is_file():
            manifest = store.manifest()
            if manifest.get("spec_hash") != spec.spec_hash:
                old = manifest.get("spec", {})
                changed = _differences({k: old.get(k) for k in spec.canonical()},
                                       spec.canonical())
                raise SweepDirError("error.sweep_of_another_spec", folder=str(store.root),
                                    name=old.get("name"), stored=manifest.get("spec_hash"),
                                    hash=spec.spec_hash, changed=", ".join(changed) or "format",
                                    copy=str(store.root / SPEC_COPY))
            return store
        if store.root.exists():
            if not store.root.is_dir():
                raise SweepDirError("error.sweep_not_a_folder", folder=str(store.root))
            if any(store.root.iterdir()):
                raise SweepDirError("error.sweep_folder_not_empty", folder=str(store.root),
                                    manifest=MANIFEST)
        return store

    @classmethod
    def open(cls, root: str | Path, spec: SweepSpec) -> SweepStore:
        """Create the directory for ``spec``, or reopen it to resume the same spec.

        Raises:
            SweepDirError: if the directory holds another spec (naming what differs), or
                exists, is not empty and is not a sweep directory.
        """
        store = cls.check(root, spec)
        manifest_path = store.root / MANIFEST
        if manifest_path.is_file():
            store.clean_temporary()
            return store
        try:
            for path in (store.root, store.runs, store.records):
                path.mkdir(parents=True, exist_ok=True)
            if spec.panel_every:
                store.panels.mkdir(exist_ok=True)
        except OSError as err:
            raise SweepDirError(f"--out: cannot create {str(store.root)!r}: {err}") from None
        _write_bytes(store.root / SPEC_COPY, spec.text.encode("utf-8"))
        _write_json(manifest_path, {
            "format": FORMAT,
            "tool": "village-sim sweep",
            "package_version": package_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "spec_file": spec.source,
            "spec_hash": spec.spec_hash,
            "spec": spec.to_record(),
        })
        return store

    @classmethod
    def existing(cls, root: str | Path) -> tuple[SweepStore, SweepSpec]:
        """Open a sweep directory for reading; return it and its spec.

        Raises:
            SweepDirError: if ``root`` holds no sweep.
        """
        store = cls(root)
        if not (store.root / MANIFEST).is_file():
            raise SweepDirError("error.no_sweep", folder=str(store.root), manifest=MANIFEST)
        manifest = store.manifest()
        try:
            spec = SweepSpec.from_record(manifest["spec"], source=str(store.root / MANIFEST))
        except (KeyError, TypeError, SpecError) as err:
            raise SweepDirError(f"{str(store.root / MANIFEST)!r} is not a readable sweep "
                                f"manifest: {err}") from None
        return store, spec

    def manifest(self) -> dict[str, Any]:
        """The parsed ``manifest.json``."""
        try:
            data = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise SweepDirError(f"cannot read {str(self.root / MANIFEST)!r}: {err}") from None
        if not isinstance(data, dict):
            raise SweepDirError(f"{str(self.root / MANIFEST)!r} is not a sweep manifest")
        return data

    def clean_temporary(self) -> int:
        """Remove temporary files left by a killed writer; return how many.

        (A killed compaction's files under ``parts/`` are removed by the next compaction, which
        holds the lock: :func:`village_sim.sweep.compact.remove_uncommitted_parts`.)
        """
        removed = 0
        folders = [self.root, self.records, *(self.root / k for k in compaction.table_kinds(
            self.root)), self.runs, self.panels]
        for folder in dict.fromkeys(folders):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed

    # ------------------------------------------------------------------ data dictionary
    def write_columns(self, window: str = "") -> Path:
        """Write ``columns.csv``: what every column of the sweep's Parquet files means.

        Read from the files themselves (their schemas: nothing is loaded): ``design.parquet``,
        ``plan.parquet``, ``run_table.parquet``, and one file of each table kind (``runs/``,
        ``panels/``: all files of a kind share one schema), a per-run file or a part.
        """
        import pandas as pd
        import pyarrow.parquet as pq

        from village_sim.experiment import write_columns

        files: dict[str, pd.DataFrame] = {}
        for name in (DESIGN, PLAN, RUN_TABLE):
            if (self.root / name).is_file():
                files[name] = pd.DataFrame(columns=pq.read_schema(self.root / name).names)
        for kind in compaction.table_kinds(self.root):
            first = None
            for folder in (self.root / kind, self.root / PARTS / kind):
                if first is None and folder.is_dir():
                    first = next(folder.glob("*.parquet"), None)
            if first is not None:
                names = [n for n in pq.read_schema(first).names if not n.startswith("__")]
                files[f"{kind}/<run_id>.parquet"] = pd.DataFrame(columns=names)
        return write_columns(self.root, files, window)

    # ------------------------------------------------------------------ completion
    def mark_complete(self, planned: int, ok: int, failed: int) -> None:
        """Write ``COMPLETE`` (last, when no planned run is missing): the counts and when."""
        _write_json(self.root / COMPLETE, {
            "planned": planned, "ok": ok, "failed": failed,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "package_version": package_version()})

    def mark_incomplete(self) -> None:
        """Remove ``COMPLETE`` (a sweep about to run again is not complete until it ends)."""
        (self.root / COMPLETE).unlink(missing_ok=True)

    def completion(self) -> dict[str, Any] | None:
        """The parsed ``COMPLETE`` marker, or ``None`` when the sweep has not finished."""
        try:
            data = json.loads((self.root / COMPLETE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    # ------------------------------------------------------------------ plan and design
    def write_plan(self, design: pd.DataFrame,
                   plan: pd.DataFrame | Iterable[pd.DataFrame]) -> None:
        """Store the design points and the run plan (both follow from the spec alone).

        ``plan`` may be one table or an iterable of chunks, written one row group each: a plan
        of any length is streamed to disk, never held whole.
        """
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        from village_sim.experiment import atomic_path, write_parquet

        write_parquet(design, self.root / DESIGN)
        chunks = [plan] if isinstance(plan, pd.DataFrame) else plan
        with atomic_path(self.root / PLAN) as tmp:
            writer = None
            try:
                for chunk in chunks:
                    table = pa.Table.from_pandas(chunk, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()

    def plan(self) -> pd.DataFrame:
        """The stored run plan (see :func:`village_sim.sweep.design.plan_runs`)."""
        import pandas as pd

        return pd.read_parquet(self.root / PLAN)

    def design(self) -> pd.DataFrame:
        """The stored design points."""
        import pandas as pd

        return pd.read_parquet(self.root / DESIGN)

    # ------------------------------------------------------------------ runs
    def statuses(self) -> dict[str, str]:
        """Run id -> status (``"ok"``/``"failed"``) of every committed run (parts included).

        An unreadable per-run record counts as missing: the run runs again.
        """
        return compaction.statuses(self.root)

    def compact(self, final: bool = True) -> compaction.CompactionResult | None:
        """Move the runs in per-run files into part sets (:mod:`village_sim.sweep.compact`).

        Args:
            final: The end of a sweep: compact whatever is left if the sweep has parts already
                or holds a part's worth; a sweep smaller than one part keeps its files. With
                ``False`` (during a sweep), only when a part's worth has accumulated.

        Returns:
            What was done, or ``None`` if nothing was due.
        """
        if self._pending is None:
            self._pending = self._count_pending()
        runs, size = self._pending
        full = runs >= self.runs_per_part or size >= self.bytes_per_part
        started = final and runs > 0 and (self.root / PARTS / RECORDS).is_dir()
        if not (full or started):
            return None
        result = compaction.compact(self.root, self.runs_per_part, self.bytes_per_part)
        self._pending = self._count_pending()
        return result

    def _count_pending(self) -> tuple[int, int]:
        runs = size = 0
        for folder in (self.records, *(self.root / k for k in compaction.table_kinds(
                self.root))):
            for path in folder.glob("*") if folder.is_dir() else ():
                runs += folder == self.records and path.suffix == ".json"
                size += path.stat().st_size
        return runs, size

    def commit(self, task: RunTask, result: RunResult, parameters: Mapping[str, Any]) -> None:
        """Store one finished run: series, then panel, then the record (the commit mark).

        Args:
            task: The run.
            result: What the worker returned.
            parameters: The run's full parameter set (for the run table).
        """
        if result.series is not None:
            _write_bytes(self.runs / f"{task.run_id}.parquet", result.series)
        if result.panel is not None:
            self.panels.mkdir(exist_ok=True)
            _write_bytes(self.panels / f"{task.run_id}.parquet", result.panel)
        record = {
            "run_id": task.run_id,
            "regime": task.regime,
            "replicate": task.replicate,
            "seed": task.seed,
            "status": result.status,
            "error": result.error,
            "rows": result.rows,
            "duration_s": round(result.duration_s, 6),
            "cpu_s": round(result.cpu_s, 6),
            "started": result.started,
            "finished": result.finished,
            "worker": result.worker,
            "blas_threads": result.blas_threads,
            "package_version": package_version(),
            "spec_hash": task.spec_hash,
            "parameters": {k: v for k, v in parameters.items() if k != "regime"},
        }
        record_bytes = _write_json(self.records / f"{task.run_id}.json", record, indent=None)
        if self._pending is None:
            self._pending = self._count_pending()
        else:
            written = len(result.series or b"") + len(result.panel or b"") + record_bytes
            self._pending = (self._pending[0] + 1, self._pending[1] + written)
        self.compact(final=False)


# ---------------------------------------------------------------------------- reading
RECORD_COLUMNS = ("run_id", "regime", "replicate", "seed", "status")
TRAILING_COLUMNS = ("error", "rows", *ENVIRONMENT_COLUMNS, "package_version", "spec_hash")


def run_table_schema(model: str = "village") -> pa.Schema:
    """The Arrow schema of the run table: identity, every parameter (typed), then the rest.

    A county sweep's runs also have the county's own parameters (after the villages').
    """
    import pyarrow as pa

    from village_sim.params import PARAMETERS

    params = list(PARAMETERS)
    if model == "county":
        from village_sim.county.model import COUNTY_PARAMETERS

        params += list(COUNTY_PARAMETERS)

    kinds = {"int": pa.int64(), "optional_int": pa.int64(), "float": pa.float64(),
             "bool": pa.bool_(), "choice": pa.string()}
    fields = [pa.field("run_id", pa.string()), pa.field("regime", pa.string()),
              pa.field("replicate", pa.int64()), pa.field("seed", pa.int64()),
              pa.field("status", pa.string())]
    fields += [pa.field(p.name, kinds[p.kind]) for p in params if p.name != "regime"]
    if model == "county":  # a pool of team tables (null where teams is a number of teams)
        fields.append(pa.field("team_tables", pa.string()))
    fields += [pa.field("error", pa.string()), pa.field("rows", pa.int64()),
               pa.field("duration_s", pa.float64()), pa.field("cpu_s", pa.float64()),
               pa.field("started", pa.string()), pa.field("finished", pa.string()),
               pa.field("worker", pa.string()), pa.field("blas_threads", pa.string()),
               pa.field("package_version", pa.string()), pa.field("spec_hash", pa.string())]
    return pa.schema(fields)


def _record_batches(root: Path, batch: int) -> Iterator[pa.Table]:
    """The run records, sorted by run id, as Arrow tables of at most ``batch`` rows.

    Per-run records and compacted ones alike, each run once (streamed).
    """
    import pyarrow as pa

    schema = run_table_schema(_model(root))
    names = set(schema.names)
    rows: list[dict[str, Any]] = []
    for _, text in compaction.iter_records(root):
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            continue
        flat = {**record.pop("parameters", {}), **record}
        rows.append({k: v for k, v in flat.items() if k in names})
        if len(rows) >= batch:
            yield pa.Table.from_pylist(rows, schema=schema)
            rows = []
    if rows:
        yield pa.Table.from_pylist(rows, schema=schema)


def _model(root: Path) -> str:
    """What the sweep in ``root`` runs (its manifest's spec; a village sweep if unreadable)."""
    try:
        spec = json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))["spec"]
    except (OSError, ValueError, KeyError, TypeError):
        return "village"
    return str(spec.get("model", "village"))


def write_run_table(root: str | Path, batch: int = 256) -> Path:
    """Consolidate the run records into ``DIR/run_table.parquet``, ``batch`` records at a time.

    Streaming: memory does not grow with the number of runs. Written atomically.
    """
    import pyarrow.parquet as pq

    from village_sim.experiment import atomic_path

    root = Path(root)
    path = root / RUN_TABLE
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, run_table_schema(_model(root))) \
            as writer:
        for table in _record_batches(root, batch):
            writer.write_table(table)
    return path


def run_table(root: str | Path, write: bool = True) -> pd.DataFrame:
    """Every run record in one table (and, by default, ``run_table.parquet`` rewritten).

    Args:
        root: The sweep directory.
        write: Rewrite ``DIR/run_table.parquet`` from the records first (streaming).

    Returns:
        One row per stored run, sorted by run id: ``run_id, regime, replicate, seed, status``,
        every parameter, then ``error`` (traceback of a failed run), ``rows``, the environment
        columns (:data:`ENVIRONMENT_COLUMNS`), ``package_version`` and ``spec_hash``.
    """
    import pyarrow as pa

    root = Path(root)
    if write:
        import pyarrow.parquet as pq

        return pq.read_table(write_run_table(root)).to_pandas()
    tables = list(_record_batches(root, 1000))
    table = pa.concat_tables(tables) if tables else run_table_schema(_model(root)).empty_table()
    return table.to_pandas()


def load_table(root: str | Path, kind: str, ok_only: bool = True) -> pd.DataFrame | None:
    """One per-run table kind of every stored run (``runs``, ``panels``, ...), each run once.

    Per-run files and compacted parts alike (:func:`village_sim.sweep.compact.read_kind`).

    Args:
        root: The sweep directory.
        kind: The table kind: its folder's name.
        ok_only: Keep only runs whose record says ``ok``; ``False``: every committed run and
            the files of runs killed before their record.

    Returns:
        The rows sorted by run id (a run's rows in their stored order), or ``None`` if there
        are none.
    """
    runs = None
    if ok_only:
        runs = {rid for rid, status in compaction.statuses(root).items() if status == "ok"}
    table = compaction.read_kind(root, kind, runs, uncommitted=not ok_only)
    if table is None:
        return None
    frame = table.to_pandas()
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def load_timeseries(root: str | Path, ok_only: bool = True) -> pd.DataFrame:
    """Read the time series of the stored runs (``DIR/runs`` and ``DIR/parts/runs``).

    Args:
        root: The sweep directory.
        ok_only: Keep only runs whose record says ``ok`` (a series written just before a
            kill, without its record, is left out).

    Returns:
        Columns ``run_id, regime, replicate, seed, step`` and the spec's metrics, sorted by
        (run_id, step).
    """
    frame = load_table(root, RUNS, ok_only)
    if frame is None:
        _, spec = SweepStore.existing(root)
        from village_sim.sweep.runner import series_schema

        return series_schema(spec.metrics).empty_table().to_pandas()
    return frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def load_panels(root: str | Path) -> pd.DataFrame:
    """Read the household panels (``DIR/panels``, ``DIR/parts/panels``) of the runs with one."""
    import pandas as pd

    frame = load_table(root, PANELS, ok_only=False)
    return pd.DataFrame() if frame is None else frame


def compact_sweep(root: str | Path,
                  runs_per_part: int = compaction.RUNS_PER_PART) -> compaction.CompactionResult:
    """Compact an existing sweep directory in place (``village-sim sweep compact DIR``).

    Every run in per-run files moves into part sets, whatever the sweep's size; idempotent,
    safe to interrupt and run again, and to run while the sweep runs, where the file system
    has ``flock`` (:func:`village_sim.sweep.compact.compact`).

    Raises:
        SweepDirError: if ``root`` holds no sweep.
    """
    store = SweepStore(root)
    if not (store.root / MANIFEST).is_file():
        raise SweepDirError("error.compact_no_sweep", folder=str(store.root), manifest=MANIFEST)
    return compaction.compact(store.root, runs_per_part, SweepStore.bytes_per_part,
                              count_files=True)
