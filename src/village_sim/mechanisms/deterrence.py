"""Deterrence: how much each cadre takes through each channel, and what a detection costs.

ODD §7.4 ("Deterrence"); DESIGN §3 and §10. Sources: Becker 1968 (crime as a choice weighing
gain against expected penalty); Allingham & Sandmo 1972 and the tax-compliance ABMs that
follow them (an interior evasion choice under audit probability and fine); Hammond 2000
(corruption spreading through what agents see of detections); Olken 2007 (audits reduce, but
do not abolish, missing expenditures).

The choice. A cadre with inclination ``g`` (its greed times the channel's base propensity)
chooses the share ``f`` of what passes through its hands to take. Per yuan it gains ``f``;
checks find a taking with a probability that grows with its size, ``P * f / (f + kappa)``
(small takings hide better; ``kappa`` is ``detection_scale``), and a finding costs restitution
plus ``sanction`` times the amount; a moral and social cost ``f**2 / (2 g)`` rises with the
amount. The best share solves

    1 - P (1 + sanction) (f**2 + 2 f kappa) / (f + kappa)**2 - f / g = 0,

so it is ``g`` when nothing is watched, falls smoothly as ``P`` or ``sanction`` rise, and stays
positive for every ``P < 1``-world unless ``g = 0``: no cliff at which diversion stops.

Perceived risk. ``P`` is each cadre's own belief, for the year ahead: the announced audit rule
(``audit_probability * detection``, misperceived by a cadre-specific factor with log-sigma
``perception_noise``) combined with what the cadre has *seen* in the last ``risk_memory``
months (12): how often takings in the village were found by checks other than audits (the
team's visits, re-checks, complaints), per month of exposure to them. A team that never finds
anything raises nobody's perceived risk, whatever its presence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.state import CHANNELS, MATERIAL_YUAN

if TYPE_CHECKING:
    from village_sim.state import VillageState

__all__ = [
    "CHANNELS",
    "optimal_share",
    "perceived_risk",
    "record_detections",
    "size_factor",
    "update_channels",
]

# Pseudo-exposure with nothing found that a cadre's learning starts from, so that one early
# detection does not read as certainty: 12 exposure-months for the monthly channels
# (diversion: cadre-months of taking; amount: months of excess payments; registration: months
# a favoured entry stands on the register), 2 captured projects for project siting.
# Documented in ODD §7.4.
PRIOR_EXPOSURE = {"diversion": 12.0, "amount": 12.0, "registration": 12.0, "project": 2.0}
MONTHLY_CHANNELS = ("diversion", "amount", "registration")


def size_factor(share: np.ndarray | float, scale: float) -> np.ndarray:
    """How much easier a taking of ``share`` is to find than a very large one: f / (f + kappa)."""
    f = np.asarray(share, dtype=np.float64)
    return f / (f + scale)


def optimal_share(inclination: np.ndarray, risk: np.ndarray, sanction: float | np.ndarray,
                  scale: float, restitution: float | np.ndarray = 1.0) -> np.ndarray:
    """The share each cadre takes: the root of the first-order condition in the docstring.

    Args:
        inclination: ``g`` per cadre (>= 0); 0 takes nothing.
        risk: Perceived probability ``P`` (0-1) that a large taking is found within a year.
        sanction: Fine as a multiple of the amount found (restitution comes on top); one
            number or one per entry.
        scale: ``kappa`` (> 0), the size at which a taking is half as findable as a large one.
        restitution: What of the gain a finding takes back, as a multiple of it: 1 (money is
            repaid, an entry removed, a project re-sited) or 0 (nothing is undone); one number
            or one per entry. The expected cost per unit taken is ``P (restitution +
            sanction)``.

    Returns:
        Shares in [0, 1], one per cadre.
    """
    g = np.asarray(inclination, dtype=np.float64)
    cost = np.broadcast_to(np.asarray(risk, dtype=np.float64)
                           * (np.asarray(restitution, dtype=np.float64)
                              + np.asarray(sanction, dtype=np.float64)), g.shape)
    inv_g = np.divide(1.0, g, out=np.full(g.shape, np.inf), where=g > 0)
    at_one = _marginal(np.ones_like(g), cost, inv_g, scale) >= 0.0
    share = np.ones_like(g)
    inside = (g > 0) & ~at_one
    if inside.any():
        share[inside] = _bisection_root(cost[inside], inv_g[inside], scale)
    return np.where(g > 0, share, 0.0)


# The share is defined as the result of bisecting the marginal value on [0, 1] 45 times
# (the interval's midpoint after 45 halvings, within 2**-46 of the root): these constants and
# the arithmetic of ``_marginal`` fix its last bit.
BISECTION_STEPS = 45
_GRID = 2.0**-BISECTION_STEPS


def _marginal(f: np.ndarray, cost: np.ndarray, inv_g: np.ndarray, scale: float) -> np.ndarray:
    """The marginal value of taking more at share ``f`` (falls in ``f``)."""
    # (f^2 + 2 f kappa) / (f + kappa)^2 = 1 - kappa^2 / (f + kappa)^2
    return 1.0 - cost * (1.0 - scale * scale / ((f + scale) * (f + scale))) - f * inv_g


def _bisect(cost: np.ndarray, inv_g: np.ndarray, scale: float) -> np.ndarray:
    """Bisection of the marginal value on [0, 1]: 45 halvings, the last interval's midpoint."""
    lo = np.zeros_like(cost)
    hi = np.ones_like(cost)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        up = _marginal(mid, cost, inv_g, scale) > 0.0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def _bisection_root(cost: np.ndarray, inv_g: np.ndarray, scale: float) -> np.ndarray:
    """What :func:`_bisect` returns, for roots inside (0, 1), found by Newton's method.

    Every midpoint the bisection visits lies on the grid of multiples of 2**-45, and it ends
    on the grid interval [lo, lo + 2**-45] whose ends the marginal value (as computed)
    puts on either side of 0. Newton's method from below the root (the marginal value is
    convex and falling, so it climbs to the root) finds the root; the grid interval around it is the
    bisection's if the computed signs at its two ends agree and the marginal value falls
    steeply enough that rounding cannot flip the sign at any other grid point. Entries for
    which that cannot be shown are bisected.
    """
    # an inclination so small that 1/g overflows ends in NaN here, and is bisected below
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        k2 = scale * scale
        # start below the root: m(f) >= 1 - cost - f / g, and Newton's first step from 0
        f = np.maximum(1.0 / (2.0 * cost / scale + inv_g), (1.0 - cost) / inv_g)
        converging = False
        for _ in range(100):
            t = f + scale
            step = _marginal(f, cost, inv_g, scale) / (2.0 * cost * k2 / (t * t * t) + inv_g)
            f = f + step
            if converging:
                break  # one step after a step below 1e-9: quadratic convergence, done
            converging = not np.any(np.abs(step) > 1e-9)
        lo = np.clip(np.floor(f / _GRID), 0.0, 1.0 / _GRID - 1.0) * _GRID
        hi = lo + _GRID
        # a marginal value computed with error below 16 units in the last place of its terms
        # keeps its sign at every grid point other than lo and hi if its slope on [0, 1],
        # at least 2 cost kappa^2 / (1 + kappa)^3 + 1/g, exceeds twice that error per grid step
        slope = 2.0 * cost * k2 / (1.0 + scale) ** 3 + inv_g
        error = 16.0 * 2.0**-53 * (1.0 + cost + inv_g)
        exact = ((lo == 0.0) | (_marginal(lo, cost, inv_g, scale) > 0.0)) & (
            (hi == 1.0) | (_marginal(hi, cost, inv_g, scale) <= 0.0)) & (
            slope * _GRID > 2.0 * error)
    out = 0.5 * (lo + hi)
    if not exact.all():
        out[~exact] = _bisect(cost[~exact], inv_g[~exact], scale)
    return out


def perceived_risk(s: VillageState, channel: str) -> np.ndarray:
    """Each cadre's perceived probability that a large taking in ``channel`` is found this year.

    Audits look at the books (channel ``diversion``: skimming of cash and project funds);
    every channel is also watched by the checks whose findings the cadres saw in the last
    12 months.
    """
    p = s.p
    audit = 0.0
    if channel == "diversion" and p.upper_audits:
        audit = p.audit_probability * p.detection
    audit_seen = np.minimum(1.0, audit * s.risk_perception)
    found = s.evidence_found[channel]
    exposure = s.evidence_exposure[channel]
    hazard = min(1.0, found / (exposure + PRIOR_EXPOSURE[channel]))
    learned = 1.0 - (1.0 - hazard) ** 12 if channel in MONTHLY_CHANNELS else hazard
    learned_seen = np.minimum(1.0, learned * s.risk_perception)
    return 1.0 - (1.0 - audit_seen) * (1.0 - learned_seen)


def update_channels(s: VillageState) -> None:
    """This month's deterrence in every channel.

    Each cadre's diversion share (the default rule; the ``diversion`` policy decides the
    shares actually taken), and, for the committee's collective channels (registration,
    amount, project siting), the share of its inclination it acts on: each cadre's optimal
    share at inclination ``greed`` over ``greed``, averaged over cadres. What a finding costs
    in those channels is ``exposure_cost`` (no money is taken, so no fine: a reprimand, lost
    standing), not ``sanction``, on top of losing the gain where the finding undoes it: a
    favoured entry found is removed, a captured project re-sited; an excess payment to kin
    that a visit notices is not taken back, so there the cost is ``exposure_cost`` alone.

    With ``channel_substitution``, what deterrence holds back in one channel pushes the
    others: each channel's inclination is multiplied by ``1 + mean shortfall of the other
    channels`` (the shortfall of a channel is 1 minus the share of its inclination acted on).
    """
    p = s.p
    greed = np.maximum(s.committee.greed, 0.0)
    m = greed.size
    base_div = p.diversion_propensity * greed
    risks = {c: perceived_risk(s, c) for c in CHANNELS}
    collective = ("registration", "amount", "project")
    inclination = np.concatenate([base_div] + [greed] * 3)
    risk = np.concatenate([risks["diversion"]] + [risks[c] for c in collective])
    cost = np.concatenate([np.full(m, p.sanction), np.full(3 * m, p.exposure_cost)])
    undone = np.concatenate([np.ones(2 * m), np.zeros(m), np.ones(m)])  # amount: not undone
    shares = optimal_share(inclination, risk, cost, p.detection_scale, restitution=undone)
    acted = np.ones_like(shares)
    np.divide(shares, inclination, out=acted, where=inclination > 0)
    acted = np.minimum(1.0, acted)
    realised = {c: float(np.mean(acted[i * m:(i + 1) * m]))
                for i, c in enumerate(("diversion",) + collective)}
    s.diversion_inclination = base_div
    if p.channel_substitution:
        boost = {c: 1.0 + float(np.mean([1.0 - realised[d] for d in CHANNELS if d != c]))
                 for c in CHANNELS}
        s.diversion_inclination = base_div * boost["diversion"]
        shares[:m] = optimal_share(s.diversion_inclination, risks["diversion"], p.sanction,
                                   p.detection_scale)
        for channel in collective:
            realised[channel] *= boost[channel]
    s.diversion_risk = risks["diversion"]
    s.diversion_share = shares[:m]
    for channel in CHANNELS:
        s.channel_intensity[channel] = realised[channel]


def record_detections(s: VillageState, channel: str, found: int, exposed: float) -> None:
    """Add this month's material findings by checks and the cadre-months exposed to them."""
    s.evidence_found[channel] += found
    s.evidence_exposure[channel] += exposed


def collect(s: VillageState, cadres: np.ndarray, amounts: np.ndarray) -> tuple[float, float]:
    """Recover ``amounts`` from cadre households and fine them ``sanction`` times as much.

    Paid first from the household's post-transfer income of this month (never below 0, so no
    month's and no year's post-transfer income goes below 0), then from its assets (never
    below 0): a fine never exceeds what the household has. Restitution comes before the fine.

    Returns:
        (recovered, fined) in yuan.
    """
    due_back = np.asarray(amounts, dtype=np.float64)
    due_fine = due_back * s.p.sanction
    slot = s.slot
    recovered = fined = 0.0
    for c, back, fine in zip(cadres, due_back, due_fine, strict=True):
        income_room = max(0.0, float(s.income_hist[slot, c] + s.aid_hist[slot, c]
                                     + s.other_transfer_hist[slot, c]))
        room = income_room + float(s.assets[c])
        paid_back = min(back, room)
        paid_fine = min(fine, room - paid_back)
        total = paid_back + paid_fine
        from_income = min(total, income_room)
        s.other_transfer_hist[slot, c] -= from_income
        s.assets[c] = max(0.0, float(s.assets[c]) - (total - from_income))
        s.diverted_received[c] -= paid_back
        s.fines_paid[c] += paid_fine
        recovered += paid_back
        fined += paid_fine
    if fined + recovered > 0:
        s.assets_changed()
    return recovered, fined


def punish(s: VillageState, found: np.ndarray, amounts: np.ndarray, by_check: bool) -> None:
    """Cadres whose takings were found repay them and are fined; the findings are booked.

    Args:
        s: The village.
        found: One flag per cadre.
        amounts: What was found per cadre (yuan): restitution is due on it.
        by_check: Whether a check other than an upper-level audit found it (cadres learn from
            those; the audit risk they know from the announced rule).
    """
    cadres = s.committee.cadres
    idx = np.flatnonzero(found & (amounts > 0))
    if idx.size == 0:
        return
    recovered, fined = collect(s, cadres[idx], amounts[idx])
    s.flows["recovered"] += recovered
    s.flows["fines"] += fined
    if s.p.recovered_to_village:
        s.flows["returned_to_village"] += recovered
        s.cash_fund += recovered
    s.committee.diverted_ring[:, idx] = 0.0
    hit = idx[material(amounts[idx])]
    s.committee.times_caught[hit] += 1
    s.detected_diversions += int(hit.size)
    if by_check:
        record_detections(s, "diversion", int(hit.size), 0.0)


def material(amounts: np.ndarray) -> np.ndarray:
    """Findings of at least one yuan count as detections; trifles are recovered all the same."""
    return np.asarray(amounts) >= MATERIAL_YUAN
