"""Cadres replaced in many villages at once.

Mirrors :func:`village_sim.mechanisms.elections.replace_cadres` and the seating of a committee
(:meth:`village_sim.state.VillageState.set_cadres`).

Who may take a seat and how likely (``cadre_weight`` of every household, the weights' sums per
village) is worked out for all villages at once; who takes it is each village's own
``choice`` on its committee's stream, followed by the newcomers' greed (``beta``) and
misperception of risk (``standard_normal``): three generator calls per village that replaces
cadres (D3), made for all such villages in one compiled loop where the county has one
(``kernels.newcomer_blocks``). The per-seat arrays (greed, times caught, perception: the
county's, each committee's a view, ``Cadres``) take the newcomers and are reordered by
household for all villages at once; each committee's ring of takings is reordered on its own
(the reorder gives it the layout its village's own would have). Seating the new committee
(``VillageState.set_cadres``: who is a cadre, a cadre's kin or friend, how favoured) is done
for all those villages at once on the stacked columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.county.phases.draws import kernels, typed_streams
from village_sim.segments import Segments
from village_sim.village import draw_greed, ties_of

if TYPE_CHECKING:
    import scipy.sparse as sp

    from village_sim.county.stacked import StackedVillages

__all__ = ["replace_cadres", "seat"]


def replace_cadres(e: StackedVillages, replacing: np.ndarray, leaving: np.ndarray) -> None:
    """Replace the cadres flagged in ``leaving`` in the villages flagged in ``replacing``.

    Args:
        e: The villages, with ``e.cadres`` up to date.
        replacing: One flag per village: the villages that replace cadres now.
        leaving: One flag per cadre of the county (``e.cadres``' order): the seats to fill.
    """
    vs, seg, cad = e.villages, e.segments, e.cadres
    c = e.stack.columns
    cadre = c["cadre"]
    # the seats filled: a tiny village may have fewer candidates than seats
    available = ~cadre & replacing[seg.village]
    n_available = seg.count(available)
    seats = np.minimum(cad.segments.count(leaving & replacing[cad.village]), n_available)
    filling = seats > 0
    if not filling.any():
        return
    available &= filling[seg.village]
    candidates = np.flatnonzero(available)
    weight = _cadre_weight(e)[candidates]
    by_village = Segments(n_available[filling])
    anyone = by_village.count(weight > 0) < seats[filling]  # too few with assets or skill
    if anyone.any():
        weight[anyone[by_village.village]] = 1.0
    p = weight / by_village.exact_sum(weight)[by_village.village]

    villages = np.flatnonzero(filling)
    k = seats[filling]
    taken = Segments(k)
    drawn = _draw_newcomers(e, villages, candidates, by_village, k, p)
    if drawn is None:  # each village's own calls
        drawn = _draw_newcomers_each(e, villages, candidates, by_village, k, p)
    newcomers, greed, perception = drawn

    # the seats they take: each village's first k seats flagged, in seat order
    at = np.flatnonzero(cad.segments.first_k(seats, among=leaving & filling[cad.village]))
    # the committees' per-seat arrays (views of the county's, Cadres): the newcomers written
    # in, then each committee's seats reordered by household, as elections.replace_cadres
    # reorders one committee
    offsets = seg.offsets
    cadres = cad.household - offsets[cad.village]
    cadres[at] = newcomers - offsets[villages[taken.village]]
    cad.greed[at] = greed
    cad.times_caught[at] = 0
    cad.risk_perception[at] = perception
    order = np.lexsort((cadres, cad.village))  # within each village, by household
    cadres, greed_all = cadres[order], cad.greed[order]
    caught, seen = cad.times_caught[order], cad.risk_perception[order]
    seats_of = np.split(at, np.cumsum(k)[:-1])
    for j, i in enumerate(villages.tolist()):
        v, b = vs[i], cad.segments.block(i)
        committee = v.committee
        ring = committee.diverted_ring
        ring[:, seats_of[j] - b.start] = 0.0
        committee.diverted_ring = ring[:, order[b] - b.start]
        committee.cadres, committee.greed = cadres[b], greed_all[b]
        committee.times_caught, v.risk_perception = caught[b], seen[b]
        v.cadre_replacements += int(k[j])
    seated = np.zeros(len(vs), dtype=bool)
    seated[villages] = True
    seat(e, seated)


def _draw_newcomers(e: StackedVillages, villages: np.ndarray, candidates: np.ndarray,
                    by_village: Segments, seats: np.ndarray, p: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each village's newcomers, their greed and misperception, in one compiled loop.

    Village after village on its committee's stream: ``choice(candidates, seats,
    replace=False, p)``, then ``village.draw_greed``'s ``beta`` and the misperception's
    ``standard_normal`` (``kernels.newcomer_blocks``). The newcomers (households of the
    stack), greed and misperception, village after village; None without the compiled loops,
    or where numpy would refuse a village's probabilities (its own call then raises).
    """
    compiled = kernels(e)
    if compiled is None:
        return None
    n = int(seats.sum())
    places, raw, normal = np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
    P = e.params
    a = P("greed_concentration")[villages]
    refused = compiled.newcomer_blocks(
        typed_streams(e, "committee"), villages, by_village.offsets[:-1],
        by_village.offsets[1:], seats.astype(np.int64), p, a, places, raw, normal)
    if refused >= 0:
        return None
    taken = Segments(seats).village
    sigma = P("perception_noise")[villages][taken]
    return (candidates[by_village.offsets[:-1][taken] + places],
            ((a + a) / a)[taken] * raw,  # village.draw_greed's arithmetic
            numerics.mean_one(sigma * normal, sigma * sigma))


def _draw_newcomers_each(e: StackedVillages, villages: np.ndarray, candidates: np.ndarray,
                         by_village: Segments, seats: np.ndarray, p: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_draw_newcomers` by each village's own calls (numpy's errors where it refuses)."""
    vs = e.villages
    newcomers, greed, perception = [], [], []
    for j, i in enumerate(villages.tolist()):
        v, k = vs[i], int(seats[j])
        rng = v.committee.stream
        block = by_village.block(j)
        newcomers.append(rng.choice(candidates[block], size=k, replace=False, p=p[block]))
        greed.append(draw_greed(k, v.p.greed_concentration, rng))
        sigma = v.p.perception_noise
        perception.append(numerics.mean_one(sigma * rng.standard_normal(k), sigma * sigma))
    return np.concatenate(newcomers), np.concatenate(greed), np.concatenate(perception)


def _cadre_weight(e: StackedVillages) -> np.ndarray:
    """``village.cadre_weight`` of every household, each with its own village's clans."""
    seg, c = e.segments, e.stack.columns
    clan = c["clan"].astype(np.int64)
    clans = seg.max(clan, empty=-1) + 1  # each village's clans, numbered from 0
    first = np.concatenate([[0], np.cumsum(clans)[:-1]])
    key = first[seg.village] + clan
    sizes = np.bincount(key)[key]
    floor = e.params.of_households("cadre_skill_floor")
    return sizes.astype(np.float64) * np.sqrt(c["assets"] * (floor + c["skill"]))


def seat(e: StackedVillages, villages: np.ndarray) -> None:
    """``VillageState.set_cadres(committee.cadres)`` of each village flagged in ``villages``.

    Who is a cadre, a cadre's kin or friend, and how favoured, written on the stacked columns
    for those villages' households; each village's sorted cadres and its cadres' kin lists.
    """
    if not villages.any():
        return
    vs, seg, c = e.villages, e.segments, e.stack.columns
    chosen = np.flatnonzero(villages).tolist()
    offsets = seg.offsets
    cadres = [np.sort(vs[i].committee.cadres) for i in chosen]
    rows = np.concatenate([x + offsets[i] for i, x in zip(chosen, cadres, strict=True)])
    here = villages[seg.village]
    cadre = np.zeros(seg.n, dtype=bool)
    cadre[rows] = True
    kin = _reached(e.stack.kin, rows, seg.n) & ~cadre
    friend = _reached(e.friends, rows, seg.n) & ~cadre
    fav = np.where(cadre | kin, 1.0, np.where(friend, e.params.of_households("friend_weight"),
                                               0.0))
    for name, value in (("cadre", cadre), ("cadre_kin", kin), ("fav_weight", fav),
                        ("cadre_friend", friend)):
        c[name][here] = value[here]
    for i, x in zip(chosen, cadres, strict=True):
        v = vs[i]
        v.cadres = x
        k = v.kin
        v.cadre_kin_lists = [k.indices[k.indptr[h]:k.indptr[h + 1]] for h in x]


def _reached(m: sp.csr_matrix, rows: np.ndarray, n: int) -> np.ndarray:
    """Columns with an entry in any of ``rows`` of ``m``.

    ``m[rows].sum(axis=0) > 0`` for a matrix of positive entries, as kinship and friendship are.
    """
    out = np.zeros(n, dtype=bool)
    out[ties_of(m, rows)[1]] = True
    return out
