"""Record the golden outputs of the model as it stands (tests/test_golden.py compares to them).

Run from the project root: ``uv run python tests/golden/record.py``. Re-record only on purpose,
in the commit that changes a mechanism, and say in that commit why the outputs changed; a
commit that only moves code must leave them equal.

The records are made, and compared, under one numerical environment: numpy with its AVX-512
code paths switched off (:data:`NUMPY_CPU`). On a CPU with AVX-512, numpy computes ``exp``,
``log`` and some reductions with other instructions whose results differ in the last bit, so
the same seed gives outputs equal to about 1e-15 but not to the last bit across machines; with
those paths off, every x86-64 machine computes the same bits (``tests/test_golden.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

NUMPY_CPU = "X86_V4 AVX512_ICL AVX512_SPR"
"""``NPY_DISABLE_CPU_FEATURES`` of the records: numpy's AVX-512 dispatch off (numpy reads it
when it is imported, so the records are made and compared in a process started with it)."""

HERE = Path(__file__).parent
REGIMES = ("committee_only", "committee_plus_mobilization", "team_and_committee",
           "team_without_supervision", "team_alone")
SEEDS = (11, 12)
STEPS = 36


def golden_run(regime: str, seed: int) -> dict[str, pd.DataFrame]:
    """The three outputs of one run: monthly metrics, household frame, decision log."""
    from village_sim import VillageModel

    model = VillageModel(rng=seed, regime=regime)
    for _ in range(STEPS):
        model.step()
    metrics = model.datacollector.get_model_vars_dataframe().reset_index(names="step")
    households = model.household_frame()
    households["cause"] = households["cause"].astype(str)
    return {"metrics": metrics, "households": households, "decisions": model.decision_log()}


def main() -> int:
    if os.environ.get("NPY_DISABLE_CPU_FEATURES") != NUMPY_CPU:
        env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": NUMPY_CPU}
        return subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env).returncode
    for regime in REGIMES:
        for seed in SEEDS:
            for name, frame in golden_run(regime, seed).items():
                frame.to_parquet(HERE / f"{regime}-{seed}-{name}.parquet", index=False)
    print(f"recorded {len(REGIMES) * len(SEEDS)} runs into {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
