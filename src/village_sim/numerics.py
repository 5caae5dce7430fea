"""Numerical helpers of the mechanisms: identities, tolerances and the cadres' solver.

The mechanism modules (``village_sim.mechanisms``, ``village``, ``agents``) hold no numeric
literal other than 0, 1 and 12: every number that decides a result is a parameter in
``params.py`` with its unit, range, default and source (a test walks their syntax trees).
The numbers here decide no result. They are

* identities of the formulas the model states: the ``-sigma^2 / 2`` that gives lognormal
  noise a mean of 1, the two ends of an undirected tie;
* tolerances of the floating-point arithmetic: the smallest count or share a division or a
  logarithm is given, so that 0 reads as "nothing known" instead of a division by zero;
* the steps of the root finder for the cadres' optimal share (ODD §7.4.1), whose result is
  defined to the last bit (45 halvings of [0, 1]).

ODD §7.4.1 and §2 ("What is a parameter") describe them.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "BISECTION_STEPS",
    "TIE_ENDS",
    "TINY",
    "log_variance",
    "mean_one",
    "optimal_share_root",
    "unit_mean_log",
    "whole_up",
]

# A stand-in for 0 in divisions and logarithms: counts and shares below it mean "none".
TINY = 1e-12
# The smallest positive income a logarithm is taken of (an estimate of 0 is far below the line).
_LOG_FLOOR = 1e-300
# A product such as ``0.6 * 5`` lands this far above a whole number at most (rounding error).
_WHOLE_TOLERANCE = 1e-9


def whole_up(x: float) -> int:
    """``x`` rounded up to a whole number, a rounding error above one counting as that one."""
    return math.ceil(x - _WHOLE_TOLERANCE)


# An undirected tie has two ends: drawing ``degree / TIE_ENDS`` ties per household gives each
# household ``degree`` ties on average.
TIE_ENDS = 2.0


def log_variance(cv: float | np.ndarray) -> float | np.ndarray:
    """``sigma^2`` of a lognormal whose coefficient of variation is ``cv``: ``log(1 + cv^2)``."""
    return np.log1p(np.square(cv))


def unit_mean_log(sigma: float | np.ndarray) -> float | np.ndarray:
    """The ``mu`` that gives ``exp(N(mu, sigma^2))`` a mean of 1: ``-sigma^2 / 2``."""
    return -0.5 * sigma * sigma


def mean_one(log_noise: np.ndarray, sigma2: float | np.ndarray) -> np.ndarray:
    """``exp(log_noise - sigma2 / 2)``: lognormal noise with mean 1.

    That is its mean when ``log_noise`` is normal with mean 0 and variance ``sigma2``.
    """
    return np.exp(log_noise - 0.5 * sigma2)


def safe_log(values: np.ndarray) -> np.ndarray:
    """``log(values)``, with values at or below 0 read as the smallest positive number."""
    return np.log(np.maximum(values, _LOG_FLOOR))


# --------------------------------------------------------------- the cadres' optimal share
# The share is defined as the result of bisecting the marginal value on [0, 1] 45 times
# (the interval's midpoint after 45 halvings, within 2**-46 of the root): these constants and
# the arithmetic of ``marginal_value`` fix its last bit.
BISECTION_STEPS = 45
_GRID = 2.0**-BISECTION_STEPS
# Newton's method stops one step after its step falls below this (quadratic convergence).
_NEWTON_TOLERANCE = 1e-9
_NEWTON_MAX_STEPS = 100
# The computed marginal value is within this many units in the last place of its terms.
_ERROR_ULPS = 16.0
_ULP = 2.0**-53


def marginal_value(f: np.ndarray, cost: np.ndarray, inv_g: np.ndarray,
                   scale: float | np.ndarray) -> np.ndarray:
    """The cadre's marginal value of taking more at share ``f`` (falls in ``f``; ODD §7.4.1).

    ``1 - cost (f^2 + 2 f kappa) / (f + kappa)^2 - f / g``, written as
    ``1 - cost (1 - kappa^2 / (f + kappa)^2) - f / g``.
    """
    return 1.0 - cost * (1.0 - scale * scale / ((f + scale) * (f + scale))) - f * inv_g


def _slope(f: np.ndarray, cost: np.ndarray, inv_g: np.ndarray,
           scale: float | np.ndarray) -> np.ndarray:
    """Minus the derivative of :func:`marginal_value` in ``f``."""
    t = f + scale
    return (cost + cost) * (scale * scale) / (t * t * t) + inv_g


def bisect(cost: np.ndarray, inv_g: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """Bisection of the marginal value on [0, 1]: 45 halvings, the last interval's midpoint."""
    lo = np.zeros_like(cost)
    hi = np.ones_like(cost)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        up = marginal_value(mid, cost, inv_g, scale) > 0.0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def optimal_share_root(cost: np.ndarray, inv_g: np.ndarray,
                       scale: float | np.ndarray) -> np.ndarray:
    """What :func:`bisect` returns, for roots inside (0, 1), found by Newton's method.

    Every midpoint the bisection visits lies on the grid of multiples of 2**-45, and it ends
    on the grid interval [lo, lo + 2**-45] whose ends the marginal value (as computed)
    puts on either side of 0. Newton's method from below the root (the marginal value is
    convex and falling, so it climbs to the root) finds the root; the grid interval around it
    is the bisection's if the computed signs at its two ends agree and the marginal value
    falls steeply enough that rounding cannot flip the sign at any other grid point. Entries
    for which that cannot be shown are bisected.
    """
    # an inclination so small that 1/g overflows ends in NaN here, and is bisected below
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        # start below the root: m(f) >= 1 - cost - f / g, and Newton's first step from 0
        f = np.maximum(1.0 / ((cost + cost) / scale + inv_g), (1.0 - cost) / inv_g)
        converging = False
        for _ in range(_NEWTON_MAX_STEPS):
            step = marginal_value(f, cost, inv_g, scale) / _slope(f, cost, inv_g, scale)
            f = f + step
            if converging:
                break  # one step after a step below the tolerance: quadratic convergence
            converging = not np.any(np.abs(step) > _NEWTON_TOLERANCE)
        lo = np.clip(np.floor(f / _GRID), 0.0, 1.0 / _GRID - 1.0) * _GRID
        hi = lo + _GRID
        # a marginal value computed with error below 16 units in the last place of its terms
        # keeps its sign at every grid point other than lo and hi if its slope on [0, 1],
        # at least 2 cost kappa^2 / (1 + kappa)^3 + 1/g, exceeds twice that error per grid step
        slope = _slope(np.ones_like(cost), cost, inv_g, scale)
        error = _ERROR_ULPS * _ULP * (1.0 + cost + inv_g)
        exact = ((lo == 0.0) | (marginal_value(lo, cost, inv_g, scale) > 0.0)) & (
            (hi == 1.0) | (marginal_value(hi, cost, inv_g, scale) <= 0.0)) & (
            slope * _GRID > (error + error))
    out = 0.5 * (lo + hi)
    if not exact.all():
        out[~exact] = bisect(cost[~exact], inv_g[~exact],
                             np.asarray(scale)[~exact] if np.ndim(scale) else scale)
    return out
