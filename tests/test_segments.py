"""Segment operations (village_sim.segments) against each village's own numpy, on random villages.

What the county engine relies on (docs/county_engine.md): counts, integer sums, extremes, ranks
and first-k selections are exactly each village's own; a float sum of one village is ``x.sum()``
bit for bit, of several villages equal to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from village_sim.mechanisms.register import lowest
from village_sim.segments import Segments


def random_county(seed: int, empty: bool = True) -> tuple[Segments, np.random.Generator]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0 if empty else 1, 400, rng.integers(1, 30))
    return Segments(sizes), rng


def slices(seg: Segments) -> list[slice]:
    return [seg.block(v) for v in range(seg.n_segments)]


@pytest.mark.parametrize("seed", range(20))
def test_reductions_equal_each_village_s_own(seed: int) -> None:
    seg, rng = random_county(seed)
    x = rng.standard_normal(seg.n) * 1e3
    ints = rng.integers(-5, 50, seg.n)
    mask = rng.random(seg.n) < 0.3
    own = slices(seg)
    assert seg.count(mask).tolist() == [int(mask[b].sum()) for b in own]
    assert seg.sum(ints).tolist() == [int(ints[b].sum()) for b in own]
    assert seg.any(mask).tolist() == [bool(mask[b].any()) for b in own]
    assert seg.max(x).tolist() == [x[b].max() if x[b].size else -np.inf for b in own]
    assert seg.min(ints, empty=10**9).tolist() == [ints[b].min() if ints[b].size else 10**9
                                                   for b in own]
    # float sums: sequential per segment, so equal to rounding only
    np.testing.assert_allclose(seg.sum(x), [x[b].sum() for b in own], rtol=1e-12, atol=1e-9)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(seg.mean(x), [x[b].mean() if x[b].size else np.nan
                                                 for b in own], rtol=1e-12, atol=1e-12)


def test_one_village_sums_bit_for_bit() -> None:
    # the golden path: a county of one village sums as the village does (pairwise), while a
    # segmented sum of the same numbers differs in the last bits for most segment lengths
    rng = np.random.default_rng(7)
    differ = 0
    for n in rng.integers(20, 3000, 40):
        x = rng.standard_normal(n) * 1e3
        seg = Segments([n])
        assert seg.sum(x)[0] == x.sum() and seg.mean(x)[0] == x.mean()
        differ += np.add.reduceat(x, [0])[0] != x.sum()
    assert differ > 10  # so the one-village path is what keeps the golden records exact


@pytest.mark.parametrize("seed", range(20))
def test_exact_sum_is_each_village_s_own_sum_bit_for_bit(seed: int) -> None:
    """Where the county engine must equal each village bit for bit (a plain segmented sum
    differs from ``.sum()`` in the last bits in most segments of over 8 values)."""
    seg, rng = random_county(seed)
    x = rng.standard_normal(seg.n) * rng.lognormal(0.0, 3.0, seg.n)
    own = np.array([x[b].sum() for b in slices(seg)])
    assert np.array_equal(seg.exact_sum(x), own)
    counts = np.array([int(x[b].astype(bool).sum()) for b in slices(seg)])
    assert np.array_equal(seg.exact_sum(x.astype(bool)), counts)


def test_exact_sum_of_villages_of_one_size_and_of_one_village() -> None:
    # the whole array as rows of one matrix (no gather), and one village's own x.sum()
    rng = np.random.default_rng(3)
    for sizes in ([300] * 7, [1234], [0]):
        seg = Segments(sizes)
        x = rng.standard_normal(seg.n) * rng.lognormal(0.0, 3.0, seg.n)
        assert np.array_equal(seg.exact_sum(x), [x[b].sum() for b in slices(seg)])
        assert np.array_equal(seg.exact_sum(x > 0), [int((x[b] > 0).sum()) for b in slices(seg)])


@pytest.mark.parametrize("seed", range(10))
def test_regroup_keeps_each_village_s_entries_in_the_order_given(seed: int) -> None:
    seg, rng = random_county(seed)
    key = rng.random(seg.n)
    assert np.array_equal(seg.regroup(np.argsort(key)), np.lexsort((key, seg.village)))


@pytest.mark.parametrize("seed", range(20))
def test_first_k_is_each_village_s_lowest(seed: int) -> None:
    seg, rng = random_county(seed)
    score = np.round(rng.random(seg.n) * 4, 1)  # many ties
    score[rng.random(seg.n) < 0.05] = np.nan  # NaN sorts last
    candidates = rng.random(seg.n) < 0.7
    k = rng.integers(0, 60, seg.n_segments)
    got = seg.first_k(k, score, among=candidates)
    for v, b in enumerate(slices(seg)):
        assert np.array_equal(got[b], lowest(score[b], candidates[b], int(k[v]))), v


@pytest.mark.parametrize("seed", range(10))
def test_order_and_rank_equal_each_village_s_stable_sort(seed: int) -> None:
    seg, rng = random_county(seed)
    primary = rng.integers(0, 5, seg.n).astype(float)
    secondary = rng.random(seg.n)
    order = seg.order(secondary, primary)
    ranks = seg.rank(secondary, primary)
    for b in slices(seg):
        own = np.lexsort((secondary[b], primary[b]))
        assert np.array_equal(order[b] - b.start, own)
        assert np.array_equal(np.argsort(ranks[b], kind="stable"), own)


def test_broadcast_local_index_and_blocks() -> None:
    seg = Segments([3, 0, 2])
    assert seg.n == 5 and seg.n_segments == 3
    assert seg.village.tolist() == [0, 0, 0, 2, 2]
    assert seg.local_index().tolist() == [0, 1, 2, 0, 1]
    assert seg.broadcast(np.array([10, 20, 30])).tolist() == [10, 10, 10, 30, 30]
    assert seg.block(1) == slice(3, 3)
    assert seg.sum(np.ones(5)).tolist() == [3.0, 0.0, 2.0]
    assert seg.first_k(1, np.array([2, 1, 3, 5, 4])).tolist() == [False, True, False,
                                                                  False, True]


@pytest.mark.parametrize("sizes, words", [
    ([], "non-empty"), ([3, -1], "integers >= 0"), ([1.5], "integers >= 0"),
    ([[1, 2]], "non-empty"),
])
def test_bad_sizes_are_refused(sizes: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Segments(sizes)  # type: ignore[arg-type]


def test_arrays_of_the_wrong_length_are_refused() -> None:
    seg = Segments([2, 2])
    with pytest.raises(ValueError, match="length 4"):
        seg.sum(np.ones(3))
    with pytest.raises(ValueError, match="one value per village"):
        seg.broadcast(np.ones(3))


@pytest.mark.parametrize("seed", range(12))
def test_one_key_orders_equal_lexsort_on_either_path(seed: int) -> None:
    # villages of similar sizes take the padded-matrix path, very unequal ones the radix one;
    # both must give np.lexsort's order (stable, NaN last, infinities in place)
    rng = np.random.default_rng(seed)
    for sizes in (rng.integers(250, 300, 20), np.r_[rng.integers(0, 5, 30), 5000]):
        seg = Segments(sizes)
        key = np.round(rng.standard_normal(seg.n), 1)
        key[rng.random(seg.n) < 0.05] = np.nan
        key[rng.random(seg.n) < 0.02] = np.inf
        assert np.array_equal(seg.order(key), np.lexsort((key, seg.village)))
        ints = rng.integers(0, 4, seg.n)
        assert np.array_equal(seg.order(ints), np.lexsort((ints, seg.village)))


@pytest.mark.parametrize("seed", range(12))
def test_several_keys_order_equal_lexsort_on_either_path(seed: int) -> None:
    # villages of similar sizes are sorted as padded rows (keys as floats, NaN padding), very
    # unequal ones by one lexsort with the village: both must give np.lexsort's order, with NaN
    # in real entries (even in every key), booleans, integers, and integers too large to be
    # exact floats (which take the lexsort path)
    rng = np.random.default_rng(seed)
    for sizes in (rng.integers(250, 300, 20), np.r_[rng.integers(0, 5, 30), 5000],
                  np.r_[rng.integers(1, 40, 15), 0]):
        seg = Segments(sizes)
        tie = np.round(rng.random(seg.n), 2)
        tie[rng.random(seg.n) < 0.1] = np.nan
        near = np.floor(rng.random(seg.n) * 4)
        near[rng.random(seg.n) < 0.1] = np.nan
        flagged = rng.random(seg.n) < 0.3
        since = rng.integers(-3, 3, seg.n)
        huge = since * 2**60
        for keys in ((tie, near), (tie, near, flagged, since), (tie, huge), (near, since)):
            want = np.lexsort((*keys, seg.village))
            assert np.array_equal(seg.order(*keys), want), (sizes.size, len(keys))
            ranks = seg.rank(*keys)
            for b in slices(seg):
                assert np.array_equal(np.argsort(ranks[b], kind="stable"), want[b] - b.start)


@pytest.mark.parametrize("seed", range(6))
def test_keys_constant_among_the_candidates_change_no_selection(seed: int) -> None:
    # first_k leaves out keys equal for every candidate (all NaN included): the selection is
    # np.lexsort's over all the keys, village by village
    seg, rng = random_county(seed)
    among = rng.random(seg.n) < 0.6
    tie = np.round(rng.random(seg.n), 1)
    score = np.floor(rng.random(seg.n) * 3)
    same = np.where(among, 2.0, rng.random(seg.n))  # constant among the candidates only
    nan = np.where(among, np.nan, 1.0)
    k = rng.integers(0, 30, seg.n_segments)
    for keys in ((tie, same, score), (same, nan), (tie, nan, score, same)):
        got = seg.first_k(k, *keys, among=among)
        for v, b in enumerate(slices(seg)):
            idx = np.flatnonzero(among[b])
            own = idx[np.lexsort(tuple(key[b][idx] for key in keys))][:int(k[v])]
            assert np.array_equal(np.flatnonzero(got[b]), np.sort(own)), v
