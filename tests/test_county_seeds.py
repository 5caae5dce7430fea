"""A county's random streams are keyed (seed, village, purpose) (docs/county_engine.md, D1)."""

from __future__ import annotations

import numpy as np
import pytest

from village_sim.model import VillageModel
from village_sim.rng import COUNTY_KEY, county_seed, village_seed


def test_a_village_s_seed_is_keyed_by_county_seed_and_village_alone() -> None:
    def first_months(seed: object) -> list[float]:
        model = VillageModel(rng=seed, regime="committee_only", n_households=60)
        for _ in range(3):
            model.step()
        return [model.metrics()["poverty_headcount"], float(model.assets.sum())]

    # the same (seed, village) is the same village, built anywhere, any number of times
    assert first_months(village_seed(7, 3)) == first_months(village_seed(7, 3))
    # another village, another seed, or the county's own key: other draws
    assert first_months(village_seed(7, 3)) != first_months(village_seed(7, 4))
    assert first_months(village_seed(7, 3)) != first_months(village_seed(8, 3))
    county = np.random.Generator(np.random.PCG64(county_seed(7))).random(4)
    village = np.random.Generator(np.random.PCG64(village_seed(7, 0))).random(4)
    assert not np.array_equal(county, village)
    assert county_seed(7).spawn_key == (COUNTY_KEY,)
    for bad, words in (((-1, 0), "parameter 'seed': got -1"),
                       ((1, COUNTY_KEY), f"parameter 'village': got {COUNTY_KEY}; allowed: a "
                        f"non-negative integer below {COUNTY_KEY}"),
                       ((1.5, 0), "parameter 'seed': got 1.5")):
        with pytest.raises(ValueError, match=words):
            village_seed(*bad)  # type: ignore[arg-type]
