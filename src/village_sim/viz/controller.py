"""The live app's state: the model(s), their history, settings validation, stepping, pictures.

Pure Python, no Solara: the page (:mod:`village_sim.app`) only calls a :class:`Controller`
and shows what it returns, so everything here is tested without a browser, and
``benchmarks/bench_app.py`` times exactly what a step costs the server.

Side by side, the two regimes are two :class:`~village_sim.model.VillageModel` built from the
same seed: the same village and the same shocks (common random numbers, ../shared/DESIGN.md
§4), so every difference between the pictures is governance. They share one clan layout, so a
household sits at the same place in both, and they step together under one lock.

With a teaching scenario, side by side is the scenario against its control (``control = ...``
in the scenario file): the left run is the scenario — its regime, parameters and events — and
the right run the control scenario with *its own* regime, parameters and events, on the same
seed, exactly the pair whose claim ``village_sim.scenario.measure_claim`` measures. A
parameter typed in the form goes to both sides unless it is part of the scenario's treatment
(scenario and control set it differently); then the control keeps its own value.

"What the committee sees": the committee's income estimates (``model.committee.estimate``,
refreshed at each yearly review) against the poverty line, and the list it proposed at the
last identification (from ``model.decision_log()``). The truth: pre-transfer income y against
the line, and the register.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from village_sim.codes import ACTOR_TEXT, OUTCOME_TEXT, REASON_TEXT, Actor, Outcome, Reason
from village_sim.events import Event
from village_sim.i18n import Catalog
from village_sim.model import METRIC_NAMES, VillageModel, normalize_rng
from village_sim.params import PARAM_BY_NAME, REGIMES, ParameterError, resolve_parameters
from village_sim.state import NEVER
from village_sim.village import Cause
from village_sim.viz.charts import (
    CHARTS,
    KEY_CHARTS,
    MetricChart,
    Series,
    StoryChart,
    any_metric_spec,
)
from village_sim.viz.figure import PROJECTOR_TEXT_PT, display_scale
from village_sim.viz.network import (
    ClanLayout,
    LegendEntry,
    NetworkPicture,
    Status,
    clan_layout,
    legend_entries,
    status_codes,
)

__all__ = [
    "APP_PARAMETERS",
    "DEFAULT_ANY_METRIC",
    "EVENT_LABELS",
    "MAX_APP_HOUSEHOLDS",
    "SIZE_BY",
    "TABLE_METRICS",
    "VIEWS",
    "Controller",
    "Frame",
    "HouseholdStory",
    "Run",
    "Settings",
    "SettingsError",
    "RateMeter",
    "Side",
    "control_overrides",
    "event_effect",
    "parse_settings",
    "plan_sides",
    "decision_rows",
    "parse_value",
    "pending_fields",
    "scenario_settings",
]

APP_PARAMETERS: tuple[str, ...] = (
    "n_households",
    "favoritism",
    "amount_favoritism",
    "diversion_propensity",
    "quota",
    "committee_noise",
    "audit_probability",
    "sanction",
    "team_visits_per_month",
    "cooptation",
    "exit_pressure",
    "budget_per_household",
)
"""The parameters the app offers (others keep their defaults; the CLI takes them all)."""

MAX_APP_HOUSEHOLDS = 2000
"""The live app draws every household; larger villages belong to the command line."""

EVENT_LABELS: dict[str, str] = {
    "team_leaves": "team leaves",
    "team_arrives": "team arrives",
    "flood": "flood",
    "illness_outbreak": "illness outbreak",
    "audit_now": "audit now",
    "budget_cut": "budget halved",
}
"""The instructor's events (village_sim.events.EVENT_KINDS) and their button labels."""

VIEWS = ("truth", "committee")
SIZE_BY = ("income", "aid")

TABLE_METRICS: tuple[tuple[str, str], ...] = (
    ("kin_premium", "kin premium (registration)"),
    ("amount_kin_premium", "kin premium (aid amount, ratio)"),
    ("diverted_share", "diverted share (12 months)"),
    ("coverage", "coverage of the poor"),
    ("exclusion_error", "exclusion error"),
    ("inclusion_error_leakage", "leakage: registered not poor"),
    ("mistargeting", "mistargeting"),
    ("poverty_headcount", "poverty headcount"),
    ("approval", "approval (yearly survey)"),
    ("mean_trust", "mean trust"),
    ("registered_count", "registered households"),
    ("team_active", "work team in the village"),
)
"""Rows of the table of current values: metric name and English label (the page shows the
metric's name from ``village_sim.i18n`` in the chosen language)."""

DEFAULT_ANY_METRIC = "perceived_detection"
"""The metric the last chart draws until the user picks another (any of ``METRIC_NAMES``)."""


class SettingsError(ValueError):
    """Bad settings, all of them (not the first).

    Attributes:
        messages: One English line per bad input (the API's and the CLI's format).
        problems: The same inputs as :class:`~village_sim.params.ParameterError`, for the page
            to say in the reader's language with the field's label
            (:meth:`village_sim.i18n.Catalog.problem`); a message with no structured
            counterpart (a scenario file that cannot be read) is a problem of rule ``"other"``.
    """

    def __init__(self, messages: Sequence[str | ParameterError]):
        self.problems = [m if isinstance(m, ParameterError)
                         else ParameterError(m, "", m, "other") for m in messages]
        self.messages = [str(p) for p in self.problems]
        super().__init__("; ".join(self.messages))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


@dataclass(frozen=True)
class Settings:
    """What the user typed or chose: regimes, seed and parameter texts.

    Attributes:
        regime: The regime shown (left when side by side).
        compare_regime: The second regime (right), used when ``side_by_side``.
        side_by_side: Run two regimes on the same village and seed.
        seed: The seed as typed (a whole number).
        parameters: Parameter name -> text as typed; missing or blank means the default.
        events: Scheduled events (e.g. a scenario's) of the left run, and of the right run
            unless a scenario is compared with its control.
        scenario: The teaching scenario these settings came from (its id, or the path of a
            trainer's own file), or None. Side by side, the right run is then its control
            (see :func:`plan_sides`) and ``compare_regime`` is not used.
        lang: The convention the parameter texts are typed in (Vietnamese: decimal comma).
    """

    regime: str = "committee_only"
    compare_regime: str = "team_and_committee"
    side_by_side: bool = False
    seed: str = "1"
    parameters: Mapping[str, str] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    scenario: str | None = None
    lang: str = "en"


def parameter_text(value: Any, lang: str = "en") -> str:
    """A parameter value as the app's text boxes show it (``parse_value`` reads it back).

    In Vietnamese a decimal comma (``0,5``).
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return Catalog(lang).number(value) if isinstance(value, float) else str(value)


def scenario_settings(ref: str, side_by_side: bool = False, seed: str = "1",
                      lang: str = "en") -> Settings:
    """The settings of a teaching scenario (``village_sim.scenario``).

    Its regime, parameter overrides and scheduled events; its control's regime is the second
    regime. Side by side, the control runs with its own parameters and events too
    (:func:`plan_sides`).

    Raises:
        village_sim.scenario.ScenarioError: for an unknown scenario.
    """
    from village_sim.scenario import load_control, load_scenario, scenario_ref

    scenario = load_scenario(ref)
    control = load_control(scenario)
    return Settings(
        regime=scenario.regime, compare_regime=control.regime, side_by_side=side_by_side,
        seed=seed,
        parameters={k: parameter_text(v, lang) for k, v in scenario.overrides().items()},
        events=tuple(scenario.events),
        scenario=scenario_ref(scenario), lang=Catalog(lang).lang,
    )


def parse_value(name: str, text: str, lang: str = "en") -> Any:
    """Turn the text typed for parameter ``name`` into a validated value.

    ``lang`` is the convention it is typed in: in Vietnamese ``0,5`` is 0.5.

    Raises:
        ValueError: naming the parameter, the value and the allowed range (params.py's
            format), or for a village too large to draw live.
    """
    param = PARAM_BY_NAME[name]
    raw = Catalog(lang).read_number(text)
    value: Any = raw
    if param.kind == "optional_int" and raw.lower() in ("", "none"):
        value = None
    elif param.kind == "bool":
        value = {"true": True, "false": False}.get(raw.lower(), raw)
    else:
        for convert in (int, float):
            try:
                value = convert(raw)
                break
            except ValueError:
                continue
    value = param.validate(value)
    if name == "n_households" and value > MAX_APP_HOUSEHOLDS:
        raise ParameterError(
            f"parameter 'n_households': got {value!r}; allowed in the live app: at most "
            f"{MAX_APP_HOUSEHOLDS} (it draws every household; use 'village-sim run' for more)",
            name, value, "live_max", other_value=MAX_APP_HOUSEHOLDS,
        )
    return value


def _typed(name: str, text: str, lang: str = "en") -> Any:
    """What a typed text means: its value where valid (blank: the default), else the text."""
    if not text.strip() and PARAM_BY_NAME[name].kind != "optional_int":
        return PARAM_BY_NAME[name].default
    try:
        return parse_value(name, text, lang)
    except ValueError:
        return text.strip()


def pending_fields(settings: Settings, seed: str, parameters: Mapping[str, str],
                   lang: str | None = None) -> list[str]:
    """The inputs whose typed text differs from the running ``settings``: they wait for Restart.

    Compared by meaning, not by spelling: ``0.50`` is ``0.5`` (and ``0,5`` in Vietnamese), a
    blank box is the default. ``lang``: the convention of the typed texts (default: that of
    ``settings``).

    Returns:
        ``"seed"`` and parameter names, in the order given.
    """
    changed = []
    running_seed: Any = settings.seed.strip()
    typed_seed: Any = seed.strip()
    try:
        running_seed, typed_seed = int(running_seed), int(typed_seed)
    except ValueError:
        pass  # compared as texts
    if typed_seed != running_seed:
        changed.append("seed")
    for name, text in parameters.items():
        if name not in PARAM_BY_NAME:
            continue
        running = settings.parameters.get(name)
        before = PARAM_BY_NAME[name].default if running is None \
            else _typed(name, running, settings.lang)
        if _typed(name, text, lang or settings.lang) != before:
            changed.append(name)
    return changed


def parse_settings(settings: Settings) -> tuple[list[str], int, dict[str, Any]]:
    """Validate settings: the regimes to run, the seed and the parameter overrides.

    Returns:
        (regimes, seed, overrides).

    Raises:
        SettingsError: listing every bad input, each message naming the input, the value and
            what is allowed.
    """
    errors: list[ParameterError] = []
    regimes = [settings.regime]
    if settings.side_by_side:
        regimes.append(settings.compare_regime)
    for regime in regimes:
        if regime not in REGIMES:
            errors.append(ParameterError(
                f"regime: got {regime!r}; allowed: one of " + ", ".join(REGIMES),
                "regime", regime, "regime"))
    seed = 0
    try:
        parsed = normalize_rng(settings.seed)
        # normalize_rng checks the sign of ints but returns a numeric string's int unchecked
        if not isinstance(parsed, int) or parsed < 0:
            raise ValueError(f"parameter 'rng': got {parsed!r}; allowed: a whole number >= 0")
        seed = parsed
    except ValueError as err:
        errors.append(ParameterError(f"seed: {err}", "seed", settings.seed.strip(), "seed"))
    overrides: dict[str, Any] = {}
    for name, text in settings.parameters.items():
        if name not in PARAM_BY_NAME:
            errors.append(ParameterError(f"unknown parameter {name!r}", name, name, "unknown"))
            continue
        if not text.strip() and PARAM_BY_NAME[name].kind != "optional_int":
            continue  # blank: the default
        try:
            overrides[name] = parse_value(name, text, settings.lang)
        except ParameterError as err:
            err.value = text.strip()  # the page repeats what was typed, not its parse
            errors.append(err)
    if not errors:
        for regime in dict.fromkeys(regimes):
            try:
                resolve_parameters(regime=regime, **overrides)
            except ParameterError as err:
                errors.append(err)
                break
    if errors:
        raise SettingsError(errors)
    return regimes, seed, overrides


SIDE_ROLES = ("regime", "scenario", "control")
"""What a run of the page is: a regime in free play, a teaching scenario, or its control."""


@dataclass(frozen=True)
class Side:
    """One run of the page: what it runs and what it is called.

    Attributes:
        regime: Its regime.
        overrides: Its parameter overrides (validated).
        events: Its scheduled events.
        role: One of :data:`SIDE_ROLES`.
        scenario: The scenario it runs (role ``"scenario"``) or the control scenario (role
            ``"control"``), by id or path; None in free play.
    """

    regime: str
    overrides: Mapping[str, Any]
    events: tuple[Event, ...] = ()
    role: str = "regime"
    scenario: str | None = None

    def __post_init__(self) -> None:
        if self.role not in SIDE_ROLES:
            raise ValueError(f"role: got {self.role!r}; allowed: one of {', '.join(SIDE_ROLES)}")
        if self.role != "regime" and self.scenario is None:
            raise ValueError(f"scenario: got None; allowed: the scenario a {self.role!r} "
                             "run runs")


def control_overrides(scenario: Any, control: Any, overrides: Mapping[str, Any]
                      ) -> dict[str, Any]:
    """The control's parameter overrides, given what the form set for the scenario.

    The control's own overrides, plus every value of ``overrides`` for a parameter that is not
    part of the scenario's treatment, i.e. that the scenario and its control resolve to the same
    value (the village size, say): a trainer who shrinks the village shrinks both. Where they
    differ (``favoritism`` in "A fair committee"), the control keeps its own value.
    """
    ours = resolve_parameters(**scenario.parameters).as_dict()
    theirs = resolve_parameters(**control.parameters).as_dict()
    out = dict(control.overrides())
    for name, value in overrides.items():
        if ours[name] == theirs[name]:
            out[name] = value
    return out


def plan_sides(settings: Settings) -> tuple[int, list[Side]]:
    """Validate settings and say what each run of the page is, left to right.

    Free play: one run per regime, all with the form's parameters and events. A scenario: its
    regime, the form's parameters and its events; side by side, its control on the right with
    the control's own regime, parameters and events (:func:`control_overrides`).

    Returns:
        (seed, sides).

    Raises:
        SettingsError: as :func:`parse_settings`, or for a scenario that cannot be loaded.
    """
    regimes, seed, overrides = parse_settings(settings)
    events = tuple(settings.events)
    if settings.scenario is None:
        return seed, [Side(r, overrides, events) for r in regimes]
    from village_sim.scenario import load_control, load_scenario, scenario_ref

    try:
        scenario = load_scenario(settings.scenario)
        control = load_control(scenario) if settings.side_by_side else None
    except ValueError as err:
        raise SettingsError([str(err)]) from None
    sides = [Side(regimes[0], overrides, events, "scenario", settings.scenario)]
    if control is not None:
        theirs = control_overrides(scenario, control, overrides)
        try:
            resolve_parameters(regime=control.regime, **theirs)
        except ValueError as err:
            raise SettingsError([f"control {control.id!r}: {err}"]) from None
        sides.append(Side(control.regime, theirs, tuple(control.events), "control",
                          scenario_ref(control)))
    return seed, sides


REASON_KEYS: dict[str, str] = {
    "already": "app.reason_already",
    "no_team": "app.reason_no_team",
    "team_there": "app.reason_team_there",
    "team_gone": "app.reason_team_gone",
}
"""Why an event does not act (:func:`event_effect`) -> the message saying so."""


def event_effect(model: VillageModel, kind: str) -> str | None:
    """Why an instructor's event due next month would change nothing in ``model``, or None.

    Returns:
        ``"already"`` (the same event is already due next month: a double click),
        ``"no_team"`` (a team event in a regime with neither a team nor its money),
        ``"team_there"`` (the team would arrive while it is in the village) or
        ``"team_gone"`` (the team would leave when it is not there and will not come);
        None if the event acts.
    """
    month = model.steps + 1
    if any(e.month == month and e.kind == kind for e in model.events):
        return "already"
    if kind not in ("team_arrives", "team_leaves"):
        return None
    p = model.p
    if not (p.team_present or p.resource_mobilization):
        return "no_team"  # the team window moves nothing (allocation.py, state.team_active)
    arrives = int(model.team_arrives)
    leaves = math.inf if model.team_leaves is None else int(model.team_leaves)
    if kind == "team_arrives" and arrives <= month < leaves:
        return "team_there"
    if kind == "team_leaves" and not max(arrives, month) < leaves:
        return "team_gone"
    return None


class RateMeter:
    """The months per second actually played (the page may draw slower than asked).

    Args:
        window: Steps averaged over.
    """

    def __init__(self, window: int = 8):
        self._times: deque[float] = deque(maxlen=window)

    def reset(self) -> None:
        """Forget the steps timed so far (play was paused)."""
        self._times.clear()

    def tick(self, when: float) -> None:
        """A month was played at time ``when`` (seconds, e.g. ``time.perf_counter()``)."""
        self._times.append(when)

    @property
    def rate(self) -> float | None:
        """Months per second over the last steps (None until three have been timed)."""
        if len(self._times) < 3 or self._times[-1] <= self._times[0]:
            return None
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


# ---------------------------------------------------------------------------- one regime
@dataclass
class HouseholdStory:
    """Everything the inspector shows about one household under one regime.

    Attributes:
        regime: The regime.
        facts: Label -> value (text), in display order.
        decisions: Its registration decisions (household_id dropped).
        cadre_ties: Cadre households it is tied to by kinship.
        income: Its pre-transfer per-capita income y by month (yuan per person per year).
        aid: Aid it received each month (yuan).
    """

    regime: str
    facts: dict[str, str]
    decisions: pd.DataFrame
    cadre_ties: list[int]
    income: np.ndarray
    aid: np.ndarray
    label: str = ""
    """What the page calls this run (short regime name, or scenario / control)."""


class Run:
    """One regime on one village: the model, what it has been through, and its picture.

    Args:
        side: What it runs (regime, overrides, events) and what it is (:class:`Side`).
        seed: The seed (the same seed gives the same village and shocks in every regime).
        share: Another run whose layout this one shares if its village is the same at month 0
            (same clans, cadres and cadre kin: the same seed and village parameters), so a
            household sits at the same place in both pictures; otherwise its own layout.
        lang: Language of the picture.
        scale: Image pixels per CSS pixel (the display's pixel ratio).
        fit: None, or the CSS size the picture is shown at in projector mode
            (:meth:`set_lang`).
        model: A village already built (and maybe stepped elsewhere: a county's village) to
            show instead of building one from ``side`` and ``seed``; its per-household history
            starts at its current month.
    """

    def __init__(self, side: Side, seed: int, share: Run | None = None, lang: str = "en",
                 scale: float = 1.0, fit: tuple[int, int] | None = None,
                 model: VillageModel | None = None):
        self.side = side
        self.scale = scale
        self.regime = side.regime
        self.seed = seed
        if model is None:
            model = VillageModel(rng=seed, regime=side.regime, events=list(side.events),
                                 **side.overrides)
        self.model = model
        self.village_key = (model.clan.tobytes(), model.cadre.tobytes(),
                            model.cadre_kin.tobytes())
        """The village at month 0: runs with the same key share one layout."""
        self.layout: ClanLayout = share.layout if (
            share is not None and share.village_key == self.village_key) else clan_layout(
            model.clan, model.cadre, model.cadre_kin)
        self.shown = np.full(model.n, int(Status.UNKNOWN), dtype=np.int8)
        """The statuses the picture last showed."""
        self.set_lang(lang, fit=fit)
        # per-household history, recorded by the app (the model keeps only 12 months)
        self.income: list[np.ndarray] = [model.per_capita_income().copy()]
        self.aid: list[np.ndarray] = [np.zeros(model.n)]
        self._aid_total = model.aid_received.copy()
        self._log: tuple[int, pd.DataFrame] | None = None

    def label_in(self, lang: str) -> str:
        """What the page calls this run in ``lang``.

        The regime's short name in free play; "Scenario: …" and "Control: …" with the
        scenarios' short labels.
        """
        _ = Catalog(lang)
        side = self.side
        if side.role == "regime":
            return _.regime_short(self.regime)
        from village_sim.scenario import load_scenario

        title = load_scenario(side.scenario).text(_.lang).label  # type: ignore[arg-type]
        return _("app.side_scenario" if side.role == "scenario" else "app.side_control",
                 title=title)

    def set_lang(self, lang: str, scale: float | None = None,
                 fit: tuple[int, int] | None = None) -> None:
        """Draw the network picture in ``lang`` from now on (a new figure).

        ``scale``, if given: the display's pixel ratio (image pixels per CSS pixel). ``fit``:
        None for the usual picture (title, counts and key inside it), or the CSS size it is
        shown at in projector mode (the village alone, its text at
        :data:`~village_sim.viz.figure.PROJECTOR_TEXT_PT`).
        """
        model = self.model
        self._ = Catalog(lang)
        if scale is not None:
            self.scale = scale
        self.label = self.label_in(self._.lang)
        width, height = fit or (640, 600)
        self.picture = NetworkPicture(self.layout, model.kin, model.cadre, model.cadre_kin,
                                      team_size=model.p.team_size, lang=self._.lang,
                                      scale=self.scale, width_px=width, height_px=height,
                                      text_pt=None if fit is None else PROJECTOR_TEXT_PT)

    @property
    def month(self) -> int:
        """Months simulated."""
        return int(self.model.steps)

    def step(self) -> None:
        """Advance one month and record each household's income and aid."""
        model = self.model
        model.step()
        self.income.append(model.per_capita_income().copy())
        self.aid.append(model.aid_received - self._aid_total)
        self._aid_total = model.aid_received.copy()

    def history(self) -> dict[str, list[float]]:
        """Metric name -> values by month (month 0 first), from the model's DataCollector."""
        return self.model.datacollector.model_vars

    def decision_log(self) -> pd.DataFrame:
        """The model's decision log, built at most once a month."""
        if self._log is None or self._log[0] != self.month:
            self._log = (self.month, self.model.decision_log())
        return self._log[1]

    def committee_list(self) -> np.ndarray | None:
        """Households the committee proposed at the last identification (None: it proposed none).

        The committee proposes nobody before month 1, and never when the team lists alone
        (``team_alone``).
        """
        if not self.model.identified:
            return None
        log = self.decision_log()
        last = 12 * ((self.month - 1) // 12) + 1  # identification months: 1, 13, 25, ...
        rows = log[(log["month"] == last) & (log["proposed_by"] == "committee")]
        if rows.empty:
            return None
        listed = np.zeros(self.model.n, dtype=bool)
        listed[rows["household_id"].to_numpy(dtype=np.int64)] = True
        return listed

    def status(self, view: str) -> np.ndarray:
        """The :class:`~village_sim.viz.network.Status` of each household in a view.

        ``"truth"``: y against the line, and the register. ``"committee"``: the committee's
        estimate against the line, and the list it proposed (the register if it proposed none);
        everybody is "not assessed" before the first yearly review.
        """
        model = self.model
        z = model.p.poverty_line
        if view == "truth":
            return status_codes(model.per_capita_income() < z, model.registered)
        if not model.identified:
            return np.full(model.n, Status.UNKNOWN, dtype=np.int8)
        listed = self.committee_list()
        if listed is None:
            listed = model.registered
        return status_codes(model.committee.estimate < z, listed)

    def sizes(self, size_by: str) -> np.ndarray:
        """Relative marker sizes: income per person, or aid received (1 = typical)."""
        model = self.model
        if size_by == "aid":
            aid = model.aid_received
            top = float(aid.max())
            return 0.45 + 1.15 * np.sqrt(aid / top) if top > 0 else np.full(model.n, 0.45)
        y = model.per_capita_income()
        typical = float(np.median(y)) or 1.0
        return np.sqrt(np.maximum(y, 0.0) / typical)

    def team_state(self) -> str:
        """``"active"``, ``"left"``, ``"not yet"`` (arrives later) or ``"absent"`` (no team)."""
        model = self.model
        if not model.p.team_present:
            return "absent"
        if model.team_active:
            return "active"
        return "not yet" if model.steps < model.team_arrives else "left"

    def counts(self, status: np.ndarray) -> dict[int, int]:
        """Households in each status."""
        return {s: int(np.sum(status == s)) for s in range(len(Status))}

    def counts_line(self, view: str, status: np.ndarray) -> str:
        """The line under the picture's title: how many registered, missed, ... this month."""
        _ = self._
        c = self.counts(status)
        if view == "truth":
            return _("app.subtitle_truth", registered=int(self.model.registered.sum()),
                     missed=c[Status.POOR_MISSED], wrong=c[Status.NOT_POOR_LISTED])
        if c[Status.UNKNOWN]:
            return _("app.subtitle_unknown")
        truth = self.status("truth")
        return _("app.subtitle_committee", parted=int(np.sum(truth != status)))

    def render(self, view: str, size_by: str, selected: int | None) -> tuple[bytes, str]:
        """The network picture this month (PNG bytes), and its line of counts."""
        _ = self._
        status = self.shown = self.status(view)
        counts = self.counts_line(view, status)
        png = self.picture.render(
            status, self.sizes(size_by), view=view,
            size_label=_("app.aid_received") if size_by == "aid" else _("app.income_per_person"),
            team_state=self.team_state(), selected=selected,
            title=_("app.network_title", regime=self.label, month=self.month),
            subtitle=counts)
        return png, counts

    def story(self, household: int) -> HouseholdStory:
        """What happened to one household under this regime (see :class:`HouseholdStory`)."""
        model = self.model
        i = int(household)
        kin = model.kin
        ties = kin.indices[kin.indptr[i]:kin.indptr[i + 1]]
        cadre_ties = [int(j) for j in ties if model.cadre[j]]
        _ = self._  # the facts in the picture's language (labels and values)
        if model.cadre[i]:
            role = _("story.role_cadre")
        elif model.cadre_kin[i]:
            role = _("story.role_kin")
        elif model.cadre_friend[i]:
            role = _("story.role_friend")
        else:
            role = _("story.role_none")
        helper = int(model.helper[i])
        visited = int(model.team.visit_month[i])
        y = float(model.per_capita_income()[i])

        def yuan(amount: float) -> str:
            return _("story.yuan", amount=_.number(amount, ",.0f"))

        def yes(flag: Any) -> str:
            return _("app.yes") if flag else _("app.no")

        facts = {
            _("story.clan"): str(int(model.clan[i]) + 1),
            _("story.persons"): str(int(model.persons[i])),
            _("story.ties"): role,
            _("story.income"): yuan(y),
            _("story.poor"): yes(y < model.p.poverty_line),
            _("story.registered"): yes(model.registered[i]),
            _("story.aid"): yuan(float(model.aid_received[i])),
            _("story.diverted"): yuan(float(model.diverted_received[i])),
            _("story.cause"): _.cause(Cause(int(model.cause[i])).name.lower()),
            _("story.helper"): _("story.helper_n", n=helper + 1) if helper >= 0
            else _("app.none"),
            _("story.last_visit"): _("story.month_n", month=visited) if visited > NEVER
            else _("story.never"),
            _("story.measures"): str(int(model.measures_received[i])),
            _("story.trust"): _.number(float(model.trust[i]), ".2f"),
        }
        log = self.decision_log()
        decisions = log[log["household_id"] == i].drop(columns="household_id")
        return HouseholdStory(
            regime=self.regime, facts=facts, decisions=decisions.reset_index(drop=True),
            cadre_ties=cadre_ties, income=np.array([h[i] for h in self.income]),
            aid=np.array([a[i] for a in self.aid]), label=self.label,
        )


DECISION_COLUMNS = {"year": "story.year", "month": "story.month",
                    "proposed_by": "story.proposed_by", "challenged_by": "story.challenged_by",
                    "outcome": "story.outcome", "reason": "story.reason"}
"""Decision-log columns -> their heading's message."""

_ACTORS = {text: actor.name.lower() for text, actor in zip(ACTOR_TEXT, Actor, strict=True)}
_OUTCOMES = {text: o.name.lower() for text, o in zip(OUTCOME_TEXT, Outcome, strict=True)}
_REASONS = {text: r.name.lower() for text, r in zip(REASON_TEXT, Reason, strict=True)}


def decision_rows(decisions: pd.DataFrame, lang: str) -> tuple[list[str], list[list[str]]]:
    """A household's decisions (``HouseholdStory.decisions``) as a table in ``lang``.

    The log's words (``village_sim.codes``) become the catalog's: who proposed or challenged,
    the outcome and the reason.

    Returns:
        (header, rows).
    """
    _ = Catalog(lang)

    def word(column: str, value: Any) -> str:
        text = "" if value is None else str(value)
        if column in ("proposed_by", "challenged_by"):  # "" (nobody) stays empty
            return _.actor(_ACTORS[text]) if text else ""
        if column == "outcome":
            return _.outcome(_OUTCOMES[text])
        if column == "reason":
            return _.reason(_REASONS[text]) if text in _REASONS else text
        return text

    columns = list(decisions.columns)
    header = [_(DECISION_COLUMNS[c]) if c in DECISION_COLUMNS else c for c in columns]
    rows = [[word(c, v) for c, v in zip(columns, row, strict=True)]
            for row in decisions.itertuples(index=False)]
    return header, rows


# ---------------------------------------------------------------------------- the app state
@dataclass(frozen=True)
class Frame:
    """What the page shows after a month: pictures and the table.

    Attributes:
        version: The controller's version it shows (frames of different versions differ,
            even when the pictures are the same, e.g. after an event is scheduled).
        month: Months simulated.
        networks: One network PNG per regime.
        charts: Chart key -> PNG.
        table: Rows (label, value per regime[, difference]).
        header: Column titles of the table.
        counts: Per network, its line of counts (registered, missed, ...), which the
            projector page shows above the picture.
        key: The networks' key (the statuses shown, cadre, kin, team, tie), which the
            projector page shows once below both pictures.
        key_title: What marker size shows (the key's title).
        text_px: Per picture (``network-0``, ``chart-kin_premium``, ...), its smallest text
            in CSS pixels when shown at its drawn size.
        css_width: Per picture, the width in CSS pixels it is drawn for (its image has the
            display's pixel ratio times as many pixels).
    """

    version: int
    month: int
    networks: list[bytes]
    charts: dict[str, bytes]
    table: list[list[str]]
    header: list[str]
    counts: list[str] = field(default_factory=list)
    key: list[LegendEntry] = field(default_factory=list)
    key_title: str = ""
    text_px: dict[str, float] = field(default_factory=dict)
    css_width: dict[str, int] = field(default_factory=dict)


def _fmt(metric: str, value: float, lang: str = "en") -> str:
    _ = Catalog(lang)
    if not math.isfinite(value):
        return _("app.undefined")
    if metric == "registered_count":
        return _.number(value, ".0f")
    if metric == "team_active":
        return _("app.yes" if value else "app.no")
    if metric == "amount_kin_premium":
        return _.number(value, "+,.0f")
    return _.number(value, ".3f")


FIT_LIMITS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "network": ((160, 160), (2400, 2400)),
    "chart": ((160, 64), (2400, 1200)),
}
"""Smallest and largest CSS box (width, height) a projector picture is drawn for."""


class Controller:
    """The app's state for one browser session (or one notebook cell).

    Every method that reads or changes the models holds :attr:`lock`, so a play loop in a
    thread and the page's events can call it concurrently.

    Args:
        settings: Initial settings (default: ``Settings()``).
        lang: Language of the pictures, the table and the texts (``zh``, ``vi`` or ``en``).

    Attributes:
        runs: One :class:`Run` per regime, left to right.
        charts: The metric charts (one figure each, shared by the regimes).
        settings: The settings in force (the last that validated).
        seed: Their seed, as an int.
        overrides: Their parameter overrides, validated.
        version: Incremented at every change (step, event, new settings); pictures are
            cached until it changes.
        village: Incremented whenever the runs are rebuilt.
        lang: The language in force (see :meth:`set_lang`).
        instructor: The instructor's events so far (:meth:`trigger`), replayed in a run added
            while teaching (:meth:`apply` with ``keep_month``).
        notices: What the last event button could not do (until the next month).
        meter: The months per second actually played (the page's play loop ticks it).

    Raises:
        SettingsError: if the initial settings are bad.
    """

    def __init__(self, settings: Settings | None = None, lang: str = "en"):
        self.lang = Catalog(lang).lang
        self.scale = 1.0  # image pixels per CSS pixel (set_scale: the display's pixel ratio)
        self.projector = False  # set_projector: pictures drawn at their shown size
        self.fits: dict[str, tuple[int, int]] = {}  # fit: the CSS box of each kind of picture
        self.lock = threading.RLock()
        self.runs: list[Run] = []
        self.charts: list[MetricChart] = []
        self.any_metric = DEFAULT_ANY_METRIC
        self.version = 0
        self.drawn_version = -1  # the version of the last frame drawn (the page is behind if less)
        self.village = 0
        self._frame: tuple[tuple[Any, ...], Frame] | None = None
        self._story_chart: tuple[tuple[int, int, str, float], StoryChart] | None = None
        self._story_png: tuple[tuple[int, int], bytes] | None = None
        self.instructor: list[Event] = []
        self.notices: list[str] = []
        self.meter = RateMeter()
        self.apply(settings or Settings())

    # ------------------------------------------------------------------ settings
    def apply(self, settings: Settings, keep_month: bool = False) -> None:
        """Validate settings and start over with them (a new village from the seed).

        Args:
            settings: The new settings.
            keep_month: Stay at the current month (switching side by side or a regime while
                teaching): a run whose side is unchanged goes on as it is; a new run is
                replayed from month 0 with the instructor's events so far, each where it acts
                (:func:`event_effect`), exactly as if it had run alongside from the start.

        Raises:
            SettingsError: listing every bad input; the running simulation is kept.
        """
        seed, sides = plan_sides(settings)
        with self.lock:
            keep = keep_month and bool(self.runs)
            target = self.month if keep else 0
            old = [run for run in self.runs if run.seed == seed] if keep else []
            runs: list[Run] = []
            for side in sides:
                same = next((run for run in old if run.side == side), None)
                if same is not None:
                    old.remove(same)
                    runs.append(same)
                    continue
                run = Run(side, seed, share=runs[0] if runs else None, lang=self.lang,
                          scale=self.scale, fit=self._fit("network"))
                self._replay(run, target)
                runs.append(run)
            if not keep:
                self.instructor = []
            self.runs = runs
            self.settings = settings
            self.seed = seed
            self.overrides = dict(sides[0].overrides)
            self.charts = self._charts(self.lang)
            self.notices = []
            self._frame = None
            self._story_png = None
            self.version += 1
            self.village += 1

    def _replay(self, run: Run, months: int) -> None:
        """Step a new run to ``months`` with the instructor's events so far, where they act."""
        for month in range(1, months + 1):
            for event in self.instructor:
                if event.month == month and event_effect(run.model, event.kind) is None:
                    run.model.trigger(event.kind)
            run.step()

    def _charts(self, lang: str) -> list[MetricChart]:
        specs = [*CHARTS, any_metric_spec(self.any_metric)]
        labels = [run.label_in(lang) for run in self.runs]
        fit = self._fit("chart")
        return [MetricChart(spec, labels, lang=lang, scale=self.scale)
                if fit is None or spec.key not in KEY_CHARTS else
                MetricChart(spec, labels, lang=lang, scale=self.scale, width_px=fit[0],
                            height_px=fit[1], text_pt=PROJECTOR_TEXT_PT)
                for spec in specs]

    def _fit(self, kind: str) -> tuple[int, int] | None:
        """The CSS size pictures of ``kind`` are drawn at: in projector mode, once reported."""
        return self.fits.get(kind) if self.projector else None

    def _drawn(self) -> tuple[dict[str, float], dict[str, int]]:
        """Per picture: its smallest text and its width in CSS pixels (text_px, css_width)."""
        pictures = {f"network-{i}": run.picture.fig for i, run in enumerate(self.runs)}
        pictures.update({f"chart-{chart.spec.key}": chart.fig for chart in self.charts})
        return ({name: fig.text_px() for name, fig in pictures.items()},
                {name: round(fig.size()[0] / fig.scale) for name, fig in pictures.items()})

    def set_any_metric(self, name: str) -> None:
        """Draw metric ``name`` (any of ``METRIC_NAMES``) in the last chart; the run goes on.

        Raises:
            ValueError: for a name that is not a metric of the model.
        """
        if name not in METRIC_NAMES:
            raise ValueError(f"metric: got {name!r}; allowed: one of {', '.join(METRIC_NAMES)}")
        with self.lock:
            if name == self.any_metric:
                return
            self.any_metric = name
            self.charts[-1] = MetricChart(any_metric_spec(name), self.labels, lang=self.lang,
                                          scale=self.scale)
            self._frame = None
            self.version += 1

    def reset(self) -> None:
        """Start over with the current settings."""
        self.apply(self.settings)

    def load_scenario(self, ref: str, side_by_side: bool | None = None) -> Settings:
        """Start over with a teaching scenario (see :func:`scenario_settings`).

        Its regime, parameters and scheduled events; the seed is kept, and side by side unless
        given.

        Returns:
            The settings now in force.
        """
        settings = scenario_settings(
            ref, self.settings.side_by_side if side_by_side is None else side_by_side,
            self.settings.seed)
        self.apply(settings)
        return settings

    def scenario(self) -> Any:
        """The teaching scenario in force (``village_sim.scenario.Scenario``), or None."""
        if self.settings.scenario is None:
            return None
        from village_sim.scenario import load_scenario

        return load_scenario(self.settings.scenario)

    def set_lang(self, lang: str) -> None:
        """Show everything in ``lang`` (``zh``, ``vi`` or ``en``) from now on.

        The pictures are drawn anew; the village and its history are kept.

        Raises:
            ValueError: for an unknown language.
        """
        code = Catalog(lang).lang
        with self.lock:
            if code == self.lang:
                return
            self.lang = code
            self._redraw_pictures()

    def set_scale(self, ratio: float) -> None:
        """Draw every picture for a display of this pixel ratio (image pixels per CSS pixel).

        The page reports ``window.devicePixelRatio``; it is rounded to a quarter and kept
        within 1-3 (a bad or absurd value from a page falls back to 1). The pictures are drawn
        anew; the village and its history are kept.
        """
        scale = display_scale(ratio)
        with self.lock:
            if scale == self.scale:
                return
            self.scale = scale
            self._redraw_pictures()

    def set_projector(self, on: bool) -> None:
        """Projector mode on or off; the village and its history are kept.

        On, the networks and the key charts are drawn at the size the page shows them
        (:meth:`fit`) with text of 14 CSS pixels, their titles, counts and key in the page;
        off, the usual pictures.
        """
        with self.lock:
            if bool(on) == self.projector:
                return
            self.projector = bool(on)
            if self.fits:
                self._redraw_pictures()

    def fit(self, kind: str, width: float, height: float) -> bool:
        """Draw pictures of ``kind`` for a box of ``width`` x ``height`` CSS pixels.

        ``kind``: ``network``, or ``chart`` (the key charts). The page reports the box it shows
        them in; in projector mode they are drawn at that size.

        Sizes are rounded down to 8 pixels and kept within sense (a box the page has not laid out
        yet, or an absurd value, is ignored), so a page resizing by a pixel does not redraw.

        Returns:
            Whether the pictures are drawn anew (the page should show the next frame).

        Raises:
            ValueError: for an unknown ``kind``.
        """
        if kind not in FIT_LIMITS:
            raise ValueError(f"kind: got {kind!r}; allowed: one of {', '.join(FIT_LIMITS)}")
        try:
            # down to 8 px: never larger than the box, or it would be shrunk (and its text)
            size = (int(float(width) // 8.0) * 8, int(float(height) // 8.0) * 8)
        except (TypeError, ValueError, OverflowError):
            return False
        (wmin, hmin), (wmax, hmax) = FIT_LIMITS[kind]
        if not (wmin <= size[0] <= wmax and hmin <= size[1] <= hmax):
            return False
        with self.lock:
            if self.fits.get(kind) == size:
                return False
            self.fits[kind] = size
            if self.projector:
                self._redraw_pictures()
            return self.projector

    def _redraw_pictures(self) -> None:
        """New figures in the language and at the scale in force; village and history kept."""
        for run in self.runs:
            run.set_lang(self.lang, self.scale, fit=self._fit("network"))
        self.charts = self._charts(self.lang)
        self._frame = None
        self._story_png = None
        self.version += 1

    @property
    def month(self) -> int:
        """Months simulated."""
        return self.runs[0].month

    @property
    def n_households(self) -> int:
        """Households in the village."""
        return int(self.runs[0].model.n)

    @property
    def regimes(self) -> list[str]:
        """The regimes running, left to right."""
        return [run.regime for run in self.runs]

    @property
    def labels(self) -> list[str]:
        """What the page calls each run, left to right, in the language in force."""
        return [run.label for run in self.runs]

    # ------------------------------------------------------------------ time
    def step(self, months: int = 1) -> None:
        """Advance every regime by ``months`` months, together."""
        with self.lock:
            for _ in range(months):
                for run in self.runs:
                    run.step()
            self.notices = []
            self.version += 1

    def trigger(self, kind: str) -> list[str]:
        """An instructor's event, next month, in every run where it acts.

        Where it would change nothing (:func:`event_effect`: a second click, a team event in a
        regime without a team, a team that is already there or already gone) it is not
        scheduled, and a notice says so.

        Returns:
            The notices (also in :attr:`notices` until the next month), one per run where the
            event does not act; empty if it acts everywhere.

        Raises:
            ValueError: for an unknown kind (one of :data:`EVENT_LABELS`).
        """
        if kind not in EVENT_LABELS:
            raise ValueError(f"event: got {kind!r}; allowed: one of {', '.join(EVENT_LABELS)}")
        _ = Catalog(self.lang)
        with self.lock:
            month = self.month + 1
            notices = []
            for run in self.runs:
                reason = event_effect(run.model, kind)
                if reason is None:
                    run.model.trigger(kind)
                else:
                    notices.append(_("app.event_no_effect", event=_.event(kind), run=run.label,
                                     reason=_(REASON_KEYS[reason], month=month)))
            if Event(month, kind) not in self.instructor:
                # remembered even where it acted nowhere: a run added later (side by side)
                # replays it where it acts, as if it had been on screen all along
                self.instructor.append(Event(month, kind))
            self.notices = notices
            self.version += 1
            return notices

    def team_leaves_now(self) -> None:
        """Event: the work team leaves next month (every regime)."""
        self.trigger("team_leaves")

    def team_arrives_now(self) -> None:
        """Event: the work team arrives next month and stays (every regime)."""
        self.trigger("team_arrives")

    def events(self) -> list[tuple[Event, list[int]]]:
        """Every event of the runs, applied or due, in month order, with the runs it is in.

        Returns:
            (event, indices of the runs it happens in) pairs.
        """
        where: dict[Event, list[int]] = {}
        for r, run in enumerate(self.runs):
            for event in [*run.model.events_applied, *run.model.events]:
                where.setdefault(event, []).append(r)
        return sorted(where.items())

    def events_text(self) -> str:
        """The events so far and still to come (one line), numbered as on the charts.

        An event that happens in only some runs names them.
        """
        _ = Catalog(self.lang)
        month = self.month
        events = self.events()
        subsets = {tuple(runs) for _event, runs in events}
        # one subset of the runs for every event (a scenario's events against its control):
        # said once at the end, not after each event
        common = next(iter(subsets)) if len(subsets) == 1 else None

        def only(runs: Sequence[int]) -> str:
            return _("app.event_only", runs=", ".join(self.runs[r].label for r in runs))

        done: list[str] = []
        due: list[str] = []
        for number, (event, runs) in enumerate(events, start=1):
            text = f"[{number}] " + _("app.event_month", event=_.event(event.kind),
                                       month=event.month)
            if common is None and len(runs) < len(self.runs):
                text += " " + only(runs)
            (done if event.month <= month else due).append(text)
        parts = []
        if done:
            parts.append(_("app.happened", events=", ".join(done[-4:])))
        if due:
            parts.append(_("app.coming", events=", ".join(due)))
        if parts and common is not None and len(common) < len(self.runs):
            parts[-1] += " " + only(common)
        return "; ".join(parts)

    def event_marks(self) -> list[tuple[int, str, int | None]]:
        """What the charts mark: (month, number, run index or None if in every run)."""
        return [(event.month, str(number), runs[0] if len(runs) < len(self.runs) else None)
                for number, (event, runs) in enumerate(self.events(), start=1)]

    # ------------------------------------------------------------------ downloads
    def _runs_table(self, table: Callable[[Run], pd.DataFrame]) -> pd.DataFrame:
        frames = []
        for index, run in enumerate(self.runs):
            frame = table(run).copy()
            leading: list[tuple[str, int | str]] = [
                ("run", index), ("role", run.side.role), ("regime", run.regime),
                ("scenario", run.side.scenario or ""), ("seed", self.seed)]
            for position, (name, value) in enumerate(leading):
                frame.insert(position, name, value)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def timeseries_table(self) -> pd.DataFrame:
        """Every run's metrics by month so far, as ``village-sim run`` writes them.

        The columns of ``timeseries.csv`` (``step`` and every metric) after ``run`` (0 left,
        1 right), ``role`` (regime / scenario / control), ``regime``, ``scenario``, ``seed``.
        """
        from village_sim.experiment import timeseries

        with self.lock:
            return self._runs_table(lambda run: timeseries(run.model))

    def decisions_table(self) -> pd.DataFrame:
        """Every run's registration decisions so far (``decisions.csv``).

        With the same leading columns as :meth:`timeseries_table`.
        """
        with self.lock:
            return self._runs_table(Run.decision_log)

    def settings_toml(self) -> str:
        """The settings in force as a ``--params`` file.

        ``village-sim run`` repeats the left run from it exactly; the header says how, and
        what it cannot repeat (the instructor's events, the right run's differences).
        """
        from village_sim.experiment import format_toml
        from village_sim.outputs import package_version

        with self.lock:
            left = self.runs[0]
            steps = max(self.month, 1)
            command = f"village-sim run --seed {self.seed} --steps {steps} --params settings.toml"
            if left.side.scenario is not None:
                command += f" --scenario {left.side.scenario}"
            header = [f"Settings of the village_sim live app (village-sim {package_version()}),"
                      f" saved at month {self.month}.",
                      "Repeat the left run (\"" + left.label_in("en") + "\") with:",
                      f"  {command}"]
            if self.instructor:
                header.append("Instructor's events, not repeated by that command: " + ", ".join(
                    f"{e.kind} in month {e.month}" for e in self.instructor) + ".")
            for index, run in enumerate(self.runs[1:], start=1):
                differs = {k: v for k, v in run.side.overrides.items()
                           if left.side.overrides.get(k, PARAM_BY_NAME[k].default) != v}
                differs |= {k: PARAM_BY_NAME[k].default for k in left.side.overrides
                            if k not in run.side.overrides}
                header.append(f"Run {index} (\"{run.label_in('en')}\"): regime {run.regime}"
                              + (f", scenario {run.side.scenario}" if run.side.scenario else "")
                              + (", otherwise as above" if not differs else ", with " + ", ".join(
                                  f"{k} = {v}" for k, v in sorted(differs.items()))) + ".")
            return format_toml({"regime": left.regime, **left.side.overrides}, header)

    # ------------------------------------------------------------------ pictures
    def frame(self, view: str = "truth", size_by: str = "income",
              selected: int | None = None) -> Frame:
        """The pictures and table of this month (cached until something changes).

        Args:
            view: ``"truth"`` or ``"committee"``.
            size_by: ``"income"`` or ``"aid"``.
            selected: The household ringed in the network, or None.
        """
        if view not in VIEWS:
            raise ValueError(f"view: got {view!r}; allowed: one of {', '.join(VIEWS)}")
        if size_by not in SIZE_BY:
            raise ValueError(f"size_by: got {size_by!r}; allowed: one of {', '.join(SIZE_BY)}")
        with self.lock:
            key = (self.version, self.lang, view, size_by, selected)
            if self._frame is not None and self._frame[0] == key:
                return self._frame[1]
            drawn = [run.render(view, size_by, selected) for run in self.runs]
            histories = [run.history() for run in self.runs]
            charts = {}
            marks = self.event_marks()
            for chart in self.charts:
                series = [Series(run.regime, {m: h[m] for m in chart.spec.metrics})
                          for run, h in zip(self.runs, histories, strict=True)]
                charts[chart.spec.key] = chart.render(series, self.month, marks)
            header, table = self.table()
            _ = Catalog(self.lang)
            text_px, css_width = self._drawn()
            # the key as the pictures draw it: the four statuses, "not assessed" before month 1
            unknown = any(np.any(run.shown == Status.UNKNOWN) for run in self.runs)
            statuses = (0, 1, 2, 3, 4) if unknown else (0, 1, 2, 3)
            frame = Frame(
                self.version, self.month, [png for png, _c in drawn], charts, table, header,
                counts=[c for _p, c in drawn],
                key=legend_entries(view, statuses, self.lang),
                key_title=_("app.marker_size", what=_(
                    "app.aid_received" if size_by == "aid" else "app.income_per_person")),
                text_px=text_px, css_width=css_width)
            self._frame = (key, frame)
            self.drawn_version = self.version
            return frame

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The current value of each metric of :data:`TABLE_METRICS`, per regime.

        Returns:
            (header, rows); side by side, a last column holds right minus left.
        """
        _ = Catalog(self.lang)
        values = [run.model.metrics() for run in self.runs]
        header = [_("app.metric"), *self.labels]
        if len(self.runs) == 2:
            header.append(_("app.difference"))
        rows = []
        undefined = _("app.undefined")
        for metric, _label in TABLE_METRICS:
            row = [_.metric(metric)] + [_fmt(metric, v[metric], self.lang) for v in values]
            if len(values) == 2 and metric != "team_active":
                diff = values[1][metric] - values[0][metric]
                text = _fmt(metric, diff, self.lang)
                row.append(text if text == undefined or text.startswith(("+", "-"))
                           else ("+" + text if diff >= 0 else text))
            elif len(values) == 2:
                row.append("")
            rows.append(row)
        return header, rows

    def household_at(self, run_index: int, x_fraction: float, y_fraction: float) -> int | None:
        """The household under a click on a network picture (fractions of its size)."""
        with self.lock:
            return self.runs[run_index].picture.household_at(x_fraction, y_fraction)

    # ------------------------------------------------------------------ inspector
    def household_label(self, household: int) -> str:
        """A one-line label of a household, for the picker."""
        _ = Catalog(self.lang)
        model = self.runs[0].model
        i = int(household)
        tag = (" · " + _("app.cadre")) if model.cadre[i] else (
            (" · " + _("app.cadre_kin")) if model.cadre_kin[i] else "")
        return _("app.household_label", id=i, clan=int(model.clan[i]) + 1) + tag

    def stories(self, household: int) -> list[HouseholdStory]:
        """The household's story under each regime."""
        if not 0 <= int(household) < self.n_households:
            raise ValueError(f"household: got {household!r}; allowed: 0 to "
                             f"{self.n_households - 1}")
        with self.lock:
            return [run.story(household) for run in self.runs]

    def story_chart(self, household: int) -> bytes:
        """The household's income per person and its aid, month by month, per regime (PNG).

        One :class:`~village_sim.viz.charts.StoryChart` per household, village and language,
        kept while the household stays open: each month only its lines and bars are drawn.
        """
        key = (self.version, int(household))
        if self._story_png is not None and self._story_png[0] == key:
            return self._story_png[1]
        stories = self.stories(household)
        with self.lock:
            which = (int(household), self.village, self.lang, self.scale)
            if self._story_chart is None or self._story_chart[0] != which:
                chart = StoryChart(household, [story.label for story in stories],
                                   self.runs[0].model.p.poverty_line, lang=self.lang,
                                   scale=self.scale)
                self._story_chart = (which, chart)
            png = self._story_chart[1].render([story.income for story in stories],
                                              [story.aid for story in stories], self.month)
            self._story_png = (key, png)
            return png
