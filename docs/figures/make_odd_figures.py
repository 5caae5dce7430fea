"""Figures and the indicative regime table for docs/ODD.md.

Runs every regime of ``village_sim.params.REGIMES`` on the same seeds (common random numbers)
with default parameters, then

* draws ``docs/figures/odd_regimes.png``: six metrics month by month, mean over seeds, one
  line per regime (identification months marked);
* prints a Markdown table of each metric's mean over the final 12 months (mean over seeds),
  the table quoted in docs/ODD.md §1.

Usage (from the repository root)::

    uv run python docs/figures/make_odd_figures.py [--seeds 10] [--steps 48]

Only the public API is used (``VillageModel``, ``REGIMES``, the DataCollector), so the script
does not depend on the experiment module's internals.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from village_sim import REGIMES, VillageModel  # noqa: E402

HERE = Path(__file__).resolve().parent
PLOTTED = (
    ("mistargeting", "mistargeting (share of households)"),
    ("kin_premium", "kin premium (registration)"),
    ("diverted_share", "diverted share (last 12 months)"),
    ("mean_trust", "mean trust in the committee"),
    ("poverty_headcount_post", "headcount, post-transfer"),
    ("approval", "approval (yearly survey)"),
)
TABLE = (
    "mistargeting", "inclusion_error_nonpoor", "exclusion_error", "kin_premium",
    "amount_kin_premium", "diverted_share", "poverty_headcount", "poverty_headcount_post",
    "mean_trust", "approval", "missed_poor_rate", "wrongful_exit_rate",
    "amount_kin_premium_yuan", "missing_funds_share", "team_visits_demanded", "team_visits_done",
    "team_known_share", "perceived_detection", "registration_favoritism_dared",
    "amount_favoritism_dared", "project_capture_dared", "failed_assessments",
    "cadre_replacements", "exclusion_error_at_identification",
    "inclusion_error_leakage_at_identification", "kin_premium_at_identification",
    "project_gain_gradient",
)


def run(seeds: int, steps: int) -> pd.DataFrame:
    """Run every regime on seeds 0..seeds-1 and stack the monthly series."""
    frames = []
    for regime in REGIMES:
        for seed in range(seeds):
            model = VillageModel(rng=seed, regime=regime)
            for _ in range(steps):
                model.step()
            df = model.datacollector.get_model_vars_dataframe()
            df.insert(0, "step", range(len(df)))
            df.insert(0, "seed", seed)
            df.insert(0, "regime", regime)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def plot(df: pd.DataFrame, path: Path) -> None:
    """Six metrics over time, mean over seeds, one line per regime."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
    mean = df.groupby(["regime", "step"], sort=False).mean(numeric_only=True)
    last = int(df["step"].max())
    for ax, (name, title) in zip(axes.ravel(), PLOTTED, strict=True):
        for regime in REGIMES:
            series = mean.loc[regime][name]
            ax.plot(series.index, series.values, label=regime, lw=1.4)
        for month in range(1, last + 1, 12):
            ax.axvline(month, color="0.85", lw=0.8, zorder=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("month")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"Regimes on the same {df['seed'].nunique()} seeds, default parameters "
                 "(grey lines: identification months)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(df: pd.DataFrame) -> str:
    """Markdown table: metric means over the final 12 months, averaged over seeds."""
    last = int(df["step"].max())
    window = df[df["step"] > last - 12]
    per_seed = window.groupby(["regime", "seed"], sort=False)[list(TABLE)].mean()
    means = per_seed.groupby("regime", sort=False).mean()
    regimes = list(REGIMES)
    lines = ["| metric | " + " | ".join(f"`{r}`" for r in regimes) + " |",
             "|---" * (len(regimes) + 1) + "|"]
    for name in TABLE:
        cells = [f"{means.loc[r, name]:.3f}" for r in regimes]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, plot and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=48)
    args = parser.parse_args()
    df = run(args.seeds, args.steps)
    plot(df, HERE / "odd_regimes.png")
    print(table(df))


if __name__ == "__main__":
    main()
