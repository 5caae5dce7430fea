"""Seeds and random streams (SPEC 7; ../shared/DESIGN.md §4).

One ``rng`` argument per model. :func:`normalize_rng` accepts what users pass;
:func:`root_seed_sequence` turns it into the ``SeedSequence`` from which the model spawns one
independent stream per purpose (:data:`STREAMS`), so that two regimes on the same seed face the
same village and the same shocks (common random numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["COUNTY_KEY", "LATER_STREAMS", "STREAMS", "county_seed", "normalize_rng",
           "root_seed_sequence", "spawn_streams", "village_seed"]

STREAMS = (
    "village", "shocks", "committee", "team", "upper", "helpers", "villagers", "survey", "events",
    "projects",
)
LATER_STREAMS = ("certification",)
"""Streams added after Mesa's generator was spawned last: they are spawned after it, so every
earlier stream (and every result that draws nothing from the new ones) is what it was."""


def normalize_rng(rng: Any) -> Any:
    """Accept what users pass as a seed: ints, numeric strings (the app's seed box), generators.

    Raises:
        ValueError: for anything else (a non-numeric string, a negative or fractional number, a
            bool), naming the value and what is allowed.
    """
    bad = ValueError(
        f"parameter 'rng': got {rng!r}; allowed: a non-negative integer seed, a numeric "
        "string, a numpy Generator or SeedSequence, or None"
    )
    if isinstance(rng, bool):
        raise bad
    if isinstance(rng, str):
        try:
            rng = int(rng.strip())
        except ValueError:
            raise bad from None
    if isinstance(rng, float):
        if not rng.is_integer():
            raise bad
        rng = int(rng)
    if isinstance(rng, np.integer):
        rng = int(rng)
    if isinstance(rng, int):
        if rng < 0:
            raise bad
        return rng
    if rng is None or isinstance(
        rng, np.random.Generator | np.random.SeedSequence | np.random.BitGenerator
    ):
        return rng
    raise bad


def root_seed_sequence(rng: Any) -> np.random.SeedSequence:
    """The SeedSequence all of a model's streams are spawned from.

    An int, None or a SeedSequence is a *seed*: the same one gives the same model every time
    (a SeedSequence is copied, so passing one object to two regimes gives both the same
    village). A Generator or BitGenerator is a *stream*: the model draws its entropy from it,
    so it is consumed, as SPEC 7 expects.
    """
    if isinstance(rng, np.random.SeedSequence):
        return np.random.SeedSequence(rng.entropy, spawn_key=rng.spawn_key,
                                      pool_size=rng.pool_size)
    if isinstance(rng, np.random.BitGenerator):
        rng = np.random.Generator(rng)
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence([int(x) for x in rng.integers(2**63, size=4)])
    return np.random.SeedSequence(rng)


def spawn_streams(seed_seq: np.random.SeedSequence) -> tuple[dict[str, np.random.Generator],
                                                              np.random.Generator]:
    """One generator per purpose in :data:`STREAMS` and :data:`LATER_STREAMS`, and Mesa's ``rng``.

    Children ``0 … len(STREAMS) - 1`` are the streams, the next one Mesa's, then the later
    streams: a ``SeedSequence``'s i-th child does not depend on how many are spawned.
    """
    children = seed_seq.spawn(len(STREAMS) + 1 + len(LATER_STREAMS))
    names = (*STREAMS, "mesa", *LATER_STREAMS)
    generators = {name: np.random.Generator(np.random.PCG64(child))
                  for name, child in zip(names, children, strict=True)}
    mesa = generators.pop("mesa")
    return generators, mesa


COUNTY_KEY = 2**32 - 1
"""The spawn key of a county's own streams; villages are numbered below it."""


def village_seed(seed: int, village: int) -> np.random.SeedSequence:
    """The seed of village ``village`` of a county seeded ``seed``, keyed (seed, village).

    ``VillageModel(rng=village_seed(s, v), ...)`` is village v of the county: its streams
    depend on nothing but ``s`` and ``v`` — not on the number of villages, the deployment rule
    or the order of the phases — so a village meets the same shocks under every rule (common
    random numbers across rules; docs/county_engine.md, D1).

    Raises:
        ValueError: for a seed or village that is not a non-negative integer (below
            :data:`COUNTY_KEY` for a village).
    """
    for name, value, high in (("seed", seed, None), ("village", village, COUNTY_KEY)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0 \
                or (high is not None and value >= high):
            allowed = "a non-negative integer" + (f" below {high}" if high else "")
            raise ValueError(f"parameter {name!r}: got {value!r}; allowed: {allowed}")
    return np.random.SeedSequence(int(seed), spawn_key=(int(village),))


def county_seed(seed: int) -> np.random.SeedSequence:
    """The seed of the county's own streams (budget and deployment rules, county audits).

    Keyed apart from every village's (:data:`COUNTY_KEY`): what the county draws never moves a
    village's draws.
    """
    village_seed(seed, 0)  # the same check of the seed
    return np.random.SeedSequence(int(seed), spawn_key=(COUNTY_KEY,))
