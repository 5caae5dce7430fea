"""The yearly third-party survey (三率一度) on its own random stream. ODD §7.10."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import metrics as M

if TYPE_CHECKING:
    from village_sim.state import VillageState


def run(s: VillageState) -> None:
    """Phase 10 (yearly, month 12): a third-party survey on its own random stream (三率一度).

    A sample of ``survey_sample`` of households, drawn the same way whatever the state:
    missed-poor rate (漏评率) = poor among sampled non-registered; wrongful-exit rate
    (错退率) = still poor among sampled households exited in the last year; approval
    (认可度) = share of sampled households whose trust is at least 0.5; the poor share of
    the sample (what ``quota_schedule = "falling"`` sets next year's quota from).
    """
    rng = s.streams["survey"]
    order = rng.permutation(s.n)
    m = max(1, int(round(s.p.survey_sample * s.n)))
    sample = order[:m]
    poor = s.poor()[sample]
    reg = s.registered[sample]
    exited = (s.steps - s.exit_month[sample] < 12) & ~reg
    s.survey = {
        "missed_poor_rate": M.ratio(float(np.sum(poor & ~reg)), float(np.sum(~reg))),
        "wrongful_exit_rate": M.ratio(float(np.sum(poor & exited)), float(np.sum(exited))),
        "approval": float(np.mean(s.trust[sample] >= s.p.approval_threshold)),
        # the poor share of the sampled households: what a falling quota follows
        "survey_poor_share": float(np.mean(poor)),
    }
