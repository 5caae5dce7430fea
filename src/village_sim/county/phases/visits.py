"""The team's visits for a county (mirrors :func:`village_sim.mechanisms.visits.run`).

Villagers' reports, the month's visit plan (the default rule ``team_visits``: the queue oldest
first, then registered households the team does not know, the other unknown ones, then revisits,
each group in the order of the village's ``visit_strategy``), what the visits measure and
diagnose, the team's challenges and payment checks, for every village with a team at once.

The plan: each village's households fall in the four groups; every group before the one where
the month's capacity runs out is visited whole, and of that one group the first households in
its order (:meth:`Segments.first_k`, the same stable order as the village's own sort). The
visits are then put in the village's own order (group, then keys), which decides which draw of
the team's stream goes to which visit.

What stays each village's own: one call of its team stream per draw (sizes depend on the
plan), and its books (evidence, counters). Punishment of skimming a check finds
(:func:`village_sim.county.phases.deterrence.punish`) and the acts on the register (as
:func:`village_sim.mechanisms.visits.act_on_register`, with the county's register and helpers)
are done for all villages at once.

``request`` (``visits.request``) queues visits in every village at once, for the yearly review.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim import numerics
from village_sim.agents import lognormal_factor, lognormal_law, named_cause
from village_sim.codes import Actor, Outcome, Reason
from village_sim.county.books import CHANNEL
from village_sim.county.phases.deterrence import punish, record_detections
from village_sim.county.phases.draws import kernels, typed_streams
from village_sim.county.phases.register import log_changes, put_back, quotas
from village_sim.county.phases.responsible_helpers import assign
from village_sim.mechanisms import visits
from village_sim.mechanisms.deterrence import material, size_factor
from village_sim.mechanisms.visits import sides_of_line
from village_sim.segments import Segments
from village_sim.state import NO_REQUEST, Purpose
from village_sim.village import N_CAUSES

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["request", "run"]

_STRATEGY_KEYS = ("near_line_first", "lowest_estimate_first", "complaints_first",
                  "cadre_kin_first")


def run(e: StackedVillages) -> None:
    """This month's visits in every village with a team (each as its own ``visits.run``)."""
    vs = e.villages
    if e.decided_otherwise(visits.run, "visits", "challenge", "report"):  # another rule (D6)
        return
    seg = e.segments
    cols = e.stack.columns
    village = seg.village
    month = int(vs[0].steps)
    active = e.team_active()
    on = active[village]
    # a team that leaves takes its queue with it
    cols["pending_since"][~on] = NO_REQUEST
    cols["pending_purpose"][~on] = 0
    done = np.zeros(len(vs), dtype=np.int64)
    demanded = np.zeros(len(vs), dtype=np.int64)
    if active.any():
        _visit(e, active, done, demanded, month)
    e.scatter("team_visits_done", done)
    e.scatter("team_visits_demanded", demanded)
    e.scatter("team_visits_total", e.gather("team_visits_total", np.int64) + done)


def _visit(e: StackedVillages, active: np.ndarray, done: np.ndarray, demanded: np.ndarray,
           month: int) -> None:
    vs, P, seg = e.villages, e.params, e.segments
    cols = e.stack.columns
    village = seg.village
    identified = e.gather("identified", bool)
    supervising = active & P("team_supervision").astype(bool)
    # villagers report, where the team is known (visits._villagers_report)
    reporting = supervising & identified & (P("report_rate") > 0)
    on = active[village]
    capacity = np.where(active & P("team_verification").astype(bool),
                        P.derived("visit_capacity", visits.team_capacity), 0)
    tie, known, waiting = _reports(e, active, reporting, demanded, month)
    chosen = _plan(e, capacity, known, waiting, tie, on)
    if chosen.size == 0:
        return
    chosen_village = village[chosen]
    counts = np.bincount(chosen_village, minlength=len(vs))
    done[:] = counts
    # the draws that follow the plan, village by village: measurement noise, diagnosis,
    # and where the team supervises, challenges and payment checks
    acting = supervising & identified
    k_seg = Segments(counts)
    noise = np.empty(chosen.size)
    u_diagnosis = np.empty(chosen.size)
    shift = np.empty(chosen.size, dtype=np.int64)
    u_challenge = np.ones(chosen.size)
    u_excess = np.ones(chosen.size)
    cad = e.cadres
    u_skim = np.ones(cad.segments.n)
    compiled = kernels(e)
    if compiled is not None:  # the same calls in one compiled loop
        noise[:] = 1.0  # agents.lognormal_factor: no draw without noise
        drawing = np.flatnonzero(counts)
        mu, sigma = P.derived("team_noise_law", lambda p: lognormal_law(p.team_noise)).T
        compiled.visit_draws(
            typed_streams(e, "team"), drawing, k_seg.offsets[drawing],
            k_seg.offsets[drawing + 1], P("team_noise")[drawing] > 0, mu[drawing],
            sigma[drawing], N_CAUSES, acting[drawing], cad.segments.offsets[drawing],
            cad.segments.offsets[drawing + 1], noise, u_diagnosis, shift, u_challenge, u_skim,
            u_excess)
    else:
        team_noise = P("team_noise").tolist()
        acting_ = acting.tolist()
        cadres_of = cad.segments.sizes.tolist()
        for i in np.flatnonzero(counts).tolist():
            b, k = k_seg.block(i), int(counts[i])
            rng = vs[i].team.stream
            noise[b] = lognormal_factor(team_noise[i], k, rng)  # agents: no draw without noise
            rng.random(out=u_diagnosis[b])  # agents.diagnose
            shift[b] = rng.integers(1, N_CAUSES, size=k)
            if acting_[i]:
                # the challenge (policies.team_challenge), then the payment checks' skimming
                # and excess draws (visits._check_payments): three calls of random, one here
                m = cadres_of[i]
                u = rng.random(k + m + k)
                u_challenge[b] = u[:k]
                u_skim[cad.segments.block(i)] = u[k:k + m]
                u_excess[b] = u[k + m:]
    # what the visits measure (visits._measure)
    y = e.y
    last_visit = cols["team_last_visit"]
    age = month - last_visit[chosen]
    keep = np.clip(1.0 - age / P.of_households("team_memory")[chosen], 0.0, 1.0)
    signal_sum, signal_count = cols["team_signal_sum"], cols["team_signal_count"]
    signal_sum[chosen] *= keep
    signal_count[chosen] *= keep
    signal_sum[chosen] += y[chosen] * noise
    signal_count[chosen] += 1.0
    last_visit[chosen] = month
    purpose = cols["pending_purpose"][chosen].copy()
    cols["pending_since"][chosen] = NO_REQUEST
    cols["pending_purpose"][chosen] = 0
    accuracy = P.of_households("team_diagnosis_accuracy")[chosen]
    cols["diagnosis"][chosen] = named_cause(cols["cause"][chosen], u_diagnosis < accuracy, shift)
    cols["diagnosed_by"][chosen] = Actor.TEAM
    if not acting.any():
        return
    acts = u_challenge >= P.of_households("cooptation")[chosen]
    acts &= acting[chosen_village]
    _check_payments(e, chosen, chosen_village, acts, acting, u_skim, u_excess)
    _act_on_registers(e, chosen, chosen_village, purpose, acts & (purpose > 0))


def _reports(e: StackedVillages, active: np.ndarray, reporting: np.ndarray,
             demanded: np.ndarray, month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The month's visits up to the plan: draws, villagers' reports, the queue, the demand.

    Every active team's two first draws, villagers' reports then the plan's ties: two calls of
    ``random(n)``, one of ``random(2n)``, laid out village after village. Returns the ties,
    the households the team knows, and those queued (``kernels.visit_reports`` in one pass).
    """
    vs, P, seg = e.villages, e.params, e.segments
    cols = e.stack.columns
    village = seg.village
    n = seg.n
    registered = cols["registered"]
    compiled = kernels(e)
    if compiled is not None:  # the same draws and arithmetic in one compiled pass
        tie, known, waiting = np.empty(n), np.empty(n, dtype=bool), np.empty(n, dtype=bool)
        compiled.visit_reports(
            typed_streams(e, "team"), seg.offsets, active, reporting, month,
            cols["team_last_visit"], P("team_memory"), cols["team_signal_count"],
            P("report_rate"), e.y, P("poverty_line"), registered, cols["exit_month"],
            Purpose.REPORT, NO_REQUEST, cols["pending_since"], cols["pending_purpose"], tie,
            known, waiting, demanded)
        return tie, known, waiting
    pairs = np.zeros(2 * n)
    for i in np.flatnonzero(active).tolist():
        b = e.blocks[i]
        vs[i].team.stream.random(out=pairs[2 * b.start:2 * b.stop])
    first = seg.offsets[village] + np.arange(n)
    report_u, tie = pairs[first], pairs[first + seg.sizes[village]]
    known = e.team_knows()  # month is the engine's month
    if reporting.any():
        visibility = seg.count(known) / seg.sizes
        poor = e.y < P.of_households("poverty_line")
        eligible = month - cols["exit_month"] >= 12
        wronged = (registered & ~poor) | (~registered & poor & eligible)
        reported = wronged & reporting[village] & (
            report_u < (P("report_rate") * visibility)[village])
        cols["pending_since"][reported] = np.minimum(cols["pending_since"][reported], month)
        cols["pending_purpose"][reported] |= Purpose.REPORT
    waiting = cols["pending_since"] < NO_REQUEST
    demanded[:] = seg.count(active[village] & (waiting | (~known & registered)))
    return tie, known, waiting


def _act_on_registers(e: StackedVillages, chosen: np.ndarray, chosen_village: np.ndarray,
                      purpose: np.ndarray, acts: np.ndarray) -> None:
    """Challenge entries found not poor, list those found poor (``visits.act_on_register``).

    ``acts``: the requested visits the team acts on (routine visits only gather knowledge).
    """
    vs, P, seg = e.villages, e.params, e.segments
    cols = e.stack.columns
    month = int(vs[0].steps)
    registered = cols["registered"]
    count = cols["team_signal_count"][chosen]
    estimate = cols["team_signal_sum"][chosen] / count
    # visits.confident_side, with each village's noise, line and confidence
    log_variance = P.derived("team_log_variance",
                             lambda p: numerics.log_variance(p.team_noise))
    above, below = sides_of_line(estimate, count, log_variance[chosen_village],
                                 P("poverty_line")[chosen_village],
                                 P("team_confidence")[chosen_village])
    listed = registered[chosen]
    since_exit = month - cols["exit_month"][chosen]
    remove = listed & above & acts
    restore_pool = ((purpose & Purpose.RECHECK) > 0) & (since_exit <= 12) & ~listed & below & acts
    add_pool = ~listed & (since_exit >= 12) & below & acts
    changed = np.unique(chosen_village[remove | restore_pool | add_pool])
    if changed.size == 0:
        return
    n_v = len(vs)
    registered[chosen[remove]] = False
    favoured = np.bincount(chosen_village[remove],
                           weights=cols["favoured_entry"][chosen[remove]], minlength=n_v)
    # the quota still caps the register: the poorest found first, those a re-check restores
    # before those it adds at equal estimates (each village's candidates in that order). A
    # household whose exit is exactly 12 months old is in both pools, and is a candidate
    # twice, as in the village's own list
    restorable, addable = np.flatnonzero(restore_pool), np.flatnonzero(add_pool)
    pool = np.concatenate([restorable, addable])
    is_add = np.concatenate([np.zeros(restorable.size, dtype=bool),
                             np.ones(addable.size, dtype=bool)])
    by_village = np.lexsort((pool, is_add, chosen_village[pool]))
    pool, is_add = pool[by_village], is_add[by_village]
    quota = quotas(e)
    room = np.where(quota.capped, np.maximum(0, quota.k - seg.count(registered)),
                    np.iinfo(np.int64).max // 2)
    pool_segments = Segments(np.bincount(chosen_village[pool], minlength=n_v))
    within = pool_segments.first_k(room, estimate[pool])
    restore = chosen[pool[within & ~is_add]]
    added_at = pool[within & is_add]  # places in the month's visits
    add = chosen[added_at]
    registered[add] = True
    put_back(e, restore)
    # the decision log (register.log_changes, households by index), then each changed
    # village's helpers
    removed = chosen[remove]
    rechecked = (purpose[remove] & Purpose.RECHECK) > 0
    complained = (purpose[added_at] & Purpose.COMPLAINT) > 0
    log_changes(e, Actor.TEAM, [
        (removed[~rechecked], Outcome.REMOVED, Reason.CHALLENGED_NOT_POOR),
        (removed[rechecked], Outcome.REMOVED, Reason.RECHECK_NOT_POOR),
        (restore, Outcome.RE_REGISTERED, Reason.RECHECK_STILL_POOR),
        (add[~complained], Outcome.REGISTERED, Reason.ADDED_BY_TEAM),
        (add[complained], Outcome.REGISTERED, Reason.COMPLAINT_UPHELD),
    ])
    record_detections(e, changed, "registration", favoured[changed])
    in_changed = np.zeros(n_v, dtype=bool)
    in_changed[changed] = True
    assign(e, in_changed)


def _plan(e: StackedVillages, capacity: np.ndarray, known: np.ndarray, waiting: np.ndarray,
          tie: np.ndarray, on: np.ndarray) -> np.ndarray:
    """The month's visits of every village, in each village's own order (``team_visits``)."""
    vs, seg = e.villages, e.segments
    cols = e.stack.columns
    village = seg.village
    registered = cols["registered"]
    compiled = kernels(e)
    if compiled is not None:  # the same plan, village by village in one compiled loop
        P = e.params
        strategy = P.derived("visit_strategy_code",
                             lambda p: compiled.STRATEGIES.index(p.visit_strategy))
        shows = P("team_cooperation").astype(bool) & e.gather("committee_estimated", bool)
        flagged = (cols["pending_purpose"] & (Purpose.COMPLAINT | Purpose.REPORT)) > 0
        out = np.empty(seg.n, dtype=np.int64)
        count = compiled.visit_plan(
            seg.offsets, capacity.astype(np.int64), known, waiting, registered, on,
            cols["pending_since"], cols["team_last_visit"], tie, strategy, shows,
            P("visit_order_bins").astype(np.float64), P("poverty_line").astype(np.float64),
            cols["committee_shown"], flagged, cols["fav_weight"] > 0, out)
        return out[:count]
    unknown = ~known & ~waiting
    group = np.full(seg.n, 3, dtype=np.int64)  # known, not waiting: revisits
    group[unknown & ~registered] = 2
    group[unknown & registered] = 1
    group[waiting] = 0
    group[~on] = 4  # no team: never visited
    # the first of each group's order: the oldest request, the longest unseen
    primary = np.where(group == 0, cols["pending_since"],
                       np.where(group == 3, cols["team_last_visit"], 0)).astype(np.float64)
    first_key, second_key = _strategy_keys(e, tie)
    # how many of each group the capacity takes: whole groups, then part of one
    per_group = np.bincount(village * 5 + group, minlength=5 * len(vs)).reshape(-1, 5)[:, :4]
    before = np.cumsum(per_group, axis=1) - per_group
    room = np.clip(capacity[:, None] - before, 0, per_group)  # taken from each group
    whole = room == per_group
    taken = whole[village, np.minimum(group, 3)] & (group < 4)
    part = (room > 0) & ~whole  # at most one group per village
    if part.any():
        g_part = np.where(part.any(axis=1), part.argmax(axis=1), -1)
        candidates = group == g_part[village]
        k = room[np.arange(len(vs)), np.maximum(g_part, 0)]
        taken |= seg.first_k(np.where(g_part >= 0, k, 0), tie, first_key, second_key, primary,
                             among=candidates)
    chosen = np.flatnonzero(taken)
    # the village's own order of its visits: group by group, each in its keys' order
    order = np.lexsort((tie[chosen], first_key[chosen], second_key[chosen], primary[chosen],
                        group[chosen], village[chosen]))
    return chosen[order]


def _strategy_keys(e: StackedVillages, tie: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keys of each village's ``visit_strategy`` after the random tie (primary last).

    As ``policies.team_visits``: ``(tie, first, second)`` in ``np.lexsort`` order, zeros
    where a strategy has fewer keys (a constant key changes no stable order).
    """
    P, seg = e.params, e.segments
    cols = e.stack.columns
    village = seg.village
    n = seg.n
    first = np.zeros(n)
    second = np.zeros(n)
    strategy = P("visit_strategy")
    shows = P("team_cooperation").astype(bool) & e.gather("committee_estimated", bool)
    z = P.of_households("poverty_line")
    bins = P.of_households("visit_order_bins")
    shown = cols["committee_shown"]
    flagged = (cols["pending_purpose"] & (Purpose.COMPLAINT | Purpose.REPORT)) > 0
    for name in _STRATEGY_KEYS:
        uses = strategy == name
        if not uses.any():
            continue
        with_shown = (uses & shows)[village]
        without = (uses & ~shows)[village]
        if name == "near_line_first":
            first[with_shown] = _near(shown, bins, z)[with_shown]
        elif name == "lowest_estimate_first":
            first[with_shown] = np.floor(bins * shown / z)[with_shown]
        elif name == "complaints_first":
            first[without] = (~flagged)[without]
            first[with_shown] = _near(shown, bins, z)[with_shown]
            second[with_shown] = (~flagged)[with_shown]
        else:  # cadre_kin_first
            first[uses[village]] = (~(cols["fav_weight"] > 0))[uses[village]]
    return first, second


def _near(shown: np.ndarray, bins: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Distance of the stated estimate from the line, in bins (``policies.team_visits``)."""
    return np.floor(bins * np.abs(shown / z - 1.0))


def _check_payments(e: StackedVillages, chosen: np.ndarray, chosen_village: np.ndarray,
                    acts: np.ndarray, acting: np.ndarray, u_skim: np.ndarray,
                    u_excess: np.ndarray) -> None:
    """Visits to registered households check payments (``visits._check_payments``)."""
    vs, P, cad = e.villages, e.params, e.cadres
    cols = e.stack.columns
    slot = int(vs[0].steps) % 12
    n_v = len(vs)
    checked = np.bincount(chosen_village, weights=cols["registered"][chosen] & acts,
                          minlength=n_v).astype(np.int64)
    cv = cad.village
    exposed = material(cad.ring_buffer[cad.ring_places(slot)])  # this month's takings
    per_visit = P("team_detection")[cv] * size_factor(cad.gather("diversion_share"),
                                                       P("detection_scale")[cv])
    p_found = np.zeros(cad.segments.n)
    checks = checked[cv]
    for count in np.unique(checks[checks > 0]):  # the village's power, exponent by exponent
        at = checks == count
        p_found[at] = (1.0 - per_visit[at]) ** int(count)
    p_found = 1.0 - p_found
    found = exposed & (u_skim < p_found) & (checks > 0) & acting[cv]
    if found.any():  # what the found cadres hold: each one's last 12 months of takings
        held = np.zeros(cad.segments.n)
        at = np.flatnonzero(found)
        held[at] = cad.ring_sums(at)  # as each committee sums its own ring
        punish(e, found, held, by_check=True)
    # excess payments to cadres' kin and friends noticed on a visit
    # each village's channel_intensity["amount"] (its ledger is a view of the books' row)
    intensity = e.books.intensity[:, CHANNEL["amount"]] * P("amount_favoritism")
    favoured = cols["registered"] & (cols["fav_weight"] > 0)
    watching = acting & (intensity > 0) & (e.segments.count(favoured) > 0)
    if not watching.any():
        return
    chance = P("team_detection") * size_factor(intensity, P("detection_scale"))
    seen = favoured[chosen] & acts & (u_excess < chance[chosen_village])
    noticed = np.bincount(chosen_village[seen], minlength=n_v) > 0
    record_detections(e, np.flatnonzero(watching), "amount", noticed[watching])


def request(e: StackedVillages, households: np.ndarray, purpose: int) -> None:
    """Queue visits of the ``households`` (a mask) where a team is present.

    An earlier request keeps its place in the queue.
    """
    active = e.team_active()
    households = households & active[e.segments.village]
    if not households.any():
        return
    c = e.stack.columns
    c["pending_since"][households] = np.minimum(c["pending_since"][households], e.month)
    c["pending_purpose"][households] |= purpose
