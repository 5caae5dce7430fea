"""The sweep spec: a TOML file read, checked and normalised into a :class:`SweepSpec`.

The format is documented with a full example in docs/sweeps.md. Every check happens here,
before anything runs, and every error is a :class:`SpecError` that names the spec file, the
key, the value and what is allowed, suggesting the closest valid name for a misspelt key,
parameter, regime or metric — the same error style as :mod:`village_sim.params`, whose schema
is the only source of parameter ranges (nothing is clamped).

The spec hash (:attr:`SweepSpec.spec_hash`) is a hash of the normalised content that decides
the results — base parameters (a ``params`` file's values included), regimes, swept
parameters, design, replicates, root seed, steps, record interval, metrics, panels and the run
function — so comments, key order, ``name`` and ``description`` do not change it, and a spec
that would give other runs always does.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from village_sim.params import REGIMES, Param, load_overrides
from village_sim.refusal import Allowed, Phrase, Refusal, did_you_mean

if TYPE_CHECKING:
    from village_sim.sweep.cluster import ClusterConfig

__all__ = [
    "DEFAULT_RUN_FUNCTION",
    "DESIGNS",
    "SAMPLED_DESIGNS",
    "Axis",
    "SpecError",
    "SweepSpec",
    "load_spec",
    "parse_spec",
    "resolve_run_function",
]

DESIGNS = ("grid", "list", "lhs", "sobol", "morris")
"""Design kinds: full factorial, zipped lists, Latin hypercube, Sobol (Saltelli), Morris."""

SAMPLED_DESIGNS = ("lhs", "sobol", "morris")
"""Designs drawn from parameter ranges by SALib, seeded from the root seed."""

DEFAULT_RUN_FUNCTION = "village_sim.sweep.runner:run_village"
"""The function that runs one simulation (see :func:`village_sim.sweep.runner.run_village`)."""

TOP_KEYS = (
    "name", "description", "params", "base", "regimes", "parameters", "design", "replicates",
    "root_seed", "steps", "record_every", "metrics", "panel_every", "run_function", "cluster",
    "model",
)
DESIGN_KEYS = ("kind", "samples", "second_order", "levels")
AXIS_KEYS = ("values", "low", "high")

SPEC_FORMAT = 1
"""Version of the normalised spec (part of the spec hash)."""


class SpecError(Refusal):
    """A sweep spec that cannot run: the message names the file, the key and what is allowed.

    A :class:`~village_sim.refusal.Refusal`, said in the language of ``$VILLAGE_SIM_LANG`` on
    the command line.
    """


@dataclass(frozen=True)
class Axis:
    """One swept parameter: explicit values (grid, list) or a range (lhs, sobol, morris).

    Attributes:
        name: Parameter name (a key of :data:`village_sim.params.PARAM_BY_NAME`).
        values: Validated values, in the order given, or ``None`` for a range.
        low: Lower bound of a range (validated), else ``None``.
        high: Upper bound of a range (validated), else ``None``.
    """

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None

    @property
    def param(self) -> Param:
        """The parameter's schema entry (a village's, or a county's own)."""
        from village_sim.sweep.models import parameter

        found = parameter("county", self.name)  # the village's, else the county's
        assert found is not None, self.name
        return found

    @property
    def is_int(self) -> bool:
        """Whether sampled values are rounded to integers."""
        return self.param.kind in ("int", "optional_int")

    def sampling_bounds(self) -> tuple[float, float]:
        """Bounds given to SALib: ``[low, high]``, widened by 0.5 on each side for integers.

        Widening gives every integer in ``[low, high]`` the same share of the unit interval
        once the samples are rounded (rounding ``[low, high]`` would halve the end points).
        """
        assert self.low is not None and self.high is not None
        if self.is_int:
            return self.low - 0.5, self.high + 0.5
        return float(self.low), float(self.high)

    def to_value(self, x: float) -> Any:
        """Convert one sampled coordinate to a parameter value (rounded and clipped for ints)."""
        assert self.low is not None and self.high is not None
        if self.is_int:
            return int(min(max(math.floor(x + 0.5), self.low), self.high))
        return float(min(max(x, self.low), self.high))

    def canonical(self) -> dict[str, Any]:
        """JSON-ready form (part of the spec hash)."""
        if self.values is not None:
            return {"name": self.name, "values": [_jsonable(v) for v in self.values]}
        return {"name": self.name, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (build with :func:`load_spec` or :func:`parse_spec`).

    Attributes:
        name: Sweep name (a label; not part of the hash).
        description: Free text (not part of the hash).
        base: Base parameter overrides: the ``params`` file's values, then ``[base]``.
        regimes: Regimes compared pairwise on the same seeds; the first is the baseline.
        axes: Swept parameters, in the order given.
        design: One of :data:`DESIGNS`.
        samples: Sample size of a sampled design (LHS points; Sobol base samples N;
            Morris trajectories), else 0.
        second_order: Sobol: also sample for second-order indices.
        levels: Morris: number of grid levels.
        replicates: Replicates (seeds) per design point and regime.
        root_seed: Root of every seed: replicate seeds and the design's sampler.
        steps: Months per run.
        record_every: Keep every ``record_every``-th month of each run's time series (month 0
            and the final month always).
        metrics: Metrics stored (names from :data:`village_sim.model.METRIC_NAMES`).
        panel_every: Store the household frame every ``panel_every`` months (0: never).
        run_function: ``"module:function"`` that runs one simulation.
        source: Where the spec came from (for messages).
        text: The spec file's text, copied into the sweep directory.
        params_file: The ``params`` path as written in the spec, or ``None``.
        cluster: The ``[cluster]`` table for ``--engine slurm`` (docs/cluster.md), or ``None``;
            where the runs run, not what they give, so not part of the hash.
    """

    name: str
    base: dict[str, Any]
    regimes: tuple[str, ...]
    axes: tuple[Axis, ...]
    design: str
    replicates: int
    root_seed: int
    steps: int
    metrics: tuple[str, ...]
    description: str = ""
    samples: int = 0
    second_order: bool = False
    levels: int = 4
    record_every: int = 1
    panel_every: int = 0
    run_function: str = DEFAULT_RUN_FUNCTION
    source: str = "<spec>"
    text: str = field(default="", repr=False)
    params_file: str | None = None
    cluster: ClusterConfig | None = field(default=None, repr=False)
    model: str = "village"

    @property
    def axis_names(self) -> tuple[str, ...]:
        """Names of the swept parameters."""
        return tuple(a.name for a in self.axes)

    @property
    def baseline(self) -> str:
        """The regime the paired differences are measured against (the first)."""
        return self.regimes[0]

    def canonical(self) -> dict[str, Any]:
        """Everything that decides the results, in a JSON-ready normal form."""
        return {
            "format": SPEC_FORMAT,
            "base": {k: _jsonable(v) for k, v in sorted(self.base.items())},
            "regimes": list(self.regimes),
            "parameters": [a.canonical() for a in self.axes],
            "design": {"kind": self.design, "samples": self.samples,
                       "second_order": self.second_order, "levels": self.levels},
            "replicates": self.replicates,
            "root_seed": self.root_seed,
            "steps": self.steps,
            "record_every": self.record_every,
            "metrics": list(self.metrics),
            "panel_every": self.panel_every,
            "run_function": self.run_function,
            # a county sweep says so; a village sweep's hash is what it always was
            **({"model": self.model} if self.model != "village" else {}),
        }

    @property
    def spec_hash(self) -> str:
        """SHA-256 (first 16 hex digits) of :meth:`canonical`."""
        return _hash(self.canonical())

    def to_record(self) -> dict[str, Any]:
        """The canonical form plus the labels, as stored in a sweep's manifest."""
        return {"name": self.name, "description": self.description,
                "params_file": self.params_file, **self.canonical()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any], source: str = "<manifest>") -> SweepSpec:
        """Rebuild a spec from :meth:`to_record` (as stored in ``manifest.json``)."""
        design = record["design"]
        axes = tuple(
            Axis(a["name"], values=tuple(a["values"]))
            if "values" in a else Axis(a["name"], low=a["low"], high=a["high"])
            for a in record["parameters"]
        )
        spec = cls(
            name=record["name"], description=record.get("description", ""),
            base=dict(record["base"]), regimes=tuple(record["regimes"]), axes=axes,
            design=design["kind"], samples=design["samples"],
            second_order=design["second_order"], levels=design["levels"],
            replicates=record["replicates"], root_seed=record["root_seed"],
            steps=record["steps"], record_every=record["record_every"],
            metrics=tuple(record["metrics"]), panel_every=record["panel_every"],
            run_function=record["run_function"], source=source,
            params_file=record.get("params_file"), model=record.get("model", "village"),
        )
        if spec.spec_hash != _hash({k: record[k] for k in spec.canonical()}):
            raise SpecError(f"{source}: the stored spec does not round-trip (corrupt manifest?)")
        return spec


# ---------------------------------------------------------------------------- helpers
def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    """Plain Python scalars (numpy scalars converted) for hashing and JSON."""
    if value is None or isinstance(value, bool | str):
        return value
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _suggest(name: str, options: Sequence[str]) -> Phrase | str:
    return did_you_mean(name, options, 0.5)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    """Raises :class:`SpecError` prefixed with the spec's name."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, kind: str, /, at: str = "", **fields: Any) -> SpecError:
        """The refusal ``kind`` (a message of the catalogs) at this spec, and at ``at`` in it."""
        return SpecError(kind, at=f"{self.source}: {at}" if at else self.source, **fields)

    def within(self, at: str, problem: BaseException) -> SpecError:
        """Another error (a bad value, a params file's, a regime's) at ``at`` in this spec."""
        return SpecError(problem, at=f"{self.source}: {at}" if at else self.source)

    def unknown_keys(self, table: Mapping[str, Any], allowed: Sequence[str],
                     where: str | Phrase) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail("error.unknown_key", key=key, where=where,
                                hint=_suggest(key, allowed), allowed=", ".join(allowed))

    def integer(self, data: Mapping[str, Any], key: str, low: int, default: int | None,
                what: Phrase) -> int:
        if key not in data:
            if default is None:
                raise self.fail("error.spec_missing_integer", key=key, what=what, low=low)
            return default
        value = data[key]
        if not _is_int(value) or value < low:
            raise self.fail("error.int_at_least", at=key, value=value, low=low, what=what)
        return int(value)


def resolve_run_function(path: str) -> Callable[..., Any]:
    """Import a run function named ``"package.module:function"`` (or ``"package.module.function"``).

    Raises:
        ValueError: if the module or the function cannot be found, or is not callable.
    """
    if not isinstance(path, str) or not path.strip():
        raise Refusal("error.run_function_syntax", value=path)
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise Refusal("error.run_function_syntax", value=path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise Refusal("error.run_function_import", path=path, module=module_name,
                      reason=err) from None
    func = getattr(module, attr, None)
    if not callable(func):
        raise Refusal("error.run_function_missing", path=path, module=module_name, name=attr)
    return cast("Callable[..., Any]", func)


# ---------------------------------------------------------------------------- parsing
def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file.

    Args:
        path: The TOML file. A ``params`` file it names is read relative to it.

    Returns:
        The validated spec.

    Raises:
        SpecError: for a missing file, bad TOML or anything :func:`parse_spec` refuses.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("error.file_missing", what=Phrase("phrase.spec_file"),
                        path=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError("error.file_unreadable", what=Phrase("phrase.spec_file"), path=str(path),
                        reason=err) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError("error.not_toml", path=str(path), reason=err) from None
    return parse_spec(data, base_dir=path.parent, source=str(path), text=text)


def parse_spec(data: Mapping[str, Any], base_dir: str | Path = ".", source: str = "<spec>",
               text: str = "") -> SweepSpec:
    """Validate a parsed TOML spec (see docs/sweeps.md) and normalise it.

    Every swept value, and every point a sampled design draws, is checked against the parameter
    schema under every regime (:func:`village_sim.params.resolve_parameters`), so a spec that
    loads runs.

    Args:
        data: The TOML document as a dict.
        base_dir: Directory a relative ``params`` path is read from.
        source: Name used in error messages.
        text: The spec's text (kept for the copy in the sweep directory).

    Returns:
        The validated spec.

    Raises:
        SpecError: naming the key, the value and what is allowed.
    """
    from village_sim.sweep import models

    check = _Checker(source)
    check.unknown_keys(data, TOP_KEYS, Phrase("phrase.the_spec"))
    model = data.get("model", "village")
    if model not in models.MODELS:
        raise check.fail("error.spec_model", at="model", value=model,
                         allowed=", ".join(models.MODELS))

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise check.fail("error.spec_name", at="name", value=name)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise check.fail("error.spec_string", at="description", value=description)

    # -- base parameters: the params file first, then [base]
    base: dict[str, Any] = {}
    params_file = data.get("params")
    if params_file is not None:
        if not isinstance(params_file, str):
            raise check.fail("error.spec_params_path", at="params", value=params_file)
        try:
            base.update(load_overrides(Path(base_dir) / params_file))
        except ValueError as err:
            raise check.within("params", err) from None
        if "regime" in base:
            raise check.fail("error.spec_params_regime", at="params", file=params_file,
                             value=base["regime"])
    inline = data.get("base", {})
    if not isinstance(inline, dict):
        raise check.fail("error.spec_base_table", at="base", value=inline)
    for key, value in inline.items():
        if key == "regime":
            raise check.fail("error.spec_base_regime", at="base")
        base[key] = _check_value(check, key, value, "base", model)

    # -- regimes (deployment rules of a county)
    regimes = data.get("regimes", models.default_regimes(model))
    if not isinstance(regimes, list) or not all(isinstance(r, str) for r in regimes):
        raise check.fail("error.spec_regimes", at="regimes", value=regimes,
                         allowed=", ".join(REGIMES))
    try:
        regimes = models.check_regimes(model, regimes)
    except ValueError as err:
        raise check.within("regimes", err) from None

    # -- design
    design, samples, second_order, levels = _parse_design(check, data.get("design", "grid"))

    # -- swept parameters
    raw_axes = data.get("parameters", {})
    if not isinstance(raw_axes, dict):
        raise check.fail("error.spec_axes_table", at="parameters", value=raw_axes)
    if not raw_axes and design in SAMPLED_DESIGNS:
        raise check.fail("error.spec_no_ranges", design=design)
    axes: list[Axis] = []
    for key, entry in raw_axes.items():
        if key in inline:
            raise check.fail("error.spec_base_and_swept", name=key)
        axes.append(_parse_axis(check, key, entry, design, model))
    if design == "list" and axes:
        lengths = {a.name: len(a.values or ()) for a in axes}
        if len(set(lengths.values())) > 1:
            raise check.fail("error.spec_list_lengths", lengths=lengths)

    # -- runs
    replicates = check.integer(data, "replicates", 1, None, Phrase("phrase.replicates_per_point"))
    root_seed = check.integer(data, "root_seed", 0, None, Phrase("phrase.root_seed"))
    steps = check.integer(data, "steps", 1, None, Phrase("phrase.months_per_run"))
    record_every = check.integer(data, "record_every", 1, 1, Phrase("phrase.months_per_row"))
    panel_every = check.integer(data, "panel_every", 0, 0, Phrase("phrase.months_per_panel"))
    if model == "county" and panel_every not in (0, 12):
        raise check.fail("error.spec_county_panel", at="panel_every", value=panel_every)

    metrics = _parse_metrics(check, data.get("metrics", list(models.default_metrics(model))),
                             model)

    run_function = data.get("run_function", models.default_run_function(model))
    try:
        resolve_run_function(run_function)
    except ValueError as err:
        raise check.within("", err) from None

    cluster = None
    if "cluster" in data:
        from village_sim.sweep.cluster import parse_cluster_config

        try:
            cluster = parse_cluster_config(data["cluster"], source=f"{source}: cluster")
        except ValueError as err:
            raise SpecError(err) from None

    spec = SweepSpec(
        name=name.strip(), description=description, base=base, regimes=tuple(regimes),
        axes=tuple(axes), design=design, samples=samples, second_order=second_order,
        levels=levels, replicates=replicates, root_seed=root_seed, steps=steps,
        record_every=record_every, metrics=metrics, panel_every=panel_every,
        run_function=run_function, source=source, text=text, params_file=params_file,
        cluster=cluster, model=model,
    )
    from village_sim.sweep.design import design_points

    try:
        design_points(spec)  # draws the design and checks every point under every regime
    except ValueError as err:
        raise check.within("", err) from None
    return spec


def _check_value(check: _Checker, name: str, value: Any, where: str,
                 model: str = "village") -> Any:
    from village_sim.sweep import models

    param = models.parameter(model, name)
    if param is None:
        raise check.fail("error.unknown_parameter", at=where, value=name,
                         hint=_suggest(name, models.parameter_names(model)))
    try:
        return param.validate(value)
    except ValueError as err:
        raise check.within(where, err) from None


def _parse_design(check: _Checker, raw: Any) -> tuple[str, int, bool, int]:
    table: dict[str, Any]
    if isinstance(raw, str):
        table = {"kind": raw}
    elif isinstance(raw, dict):
        table = dict(raw)
        check.unknown_keys(table, DESIGN_KEYS, "[design]")
    else:
        raise check.fail("error.spec_design", at="design", value=raw,
                         allowed=", ".join(DESIGNS))
    kind = table.get("kind")
    if kind not in DESIGNS:
        raise check.fail("error.spec_design_kind", at="design", value=kind,
                         hint=_suggest(str(kind), DESIGNS), allowed=", ".join(DESIGNS))
    if kind not in SAMPLED_DESIGNS:
        extra = [k for k in ("samples", "second_order", "levels") if k in table]
        if extra:
            raise check.fail("error.spec_design_explicit", design=kind, key=extra[0],
                             sampled=", ".join(SAMPLED_DESIGNS))
        return kind, 0, False, 4
    samples = check.integer(table, "samples", 2 if kind == "morris" else 1, None,
                            Phrase(_SAMPLES_MEANING[kind]))
    if kind == "sobol" and samples & (samples - 1):
        raise check.fail("error.spec_sobol_samples", at="design.samples", value=samples)
    second_order = table.get("second_order", False)
    if not isinstance(second_order, bool) or (second_order and kind != "sobol"):
        raise check.fail("error.spec_second_order", at="design.second_order",
                         value=second_order)
    levels = table.get("levels", 4)
    if "levels" in table and kind != "morris":
        raise check.fail("error.spec_levels_morris")
    if not _is_int(levels) or levels < 2 or levels % 2:
        raise check.fail("error.spec_levels", at="design.levels", value=levels)
    return kind, samples, second_order, int(levels)


_SAMPLES_MEANING = {
    "lhs": "phrase.lhs_samples",
    "sobol": "phrase.sobol_samples",
    "morris": "phrase.morris_samples",
}


def _parse_axis(check: _Checker, name: str, entry: Any, design: str,
                model: str = "village") -> Axis:
    from village_sim.sweep import models

    param = models.parameter(model, name)
    if name == "regime":
        raise check.fail("error.spec_regime_swept", at="parameters")
    if param is None:
        raise check.fail("error.unknown_parameter", at="parameters", value=name,
                         hint=_suggest(name, models.parameter_names(model)))
    at = f"parameters.{name}"
    if isinstance(entry, list):
        entry = {"values": entry}
    if not isinstance(entry, dict):
        raise check.fail("error.spec_axis", at=at, value=entry)
    check.unknown_keys(entry, AXIS_KEYS, at)
    if design in SAMPLED_DESIGNS:
        if "values" in entry or "low" not in entry or "high" not in entry:
            raise check.fail("error.spec_axis_range_needed", at=at, design=design)
        if param.kind not in ("int", "float", "optional_int"):
            raise check.fail("error.spec_axis_no_range", at=at, kind=param.kind)
        low = _check_value(check, name, entry["low"], f"{at}.low", model)
        high = _check_value(check, name, entry["high"], f"{at}.high", model)
        if low is None or high is None or not low < high:
            raise check.fail("error.spec_low_high", at=at, low=entry["low"], high=entry["high"],
                             allowed=Allowed(name, param.allowed()))
        return Axis(name, low=low, high=high)
    if "low" in entry or "high" in entry or "values" not in entry:
        raise check.fail("error.spec_axis_list_needed", at=at, design=design)
    raw = entry["values"]
    if not isinstance(raw, list) or not raw:
        raise check.fail("error.spec_axis_values", at=at, value=raw)
    tables = next((v for v in raw if isinstance(v, list | dict)), None)
    if name == "teams" and tables is not None:  # team tables: [base] only (one pool a sweep)
        raise check.fail("error.spec_axis_tables", at=at, value=tables)
    values = tuple(_check_value(check, name, v, at, model) for v in raw)
    if design == "grid":
        seen: set[Any] = set()
        for v in values:
            if v in seen:
                raise check.fail("error.spec_value_twice", at=at, value=v)
            seen.add(v)
    return Axis(name, values=values)


def _parse_metrics(check: _Checker, raw: Any, model: str = "village") -> tuple[str, ...]:
    from village_sim.sweep.models import metric_names

    METRIC_NAMES = metric_names(model)  # noqa: N806 - the names, as the message shows them

    if not isinstance(raw, list) or not raw or not all(isinstance(m, str) for m in raw):
        raise check.fail("error.spec_metrics", at="metrics", value=raw)
    for metric in raw:
        if metric not in METRIC_NAMES:
            raise check.fail("error.unknown_metric", at="metrics", value=metric,
                             hint=_suggest(metric, METRIC_NAMES), allowed=", ".join(METRIC_NAMES))
    repeated = sorted({m for m in raw if raw.count(m) > 1})
    if repeated:
        raise check.fail("error.spec_metric_twice", at="metrics", value=repeated[0])
    return tuple(raw)
