"""The parameter schema: every parameter with its unit, range, default, meaning and source.

One table (``PARAMETERS``) is the single place where a parameter is declared. Validation,
the regime presets, the TOML loader, the CLI and ``docs/parameters.md`` all read it, in the
way scikit-learn keeps ``_parameter_constraints`` next to the estimator: constraints are data,
and one error format names the parameter, the value and what is allowed. Nothing is clamped.

Units follow ../shared/DESIGN.md §3: money in yuan; ``poverty_line`` per person per year;
``budget_per_household`` per resident household per year, released monthly; probabilities
per month where a rate is in time; times in months.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PARAMETERS",
    "REGIMES",
    "Param",
    "Parameters",
    "load_overrides",
    "parameters_markdown",
    "resolve_parameters",
]

POLICY = "Policy text (000_9f0cd288a9baeeef.txt, 2013 guideline)"


@dataclass(frozen=True)
class Param:
    """One parameter: its type, allowed range, default, unit, meaning and source.

    Attributes:
        name: Name used in code, TOML files and the CLI.
        kind: ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` or ``"optional_int"``.
        default: Default value.
        unit: Unit of measurement (``""`` for dimensionless).
        meaning: One-line meaning.
        source: Where the default comes from.
        low: Smallest allowed value (numbers), or ``None``.
        high: Largest allowed value (numbers), or ``None``.
        low_open: Whether ``low`` itself is excluded.
        choices: Allowed values for ``"choice"`` parameters.
        group: Section of docs/parameters.md.
    """

    name: str
    kind: str
    default: Any
    unit: str
    meaning: str
    source: str = "modelling assumption"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    group: str = "village"

    def allowed(self) -> str:
        """Describe the allowed values, as used in error messages and docs."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "-inf" if self.low is None else _fmt(self.low)
        hi = "inf" if self.high is None else _fmt(self.high)
        left = "(" if self.low_open or self.low is None else "["
        kind = "an integer" if self.kind in ("int", "optional_int") else "a number"
        extra = " or none (never)" if self.kind == "optional_int" else ""
        return f"{kind} in {left}{lo}, {hi}]{extra}"

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ``ValueError``.

        Raises:
            ValueError: naming the parameter, the value and what is allowed.
        """
        bad = ValueError(f"parameter {self.name!r}: got {value!r}; allowed: {self.allowed()}")
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if hasattr(value, "dtype") and value.dtype == bool:  # numpy bool from a sweep grid
                return bool(value)
            raise bad
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise bad
        if self.kind == "optional_int" and (value is None or value in ("none", "None")):
            return None  # TOML has no null: "none" is how a file says "never"
        if isinstance(value, bool) or not _is_number(value):
            raise bad
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise bad
        if self.kind in ("int", "optional_int"):
            if number != int(number):
                raise bad
            number = int(number)
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            raise bad
        if self.high is not None and number > self.high:
            raise bad
        return number if self.kind in ("int", "optional_int") else float(number)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, str)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


REGIME_NAMES = (
    "committee_only",
    "committee_plus_mobilization",
    "team_and_committee",
    "team_without_supervision",
    "team_alone",
)

ALATAS = "Alatas et al. 2012, AER, Table 3"
RUAN = "阮荣平 2021, 公共管理学报"
HAN_GAO = "Han & Gao 2019, World Development 115"

# fmt: off
_P = Param
PARAMETERS: tuple[Param, ...] = (
    # --- regime -------------------------------------------------------------------------------
    _P("regime", "choice", "team_and_committee", "", "named preset of the mechanism switches "
       "(applied first; other overrides then change single switches)", "DESIGN §3",
       choices=REGIME_NAMES, group="regime"),
    # --- village ------------------------------------------------------------------------------
    _P("n_households", "int", 300, "households", "resident households in the village",
       "a large administrative village", 10, 1_000_000),
    _P("n_clans", "int", 6, "clans", "number of clans (宗族) in the kinship network",
       "modelling assumption", 1, 10_000),
    _P("clan_concentration", "float", 1.0, "", "Zipf exponent of clan sizes: 0 gives equal clans, "
       "larger values one dominant clan", "modelling assumption", 0.0, 5.0),
    _P("kin_degree", "float", 8.0, "ties per household", "mean kinship ties to households of the "
       "same clan", "modelling assumption", 0.0, 50.0),
    _P("marriage_rate", "float", 0.5, "ties per household", "mean kinship ties by marriage to "
       "households of other clans", "modelling assumption", 0.0, 10.0),
    _P("friend_degree", "float", 2.0, "ties per household", "mean friendship ties (any clan)",
       "modelling assumption", 0.0, 20.0),
    _P("asset_inequality", "float", 0.9, "", "sigma of log productive assets (village "
       "inequality)", "modelling assumption", 0.0, 3.0),
    _P("committee_size", "int", 5, "cadres", "cadres on the village committee, each a village "
       "household", "village committees have 3-7 members", 1, 50),
    _P("poverty_line", "float", 4000.0, "yuan per person per year", "poverty line z on "
       "pre-transfer per-capita income", "national line, 2,300 yuan (2010 prices), about 4,000 "
       "in 2020", 100.0, 1e6),
    _P("wage", "float", 9500.0, "yuan per labourer per year", "market earnings of one labourer "
       "of average skill", "modelling assumption (rural wage in a poor county)", 0.0, 1e7),
    _P("asset_return", "float", 0.12, "per year", "market return on productive assets",
       "modelling assumption", 0.0, 2.0),
    _P("illness_rate", "float", 0.004, "per household per month", "probability that a healthy "
       "household falls ill (因病致贫)", "modelling assumption", 0.0, 1.0),
    _P("recovery_rate", "float", 0.02, "per month", "probability that an ill household recovers "
       "without a medical measure", "modelling assumption", 0.0, 1.0),
    _P("disaster_rate", "float", 0.01, "per month", "probability of a village disaster (flood, "
       "drought) in a month", "modelling assumption", 0.0, 1.0),
    _P("income_volatility", "float", 0.25, "", "sigma of monthly log-income noise",
       "modelling assumption", 0.0, 2.0),
    # --- budget -------------------------------------------------------------------------------
    _P("budget_per_household", "float", 1500.0, "yuan per resident household per year",
       "poverty-alleviation budget released from above, paid monthly", "modelling assumption",
       0.0, 1e6, group="budget"),
    _P("resource_mobilization", "bool", True, "", "switch: the team brings extra resources while "
       "the team window is open", POLICY + ", effect 2", group="budget"),
    _P("mobilization", "float", 0.5, "fraction of the base budget", "extra budget the team "
       "brings", POLICY + ", effect 2", 0.0, 10.0, group="budget"),
    _P("household_measures", "bool", True, "", "switch: household-specific measures (因户施策) "
       "matched to a diagnosed cause", POLICY + ", effect 3", group="budget"),
    _P("measure_share", "float", 0.3, "fraction of released money", "share of the money spent "
       "on household-specific measures", "modelling assumption", 0.0, 1.0, group="budget"),
    _P("measure_cost", "float", 2000.0, "yuan", "cost of one household-specific measure",
       "modelling assumption", 1.0, 1e7, group="budget"),
    _P("matched_return", "float", 0.6, "per year", "yearly earnings a matched measure adds per "
       "yuan spent", "modelling assumption; 阮荣平 2021 (better-matched measures)", 0.0, 5.0,
       group="budget"),
    _P("mismatched_return", "float", 0.1, "per year", "yearly earnings a mismatched measure adds "
       "per yuan spent", "modelling assumption", 0.0, 5.0, group="budget"),
    _P("development_projects", "bool", True, "", "switch: yearly infrastructure and industry "
       "projects", POLICY + ", effect 3", group="budget"),
    _P("project_share", "float", 0.2, "fraction of released money", "share of the money spent "
       "on development projects", "modelling assumption", 0.0, 1.0, group="budget"),
    _P("project_return", "float", 0.3, "per year", "yearly market income a project yields per "
       "yuan invested", "modelling assumption", 0.0, 5.0, group="budget"),
    _P("helpers", "bool", True, "", "switch: responsible helpers (帮扶责任人) for registered "
       "households", POLICY + " (every poor household a helper)", group="budget"),
    _P("helper_ratio", "float", 5.5, "registered households per helper", "households one "
       "helper follows", RUAN + " (one per 5-6 households in 2019)", 1.0, 1000.0, group="budget"),
    _P("helper_cost", "float", 300.0, "yuan per helper per month", "cost of a helper, paid by "
       "the sending agency", "modelling assumption", 0.0, 1e6, group="budget"),
    _P("team_cost", "float", 1500.0, "yuan per member per month", "cost of a team member, paid "
       "by the sending agency", "modelling assumption", 0.0, 1e6, group="budget"),
    _P("kin_exchange", "bool", True, "", "switch: households in need draw on kin with surplus",
       "modelling assumption", group="budget"),
    _P("kin_exchange_rate", "float", 0.2, "fraction of surplus", "share of a surplus a household "
       "gives to kin in need each month", "modelling assumption", 0.0, 1.0, group="budget"),
    # --- identification -----------------------------------------------------------------------
    _P("quota_control", "bool", True, "", "switch: the register is capped by a quota set from "
       "above (规模控制)", "policy (规模控制)", group="identification"),
    _P("quota", "float", 0.3, "share of households", "registered share of households",
       ALATAS + " (about a third poor)", 0.0, 1.0, group="identification"),
    _P("committee_identifies", "bool", True, "", "switch: the committee proposes the list "
       "from local knowledge (off: an active team lists alone; with no team in the village "
       "the committee still lists)", "DESIGN §3",
       group="identification"),
    _P("committee_error_persistence", "float", 0.7, "", "year-to-year correlation of the "
       "committee's error about a household (a misjudged household stays misjudged)",
       "modelling assumption", 0.0, 1.0, group="identification"),
    _P("committee_noise", "float", 0.35, "coefficient of variation", "error of the committee's "
       "income estimate (local knowledge)", ALATAS + " (community arm)", 0.0, 5.0,
       group="identification"),
    _P("favoritism", "float", 0.5, "poverty lines", "registration favoritism: cadres' kin and "
       "friends look this many poverty lines poorer to the committee", HAN_GAO, 0.0, 1.0,
       group="identification"),
    _P("democratic_appraisal", "bool", True, "", "switch: democratic appraisal and public notice "
       "(民主评议, 公示) with complaints", "policy (民主评议, 公示)", group="identification"),
    _P("complaint_rate", "float", 0.3, "per household per appraisal", "probability that a "
       "wronged household (or a neighbour) complains, at trust 0.5", "modelling assumption",
       0.0, 1.0, group="identification"),
    _P("exit_pressure", "float", 0.1, "", "exit-target pressure (数字脱贫): share of registered "
       "poor households near the line declared out of poverty each year", "policy (数字脱贫)",
       0.0, 1.0, group="identification"),
    # --- work team ----------------------------------------------------------------------------
    _P("team_present", "bool", True, "", "switch: a resident work team (驻村工作队) is sent",
       POLICY, group="team"),
    _P("team_size", "int", 3, "members", "members of the team", "2017 guideline (at least 3)",
       1, 100, group="team"),
    _P("team_visits_per_month", "int", 4, "households per member per month", "household visits "
       "one member makes in a month", "2014 survey of 75 villages (low visit rates)", 0, 1000,
       group="team"),
    _P("team_noise", "float", 0.15, "coefficient of variation", "error of one team visit's "
       "measurement of a household's income; repeated visits average it down",
       "modelling assumption (a visit sees the house, the fields and the accounts)", 0.0, 5.0,
       group="team"),
    _P("team_confidence", "float", 1.0, "standard errors", "how sure the team must be of its own "
       "measurement before it challenges, adds or restores a household: the distance to the "
       "line in standard errors of its estimate", "modelling assumption", 0.0, 10.0,
       group="team"),
    _P("team_memory", "int", 12, "months", "how long what a visit learned stays current; "
       "older findings are forgotten", "modelling assumption (incomes change within a year)",
       1, 120, group="team"),
    _P("visit_strategy", "choice", "complaints_first", "", "whom the team visits first once "
       "queued requests are served oldest first: complaints and reports first, then those the "
       "committee states closest to the line (complaints_first, the default); closest to the "
       "line only; lowest stated estimate first; cadres' kin first; or at random (the stated "
       "estimates need team_cooperation, else ties are broken at random)",
       "modelling assumption", choices=("complaints_first", "near_line_first",
                                        "lowest_estimate_first", "cadre_kin_first", "random"),
       group="team"),
    _P("report_rate", "float", 0.05, "per wronged household per month", "probability that "
       "villagers report a wrongly listed or wrongly missed household to the team, when every "
       "household has met the team in the last year (scaled by the share that has)",
       "modelling assumption", 0.0, 1.0, group="team"),
    _P("team_detection", "float", 0.05, "probability per visit", "probability that one visit "
       "to a registered household uncovers a cadre's skimming or an excess payment to kin",
       "modelling assumption", 0.0, 1.0, group="team"),
    _P("team_verification", "bool", True, "", "switch: the team verifies households by visits",
       POLICY + ", effect 1", group="team"),
    _P("team_cooperation", "bool", True, "", "switch: the committee shows the team its list and "
       "stated estimates, which order the team's visits (相互配合)", POLICY + ", effect 1",
       group="team"),
    _P("team_shares_findings", "bool", True, "", "switch: the team tells the committee what its "
       "visits found, which the committee uses in its next ranking (相互配合)",
       POLICY + ", effect 1", group="team"),
    _P("team_supervision", "bool", True, "", "switch: the team acts on what its visits find: "
       "challenges entries, adds missed poor households, reports payments (相互监督)",
       POLICY + ", effect 1", group="team"),
    _P("cooptation", "float", 0.0, "", "probability that the team goes along with the committee "
       "instead of checking (a failure mode)", "modelling assumption", 0.0, 1.0, group="team"),
    _P("recheck", "bool", True, "", "switch: yearly re-check (回头看) of the register and of exits "
       "by the supervising team", "policy (回头看)", group="team"),
    _P("recheck_share", "float", 0.5, "share of the register", "share of registered and exited "
       "households the re-check visits", "modelling assumption", 0.0, 1.0, group="team"),
    _P("upper_recheck", "bool", True, "", "switch: upper levels re-check (回头看) a sample of "
       "the register and of recent exits every year, in every regime", "policy (回头看)",
       group="team"),
    _P("upper_recheck_share", "float", 0.1, "share of the register", "share of registered and "
       "recently exited households the upper levels' re-check visits", "modelling assumption",
       0.0, 1.0, group="team"),
    _P("upper_recheck_noise", "float", 0.1, "coefficient of variation", "error of an "
       "upper-level re-check visit's measurement of income", "modelling assumption", 0.0, 5.0,
       group="team"),
    _P("team_arrives", "int", 0, "month", "month the team arrives (and mobilization starts)",
       "DESIGN §3", 0, 10_000, group="team"),
    _P("team_leaves", "optional_int", None, "month", "month the team leaves; none: it stays",
       "2017 guideline (terms of at least 2 years)", 1, 10_000, group="team"),
    # --- money and deterrence -----------------------------------------------------------------
    _P("amount_favoritism", "float", 0.5, "", "amount favoritism: extra weight of kin and "
       "friends in the cash share", HAN_GAO, 0.0, 1.0, group="deterrence"),
    _P("diversion_propensity", "float", 0.3, "share of the cash pool", "cadres' base inclination "
       "to divert, before deterrence", "modelling assumption", 0.0, 1.0, group="deterrence"),
    _P("project_capture", "float", 0.5, "", "probability that an industry project is sited in a "
       "cadre's clan instead of by need", "modelling assumption", 0.0, 1.0, group="deterrence"),
    _P("upper_audits", "bool", True, "", "switch: audits by upper levels (every regime)",
       "DESIGN §3", group="deterrence"),
    _P("audit_probability", "float", 0.2, "per year", "probability that upper levels audit a "
       "given year's accounts of the village (drawn in a random month of each year)",
       "DESIGN §3 (yearly audits); modelling assumption", 0.0, 1.0, group="deterrence"),
    _P("detection", "float", 0.6, "probability", "probability that an audit finds a diversion",
       "modelling assumption", 0.0, 1.0, group="deterrence"),
    _P("sanction", "float", 2.0, "multiple of the amount found", "fine on top of restitution, "
       "paid from the cadre household's income and assets (never more than it has)",
       "modelling assumption", 0.0, 100.0, group="deterrence"),
    _P("exposure_cost", "float", 0.5, "multiple of the gain", "what being found favouring kin "
       "(on the register, in amounts, in project siting) costs a cadre: a reprimand, lost "
       "standing", "modelling assumption", 0.0, 100.0, group="deterrence"),
    _P("risk_memory", "int", 12, "months", "how far back cadres remember what checks found "
       "(and what they risked): perceived risk follows the last this many months",
       "modelling assumption", 1, 120, group="deterrence"),
    _P("detection_scale", "float", 0.1, "share of a cadre's cash share", "size of a diversion "
       "at which checks are half as likely to notice it as a large one: small takings hide "
       "better", "modelling assumption", 0.001, 10.0, group="deterrence"),
    _P("perception_noise", "float", 0.3, "", "sigma of the log of each cadre's misperception "
       "of the detection risk", "modelling assumption", 0.0, 3.0, group="deterrence"),
    _P("channel_substitution", "bool", False, "", "switch: what deterrence holds back in one "
       "favoritism channel (registration, amount, diversion, project siting) pushes the others",
       "modelling assumption (displacement of corruption: Olken 2007; Yang 2008)",
       group="deterrence"),
    _P("recovered_to_village", "bool", False, "", "switch: restitution recovered by audits and "
       "checks returns to the village's cash fund (off: it goes to the upper level); fines "
       "always leave the village", "modelling assumption", group="deterrence"),
    _P("internalisation_rate", "float", 0.0, "per cadre per watched year", "probability that a "
       "cadre watched by a team for a whole year lowers its greed for good (halves it)",
       "modelling assumption (off by default: deterrence lasts as long as what cadres saw)",
       0.0, 1.0, group="deterrence"),
    # --- cadre turnover -----------------------------------------------------------------------
    _P("elections", "bool", True, "", "switch: committee elections every term_years years",
       "村民委员会组织法", group="turnover"),
    _P("term_years", "int", 3, "years", "length of the committee's term",
       "村民委员会组织法 (3 years; 5 since 2018)", 1, 50, group="turnover"),
    _P("election_turnover", "float", 0.3, "per cadre per election", "probability that a cadre "
       "is replaced at an election when mean trust is 0.5 (times 2 (1 - mean trust))",
       "modelling assumption", 0.0, 1.0, group="turnover"),
    _P("survey_consequences", "bool", True, "", "switch: a village over the exit assessment's "
       "thresholds has cadres replaced (问责)", "exit assessment (三率一度)", group="turnover"),
    _P("missed_poor_threshold", "float", 0.02, "share", "missed-poor rate (漏评率) above which "
       "the yearly survey fails the village", "exit assessment (三率一度): below 2%", 0.0, 1.0,
       group="turnover"),
    _P("wrongful_exit_threshold", "float", 0.02, "share", "wrongful-exit rate (错退率) above "
       "which the yearly survey fails the village", "exit assessment (三率一度): below 2%", 0.0,
       1.0, group="turnover"),
    _P("survey_replacement", "float", 0.2, "per cadre", "probability that a cadre of a failed "
       "village is replaced", "modelling assumption", 0.0, 1.0, group="turnover"),
    # --- observation --------------------------------------------------------------------------
    _P("survey_sample", "float", 0.3, "share of households", "share sampled by the yearly "
       "third-party survey", "exit assessment (三率一度)", 0.0, 1.0, True, group="observation"),
    _P("trust_rate", "float", 0.1, "per month", "speed at which trust follows perceived fairness",
       "modelling assumption", 0.0, 1.0, group="observation"),
)
# fmt: on

PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}

_TEAM_OFF = {"team_present": False}
REGIMES: dict[str, dict[str, Any]] = {
    # The committee alone: no team, no extra money.
    "committee_only": {**_TEAM_OFF, "resource_mobilization": False, "committee_identifies": True},
    # The committee alone, with the same extra money a team would bring (money vs governance).
    "committee_plus_mobilization": {
        **_TEAM_OFF,
        "resource_mobilization": True,
        "committee_identifies": True,
    },
    # Team and committee cooperate and supervise each other (既相互配合, 又相互监督).
    "team_and_committee": {
        "team_present": True,
        "resource_mobilization": True,
        "committee_identifies": True,
        "team_verification": True,
        "team_cooperation": True,
        "team_supervision": True,
    },
    # A team that cooperates but does not check (co-opted in the broad sense; the
    # ``cooptation`` parameter is the partial version of this failure).
    "team_without_supervision": {
        "team_present": True,
        "resource_mobilization": True,
        "committee_identifies": True,
        "team_verification": True,
        "team_cooperation": True,
        "team_supervision": False,
    },
    # The team alone: impartial but without local knowledge.
    "team_alone": {
        "team_present": True,
        "resource_mobilization": True,
        "committee_identifies": False,
        "team_verification": True,
        "team_cooperation": False,
        "team_supervision": True,
    },
}


class Parameters:
    """Validated, read-only parameter values for one model.

    Build with :func:`resolve_parameters`. Attribute access (``params.quota``) and
    :meth:`as_dict` are the two ways to read them.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Parameters are read-only; build a new object with replace()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parameters) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        return f"Parameters({self._values!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Parameters, (self._values,))

    def as_dict(self) -> dict[str, Any]:
        """Return a plain dict of every parameter value."""
        return dict(self._values)

    def replace(self, **overrides: Any) -> Parameters:
        """Return a new object with some values changed (validated)."""
        return resolve_parameters(**{**self._values, **overrides, "regime": self.regime})


def _unknown(name: str) -> ValueError:
    close = difflib.get_close_matches(name, list(PARAM_BY_NAME), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ValueError(f"unknown parameter {name!r}{hint} (see docs/parameters.md)")


def resolve_parameters(regime: str | None = None, **overrides: Any) -> Parameters:
    """Validate overrides on top of defaults and the regime preset.

    Order: defaults, then the regime's switches, then each override. Unknown names are
    refused with the closest valid name; every value is checked against its range.

    Args:
        regime: A name from ``REGIMES`` (default: the ``regime`` parameter's default).
        **overrides: Parameter values to change.

    Returns:
        The validated parameters.

    Raises:
        ValueError: for an unknown name, a bad value or an inconsistent combination.
    """
    for name in overrides:
        if name not in PARAM_BY_NAME:
            raise _unknown(name)
    regime_name = PARAM_BY_NAME["regime"].validate(
        regime if regime is not None else PARAM_BY_NAME["regime"].default
    )
    values = {p.name: p.default for p in PARAMETERS}
    values.update(REGIMES[regime_name])
    for name, value in overrides.items():
        values[name] = PARAM_BY_NAME[name].validate(value)
    values["regime"] = regime_name
    if values["team_leaves"] is not None and values["team_leaves"] <= values["team_arrives"]:
        raise ValueError(
            f"parameter 'team_leaves': got {values['team_leaves']!r}; allowed: a month after "
            f"team_arrives ({values['team_arrives']}) or none (the team stays)"
        )
    if values["measure_share"] + values["project_share"] > 1.0:
        raise ValueError(
            f"parameters 'measure_share' + 'project_share': got {values['measure_share']!r} + "
            f"{values['project_share']!r}; allowed: a sum of at most 1"
        )
    if values["committee_size"] >= values["n_households"]:
        raise ValueError(
            f"parameter 'committee_size': got {values['committee_size']!r}; allowed: fewer than "
            f"n_households ({values['n_households']})"
        )
    return Parameters(values)


def load_overrides(path: str | Path) -> dict[str, Any]:
    """Read a TOML file of parameter overrides (``regime`` included) and check the names.

    The file holds ``name = value`` pairs at its top level, or under a ``[parameters]`` table.

    Raises:
        ValueError: naming the file for a syntax error, an unknown name or a bad value.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"--params: file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"--params: {str(path)!r} is not valid TOML: {err}") from None
    if "parameters" in data and isinstance(data["parameters"], dict):
        extra = set(data) - {"parameters"}
        if extra:
            raise ValueError(
                f"{str(path)!r}: keys {sorted(extra)} sit beside [parameters]; put them inside it"
            )
        data = data["parameters"]
    # names and single values are checked here; combinations once all overrides are merged
    try:
        for name, value in data.items():
            if name not in PARAM_BY_NAME:
                raise _unknown(name)
            data[name] = PARAM_BY_NAME[name].validate(value)
    except ValueError as err:
        raise ValueError(f"{str(path)!r}: {err}") from None
    return dict(data)


def parameters_markdown() -> str:
    """Render docs/parameters.md from ``PARAMETERS`` and ``REGIMES``."""
    lines = [
        "# Parameters",
        "",
        "<!-- Generated from src/village_sim/params.py by `village-sim params --markdown`; "
        "do not edit by hand (a test keeps the two in step). -->",
        "",
        "Every parameter can be passed as a keyword to `VillageModel(...)` and set in a TOML "
        "file of overrides (`--params FILE`). Order of application: defaults, then the regime's "
        "switches, then each override. A bad value raises `ValueError` naming the parameter, "
        "the value and the allowed range; an unknown name is refused with the closest valid "
        "name.",
        "",
    ]
    groups: dict[str, list[Param]] = {}
    for p in PARAMETERS:
        groups.setdefault(p.group, []).append(p)
    for group, params in groups.items():
        lines += [f"## {group.capitalize()}", ""]
        lines += [
            "| name | default | unit | allowed | meaning | source |",
            "|---|---|---|---|---|---|",
        ]
        for p in params:
            default = "none" if p.default is None else repr(p.default).replace("'", "")
            default = default.lower() if p.kind == "bool" else default
            lines.append(
                f"| `{p.name}` | {default} | {p.unit} | {p.allowed()} | {p.meaning} | {p.source} |"
            )
        lines.append("")
    lines += ["## Regimes", "", "Each regime sets these switches (others keep their default).", ""]
    switches = sorted({k for preset in REGIMES.values() for k in preset})
    lines.append("| regime | " + " | ".join(f"`{s}`" for s in switches) + " |")
    lines.append("|---" * (len(switches) + 1) + "|")
    for name, preset in REGIMES.items():
        cells = [str(preset.get(s, PARAM_BY_NAME[s].default)).lower() for s in switches]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)
