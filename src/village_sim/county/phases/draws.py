"""Draws from each village's own streams, for the county's phases (docs/county_engine.md, D3).

A stream whose calls depend on the state (committee, team, helpers) is drawn with one call per
village that draws, of the size the village's own mechanism asks for, in its order of calls;
the results are concatenated village after village, ready for the phase's work on all villages
at once. Villages share no stream, so drawing village after village for one call, then village
after village for the next, keeps every stream's own order of calls. A call of size 0 draws
nothing and leaves the generator's state as it was (numpy's generators, PCG64's buffered half
word included), so it is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from village_sim.village import N_CAUSES

__all__ = ["diagnosis_draws", "random_each"]


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
