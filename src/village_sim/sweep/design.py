"""Design points and runs: grid, list, Latin hypercube, Sobol and Morris, seeded from the root.

* ``grid``: the full factorial of the value lists (the first parameter varies slowest);
* ``list``: the value lists zipped (point i takes the i-th value of each);
* ``lhs``, ``sobol``, ``morris``: SALib's samplers (``SALib.sample.latin``, ``.sobol``, ``.morris``)
  over the parameter ranges. Their generator is seeded from
  ``numpy.random.SeedSequence([root_seed, DESIGN_STREAM])`` — an entropy pool distinct from the
  replicates' ``SeedSequence(root_seed).spawn(...)`` — so a rerun draws the same design and the
  design does not share random numbers with the runs. Integer parameters are sampled on
  ``[low - 0.5, high + 0.5]`` and rounded, so every integer gets an equal share.

Runs: every point runs every regime on the same replicate seeds — replicate ``i`` gets
``SeedSequence(root_seed).spawn(replicates)[i]`` whatever the point and the regime (common
random numbers: paired comparisons across regimes *and* across parameter values). A run's
identity is a hash of its full parameter set, regime, replicate and seed (:func:`run_id_for`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from village_sim.params import ADDED_AFTER_RUN_IDS, PARAM_BY_NAME
from village_sim.refusal import Refusal
from village_sim.sweep import models
from village_sim.sweep.runner import RunTask
from village_sim.sweep.spec import SAMPLED_DESIGNS, SweepSpec, _jsonable

__all__ = [
    "DESIGN_STREAM",
    "Design",
    "design_points",
    "iter_tasks",
    "plan_runs",
    "count_runs",
    "distinct_points",
    "iter_plan_chunks",
    "run_id_for",
]

DESIGN_STREAM = 0x5EED_DE51
"""Second entropy word of the design sampler's SeedSequence (``[root_seed, DESIGN_STREAM]``)."""


@dataclass(frozen=True)
class Design:
    """The design points of a spec.

    Attributes:
        points: One dict per point: swept parameter name -> value (validated, ints rounded).
        coordinates: Sampled designs: SALib's sample matrix (points x parameters) before
            rounding, as the analyzers expect; ``None`` for grid and list.
        problem: Sampled designs: the SALib problem (names, bounds); else ``None``.
    """

    points: list[dict[str, Any]]
    coordinates: np.ndarray | None = None
    problem: dict[str, Any] | None = None

    def frame(self) -> pd.DataFrame:
        """One row per point: ``point``, each swept value, and ``x__NAME`` coordinates."""
        frame = pd.DataFrame(self.points, index=pd.RangeIndex(len(self.points), name="point"))
        if self.coordinates is not None and self.problem is not None:
            for j, name in enumerate(self.problem["names"]):
                frame[f"x__{name}"] = self.coordinates[:, j]
        return frame.reset_index()


def design_generator(root_seed: int) -> np.random.Generator:
    """The generator SALib's samplers draw the design from."""
    return np.random.default_rng(np.random.SeedSequence([int(root_seed), DESIGN_STREAM]))


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem dict of a sampled design (names and sampling bounds)."""
    return {
        "num_vars": len(spec.axes),
        "names": list(spec.axis_names),
        "bounds": [list(a.sampling_bounds()) for a in spec.axes],
    }


def design_points(spec: SweepSpec) -> Design:
    """Expand a spec's design into points and check each one under every regime.

    Raises:
        ValueError: naming the point and the parameter, for a combination the schema refuses
            (e.g. ``team_leaves`` not after ``team_arrives``) or a repeated point in a list.
    """
    coordinates: np.ndarray | None = None
    problem: dict[str, Any] | None = None
    names = spec.axis_names
    if not spec.axes:
        points: list[dict[str, Any]] = [{}]
    elif spec.design == "grid":
        points = [dict(zip(names, combo, strict=True))
                  for combo in itertools.product(*(a.values or () for a in spec.axes))]
    elif spec.design == "list":
        points = [dict(zip(names, combo, strict=True))
                  for combo in zip(*(a.values or () for a in spec.axes), strict=True)]
        seen: dict[tuple[Any, ...], int] = {}
        for i, point in enumerate(points):
            key = tuple(_jsonable(v) for v in point.values())
            if key in seen:
                raise Refusal("error.design_list_repeats", point=i, earlier=seen[key],
                              values=point)
            seen[key] = i
    else:
        problem = salib_problem(spec)
        coordinates = _sample(spec, problem)
        points = [{a.name: a.to_value(x) for a, x in zip(spec.axes, row, strict=True)}
                  for row in coordinates]
    for i, point in enumerate(points):
        for regime in spec.regimes:
            try:
                models.resolve(spec.model, regime, {**spec.base, **point})
            except ValueError as err:
                shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
                if coordinates is None:
                    raise Refusal("error.design_point", point=i, values=shown, regime=regime,
                                  problem=err) from None
                raise Refusal("error.design_sample", point=i, design=spec.design, values=shown,
                              regime=regime, problem=err) from None
    return Design(points, coordinates, problem)


def _sample(spec: SweepSpec, problem: dict[str, Any]) -> np.ndarray:
    rng = design_generator(spec.root_seed)
    if spec.design == "lhs":
        from SALib.sample import latin

        return np.asarray(latin.sample(problem, spec.samples, seed=rng), dtype=float)
    if spec.design == "sobol":
        from SALib.sample import sobol

        return np.asarray(sobol.sample(problem, spec.samples, calc_second_order=spec.second_order,
                                       scramble=True, seed=rng), dtype=float)
    if spec.design == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, spec.samples, num_levels=spec.levels, seed=rng),
                          dtype=float)
    raise ValueError(f"design {spec.design!r} is not sampled (allowed: {SAMPLED_DESIGNS})")


def run_id_for(parameters: Mapping[str, Any], regime: str, replicate: int, seed: int) -> str:
    """A run's identity: SHA-256 (first 16 hex digits) of its parameters, regime, replicate, seed.

    Args:
        parameters: The run's full parameter set (every parameter; ``regime`` is ignored here
            and hashed on its own; a parameter of ``params.ADDED_AFTER_RUN_IDS`` at its
            default is left out, so runs stored before it existed keep their identity).
        regime: Regime name.
        replicate: Replicate index.
        seed: The replicate's seed.
    """
    payload = {
        "parameters": {k: _jsonable(v) for k, v in sorted(parameters.items())
                       if k != "regime" and not _added_at_default(k, v)},
        "regime": regime,
        "replicate": int(replicate),
        "seed": int(seed),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _added_at_default(name: str, value: Any) -> bool:
    """Whether ``name`` is a parameter added after run ids were stored, at its default."""
    return name in ADDED_AFTER_RUN_IDS and value == PARAM_BY_NAME[name].default


def replicate_seed_list(spec: SweepSpec) -> list[int]:
    """Replicate seeds from the root (the same as ``village-sim compare`` with that root)."""
    from village_sim.experiment import replicate_seeds

    return replicate_seeds(spec.root_seed, spec.replicates)


def distinct_points(design: Design) -> list[int]:
    """Indices of the design's first occurrence of each point (rounding can repeat a point)."""
    seen: set[str] = set()
    first: list[int] = []
    for index, point in enumerate(design.points):
        key = json.dumps({k: _jsonable(v) for k, v in sorted(point.items())}, sort_keys=True)
        if key not in seen:
            seen.add(key)
            first.append(index)
    return first


def count_runs(spec: SweepSpec, design: Design) -> tuple[int, int]:
    """``(rows, distinct runs)`` of the plan, counted without listing it.

    A repeated design point repeats its runs (same parameters, regime and seed: the same run
    id), so the distinct runs are the distinct points times regimes times replicates.
    """
    per_point = len(spec.regimes) * spec.replicates
    return len(design.points) * per_point, len(distinct_points(design)) * per_point


def _iter_plan(spec: SweepSpec, design: Design, first_only: bool = False,
               ) -> Iterator[tuple[int, str, int, int, str, dict[str, Any]]]:
    """(point, regime, replicate, seed, run id, overrides), point-major, regimes innermost.

    Lazy: seeds are derived one at a time (:func:`village_sim.experiment.replicate_seed`), so
    memory does not grow with the number of replicates. ``first_only`` skips repeated points.
    """
    from village_sim.experiment import replicate_seed

    indices = distinct_points(design) if first_only else range(len(design.points))
    for point_index in indices:
        overrides = {**spec.base, **design.points[point_index]}
        full = {r: models.resolve(spec.model, r, overrides) for r in spec.regimes}
        for replicate in range(spec.replicates):
            seed = replicate_seed(spec.root_seed, replicate)
            for regime in spec.regimes:
                run_id = run_id_for(full[regime], regime, replicate, seed)
                yield point_index, regime, replicate, seed, run_id, overrides


PLAN_COLUMNS = ("point", "regime", "replicate", "seed", "run_id")


def iter_plan_chunks(spec: SweepSpec, design: Design, rows: int = 100_000,
                     ) -> Iterator[pd.DataFrame]:
    """The plan in DataFrames of at most ``rows`` rows: :func:`plan_runs`, in order, in parts."""
    columns = [*PLAN_COLUMNS, *spec.axis_names]
    buffer: list[dict[str, Any]] = []
    for p, r, i, s, rid, _ in _iter_plan(spec, design):
        buffer.append({"point": p, "regime": r, "replicate": i, "seed": s, "run_id": rid,
                       **design.points[p]})
        if len(buffer) >= rows:
            yield pd.DataFrame(buffer, columns=columns)
            buffer = []
    if buffer or not len(design.points):
        yield pd.DataFrame(buffer, columns=columns)


def plan_runs(spec: SweepSpec, design: Design | None = None) -> pd.DataFrame:
    """Every (point, regime, replicate) with its seed and run id, and the swept values.

    Sampled designs may repeat a point once integers are rounded; such rows share a run id and
    the run happens once. Builds the whole plan in memory: for small plans and tests; a sweep
    streams it (:func:`iter_plan_chunks`, :func:`iter_tasks`).

    Returns:
        Columns ``point, regime, replicate, seed, run_id`` then one per swept parameter.
    """
    design = design if design is not None else design_points(spec)
    return pd.concat(list(iter_plan_chunks(spec, design)), ignore_index=True)


def iter_tasks(spec: SweepSpec, design: Design, skip: set[str] | frozenset[str] = frozenset(),
               ) -> Iterator[RunTask]:
    """Yield one :class:`RunTask` per distinct run id not in ``skip``, lazily.

    Memory stays flat: repeated points are skipped as points, so no set of emitted runs is
    kept.
    """
    for _, regime, replicate, seed, run_id, overrides in _iter_plan(spec, design,
                                                                     first_only=True):
        if run_id in skip:
            continue
        yield RunTask(
            run_id=run_id, regime=regime, replicate=replicate, seed=seed,
            overrides=overrides, steps=spec.steps, record_every=spec.record_every,
            metrics=spec.metrics, panel_every=spec.panel_every,
            run_function=spec.run_function, spec_hash=spec.spec_hash,
        )
