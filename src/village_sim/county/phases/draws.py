"""Draws from each village's own streams, for the county's phases (docs/county_engine.md, D3).

A stream whose calls depend on the state (committee, team, helpers) is drawn with one call per
village that draws, of the size the village's own mechanism asks for, in its order of calls;
the results are concatenated village after village, ready for the phase's work on all villages
at once. Villages share no stream, so drawing village after village for one call, then village
after village for the next, keeps every stream's own order of calls. A call of size 0 draws
nothing and leaves the generator's state as it was (numpy's generators, PCG64's buffered half
word included), so it is skipped.

Compiled loops (:mod:`village_sim.county.phases.kernels`): where numba is installed (the ``fast``
extra) and the county has at least ``JIT_FROM_VILLAGES`` villages, the draws of economy,
allocation and the visits, and those made here (measures, helpers, re-check, the yearly
review, elections, norms, exits, identification, appraisal and survey), run in one compiled
loop over the villages' own generators instead of a Python loop of generator calls: the same
numbers, the same final states (tests/test_county_engine.py runs both ways against solo
villages), about a Python call less per draw and village. Below that size, or without numba,
:func:`kernels` is None and the phases draw with the Python loops, the reference. A few
single draws of a year (a project's siting, the re-check's village draws) stay Python calls.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from village_sim.village import N_CAUSES

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["COMPILED_SHUFFLE_BELOW", "JIT_FROM_VILLAGES", "diagnosis_draws", "kernels",
           "lognormal_each", "normal_each", "permutation_each", "random_each", "typed_streams"]

JIT_FROM_VILLAGES = 32
"""Counties of fewer villages use the numpy and Python loops: importing numba and loading the
compiled loops costs about 2-4 s once a process, and saves about 0.1 ms a village-month."""


COMPILED_SHUFFLE_BELOW = 100
"""Mean draws per village below which :func:`permutation_each` shuffles in the compiled loop,
where that loop calls numba's ``Generator.permutation`` (a numba without the internal
``random_interval``: ``kernels.SHUFFLE_BY_INTERVAL`` false); the loop by numpy's own steps is
quicker at every size and always used.

numba's ``Generator.permutation`` takes about 17 ns an element against numpy's 5 (2026-12-03,
200 villages: blocks of 300 shuffled in 5.5 ms compiled, 2.7 ms by numpy's own calls; of 30,
0.6 against 1.5 ms, where the Python call per village is the larger cost); the loop by
``random_interval`` 0.64 ms for 110 blocks of 200-400 (numpy's calls 1.31, numba's
permutation 2.58) and 0.18 ms for blocks of 40-140 (0.78, 0.78). The numbers are the same
every way."""


def kernels(e: StackedVillages) -> ModuleType | None:
    """The compiled loops for county ``e``, or None where numpy and Python loops run.

    Its draws and the phases' walks, plan and shares (:mod:`village_sim.county.phases.kernels`).
    """
    if len(e.villages) < JIT_FROM_VILLAGES or not e.compiled_draws:
        return None
    return _compiled()


@functools.cache
def _compiled() -> ModuleType | None:
    try:
        from village_sim.county.phases import kernels as compiled
    except ImportError:  # numba is not installed: the Python loops
        return None
    except RuntimeError as error:  # numba found nowhere to keep its compiled loops
        warnings.warn(f"the county draws with Python loops: {error}", RuntimeWarning,
                      stacklevel=2)
        return None
    return compiled


def typed_streams(e: StackedVillages, name: str) -> Any:
    """Every village's stream ``name`` in a list the compiled loops index.

    Kept for the county's life: a village's streams are its own objects for its whole life.
    The lists of all a village's streams are made at the first call, the county's first
    compiled month (about 6 ms a stream at 200 villages, ``numba.typed.List`` appending one
    generator at a time), so that no month after it makes one: the survey's and the
    certification's lists were first needed in months 12 and 13, about 12 ms then.
    """
    out = e.typed_streams.get(name)
    if out is None:
        compiled = _compiled()
        assert compiled is not None
        names = dict.fromkeys([name, *e.villages[0].streams])
        for stream in names:
            if stream not in e.typed_streams:
                e.typed_streams[stream] = compiled.typed_list([v.streams[stream]
                                                               for v in e.villages])
        out = e.typed_streams[name]
    return out


def random_each(e: StackedVillages, stream: str, villages: Sequence[int] | np.ndarray,
                sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """``random(sizes[j])`` of stream ``stream`` of village ``villages[j]``, concatenated."""
    return _fill(e, stream, villages, sizes, "random_blocks",
                 lambda rng, j, out: rng.random(out=out))


def normal_each(e: StackedVillages, stream: str, villages: Sequence[int] | np.ndarray,
                sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """``standard_normal(sizes[j])`` of village ``villages[j]``'s stream ``stream``, joined."""
    return _fill(e, stream, villages, sizes, "normal_blocks",
                 lambda rng, j, out: rng.standard_normal(out=out))


def lognormal_each(e: StackedVillages, stream: str, villages: Sequence[int] | np.ndarray,
                   sizes: Sequence[int] | np.ndarray, mu: np.ndarray,
                   sigma: np.ndarray) -> np.ndarray:
    """``lognormal(mu[j], sigma[j], sizes[j])`` of village ``villages[j]``'s stream, joined.

    ``mu`` and ``sigma`` are one per village drawing (each drawn as its Python float).
    """
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)

    def draw(rng: np.random.Generator, j: int, out: np.ndarray) -> None:
        out[...] = rng.lognormal(float(mu[j]), float(sigma[j]), size=out.size)

    return _fill(e, stream, villages, sizes, "lognormal_blocks", draw, mu, sigma)


def _fill(e: StackedVillages, stream: str, villages: Sequence[int] | np.ndarray,
          sizes: Sequence[int] | np.ndarray, kernel: str,
          draw: Callable[[np.random.Generator, int, np.ndarray], Any],
          *args: np.ndarray) -> np.ndarray:
    """Draws of ``sizes[j]`` values from stream ``stream`` of village ``villages[j]``, joined.

    In the compiled loop ``kernel`` (its extra arguments ``args``, one entry per village
    drawing) where the county has them; else ``draw(rng, j, out)`` fills each village's part
    ``out`` with its own generator's call (villages of no draws are skipped).
    """
    villages, bounds = _bounds(villages, sizes)
    out = np.empty(int(bounds[-1]))
    compiled = kernels(e)
    if compiled is not None:
        getattr(compiled, kernel)(typed_streams(e, stream), villages, bounds[:-1], bounds[1:],
                                  *args, out)
        return out
    for j, (i, lo, hi) in enumerate(zip(villages.tolist(), bounds[:-1].tolist(),
                                        bounds[1:].tolist(), strict=True)):
        if hi > lo:
            draw(e.villages[i].streams[stream], j, out[lo:hi])
    return out


def diagnosis_draws(e: StackedVillages, stream: str, villages: Sequence[int] | np.ndarray,
                    sizes: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`village_sim.agents.diagnose` draws, village by village.

    ``sizes[j]`` households of village ``villages[j]``, from its stream ``stream``.

    Returns:
        The uniforms (right with probability ``accuracy``) and the shifts of wrong diagnoses,
        each concatenated; :func:`village_sim.agents.named_cause` makes them diagnoses.
    """
    villages, bounds = _bounds(villages, sizes)
    u = np.empty(int(bounds[-1]))
    shift = np.empty(int(bounds[-1]), dtype=np.int64)
    compiled = kernels(e)
    if compiled is not None:
        compiled.diagnosis(typed_streams(e, stream), villages, bounds[:-1], bounds[1:],
                           N_CAUSES, u, shift)
        return u, shift
    for i, lo, hi in zip(villages.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(),
                         strict=True):
        if hi > lo:
            rng = e.villages[i].streams[stream]
            rng.random(out=u[lo:hi])
            shift[lo:hi] = rng.integers(1, N_CAUSES, size=hi - lo)
    return u, shift


def permutation_each(e: StackedVillages, stream: str, villages: Sequence[int] | np.ndarray,
                     values: np.ndarray, sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """``permutation`` of each village's part of ``values``, concatenated.

    ``values`` holds the villages' parts one after another, ``sizes[j]`` of village
    ``villages[j]``, shuffled by its stream ``stream``.
    """
    villages, bounds = _bounds(villages, sizes)
    out = np.empty_like(values)
    compiled = kernels(e)
    if compiled is not None and (compiled.SHUFFLE_BY_INTERVAL or bounds[-1]
                                 < COMPILED_SHUFFLE_BELOW * max(villages.size, 1)):
        compiled.permutation_blocks(typed_streams(e, stream), villages, bounds[:-1],
                                    bounds[1:], values, out)
        return out
    for i, lo, hi in zip(villages.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(),
                         strict=True):
        out[lo:hi] = e.villages[i].streams[stream].permutation(values[lo:hi])
    return out


def _bounds(villages: Sequence[int] | np.ndarray,
            sizes: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The villages as an index array, and their draws' bounds in the concatenated output."""
    sizes = np.asarray(sizes, dtype=np.int64)
    return (np.asarray(villages, dtype=np.int64),
            np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(sizes)]))
