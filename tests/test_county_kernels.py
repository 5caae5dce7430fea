"""The county's compiled walks over ties give their numpy and scipy versions' bits.

``county/phases/kernels.py`` does the kinship exchange and trust's grievances in compiled
loops where numba is installed (counties of ``draws.JIT_FROM_VILLAGES`` villages or more). The
engine's tests compare whole villages month by month; these compare the loops themselves on
random networks with what real months rarely hold: incomes tied exactly across a tie, zero
deficits and surpluses, households without ties, a giver whose kin have no deficit, and
weights other than 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from village_sim.mechanisms.kin_exchange import exchange
from village_sim.mechanisms.trust import money_seen, richer_listed_ties

kernels = pytest.importorskip("village_sim.county.phases.kernels")


def bits(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).view(np.int64)


def network(rng: np.random.Generator, n: int, density: float,
            weighted: bool = False) -> sp.csr_matrix:
    """A symmetric network without self-ties; a few households have no ties at all."""
    upper = sp.random(n, n, density=density, random_state=rng, format="csr")
    a = sp.triu(upper, k=1)
    a = (a + a.T).tocsr()
    if not weighted:
        a.data[:] = 1.0
    alone = rng.choice(n, size=max(1, n // 20), replace=False)
    keep = ~np.isin(a.tocoo().row, alone) & ~np.isin(a.tocoo().col, alone)
    coo = a.tocoo()
    a = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    a.sort_indices()
    return a


def coarse(rng: np.random.Generator, n: int, values: int = 6) -> np.ndarray:
    """Incomes of few distinct values, so that ties across ties are common; some zero."""
    return rng.integers(0, values, size=n).astype(np.float64) * 250.0


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_the_kinship_exchange_loop_is_scipy_s_exchange_bit_for_bit(seed: int,
                                                                   weighted: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    a = network(rng, n, 0.02, weighted)
    need = rng.uniform(200.0, 900.0, n)
    income = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(6.0, 1.0, n))
    at_need = rng.random(n) < 0.1
    income[at_need] = need[at_need]  # no deficit, no surplus
    deficit = np.maximum(0.0, need - income)
    surplus = np.maximum(0.0, income - 1.5 * need) * 0.1
    assert (deficit == 0).any() and (deficit > 0).any() and (surplus > 0).any()
    out = np.full(n, np.nan)
    kernels.kin_exchange(a.indptr, a.indices, a.data, deficit, surplus, out)
    expected = exchange(a, deficit, surplus)
    assert np.array_equal(bits(out), bits(expected))
    assert abs(out.sum()) < 1e-6 * max(1.0, np.abs(out).sum())  # money is conserved


@pytest.mark.parametrize("seed", range(6))
def test_trust_s_walks_over_ties_are_numpy_s_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 500
    a = network(rng, n, 0.03)
    y = coarse(rng, n)  # equal incomes across a tie are no grievance: many such ties here
    registered = rng.random(n) < 0.3
    reg = np.flatnonzero(registered)
    got = np.zeros(n)
    kernels.richer_listed_ties(a.indptr, a.indices, reg, registered, y, got)
    expected = richer_listed_ties(a, reg, registered, y)
    assert np.array_equal(bits(got), bits(expected)) and expected.sum() > 0
    receivers = np.flatnonzero(rng.random(n) < 0.2)
    received = rng.lognormal(5.0, 1.5, receivers.size)
    seen = np.zeros(n)
    kernels.money_seen(a.indptr, a.indices, receivers, received, seen)
    assert np.array_equal(bits(seen), bits(money_seen(a, receivers, received, n)))


@pytest.mark.parametrize("seed", range(8))
def test_the_first_k_loop_selects_as_segments_first_k(seed: int) -> None:
    # the visit plan's selection: each village's first k candidates in np.lexsort's order of
    # four keys, with ties in every key (few distinct values), NaN keys, -0.0 against 0.0,
    # villages with no candidates, k of 0, and k larger than the candidates
    from village_sim.segments import Segments

    rng = np.random.default_rng(200 + seed)
    sizes = rng.integers(0, 40, 30)
    seg = Segments(sizes)
    n = seg.n
    keys = [rng.integers(0, 3, n).astype(np.float64) for _ in range(3)]
    keys.insert(0, np.where(rng.random(n) < 0.2, 0.5, rng.random(n)))  # the tie, least
    keys[1][rng.random(n) < 0.1] = np.nan
    keys[2][keys[2] == 0] = np.where(rng.random(int((keys[2] == 0).sum())) < 0.5, -0.0, 0.0)
    among = rng.random(n) < 0.7
    k = rng.integers(-1, 45, seg.n_segments)
    expected = seg.first_k(k, *keys, among=among)
    cand = np.flatnonzero(among)
    bounds = np.searchsorted(cand, seg.offsets)
    first = np.zeros(cand.size, dtype=bool)
    kernels.first_k(bounds[:-1], bounds[1:], k, np.stack([key[cand] for key in keys]), first)
    got = np.zeros(n, dtype=bool)
    got[cand[first]] = True
    assert np.array_equal(got, expected)
    assert 0 < expected.sum() < among.sum()
