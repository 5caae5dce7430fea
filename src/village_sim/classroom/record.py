"""A classroom session's record: the decisions people made, and the run they re-make.

Issue 13. The record holds decisions only. A session directory has:

* ``session.json``: what builds the village (seed, regime, parameter overrides, the
  village_sim version), written once when the room opens;
* ``decisions.csv``: a row per part a person sent, appended and flushed as each decision
  closes (an interrupted session loses at most the decision under way), and a row per
  trainer's decision (an instructor event; the end of a month). Columns: :data:`COLUMNS`.

Nothing but nicknames identifies a participant. :func:`replay` re-simulates the session from
these files: the model takes the same decisions at the same points (the rule computes its
own action first, as in the room, so every draw is the same) and the run equals the room's
exactly. :func:`export` writes the rows as Parquet too.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from village_sim.classroom.deciding import Key, RecordedDecider
from village_sim.classroom.roles import DECISIONS, Seat
from village_sim.model import VillageModel

__all__ = ["COLUMNS", "RecordWriter", "Recorded", "export", "read_record", "replay"]

COLUMNS = ("decision_id", "month", "decision", "occurrence", "role", "seat", "households",
           "nickname", "seconds", "observation", "action")
"""``decisions.csv``: the decision's number in the session, the model month it was taken in
(its step), the decision's name (the trainer's: ``event``, an instructor event, and
``advance``, the end of a month), its occurrence within
the month (0 first), the seat that sent the part (role, index, households joined by ``+``),
the sender's nickname, seconds since the room opened (a resumed session counts again from its
resumption), what the seat saw and what it sent (JSON)."""

SESSION_FILE = "session.json"
DECISIONS_FILE = "decisions.csv"


@dataclass(frozen=True)
class Recorded:
    """A session read back: how to build its village, its parts and its events."""

    build: dict[str, Any]  # VillageModel arguments: rng, regime, and the overrides
    parts: dict[Key, dict[Seat, Any]]  # (month, decision, occurrence) -> seat -> part
    events: list[dict[str, int | str]]  # {"month": m, "kind": k}
    months: int  # the months the session ran (its last recorded month)
    completed: int  # the months it completed (the last month whose end is recorded)
    last_decision: int  # the highest decision number recorded (0: none)


class RecordWriter:
    """Appends a session's rows to its directory (module docstring)."""

    def __init__(self, directory: str | Path, build: Mapping[str, Any], *,
                 resume: bool = False) -> None:
        self.directory = Path(directory)
        if str(directory).strip() == "":
            raise ValueError("record: got ''; allowed: a folder for the session's record")
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(f"record: {str(self.directory)!r} is a file; allowed: a folder "
                             "(new, or a session's to resume)")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ValueError(f"record: cannot create {str(self.directory)!r} "
                             f"({err.strerror or err}); allowed: a folder this user can "
                             "write") from None
        if not os.access(self.directory, os.W_OK):
            raise ValueError(f"record: cannot write in {str(self.directory)!r}; allowed: a "
                             "folder this user can write")
        session = self.directory / SESSION_FILE
        decisions = self.directory / DECISIONS_FILE
        if not resume:
            if decisions.exists() and decisions.stat().st_size > 0:
                raise ValueError(f"record: {self.directory} already holds a session; allowed: "
                                 "a new directory (or resume that session)")
            text = json.dumps({"village_sim": _version(), **build}, indent=2, sort_keys=True)
            _write_atomic(session, text)
        self._file = decisions.open("a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        if self._file.tell() == 0:
            self._csv.writerow(COLUMNS)
            self._flush()

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append ``rows`` (dicts with :data:`COLUMNS`) and flush them to disk."""
        for row in rows:
            self._csv.writerow([_cell(row[c]) for c in COLUMNS])
        self._flush()

    def close(self) -> None:
        """Close the file (rows written are already on disk)."""
        self._file.close()

    def _flush(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list | bool) or value is None:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _version() -> str:
    try:
        return metadata.version("village-sim")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "unknown"


def _seat(role: str, index: Any, households: Any) -> Seat:
    held = tuple(int(h) for h in str(households).split("+") if h != "") \
        if role == "household" else ()
    return Seat(role, int(index), held)


def read_record(directory: str | Path) -> Recorded:
    """A session directory read back.

    Raises:
        ValueError: naming the file and what is wrong with it (missing, not a session record,
            a row that does not parse).
    """
    directory = Path(directory)
    session, decisions = directory / SESSION_FILE, directory / DECISIONS_FILE
    for path in (session, decisions):
        if not path.is_file():
            raise ValueError(f"record: {path} does not exist; allowed: a classroom session "
                             f"directory (with {SESSION_FILE} and {DECISIONS_FILE})")
    try:
        build = json.loads(session.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"record: {session} is not JSON ({err})") from err
    if not isinstance(build, dict) or "rng" not in build:
        raise ValueError(f"record: {session} names no seed ('rng'); allowed: a session file "
                         "written by village-sim classroom")
    build.pop("village_sim", None)
    parts: dict[Key, dict[Seat, Any]] = {}
    events: list[dict[str, int | str]] = []
    months = completed = last_decision = 0
    with decisions.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"record: {decisions} has columns {reader.fieldnames}; "
                             f"allowed: {', '.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            try:
                month = int(row["month"])
                action = json.loads(row["action"])
                if row["decision"] == "event":
                    events.append({"month": int(action["month"]), "kind": str(action["kind"])})
                elif row["decision"] == "advance":  # a month ended
                    completed = max(completed, month)
                else:
                    if row["decision"] not in DECISIONS:
                        raise ValueError(f"unknown decision {row['decision']!r}")
                    key = (month, row["decision"], int(row["occurrence"]))
                    seat = _seat(row["role"], row["seat"], row["households"])
                    parts.setdefault(key, {})[seat] = action
                    last_decision = max(last_decision, int(row["decision_id"]))
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(f"record: {decisions}, line {line}: {err}") from err
            months = max(months, month)
    return Recorded(build=build, parts=parts, events=events, months=months,
                    completed=completed, last_decision=last_decision)


def replay(directory: str | Path, months: int | None = None) -> VillageModel:
    """The session of ``directory`` re-simulated: its village after ``months`` months.

    ``months``: default the last month the record holds a decision or event in.
    """
    recorded = read_record(directory)
    decider = RecordedDecider(recorded.parts)
    model = VillageModel(**recorded.build, events=recorded.events, policies=decider.policies())
    decider.model = model
    for _ in range(recorded.months if months is None else months):
        model.step()
    return model


def export(directory: str | Path) -> Path:
    """``decisions.parquet`` next to ``decisions.csv`` (the same rows); its path."""
    directory = Path(directory)
    frame = pd.read_csv(directory / DECISIONS_FILE, dtype={"households": str},
                        keep_default_na=False)
    out = directory / "decisions.parquet"
    tmp = out.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, out)
    return out
