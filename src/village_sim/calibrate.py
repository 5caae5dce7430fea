"""Calibration by the simulated method of moments, with common random numbers.

A targets file (TOML) names free parameters with bounds and one or more *arms* — each a set of
parameter overrides (a regime, a treatment) with target values of model metrics, their weights
and when they are measured — and optionally *contrasts*, targets on the difference of a metric
between two arms. The objective is the weighted sum of squared, scaled distances between the
simulated means and the targets::

    J(theta) = sum_k w_k ((m_k(theta) - target_k) / scale_k)^2

where ``m_k(theta)`` is the mean of the metric over the same replicate seeds for every candidate
``theta`` (common random numbers make J smooth enough to optimize), and ``scale_k`` is the
target's ``scale`` (default: ``max(|target|, 0.05)``). The optimizer is SciPy's
``differential_evolution`` (seeded from the file's root seed), whose population is evaluated in
parallel through a map over the chosen engine (serial, processes or Dask), the way
``scipy.optimize`` accepts ``workers=``. Each candidate's runs (arms × seeds) are stepped
together on the county engine (``experiment.run_stacked``: each run's numbers its own, bit for
bit), several times faster than one run after another.

Outputs (``write_outputs``): ``fitted.toml`` (overrides that ``run``, ``compare`` and ``sweep``
accept with ``--params``), ``fit_table.csv`` and ``fit_table.md`` (each target against the
simulated value at the fitted parameters, with a 95% confidence interval over *fresh* seeds,
disjoint from those used to fit), ``convergence.csv`` and ``convergence.png``.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from village_sim.experiment import (
    format_toml,
    replicate_seeds,
    write_columns,
    write_csv,
    write_text,
)
from village_sim.params import PARAM_BY_NAME, read_toml, resolve_parameters
from village_sim.refusal import Phrase, Refusal, did_you_mean

__all__ = [
    "Arm",
    "CalibrationResult",
    "Contrast",
    "Target",
    "Targets",
    "calibrate",
    "engine_map",
    "load_targets",
    "write_outputs",
]

TOP_KEYS = {"name", "description", "seeds", "check_seeds", "root_seed", "steps", "window",
            "base", "free", "arms", "contrasts", "optimizer"}
ARM_KEYS = {"name", "overrides", "targets", "steps"}
TARGET_KEYS = {"metric", "value", "weight", "step", "window", "scale", "note"}
CONTRAST_KEYS = TARGET_KEYS | {"arm_a", "arm_b"}
OPTIMIZER_KEYS = {"maxiter", "popsize", "tol"}


@dataclass(frozen=True)
class Target:
    """A target value of one metric, measured at ``step``.

    The simulated value is the mean over the ``window`` months ending at ``step``.
    """

    metric: str
    value: float
    weight: float = 1.0
    step: int = 13
    window: int = 1
    scale: float | None = None

    @property
    def effective_scale(self) -> float:
        """What a unit of distance is measured in."""
        return self.scale if self.scale is not None else max(abs(self.value), 0.05)


@dataclass(frozen=True)
class Contrast(Target):
    """A target on ``metric(arm_b) - metric(arm_a)``."""

    arm_a: str = ""
    arm_b: str = ""


@dataclass(frozen=True)
class Arm:
    """Parameter overrides, and the targets measured under them."""

    name: str
    overrides: dict[str, Any]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Targets:
    """A validated targets file."""

    name: str
    free: dict[str, tuple[float, float]]
    base: dict[str, Any]
    arms: tuple[Arm, ...]
    contrasts: tuple[Contrast, ...] = ()
    seeds: int = 10
    check_seeds: int | None = None  # fresh seeds for the fit table (None: as many as seeds)
    root_seed: int = 0
    maxiter: int = 15
    popsize: int = 8
    tol: float = 1e-3
    description: str = ""
    source: str = ""

    @property
    def steps(self) -> int:
        """Months to simulate: the latest step any target is measured at."""
        all_targets = [t for a in self.arms for t in a.targets] + list(self.contrasts)
        return max(t.step for t in all_targets)


def _fail(where: str, kind: str, /, **fields: Any) -> Refusal:
    """The refusal ``kind`` (a message of the catalogs) at ``where`` in the targets file."""
    return Refusal(kind, at=where, **fields)


def _check_keys(where: str | Phrase, table: Mapping[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise Refusal("error.unknown_key", key=key, where=where,
                          hint=did_you_mean(key, sorted(allowed)),
                          allowed=", ".join(sorted(allowed)))


def _number(where: str, value: Any, low: float | None = None, integer: bool = False,
            low_open: bool = False) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if not ok:
        if integer:
            raise _fail(where, "error.integer_at_least", value=value, low=low)
        if low is None:
            raise _fail(where, "error.number", value=value)
        raise _fail(where, "error.number_above" if low_open else "error.number_at_least",
                    value=value, low=low)
    return int(value) if integer else float(value)


def _parse_target(where: str, raw: Mapping[str, Any], contrast: bool) -> Target:
    from village_sim.model import METRIC_NAMES

    _check_keys(where, raw, CONTRAST_KEYS if contrast else TARGET_KEYS)
    for key in ("metric", "value") + (("arm_a", "arm_b") if contrast else ()):
        if key not in raw:
            raise _fail(where, "error.missing_key", key=key)
    metric = raw["metric"]
    if metric not in METRIC_NAMES:
        raise _fail(where, "error.unknown_metric", value=metric,
                    hint=did_you_mean(metric, METRIC_NAMES), allowed=", ".join(METRIC_NAMES))
    kwargs: dict[str, Any] = {
        "metric": metric,
        "value": _number(f"{where}.value", raw["value"]),
        # weight 0: reported in the fit table as a consistency check, not fitted
        "weight": _number(f"{where}.weight", raw.get("weight", 1.0), 0.0),
        "step": _number(f"{where}.step", raw.get("step", 13), 1, integer=True),
        "window": _number(f"{where}.window", raw.get("window", 1), 1, integer=True),
        "scale": (None if "scale" not in raw
                  else _number(f"{where}.scale", raw["scale"], 0.0, low_open=True)),
    }
    if kwargs["window"] > kwargs["step"]:
        raise _fail(f"{where}.window", "error.window_after_step", value=kwargs["window"],
                    step=kwargs["step"])
    if contrast:
        return Contrast(**kwargs, arm_a=str(raw["arm_a"]), arm_b=str(raw["arm_b"]))
    return Target(**kwargs)


def _parse_contrast(where: str, raw: Mapping[str, Any]) -> Contrast:
    target = _parse_target(where, raw, True)
    assert isinstance(target, Contrast)
    return target


def load_targets(path: str | Path) -> Targets:
    """Read and validate a targets file.

    Raises:
        ValueError: naming the file and the offending entry, for syntax errors, unknown keys,
            unknown parameters or metrics, bad bounds or values, and arms without targets.
    """
    path = Path(path)
    raw = read_toml(path, Phrase("phrase.targets_file"), Phrase("phrase.targets_allowed"))
    try:
        return parse_targets(raw, source=str(path))
    except ValueError as err:
        raise Refusal.within(repr(str(path)), err) from None


def _table(where: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail(where, "error.targets_table", value=value)


def _array(where: str, value: Any, header: str) -> list[Any]:
    """An array of tables (written ``[[header]]``), or an error saying how to write one."""
    if isinstance(value, Mapping):
        raise _fail(where, "error.one_table", header=header)
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _fail(where, "error.array_of_tables", value=value, header=header)
    return value


def parse_targets(raw: Mapping[str, Any], source: str = "") -> Targets:
    """Validate a targets mapping (the contents of a targets file)."""
    _check_keys(Phrase("phrase.targets_file"), raw, TOP_KEYS)
    _table("[base]", raw.get("base", {}))
    base = dict(raw.get("base", {}))
    free_raw = raw.get("free", {})
    if not isinstance(free_raw, Mapping) or not free_raw:
        raise _fail("[free]", "error.no_free")
    free: dict[str, tuple[float, float]] = {}
    for name, bounds in free_raw.items():
        where = f"[free.{name}]"
        if name not in PARAM_BY_NAME:
            raise _fail(where, "error.unknown_parameter", value=name,
                        hint=did_you_mean(name, PARAM_BY_NAME))
        param = PARAM_BY_NAME[name]
        if param.kind not in ("float", "int"):
            raise _fail(where, "error.free_not_numeric", name=name, kind=param.kind)
        if not isinstance(bounds, Mapping) or set(bounds) != {"low", "high"}:
            raise _fail(where, "error.free_bounds", value=bounds)
        low, high = (_number(f"{where}.{k}", bounds[k]) for k in ("low", "high"))
        for value in (low, high):
            param.validate(value)  # raises naming the parameter, value and allowed range
        if not low < high:
            raise _fail(where, "error.free_low_high", low=low, high=high)
        free[name] = (low, high)
    overlap = set(free) & set(base)
    if overlap:
        raise _fail("[base]", "error.free_in_base", names=sorted(overlap))
    arms_raw = _array("arms", raw.get("arms", []), "arms")
    if not arms_raw:
        raise _fail("[[arms]]", "error.no_arms")
    arms = []
    for i, arm in enumerate(arms_raw):
        where = f"arms[{i}]"
        _table(where, arm)
        _check_keys(where, arm, ARM_KEYS)
        name = str(arm.get("name", f"arm{i}"))
        _table(f"{where}.overrides", arm.get("overrides", {}))
        _array(f"{where}.targets", arm.get("targets", []), "arms.targets")
        overrides = dict(arm.get("overrides", {}))
        targets = tuple(_parse_target(f"{where}.targets[{j}]", t, False)
                        for j, t in enumerate(arm.get("targets", [])))
        midpoint = {k: (lo + hi) / 2 for k, (lo, hi) in free.items()}
        for k in free:
            if PARAM_BY_NAME[k].kind == "int":
                midpoint[k] = round(midpoint[k])
        resolve_parameters(**{**base, **overrides, **midpoint})  # names and values, early
        arms.append(Arm(name, overrides, targets))
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise _fail("[[arms]]", "error.arm_names", names=names)
    contrasts = tuple(_parse_contrast(f"contrasts[{j}]", c)
                      for j, c in enumerate(_array("contrasts", raw.get("contrasts", []),
                                                   "contrasts")))
    for c in contrasts:
        for arm_name in (c.arm_a, c.arm_b):
            if arm_name not in names:
                raise _fail("[[contrasts]]", "error.unknown_arm", value=arm_name, names=names)
    if not any(a.targets for a in arms) and not contrasts:
        raise Refusal("error.no_targets")
    opt = dict(raw.get("optimizer", {}))
    _check_keys("[optimizer]", opt, OPTIMIZER_KEYS)
    return Targets(
        name=str(raw.get("name", Path(source).stem or "calibration")),
        description=str(raw.get("description", "")),
        free=free, base=base, arms=tuple(arms), contrasts=contrasts,
        seeds=_number("seeds", raw.get("seeds", 10), 1, integer=True),
        check_seeds=(None if raw.get("check_seeds") is None
                     else _number("check_seeds", raw["check_seeds"], 2, integer=True)),
        root_seed=_number("root_seed", raw.get("root_seed", 0), 0, integer=True),
        maxiter=_number("optimizer.maxiter", opt.get("maxiter", 15), 1, integer=True),
        popsize=_number("optimizer.popsize", opt.get("popsize", 8), 2, integer=True),
        tol=_number("optimizer.tol", opt.get("tol", 1e-3), 0.0, low_open=True),
        source=source,
    )


# --------------------------------------------------------------------------- simulation
def _run_arm(task: tuple[dict[str, Any], int, int]) -> dict[str, np.ndarray]:
    """Run one village under ``overrides`` and return every metric's series.

    Module-level, so that process and Dask workers can pickle it.
    """
    from village_sim.model import VillageModel

    overrides, seed, steps = task
    model = VillageModel(rng=seed, **overrides)
    for _ in range(steps):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    return {c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns}


def _run_arms_stacked(tasks: list[tuple[dict[str, Any], int, int]]
                      ) -> list[dict[str, np.ndarray]]:
    """:func:`_run_arm` of every task (all of the same months), the runs stepped together.

    Each run's series are its own run's, bit for bit (:func:`village_sim.experiment.
    run_stacked`; tests/test_stacked_runs.py).
    """
    from village_sim.experiment import run_stacked

    runs = [(over.get("regime"), seed, {k: v for k, v in over.items() if k != "regime"})
            for over, seed, _ in tasks]
    frames = run_stacked(runs, tasks[0][2]) if tasks else []
    return [{c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns} for frame in frames]


def _measure(series: dict[str, np.ndarray], target: Target) -> float:
    values = series[target.metric][target.step - target.window + 1: target.step + 1]
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def _candidate_overrides(targets: Targets,
                         theta: Sequence[float] | np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (name, _), value in zip(targets.free.items(), theta, strict=True):
        out[name] = round(float(value)) if PARAM_BY_NAME[name].kind == "int" else float(value)
    return out


def simulate(targets: Targets, theta: Sequence[float] | np.ndarray, seeds: Sequence[int],
             mapper: Callable[..., Iterable[Any]] = map) -> pd.DataFrame:
    """Per-seed values of every target at ``theta``: one row per (target, seed)."""
    free = _candidate_overrides(targets, theta)
    tasks = [({**targets.base, **arm.overrides, **free}, s, targets.steps)
             for arm in targets.arms for s in seeds]
    if mapper is map:  # here: the runs stepped together, the same numbers (run_stacked)
        results = _run_arms_stacked(tasks)
    else:  # a run per task on the engine's workers
        results = list(mapper(_run_arm, tasks))
    by_arm = {arm.name: results[i * len(seeds):(i + 1) * len(seeds)]
              for i, arm in enumerate(targets.arms)}
    rows = []
    for arm in targets.arms:
        for t in arm.targets:
            for s, series in zip(seeds, by_arm[arm.name], strict=True):
                rows.append({"arm": arm.name, "metric": t.metric, "target": t.value,
                             "seed": s, "value": _measure(series, t)})
    for c in targets.contrasts:
        for s, sa, sb in zip(seeds, by_arm[c.arm_a], by_arm[c.arm_b], strict=True):
            rows.append({"arm": f"{c.arm_b} - {c.arm_a}", "metric": c.metric, "target": c.value,
                         "seed": s, "value": _measure(sb, c) - _measure(sa, c)})
    return pd.DataFrame(rows)


def objective_from(targets: Targets, per_seed: pd.DataFrame) -> float:
    """J(theta) from per-seed values (a target undefined on every seed costs a large penalty)."""
    all_targets = [t for a in targets.arms for t in a.targets] + list(targets.contrasts)
    means = per_seed.groupby(["arm", "metric"], sort=False)["value"].mean().to_numpy()
    total = 0.0
    for t, m in zip(all_targets, means, strict=True):
        if t.weight == 0:
            continue
        total += 1e6 if math.isnan(m) else t.weight * ((m - t.value) / t.effective_scale) ** 2
    return total


@dataclass
class _Objective:
    """The picklable objective of one calibration (seeds fixed: common random numbers)."""

    targets: Targets
    seeds: tuple[int, ...]

    def __call__(self, theta: np.ndarray) -> float:
        return objective_from(self.targets, simulate(self.targets, theta, self.seeds))


# --------------------------------------------------------------------------- engines
@contextlib.contextmanager
def engine_map(engine: str = "serial", workers: int | None = None,
               scheduler: str | None = None) -> Iterator[Callable[..., Iterable[Any]]]:
    """A ``map``-like callable that evaluates on the chosen engine, as SciPy's ``workers=``.

    ``serial``: the builtin map. ``processes``: a spawn-context process pool. ``dask``: a
    ``LocalCluster`` (or the scheduler at ``scheduler``). BLAS threads are pinned to one in
    every worker, so results do not depend on the engine.
    """
    if engine == "serial":
        yield map
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    n = workers or max(1, (os.cpu_count() or 2))
    if engine == "processes":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool.map
        return
    if engine == "dask":
        from dask.distributed import Client, LocalCluster

        cluster = None if scheduler else LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(scheduler) if scheduler else Client(cluster)
        try:
            def dask_map(fn: Callable[..., Any], items: Iterable[Any]) -> list[Any]:
                return client.gather(client.map(fn, list(items), pure=False))

            yield dask_map
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    raise ValueError(f"engine: got {engine!r}; allowed: 'serial', 'processes' or 'dask'")


# --------------------------------------------------------------------------- fitting
@dataclass
class CalibrationResult:
    """What a calibration found."""

    targets: Targets
    fitted: dict[str, Any]
    objective: float
    fit_table: pd.DataFrame
    history: pd.DataFrame
    evaluations: int
    seconds: float
    fit_seeds: tuple[int, ...] = field(default=())
    check_seeds: tuple[int, ...] = field(default=())


def calibrate(targets: Targets, engine: str = "serial", workers: int | None = None,
              scheduler: str | None = None, check_seeds: int | None = None,
              progress: Callable[[int, float], None] | None = None) -> CalibrationResult:
    """Fit the free parameters to the targets (simulated method of moments).

    Args:
        targets: A validated targets file.
        engine: ``serial``, ``processes`` or ``dask``; the population of each generation is
            evaluated through it.
        workers: Worker count for ``processes`` and a local Dask cluster.
        scheduler: Address of an existing Dask scheduler.
        check_seeds: Number of fresh seeds (disjoint from those used to fit) for the fit table;
            default: the targets file's ``check_seeds``, else as many as ``targets.seeds``.
        progress: Called after each generation with (generation, best objective).

    Returns:
        The fitted parameters, the fit table and the convergence history.
    """
    from scipy.optimize import differential_evolution

    check_seeds = check_seeds or targets.check_seeds or targets.seeds
    all_seeds = replicate_seeds(targets.root_seed, targets.seeds + check_seeds)
    fit_seeds = tuple(all_seeds[: targets.seeds])
    fresh = tuple(all_seeds[targets.seeds:])
    objective = _Objective(targets, fit_seeds)
    bounds = list(targets.free.values())
    history: list[dict[str, float]] = []
    start = time.perf_counter()

    def record(intermediate_result: Any) -> None:
        gen = len(history) + 1
        row = {"generation": gen, "objective": float(intermediate_result.fun)}
        row.update(dict(zip(targets.free, map(float, intermediate_result.x), strict=True)))
        history.append(row)
        if progress is not None:
            progress(gen, float(intermediate_result.fun))

    with engine_map(engine, workers, scheduler) as mapper:
        result = differential_evolution(
            objective, bounds, seed=targets.root_seed, maxiter=targets.maxiter,
            popsize=targets.popsize, tol=targets.tol, polish=False, init="sobol",
            updating="deferred", workers=mapper, callback=record,
        )
        fitted = _candidate_overrides(targets, result.x)
        per_seed = simulate(targets, result.x, fresh, mapper)
    table = fit_table(targets, per_seed)
    return CalibrationResult(
        targets=targets, fitted=fitted, objective=float(result.fun), fit_table=table,
        history=pd.DataFrame(history), evaluations=int(result.nfev),
        seconds=time.perf_counter() - start, fit_seeds=fit_seeds, check_seeds=fresh,
    )


def fit_table(targets: Targets, per_seed: pd.DataFrame) -> pd.DataFrame:
    """Target against simulated mean with a 95% CI over seeds.

    The interval is :func:`village_sim.experiment.interval`: a t interval, on the logit scale
    for shares (kept inside 0-1), cut at -1 and 1 for a contrast of shares; none below 3
    seeds.
    """
    from village_sim.dictionary import bounds
    from village_sim.experiment import difference_bounds, interval

    rows = []
    for (arm, metric), group in per_seed.groupby(["arm", "metric"], sort=False):
        v = group["value"].dropna().to_numpy()
        contrast = " - " in str(arm)
        limits = difference_bounds(bounds(str(metric))) if contrast else bounds(str(metric))
        got = interval(v, limits)
        target = float(group["target"].iloc[0])
        rows.append({"arm": arm, "metric": metric, "target": target, "simulated": got.mean,
                     "ci_low": got.low, "ci_high": got.high, "n_seeds": got.n,
                     "interval": got.method,
                     "target_in_ci": bool(got.low <= target <= got.high
                                          or abs(got.mean - target)
                                          <= 1e-3 * max(1.0, abs(target)))})
    return pd.DataFrame(rows)


FIT_COLUMNS = {
    "arm": ("arm of the targets file, or 'B - A' for a contrast between two arms", "name"),
    "target": ("the target value of the metric", "unit of the metric"),
    "simulated": ("mean over the fresh check seeds of the simulated metric",
                  "unit of the metric"),
    "n_seeds": ("fresh seeds (disjoint from those used to fit)", "seeds"),
    "target_in_ci": ("the target lies in the 95% CI of the simulated mean", "true/false"),
    "generation": ("generation of differential evolution", "count from 1"),
    "objective": ("best objective J so far (weighted squared distance to the targets)",
                  "squared units of the targets, weighted"),
}
"""Data-dictionary entries of the calibration's own columns (the rest: dictionary.py)."""


def _fit_notes(t: Targets) -> dict[str, Any]:
    from village_sim.dictionary import METRICS_DOC, Column, entries

    notes: dict[str, Any] = entries(FIT_COLUMNS, "experiments/calibration/README.md")
    for name in t.free:
        p = PARAM_BY_NAME[name]
        notes[name] = Column(f"best {name} so far: {p.meaning}", p.unit,
                             doc="docs/parameters.md")
    notes["metric"] = Column("the targeted metric (rows of docs/ODD.md section 9)", "name",
                             doc=METRICS_DOC)
    return notes


def write_outputs(result: CalibrationResult, out: str | Path) -> list[Path]:
    """Write fitted.toml, fit_table.csv/.md, convergence.csv/.png into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t = result.targets
    from village_sim.outputs import package_version

    header = [f"Fitted by village-sim {package_version()} calibrate from {t.source or t.name}",
              f"objective {result.objective:.6g} after {result.evaluations} evaluations; "
              f"fit seeds {list(result.fit_seeds)}"]
    written = [write_text(format_toml({**t.base, **result.fitted}, header), out / "fitted.toml")]
    written.append(write_csv(result.fit_table, out / "fit_table.csv"))
    written.append(write_columns(
        out, {"fit_table.csv": result.fit_table, "convergence.csv": result.history},
        f"the months of each target's 'step' (targets file {t.source or t.name})",
        _fit_notes(t)))
    lines = [f"# Calibration: {t.name}", "", t.description, "",
             "Fitted parameters: " + ", ".join(f"`{k} = {v:.4g}`" for k, v in
                                                result.fitted.items()), "",
             f"Simulated values are means over {len(result.check_seeds)} fresh seeds (disjoint "
             "from the seeds used to fit), with 95% confidence intervals.", "",
             "| arm | metric | target | simulated | 95% CI | target in CI |",
             "|---|---|---|---|---|---|"]
    for r in result.fit_table.itertuples():
        lines.append(f"| {r.arm} | `{r.metric}` | {r.target:.4g} | {r.simulated:.4g} | "
                     f"[{r.ci_low:.4g}, {r.ci_high:.4g}] | {'yes' if r.target_in_ci else 'no'} |")
    written.append(write_text("\n".join(lines) + "\n", out / "fit_table.md"))
    written.append(write_csv(result.history, out / "convergence.csv"))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if len(result.history):
        ax.plot(result.history["generation"], result.history["objective"], marker="o")
        ax.set_yscale("log")
    ax.set_xlabel("generation (differential evolution)")
    ax.set_ylabel("best objective J")
    ax.set_title(f"Convergence: {t.name}")
    fig.tight_layout()
    png = out / "convergence.png"
    tmp = png.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, png)
    written.append(png)
    return written
