"""Compiled loops over the villages' own streams, for the county's monthly draws (numba).

The county's phases draw from each village's own generators, call for call as the village's
mechanism does (docs/county_engine.md, D3): a Python loop over villages, one generator call per
draw and village. Here the same calls run in one compiled loop over all villages (numba's
nopython mode), on the villages' own ``np.random.Generator`` objects: numba's generator methods
share numpy's bit generators and their algorithms (numpy's ``distributions`` library), so every
number and every generator's state after the calls are numpy's own. tests/test_county_engine.py
checks both ways of drawing against the villages' solo runs, bit for bit.

This module imports numba, which is optional (the ``fast`` extra): :mod:`village_sim.county.
phases.draws` imports it only where numba is installed and a county is large enough for the
compiled loops to pay for their start (``draws.JIT_FROM_VILLAGES``).

Each kernel takes the villages' generators as a ``numba.typed.List`` (``rngs``, in village
order) and, for the villages that draw, their indices and the bounds of their draws in the
output arrays. A kernel fills its outputs and returns nothing.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["diagnosis", "economy", "permutation_blocks", "random_blocks", "typed_list",
           "visit_draws"]


def typed_list(generators: list[np.random.Generator]) -> numba.typed.List:
    """The generators as a list a compiled loop can index (the generators, not copies)."""
    out = numba.typed.List()
    for rng in generators:
        out.append(rng)
    return out


@numba.njit(cache=True, nogil=True)
def random_blocks(rngs, villages, starts, stops, out):
    """``rngs[villages[j]].random(out=out[starts[j]:stops[j]])`` for each ``j``, in order."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        for t in range(starts[j], stops[j]):
            out[t] = rng.random()


@numba.njit(cache=True, nogil=True)
def economy(rngs, starts, stops, pairs, noise, disaster_hit):
    """Each village's month of shocks (``county.phases.economy._draw``'s three calls).

    Village ``i`` (households ``starts[i]:stops[i]``): ``random(2n)`` into ``pairs``,
    ``standard_normal(n)`` into ``noise``, ``random(n + 1)`` into ``disaster_hit`` (shifted by
    ``i``: a village's disaster draw, then its households' hits).
    """
    for i in range(starts.size):
        rng = rngs[i]
        a, b = starts[i], stops[i]
        for t in range(2 * a, 2 * b):
            pairs[t] = rng.random()
        for t in range(a, b):
            noise[t] = rng.standard_normal()
        for t in range(a + i, b + i + 1):
            disaster_hit[t] = rng.random()


@numba.njit(cache=True, nogil=True)
def visit_draws(rngs, villages, starts, stops, noisy, mu, sigma, n_causes,
                acting, cadre_starts, cadre_stops,
                noise, u_diagnosis, shift, u_challenge, u_skim, u_excess):
    """The draws that follow the month's visit plan (``county.phases.visits._visit``).

    Village ``villages[j]``, visits ``starts[j]:stops[j]`` (k of them): ``lognormal(mu, sigma,
    k)`` into ``noise`` where the team's measurement is noisy (``agents.lognormal_factor``;
    nothing drawn otherwise), ``random(k)`` and ``integers(1, n_causes, k)`` for the diagnoses
    (``agents.diagnose``), then where the team supervises ``random(k + m + k)``: the
    challenges, the skimming draws of its m cadres (``cadre_starts[j]:cadre_stops[j]``) and the
    excess-payment draws.
    """
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        k = b - a
        if noisy[j]:
            noise[a:b] = rng.lognormal(mu[j], sigma[j], k)
        for t in range(a, b):
            u_diagnosis[t] = rng.random()
        shift[a:b] = rng.integers(1, n_causes, k)
        if acting[j]:
            for t in range(a, b):
                u_challenge[t] = rng.random()
            for t in range(cadre_starts[j], cadre_stops[j]):
                u_skim[t] = rng.random()
            for t in range(a, b):
                u_excess[t] = rng.random()


@numba.njit(cache=True, nogil=True)
def diagnosis(rngs, villages, starts, stops, n_causes, u, shift):
    """``random(k)`` then ``integers(1, n_causes, k)`` (``agents.diagnose``) of each village."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        if b > a:
            for t in range(a, b):
                u[t] = rng.random()
            shift[a:b] = rng.integers(1, n_causes, b - a)


@numba.njit(cache=True, nogil=True)
def permutation_blocks(rngs, villages, starts, stops, values, out):
    """``out[a:b] = rngs[village].permutation(values[a:b])`` of each village, in order."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        out[a:b] = rng.permutation(values[a:b])
