"""The county's compiled walks over ties give their numpy and scipy versions' bits.

``county/phases/kernels.py`` does the kinship exchange and trust's grievances in compiled
loops where numba is installed (counties of ``draws.JIT_FROM_VILLAGES`` villages or more). The
engine's tests compare whole villages month by month; these compare the loops themselves on
random networks with what real months rarely hold: incomes tied exactly across a tie, zero
deficits and surpluses, households without ties, a giver whose kin have no deficit, and
weights other than 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from village_sim.mechanisms.kin_exchange import exchange
from village_sim.mechanisms.trust import money_seen, richer_listed_ties

kernels = pytest.importorskip("village_sim.county.phases.kernels")


def bits(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).view(np.int64)


def network(rng: np.random.Generator, n: int, density: float,
            weighted: bool = False) -> sp.csr_matrix:
    """A symmetric network without self-ties; a few households have no ties at all."""
    upper = sp.random(n, n, density=density, random_state=rng, format="csr")
    a = sp.triu(upper, k=1)
    a = (a + a.T).tocsr()
    if not weighted:
        a.data[:] = 1.0
    alone = rng.choice(n, size=max(1, n // 20), replace=False)
    keep = ~np.isin(a.tocoo().row, alone) & ~np.isin(a.tocoo().col, alone)
    coo = a.tocoo()
    a = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    a.sort_indices()
    return a


def coarse(rng: np.random.Generator, n: int, values: int = 6) -> np.ndarray:
    """Incomes of few distinct values, so that ties across ties are common; some zero."""
    return rng.integers(0, values, size=n).astype(np.float64) * 250.0


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_the_kinship_exchange_loop_is_scipy_s_exchange_bit_for_bit(seed: int,
                                                                   weighted: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    a = network(rng, n, 0.02, weighted)
    need = rng.uniform(200.0, 900.0, n)
    income = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(6.0, 1.0, n))
    at_need = rng.random(n) < 0.1
    income[at_need] = need[at_need]  # no deficit, no surplus
    deficit = np.maximum(0.0, need - income)
    surplus = np.maximum(0.0, income - 1.5 * need) * 0.1
    assert (deficit == 0).any() and (deficit > 0).any() and (surplus > 0).any()
    out = np.full(n, np.nan)
    kernels.kin_exchange(a.indptr, a.indices, a.data, deficit, surplus, out)
    expected = exchange(a, deficit, surplus)
    assert np.array_equal(bits(out), bits(expected))
    assert abs(out.sum()) < 1e-6 * max(1.0, np.abs(out).sum())  # money is conserved


@pytest.mark.parametrize("seed", range(6))
def test_trust_s_walks_over_ties_are_numpy_s_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 500
    a = network(rng, n, 0.03)
    y = coarse(rng, n)  # equal incomes across a tie are no grievance: many such ties here
    registered = rng.random(n) < 0.3
    reg = np.flatnonzero(registered)
    got = np.zeros(n)
    kernels.richer_listed_ties(a.indptr, a.indices, reg, registered, y, got)
    expected = richer_listed_ties(a, reg, registered, y)
    assert np.array_equal(bits(got), bits(expected)) and expected.sum() > 0
    receivers = np.flatnonzero(rng.random(n) < 0.2)
    received = rng.lognormal(5.0, 1.5, receivers.size)
    seen = np.zeros(n)
    kernels.money_seen(a.indptr, a.indices, receivers, received, seen)
    assert np.array_equal(bits(seen), bits(money_seen(a, receivers, received, n)))


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_visit_plan_is_the_numpy_plan(seed: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # county.phases.visits._plan both ways on the same month: villages of every visit strategy
    # (the committee's stated estimates seen by the team or not) and size, capacities of 0, of
    # part of a group and beyond the village; random queues (complaints, reports), knowledge
    # and registers; ties in every key (coarse stated estimates, few last-visit months, equal
    # tie draws) and NaN stated estimates
    from village_sim.county.engine import CountyEngine
    from village_sim.county.phases import draws, visits
    from village_sim.stack import VillageStack

    rng = np.random.default_rng(300 + seed)
    strategies = ["near_line_first", "lowest_estimate_first", "complaints_first",
                  "cadre_kin_first", "random"]
    configs = [{"rng": int(rng.integers(1 << 30)), "n_households": int(rng.integers(20, 90)),
                "visit_strategy": strategies[v % len(strategies)],
                "visit_order_bins": int(rng.choice([1, 10])),
                "team_cooperation": bool(v % 7)} for v in range(12)]
    engine = CountyEngine(VillageStack.build(configs), collect=False)
    for _ in range(3):
        engine.step()
    for v in engine.villages:  # stated estimates seen or not, whatever the cooperation
        v.committee_estimated = bool(rng.random() < 0.7)
    seg, cols = engine.segments, engine.stack.columns
    n = seg.n
    cols["committee_shown"][...] = np.where(rng.random(n) < 0.1, np.nan,
                                            rng.integers(0, 8, n) * 400.0)
    cols["pending_since"][...] = np.where(rng.random(n) < 0.2, rng.integers(0, 3, n),
                                          visits.NO_REQUEST)
    waits = cols["pending_since"] < visits.NO_REQUEST
    cols["pending_purpose"][...] = np.where(waits, rng.choice(  # a complaint, a report or not
        [0, int(visits.Purpose.COMPLAINT), int(visits.Purpose.REPORT)], n), 0)
    cols["team_last_visit"][...] = rng.integers(-2, 3, n)
    cols["registered"][...] = rng.random(n) < 0.4
    cols["fav_weight"][...] = (rng.random(n) < 0.2) * 1.0
    known = rng.random(n) < 0.4
    waiting = cols["pending_since"] < visits.NO_REQUEST
    on = rng.random(seg.n_segments)[seg.village] < 0.9
    tie = np.where(rng.random(n) < 0.2, 0.5, rng.random(n))
    capacity = rng.choice([0, 3, 12, 40, 200], seg.n_segments)
    plans = {}
    for drawing, jit_from in (("python", 10**9), ("compiled", 0)):
        monkeypatch.setattr(draws, "JIT_FROM_VILLAGES", jit_from)
        assert (draws.kernels(engine) is not None) == (drawing == "compiled")
        plans[drawing] = visits._plan(engine, capacity, known, waiting, tie, on)
    assert np.array_equal(plans["compiled"], plans["python"])
    assert 0 < plans["python"].size < on.sum()


def test_the_compiled_optimal_share_root_is_numpy_s_and_the_bisection_s_bit_for_bit() -> None:
    # test_model2's trials of the optimal share, with the compiled root in place of numerics':
    # extreme inclinations (1/g overflowing), sanctions, risks of 1 and detection scales, one
    # scale for all or one per cadre; where entries need Newton's method several rounds, the
    # compiled loop must take as many as the all-entries numpy loop
    from village_sim import numerics
    from village_sim.mechanisms import deterrence

    rng = np.random.default_rng(5)
    bisected_somewhere = False
    for trial in range(2000):
        n = int(rng.integers(1, 30))
        g = rng.random(n) * (20.0 if trial % 5 == 0 else 2.0)
        g[rng.random(n) < 0.1] = 0.0
        g[rng.random(n) < 0.03] = 1e-310  # 1/g overflows: the root is bisected
        risk = rng.random(n) ** float(rng.choice([0.3, 1.0, 3.0]))
        risk[rng.random(n) < 0.05] = 1.0
        sanction = rng.random(n) * 6.0 if trial % 2 else float(rng.choice([0.0, 0.5, 2.0]))
        scale = (float(rng.choice([1e-3, 0.01, 0.1, 0.5, rng.random()])) if trial % 3
                 else rng.choice([1e-3, 0.1, 0.5], n))
        with np.errstate(over="ignore"):  # 1 / 1e-310
            numpy_way = deterrence.optimal_share(g, risk, sanction, scale)
            compiled = deterrence.optimal_share(g, risk, sanction, scale,
                                                root=kernels.optimal_share_root)
            inv_g = np.divide(1.0, g, out=np.full(n, np.inf), where=g > 0)
        assert compiled.tobytes() == numpy_way.tobytes(), trial
        cost = np.broadcast_to(risk * (1.0 + np.asarray(sanction)), g.shape)
        inside = (g > 0) & (numerics.marginal_value(np.ones(n), cost, inv_g, scale) < 0.0)
        if inside.any():
            k = np.asarray(scale)[inside] if np.ndim(scale) else scale
            root = kernels.optimal_share_root(cost[inside], inv_g[inside], k)
            assert root.tobytes() == numerics.bisect(cost[inside], inv_g[inside], k).tobytes()
            bisected_somewhere |= bool((g[inside] == 1e-310).any())
    assert bisected_somewhere


def test_the_compiled_plan_knows_every_visit_strategy() -> None:
    # a strategy added to the parameter without a code in the compiled plan would fail there
    from village_sim.params import PARAM_BY_NAME

    assert set(kernels.STRATEGIES) == set(PARAM_BY_NAME["visit_strategy"].choices)


def test_the_compiled_pairwise_sum_is_numpy_s_sum_bit_for_bit() -> None:
    # numpy sums a contiguous float64 array pairwise (blocks of 128 in 8 running sums, halves a
    # multiple of 8 long above): the county's compiled metrics rely on the same bits. Lengths
    # around every branch (7, 8, 128, 129, the halves' cut), magnitudes that make the order
    # count, zeros of both signs, infinities and NaN
    rng = np.random.default_rng(11)
    lengths = [*range(0, 300), 1023, 1024, 1025, 4095, 4096, 8191, 8192, 8193, 60_000, 100_001]
    for n in lengths:
        for kind in range(4):
            if kind == 0:
                a = rng.standard_normal(n) * 10.0 ** rng.uniform(-8, 12, n)
            elif kind == 1:
                a = rng.uniform(0, 1e4, n)
            elif kind == 2:
                a = 1e6 - rng.exponential(1.0, n) * 1e-3
            else:
                a = rng.choice([-0.0, 0.0, 1e300, -1e300, 1.5], n)
            assert bits(kernels.pairwise_sum(a)) == bits(a.sum()), (n, kind)
    for special in ([-0.0], [-0.0] * 9, [np.inf, -np.inf], [np.nan, 1.0], [1e308, 1e308]):
        a = np.array(special * 20)
        with np.errstate(invalid="ignore", over="ignore"):
            assert bits(kernels.pairwise_sum(a)) == bits(a.sum()), special


@pytest.mark.parametrize("helper", ["normal", "lognormal", "permutation"])
def test_the_compiled_draws_are_each_generator_s_own_calls(
        helper: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``draws.normal_each``, ``lognormal_each`` and ``permutation_each``: the compiled loop
    gives each drawing village's own ``standard_normal(k)`` / ``lognormal(mu, sigma, k)`` /
    ``permutation(values)`` call, in village order, and leaves every generator where that call
    does; villages of no draws are skipped."""
    from types import SimpleNamespace

    from village_sim.county.phases import draws

    def county(seed: int) -> SimpleNamespace:
        villages = [SimpleNamespace(streams={"s": np.random.default_rng([seed, i])})
                    for i in range(7)]
        return SimpleNamespace(villages=villages, compiled_draws=True, typed_streams={})

    rows, sizes = np.array([0, 2, 3, 6]), np.array([5, 0, 130, 1])
    mu, sigma = np.array([-0.02, 0.1, 0.0, -1.5]), np.array([0.2, 0.3, 1e-9, 2.0])
    values = np.arange(int(sizes.sum()), dtype=np.int64) * 3

    def draw(e: SimpleNamespace) -> np.ndarray:
        if helper == "normal":
            return draws.normal_each(e, "s", rows, sizes)
        if helper == "lognormal":
            return draws.lognormal_each(e, "s", rows, sizes, mu, sigma)
        return draws.permutation_each(e, "s", rows, values, sizes)

    def own_call(rng: np.random.Generator, j: int, lo: int) -> np.ndarray:
        k = int(sizes[j])
        if helper == "normal":
            return rng.standard_normal(k)
        if helper == "lognormal":
            return rng.lognormal(float(mu[j]), float(sigma[j]), k)
        return rng.permutation(values[lo:lo + k])

    # the compiled loop for any block size (numpy's own calls shuffle long blocks faster)
    monkeypatch.setattr(draws, "COMPILED_SHUFFLE_BELOW", 10**9)
    got, expected = [], []
    for jit_from, out in ((0, got), (10**9, expected)):
        monkeypatch.setattr(draws, "JIT_FROM_VILLAGES", jit_from)
        e = county(5)
        assert (draws.kernels(e) is not None) == (jit_from == 0)
        for _ in range(2):  # twice: the generators' states carry on
            out.append(draw(e))
        out.append([v.streams["s"].random() for v in e.villages])
    own = county(5)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    for call in range(2):
        parts = [own_call(own.villages[i].streams["s"], j, lo)
                 for j, (i, lo) in enumerate(zip(rows.tolist(), starts, strict=True))
                 if sizes[j]]
        assert np.concatenate(parts).tobytes() == got[call].tobytes()  # every bit
    assert [v.streams["s"].random() for v in own.villages] == got[2]
    for a, b in zip(got, expected, strict=True):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_reports_and_queue_are_numpy_s(seed: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # county.phases.visits._reports both ways on the same month: teams present or not, villagers
    # reporting or not, households exited 10 to 13 months ago (eligible from 12), on and off
    # the register, poor and not, known or not (visits within the team's memory, signals or
    # none), some already queued; the draws, the queue, the demand and the streams' states
    import copy

    from village_sim.county.engine import CountyEngine
    from village_sim.county.phases import draws, visits
    from village_sim.stack import VillageStack

    rng = np.random.default_rng(500 + seed)
    configs = [{"rng": int(rng.integers(1 << 30)), "n_households": int(rng.integers(20, 90)),
                "report_rate": float(rng.choice([0.0, 0.5, 1.0])),
                "team_memory": int(rng.integers(1, 4))} for _ in range(12)]
    engine = CountyEngine(VillageStack.build(configs), collect=False)
    for _ in range(3):
        engine.step()
    seg, cols = engine.segments, engine.stack.columns
    n, month = seg.n, 3
    cols["exit_month"][...] = month - rng.integers(10, 14, n)
    cols["registered"][...] = rng.random(n) < 0.4
    cols["team_last_visit"][...] = month - rng.integers(0, 5, n)
    cols["team_signal_count"][...] = rng.integers(0, 2, n) * 1.0
    cols["pending_since"][...] = np.where(rng.random(n) < 0.1, 1, visits.NO_REQUEST)
    cols["pending_purpose"][...] = np.where(cols["pending_since"] < visits.NO_REQUEST, 2, 0)
    line = engine.params.of_households("poverty_line")
    engine.y = np.where(rng.random(n) < 0.5, 0.5, 1.5) * line
    active = rng.random(seg.n_segments) < 0.8
    reporting = active & (rng.random(seg.n_segments) < 0.8) & (engine.params("report_rate") > 0)
    before = {k: cols[k].copy() for k in ("pending_since", "pending_purpose")}
    streams = [copy.deepcopy(v.team.stream.bit_generator.state) for v in engine.villages]
    out = {}
    for drawing, jit_from in (("python", 10**9), ("compiled", 0)):
        monkeypatch.setattr(draws, "JIT_FROM_VILLAGES", jit_from)
        assert (draws.kernels(engine) is not None) == (drawing == "compiled")
        for k, a in before.items():
            cols[k][...] = a
        for v, state in zip(engine.villages, streams, strict=True):
            v.team.stream.bit_generator.state = copy.deepcopy(state)
        demanded = np.zeros(seg.n_segments, dtype=np.int64)
        tie, known, waiting = visits._reports(engine, active, reporting, demanded, month)
        out[drawing] = (bits(tie), known, waiting, demanded, cols["pending_since"].copy(),
                        cols["pending_purpose"].copy(),
                        [v.team.stream.bit_generator.state for v in engine.villages])
    for mine, theirs in zip(out["compiled"], out["python"], strict=True):
        if isinstance(mine, list):
            assert mine == theirs
        else:
            assert np.array_equal(mine, theirs)
    reported = (out["python"][5] & int(visits.Purpose.REPORT)) > 0
    assert reported.any() and not reported.all()  # the reports this test is about happened


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_causes_were_they_well_are_cause_of_poverty_s(seed: int) -> None:
    # kernels.economy_income recomputes the stale villages' causes were they well in its pass:
    # village.cause_of_poverty's, ties at both of its lines included (workers exactly at the
    # ratio times the persons; skill and assets exactly in the medians' proportion)
    from village_sim.village import Cause, cause_of_poverty

    rng = np.random.default_rng(700 + seed)
    sizes = rng.integers(0, 40, 15)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n, n_v = int(offsets[-1]), sizes.size
    village = np.repeat(np.arange(n_v), sizes)
    labour = rng.integers(0, 4, n)
    persons = rng.integers(1, 7, n)
    ratio = rng.choice([0.25, 0.5, 1.0], n_v)
    skill = rng.integers(1, 4, n) * 0.5
    assets = rng.integers(0, 4, n) * 1000.0
    skill_median, asset_median = rng.choice([0.5, 1.0], n_v), rng.choice([1000.0, 2000.0], n_v)
    stale = rng.random(n_v) < 0.6
    sick = rng.random(n) < 0.2
    before = rng.integers(1, 5, n).astype(np.int8)
    well, cause = before.copy(), np.empty(n, dtype=np.int8)
    ones, zeros = np.ones(n_v), np.zeros(n_v)
    kernels.economy_income(
        offsets, sick, stale, ratio, persons, skill_median, asset_median, well,
        np.int8(Cause.ILLNESS), ones, np.zeros(n), zeros, zeros, np.zeros(n), np.empty(n),
        ones, labour, ones, skill, ones, assets, ones, np.zeros(n), cause, np.empty(n))
    expected = np.where(stale[village], cause_of_poverty(
        np.zeros(n, dtype=bool), labour, persons, skill, assets, ratio[village],
        skill_median[village], asset_median[village]), before)
    assert np.array_equal(well, expected)
    assert np.array_equal(cause, np.where(sick, np.int8(Cause.ILLNESS), expected))
    at_line = stale[village] & (labour == ratio[village] * persons)
    balanced = stale[village] & (skill * asset_median[village] == assets * skill_median[village])
    assert at_line.any() and balanced.any()  # the ties this test is about


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_weighted_choice_is_numpy_s_choice(seed: int) -> None:
    # kernels.newcomer_blocks against one village's calls in elections.replace_cadres:
    # Generator.choice(n, k, replace=False, p), then village.draw_greed's beta(a, a, k), then
    # standard_normal(k), on the same generator. Weights with zeros and one or two heavy
    # entries (draws repeat, so several rounds are drawn), k from 0 up to every non-zero
    # entry, several concentrations; the same places, numbers and generator states after
    rng = np.random.default_rng(900 + seed)
    n_v = 30
    sizes = rng.integers(1, 25, n_v)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    p = np.empty(int(sizes.sum()))
    k = np.empty(n_v, dtype=np.int64)
    for j in range(n_v):
        w = rng.random(sizes[j]) * (rng.random(sizes[j]) < 0.7)
        w[rng.integers(sizes[j])] += rng.choice([1.0, 50.0])
        p[starts[j]:starts[j] + sizes[j]] = w / w.sum()
        k[j] = rng.integers(0, np.count_nonzero(w) + 1)
    a = rng.choice([0.5, 2.0, 4.0, 11.0], n_v)
    villages = rng.permutation(n_v)[:20]
    seeds = rng.integers(1 << 30, size=n_v)
    mine = kernels.typed_list([np.random.default_rng(s) for s in seeds])
    theirs = [np.random.default_rng(s) for s in seeds]
    n = int(k[villages].sum())
    out, raw, normal = np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
    assert kernels.newcomer_blocks(mine, villages, starts[villages],
                                   starts[villages] + sizes[villages], k[villages], p,
                                   a[villages], out, raw, normal) == -1
    places, betas, normals = [], [], []
    for j in villages:
        g = theirs[j]
        places.append(g.choice(sizes[j], size=k[j], replace=False,
                               p=p[starts[j]:starts[j] + sizes[j]]))
        betas.append(g.beta(a[j], a[j], size=k[j]))
        normals.append(g.standard_normal(k[j]))
    assert np.array_equal(out, np.concatenate(places))
    assert raw.tobytes() == np.concatenate(betas).tobytes()
    assert normal.tobytes() == np.concatenate(normals).tobytes()
    assert [g.bit_generator.state for g in mine] == [g.bit_generator.state for g in theirs]
    rounds = [j for j in villages if k[j] > 1 and p[starts[j]:starts[j] + sizes[j]].max() > 0.5]
    assert rounds  # villages where a heavy entry is drawn again, and more draws follow


def test_the_compiled_weighted_choice_leaves_numpy_s_refusals_to_numpy() -> None:
    # probabilities numpy refuses: the loop draws nothing and names the first such village
    gens = [np.random.default_rng(s) for s in range(4)]
    states = [g.bit_generator.state for g in gens]
    p = np.array([0.5, 0.5, 0.2, 0.2, 0.5, 0.0, 1.0, 0.0])
    starts, stops = np.array([0, 2, 4, 6]), np.array([2, 4, 6, 8])
    out = np.empty(4, dtype=np.int64)
    for sizes, refused in (([1, 1, 0, 0], 1), ([1, 0, 1, 0], 1), ([2, 0, 0, 2], 3)):
        sizes_ = np.array(sizes, dtype=np.int64)
        with pytest.raises(ValueError):  # and numpy refuses that village's call
            np.random.default_rng(0).choice(2, size=sizes_[refused], replace=False,
                                            p=p[starts[refused]:stops[refused]])
        keep = [0, refused]
        assert kernels.newcomer_blocks(kernels.typed_list(gens), np.array(keep),
                                       starts[keep], stops[keep], sizes_[keep], p,
                                       np.full(2, 2.0), out, np.empty(4), np.empty(4)) == 1
    assert [g.bit_generator.state for g in gens] == states


@pytest.mark.parametrize("kernel", ["_permutation_blocks_by_interval",
                                    "_permutation_blocks_by_call"])
def test_both_compiled_shuffles_are_numpy_s_permutation(kernel: str) -> None:
    # the shuffle by numpy's own steps (random_interval, used where numba has it) and the one
    # by numba's Generator.permutation (the fallback): each block as numpy's permutation of
    # it, blocks of 0, 1, 2 and up to 700 values, each generator left where numpy leaves it
    assert kernels.SHUFFLE_BY_INTERVAL  # the numba this project locks has random_interval
    rng = np.random.default_rng(11)
    sizes = np.array([0, 1, 2, 3, 700, *rng.integers(0, 300, 25)])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    values = rng.integers(-1000, 1000, int(sizes.sum())).astype(np.int64)
    villages = rng.permutation(sizes.size)
    mine = kernels.typed_list([np.random.default_rng(s) for s in range(sizes.size)])
    theirs = [np.random.default_rng(s) for s in range(sizes.size)]
    out = np.empty_like(values)
    getattr(kernels, kernel)(mine, villages, starts, starts + sizes, values, out)
    for j in range(sizes.size):
        block = slice(starts[j], starts[j] + sizes[j])
        assert np.array_equal(out[block], theirs[villages[j]].permutation(values[block]))
    assert [g.bit_generator.state for g in mine] == [g.bit_generator.state for g in theirs]


def test_the_radix_sort_of_keys_is_np_sort_and_keeps_ties_in_place() -> None:
    # sort_high_bits sorts by the bits from `low` up, stably, four 12-bit digits a time: the
    # county's keys (sort_keys: a double's bits above, its place below) come out as np.sort
    # sorts them at every size and spread of values (digits all keys share, whose pass is
    # skipped, included); from bit 0 it sorts any keys; above `low` it keeps the keys' order
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 3, 100, 4097, 60_000):
        bits_ = max(1, (n - 1).bit_length())
        for kind in range(4):
            if kind == 0:
                y = rng.lognormal(8.0, 1.0, n)
            elif kind == 1:  # a few values: most digits shared, ties of many
                y = rng.choice([0.0, 1500.0, 4000.0, 4000.5], n)
            elif kind == 2:  # negative, zero of both signs, across many binades
                y = rng.standard_normal(n) * 10.0 ** rng.uniform(-300, 300, n)
                y[rng.random(n) < 0.1] = -0.0
                y[rng.random(n) < 0.1] = 0.0
            else:  # one value: nothing to sort
                y = np.full(n, 7.25)
            keys = np.empty(n, dtype=np.uint64)
            assert kernels.sort_keys(y, bits_, keys)
            expected = np.sort(keys)
            kernels.sort_high_bits(keys, bits_, np.empty_like(keys))
            assert np.array_equal(keys, expected), (n, kind)
    anything = rng.integers(0, 2**64 - 1, 10_000, dtype=np.uint64, endpoint=True)
    expected = np.sort(anything)
    kernels.sort_high_bits(anything, 0, np.empty_like(anything))
    assert np.array_equal(anything, expected)
    # stability: the low 20 bits falling with the place, sorted by the bits above only
    high = rng.integers(0, 50, 3000).astype(np.uint64) << np.uint64(20)
    keys = high | (np.uint64(2**20 - 1) - np.arange(3000, dtype=np.uint64))
    expected = keys[np.argsort(high, kind="stable")]
    kernels.sort_high_bits(keys, 20, np.empty_like(keys))
    assert np.array_equal(keys, expected)


def test_the_compiled_medians_are_numpy_s_medians() -> None:
    # kernels.medians against np.median of each listed block, bit for bit: blocks of odd and
    # even sizes (one of one value), ties at the middle, zeros, a listed subset out of order
    rng = np.random.default_rng(31)
    sizes = rng.integers(1, 60, 80)
    sizes[:4] = [1, 2, 300, 301]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = rng.lognormal(8.0, 1.5, int(offsets[-1]))
    values[rng.random(values.size) < 0.2] = 0.0
    values[rng.random(values.size) < 0.1] = 5_000.0  # ties
    villages = rng.permutation(80)[:50].astype(np.int64)
    villages[:4] = [0, 1, 2, 3]
    out = np.empty(villages.size)
    kernels.medians(values, offsets, villages, out)
    expected = np.array([np.median(values[offsets[i]:offsets[i + 1]]) for i in villages])
    assert out.tobytes() == expected.tobytes()
