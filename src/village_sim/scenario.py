"""Teaching scenarios: a story in three languages, parameters, scheduled events and a claim.

A scenario is a TOML file. The library ships in the package (``village_sim/scenarios/*.toml``);
a trainer can write their own and pass its path wherever an id is accepted. The file holds::

    id = "team_leaves"                   # = the file name without .toml
    order = 8                            # place in listings and in the class plan
    control = "team_and_committee"       # the scenario it is compared with
    steps = 48                           # months to run
    charts = ["kin_premium", "mean_trust"]   # metrics drawn in handouts (claim metric first)

    [parameters]                         # overrides, validated by resolve_parameters
    regime = "team_and_committee"        # required

    [[events]]                           # scheduled events (village_sim.events)
    month = 24
    kind = "team_leaves"

    [claim]                              # what the scenario teaches, checked by the tests
    metric = "kin_premium"               # one of village_sim.model.METRIC_NAMES
    direction = "higher"                 # than in the control, on the same seeds
    window = [25, 36]                    # months, inclusive; must hold an identification
    identical_until = 12                 # optional: both runs are equal in months 0..12

    [text.en]                            # and [text.zh], [text.vi]
    title = "..."
    short = "..."                        # optional: a label of at most 28 characters (the
                                         # app's legends and side titles; default: title)
    story = "..."
    objectives = ["..."]
    watch = ["..."]
    questions = ["..."]
    answers = ["..."]                    # one per question, for the instructor

The claim is measured as in ``tests/test_effects.py``: on the same seeds for the scenario and
its control (common random numbers, DESIGN §4), each run's value is the metric's mean over the
window (months where it is undefined are skipped), and the 95% confidence interval of the
paired differences (t critical value for their degrees of freedom, at least 3 seeds) must
exclude zero on the stated side — and, if the file sets ``min_t``, the difference must also be
at least that many standard errors from zero. The window must hold a
yearly identification (months 1, 13, 25, …), so that a change in who is registered can show.

API for the app and the CLI: :func:`list_scenarios`, :func:`load_scenario`,
:meth:`Scenario.text`, :meth:`Scenario.model_kwargs`, :meth:`Scenario.build_model`,
:func:`measure_claim`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from village_sim.events import Event, parse_events
from village_sim.params import read_toml, resolve_parameters
from village_sim.refusal import Phrase, Refusal, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from village_sim.model import VillageModel

__all__ = [
    "DIRECTIONS",
    "TEXT_FIELDS",
    "Claim",
    "ClaimResult",
    "Scenario",
    "ScenarioText",
    "list_scenarios",
    "load_control",
    "load_scenario",
    "measure_claim",
    "parse_scenario",
    "run_pair",
    "scenario_ids",
    "scenario_ref",
]

DIRECTIONS: dict[str, int] = {"higher": +1, "lower": -1}
TEXT_FIELDS: tuple[str, ...] = ("title", "short", "story", "objectives", "watch", "questions",
                                 "answers")
_LIST_FIELDS = ("objectives", "watch", "questions", "answers")
MAX_SHORT = 28
"""Characters a scenario's ``short`` label may have (it must fit a legend and a side title)."""
_TOP_KEYS = {"id", "order", "control", "steps", "charts", "parameters", "events", "claim",
             "text"}
_CLAIM_KEYS = {"metric", "direction", "window", "min_t", "identical_until"}
MAX_STEPS = 600


class ScenarioError(Refusal):
    """A scenario that cannot be used; the message names the id or file, and the field.

    An unknown id and a file that cannot be read are refusals of the catalogs (said in the
    language of ``--lang``); the checks of a scenario file's content, written for the scenario's
    author, are said in English.
    """


@dataclass(frozen=True)
class ScenarioText:
    """A scenario's texts in one language."""

    title: str
    story: str
    objectives: tuple[str, ...]
    watch: tuple[str, ...]
    questions: tuple[str, ...]
    answers: tuple[str, ...] = ()
    short: str = ""

    @property
    def label(self) -> str:
        """The short label (legends, side titles): ``short`` if the file gives one, else title."""
        return self.short or self.title

    @property
    def summary(self) -> str:
        """The story's first sentence (for one-line listings)."""
        text = " ".join(self.story.split())
        cut = len(text)
        for mark in ("。", "！", "？", ". ", "! ", "? "):
            k = text.find(mark)
            if 0 <= k < cut:
                cut = k + 1
        return text[:cut].strip()

    def paragraphs(self) -> list[str]:
        """The story split into paragraphs (blank lines separate them)."""
        return [" ".join(p.split()) if not _is_cjk_text(p) else "".join(p.split())
                for p in self.story.strip().split("\n\n") if p.strip()]


def _is_cjk_text(text: str) -> bool:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") > len(text) / 4


@dataclass(frozen=True)
class Claim:
    """What a scenario teaches: the direction of a metric against the control, in a window."""

    metric: str
    direction: str
    window: tuple[int, int]
    min_t: float | None = None
    """An extra bar: at least this many standard errors from 0 (``None``: the CI alone)."""
    identical_until: int | None = None

    @property
    def sign(self) -> int:
        """+1 for ``higher``, -1 for ``lower``."""
        return DIRECTIONS[self.direction]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A teaching scenario (see the module docstring for the file format).

    Attributes:
        id: Identifier (the file name without ``.toml``).
        control: Id of the scenario it is compared with.
        steps: Months to run.
        parameters: Parameter overrides, ``regime`` included (validated).
        events: Scheduled events, sorted by month.
        claim: The teaching claim against the control.
        texts: Texts by language code.
        charts: Metrics drawn in handouts (the claim's metric first).
        order: Place in listings and in the class plan.
        path: The file it was read from (``None`` if built in memory).
    """

    id: str
    control: str
    steps: int
    parameters: Mapping[str, Any]
    events: tuple[Event, ...]
    claim: Claim
    texts: Mapping[str, ScenarioText]
    charts: tuple[str, ...]
    order: int = 0
    path: Path | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"Scenario({self.id!r}, regime={self.regime!r}, control={self.control!r})"

    @property
    def regime(self) -> str:
        """The scenario's regime."""
        return str(self.parameters["regime"])

    def text(self, lang: str | None = "en") -> ScenarioText:
        """The texts in ``lang``; falls back to English, then to any language the file has."""
        from village_sim.i18n import check_lang

        code = check_lang(lang)
        for candidate in (code, "en", *self.texts):
            if candidate in self.texts:
                return self.texts[candidate]
        raise ScenarioError(f"scenario {self.id!r} has no texts")  # parse_scenario prevents it

    def overrides(self) -> dict[str, Any]:
        """Parameter overrides without ``regime``."""
        return {k: v for k, v in self.parameters.items() if k != "regime"}

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``VillageModel(rng=seed, **scenario.model_kwargs())``."""
        return {"regime": self.regime, "events": list(self.events), **self.overrides()}

    def build_model(self, rng: Any = None, **extra: Any) -> VillageModel:
        """A fresh model of this scenario (month 0); ``extra`` overrides more parameters."""
        from village_sim.model import VillageModel

        kwargs = self.model_kwargs()
        kwargs.update(extra)
        return VillageModel(rng=rng, **kwargs)

    def run(self, seed: int, steps: int | None = None) -> VillageModel:
        """Build the model on ``seed`` and run it ``steps`` months (default: its length)."""
        model = self.build_model(seed)
        for _ in range(self.steps if steps is None else steps):
            model.step()
        return model


# ---------------------------------------------------------------------------- parsing
def _fail(source: str, message: str) -> ScenarioError:
    return ScenarioError(f"scenario {source}: {message}")


def _int(value: Any, source: str, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(source, f"{name}: got {value!r}; allowed: an integer in [{low}, {high}]")
    return value


_COUNTY_OWN_METRICS = ("between_village_gini", "between_village_share", "headcount_spread")
"""The county's metrics that no village has (:data:`village_sim.county.metrics.COUNTY_METRICS`
beyond ``METRIC_NAMES``): labelled in the catalog too, never a scenario's claim."""


@cache
def _metric_names() -> tuple[str, ...]:
    """``village_sim.model.METRIC_NAMES``, read from the message catalog's ``metric.*`` keys.

    The catalog labels the county's own metrics too (:data:`_COUNTY_OWN_METRICS`), which are
    left out. tests/test_i18n.py asserts that what is left is the model's set; reading the
    catalog keeps ``village-sim scenarios`` from importing the model (and Mesa) just to list
    files.
    """
    from village_sim.i18n import messages

    return tuple(name for k in messages("en") if k.startswith("metric.")
                 and (name := k.split(".", 1)[1]) not in _COUNTY_OWN_METRICS)


def _metric(value: Any, source: str, name: str) -> str:
    names = _metric_names()
    if value not in names:
        close = difflib.get_close_matches(str(value), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _fail(source, f"{name}: got {value!r}{hint}; allowed: a metric of "
                            "village_sim.model.METRIC_NAMES")
    return str(value)


def _texts(raw: Any, source: str) -> dict[str, ScenarioText]:
    from village_sim.i18n import LANGUAGES

    if not isinstance(raw, Mapping) or not raw:
        raise _fail(source, "[text.LANG] tables: none found; allowed: [text.zh], [text.vi], "
                            "[text.en] (at least one)")
    out: dict[str, ScenarioText] = {}
    for lang, table in raw.items():
        where = f"[text.{lang}]"
        if lang not in LANGUAGES:
            raise _fail(source, f"{where}: unknown language; allowed: {', '.join(LANGUAGES)}")
        if not isinstance(table, Mapping):
            raise _fail(source, f"{where}: expected a table")
        extra = set(table) - set(TEXT_FIELDS)
        if extra:
            raise _fail(source, f"{where}: unknown keys {sorted(extra)}; allowed: "
                                f"{', '.join(TEXT_FIELDS)}")
        values: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            value = table.get(name, [] if name == "answers" else "" if name == "short" else None)
            if name in _LIST_FIELDS:
                ok = isinstance(value, list) and all(isinstance(v, str) and v.strip()
                                                     for v in value)
                if not ok or (name != "answers" and not value):
                    raise _fail(source, f"{where} {name}: got {value!r}; allowed: a non-empty "
                                        "list of non-empty strings")
                values[name] = tuple(v.strip() for v in value)
            elif name == "short":
                if not isinstance(value, str) or len(value.strip()) > MAX_SHORT or (
                        name in table and not value.strip()):
                    raise _fail(source, f"{where} short: got {value!r}; allowed: a non-empty "
                                        f"label of at most {MAX_SHORT} characters")
                values[name] = value.strip()
            else:
                if not isinstance(value, str) or not value.strip():
                    raise _fail(source, f"{where} {name}: got {value!r}; allowed: a non-empty "
                                        "string")
                values[name] = value.strip()
        if values["answers"] and len(values["answers"]) != len(values["questions"]):
            raise _fail(source, f"{where} answers: got {len(values['answers'])} for "
                                f"{len(values['questions'])} questions; allowed: one per "
                                "question, or none")
        out[str(lang)] = ScenarioText(**values)
    return {lang: out[lang] for lang in LANGUAGES if lang in out}


def _claim(raw: Any, steps: int, source: str) -> Claim:
    if not isinstance(raw, Mapping):
        raise _fail(source, "[claim]: missing; allowed: a table with metric, direction, window")
    extra = set(raw) - _CLAIM_KEYS
    if extra:
        raise _fail(source, f"[claim]: unknown keys {sorted(extra)}; allowed: "
                            f"{', '.join(sorted(_CLAIM_KEYS))}")
    metric = _metric(raw.get("metric"), source, "claim.metric")
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        raise _fail(source, f"claim.direction: got {direction!r}; allowed: 'higher' or 'lower'")
    window = raw.get("window")
    if (not isinstance(window, list) or len(window) != 2
            or any(isinstance(w, bool) or not isinstance(w, int) for w in window)
            or not 1 <= window[0] <= window[1] <= steps):
        raise _fail(source, f"claim.window: got {window!r}; allowed: [first, last] months "
                            f"with 1 <= first <= last <= steps ({steps})")
    if not any(m % 12 == 1 for m in range(window[0], window[1] + 1)):
        raise _fail(source, f"claim.window: got {window!r}; allowed: a window holding a yearly "
                            "identification (month 1, 13, 25, ...), DESIGN §4")
    min_t = raw.get("min_t")
    if min_t is not None and (isinstance(min_t, bool) or not isinstance(min_t, int | float)
                              or not min_t > 0):
        raise _fail(source, f"claim.min_t: got {min_t!r}; allowed: a number > 0")
    until = raw.get("identical_until")
    if until is not None:
        until = _int(until, source, "claim.identical_until", 0, window[0] - 1)
    return Claim(metric, str(direction), (window[0], window[1]),
                 None if min_t is None else float(min_t), until)


def parse_scenario(data: Mapping[str, Any], source: str = "<memory>",
                   expected_id: str | None = None, path: Path | None = None) -> Scenario:
    """Validate the contents of a scenario file and build a :class:`Scenario`.

    Args:
        data: The parsed TOML.
        source: How to name the scenario in error messages (e.g. its path).
        expected_id: The id the file name implies, if any (must equal ``id``).
        path: The file it came from.

    Raises:
        ScenarioError: naming the source, the field, the value and what is allowed.
    """
    extra = set(data) - _TOP_KEYS
    if extra:
        raise _fail(source, f"unknown keys {sorted(extra)}; allowed: "
                            f"{', '.join(sorted(_TOP_KEYS))}")
    sid = data.get("id")
    if not isinstance(sid, str) or not sid.isidentifier():
        raise _fail(source, f"id: got {sid!r}; allowed: a name of letters, digits and _")
    if expected_id is not None and sid != expected_id:
        raise _fail(source, f"id: got {sid!r}; allowed: {expected_id!r} (the file name)")
    control = data.get("control")
    if not isinstance(control, str) or not control or control == sid:
        raise _fail(source, f"control: got {control!r}; allowed: the id of another scenario")
    steps = _int(data.get("steps"), source, "steps", 1, MAX_STEPS)
    order = _int(data.get("order", 0), source, "order", 0, 10_000)

    raw_params = data.get("parameters")
    if not isinstance(raw_params, Mapping) or "regime" not in raw_params:
        raise _fail(source, "[parameters]: needs at least 'regime = ...' (and any parameter of "
                            "docs/parameters.md)")
    try:
        resolved = resolve_parameters(**dict(raw_params))
    except ValueError as err:
        raise _fail(source, f"[parameters]: {err}") from None
    parameters = {name: resolved.as_dict()[name] for name in raw_params}

    try:
        events = tuple(parse_events(data.get("events", [])))
    except ValueError as err:
        raise _fail(source, f"[[events]]: {err}") from None
    late = [e for e in events if e.month > steps]
    if late:
        raise _fail(source, f"[[events]]: {late[0].kind!r} in month {late[0].month}; allowed: "
                            f"months 1..steps ({steps})")

    claim = _claim(data.get("claim"), steps, source)
    charts_raw = data.get("charts", [claim.metric])
    if not isinstance(charts_raw, list) or not charts_raw:
        raise _fail(source, f"charts: got {charts_raw!r}; allowed: a non-empty list of metrics")
    charts = [_metric(m, source, "charts") for m in charts_raw]
    charts = [claim.metric, *[m for m in charts if m != claim.metric]]
    texts = _texts(data.get("text"), source)
    return Scenario(id=sid, control=control, steps=steps, parameters=parameters, events=events,
                    claim=claim, texts=texts, charts=tuple(dict.fromkeys(charts)), order=order,
                    path=path)


def _read(path: Path, expected_id: str | None) -> Scenario:
    try:
        data = read_toml(path, Phrase("phrase.scenario_file"), Phrase("phrase.scenario_allowed"))
    except ValueError as err:
        raise ScenarioError(err) from None
    return parse_scenario(data, repr(str(path)), expected_id, path)


# ---------------------------------------------------------------------------- the library
def _library_files() -> dict[str, Path]:
    folder = resources.files("village_sim").joinpath("scenarios")
    return {Path(entry.name).stem: Path(str(entry)) for entry in folder.iterdir()
            if entry.name.endswith(".toml")}


@cache
def _library() -> dict[str, Scenario]:
    loaded = [_read(path, sid) for sid, path in _library_files().items()]
    loaded.sort(key=lambda s: (s.order, s.id))
    return {s.id: s for s in loaded}


def scenario_ids() -> tuple[str, ...]:
    """Ids of the shipped scenarios, in class-plan order."""
    return tuple(_library())


def list_scenarios() -> list[Scenario]:
    """The shipped scenarios, in class-plan order."""
    return list(_library().values())


def load_scenario(ref: str | Path) -> Scenario:
    """A shipped scenario by id, or a scenario file by path.

    Args:
        ref: An id (``"team_leaves"``) or the path of a ``.toml`` file.

    Raises:
        ScenarioError: for an unknown id (naming the closest one) or a bad file.
    """
    text = str(ref)
    library = _library()
    if text in library:
        return library[text]
    path = Path(text)
    if text.endswith(".toml") or path.exists():
        return _read(path, None)
    raise ScenarioError("error.unknown_scenario", value=text,
                        hint=did_you_mean(text, library, 0.5), allowed=", ".join(library))


def scenario_ref(scenario: Scenario) -> str:
    """What :func:`load_scenario` loads ``scenario`` back from.

    Its id if it is the shipped scenario of that id, else the path of its file.
    """
    if _library().get(scenario.id) is scenario or scenario.path is None:
        return scenario.id
    return str(scenario.path)


def load_control(scenario: Scenario) -> Scenario:
    """The scenario's control: a shipped scenario, or a file of that id beside the scenario's.

    Raises:
        ScenarioError: if the control cannot be found.
    """
    library = _library()
    if scenario.control in library:
        return library[scenario.control]
    if scenario.path is not None:
        sibling = scenario.path.with_name(f"{scenario.control}.toml")
        if sibling.exists():
            return _read(sibling, scenario.control)
    raise ScenarioError(f"scenario {scenario.id!r}: control {scenario.control!r} is neither a "
                        f"shipped scenario ({', '.join(library)}) nor a file beside it")


# ---------------------------------------------------------------------------- claims
def run_pair(scenario: Scenario, control: Scenario, seeds: Sequence[int],
             steps: int | None = None) -> pd.DataFrame:
    """Run a scenario and its control on the same seeds (common random numbers).

    Args:
        scenario: The scenario.
        control: Its control.
        seeds: Integer seeds; both sides use each one.
        steps: Months per run (default: the scenario's length).

    Returns:
        Columns ``side`` (``"scenario"`` or ``"control"``), ``seed``, ``replicate``, ``step``
        and every metric of ``METRIC_NAMES``; rows by side, replicate and step.
    """
    import pandas as pd

    from village_sim.experiment import timeseries

    months = scenario.steps if steps is None else steps
    frames = []
    for side, which in (("scenario", scenario), ("control", control)):
        for rep, seed in enumerate(seeds):
            frame = timeseries(which.run(int(seed), months))
            frame.insert(0, "replicate", rep)
            frame.insert(0, "seed", int(seed))
            frame.insert(0, "side", side)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class ClaimResult:
    """A claim measured on paired seeds.

    Attributes:
        scenario: Scenario id.
        control: Control id.
        claim: The claim.
        seeds: Seeds used (the same for both sides).
        scenario_values: Each seed's window mean in the scenario.
        control_values: Each seed's window mean in the control.
        mean: Mean paired difference (scenario minus control) over seeds where both are
            defined.
        se: Its standard error.
        t: ``mean / se`` (infinite if every difference is equal and non-zero).
        ci_low: Lower end of the 95% t interval.
        ci_high: Upper end.
        n: Seeds where both sides are defined.
        identical_before: Whether both sides were equal in months 0..``identical_until``
            (``None`` if the claim does not say).
    """

    scenario: str
    control: str
    claim: Claim
    seeds: tuple[int, ...]
    scenario_values: np.ndarray
    control_values: np.ndarray
    mean: float
    se: float
    t: float
    ci_low: float
    ci_high: float
    n: int
    identical_before: bool | None

    @property
    def diffs(self) -> np.ndarray:
        """Paired differences, scenario minus control (NaN where either is undefined)."""
        return self.scenario_values - self.control_values

    @property
    def critical_t(self) -> float:
        """The 95% two-sided t critical value for n - 1 degrees of freedom (NaN for n < 3)."""
        from scipy import stats

        return float(stats.t.ppf(0.975, self.n - 1)) if self.n >= 3 else math.nan

    @property
    def enough_seeds(self) -> bool:
        """At least 3 paired seeds, and the metric defined on at least 80% of them."""
        return self.n >= max(3, math.ceil(0.8 * len(self.seeds))) and math.isfinite(self.mean)

    @property
    def holds(self) -> bool:
        """Whether the claim is shown on these seeds.

        Enough seeds (:attr:`enough_seeds`), the right sign, the 95% CI excluding 0 (``|t|`` at
        least the critical value for n - 1 degrees of freedom), at least ``min_t`` standard
        errors if the claim sets it, and (if the claim says so) identical before
        ``identical_until``.
        """
        if not self.enough_seeds or self.identical_before is False:
            return False
        right_sign = np.sign(self.mean) == self.claim.sign
        bar = max(self.critical_t, self.claim.min_t or 0.0)
        return bool(right_sign and abs(self.t) >= bar)


def _window_means(frame: pd.DataFrame, metric: str, window: tuple[int, int]) -> np.ndarray:
    inside = frame.loc[frame["step"].between(window[0], window[1])]
    means = inside.groupby("replicate", sort=True)[metric].mean()  # pandas skips NaN
    return means.to_numpy(dtype=float)


def measure_claim(scenario: Scenario, seeds: Sequence[int] | None = None,
                  control: Scenario | None = None, frame: pd.DataFrame | None = None,
                  ) -> ClaimResult:
    """Measure a scenario's claim against its control on paired seeds.

    Args:
        scenario: The scenario.
        seeds: Integer seeds (default: ``replicate_seeds(0, 10)``).
        control: The control (default: :func:`load_control`).
        frame: Output of :func:`run_pair` on these seeds, to avoid running again.

    Returns:
        The paired differences and their summary.
    """
    from scipy import stats

    from village_sim.experiment import replicate_seeds

    seeds = tuple(int(s) for s in (replicate_seeds(0, 10) if seeds is None else seeds))
    control = load_control(scenario) if control is None else control
    if frame is None:
        frame = run_pair(scenario, control, seeds)
    claim = scenario.claim
    ours = frame.loc[frame["side"] == "scenario"]
    theirs = frame.loc[frame["side"] == "control"]
    a = _window_means(ours, claim.metric, claim.window)
    b = _window_means(theirs, claim.metric, claim.window)
    d = a - b
    d = d[np.isfinite(d)]
    n = int(d.size)
    mean = float(d.mean()) if n else math.nan
    if n >= 2:
        se = float(d.std(ddof=1)) / math.sqrt(n)
        t = mean / se if se > 0 else (math.copysign(math.inf, mean) if mean else 0.0)
    else:
        se = t = math.nan
    # no interval below 3 seeds (with 2 the 95% interval is +-12.7 standard errors)
    half = float(stats.t.ppf(0.975, n - 1)) * se if n >= 3 else math.nan
    identical: bool | None = None
    if claim.identical_until is not None:
        from village_sim.model import METRIC_NAMES

        cols = list(METRIC_NAMES)
        early_a = ours.loc[ours["step"] <= claim.identical_until, cols].to_numpy(dtype=float)
        early_b = theirs.loc[theirs["step"] <= claim.identical_until, cols].to_numpy(dtype=float)
        identical = bool(np.array_equal(early_a, early_b, equal_nan=True))
    return ClaimResult(scenario.id, control.id, claim, seeds, a, b, mean, se, t,
                       mean - half, mean + half, n, identical)
