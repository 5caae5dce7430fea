"""What tests of counties share: two counties stepped side by side and compared exactly."""

from __future__ import annotations

from typing import Any

import pandas as pd


def step_and_compare(a: Any, b: Any, months: int) -> None:
    """Step two ``CountyModel``s ``months`` months; their county and village-year frames match.

    Exactly (no tolerance): the county's monthly metrics and every village's yearly metrics,
    team, budget and quota.
    """
    for _ in range(months):
        a.step()
        b.step()
    pd.testing.assert_frame_equal(a.county_frame(), b.county_frame(), check_exact=True)
    pd.testing.assert_frame_equal(a.village_year_frame(), b.village_year_frame(),
                                  check_exact=True)
