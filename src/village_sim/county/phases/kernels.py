"""Compiled loops for the county (numba): its monthly draws, and walks over its ties.

The county's phases draw from each village's own generators, call for call as the village's
mechanism does (docs/county_engine.md, D3): a Python loop over villages, one generator call per
draw and village. Here the same calls run in one compiled loop over all villages (numba's
nopython mode), on the villages' own ``np.random.Generator`` objects: numba's generator methods
share numpy's bit generators and their algorithms (numpy's ``distributions`` library), so every
number and every generator's state after the calls are numpy's own. tests/test_county_engine.py
checks both ways of drawing against the villages' solo runs, bit for bit.

This module imports numba, which is optional (the ``fast`` extra): :mod:`village_sim.county.
phases.draws` imports it only where numba is installed and a county is large enough for the
compiled loops to pay for their start (``draws.JIT_FROM_VILLAGES``).

Each kernel takes the villages' generators as a ``numba.typed.List`` (``rngs``, in village
order) and, for the villages that draw, their indices and the bounds of their draws in the
output arrays. A kernel fills its outputs and returns nothing.

The walks over ties (the kinship exchange, trust's grievances) do in one loop what their numpy
and scipy versions do in several passes, with the same arithmetic in the same order (below).

The county's monthly metrics (``county.metrics.county_metrics``) make their passes over the
households here too: sums of floats as numpy sums a contiguous array (:func:`pairwise_sum`,
numpy's pairwise summation step for step: tests/test_county_kernels.py compares it with
``ndarray.sum`` bit for bit), counts of whole numbers in any order.
"""

from __future__ import annotations

import numba
import numpy as np

try:  # numpy's bounded draw as numba writes it (numba's own shuffle calls it)
    from numba.np.random.random_methods import random_interval as _random_interval
except ImportError:  # moved in another numba: the generator's permutation, slower
    _random_interval = None  # type: ignore[assignment]

from village_sim import numerics
from village_sim.village import Cause

_LACK_OF_LABOUR = np.int8(Cause.LACK_OF_LABOUR)
_LACK_OF_SKILLS = np.int8(Cause.LACK_OF_SKILLS)
_LACK_OF_CAPITAL = np.int8(Cause.LACK_OF_CAPITAL)

__all__ = ["add_twice", "county_passes", "diagnosis", "economy", "economy_close", "economy_income",
           "economy_state", "gini_sums", "kept_by_village", "kin_exchange", "kin_needs",
           "learned_risks", "lognormal_blocks", "medians", "money_seen", "newcomer_blocks",
           "normal_blocks",
           "optimal_share_root", "pairwise_sum", "pay_register", "pay_takings",
           "permutation_blocks", "RADIX_BITS", "random_blocks", "register_counts",
           "registration_cells", "richer_listed_ties", "SHUFFLE_BY_INTERVAL", "sort_high_bits",
           "sort_keys", "stable_order", "transfer_sums", "trust_update", "typed_list",
           "visit_draws", "visit_plan", "visit_reports"]


def typed_list(generators: list[np.random.Generator]) -> numba.typed.List:
    """The generators as a list a compiled loop can index (the generators, not copies)."""
    out = numba.typed.List()
    for rng in generators:
        out.append(rng)
    return out


@numba.njit(cache=True, nogil=True)
def random_blocks(rngs, villages, starts, stops, out):
    """``rngs[villages[j]].random(out=out[starts[j]:stops[j]])`` for each ``j``, in order."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        for t in range(starts[j], stops[j]):
            out[t] = rng.random()


@numba.njit(cache=True, nogil=True)
def normal_blocks(rngs, villages, starts, stops, out):
    """``rngs[villages[j]].standard_normal(out=out[starts[j]:stops[j]])`` for each ``j``."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        for t in range(starts[j], stops[j]):
            out[t] = rng.standard_normal()


@numba.njit(cache=True, nogil=True)
def lognormal_blocks(rngs, villages, starts, stops, mu, sigma, out):
    """``out[a:b] = rngs[villages[j]].lognormal(mu[j], sigma[j], b - a)`` for each ``j``."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        if b > a:
            out[a:b] = rng.lognormal(mu[j], sigma[j], b - a)


_CHOICE_ATOL = float(np.sqrt(np.finfo(np.float64).eps))


@numba.njit(cache=True, nogil=True)
def newcomer_blocks(rngs, villages, starts, stops, sizes, p, concentration, out, beta_out,
                    normal_out):
    """New cadres, village after village: who, then their greed's and misperception's draws.

    Village ``villages[j]`` draws on its generator, as ``elections.replace_cadres`` does:
    ``choice(n, size=sizes[j], replace=False, p=p[starts[j]:stops[j]])``, then ``beta(a, a,
    k)`` (``a = concentration[j]``, ``village.draw_greed``) into ``beta_out`` and
    ``standard_normal(k)`` (the misperception) into ``normal_out``, at the choice's places.
    The choice is numpy's ``Generator.choice`` without replacement and with probabilities,
    step for step: ``random(k - found)`` draws, the probabilities of what was found set to 0,
    their running sum over its last, each draw's place in it (``searchsorted``, right side),
    the draws' first occurrences kept in draw order, until ``k`` are found; the places (from 0
    in the village's block) into ``out``, ``sizes[j]`` each. Returns -1, or before any draw
    the first ``j`` whose probabilities numpy refuses (NaN, negative, not summing to 1 by
    Kahan's sum within sqrt(eps), fewer non-zero than ``sizes[j]``): that village's own call
    raises numpy's error.
    """
    refused = _choice_refused(starts, stops, sizes, p)
    if refused >= 0:
        return refused
    q, cdf, x, new = _choice_space(starts, stops)
    placed = 0
    for j in range(villages.size):
        rng = rngs[villages[j]]
        k = sizes[j]
        _choice_one(rng, starts[j], stops[j], k, p, q, cdf, x, new, out, placed)
        a = concentration[j]
        for t in range(placed, placed + k):
            beta_out[t] = rng.beta(a, a)
        for t in range(placed, placed + k):
            normal_out[t] = rng.standard_normal()
        placed += k
    return -1


@numba.njit(cache=True, nogil=True)
def _choice_refused(starts, stops, sizes, p):
    """The first block whose probabilities ``Generator.choice`` refuses, or -1."""
    for j in range(starts.size):
        a, b, k = starts[j], stops[j], sizes[j]
        if k > b - a or k < 0 or (b == a and k > 0):
            return j
        if b == a:
            continue
        total, c, positive = p[a], 0.0, 0
        for i in range(a + 1, b):  # numpy's kahan_sum
            y = p[i] - c
            t = total + y
            c = (t - total) - y
            total = t
        for i in range(a, b):
            if p[i] < 0 or np.isnan(p[i]):
                return j
            if p[i] > 0:
                positive += 1
        if np.isnan(total) or abs(total - 1.0) > _CHOICE_ATOL or positive < k:
            return j
    return -1


@numba.njit(cache=True, nogil=True)
def _choice_space(starts, stops):
    """Work arrays for :func:`_choice_one`, long enough for the largest block."""
    largest = 0
    for j in range(starts.size):
        largest = max(largest, stops[j] - starts[j])
    return (np.empty(largest), np.empty(largest), np.empty(largest),
            np.empty(largest, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _choice_one(rng, a, b, k, p, q, cdf, x, new, out, placed):
    """One block's ``choice(b - a, size=k, replace=False, p=p[a:b])`` into ``out[placed:]``."""
    n = b - a
    if n == 0:
        return
    for i in range(n):
        q[i] = p[a + i]
    found = 0
    while found < k:
        m = k - found
        for t in range(m):
            x[t] = rng.random()
        for t in range(found):
            q[out[placed + t]] = 0.0
        running = 0.0
        for i in range(n):  # np.cumsum, then divided by its last
            running += q[i]
            cdf[i] = running
        last = cdf[n - 1]
        for i in range(n):
            cdf[i] = cdf[i] / last
        for t in range(m):  # searchsorted(x, side="right")
            lo, hi = 0, n
            while lo < hi:
                mid = (lo + hi) >> 1
                if cdf[mid] <= x[t]:
                    lo = mid + 1
                else:
                    hi = mid
            new[t] = lo
        for t in range(m):  # np.unique's first occurrences, in draw order
            seen = False
            for u in range(t):
                if new[u] == new[t]:
                    seen = True
                    break
            if not seen:
                out[placed + found] = new[t]
                found += 1


@numba.njit(cache=True, nogil=True)
def medians(values, offsets, villages, out):
    """``np.median`` of each listed village's ``values[offsets[i]:offsets[i + 1]]`` (none empty).

    The middle value, or the two middle values' sum halved, as numpy's median takes them from
    its partition: the order statistics are the same values whatever finds them.
    """
    for j in range(villages.size):
        i = villages[j]
        n = offsets[i + 1] - offsets[i]
        upper = n // 2
        part = np.partition(values[offsets[i]:offsets[i + 1]], upper)  # a copy, partitioned
        high = part[upper]
        if n % 2 == 1:
            out[j] = high
        else:  # the lower middle value: the largest before the upper one
            low = part[0]
            for t in range(1, upper):
                if part[t] > low:
                    low = part[t]
            out[j] = (low + high) / 2.0


@numba.njit(cache=True, nogil=True)
def economy(rngs, starts, stops, pairs, noise, disaster_hit):
    """Each village's month of shocks (``county.phases.economy._draw``'s three calls).

    Village ``i`` (households ``starts[i]:stops[i]``): ``random(2n)`` into ``pairs``,
    ``standard_normal(n)`` into ``noise``, ``random(n + 1)`` into ``disaster_hit`` (shifted by
    ``i``: a village's disaster draw, then its households' hits).
    """
    for i in range(starts.size):
        rng = rngs[i]
        a, b = starts[i], stops[i]
        for t in range(2 * a, 2 * b):
            pairs[t] = rng.random()
        for t in range(a, b):
            noise[t] = rng.standard_normal()
        for t in range(a + i, b + i + 1):
            disaster_hit[t] = rng.random()


@numba.njit(cache=True, nogil=True)
def economy_state(offsets, pairs, disaster_hit, illness, recovery, reach, asset_loss,
                  disaster, sick, assets, lost):
    """The month's illness and disasters (``county.phases.economy.run``), in place.

    Household ``h`` of village ``v`` (``offsets[v] <= h < offsets[v + 1]``) reads its falling-ill
    and recovering draws in its village's pairs (``random(2n)``: the first ``n`` then the next),
    its disaster hit after its village's disaster draw (``disaster_hit`` shifted by ``v + 1``);
    the rates are the village's. ``sick`` becomes ``~recover`` where sick, else ``fall_ill``;
    where the village's disaster strikes and hits, ``assets * (1 - loss)`` and ``lost`` set.
    """
    one = np.uint64(1)
    for v in range(offsets.size - 1):
        a, b = np.uint64(offsets[v]), np.uint64(offsets[v + 1])  # unsigned: no wrap checks
        n = b - a
        after = np.uint64(v) + one  # the village's disaster draws come v + 1 places later
        for h in range(a, b):
            k = h - a
            if sick[h]:
                sick[h] = not (pairs[a + a + n + k] < recovery[v])
            else:
                sick[h] = pairs[a + a + k] < illness[v]
            hit = disaster[v] and disaster_hit[h + after] < reach[v]
            lost[h] = hit
            if hit:
                assets[h] = assets[h] * (1.0 - asset_loss[v])


@numba.njit(cache=True, nogil=True)
def economy_income(offsets, sick, stale, labour_ratio, persons, skill_median, asset_median,
                   well_cause, illness_code, wear, measure_income, sigma,
                   variance, noise, log_noise, wage, labour, sick_share, skill, asset_return,
                   assets, infrastructure, project_income, cause, capacity_12):
    """Causes, worn measures, and the month's capacity and log-noise (``economy.run``).

    ``well_cause``, each household's cause were it well, is first recomputed in the ``stale``
    villages (``village.cause_of_poverty`` of a well household: lack of capital, unless skill
    is the lower relative to the village's medians, unless too few workers); ``cause``:
    illness where sick, else the cause were it well; ``measure_income *= wear``;
    ``log_noise = sigma * noise - 0.5 * variance`` (its ``exp`` is numpy's, outside);
    ``capacity_12 = annual_capacity / 12.0``, with ``annual_capacity``'s operations in its
    order: ``(wage * (labour * share) * skill + asset_return * assets) * infrastructure
    + measure_income + project_income`` (share 1.0 where well).
    """
    for v in range(offsets.size - 1):
        half_variance = 0.5 * variance[v]
        if stale[v]:
            med_skill, med_assets = skill_median[v], asset_median[v]
            for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
                if labour[h] < labour_ratio[v] * persons[h]:
                    well_cause[h] = _LACK_OF_LABOUR
                elif skill[h] * med_assets < assets[h] * med_skill:
                    well_cause[h] = _LACK_OF_SKILLS
                else:
                    well_cause[h] = _LACK_OF_CAPITAL
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            cause[h] = illness_code if sick[h] else well_cause[h]
            worn = measure_income[h] * wear[v]
            measure_income[h] = worn
            log_noise[h] = sigma[v] * noise[h] - half_variance
            working = labour[h] * (sick_share[v] if sick[h] else 1.0)
            base = wage[v] * working * skill[h] + asset_return[v] * assets[h]
            capacity_12[h] = (base * infrastructure[v] + worn + project_income[h]) / 12.0


@numba.njit(cache=True, nogil=True)
def economy_close(offsets, capacity_12, noise_factor, lost, income_loss, slot, income_hist,
                  persons, income_12, y):
    """The month's market income into its slot, the 12 months' sums and y (``economy.run``).

    ``capacity_12 * noise_factor``, times ``1 - loss`` where the disaster hit (numpy's
    ``monthly * factor`` with a factor of 1.0 elsewhere: the same number); each household's
    12 months summed from 0.0 slot after slot, as numpy sums the history's rows
    (``sum(axis=0)``); y is that sum over the persons.
    """
    months = income_hist.shape[0]
    for v in range(offsets.size - 1):
        keep = 1.0 - income_loss[v]
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            monthly = capacity_12[h] * noise_factor[h]
            if lost[h]:
                monthly = monthly * keep
            income_hist[slot, h] = monthly
            total = 0.0
            for r in range(months):
                total += income_hist[r, h]
            income_12[h] = total
            y[h] = total / persons[h]


@numba.njit(cache=True, nogil=True)
def visit_reports(rngs, offsets, active, reporting, month, last_visit, memory, signal_count,
                  report_rate, y, line, registered, exit_month, report_bit, no_request,
                  pending_since, pending_purpose, tie, known, waiting, demanded):
    """The month's visits up to the plan (``county.phases.visits._visit``), in one pass.

    Each village with a team (``active``) calls ``random(n)`` for its villagers' reports, then
    ``random(n)`` for the plan's ties (into ``tie``; zeros elsewhere), as one ``random(2n)``. A
    household is ``known`` where the team saw it within ``memory`` months and has a signal;
    where the village's villagers report (``reporting``), a household wrongly on or off the
    register (eligible: 12 months after an exit) is reported when its draw is below the report
    rate times the share of households known, and queued (``pending_since``, ``report_bit`` of
    ``pending_purpose``); then ``waiting`` marks the queue, and ``demanded`` counts the
    households the team would visit: queued, or registered and unknown.
    """
    largest = 0
    for v in range(offsets.size - 1):
        largest = max(largest, offsets[v + 1] - offsets[v])
    report_u = np.empty(largest)
    for v in range(offsets.size - 1):
        a, b = offsets[v], offsets[v + 1]
        count = 0
        for h in range(a, b):
            k = month - last_visit[h] < memory[v] and signal_count[h] > 0
            known[h] = k
            if k:
                count += 1
        if not active[v]:
            for h in range(a, b):
                tie[h] = 0.0
                waiting[h] = pending_since[h] < no_request
            demanded[v] = 0
            continue
        rng = rngs[v]
        for h in range(a, b):
            report_u[h - a] = rng.random()
        for h in range(a, b):
            tie[h] = rng.random()
        if reporting[v] and b > a:
            chance = report_rate[v] * (float(count) / float(b - a))
            for h in range(a, b):
                poor = y[h] < line[v]
                listed = registered[h]
                wronged = (listed and not poor) or (
                    not listed and poor and month - exit_month[h] >= 12)
                if wronged and report_u[h - a] < chance:
                    pending_since[h] = min(pending_since[h], month)
                    pending_purpose[h] |= report_bit
        d = 0
        for h in range(a, b):
            w = pending_since[h] < no_request
            waiting[h] = w
            if w or (not known[h] and registered[h]):
                d += 1
        demanded[v] = d


@numba.njit(cache=True, nogil=True)
def visit_draws(rngs, villages, starts, stops, noisy, mu, sigma, n_causes,
                acting, cadre_starts, cadre_stops,
                noise, u_diagnosis, shift, u_challenge, u_skim, u_excess):
    """The draws that follow the month's visit plan (``county.phases.visits._visit``).

    Village ``villages[j]``, visits ``starts[j]:stops[j]`` (k of them): ``lognormal(mu, sigma,
    k)`` into ``noise`` where the team's measurement is noisy (``agents.lognormal_factor``;
    nothing drawn otherwise), ``random(k)`` and ``integers(1, n_causes, k)`` for the diagnoses
    (``agents.diagnose``), then where the team supervises ``random(k + m + k)``: the
    challenges, the skimming draws of its m cadres (``cadre_starts[j]:cadre_stops[j]``) and the
    excess-payment draws.
    """
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        k = b - a
        if noisy[j]:
            noise[a:b] = rng.lognormal(mu[j], sigma[j], k)
        for t in range(a, b):
            u_diagnosis[t] = rng.random()
        shift[a:b] = rng.integers(1, n_causes, k)
        if acting[j]:
            for t in range(a, b):
                u_challenge[t] = rng.random()
            for t in range(cadre_starts[j], cadre_stops[j]):
                u_skim[t] = rng.random()
            for t in range(a, b):
                u_excess[t] = rng.random()


@numba.njit(cache=True, nogil=True)
def diagnosis(rngs, villages, starts, stops, n_causes, u, shift):
    """``random(k)`` then ``integers(1, n_causes, k)`` (``agents.diagnose``) of each village."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        if b > a:
            for t in range(a, b):
                u[t] = rng.random()
            shift[a:b] = rng.integers(1, n_causes, b - a)


@numba.njit(cache=True, nogil=True)
def _permutation_blocks_by_call(rngs, villages, starts, stops, values, out):
    """``out[a:b] = rngs[village].permutation(values[a:b])`` of each village, in order."""
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        out[a:b] = rng.permutation(values[a:b])


@numba.njit(cache=True, nogil=True)
def _permutation_blocks_by_interval(rngs, villages, starts, stops, values, out):
    """:func:`permutation_blocks` as numpy shuffles a copy of each block.

    Fisher-Yates from the last place, each swap's partner ``random_interval(i)`` (numpy's
    bounded draw: 32-bit draws below 2**32, masked and redrawn).
    """
    for j in range(villages.size):
        rng = rngs[villages[j]]
        a, b = starts[j], stops[j]
        for t in range(a, b):
            out[t] = values[t]
        for i in range(b - a - 1, 0, -1):
            k = a + np.int64(_random_interval(rng.bit_generator, i))
            held = out[a + i]
            out[a + i] = out[k]
            out[k] = held


SHUFFLE_BY_INTERVAL = _random_interval is not None
"""Whether :func:`permutation_blocks` shuffles by numpy's own steps (numba's internal
``random_interval``: about 4x quicker than numba's ``Generator.permutation``, which moves
each element through a 0-d view, and 2x quicker than numpy's own call per village)."""

permutation_blocks = (_permutation_blocks_by_interval if SHUFFLE_BY_INTERVAL
                      else _permutation_blocks_by_call)


# ---------------------------------------------------------------- walks over the county's ties
# ``indptr``, ``indices`` (``data``): a matrix of the county's ties (CSR, block diagonal). A
# row's products are summed from 0.0 in the row's stored order, as scipy's ``csr_matvec`` sums
# them, and counts and sums over ties are made in ``np.bincount``'s order;
# every other operation is one IEEE operation as numpy makes it: the numbers are the same.


@numba.njit(cache=True, nogil=True)
def register_counts(offsets, registered, fav_weight, favoured_entry, out):
    """``allocation.run``'s three counts of each village's register (``out``: villages × 3).

    Its registered households, those of them with a favour weight above 0, and the favoured
    entries still registered.
    """
    for v in range(offsets.size - 1):
        listed = favoured = entries = 0
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            if registered[h]:
                listed += 1
                if fav_weight[h] > 0:
                    favoured += 1
                if favoured_entry[h]:
                    entries += 1
        out[v, 0] = listed
        out[v, 1] = favoured
        out[v, 2] = entries


@numba.njit(cache=True, nogil=True)
def pay_register(offsets, registered, paying, fav, fav_weight, rest, slot, aid_hist,
                 aid_received):
    """The rest of each paying village's money to its register (``allocation.run``).

    A registered household's weight is ``1 + fav * fav_weight``; a village's weights are summed
    as numpy sums them (pairwise, in household order: ``Segments.exact_sum``); its aid is
    ``rest * w / w_sum``, added to its slot of the aid history and to what it received.
    """
    w = np.empty(registered.size)
    for v in range(offsets.size - 1):
        if not paying[v]:
            continue
        k = 0
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            if registered[h]:
                w[k] = 1.0 + fav[v] * fav_weight[h]
                k += 1
        w_sum = pairwise_sum(w[:k])
        k = 0
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            if registered[h]:
                aid = rest[v] * w[k] / w_sum
                aid_hist[slot, h] += aid
                aid_received[h] += aid
                k += 1


@numba.njit(cache=True, nogil=True)
def pay_takings(gain, slot, other_hist, diverted_hist, diverted_to, diverted_received):
    """Each household's gain from the cadres' takings, added where the village's phase adds it.

    ``allocation.pay_out_takings``: its slots of other transfers and diverted money, whether it
    ever got any, what it received.
    """
    for h in range(gain.size):
        g = gain[h]
        other_hist[slot, h] += g
        diverted_hist[slot, h] += g
        if g != 0.0:
            diverted_to[h] = True
        diverted_received[h] += g


@numba.njit(cache=True, nogil=True)
def transfer_sums(aid_hist, other_hist, diverted_hist, income_12, persons, ever, aid_12,
                  other_12, own_income, received):
    """Trust's sums over the 12 months (``county.phases.trust.update``), in one pass.

    Each household's aid and other transfers summed from 0.0 slot after slot (numpy's
    ``sum(axis=0)``), its yearly income after transfers ``(income_12 + aid + other) / persons
    * persons`` (the per-capita income, times the persons again, as trust grades it), and what
    each of ``ever`` received of diverted money, summed so.
    """
    months = aid_hist.shape[0]
    for h in range(income_12.size):
        aid = 0.0
        other = 0.0
        for r in range(months):
            aid += aid_hist[r, h]
            other += other_hist[r, h]
        aid_12[h] = aid
        other_12[h] = other
        p = float(persons[h])
        own_income[h] = (income_12[h] + aid + other) / p * p
    for j in range(ever.size):
        total = 0.0
        for r in range(months):
            total += diverted_hist[r, ever[j]]
        received[j] = total


@numba.njit(cache=True, nogil=True)
def trust_update(offsets, grievances, graded, seen, own_income, share, floor, y, line,
                 registered, identified, threshold, rate, trust):
    """Trust's month from the grievances counted over ties (``trust.update``), in place.

    Grievances: the richer listed ties, plus (where ``graded``) the money seen over
    ``share * max(own_income, floor)``, plus one where poor, unlisted and the village has
    identified; fairness ``1 - min(1, grievances / threshold)``; ``trust += rate * (fairness -
    trust)``. numpy's ``maximum`` and ``minimum`` (the first operand where not below, NaN
    passed on) and its order of operations.
    """
    for v in range(offsets.size - 1):
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            g = grievances[h]
            if graded:
                own = own_income[h]
                if not (own >= floor or own != own):
                    own = floor
                g = g + seen[h] / (share[v] * own)
            poor_unlisted = y[h] < line[v] and not registered[h] and identified[v]
            g = g + (1.0 if poor_unlisted else 0.0)
            ratio = g / threshold[v]
            capped = 1.0 if (1.0 <= ratio) else ratio
            fairness = 1.0 - capped
            trust[h] = trust[h] + rate[v] * (fairness - trust[h])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def kin_exchange(indptr, indices, data, deficit, surplus, out):
    """``mechanisms.kin_exchange.exchange(a, deficit, surplus)`` into ``out``.

    A row's product is computed only where its result is not multiplied by zero (a giver's
    demand where it has a surplus, offers where there is a deficit, gifts where a rate):
    elsewhere the result is the zero the full product gives.
    """
    n = deficit.size
    rate = np.zeros(n)  # surplus / (a @ deficit) where that demand is positive
    for i in range(n):
        if surplus[i] != 0.0:
            demand = _row_product(indptr, indices, data, deficit, i)
            if demand > 0.0:
                rate[i] = surplus[i] / demand
    scaled = np.zeros(n)  # deficit * fill
    for i in range(n):
        d = deficit[i]
        if d != 0.0:
            offered = d * _row_product(indptr, indices, data, rate, i)
            fill = d / offered if offered > d else 1.0
            out[i] = offered * fill  # received
            scaled[i] = d * fill
        else:
            out[i] = 0.0
    for i in range(n):
        r = rate[i]
        if r != 0.0:  # received - given
            out[i] = out[i] - r * _row_product(indptr, indices, data, scaled, i)


@numba.njit(cache=True, nogil=True)
def kin_needs(offsets, income, persons, line, floor, rate, on, deficit, surplus):
    """Each household's deficit and surplus this month (``county.phases.kin_exchange.run``).

    ``need = line / 12.0 * persons``; ``deficit = max(0, need - income)``, ``surplus =
    max(0, income - floor * need) * rate``, numpy's ``maximum`` written out (0.0 unless the
    difference is above it, NaN passed on); both zero in a village without kin exchange.
    """
    for v in range(offsets.size - 1):
        monthly_line = line[v] / 12.0
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            if not on[v]:
                deficit[h] = 0.0
                surplus[h] = 0.0
                continue
            need = monthly_line * persons[h]
            short = need - income[h]
            deficit[h] = 0.0 if 0.0 >= short else short
            extra = income[h] - floor[v] * need
            surplus[h] = (0.0 if 0.0 >= extra else extra) * rate[v]


@numba.njit(cache=True, nogil=True)
def add_twice(x, a, b):
    """``a += x`` and ``b += x``, in one pass."""
    for i in range(x.size):
        a[i] += x[i]
        b[i] += x[i]


@numba.njit(cache=True, nogil=True, inline="always")
def _row_product(indptr, indices, data, x, i):
    """Row ``i`` of the matrix times ``x``, summed from 0.0 in the row's order (scipy's).

    Indexed by unsigned integers: numba then checks no index for a negative value to wrap
    (the matrix's indices are never negative), half the time of signed ones.
    """
    total = 0.0
    jj, stop = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
    while jj < stop:
        total += data[jj] * x[np.uint64(indices[jj])]
        jj += np.uint64(1)
    return total


@numba.njit(cache=True, nogil=True)
def richer_listed_ties(indptr, indices, reg, registered, y, out):
    """``mechanisms.trust.richer_listed_ties`` into ``out`` (zeros): +1 per such tie."""
    for i in range(reg.size):
        r = reg[i]
        yr = y[r]
        jj, stop = np.uint64(indptr[r]), np.uint64(indptr[r + 1])
        while jj < stop:  # unsigned indices (as _row_product)
            d = np.uint64(indices[jj])
            out[d] += np.float64((not registered[d]) & (yr > y[d]))
            jj += np.uint64(1)


@numba.njit(cache=True, nogil=True)
def money_seen(indptr, indices, receivers, received, out):
    """``mechanisms.trust.money_seen`` into ``out`` (zeros): receivers' ties in row order."""
    for i in range(receivers.size):
        r = receivers[i]
        amount = received[i]
        jj, stop = np.uint64(indptr[r]), np.uint64(indptr[r + 1])
        while jj < stop:  # unsigned indices (as _row_product)
            out[np.uint64(indices[jj])] += amount
            jj += np.uint64(1)


# ---------------------------------------------------------------- the cadres' choices
# ``numerics.optimal_share_root`` entry by entry: the same IEEE operations in the same order
# (marginal value, slope, Newton's steps for as many rounds as numpy's all-entries loop takes,
# the grid test, the bisection), with numpy's division by zero (error_model="numpy").

_STEPS, _GRID = numerics.BISECTION_STEPS, numerics._GRID
_TOLERANCE, _MAX_STEPS = numerics._NEWTON_TOLERANCE, numerics._NEWTON_MAX_STEPS
_ERROR = numerics._ERROR_ULPS * numerics._ULP
_LAST_LO = 1.0 / numerics._GRID - 1.0


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _marginal(f, cost, inv_g, scale):
    return 1.0 - cost * (1.0 - scale * scale / ((f + scale) * (f + scale))) - f * inv_g


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _slope(f, cost, inv_g, scale):
    t = f + scale
    return (cost + cost) * (scale * scale) / (t * t * t) + inv_g


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _root(cost, inv_g, scale, out):
    n = cost.size
    f = np.empty(n)
    for i in range(n):  # np.maximum: NaN if either is
        a = 1.0 / ((cost[i] + cost[i]) / scale[i] + inv_g[i])
        b = (1.0 - cost[i]) / inv_g[i]
        f[i] = a if a != a else (b if b != b else max(a, b))
    converging = False
    for _ in range(_MAX_STEPS):
        further = False
        for i in range(n):
            step = _marginal(f[i], cost[i], inv_g[i], scale[i]) / _slope(
                f[i], cost[i], inv_g[i], scale[i])
            f[i] = f[i] + step
            if abs(step) > _TOLERANCE:
                further = True
        if converging:
            break
        converging = not further
    for i in range(n):
        c, ig, k = cost[i], inv_g[i], scale[i]
        lo = np.floor(f[i] / _GRID)
        if lo == lo:  # np.clip keeps NaN
            lo = min(max(lo, 0.0), _LAST_LO)
        lo = lo * _GRID
        hi = lo + _GRID
        error = _ERROR * (1.0 + c + ig)
        exact = ((lo == 0.0) or (_marginal(lo, c, ig, k) > 0.0)) and (
            (hi == 1.0) or (_marginal(hi, c, ig, k) <= 0.0)) and (
            _slope(1.0, c, ig, k) * _GRID > (error + error))
        if exact:
            out[i] = 0.5 * (lo + hi)
        else:  # numerics.bisect
            lo, hi = 0.0, 1.0
            for _ in range(_STEPS):
                mid = 0.5 * (lo + hi)
                if _marginal(mid, c, ig, k) > 0.0:
                    lo = mid
                else:
                    hi = mid
            out[i] = 0.5 * (lo + hi)


def optimal_share_root(cost: np.ndarray, inv_g: np.ndarray,
                       scale: float | np.ndarray) -> np.ndarray:
    """``numerics.optimal_share_root``, in a compiled loop: the same numbers."""
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    out = np.empty(cost.size)
    _root(cost, np.ascontiguousarray(inv_g, dtype=np.float64),
          np.ascontiguousarray(np.broadcast_to(np.asarray(scale, dtype=np.float64), cost.shape)),
          out)
    return out


# ---------------------------------------------------------------- the cadres' learned risks


@numba.njit(cache=True, nogil=True)
def learned_risks(hazard, out):
    """``1 - (1 - hazard) ** 12`` of each village (``deterrence.learned_risk``, monthly).

    The power is the C library's ``pow``, as Python's ``**`` of floats calls it (numpy's
    ``np.power`` need not give its last bit).
    """
    for i in range(hazard.size):
        out[i] = 1.0 - (1.0 - hazard[i]) ** 12.0


# ---------------------------------------------------------------- the visit plan

STRATEGIES = ("random", "near_line_first", "lowest_estimate_first", "complaints_first",
              "cadre_kin_first")
"""The visit strategies, by their codes in :func:`visit_plan`."""


@numba.njit(cache=True, nogil=True, inline="always")
def _before(keys, a, b):
    """Whether entry ``a`` comes before entry ``b`` in ``np.lexsort(keys)``'s stable order.

    ``keys[q]`` for q = last, ..., 0 (the last row the primary key); NaN after every number,
    NaNs equal to each other (numpy's sort order); entries equal in every key by position.
    """
    for q in range(keys.shape[0] - 1, -1, -1):
        x, y = keys[q, a], keys[q, b]
        if x < y or (y != y and x == x):
            return True
        if y < x or (x != x and y == y):
            return False
    return a < b


@numba.njit(cache=True, nogil=True)
def _lexsorted(keys, idx):
    """``idx[np.lexsort(keys[:, idx])]``: stable sorts from the least key to the primary."""
    out = idx.copy()
    for q in range(keys.shape[0]):
        out = out[np.argsort(keys[q, out], kind="mergesort")]
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy")
def visit_plan(offsets, capacity, known, waiting, registered, on, pending_since, last_visit,
               tie, strategy, shows, bins, line, shown, flagged, favoured, out):
    """``county.phases.visits._plan``: the month's visits of every village, in its order.

    Each village's households fall in groups (0 the queue, 1 registered households the team
    does not know, 2 the other unknown ones, 3 revisits, 4 none: no team); groups are taken
    whole while the village's ``capacity`` lasts, then the first of one group in the order of
    ``(primary, second_key, first_key, tie)`` (``np.lexsort``'s, stable), the primary key being
    the request's month in group 0 and the last visit in group 3, the other keys those of the
    village's ``visit_strategy`` (``visits._strategy_keys``; ``strategy`` its index in
    ``STRATEGIES``, ``shows`` whether the committee's stated estimates ``shown`` are seen,
    ``bins`` and ``line`` the village's ``visit_order_bins`` and poverty line, ``flagged``
    the households with a complaint or report queued, ``favoured`` those with a favoured
    weight). The visits are written to ``out`` village after village, each village's in the
    order of ``(group, primary, second_key, first_key, tie)``; returns how many.
    """
    n_v = offsets.size - 1
    total = 0
    largest = 0
    for v in range(n_v):
        largest = max(largest, offsets[v + 1] - offsets[v])
    # one set of buffers for every village (the largest village's size)
    group = np.empty(largest, dtype=np.int64)
    keys = np.empty((5, largest))  # tie, first, second, primary, group (np.lexsort's order)
    chosen = np.empty(largest, dtype=np.bool_)
    picked = np.empty(largest, dtype=np.int64)
    for v in range(n_v):
        lo, hi = offsets[v], offsets[v + 1]
        if capacity[v] <= 0 or hi == lo:
            continue
        m = hi - lo
        per_group = np.zeros(5, dtype=np.int64)
        for h in range(lo, hi):
            if not on[h]:
                g = 4
            elif waiting[h]:
                g = 0
            elif known[h]:
                g = 3
            elif registered[h]:
                g = 1
            else:
                g = 2
            group[h - lo] = g
            per_group[g] += 1
        # whole groups while the capacity lasts, then part of one (at most one)
        take = np.zeros(4, dtype=np.int64)  # how many of each group
        part = -1
        before = 0
        for g in range(4):
            room = min(max(capacity[v] - before, 0), per_group[g])
            take[g] = room
            if 0 < room < per_group[g] and part < 0:
                part = g
            before += per_group[g]
        # the keys of the households that may be visited: the groups taken whole, and the one
        # taken in part (no other household's keys are read)
        code, sees, b, z = strategy[v], shows[v], bins[v], line[v]
        for h in range(lo, hi):
            i = h - lo
            g = group[i]
            whole = g < 4 and take[g] == per_group[g]
            chosen[i] = whole
            if not whole and g != part:
                continue
            first = second = 0.0
            if code == 1 and sees:  # near_line_first
                first = np.floor(b * np.abs(shown[h] / z - 1.0))
            elif code == 2 and sees:  # lowest_estimate_first
                first = np.floor(b * shown[h] / z)
            elif code == 3:  # complaints_first
                if sees:
                    first = np.floor(b * np.abs(shown[h] / z - 1.0))
                    second = 0.0 if flagged[h] else 1.0
                else:
                    first = 0.0 if flagged[h] else 1.0
            elif code == 4:  # cadre_kin_first
                first = 0.0 if favoured[h] else 1.0
            keys[0, i] = tie[h]
            keys[1, i] = first
            keys[2, i] = second
            keys[3, i] = (np.float64(pending_since[h]) if g == 0 else
                          np.float64(last_visit[h]) if g == 3 else 0.0)
            keys[4, i] = g
        if part >= 0:  # the first take[part] of that group
            want = take[part]
            best = np.empty(want, dtype=np.int64)
            held = 0
            for i in range(m):
                if group[i] != part:
                    continue
                if held == want and not _before(keys[:4], i, best[held - 1]):
                    continue
                at = held if held < want else want - 1
                while at > 0 and _before(keys[:4], i, best[at - 1]):
                    best[at] = best[at - 1]
                    at -= 1
                best[at] = i
                if held < want:
                    held += 1
            for t in range(held):
                chosen[best[t]] = True
        k = 0
        for i in range(m):
            if chosen[i]:
                picked[k] = i
                k += 1
        if k <= 64:  # a few visits: insertion into place, in np.lexsort's order
            for t in range(1, k):
                i = picked[t]
                at = t
                while at > 0 and _before(keys, i, picked[at - 1]):
                    picked[at] = picked[at - 1]
                    at -= 1
                picked[at] = i
            for t in range(k):
                out[total + t] = lo + picked[t]
        else:
            ordered = _lexsorted(keys[:, :m], picked[:k].copy())
            for t in range(k):
                out[total + t] = lo + ordered[t]
        total += k
    return total


# ---------------------------------------------------------------------------- the county's metrics
# ``county.metrics.county_metrics``'s passes over every household, each giving its numpy
# version's bits: element-wise IEEE arithmetic in the same order, sums of floats as numpy sums a
# contiguous array (``pairwise_sum``), counts and sums of whole numbers (exact in any order).

@numba.njit(cache=True, nogil=True, inline="always")
def _pairwise_block(a, lo, n):
    """Numpy's pairwise sum of at most 128 values, ``a[lo:lo + n]``.

    Below 8 values one after another; else in 8 running sums combined as a tree, then the rest
    one after another.
    """
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    stop = lo + n - n % 8
    i = lo + 8
    while i < stop:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def _pairwise(a, lo, n):
    """Numpy's pairwise sum of ``a[lo:lo + n]`` (``pairwise_sum``, numpy's loops_utils.h).

    Up to 128 values a block (:func:`_pairwise_block`); above, the first half (a multiple of 8)
    and the second summed so, and added. numpy recurses; this walks the same tree with a stack
    of its own (numba's cache cannot reload a recursive function: it crashes).
    """
    if n <= 128:
        return _pairwise_block(a, lo, n)
    los = np.empty(64, dtype=np.int64)  # the tree's depth is below log2(n)
    ns = np.empty(64, dtype=np.int64)
    stage = np.zeros(64, dtype=np.int8)  # 0: go left, 1: go right, 2: add the two
    values = np.empty(64)
    top, held = 0, 0
    los[0], ns[0] = lo, n
    while top >= 0:
        start, m = los[top], ns[top]
        if m <= 128:
            values[held] = _pairwise_block(a, start, m)
            held += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[top] == 0:
            stage[top] = 1
            top += 1
            los[top], ns[top], stage[top] = start, half, 0
        elif stage[top] == 1:
            stage[top] = 2
            top += 1
            los[top], ns[top], stage[top] = start + half, m - half, 0
        else:
            held -= 1
            values[held - 1] = values[held - 1] + values[held]
            top -= 1
    return values[0]


@numba.njit(cache=True, nogil=True)
def pairwise_sum(a):
    """``a.sum()`` of a contiguous float64 array, bit for bit.

    numpy adds the pairwise sum to its identity, 0.0 (so that a sum of -0.0s is 0.0).
    """
    return 0.0 + _pairwise(a, 0, a.size)


@numba.njit(cache=True, nogil=True)
def county_passes(offsets, income_12, aid_12, other_12, w, line, registered, identified, y,
                  post, wg, wg2, village_persons, village_poor, village_income):
    """``county.metrics``' passes over every household, each household read once.

    Into ``y`` and ``post`` each household's income and post-transfer income per person
    (``(income_12 + aid_12 + other_12) / w``, numpy's order); into ``wg``, ``wg2`` the
    persons-weighted gaps ``w * (z - y) / z`` below the line (else 0) and those times the gap
    again (``metrics.fgt_all``'s terms); each village's persons,
    persons below its line (whole numbers: exact in any order) and persons-weighted income
    (summed from 0.0 household after household, as ``np.bincount`` sums it). Returns the
    persons, the persons below the line, the gaps' and squared gaps' sums (numpy's pairwise
    sums), the persons below the line after transfers, and ``metrics.targeting``'s counts over
    the households of villages that have identified (households, poor, registered, poor and
    registered) with the registered households of all villages.
    """
    persons = poor = poor_post = 0.0
    n = n_poor = listed = both = all_listed = 0
    for v in range(offsets.size - 1):
        z = line[v]
        counted = identified[v]
        total = below = income = 0.0
        for h in range(np.uint64(offsets[v]), np.uint64(offsets[v + 1])):
            wh = w[h]
            yh = income_12[h] / wh
            y[h] = yh
            ph = (income_12[h] + aid_12[h] + other_12[h]) / wh
            post[h] = ph
            persons += wh
            total += wh
            gap = 0.0
            is_poor = yh < z
            if is_poor:
                poor += wh
                below += wh
                gap = (z - yh) / z
            t = wh * gap
            wg[h] = t
            wg2[h] = t * gap
            income += wh * yh
            if ph < z:
                poor_post += wh
            if registered[h]:
                all_listed += 1
            if counted:
                n += 1
                if is_poor:
                    n_poor += 1
                if registered[h]:
                    listed += 1
                    if is_poor:
                        both += 1
        village_persons[v] = total
        village_poor[v] = below
        village_income[v] = income
    return (persons, poor, pairwise_sum(wg), pairwise_sum(wg2), poor_post, n, n_poor, listed,
            both, all_listed)


@numba.njit(cache=True, nogil=True)
def gini_sums(y, persons, order):
    """``metrics._gini_of_sorted``'s sums over all households, read in ``order``.

    The persons, ``w * x`` and ``w * x * (running persons - w / 2)``, each as numpy sums the
    array.
    """
    n = order.size
    wf = np.empty(n)
    wx = np.empty(n)
    term = np.empty(n)
    running = 0
    for i in range(n):
        j = np.uint64(order[i])  # unsigned: no wrap checks
        running += persons[j]
        w = float(persons[j])
        t = w * y[j]
        wf[i] = w
        wx[i] = t
        term[i] = t * (float(running) - 0.5 * w)
    return pairwise_sum(wf), pairwise_sum(wx), pairwise_sum(term)


@numba.njit(cache=True, nogil=True)
def sort_keys(y, bits, keys):
    """Each value's sort key, its place in its last ``bits`` bits; False where y holds NaN.

    The key of a double is its bits read as an unsigned integer, all inverted for a negative
    value, the sign bit set for the others (ordered as the values, -0.0 just below 0.0); its
    top ``64 - bits`` bits are kept above the place. Sorting the keys (:func:`sort_high_bits`)
    orders y by value, values that differ only in their dropped bits by place
    (:func:`stable_order` finds them).
    """
    bits_ = np.uint64(bits)
    sign = np.uint64(1) << np.uint64(63)
    raw = y.view(np.uint64)
    for i in range(y.size):
        if np.isnan(y[i]):
            return False
        u = raw[i]
        key = ~u if u & sign else u | sign
        keys[i] = ((key >> bits_) << bits_) | np.uint64(i)
    return True


RADIX_BITS = 12
"""The digit of :func:`sort_high_bits`: 4,096 counts a pass (four passes over the 48 bits of
the keys' values at 60,000 households; 12 bits measured quickest of 8, 11, 12 and 16 there)."""


@numba.njit(cache=True, nogil=True)
def sort_high_bits(keys, low, spare):
    """Sort ``keys`` in place by their bits from ``low`` up, stably (``spare``: scratch).

    A least-significant-digit radix sort, :data:`RADIX_BITS` bits a pass. Keys that agree
    above ``low`` keep their order: where their low bits rise with their place
    (:func:`sort_keys`' places), the keys come out wholly sorted, as ``np.sort`` sorts them.
    Every digit's counts are taken in one pass over the keys; a digit that all keys share
    needs no pass of its own. About 0.5-0.8 ms at 60,000 keys, against 2.4-2.7 ms for
    ``np.sort`` (numpy 2.5 here).
    """
    n = keys.size
    if n < 2:
        return
    radix = np.int64(1) << np.int64(RADIX_BITS)
    mask = np.uint64(radix - 1)
    passes = (64 - low + RADIX_BITS - 1) // RADIX_BITS
    counts = np.zeros((passes, radix), dtype=np.int64)
    for i in range(n):
        key = keys[i]
        for p in range(passes):
            counts[p, np.int64((key >> np.uint64(low + p * RADIX_BITS)) & mask)] += 1
    source, target = keys, spare
    moved = False
    for p in range(passes):
        shift = np.uint64(low + p * RADIX_BITS)
        place = counts[p]
        if place[np.int64((source[0] >> shift) & mask)] == n:
            continue  # one digit for all: this pass would leave the keys where they are
        total = 0
        for d in range(radix):
            count = place[d]
            place[d] = total
            total += count
        for i in range(n):
            key = source[i]
            d = np.int64((key >> shift) & mask)
            target[place[d]] = key
            place[d] += 1
        source, target = target, source
        moved = not moved
    if moved:
        keys[:] = source


@numba.njit(cache=True, nogil=True)
def stable_order(keys, bits, y, order):
    """The places of sorted keys (:func:`sort_keys`'); True if ``np.argsort(y, "stable")``'s.

    Keys equal above their places hold values equal in all but their dropped bits, in the
    order of their places; where such a run does not sort its values (post-transfer incomes
    a few units in the last place apart at the transfers' floor: many households in
    most months after the first year), the run is sorted by value, stably (numba's merge
    sort). The order is then checked: it sorts y, and equal values have equal bits and come
    in the order of their places. False where they do not — zeros of both signs, which the
    keys put apart and a stable sort of the values does not.
    """
    n = keys.size
    mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
    shift = np.uint64(bits)
    raw = y.view(np.uint64)
    for i in range(n):
        order[i] = np.int64(keys[i] & mask)
    start = 0
    while start < n:
        top = keys[start] >> shift
        stop = start + 1
        while stop < n and keys[stop] >> shift == top:
            stop += 1
        for t in range(start + 1, stop):
            if y[order[t]] < y[order[t - 1]]:  # the run's values out of order: sort it
                run = order[start:stop].copy()
                by_value = np.argsort(y[run], kind="mergesort")
                for r in range(run.size):
                    order[start + r] = run[by_value[r]]
                break
        start = stop
    for i in range(1, n):
        a, b = order[i - 1], order[i]
        if y[b] < y[a] or (y[b] == y[a] and (raw[b] != raw[a] or b < a)):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def kept_by_village(order, village, keep, n_villages, y, kept, xs, counts):
    """The kept households village by village, each village's in ``order``, and their incomes.

    ``Segments.regroup(order)`` (a stable regrouping by village) then ``order[keep[order]]`` and
    ``y[kept]``; ``counts`` gets each village's number kept. Returns how many are kept.
    """
    for j in range(keep.size):  # the counts in stack order (any order counts the same)
        if keep[j]:
            counts[village[j]] += 1
    place = np.empty(n_villages, dtype=np.int64)
    total = 0
    for v in range(n_villages):
        place[v] = total
        total += counts[v]
    for i in range(order.size):
        j = np.uint64(order[i])  # unsigned: no wrap checks
        if keep[j]:
            v = village[j]
            p = place[v]
            kept[p] = j
            xs[p] = y[j]
            place[v] = p + 1
    return total


@numba.njit(cache=True, nogil=True)
def registration_cells(kept, registered, kin, bounds, counts, sums):
    """``metrics._registration_cells`` from the kept households' indices.

    In each village's deciles (between ``bounds``' columns) the households not cadres' kin and
    kin, and the registered among each (whole numbers).
    """
    for r in range(bounds.shape[0]):
        for d in range(bounds.shape[1] - 1):
            n_kin = reg = reg_kin = 0
            for p in range(bounds[r, d], bounds[r, d + 1]):
                j = kept[p]
                if kin[j]:
                    n_kin += 1
                    if registered[j]:
                        reg_kin += 1
                elif registered[j]:
                    reg += 1
            counts[r, d, 0] = bounds[r, d + 1] - bounds[r, d] - n_kin
            counts[r, d, 1] = n_kin
            sums[r, d, 0] = reg
            sums[r, d, 1] = reg_kin
