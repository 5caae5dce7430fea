"""Record the golden outputs of the model as it stands (tests/test_golden.py compares to them).

Run from the project root: ``uv run python tests/golden/record.py``. Re-record only on purpose,
in the commit that changes a mechanism, and say in that commit why the outputs changed; a
commit that only moves code must leave them equal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

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
    for regime in REGIMES:
        for seed in SEEDS:
            for name, frame in golden_run(regime, seed).items():
                frame.to_parquet(HERE / f"{regime}-{seed}-{name}.parquet", index=False)
    print(f"recorded {len(REGIMES) * len(SEEDS)} runs into {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
