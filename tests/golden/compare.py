"""Compare every golden run with its record, exactly; print {case: mismatch or ""} as JSON.

Run by tests/test_golden.py in a process started with ``NPY_DISABLE_CPU_FEATURES`` set to
:data:`record.NUMPY_CPU` (numpy reads it only when imported), so that the comparison is to
the last bit on any x86-64 machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from record import HERE, NUMPY_CPU, REGIMES, SEEDS, golden_run  # noqa: E402


def main() -> int:
    if os.environ.get("NPY_DISABLE_CPU_FEATURES") != NUMPY_CPU:
        print(f"run with NPY_DISABLE_CPU_FEATURES={NUMPY_CPU!r}", file=sys.stderr)
        return 2
    out = {}
    for regime in REGIMES:
        for seed in SEEDS:
            problems = []
            for name, frame in golden_run(regime, seed).items():
                expected = pd.read_parquet(HERE / f"{regime}-{seed}-{name}.parquet")
                try:
                    pd.testing.assert_frame_equal(frame, expected, check_exact=True,
                                                  check_dtype=False,
                                                  obj=f"{regime} seed {seed} {name}")
                except AssertionError as err:
                    problems.append(str(err))
            out[f"{regime}-{seed}"] = "\n".join(problems)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
