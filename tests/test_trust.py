"""Trust graded by the diversion seen, relative to the household's income (Money and
measurement, item 6; ODD §7.9): not one grievance for any yuan."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from village_sim import VillageModel
from village_sim.mechanisms import trust


def _line(n: int) -> sp.csr_matrix:
    """Households 0-1-2-...: each tied to its neighbours."""
    rows = np.arange(n - 1)
    m = sp.coo_matrix((np.ones(n - 1), (rows, rows + 1)), shape=(n, n))
    return (m + m.T).tocsr()


def test_diversion_grievances_grow_with_the_money_seen_and_shrink_with_income() -> None:
    net = _line(4)
    income = np.array([10_000.0, 10_000.0, 20_000.0, 10_000.0])
    one = trust.diversion_grievances(net, np.array([1]), np.array([1000.0]), income, 0.1)
    # household 1 received 1,000: its ties 0 and 2 see it; 0 earns 10,000 (one grievance per
    # 1,000), 2 earns twice that (half a grievance); nobody else sees anything
    np.testing.assert_allclose(one, [1.0, 0.0, 0.5, 0.0])
    two = trust.diversion_grievances(net, np.array([1]), np.array([2000.0]), income, 0.1)
    np.testing.assert_allclose(two, 2 * one)  # twice the money, twice the grievance
    # one yuan is not one grievance any more
    tiny = trust.diversion_grievances(net, np.array([1]), np.array([1.0]), income, 0.1)
    assert tiny.max() == pytest.approx(0.001)


def test_doubling_the_diversion_seen_lowers_trust_more() -> None:
    model = VillageModel(rng=4, regime="committee_only")
    for _ in range(30):
        model.step()
    assert model.diverted_to.any()
    doubled = copy.deepcopy(model)
    doubled.diverted_hist *= 2.0
    trust.update(model)
    trust.update(doubled)
    sees = np.asarray(model.network[np.flatnonzero(model.diverted_to)].sum(axis=0)).ravel() > 0
    assert (doubled.trust[sees] <= model.trust[sees]).all()
    assert doubled.trust[sees].mean() < model.trust[sees].mean()
    np.testing.assert_array_equal(doubled.trust[~sees], model.trust[~sees])
