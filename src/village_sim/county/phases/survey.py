"""The yearly survey and accountability after it, for a county.

Mirrors :func:`village_sim.mechanisms.survey.run` and
:func:`village_sim.mechanisms.elections.after_survey`.

Each village's sample is its own ``survey`` stream's permutation of its households (one call
per village, every survey); the rates are counted in all samples at once. Each committee then
draws one uniform per cadre (every village, every survey); in villages over the thresholds the
cadres drawn below ``survey_replacement`` are replaced
(:func:`village_sim.county.phases.turnover.replace_cadres`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import metrics as M
from village_sim.county.phases import turnover
from village_sim.county.phases.draws import permutation_each, random_each
from village_sim.segments import Segments

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def run(e: StackedVillages) -> None:
    """The survey (三率一度) of every village, then accountability (问责) after it."""
    survey(e)
    after_survey(e)


def survey(e: StackedVillages) -> None:
    """The third-party survey of every village (as ``survey.run``)."""
    vs, seg, P, c = e.villages, e.segments, e.params, e.stack.columns
    month = int(vs[0].steps)
    # each village's permutation(n) of its households, and the first of them sampled
    order = permutation_each(e, "survey", np.arange(len(vs)), seg.local_index(), seg.sizes)
    sizes = np.array([min(v.n, max(1, int(round(v.p.survey_sample * v.n)))) for v in vs],
                     dtype=np.int64)
    within = Segments(sizes)  # the samples, village after village
    sample = order[seg.offsets[:-1][within.village] + within.local_index()] \
        + seg.offsets[:-1][within.village]
    sv = within.village
    poor = e.y[sample] < P("poverty_line")[sv]
    reg = c["registered"][sample]
    exited = (month - c["exit_month"][sample] < 12) & ~reg
    approving = c["trust"][sample] >= P("approval_threshold")[sv]
    counts = zip(*(within.count(x).tolist() for x in (
        poor & ~reg, ~reg, poor & exited, exited)), strict=True)
    # np.mean of a sample's flags: their count over its size, in float64
    approval = (within.count(approving) / sizes).tolist()
    poor_share = (within.count(poor) / sizes).tolist()
    for v, (missed, listed_not, wrongful, out), a, share in zip(vs, counts, approval,
                                                                poor_share, strict=True):
        v.survey = {
            "missed_poor_rate": M.ratio(float(missed), float(listed_not)),
            "wrongful_exit_rate": M.ratio(float(wrongful), float(out)),
            "approval": a,
            "survey_poor_share": share,
        }


def after_survey(e: StackedVillages) -> None:
    """Cadres replaced in the villages over the thresholds (as ``elections.after_survey``)."""
    vs, P = e.villages, e.params
    e.cadres.refresh()
    cad = e.cadres
    u = random_each(e, "committee", np.arange(len(vs)), cad.segments.sizes)
    missed = np.array([v.survey["missed_poor_rate"] for v in vs])
    wrongful = np.array([v.survey["wrongful_exit_rate"] for v in vs])
    # NaN (nobody to rate) is over no threshold
    failed = P("survey_consequences").astype(bool) & (
        (missed > P("missed_poor_threshold")) | (wrongful > P("wrongful_exit_threshold")))
    if not failed.any():
        return
    for i in np.flatnonzero(failed).tolist():
        vs[i].failed_assessments += 1
    turnover.replace_cadres(e, failed, u < P("survey_replacement")[cad.village])
