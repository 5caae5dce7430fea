"""The re-check (回头看) for a county (mirrors :func:`village_sim.mechanisms.recheck.run`).

The upper levels' draws (a uniform and a measurement error per household, on each village's
``upper`` stream, every re-check month) are one pair of calls per village; the sample, the
removals, the households put back within each village's quota, the log and the helpers
assigned again (:mod:`village_sim.county.phases.responsible_helpers`) are worked out for all
villages at once. A supervising team's sample is one ``random`` call per village with a pool to
sample from, on its ``team`` stream, and joins its queue of visits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.agents import lognormal_law
from village_sim.codes import Actor, Outcome, Reason
from village_sim.county.phases import register, responsible_helpers
from village_sim.county.phases.draws import lognormal_each, random_each
from village_sim.mechanisms import deterrence
from village_sim.state import Purpose

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages


def run(e: StackedVillages) -> None:
    """The upper levels' re-check, then the teams' requests, in every village."""
    upper_recheck(e)
    team_recheck(e)


def _sample_pool(e: StackedVillages) -> np.ndarray:
    """The registered households and those declared out in the last 12 months (a mask)."""
    c = e.stack.columns
    month = int(e.villages[0].steps)
    recently_exited = (month - c["exit_month"] <= 12) & ~c["registered"]
    return c["registered"] | recently_exited


def upper_recheck(e: StackedVillages) -> None:
    """Upper levels re-check a sample in every village (as ``recheck.upper_recheck``)."""
    vs, seg, P, c = e.villages, e.segments, e.params, e.stack.columns
    # drawn every re-check month (CRN): random(n), then the measurement's noise
    # (agents.lognormal_factor: no draw without noise)
    every = np.arange(len(vs))
    u = random_each(e, "upper", every, seg.sizes)
    noise = np.ones(seg.n)
    noisy = P("upper_recheck_noise") > 0
    mu, sigma = P.derived("upper_recheck_noise_law", lambda p: lognormal_law(
        p.upper_recheck_noise) if p.upper_recheck_noise > 0 else (0.0, 0.0)).T
    noise[noisy[seg.village]] = lognormal_each(e, "upper", every[noisy], seg.sizes[noisy],
                                               mu[noisy], sigma[noisy])
    acting = P("upper_recheck").astype(bool) & e.gather("identified", bool)
    if not acting.any():
        return
    sample = _sample_pool(e) & (u < P.of_households("upper_recheck_share")) & acting[seg.village]
    checked = seg.any(sample)  # villages with a sample
    if not checked.any():
        return
    registered = c["registered"]
    est = e.y * noise
    z = P.of_households("poverty_line")
    remove = sample & registered & (est >= z)
    candidates = sample & ~registered & (est < z)
    for i, found in enumerate(seg.count(c["favoured_entry"] & remove).tolist()):
        if checked[i]:
            deterrence.record_detections(vs[i], "registration", found, 0.0)
    registered[remove] = False
    restore = register.poorest_within_quota(e, candidates, est)
    register.put_back(e, restore)
    register.log_changes(e, Actor.UPPER, [(remove, Outcome.REMOVED, Reason.RECHECK_NOT_POOR),
                                          (restore, Outcome.RE_REGISTERED,
                                           Reason.RECHECK_STILL_POOR)])
    responsible_helpers.assign(e, checked)


def team_recheck(e: StackedVillages) -> None:
    """Supervising teams queue their re-check samples (as ``recheck.team_recheck``)."""
    vs, seg, P, c = e.villages, e.segments, e.params, e.stack.columns
    sampling = np.array([v.supervising and v.p.recheck and v.identified for v in vs],
                        dtype=bool)
    if not sampling.any():
        return
    pool = _sample_pool(e) & sampling[seg.village]
    idx = np.flatnonzero(pool)
    u = random_each(e, "team", np.arange(len(vs)), seg.count(pool))
    requested = idx[u < P.of_households("recheck_share")[idx]]
    month = int(vs[0].steps)
    c["pending_since"][requested] = np.minimum(c["pending_since"][requested], month)
    c["pending_purpose"][requested] |= Purpose.RECHECK
