"""Draws from each village's own streams, for the county's phases (docs/county_engine.md, D3).

A stream whose calls depend on the state (committee, team, helpers) is drawn with one call per
village that draws, of the size the village's own mechanism asks for, in its order of calls;
the results are concatenated village after village, ready for the phase's work on all villages
at once. Villages share no stream, so drawing village after village for one call, then village
after village for the next, keeps every stream's own order of calls. A call of size 0 draws
nothing and leaves the generator's state as it was (numpy's generators, PCG64's buffered half
word included), so it is skipped.

Compiled loops (:mod:`village_sim.county.phases.kernels`): where numba is installed (the ``fast``
extra) and the county has at least ``JIT_FROM_VILLAGES`` villages, the monthly draws of every
village (economy, allocation, visits) run in one compiled loop over the villages' own
generators instead of a Python loop of generator calls: the same numbers, the same final
states (tests/test_county_engine.py runs both ways against solo villages), about a Python call
less per draw and village. Below that size, or without numba, :func:`kernels` is None and the
phases draw with the Python loops, the reference.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from village_sim.village import N_CAUSES

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["JIT_FROM_VILLAGES", "diagnosis_draws", "kernels", "random_each", "typed_streams"]

JIT_FROM_VILLAGES = 32
"""Counties of fewer villages draw with the Python loops: importing numba and loading the
compiled loops costs about 2-4 s once a process, and saves about 0.1 ms a village-month."""


def kernels(e: StackedVillages) -> ModuleType | None:
    """The compiled loops for county ``e``, or None where the Python loops draw."""
    if len(e.villages) < JIT_FROM_VILLAGES:
        return None
    return _compiled()


@functools.cache
def _compiled() -> ModuleType | None:
    try:
        from village_sim.county.phases import kernels as compiled
    except ImportError:  # numba is not installed: the Python loops
        return None
    return compiled


def typed_streams(e: StackedVillages, name: str) -> Any:
    """Every village's stream ``name`` in a list the compiled loops index.

    Kept for the county's life: a village's streams are its own objects for its whole life.
    """
    out = e.typed_streams.get(name)
    if out is None:
        compiled = _compiled()
        assert compiled is not None
        out = e.typed_streams[name] = compiled.typed_list([v.streams[name]
                                                          for v in e.villages])
    return out


def random_each(rngs: Sequence[np.random.Generator], sizes: Sequence[int]) -> np.ndarray:
    """``rngs[j].random(sizes[j])`` for each ``j``, concatenated."""
    out = np.empty(int(sum(sizes)))
    at = 0
    for rng, m in zip(rngs, sizes, strict=True):
        if m:
            rng.random(out=out[at:at + m])
            at += m
    return out


def diagnosis_draws(rngs: Sequence[np.random.Generator],
                    sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`village_sim.agents.diagnose` draws for ``sizes[j]`` households from ``rngs[j]``.

    Returns:
        The uniforms (right with probability ``accuracy``) and the shifts of wrong diagnoses,
        each concatenated; :func:`village_sim.agents.named_cause` makes them diagnoses.
    """
    u = np.empty(int(sum(sizes)))
    shifts = []
    at = 0
    for rng, m in zip(rngs, sizes, strict=True):
        if m:
            rng.random(out=u[at:at + m])
            shifts.append(rng.integers(1, N_CAUSES, size=m))
            at += m
    return u, (np.concatenate(shifts) if shifts else np.zeros(0, dtype=np.int64))
