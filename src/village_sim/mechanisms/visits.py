"""The work team's visits: one budget a month, a queue, a strategy, and what visits find.

ODD §7.5 ("The team's information and visits"); DESIGN §3, §10. Sources: the policy text
(驻村工作队 verify households by visits, 入户核查); the 2014 survey of 75 villages (teams present
but visit rates low, so capacity binds); 阮荣平 2021 (outsiders without local interests
identify needs better).

The team knows a household only from its own visits: each visit measures the household's
income with error ``team_noise`` (coefficient of variation); repeated visits within
``team_memory`` months are averaged, older findings are forgotten. It never reads the
committee's private estimate.

One budget: ``team_size * team_visits_per_month`` visits a month cover every purpose —
verifying entries on the committee's list, investigating complaints and villagers' reports,
the re-check (回头看) sample, and routine visits to households it does not yet know. Requests
wait in a queue, oldest first; what the month cannot serve carries over. Remaining visits go
to routine visits in the order ``visit_strategy`` sets.

What a visit does (with ``team_supervision``, each act unless the team goes along with the
committee, probability ``cooptation``), on the households it was asked to visit (to verify an
entry, investigate a complaint or report, re-check): one found not poor is challenged and
removed; one found poor is put on the register within the quota, poorest first. Routine
visits only gather knowledge, which the team uses at the next yearly review. A visit to a
registered household checks its payments and can uncover a cadre's skimming
(``team_detection`` per visit, more likely for larger takings) or an excess payment to a
cadre's kin. Every visit also diagnoses the cause of
poverty (因户施策). Zero visits: no finding, no act, no detection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.agents import diagnose, lognormal_factor
from village_sim.codes import Actor, Outcome, Reason
from village_sim.mechanisms import deterrence, policies, responsible_helpers
from village_sim.mechanisms.register import log_changes, poorest_within_quota, put_back
from village_sim.state import NO_REQUEST, Purpose

if TYPE_CHECKING:
    from village_sim.params import Parameters
    from village_sim.state import VillageState

__all__ = ["capacity", "request", "run", "team_capacity"]

def capacity(s: VillageState) -> int:
    """Household visits the whole team can make this month.

    0 when no team is present, or when it does not verify by visits (``team_verification``
    off: it then knows no household of its own). A remote village costs visits: the share
    ``remote_visit_loss × remoteness`` goes to travel (rounded down to whole visits).
    """
    if not (s.team_active and s.p.team_verification):
        return 0
    return team_capacity(s.p)


def team_capacity(p: Parameters) -> int:
    """Visits a team present and verifying can make in a month, with parameters ``p``."""
    full = p.team_size * p.team_visits_per_month
    if p.remoteness == 0.0:
        return full
    return int(full * (1.0 - p.remote_visit_loss * p.remoteness))


def request(s: VillageState, households: np.ndarray, purpose: int) -> None:
    """Queue visits (an earlier request keeps its place in the queue)."""
    if not s.team_active or households.size == 0:
        return
    s.pending_since[households] = np.minimum(s.pending_since[households], s.steps)
    s.pending_purpose[households] |= purpose


def _villagers_report(s: VillageState, rng: np.random.Generator, known: np.ndarray) -> None:
    """Villagers tell the team about wrongly listed or missed households (policy ``report``).

    They do so more where the team is known: by default each such household is reported with
    probability ``report_rate`` times the share of households the team has visited in its
    memory (``known``, from ``s.team_knows()``). A team that visits nobody hears nothing.
    """
    open_ = bool(s.supervising and s.identified and s.p.report_rate > 0)
    if open_:
        poor = s.poor()
        wronged = (s.registered & ~poor) | (~s.registered & poor & s.eligible_to_list())
    else:  # nothing reaches a team: who is wronged is not worked out
        wronged = np.zeros(s.n, dtype=bool)
    view = policies.ReportView(open=open_, wronged=wronged, listed=s.registered.copy(),
                               kin=s.kin,
                               rate=s.p.report_rate * float(known.mean()) if open_ else 0.0)
    reported = policies.check_mask("report", s.policies["report"](view, rng), s.n)
    if not open_:
        return
    request(s, np.flatnonzero(reported), Purpose.REPORT)


def run(s: VillageState) -> None:
    """This month's visits, after allocation (so payment checks see this month's payments)."""
    if not s.team_active:
        s.pending_since[:] = NO_REQUEST  # a team that leaves takes its queue with it
        s.pending_purpose[:] = 0
        s.team_visits_done = s.team_visits_demanded = 0
        return
    rng = s.team.stream
    known = s.team_knows()  # reports change the queue only, not what the team knows
    _villagers_report(s, rng, known)
    cap = capacity(s)
    waiting = s.pending_since < NO_REQUEST
    s.team_visits_demanded = int(np.sum(waiting | (~known & s.registered)))
    view = policies.VisitView(
        capacity=cap, pending_since=s.pending_since.copy(),
        pending_purpose=s.pending_purpose.copy(), known=known,
        last_visit=s.team_last_visit.copy(), registered=s.registered.copy(),
        shown=s.committee_shown.copy() if (s.p.team_cooperation and s.committee_estimated)
        else None,
        kin_of_cadre=s.fav_weight > 0, poverty_line=s.p.poverty_line,
        strategy=s.p.visit_strategy, bins=s.p.visit_order_bins)
    chosen = np.asarray(s.policies["visits"](view, rng), dtype=np.int64)
    if chosen.size > cap or np.unique(chosen).size != chosen.size or (
            chosen.size and (chosen.min() < 0 or chosen.max() >= s.n)):
        raise ValueError(f"policy 'visits' returned {chosen.size} households (capacity {cap}); "
                         "allowed: distinct household ids, at most the month's capacity")
    s.team_visits_done = int(chosen.size)
    s.team_visits_total += int(chosen.size)
    if chosen.size == 0:
        return
    _measure(s, chosen, rng)
    purpose = s.pending_purpose[chosen].copy()
    s.pending_since[chosen] = NO_REQUEST
    s.pending_purpose[chosen] = 0
    s.diagnosis[chosen] = diagnose(s.cause[chosen], s.p.team_diagnosis_accuracy, rng)
    s.diagnosed_by[chosen] = Actor.TEAM
    if not (s.supervising and s.identified):
        return
    est = s.team_signal_sum[chosen] / s.team_signal_count[chosen]
    challenge = policies.ChallengeView(
        households=chosen, estimate=est, registered=s.registered[chosen].copy(),
        purpose=purpose, eligible=_eligible(s, chosen),
        recently_exited=(s.steps - s.exit_month[chosen] <= 12) & ~s.registered[chosen],
        poverty_line=s.p.poverty_line, cooptation=s.p.cooptation)
    acts = policies.check_mask("challenge", s.policies["challenge"](challenge, rng),
                               chosen.size)
    _check_payments(s, chosen, acts, rng)
    act_on_register(s, chosen, purpose, acts)


def _eligible(s: VillageState, households: np.ndarray) -> np.ndarray:
    """``s.eligible_to_list()[households]``, computed for those households alone."""
    return (s.steps - s.exit_month[households]) >= 12


def _measure(s: VillageState, chosen: np.ndarray, rng: np.random.Generator) -> None:
    """Each visit measures income with error ``team_noise``; what it knew before fades.

    Earlier measurements keep a weight falling linearly to 0 over ``team_memory`` months, so
    repeated visits sharpen the estimate and old ones stop counting.
    """
    y = s.per_capita_income()
    age = s.steps - s.team_last_visit[chosen]
    keep = np.clip(1.0 - age / s.p.team_memory, 0.0, 1.0)
    s.team_signal_sum[chosen] *= keep
    s.team_signal_count[chosen] *= keep
    s.team_signal_sum[chosen] += y[chosen] * lognormal_factor(s.p.team_noise, chosen.size, rng)
    s.team_signal_count[chosen] += 1.0
    s.team_last_visit[chosen] = s.steps


def confident_side(s: VillageState, estimate: np.ndarray,
                   count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether the team's measurement puts a household above or below the line with confidence.

    The team knows its own error: it acts only where the log distance to the line exceeds
    ``team_confidence`` standard errors of its estimate (``sqrt(log(1 + team_noise^2) / n)``
    after ``n`` visits), so repeated visits make it more decisive.
    """
    return sides_of_line(estimate, count, numerics.log_variance(s.p.team_noise),
                         s.p.poverty_line, s.p.team_confidence)


def sides_of_line(estimate: np.ndarray, count: np.ndarray, log_variance: float | np.ndarray,
                  poverty_line: float | np.ndarray,
                  confidence: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`confident_side` from the numbers it uses (``log_variance``: of ``team_noise``).

    Element by element: the parameters may be one number or one per entry (a county's
    households of many villages), with the same result for each entry.
    """
    se = np.sqrt(log_variance / np.maximum(count, numerics.TINY))
    distance = numerics.safe_log(estimate / poverty_line)
    margin = confidence * se
    return distance > margin, distance < -margin


def act_on_register(s: VillageState, chosen: np.ndarray, purpose: np.ndarray,
                     acts: np.ndarray) -> None:
    """Challenge entries found not poor; list households found poor that asked or were named."""
    est = s.team_signal_sum[chosen] / s.team_signal_count[chosen]
    above, below = confident_side(s, est, s.team_signal_count[chosen])
    listed = s.registered[chosen]
    # routine visits only gather knowledge (used at the next yearly review); requested ones act
    asked = purpose > 0
    acts = acts & asked
    remove = chosen[listed & above & acts]
    recheck = (purpose & Purpose.RECHECK) > 0
    recently_exited = (s.steps - s.exit_month[chosen] <= 12) & ~listed
    restore_pool = chosen[recheck & recently_exited & below & acts]
    eligible = _eligible(s, chosen)
    add_pool = chosen[~listed & eligible & below & acts]
    if remove.size == 0 and restore_pool.size == 0 and add_pool.size == 0:
        return
    s.registered[remove] = False
    favoured = int(np.sum(s.favoured_entry[remove]))
    deterrence.record_detections(s, "registration", favoured, 0.0)
    # the quota still caps the register: the poorest found come first
    candidates = np.concatenate([restore_pool, add_pool])
    candidates = poorest_within_quota(
        s, candidates, s.team_signal_sum[candidates] / s.team_signal_count[candidates])
    restore = np.intersect1d(candidates, restore_pool)
    add = np.intersect1d(candidates, add_pool)
    s.registered[add] = True
    put_back(s, restore)
    purpose_of = np.zeros(s.n, dtype=np.int8)
    purpose_of[chosen] = purpose
    rechecked = (purpose_of[remove] & Purpose.RECHECK) > 0
    complained = (purpose_of[add] & Purpose.COMPLAINT) > 0
    log_changes(s, Actor.TEAM, [
        (remove[~rechecked], Outcome.REMOVED, Reason.CHALLENGED_NOT_POOR),
        (remove[rechecked], Outcome.REMOVED, Reason.RECHECK_NOT_POOR),
        (restore, Outcome.RE_REGISTERED, Reason.RECHECK_STILL_POOR),
        (add[~complained], Outcome.REGISTERED, Reason.ADDED_BY_TEAM),
        (add[complained], Outcome.REGISTERED, Reason.COMPLAINT_UPHELD),
    ])
    responsible_helpers.assign(s)


def _check_payments(s: VillageState, chosen: np.ndarray, acts: np.ndarray,
                    rng: np.random.Generator) -> None:
    """Visits to registered households check their payments (skimming, excess to kin)."""
    cadres = s.committee.cadres
    u_skim = rng.random(cadres.size)
    u_excess = rng.random(chosen.size)
    checked = chosen[s.registered[chosen] & acts]
    exposed = deterrence.material(s.committee.diverted_ring[s.slot])
    if checked.size:
        # each check independently uncovers a cadre's skimming, more easily when it is large
        per_visit = s.p.team_detection * deterrence.size_factor(
            s.diversion_share, s.p.detection_scale)
        p_found = 1.0 - (1.0 - per_visit) ** checked.size
        found = exposed & (u_skim < p_found)
        if found.any():
            amounts = s.committee.diverted_ring.sum(axis=0) * found
            deterrence.punish(s, found, amounts, by_check=True)
    # excess payments to cadres' kin and friends (amount favoritism; the exposure-month is
    # booked by allocation), found when a visit to one of them notices it
    intensity = s.channel_intensity["amount"] * s.p.amount_favoritism
    if intensity > 0 and bool(np.any(s.registered & (s.fav_weight > 0))):
        favoured = s.registered[chosen] & (s.fav_weight[chosen] > 0) & acts
        excess = favoured & (u_excess < s.p.team_detection * float(
            deterrence.size_factor(intensity, s.p.detection_scale)))
        deterrence.record_detections(s, "amount", int(excess.any()), 0.0)
