"""The villages of a county: drawn from stated distributions, or listed in a TOML file (issue 11).

A county's villages differ in five attributes, each drawn for village ``v`` from its own
generator keyed (seed, village, "attributes") — so village v of a county seeded s is the same
village whatever the number of villages, the deployment rule or the budget rule:

================  ===========================================  =============================
attribute         village parameter(s) it sets                 default distribution
================  ===========================================  =============================
size              ``n_households``                             integers 150-450 (mean 300)
clans             ``n_clans``                                  integers 3-9 (mean 6)
asset inequality  ``asset_inequality``                         uniform 0.6-1.2 (mean 0.9)
remoteness        ``remoteness``                               uniform 0-1
cadre greed       ``favoritism``, ``amount_favoritism``,       factor uniform 0.5-1.5 on the
                  ``diversion_propensity``,                    county's values (mean 1)
                  ``project_capture`` (each times the factor)
================  ===========================================  =============================

Each acts through the village's own mechanisms (ODD §7): size and clans shape the kinship
network, asset inequality the draw of productive assets, remoteness lowers wages and the
team's visits (``remote_wage_loss``, ``remote_visit_loss``), and the greed factor scales every
favoritism channel the committee has. The ranges are assumptions centred on the village
defaults, so that the county's mean village is the default village; a study that has data on
its county gives its own ranges (``distributions``, or the bounds one by one as the scalar
county parameters of :data:`DISTRIBUTION_PARAMETERS`, ``remoteness_max = 0.5`` …, which a
sweep of counties can set and sweep) or lists its villages.

The bounds as parameters: ``households_min``/``households_max`` (``n_households``),
``clans_min``/``clans_max`` (``n_clans``), ``asset_inequality_min``/``asset_inequality_max``,
``remoteness_min``/``remoteness_max`` and ``greed_min``/``greed_max``; each not given (None)
is the built-in distribution's bound above. The villages drawn are exactly those of
``distributions`` with the same ranges (:func:`village_distributions`).

Listed villages: a TOML file of ``[[village]]`` tables, each a table of village parameters
(what is not given is the county's value)::

    [[village]]
    n_households = 220
    remoteness = 0.8

    [[village]]
    n_households = 410
    favoritism = 0.9
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from village_sim.params import PARAM_BY_NAME, Param, read_tables, resolve_parameters
from village_sim.refusal import Phrase

__all__ = ["DISTRIBUTION_BOUNDS", "DISTRIBUTION_PARAMETERS", "GREED_PARAMETERS",
           "VillageDistributions", "attribute_seed", "draw_villages", "load_villages",
           "parse_villages", "village_distributions"]

ATTRIBUTES_CHILD = 1_000
"""The spawn-key entry of a village's attribute draws: (village, 1000) is no stream of the
village's own (those are its seed's children 0-12), so drawing attributes moves none of them."""

GREED_PARAMETERS = ("favoritism", "amount_favoritism", "diversion_propensity", "project_capture")
"""The village parameters a village's greed factor multiplies (each capped at its maximum)."""

GREED_RANGE = (0.0, 10.0)
"""What a range of greed factors may span."""


def attribute_seed(seed: int, village: int) -> np.random.SeedSequence:
    """The seed of village ``village``'s attribute draws in a county seeded ``seed``."""
    from village_sim.rng import village_seed

    parent = village_seed(seed, village)
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key,
                                                             ATTRIBUTES_CHILD))


@dataclass(frozen=True)
class VillageDistributions:
    """The ranges villages are drawn from (uniform; integers inclusive; module docstring)."""

    n_households: tuple[int, int] = (150, 450)
    n_clans: tuple[int, int] = (3, 9)
    asset_inequality: tuple[float, float] = (0.6, 1.2)
    remoteness: tuple[float, float] = (0.0, 1.0)
    greed: tuple[float, float] = (0.5, 1.5)

    @classmethod
    def parse(cls, value: Any) -> VillageDistributions:
        """Distributions from a table ``{"n_households": [150, 450], ...}`` (None: defaults).

        Raises:
            ValueError: naming the attribute, the value and what is allowed.
        """
        if value is None:
            return cls()
        if isinstance(value, VillageDistributions):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"parameter 'distributions': got {value!r}; allowed: a table of "
                             f"ranges ({', '.join(f.name for f in fields(cls))})")
        names = [f.name for f in fields(cls)]
        chosen: dict[str, tuple[Any, Any]] = {}
        for key, bounds in value.items():
            if key not in names:
                raise ValueError(f"distributions: unknown attribute {key!r}; allowed: "
                                 f"{', '.join(names)}")
            chosen[key] = _range(key, bounds)
        return cls(**chosen)

    def __post_init__(self) -> None:
        for f in fields(self):
            _range(f.name, getattr(self, f.name))


def _range(name: str, bounds: Any) -> tuple[Any, Any]:
    """Check ``[low, high]`` of attribute ``name`` against what its parameter allows."""
    integer = name in ("n_households", "n_clans")
    if name == "greed":
        low_ok, top = GREED_RANGE
        allowed = "[low, high] with 0 <= low <= high <= 10 (a factor on the greed parameters)"
    else:
        param = PARAM_BY_NAME[name]
        assert param.low is not None and param.high is not None  # numbers with a range
        low_ok, top = param.low, param.high
        allowed = f"[low, high] within {param.allowed()}"
    kind = (int,) if integer else (int, float)
    ok = (isinstance(bounds, list | tuple) and len(bounds) == 2
          and all(isinstance(b, kind) and not isinstance(b, bool) for b in bounds)
          and bool(np.isfinite(np.asarray(bounds, dtype=float)).all()))
    if ok:
        low, high = bounds
        ok = low_ok <= low <= high <= top
    if not ok:
        raise ValueError(f"distributions.{name}: got {bounds!r}; allowed: {allowed}")
    return (int(bounds[0]), int(bounds[1])) if integer else (float(bounds[0]), float(bounds[1]))


def _bound_parameters() -> tuple[Param, ...]:
    """The ``*_min`` and ``*_max`` county parameters, ranged as their village parameter."""
    out = []
    low: float | None
    high: float | None
    for stem, attribute in (("households", "n_households"), ("clans", "n_clans"),
                            ("asset_inequality", "asset_inequality"),
                            ("remoteness", "remoteness"), ("greed", "greed")):
        if attribute == "greed":
            kind, unit, (low, high) = "float", "", GREED_RANGE
            what = ("greed factor of a drawn village, which multiplies the county's "
                    "favoritism, amount_favoritism, diversion_propensity and project_capture")
        else:
            village = PARAM_BY_NAME[attribute]
            kind, unit, low, high = village.kind, village.unit, village.low, village.high
            what = f"{attribute} of a drawn village"
        built_in = getattr(VillageDistributions(), attribute)
        for end, word, default in (("min", "lowest", built_in[0]),
                                   ("max", "highest", built_in[1])):
            out.append(Param(f"{stem}_{end}", kind, None, unit,
                             f"{word} {what} (not given, empty in a run table: the "
                             f"built-in distribution's, {default})",
                             "assumed", low, high, group="county"))
    return tuple(out)


DISTRIBUTION_PARAMETERS = _bound_parameters()
"""The bounds of the villages' distributions as scalar county parameters (default None: the
built-in distribution's bound), in the order of :class:`VillageDistributions`, each ``*_min``
before its ``*_max``; ranged as the village parameter they bound (greed: 0-10)."""

DISTRIBUTION_BOUNDS: dict[str, tuple[str, int]] = {
    p.name: (f.name, end) for p, (f, end) in zip(
        DISTRIBUTION_PARAMETERS,
        [(f, end) for f in fields(VillageDistributions) for end in (0, 1)], strict=True)}
"""Each bound parameter: (the attribute of :class:`VillageDistributions`, 0 low / 1 high)."""


def village_distributions(distributions: Any = None,
                          bounds: Mapping[str, Any] | None = None,
                          common: Mapping[str, Any] | None = None) -> VillageDistributions:
    """The distributions of a county's drawn villages: ``distributions`` with ``bounds`` put in.

    ``village_distributions(None, {"remoteness_max": 0.5})`` is
    ``VillageDistributions.parse({"remoteness": [0.0, 0.5]})``: the same ranges, so the same
    villages, bit for bit.

    Args:
        distributions: Ranges as :meth:`VillageDistributions.parse` takes them (None: the
            built-in ones).
        bounds: Bound parameters (:data:`DISTRIBUTION_BOUNDS`) -> value; None: not given (the
            bound of ``distributions``, else the built-in one).
        common: The village parameters the county sets for every village (a range or a bound
            of an attribute set there would be ignored: refused).

    Raises:
        ValueError: for an unknown or bad bound (naming it, the value and what is allowed), a
            bound of an attribute ``distributions`` or ``common`` also sets (naming both), or a
            lowest bound above its highest (naming both and their values).
    """
    chosen = VillageDistributions.parse(distributions)
    common = common or {}
    if isinstance(distributions, Mapping):
        for attribute in distributions:
            if attribute in common:
                raise ValueError(f"parameter 'distributions': got distributions.{attribute} = "
                                 f"{distributions[attribute]!r} and also {attribute} = "
                                 f"{common[attribute]!r} for every village (then nothing is "
                                 f"drawn); allowed: the range or {attribute}, not both")
    given = {k: v for k, v in (bounds or {}).items() if v is not None}
    if not given:
        return chosen
    if isinstance(distributions, VillageDistributions):
        ranged = {f.name for f in fields(VillageDistributions)}
    else:
        ranged = set(distributions or ())
    by_name = {p.name: p for p in DISTRIBUTION_PARAMETERS}
    ranges = {f.name: list(getattr(chosen, f.name)) for f in fields(VillageDistributions)}
    for name, value in given.items():
        if name not in by_name:
            raise ValueError(f"unknown distribution bound {name!r}; allowed: "
                             f"{', '.join(by_name)}")
        value = by_name[name].validate(value)
        attribute, end = DISTRIBUTION_BOUNDS[name]
        if attribute in ranged:
            raise ValueError(f"parameter {name!r}: got {value!r} and also "
                             f"distributions.{attribute}; allowed: the bound or "
                             f"distributions.{attribute}, not both")
        if attribute in common:
            raise ValueError(f"parameter {name!r}: got {value!r} and also {attribute} = "
                             f"{common[attribute]!r} for every village (then nothing is "
                             f"drawn); allowed: the bound or {attribute}, not both")
        ranges[attribute][end] = value
    for attribute, (low, high) in ranges.items():
        if low > high:
            names = [n for n, (a, _) in DISTRIBUTION_BOUNDS.items() if a == attribute]
            shown = [f"{n} = {v!r}" + ("" if n in given else " (built-in)")
                     for n, v in zip(names, (low, high), strict=True)]
            raise ValueError(f"parameters {names[0]!r} and {names[1]!r}: got "
                             f"{' and '.join(shown)}; allowed: {names[0]} <= {names[1]}")
    return VillageDistributions(**{k: (low, high) for k, (low, high) in ranges.items()})


def draw_villages(seed: int, n_villages: int, distributions: VillageDistributions,
                  base: Mapping[str, Any]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Each village's parameters drawn from ``distributions`` (module docstring).

    Args:
        seed: The county's seed.
        n_villages: How many villages.
        distributions: The ranges.
        base: The county's values of the greed parameters (and anything else: kept).

    Returns:
        One table of village parameters per village (``base`` with the drawn attributes; an
        attribute ``base`` sets is not drawn), and each village's greed factor.
    """
    defaults = {name: base.get(name, PARAM_BY_NAME[name].default) for name in GREED_PARAMETERS}
    out = []
    factors = np.empty(n_villages)
    for v in range(n_villages):
        # one draw of five doubles a village, in a fixed order: the attributes of village v
        # depend on (seed, v) only, and each on its own double
        u = np.random.Generator(np.random.PCG64(attribute_seed(seed, v))).random(5)
        d = distributions
        drawn = {"n_households": _integer(d.n_households, u[0]),
                 "n_clans": _integer(d.n_clans, u[1]),
                 "asset_inequality": _uniform(d.asset_inequality, u[2]),
                 "remoteness": _uniform(d.remoteness, u[3])}
        # a value the county sets for every village is not drawn (its double is still used,
        # so the other attributes do not move)
        params = {**drawn, **base}
        greed = _uniform(d.greed, u[4])
        for name, value in defaults.items():
            params[name] = min(float(value) * greed, _highest(name))
        factors[v] = greed
        out.append(params)
    return out, factors


def _highest(name: str) -> float:
    high = PARAM_BY_NAME[name].high
    assert high is not None  # the greed parameters all have a maximum
    return float(high)


def _integer(bounds: tuple[int, int], u: float) -> int:
    low, high = bounds
    return int(min(high, low + int(u * (high - low + 1))))


def _uniform(bounds: tuple[float, float], u: float) -> float:
    low, high = bounds
    return float(low + u * (high - low))


def parse_villages(value: Any, base: Mapping[str, Any], regime: str | None,
                   source: str = "villages") -> list[dict[str, Any]]:
    """Village parameter tables, each checked as a village (naming the village on refusal).

    Raises:
        ValueError: for something that is not a non-empty list of tables, or a village whose
            parameters a ``VillageModel`` would refuse.
    """
    if isinstance(value, Mapping) or not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{source}: got {value!r}; allowed: a non-empty list of tables of "
                         "village parameters")
    out = []
    for i, table in enumerate(value):
        if not isinstance(table, Mapping):
            raise ValueError(f"{source}[{i}]: got {table!r}; allowed: a table of village "
                             "parameters")
        params = {**base, **table}
        try:
            resolve_parameters(regime=regime, **params)
        except ValueError as err:
            raise ValueError(f"{source}[{i}]: {err}") from None
        out.append(params)
    return out


def load_villages(path: str | Path, base: Mapping[str, Any],
                  regime: str | None) -> list[dict[str, Any]]:
    """The villages of a TOML file of ``[[village]]`` tables (module docstring).

    Raises:
        ValueError: for a missing or unreadable file or bad TOML (a refusal in the reader's
            language), a file with other tables, or a bad village (naming it).
    """
    path = Path(path)
    tables = read_tables(path, Phrase("phrase.villages_file"), "village")
    return parse_villages(tables, base, regime, source=f"{path.name}: village")
