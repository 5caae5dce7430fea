"""Building a village: households, clans, the kinship and friendship networks, the committee.

Pure functions of an explicit ``rng`` (SPEC 7, as networkx generators take ``seed``): the same
generator state gives the same village. Everything is vectorized so that a 10,000-household
village is built in well under a second (../shared/DESIGN.md §6): networks are drawn as edge
arrays and held as scipy CSR matrices; a networkx graph is made only when someone asks for it.

Kinship follows the usual picture of a Chinese village: households belong to patrilineal clans
(宗族) of unequal size, are tied to several households of their own clan, and marriage ties cross
clans. Friendship is a second, sparser network across the whole village.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import scipy.sparse as sp

from village_sim import numerics
from village_sim.params import Parameters

__all__ = ["Cause", "Village", "build_village", "cadre_weight", "cause_of_poverty", "draw_greed",
           "positive_keys", "symmetric_adjacency", "tied_to", "unweighted_csr"]


class Cause(IntEnum):
    """The latent cause of a household's poverty (致贫原因)."""

    NONE = 0
    ILLNESS = 1
    LACK_OF_LABOUR = 2
    LACK_OF_SKILLS = 3
    LACK_OF_CAPITAL = 4


N_CAUSES = len(Cause) - 1  # causes a diagnosis can name (NONE excluded)


@dataclass
class Village:
    """Household columns and networks of a freshly built village.

    All arrays have one entry per household (length N), indexed by household id.
    """

    clan: np.ndarray
    persons: np.ndarray
    labour: np.ndarray
    skill: np.ndarray
    assets: np.ndarray
    sick: np.ndarray
    kin: sp.csr_matrix
    friends: sp.csr_matrix
    cadres: np.ndarray
    cadre_greed: np.ndarray


def symmetric_adjacency(n: int, src: np.ndarray, dst: np.ndarray) -> sp.csr_matrix:
    """Return an unweighted, symmetric CSR adjacency without self-loops or duplicate edges."""
    keep = src != dst
    src, dst = src[keep], dst[keep]
    rows = np.concatenate([src, dst]).astype(np.int64)
    cols = np.concatenate([dst, src]).astype(np.int64)
    return unweighted_csr(n, rows * n + cols)


def unweighted_csr(n: int, keys: np.ndarray) -> sp.csr_matrix:
    """The n × n CSR matrix with a 1.0 at each ``row * n + column`` of ``keys`` (repeats once).

    In scipy's canonical form (each row's columns ascending, no duplicates, no zeros), the
    arrays scipy's own ``csr_matrix((ones, (rows, cols)))`` with its data set to 1 gives, made
    from the sorted distinct keys.
    """
    keys = np.sort(keys)  # then each once (np.unique is several times slower here)
    distinct = np.ones(keys.size, dtype=bool)
    distinct[1:] = keys[1:] != keys[:-1]
    keys = keys[distinct]
    rows, cols = np.divmod(keys, n)
    indptr = np.concatenate([np.zeros(1, dtype=np.int64),
                             np.cumsum(np.bincount(rows, minlength=n))])
    return sp.csr_matrix((np.ones(keys.size), cols, indptr), shape=(n, n))


def tied_to(ties: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Households with a tie of positive weight to any of ``rows`` (a CSR matrix's columns).

    What ``ties[rows].sum(axis=0) > 0`` gives for ties of weight 0 or more, read from the rows'
    own entries (no sparse product: a village's state makes two of these).
    """
    out = np.zeros(ties.shape[1], dtype=bool)
    for r in rows.tolist():
        lo, hi = ties.indptr[r], ties.indptr[r + 1]
        out[ties.indices[lo:hi][ties.data[lo:hi] > 0]] = True
    return out


def ties_of(network: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many ties each of ``rows`` has, and where they lead (row after row, CSR order)."""
    start = network.indptr[rows]
    count = network.indptr[rows + 1] - start
    # each row's entries sit at start, start + 1, ...: shift a running index row by row
    shift = np.repeat(start - (np.cumsum(count) - count), count)
    return count, network.indices[shift + np.arange(shift.size)]


def positive_keys(ties: sp.csr_matrix) -> np.ndarray:
    """``row * n + column`` of each entry of a CSR matrix with positive weight."""
    rows = np.repeat(np.arange(ties.shape[0], dtype=np.int64), np.diff(ties.indptr))
    return (rows * ties.shape[1] + ties.indices)[ties.data > 0]


def _clan_sizes(n: int, n_clans: int, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """Assign households to clans whose expected sizes follow a Zipf law."""
    n_clans = min(n_clans, n)
    weights = 1.0 / np.arange(1, n_clans + 1) ** concentration
    # every clan gets at least one household, the rest are drawn by weight
    extra = rng.multinomial(n - n_clans, weights / weights.sum())
    return extra + 1


def _within_group_edges(
    members_sorted: np.ndarray,
    group_start: np.ndarray,
    group_size: np.ndarray,
    group_of: np.ndarray,
    degree: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw about ``degree / 2`` ties per household to random members of its own group."""
    n = group_of.size
    k = rng.poisson(degree / numerics.TIE_ENDS, size=n)
    src = np.repeat(np.arange(n), k)
    g = group_of[src]
    pos = group_start[g] + (rng.random(src.size) * group_size[g]).astype(np.int64)
    return src, members_sorted[pos]


def build_village(params: Parameters, rng: np.random.Generator) -> Village:
    """Build households, clans, networks and the committee from ``params`` and ``rng``.

    Args:
        params: Validated parameters (only the village's own parameters are read, so that a
            regime never changes the village).
        rng: The village stream of the model.

    Returns:
        The new village.
    """
    n = params.n_households
    sizes = _clan_sizes(n, params.n_clans, params.clan_concentration, rng)
    clan = rng.permutation(np.repeat(np.arange(sizes.size), sizes))

    persons = 1 + rng.poisson(params.mean_household_size - 1.0, size=n)
    labour = rng.binomial(persons, params.working_share)
    spread = params.skill_dispersion
    skill = rng.lognormal(numerics.unit_mean_log(spread), spread, size=n)
    sigma = params.asset_inequality
    mean_assets = params.mean_assets
    assets = (rng.lognormal(np.log(mean_assets) + numerics.unit_mean_log(sigma), sigma, size=n)
              if sigma > 0 and mean_assets > 0 else np.full(n, mean_assets))
    sick = rng.random(n) < params.initial_illness

    order = np.argsort(clan, kind="stable")
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ks, kd = _within_group_edges(order, start, sizes, clan, params.kin_degree, rng)
    # marriage ties: to a random household, kept only when it is of another clan
    m = rng.poisson(params.marriage_rate / numerics.TIE_ENDS, size=n)
    ms = np.repeat(np.arange(n), m)
    md = rng.integers(0, n, size=ms.size)
    cross = clan[ms] != clan[md]
    kin = symmetric_adjacency(n, np.concatenate([ks, ms[cross]]), np.concatenate([kd, md[cross]]))

    f = rng.poisson(params.friend_degree / numerics.TIE_ENDS, size=n)
    fs = np.repeat(np.arange(n), f)
    fd = rng.integers(0, n, size=fs.size)
    friends = symmetric_adjacency(n, fs, fd)

    # Cadres come disproportionately from big clans and better-off households.
    weight = cadre_weight(clan, assets, skill, params.cadre_skill_floor)
    if np.count_nonzero(weight > 0) < params.committee_size:  # no assets at all: anyone
        weight = np.ones(n)
    cadres = rng.choice(n, size=params.committee_size, replace=False, p=weight / weight.sum())
    cadres.sort()
    # Honesty varies between cadres: greed in (0, 2), mean 1.
    cadre_greed = draw_greed(params.committee_size, params.greed_concentration, rng)
    return Village(clan, persons, labour, skill, assets, sick, kin, friends, cadres, cadre_greed)


def cadre_weight(clan: np.ndarray, assets: np.ndarray, skill: np.ndarray,
                 skill_floor: float) -> np.ndarray:
    """Chance weight of becoming a cadre: larger clans and better-off households weigh more.

    ``clan size x sqrt(assets x (skill_floor + skill))`` (``cadre_skill_floor``).
    """
    sizes = np.bincount(clan)
    return sizes[clan].astype(np.float64) * np.sqrt(assets * (skill_floor + skill))


def draw_greed(size: int, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """Cadres' greed: honesty varies between cadres, greed in (0, 2) with mean 1.

    ``Beta(a, a)`` over its mean ``a / (a + a)`` (``a`` = ``greed_concentration``).
    """
    a = concentration
    return (a + a) / a * rng.beta(a, a, size=size)


def cause_of_poverty(
    sick: np.ndarray, labour: np.ndarray, persons: np.ndarray, skill: np.ndarray,
    assets: np.ndarray, labour_ratio: float | np.ndarray,
    skill_median: float | np.ndarray | None = None,
    asset_median: float | np.ndarray | None = None,
) -> np.ndarray:
    """Return each household's binding constraint as a :class:`Cause` code.

    Illness first (因病致贫), then too few workers for the mouths to feed, then whichever of
    skill and capital is lower relative to the village median (medians may be passed in when
    the caller knows them, to save the work; the ratio and medians may also be one per
    household, for households of several villages).
    """
    cause = np.full(sick.size, Cause.LACK_OF_CAPITAL, dtype=np.int8)
    med_skill = float(np.median(skill)) if skill_median is None else skill_median
    med_assets = float(np.median(assets)) if asset_median is None else asset_median
    cause[skill * med_assets < assets * med_skill] = Cause.LACK_OF_SKILLS
    cause[labour < labour_ratio * persons] = Cause.LACK_OF_LABOUR
    cause[sick] = Cause.ILLNESS
    return cause
