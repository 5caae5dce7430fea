"""Golden outputs: the model's monthly metrics, household frame and decision log, exactly.

tests/golden/record.py wrote them from the model at a known commit. A commit that moves code
(refactoring) must leave every run equal to the last bit; a commit that changes a mechanism
re-records them on purpose and says why.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from record import HERE, REGIMES, SEEDS, golden_run  # noqa: E402

CASES = [(r, s) for r in REGIMES for s in SEEDS]


@pytest.mark.parametrize(("regime", "seed"), CASES, ids=[f"{r}-{s}" for r, s in CASES])
def test_outputs_equal_the_golden_record(regime: str, seed: int) -> None:
    for name, frame in golden_run(regime, seed).items():
        expected = pd.read_parquet(HERE / f"{regime}-{seed}-{name}.parquet")
        pd.testing.assert_frame_equal(frame, expected, check_exact=True, check_dtype=False,
                                      obj=f"{regime} seed {seed} {name}")
