"""Villages as contiguous segments of one array: sums, ranks and first-k within each village.

The county engine (docs/county_engine.md) keeps every household of every village in one set of
arrays, village after village; a mechanism acts on all villages at once through these segment
operations instead of a Python loop over villages (DESIGN §11).

Exactness, the rule the county engine is held to (docs/county_engine.md, D4 and D6):

* element-wise work, gathers and broadcasts, counts, integer sums, minima and maxima, ranks and
  first-k selections are **exactly** what each village's own array gives;
* a floating-point sum of **one** segment is ``x.sum()`` (numpy's pairwise sum), bit for bit
  the village's own; of several segments it is a sequential segmented sum
  (``np.add.reduceat``), equal to each slice's ``.sum()`` to rounding (about 1e-15 relative per
  term), not bit for bit.

A selection (:meth:`Segments.first_k`) is the first ``k`` of each village in a *stable* sort
by the keys (``np.lexsort`` order: last key primary, ties in index order, NaN last), which is
what :func:`village_sim.mechanisms.register.lowest` and the visit policy's ``_first`` are
defined to return for one village.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["Segments"]

_Kind = Literal["stable", "quicksort"]


def _exact_as_float(key: np.ndarray) -> bool:
    """Whether a key keeps its order as float64 (floats, booleans, integers below 2**53)."""
    if key.dtype.kind in "fb":
        return key.dtype.itemsize <= 8
    if key.dtype.kind in "iu":
        return key.size == 0 or int(np.abs(key).max()) < 2**53
    return False


def _constant(key: np.ndarray) -> bool:
    """Whether every entry of a key is the same (NaN everywhere counts: NaNs tie)."""
    if key.size == 0 or bool((key == key[0]).all()):
        return True
    return key.dtype.kind == "f" and bool(np.isnan(key).all())


class Segments:
    """Segment bounds of a stacked array: segment ``v`` is ``[offsets[v], offsets[v + 1])``.

    Args:
        sizes: The length of each segment (households of each village), in order; zero allowed.

    Raises:
        ValueError: for no segment, or a size that is negative or not an integer.
    """

    def __init__(self, sizes: Sequence[int] | np.ndarray):
        raw = np.asarray(sizes)
        if raw.ndim != 1 or raw.size == 0:
            raise ValueError(f"parameter 'sizes': got {sizes!r}; allowed: a non-empty "
                             "sequence of integers >= 0")
        if raw.dtype.kind not in "iu" or (raw < 0).any():
            raise ValueError(f"parameter 'sizes': got {sizes!r}; allowed: integers >= 0")
        self.sizes = raw.astype(np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.village = np.repeat(np.arange(self.sizes.size, dtype=np.int64), self.sizes)
        self._starts = self.offsets[:-1][self.sizes > 0]
        self._nonempty = self.sizes > 0
        self._groups: list[tuple[int, np.ndarray, np.ndarray | None]] | None = None

    @property
    def n_segments(self) -> int:
        """Number of segments (villages)."""
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        """Total length (households of all villages)."""
        return int(self.offsets[-1])

    def block(self, v: int) -> slice:
        """Segment ``v`` as a slice of the stacked array."""
        return slice(int(self.offsets[v]), int(self.offsets[v + 1]))

    def _check(self, x: np.ndarray, name: str = "x") -> np.ndarray:
        x = np.asarray(x)
        if x.shape[:1] != (self.n,):
            raise ValueError(f"{name}: got an array of shape {x.shape}; allowed: length "
                             f"{self.n} (the stacked households)")
        return x

    # ------------------------------------------------------------------ reductions
    def _reduce(self, ufunc: np.ufunc, x: np.ndarray, empty: float | int,
                dtype: np.dtype) -> np.ndarray:
        x = self._check(x)
        out = np.full(self.n_segments, empty, dtype=dtype)
        if self._starts.size:
            out[self._nonempty] = ufunc.reduceat(x.astype(dtype, copy=False), self._starts)
        return out

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Sum of each segment (0 for an empty one); booleans and integers summed as int64.

        One segment: ``x.sum()``, bit for bit. Several: a segmented sum (module docstring).
        """
        x = self._check(x)
        dtype = np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
        if self.n_segments == 1:
            return np.array([x.sum(dtype=dtype)], dtype=dtype)
        return self._reduce(np.add, x, 0, dtype)

    def exact_sum(self, x: np.ndarray) -> np.ndarray:
        """Sum of each segment, bit for bit the segment's own ``x[block].sum()`` (0 if empty).

        numpy sums a contiguous array pairwise, and sums each row of a C-contiguous matrix the
        same way, so the segments of one length are summed as the rows of one matrix: one numpy
        call per distinct segment length (a county of equal villages: one call). What the county
        engine uses where a village's own mechanism sums floats (docs/county_engine.md, D4).
        """
        x = self._check(x)
        dtype = np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
        if self.n_segments == 1:
            return np.array([x.sum(dtype=dtype)], dtype=dtype)
        out = np.zeros(self.n_segments, dtype=dtype)
        for length, segs, index in self._length_groups():
            rows = np.ascontiguousarray(x) if index is None else x[index]
            out[segs] = rows.reshape(segs.size, length).sum(axis=1, dtype=dtype)
        return out

    def _length_groups(self) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
        """For each distinct non-zero length: its segments and their entries, row by row.

        The entries are None where the segments of one length are the whole array (villages
        of one size): its rows as they are.
        """
        if self._groups is None:
            self._groups = []
            for length in np.unique(self.sizes[self._nonempty]):
                segs = np.flatnonzero(self.sizes == length)
                index = (None if segs.size == self.n_segments else
                         (self.offsets[segs][:, None] + np.arange(length)).ravel())
                self._groups.append((int(length), segs, index))
        return self._groups

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Number of true entries of each segment (exact)."""
        return self.sum(np.asarray(mask, dtype=bool))

    def mean(self, x: np.ndarray) -> np.ndarray:
        """Mean of each segment (NaN for an empty one); one segment: ``x.mean()``."""
        x = self._check(x)
        if self.n_segments == 1:
            return np.array([x.mean()]) if x.size else np.array([np.nan])
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sum(x) / self.sizes

    def max(self, x: np.ndarray, empty: float = -np.inf) -> np.ndarray:
        """Maximum of each segment (``empty`` for an empty one)."""
        return self._reduce(np.maximum, x, empty, np.result_type(np.asarray(x), empty))

    def min(self, x: np.ndarray, empty: float = np.inf) -> np.ndarray:
        """Minimum of each segment (``empty`` for an empty one)."""
        return self._reduce(np.minimum, x, empty, np.result_type(np.asarray(x), empty))

    def any(self, mask: np.ndarray) -> np.ndarray:
        """Whether each segment has a true entry."""
        return self.count(mask) > 0

    # ------------------------------------------------------ per village <-> per household
    def broadcast(self, per_segment: np.ndarray) -> np.ndarray:
        """Each entry's segment value: ``per_segment[village]``."""
        per_segment = np.asarray(per_segment)
        if per_segment.shape[:1] != (self.n_segments,):
            raise ValueError(f"per_segment: got an array of shape {per_segment.shape}; "
                             f"allowed: length {self.n_segments} (one value per village)")
        return per_segment[self.village]

    def local_index(self) -> np.ndarray:
        """Each entry's index within its segment (the household's id in its village)."""
        return np.arange(self.n, dtype=np.int64) - self.offsets[self.village]

    # ------------------------------------------------------------------ order within villages
    def order(self, *keys: np.ndarray, stable: bool = True) -> np.ndarray:
        """Indices sorting each segment by ``keys``, segments in order (stable, NaN last).

        ``keys`` as for ``np.lexsort``: the last key is the primary one. Within a segment the
        order is exactly that segment's own ``np.lexsort(keys)`` (or stable ``argsort`` of one
        key), shifted by its offset.

        ``stable=False`` (one key): equal keys in any order, for callers that use only the
        sorted values (quantiles, a Gini): numpy's quicksort, two to three times faster.
        """
        if not keys:
            raise ValueError("keys: got none; allowed: one array or more")
        checked = [self._check(k, "key") for k in keys]
        kind: _Kind = "stable" if stable or len(checked) > 1 else "quicksort"
        if self.n_segments == 1:
            return (np.argsort(checked[0], kind=kind) if len(checked) == 1
                    else np.lexsort(checked))
        if len(checked) == 1:
            return self._order_one_key(checked[0], kind)
        rows = self._padded_rows()
        if rows is not None and all(_exact_as_float(k) for k in checked):
            return self._sorted_rows(np.lexsort([self._as_rows(k, rows) for k in checked],
                                                axis=1), rows)
        return np.lexsort((*checked, self.village))

    def _padded_rows(self) -> tuple[int, np.ndarray] | None:
        """(width, where each entry goes in a village × household matrix), or ``None``.

        ``None`` where the villages' sizes differ so much that the padded matrix would be more
        than twice the entries: one long sort is then cheaper than padded rows.
        """
        width = int(self.sizes.max())
        if self.n_segments * width > 2 * self.n + 1024:
            return None
        return width, self.village * width + self.local_index()

    def _as_rows(self, key: np.ndarray, rows: tuple[int, np.ndarray]) -> np.ndarray:
        """A key as a village × household float matrix, NaN after each village's entries.

        NaN sorts after every number and, in a stable sort, after a real entry's NaN too (the
        real entry comes first in its row): the padding always sorts last.
        """
        width, at = rows
        matrix = np.full(self.n_segments * width, np.nan)
        matrix[at] = key
        return matrix.reshape(self.n_segments, width)

    def _sorted_rows(self, within_rows: np.ndarray, rows: tuple[int, np.ndarray]) -> np.ndarray:
        """Stacked indices from each row's sorting permutation (padding dropped)."""
        width, _ = rows
        real = np.arange(width)[None, :] < self.sizes[:, None]
        return (within_rows + self.offsets[:-1, None])[real]

    def _order_one_key(self, key: np.ndarray, kind: _Kind = "stable") -> np.ndarray:
        """:meth:`order` for one key, faster than ``np.lexsort`` (the same order).

        A float key in villages of similar sizes is sorted row by row in a village × household
        matrix padded with NaN (which a stable sort puts after every real entry, NaN ones
        included): many short sorts, 2-3 times faster than one long one at 200 × 300. Else it
        is sorted whole and then, stably, by village (as 16-bit integers, which numpy sorts by
        radix).
        """
        rows = self._padded_rows() if key.dtype.kind == "f" else None
        if rows is not None:
            if kind != "stable" and np.isnan(key).any():
                kind = "stable"  # a NaN key must stay before the padding
            return self._sorted_rows(np.argsort(self._as_rows(key, rows), axis=1, kind=kind),
                                     rows)
        return self.regroup(np.argsort(key, kind=kind))

    def regroup(self, order: np.ndarray) -> np.ndarray:
        """The indices of ``order`` segment by segment, each segment's in their order there.

        From an order of the whole array (by a key, say), each segment's own order by that key,
        segments in order: a stable sort by segment (of 16-bit segment numbers where there are
        fewer than 2**15 segments, which numpy sorts by radix).
        """
        small = np.int16 if self.n_segments < 2**15 else np.int64
        return order[np.argsort(self.village[order].astype(small), kind="stable")]

    def rank(self, *keys: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Each entry's 0-based position within its segment in the order of :meth:`order`.

        With ``among`` (a mask), only those entries are ranked (their positions among
        themselves); the others get -1.
        """
        if among is None:
            idx = self.order(*keys)
            ranks = np.empty(self.n, dtype=np.int64)
            ranks[idx] = np.arange(self.n, dtype=np.int64) - self.offsets[self.village[idx]]
            return ranks
        among = self._check(among, "among").astype(bool, copy=False)
        chosen = np.flatnonzero(among)
        sub = Segments(self.count(among))
        # a key equal for every entry ranked changes no stable order: left out
        sub_keys = [k for k in (self._check(key, "key")[chosen] for key in keys)
                    if not _constant(k)]
        sub_ranks = sub.rank(*sub_keys) if sub_keys else sub.local_index()
        ranks = np.full(self.n, -1, dtype=np.int64)
        ranks[chosen] = sub_ranks
        return ranks

    def first_k(self, k: np.ndarray | int, *keys: np.ndarray,
                among: np.ndarray | None = None) -> np.ndarray:
        """Mask of the first ``k[v]`` entries of each segment ``v`` in the order of :meth:`order`.

        Args:
            k: Entries to take from each segment (an int for all, or one per segment); more
                than a segment holds takes all of it, a negative count none.
            *keys: Sort keys, ``np.lexsort`` order.
            among: Only these entries are candidates (default: all).
        """
        k_arr = np.broadcast_to(np.asarray(k, dtype=np.int64), (self.n_segments,))
        ranks = self.rank(*keys, among=among)
        return (ranks >= 0) & (ranks < self.broadcast(k_arr))
