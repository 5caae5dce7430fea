"""Decisions as replaceable policies: ``decide(observation, rng) -> action``.

DESIGN §10; ODD §7.12. Each decision an actor makes is a function of an *observation* that
holds only what that role may know, and the model's own rule is the default. A researcher
passes another callable (a module-level function or a ``functools.partial``, so that runs
stay picklable for processes and Dask) through ``VillageModel(policies={...})``; the classroom
mode will let a person decide from the same observation. The model checks every action
before it commits it and refuses one that breaks the rules (a list over the quota, a share
outside [0, 1], a visit plan over the budget), naming the policy.

| decision | who | observation | action |
|---|---|---|---|
| ``proposal`` | committee | its own estimates, who is whose kin, the quota | whom to list |
| ``diversion`` | each cadre | its inclination, perceived risk, the sanction | share to take |
| ``aid`` | committee | the register, its estimates, kinship, the fund | how much each gets |
| ``visits`` | work team | its queue, what it knows, what the committee shows | whom to visit |
| ``challenge`` | work team | its own measurements of the visited | which to act on |
| ``complaint`` | households | own income, own status, trust | who complains |
| ``report`` | villagers | who is wrongly listed or missed, the list | whom they report |
| ``kin_request`` | households | own income and needs this month | who asks kin for help |
| ``audit`` | upper level | the village's reported accounts | whether to audit |
| ``accounts`` | upper level (audit held) | cadres' records, the budget | whose accounts |
| ``share`` | work team (yearly) | its own measurements | findings told the committee |
| ``team_listing`` | work team (listing alone) | its own measurements | whom to list |
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from village_sim.mechanisms.deterrence import optimal_share
from village_sim.mechanisms.register import judged_poor, lowest
from village_sim.mechanisms.trust import distrust
from village_sim.state import NO_REQUEST, Purpose

__all__ = [
    "DEFAULT_POLICIES",
    "AccountsView",
    "AidView",
    "AuditView",
    "ChallengeView",
    "ComplaintView",
    "DiversionView",
    "KinRequestView",
    "ProposalView",
    "ReportView",
    "ShareView",
    "TeamListingView",
    "VisitView",
    "check_mask",
    "check_weights",
    "resolve_policies",
]


# ---------------------------------------------------------------------------- observations
@dataclass(frozen=True)
class ProposalView:
    """What the committee knows when it proposes the register (its own estimates)."""

    estimate: np.ndarray  # the committee's private income estimates (yuan per person-year)
    fav_weight: np.ndarray  # 1: a cadre's household or kin, 0.5: a cadre's friend, 0: neither
    eligible: np.ndarray  # may be listed (not declared out in the last 12 months)
    quota: int | None  # the most households the register may hold (None: no quota)
    poverty_line: float
    favoritism: float  # the registration favoritism the committee dares this year
    # "cap": list only households judged poor on the ranking shown (estimate minus the
    # favoritism), at most the quota; "fill": exactly the quota
    quota_mode: str = "cap"


@dataclass(frozen=True)
class TeamListingView:
    """What a team listing alone knows: its own visits' measurements (NaN: never measured)."""

    estimate: np.ndarray
    shown: np.ndarray | None  # what the committee shows, with cooperation; else None
    eligible: np.ndarray
    quota: int | None
    poverty_line: float
    quota_mode: str = "cap"  # "cap": only households judged poor; "fill": the whole quota


@dataclass(frozen=True)
class DiversionView:
    """What each cadre weighs (one entry per cadre)."""

    inclination: np.ndarray  # base propensity times the cadre's greed
    risk: np.ndarray  # the cadre's perceived probability that a large taking is found
    sanction: float
    detection_scale: float


@dataclass(frozen=True)
class AidView:
    """What the committee knows when it pays the month's aid.

    Aligned arrays, one entry per registered household.
    """

    households: np.ndarray  # the registered households
    estimate: np.ndarray  # the committee's estimates of their incomes (yuan per person-year)
    fav_weight: np.ndarray  # 1: a cadre's household or kin, 0.5: a cadre's friend, 0: neither
    fund: float  # the money to pay this month, after diversion (yuan)
    favoritism: float  # the amount favoritism the committee dares this month


@dataclass(frozen=True)
class VisitView:
    """What the team knows when it plans the month's visits."""

    capacity: int  # visits it can make this month
    pending_since: np.ndarray  # month each household's oldest request was made (huge: none)
    pending_purpose: np.ndarray  # bits of village_sim.state.Purpose
    known: np.ndarray  # visited within team_memory
    last_visit: np.ndarray  # month of each household's last visit (-10000: never)
    registered: np.ndarray  # the register is public
    shown: np.ndarray | None  # the committee's stated estimates, with cooperation
    kin_of_cadre: np.ndarray  # who is whose kin is common knowledge in a village
    poverty_line: float
    strategy: str
    bins: int  # bins per poverty line in which stated estimates are ranked (visit_order_bins)


@dataclass(frozen=True)
class ChallengeView:
    """The team's own measurements of the households it just visited (aligned arrays)."""

    households: np.ndarray
    estimate: np.ndarray
    registered: np.ndarray
    purpose: np.ndarray
    eligible: np.ndarray
    recently_exited: np.ndarray
    poverty_line: float
    cooptation: float


@dataclass(frozen=True)
class ComplaintView:
    """What households know at the democratic appraisal and public notice."""

    own_income: np.ndarray  # each household knows its own income (its neighbours roughly)
    listed: np.ndarray  # the proposed list is posted (公示)
    trust: np.ndarray
    eligible: np.ndarray
    poverty_line: float
    complaint_rate: float
    reference_trust: float  # trust at which complaint_rate holds as stated


@dataclass(frozen=True)
class ReportView:
    """What villagers know when a supervising team is in the village (each month).

    ``open``: whether reports reach a team this month (a supervising team, after the first
    identification, with ``report_rate`` > 0); when not, nothing is reported.
    """

    open: bool
    wronged: np.ndarray  # wrongly listed (not poor) or missed (poor, eligible): villagers know
    listed: np.ndarray  # the register is public
    kin: Any  # the kinship matrix (who is whose kin is common knowledge)
    rate: float  # chance a wronged household is reported: report_rate x the team's visibility


@dataclass(frozen=True)
class KinRequestView:
    """What each household knows of its own month when kin could help (each month)."""

    income: np.ndarray  # each household's income this month (yuan)
    need: np.ndarray  # its needs this month: the poverty line / 12 x persons (yuan)


@dataclass(frozen=True)
class AuditView:
    """What upper levels see of the village when deciding to audit its accounts."""

    month: int
    reported_spent_12: float  # yuan the village's books report spent over 12 months
    audit_probability: float


@dataclass(frozen=True)
class AccountsView:
    """What upper levels see when an audit is held: whose accounts to examine (one per cadre).

    ``budget``: how many accounts the audit can examine (``audit_coverage`` of the cadres,
    rounded up); the public record of each cadre: findings against it so far, and how many of
    its kin stand on the register (the list and kinship are common knowledge).
    """

    budget: int
    times_caught: np.ndarray  # per cadre
    kin_listed: np.ndarray  # per cadre: its kin on the register


@dataclass(frozen=True)
class ShareView:
    """What the team knows when the committee reviews the village (yearly, a team present).

    ``shares``: ``team_shares_findings``, the rule's answer (all its findings, or none).
    """

    known: np.ndarray  # households its visits measured within its memory
    estimate: np.ndarray  # its measurement of each household (NaN where it knows none)
    registered: np.ndarray  # the register (public)
    poverty_line: float
    shares: bool


# ---------------------------------------------------------------------------- default rules
def committee_proposal(view: ProposalView, rng: np.random.Generator) -> np.ndarray:
    """The committee lists the lowest scores: estimate in poverty lines minus favoritism.

    Under a cap only scores below 1 (households it shows as poor), at most the quota.
    """
    score = view.estimate / view.poverty_line - view.favoritism * view.fav_weight
    return lowest(score, judged_poor(score, view.eligible, view.quota_mode), view.quota)


def team_listing(view: TeamListingView, rng: np.random.Generator) -> np.ndarray:
    """A team listing alone: households it measured poor, poorest first, then the rest.

    The rest of the quota comes from what the committee shows (with cooperation) or at random
    (no information). Under a cap the rest holds only households the committee shows poor
    (the team judges by its own measurements, else by what it is shown).
    """
    z = view.poverty_line
    known = ~np.isnan(view.estimate)
    prior = view.shown / z if view.shown is not None else 1.0 + rng.random(known.size)
    judged = np.where(known, view.estimate / z, prior)  # the team's view of each, in lines
    known_poor = known & (judged < 1.0)
    if view.quota is None:
        return view.eligible & known_poor
    candidates = np.flatnonzero(judged_poor(judged, view.eligible, view.quota_mode))
    # known poor first, poorest first; then the unknown by prior; the known non-poor last
    # (in household order); ties in household order (lexsort is stable, last key primary)
    value = np.where(known & ~known_poor, 0.0, judged)[candidates]
    order = np.lexsort((value, known[candidates], ~known_poor[candidates]))
    listed = np.zeros(known.size, dtype=bool)
    listed[candidates[order[:view.quota]]] = True
    return listed


def cadre_diversion(view: DiversionView, rng: np.random.Generator) -> np.ndarray:
    """The interior choice of :func:`village_sim.mechanisms.deterrence.optimal_share`."""
    return optimal_share(view.inclination, view.risk, view.sanction, view.detection_scale)


def committee_aid(view: AidView, rng: np.random.Generator) -> np.ndarray:
    """Aid in proportion to ``1 + favoritism * fav_weight``: kin and friends get more."""
    return 1.0 + view.favoritism * view.fav_weight


def _first(idx: np.ndarray, k: int, *keys: np.ndarray) -> np.ndarray:
    """The first ``k`` of ``idx`` in ``np.lexsort(keys)`` order (last key primary, stable).

    Only the candidates that can be among the first ``k`` are sorted: those whose primary key
    is at most the ``k``-th smallest. Ties keep the order of ``idx``, as in a full stable sort,
    so the result is the full sort's first ``k`` entries.
    """
    if k <= 0 or idx.size == 0:
        return idx[:0]
    if idx.size > k:
        primary = keys[-1]
        kth = primary.min()
        if k > 1 and np.count_nonzero(primary == kth) < k:  # else the k-th ties with the least
            kth = np.partition(primary, k - 1)[k - 1]
        if not np.isnan(kth):  # NaN keys sort last: then sort them all
            near = primary <= kth
            if len(keys) > 1:
                # many may tie with the k-th on the primary key (requests of one month): of
                # those, only the ones the secondary key can still put in the first k
                tied = np.flatnonzero(primary == kth)
                room = k - (int(np.count_nonzero(near)) - tied.size)
                *_, second, _ = keys  # the secondary key: next to last
                secondary = second[tied]
                if tied.size > room:
                    kth2 = np.partition(secondary, room - 1)[room - 1]
                    if not np.isnan(kth2):
                        near[tied[secondary > kth2]] = False
            near = np.flatnonzero(near)
            idx = idx[near]
            keys = tuple(key[near] for key in keys)
    order = np.argsort(keys[0], kind="stable") if len(keys) == 1 else np.lexsort(keys)
    return idx[order[:k]]


def team_visits(view: VisitView, rng: np.random.Generator) -> np.ndarray:
    """Queued requests oldest first, then households the team does not know, then revisits.

    Registered households it does not know come before the others; within each group the
    order of ``strategy`` decides (ties at random). Visits left over go to households it
    knows, the longest unseen first, so that what it knows stays current.
    """
    n = view.known.size
    tie = rng.random(n)

    def near(idx: np.ndarray) -> np.ndarray:
        """Distance of the stated estimate from the line, in bins (``view.bins`` a line)."""
        assert view.shown is not None
        return np.floor(view.bins * np.abs(view.shown[idx] / view.poverty_line - 1.0))

    def key(idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """The strategy's order keys of households ``idx``, primary last (lower: first)."""
        t = tie[idx]
        if view.strategy == "near_line_first" and view.shown is not None:
            # where the committee's stated estimate is closest to the line
            return t, near(idx)
        if view.strategy == "lowest_estimate_first" and view.shown is not None:
            return t, np.floor(view.bins * view.shown[idx] / view.poverty_line)
        if view.strategy == "complaints_first":
            # complaints and reports first; then, where the committee states its estimates,
            # those closest to the line; ties at random
            flagged = (view.pending_purpose[idx] & (Purpose.COMPLAINT | Purpose.REPORT)) > 0
            if view.shown is None:
                return t, ~flagged
            return t, near(idx), ~flagged
        if view.strategy == "cadre_kin_first":
            return t, ~view.kin_of_cadre[idx]
        return (t,)

    waiting = view.pending_since < NO_REQUEST
    unknown = ~view.known & ~waiting
    # the order: the queue (oldest request first), registered households it does not know,
    # the other households it does not know, then revisits of those it knows, the longest
    # unseen first (knowledge ages); only the month's capacity is ordered
    chosen = []
    room = view.capacity
    for idx, primary in (
        (np.flatnonzero(waiting), view.pending_since),
        (np.flatnonzero(unknown & view.registered), None),
        (np.flatnonzero(unknown & ~view.registered), None),
        (np.flatnonzero(view.known & ~waiting), view.last_visit),
    ):
        if room <= 0:
            break
        keys = key(idx) if primary is None else (*key(idx), primary[idx])
        first = _first(idx, room, *keys)
        chosen.append(first)
        room -= first.size
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def team_challenge(view: ChallengeView, rng: np.random.Generator) -> np.ndarray:
    """Act (True) on each visited household unless the team goes along with the committee."""
    return rng.random(view.households.size) >= view.cooptation


def household_complaints(view: ComplaintView, rng: np.random.Generator) -> np.ndarray:
    """A poor household left off complains with probability ``complaint_rate`` times ...

    ... ``(1 - trust) / (1 - reference_trust)``: the stated rate at trust ``reference_trust``
    (0.5), twice it at trust 0 (at the default).
    """
    u = rng.random(view.listed.size)
    p_self = np.minimum(1.0, view.complaint_rate * distrust(view.trust, view.reference_trust))
    poor = view.own_income < view.poverty_line
    return ~view.listed & poor & view.eligible & (u < p_self)


def villagers_report(view: ReportView, rng: np.random.Generator) -> np.ndarray:
    """Each wronged household is reported with probability ``rate``.

    One draw a household, made every month a team is present, reporting or not (common
    random numbers).
    """
    u = rng.random(view.listed.size)
    if not view.open:
        return np.zeros(view.listed.size, dtype=bool)
    return view.wronged & (u < view.rate)


def kin_request(view: KinRequestView, rng: np.random.Generator) -> np.ndarray:
    """Every household short of its needs asks its kin."""
    return view.income < view.need


def upper_audit(view: AuditView, rng: np.random.Generator) -> bool:
    """Audit the year's accounts with probability ``audit_probability`` at each year's end."""
    draw = float(rng.random())
    return view.month % 12 == 0 and draw < view.audit_probability


def upper_accounts(view: AccountsView, rng: np.random.Generator) -> np.ndarray:
    """Every cadre's account when the budget covers them all; else that many, at random.

    A random draw (from the upper levels' stream) only when the budget is short, so the
    default (``audit_coverage = 1``) draws nothing.
    """
    m = view.times_caught.size
    if view.budget >= m:
        return np.ones(m, dtype=bool)
    chosen = np.zeros(m, dtype=bool)
    chosen[rng.permutation(m)[:view.budget]] = True
    return chosen


def team_share(view: ShareView, rng: np.random.Generator) -> np.ndarray:
    """All its findings where the team shares them (``team_shares_findings``), else none."""
    return view.known.copy() if view.shares else np.zeros(view.known.size, dtype=bool)


DEFAULT_POLICIES: dict[str, Callable[..., Any]] = {
    "proposal": committee_proposal,
    "team_listing": team_listing,
    "diversion": cadre_diversion,
    "aid": committee_aid,
    "visits": team_visits,
    "challenge": team_challenge,
    "complaint": household_complaints,
    "report": villagers_report,
    "kin_request": kin_request,
    "audit": upper_audit,
    "accounts": upper_accounts,
    "share": team_share,
}


def resolve_policies(policies: Mapping[str, Any] | None) -> dict[str, Callable[..., Any]]:
    """The defaults, with the given decisions replaced (each must be callable).

    Raises:
        ValueError: for an unknown decision name (with the closest one) or a non-callable.
    """
    out = dict(DEFAULT_POLICIES)
    if policies is None:
        return out
    if not isinstance(policies, Mapping):
        raise ValueError(
            f"parameter 'policies': got {policies!r}; allowed: a mapping of decision names "
            f"({', '.join(DEFAULT_POLICIES)}) to callables")
    for name, fn in policies.items():
        if name not in DEFAULT_POLICIES:
            close = difflib.get_close_matches(str(name), list(DEFAULT_POLICIES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"policies: unknown decision {name!r}{hint}; allowed: "
                             + ", ".join(DEFAULT_POLICIES))
        if not callable(fn):
            raise ValueError(f"policies[{name!r}]: got {fn!r}; allowed: a callable "
                             "decide(observation, rng) -> action")
        out[name] = fn
    return out


def check_mask(name: str, action: Any, n: int, allowed: np.ndarray | None = None,
               at_most: int | None = None, unit: str = "households") -> np.ndarray:
    """Validate a policy's boolean-mask action: shape, only allowed entries, a cap.

    ``unit``: what the entries are, for the message (households; a cadre's accounts).

    Raises:
        ValueError: naming the policy and what was wrong.
    """
    mask = np.asarray(action)
    if mask.shape != (n,) or mask.dtype != bool:
        raise ValueError(f"policy {name!r} returned {mask.dtype} of shape {mask.shape}; "
                         f"allowed: a boolean array of shape ({n},)")
    if allowed is not None and bool(np.any(mask & ~allowed)):
        bad = int(np.sum(mask & ~allowed))
        raise ValueError(f"policy {name!r} chose {bad} {unit} it may not choose")
    if at_most is not None and int(mask.sum()) > at_most:
        raise ValueError(f"policy {name!r} chose {int(mask.sum())} {unit}; "
                         f"allowed: at most {at_most}")
    return mask


def check_weights(name: str, action: Any, n: int) -> np.ndarray:
    """Validate a policy's weights: ``n`` finite numbers >= 0, not all zero.

    Raises:
        ValueError: naming the policy and what was wrong.
    """
    weights = np.asarray(action, dtype=np.float64)
    if weights.shape != (n,) or not bool(np.all(np.isfinite(weights) & (weights >= 0.0))) \
            or not float(weights.sum()) > 0.0:
        raise ValueError(f"policy {name!r} returned {action!r}; allowed: {n} finite numbers "
                         ">= 0, not all 0")
    return weights
