"""A sweep chunk's village runs stepped together store what each run stores alone, bit for bit."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from village_sim.model import METRIC_NAMES
from village_sim.sweep import runner
from village_sim.sweep.models import VILLAGE_RUN_FUNCTION
from village_sim.sweep.runner import RunTask, execute_chunk, execute_run, execute_stacked


def task(i: int, regime: str = "team_and_committee", steps: int = 13, record_every: int = 1,
         panel_every: int = 0, **overrides: object) -> RunTask:
    return RunTask(run_id=f"r{i}", regime=regime, replicate=i, seed=100 + i,
                   overrides={"n_households": 120, **overrides}, steps=steps,
                   record_every=record_every, metrics=METRIC_NAMES, panel_every=panel_every,
                   run_function=VILLAGE_RUN_FUNCTION, spec_hash="h")


def table(data: bytes | None):  # type: ignore[no-untyped-def]
    """The stored table as a DataFrame (whose ``equals`` takes NaN for NaN; Arrow's does not)."""
    assert data is not None
    return pq.read_table(io.BytesIO(data)).to_pandas()


def test_a_chunk_s_runs_store_what_each_run_stores_alone() -> None:
    tasks = (task(0), task(1, "committee_only", record_every=3),
             task(2, favoritism=0.0, record_every=4), task(3, steps=7),
             task(4, panel_every=6), task(5, "team_alone", steps=7, record_every=2),
             task(6, "committee_plus_mobilization"))
    sent: list[str] = []
    got = execute_chunk(tasks, send=lambda r: sent.append(r.run_id))
    assert [r.run_id for r in got] == [t.run_id for t in tasks]
    assert sorted(sent) == sorted(t.run_id for t in tasks)  # each sent once
    for t, result in zip(tasks, got, strict=True):
        alone = execute_run(t)
        assert result.status == alone.status == "ok", result.error
        assert result.rows == alone.rows, t.run_id
        assert table(result.series).equals(table(alone.series)), t.run_id
        assert (result.panel is None) == (alone.panel is None), t.run_id
        if alone.panel is not None:
            assert table(result.panel).equals(table(alone.panel)), t.run_id


def test_the_runs_of_a_stack_share_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = runner.execute_stacked

    def spy(tasks):  # type: ignore[no-untyped-def]
        calls.append(len(tasks))
        return real(tasks)

    monkeypatch.setattr(runner, "execute_stacked", spy)
    got = execute_chunk((task(0), task(1), task(2), task(3, steps=5), task(4, panel_every=3)))
    assert calls == [3]  # the 13-month runs together; a lone length and the panel run alone
    assert got[0].duration_s == got[1].duration_s == got[2].duration_s > 0
    assert got[0].started == got[2].started and got[0].finished == got[2].finished


def test_a_failing_run_fails_alone_with_its_own_traceback() -> None:
    tasks = (task(0), task(1, favoritism="lots"), task(2))
    assert execute_stacked(tasks) is None  # the stack gives up: each run is then run alone
    got = execute_chunk(tasks)
    assert [r.status for r in got] == ["ok", "failed", "ok"]
    assert "favoritism" in got[1].error
    assert table(got[2].series).equals(table(execute_run(tasks[2]).series))


def test_an_interrupt_stops_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    from village_sim import experiment

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "run_stacked", interrupted)
    with pytest.raises(KeyboardInterrupt):
        execute_chunk((task(0), task(1)))
