"""Settings of the whole test session: the order in which pytest-xdist hands out test files.

The suite runs with ``--dist loadfile`` (pyproject.toml): each file goes whole to one of the
workers, one file at a time as they free up. pytest-xdist by default hands out files with the
most tests first, which puts the long statistical, SLURM and browser files (few tests, each
long) behind hundreds of quick ones, and the run ends with one worker busy on a long file while
the other waits. With ``--no-loadscope-reorder`` files go out in collection order, and the hook
below puts the slowest files first (longest processing time first), so the quick files fill in
at the end and both workers finish together. The list is by measured time (per-file sums of a
full run's junit durations, 2026-12-03: 1,384 worker-seconds, 712 s on two workers), slowest
first; a file not listed keeps its place after them.
"""

from __future__ import annotations

import pytest

SLOWEST_FIRST = (
    "test_browser.py", "test_slurm.py", "test_output_sets.py", "test_app.py", "test_model2.py",
    "test_sweep_engines.py", "test_sweep_compact.py", "test_effects.py", "test_bundle.py",
    "test_sweep_chunks.py", "test_scenarios.py", "test_calibrate.py", "test_interrupts.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slowest files first (a stable sort: the order within each file is kept)."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOWEST_FIRST)))
