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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from village_sim import numerics
from village_sim.state import CHANNELS, MATERIAL_YUAN

RootFinder = Callable[[np.ndarray, np.ndarray, "float | np.ndarray"], np.ndarray]
"""What finds the optimal shares inside (0, 1): ``(cost, inv_g, scale) -> shares``."""

if TYPE_CHECKING:
    from village_sim.state import VillageState

__all__ = [
    "CHANNELS",
    "MONTHLY_CHANNELS",
    "announced_risk",
    "audited_accounts",
    "learned_risk",
    "prior_of",
    "optimal_share",
    "perceived_risk",
    "record_detections",
    "size_factor",
    "update_channels",
]

# Channels whose exposure is counted in months (diversion: cadre-months of taking; amount:
# months of excess payments; registration: months a favoured entry stands on the register);
# project siting counts captured projects. Learning starts from a pseudo-exposure with nothing
# found (``prior_exposure`` months, ``prior_projects`` projects; ODD §7.4).
MONTHLY_CHANNELS = ("diversion", "amount", "registration")


def size_factor(share: np.ndarray | float, scale: float | np.ndarray) -> np.ndarray:
    """How much easier a taking of ``share`` is to find than a very large one: f / (f + kappa)."""
    f = np.asarray(share, dtype=np.float64)
    return f / (f + scale)


def optimal_share(inclination: np.ndarray, risk: np.ndarray, sanction: float | np.ndarray,
                  scale: float | np.ndarray, restitution: float | np.ndarray = 1.0,
                  root: RootFinder = numerics.optimal_share_root) -> np.ndarray:
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
        root: Finds the roots inside (0, 1) (``numerics.optimal_share_root``, or the
            county's compiled version of it: the same numbers).

    Returns:
        Shares in [0, 1], one per cadre.
    """
    g = np.asarray(inclination, dtype=np.float64)
    cost = np.broadcast_to(np.asarray(risk, dtype=np.float64)
                           * (np.asarray(restitution, dtype=np.float64)
                              + np.asarray(sanction, dtype=np.float64)), g.shape)
    inv_g = np.divide(1.0, g, out=np.full(g.shape, np.inf), where=g > 0)
    at_one = numerics.marginal_value(np.ones_like(g), cost, inv_g, scale) >= 0.0
    share = np.ones_like(g)
    inside = (g > 0) & ~at_one
    if inside.any():
        share[inside] = root(cost[inside], inv_g[inside],
                             np.asarray(scale)[inside] if np.ndim(scale) else scale)
    return np.where(g > 0, share, 0.0)


def perceived_risk(s: VillageState, channel: str) -> np.ndarray:
    """Each cadre's perceived probability that a large taking in ``channel`` is found this year.

    Audits look at the books (channel ``diversion``: skimming of cash and project funds);
    every channel is also watched by the checks whose findings the cadres saw in the last
    12 months.
    """
    learned = learned_risk(s.evidence_found[channel], s.evidence_exposure[channel],
                           prior_of(s.p, channel), channel in MONTHLY_CHANNELS)
    return seen_risk(announced_risk(s.p, channel), learned, s.risk_perception)


def announced_risk(p: Any, channel: str) -> float:
    """The announced audit rule's risk in ``channel`` (diversion only), before misperception.

    A cadre's account is examined when an audit is held with probability
    :func:`audited_accounts` over the committee's size (1 when an audit covers every account).
    """
    if channel == "diversion" and p.upper_audits:
        # k / C is exactly 1 when every account is examined: the risk as before to the last bit
        return float(p.audit_probability * p.detection) * (audited_accounts(p)
                                                           / p.committee_size)
    return 0.0


def audited_accounts(p: Any) -> int:
    """How many cadres' accounts an audit can examine: ``audit_coverage`` of them, rounded up.

    At least one; a product such as ``0.6 * 5`` that lands a rounding error above a whole
    number counts as that number.
    """
    m = int(p.committee_size)
    return max(1, min(m, numerics.whole_up(p.audit_coverage * m)))


def prior_of(p: Any, channel: str) -> float:
    """The pseudo-exposure with nothing found that learning in ``channel`` starts from."""
    return float(p.prior_exposure if channel in MONTHLY_CHANNELS else p.prior_projects)


def learned_risk(found: float, exposure: float, prior: float, monthly: bool) -> float:
    """The yearly risk learned from ``found`` findings in ``exposure`` (plus ``prior``)."""
    hazard = min(1.0, found / (exposure + prior))
    return 1.0 - (1.0 - hazard) ** 12 if monthly else hazard


def learned_risks(found: np.ndarray, exposure: np.ndarray, prior: np.ndarray,
                   monthly: bool, compiled: Any = None) -> np.ndarray:
    """``learned_risk`` of each village: its arithmetic element-wise, its power as Python's.

    The hazard ``min(1, found / (exposure + prior))`` is IEEE arithmetic, the same in numpy; a
    monthly channel's ``(1 - hazard) ** 12`` is the C library's ``pow`` (Python's ``**``, or
    the ``compiled`` loops' where a county has them: a module with ``learned_risks``), where
    it is not exact anyway (a hazard of 0 gives 0, of 1 gives 1): every value is
    ``learned_risk``'s.
    """
    hazard = np.minimum(1.0, found / (exposure + prior))
    if not monthly:
        return hazard
    out = hazard.copy()  # 0 and 1 stay
    inner = np.flatnonzero((hazard > 0.0) & (hazard < 1.0))
    if inner.size and compiled is not None:
        risks = np.empty(inner.size)
        compiled.learned_risks(hazard[inner], risks)
        out[inner] = risks
    elif inner.size:
        out[inner] = [learned_risk(h, 0.0, 1.0, True) for h in hazard[inner].tolist()]
    return out


def seen_risk(audit: float | np.ndarray, learned: float | np.ndarray,
              perception: np.ndarray) -> np.ndarray:
    """Each cadre's perceived risk: both sources scaled by its misperception, combined."""
    audit_seen = np.minimum(1.0, audit * perception)
    learned_seen = np.minimum(1.0, learned * perception)
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
    risks = {c: perceived_risk(s, c) for c in CHANNELS}
    choice = choose_channels(
        np.maximum(s.committee.greed, 0.0), risks, p.diversion_propensity, p.sanction,
        p.exposure_cost, p.detection_scale, np.array([p.channel_substitution]),
        np.zeros(s.committee.greed.size, dtype=np.int64), lambda x: np.array([x.mean()]))
    s.diversion_inclination = choice.inclination
    s.diversion_risk = risks["diversion"]
    s.diversion_share = choice.share
    for channel in CHANNELS:
        s.channel_intensity[channel] = float(choice.realised[channel][0])


@dataclass(frozen=True)
class ChannelChoice:
    """What :func:`choose_channels` returns: per cadre, and per village for each channel."""

    inclination: np.ndarray  # each cadre's inclination to divert (after substitution)
    share: np.ndarray  # each cadre's diversion share (the default rule)
    realised: dict[str, np.ndarray]  # each village's share of its inclination acted on


def choose_channels(greed: np.ndarray, risks: dict[str, np.ndarray],
                    propensity: float | np.ndarray, sanction: float | np.ndarray,
                    exposure_cost: float | np.ndarray, scale: float | np.ndarray,
                    substitution: np.ndarray, village: np.ndarray,
                    means: Callable[[np.ndarray], np.ndarray],
                    root: RootFinder = numerics.optimal_share_root) -> ChannelChoice:
    """The computation of :func:`update_channels`, for the cadres of one village or of many.

    Args:
        greed: Each cadre's greed (at least 0).
        risks: Each cadre's perceived risk in each channel.
        propensity: ``diversion_propensity``, one number or one per cadre.
        sanction: ``sanction``, one number or one per cadre.
        exposure_cost: ``exposure_cost``, one number or one per cadre.
        scale: ``detection_scale``, one number or one per cadre.
        substitution: ``channel_substitution`` of each village.
        village: Each cadre's village (0 for one village).
        means: The mean of a per-cadre array within each village (one village: ``x.mean()``).
        root: As for :func:`optimal_share`.
    """
    m = greed.size
    base_div = propensity * greed
    collective = ("registration", "amount", "project")
    channels = ("diversion",) + collective
    inclination = np.concatenate([base_div] + [greed for _ in collective])
    risk = np.concatenate([risks[c] for c in channels])
    cost = np.concatenate([np.broadcast_to(sanction, m)] + [np.broadcast_to(exposure_cost, m)
                                                           for _ in collective])
    # what a finding undoes: the money (diversion), the entry, the siting; not an amount paid
    undone = np.concatenate([np.full(m, float(c != "amount")) for c in channels])
    scale4 = np.tile(np.broadcast_to(scale, m), len(channels)) if np.ndim(scale) else scale
    shares = optimal_share(inclination, risk, cost, scale4, restitution=undone, root=root)
    acted = np.ones_like(shares)
    np.divide(shares, inclination, out=acted, where=inclination > 0)
    acted = np.minimum(1.0, acted)
    realised = {c: means(acted[i * m:(i + 1) * m]) for i, c in enumerate(channels)}
    div_inclination = base_div
    if substitution.any():
        boost = {c: 1.0 + np.stack([1.0 - realised[d] for d in CHANNELS if d != c],
                                   axis=1).mean(axis=1) for c in CHANNELS}
        on = substitution[village]
        div_inclination = np.where(on, base_div * boost["diversion"][village], base_div)
        if on.all():
            shares[:m] = optimal_share(div_inclination, risks["diversion"], sanction, scale,
                                       root=root)
        else:
            shares[:m][on] = optimal_share(div_inclination[on], risks["diversion"][on],
                                           _pick(sanction, on), _pick(scale, on), root=root)
        for channel in collective:
            realised[channel] = np.where(substitution, realised[channel] * boost[channel],
                                         realised[channel])
    return ChannelChoice(div_inclination, shares[:m], realised)


def _pick(x: float | np.ndarray, mask: np.ndarray) -> float | np.ndarray:
    return np.asarray(x)[mask] if np.ndim(x) else x


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
    return float(recovered), float(fined)  # Python floats, whatever numpy gave (the books)


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
