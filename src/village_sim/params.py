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

from village_sim.refusal import Phrase, Refusal

__all__ = [
    "PARAMETERS",
    "DECLARED_GROUPS",
    "EFFECTS",
    "REGIMES",
    "Effect",
    "Param",
    "ParameterError",
    "Parameters",
    "load_overrides",
    "parameters_markdown",
    "resolve_parameters",
]

POLICY = "Policy text (000_9f0cd288a9baeeef.txt, 2013 guideline)"


class ParameterError(ValueError):
    """A bad parameter value, with what is needed to say so in any language.

    ``str(error)`` is the English message of the CLI and the API (naming the parameter, the
    value and what is allowed); the fields let a page say the same in the reader's language
    with the parameter's label (``village_sim.i18n.Catalog.problem``).

    Attributes:
        name: The parameter (or ``"seed"`` / ``"regime"`` for the app's own inputs).
        value: The value given (the text as typed, where it came from a text box).
        rule: Which rule it breaks: ``"bool"``, ``"choice"``, ``"range"`` (the parameter's
            own table), ``"after"``, ``"sum_at_most_1"``, ``"fewer_than"`` (combinations),
            ``"live_max"``, ``"seed"``, ``"regime"`` or ``"unknown"``.
        other: The other parameter of a combination rule, or ``None``.
        other_value: Its value.
    """

    def __init__(self, message: str, name: str, value: Any, rule: str,
                 other: str | None = None, other_value: Any = None):
        super().__init__(message)
        self.name = name
        self.value = value
        self.rule = rule
        self.other = other
        self.other_value = other_value

    def __reduce__(self) -> tuple[Any, ...]:  # sent back from sweep workers intact
        return (type(self), (str(self), self.name, self.value, self.rule, self.other,
                             self.other_value))


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
    source: str = "assumed"
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
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if hasattr(value, "dtype") and value.dtype == bool:  # numpy bool from a sweep grid
                return bool(value)
            raise self._bad(value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise self._bad(value)
        if self.kind == "optional_int" and (value is None or value in ("none", "None")):
            return None  # TOML has no null: "none" is how a file says "never"
        if isinstance(value, bool) or not _is_number(value):
            raise self._bad(value)
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise self._bad(value)
        if self.kind in ("int", "optional_int"):
            if number != int(number):
                raise self._bad(value)
            number = int(number)
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            raise self._bad(value)
        if self.high is not None and number > self.high:
            raise self._bad(value)
        return number if self.kind in ("int", "optional_int") else float(number)

    def _bad(self, value: Any) -> ParameterError:
        """The refusal of ``value``: the parameter, the value and what is allowed."""
        rule = self.kind if self.kind in ("bool", "choice") else "range"
        return ParameterError(
            f"parameter {self.name!r}: got {value!r}; allowed: {self.allowed()}",
            self.name, value, rule)


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
       "assumed", 1, 10_000),
    _P("clan_concentration", "float", 1.0, "", "Zipf exponent of clan sizes: 0 gives equal clans, "
       "larger values one dominant clan", "assumed", 0.0, 5.0),
    _P("kin_degree", "float", 8.0, "ties per household", "mean kinship ties to households of the "
       "same clan", "assumed", 0.0, 50.0),
    _P("marriage_rate", "float", 0.5, "ties per household", "mean kinship ties by marriage to "
       "households of other clans", "assumed", 0.0, 10.0),
    _P("friend_degree", "float", 2.0, "ties per household", "mean friendship ties (any clan)",
       "assumed", 0.0, 20.0),
    _P("asset_inequality", "float", 0.9, "", "sigma of log productive assets (village "
       "inequality)", "assumed", 0.0, 3.0),
    _P("committee_size", "int", 5, "cadres", "cadres on the village committee, each a village "
       "household", "village committees have 3-7 members", 1, 50),
    _P("poverty_line", "float", 4000.0, "yuan per person per year", "poverty line z on "
       "pre-transfer per-capita income", "national line, 2,300 yuan (2010 prices), about 4,000 "
       "in 2020", 100.0, 1e6),
    _P("wage", "float", 9500.0, "yuan per labourer per year", "market earnings of one labourer "
       "of average skill", "assumed (rural wage in a poor county)", 0.0, 1e7),
    _P("remoteness", "float", 0.0, "", "how far the village lies from roads, markets and the "
       "township (0: beside them; 1: the most remote village of a county); lowers wages "
       "(remote_wage_loss) and the team's visits (remote_visit_loss)", "assumed (villages of a "
       "county differ; county issue)", 0.0, 1.0),
    _P("remote_wage_loss", "float", 0.3, "share of the wage", "wage lost at remoteness 1: "
       "fewer and worse-paid jobs within reach", "assumed", 0.0, 1.0),
    _P("asset_return", "float", 0.12, "per year", "market return on productive assets",
       "assumed", 0.0, 2.0),
    _P("illness_rate", "float", 0.004, "per household per month", "probability that a healthy "
       "household falls ill (因病致贫)", "assumed", 0.0, 1.0),
    _P("recovery_rate", "float", 0.02, "per month", "probability that an ill household recovers "
       "without a medical measure", "assumed", 0.0, 1.0),
    _P("disaster_rate", "float", 0.01, "per month", "probability of a village disaster (flood, "
       "drought) in a month", "assumed", 0.0, 1.0),
    _P("income_volatility", "float", 0.25, "", "sigma of monthly log-income noise",
       "assumed", 0.0, 2.0),
    _P("mean_household_size", "float", 3.3, "persons", "mean members of a household (one "
       "plus a Poisson number)", "assumed (rural households of three to four persons)", 1.0,
       50.0),
    _P("working_share", "float", 0.6, "share of members", "probability that a member of a "
       "household works (its labour)", "assumed", 0.0, 1.0),
    _P("skill_dispersion", "float", 0.45, "", "sigma of log skill (skill has mean 1)",
       "assumed", 0.0, 3.0),
    _P("mean_assets", "float", 15000.0, "yuan per household", "mean productive assets (land, "
       "livestock, tools) of a household", "assumed", 0.0, 1e8),
    _P("initial_illness", "float", 0.08, "share of households", "share of households ill at "
       "the start", "assumed", 0.0, 1.0),
    _P("sick_labour_share", "float", 0.4, "share of labour", "labour an ill household keeps",
       "assumed", 0.0, 1.0),
    _P("labour_poverty_ratio", "float", 0.34, "workers per member", "a household with fewer "
       "workers per member than this is poor for lack of labour (缺劳力)", "assumed", 0.0, 1.0),
    _P("cadre_skill_floor", "float", 0.5, "", "added to skill in a household's chance of "
       "becoming a cadre, which grows with clan size x sqrt(assets x (floor + skill))",
       "assumed", 0.0, 100.0),
    _P("greed_concentration", "float", 2.0, "", "shape a of the Beta(a, a) law of cadres' "
       "greed, scaled to mean 1 (range 0-2): larger, cadres more alike", "assumed", 0.01,
       1000.0),
    _P("disaster_reach", "float", 0.5, "share of households", "share of households a disaster "
       "hits", "assumed", 0.0, 1.0),
    _P("disaster_asset_loss", "float", 0.2, "share of assets", "assets a household hit by a "
       "disaster loses", "assumed", 0.0, 1.0),
    _P("disaster_income_loss", "float", 0.5, "share of the month's income", "income a "
       "household hit by a disaster loses that month", "assumed", 0.0, 1.0),
    _P("initial_trust", "float", 0.6, "", "mean trust in the committee at the start (normal, "
       "clipped to 0-1)", "assumed", 0.0, 1.0),
    _P("initial_trust_spread", "float", 0.1, "", "standard deviation of trust at the start",
       "assumed", 0.0, 1.0),
    _P("outbreak_share", "float", 0.15, "share of households", "share of households an "
       "illness outbreak (instructor event) makes ill", "assumed", 0.0, 1.0),
    _P("budget_cut_factor", "float", 0.5, "share of the budget", "what a budget cut "
       "(instructor event) leaves of the budget from above", "assumed", 0.0, 1.0),
    # --- budget -------------------------------------------------------------------------------
    _P("budget_per_household", "float", 1500.0, "yuan per resident household per year",
       "poverty-alleviation budget released from above, paid monthly", "assumed",
       0.0, 1e6, group="budget"),
    _P("resource_mobilization", "bool", True, "", "switch: the team brings extra resources while "
       "the team window is open", POLICY + ", effect 2", group="budget"),
    _P("mobilization", "float", 0.5, "fraction of the base budget", "extra budget the team "
       "brings", POLICY + ", effect 2", 0.0, 10.0, group="budget"),
    _P("mobilization_yuan", "float", 0.0, "yuan per year", "extra money the team brings in "
       "yuan a year, on top of mobilization (a county's teams bring their sending units' money "
       "this way: about 940,000 yuan a year)", "程虹 & 吴润清 2022 (county teams)", 0.0, 1e9,
       group="budget"),
    _P("household_measures", "bool", True, "", "switch: household-specific measures (因户施策) "
       "matched to a diagnosed cause", POLICY + ", effect 3", group="budget"),
    _P("measure_share", "float", 0.3, "fraction of released money", "share of the money spent "
       "on household-specific measures", "assumed", 0.0, 1.0, group="budget"),
    _P("measure_cost", "float", 2000.0, "yuan", "cost of one household-specific measure",
       "assumed", 1.0, 1e7, group="budget"),
    _P("matched_return", "float", 0.6, "per year", "yearly earnings a matched measure adds per "
       "yuan spent", "assumed; 阮荣平 2021 (better-matched measures)", 0.0, 5.0,
       group="budget"),
    _P("mismatched_return", "float", 0.1, "per year", "yearly earnings a mismatched measure adds "
       "per yuan spent", "assumed", 0.0, 5.0, group="budget"),
    _P("measure_depreciation", "float", 0.1, "per year", "share of the earnings a measure "
       "added that is lost each year (livestock dies, tools wear, skills age)", "assumed", 0.0,
       1.0, group="budget"),
    _P("carry_through", "float", 0.6, "probability", "probability that a measure is carried "
       "through without a responsible helper (otherwise it works as a mismatched one)",
       "assumed", 0.0, 1.0, group="budget"),
    _P("development_projects", "bool", True, "", "switch: yearly infrastructure and industry "
       "projects", POLICY + ", effect 3", group="budget"),
    _P("project_share", "float", 0.2, "fraction of released money", "share of the money spent "
       "on development projects", "assumed", 0.0, 1.0, group="budget"),
    _P("project_return", "float", 0.3, "per year", "yearly market income a project yields per "
       "yuan invested", "assumed", 0.0, 5.0, group="budget"),
    _P("industry_share", "float", 0.5, "share of built project money", "share of the built "
       "projects' money that goes to industry (the rest to infrastructure)", "assumed", 0.0,
       1.0, group="budget"),
    _P("helpers", "bool", True, "", "switch: responsible helpers (帮扶责任人) for registered "
       "households", POLICY + " (every poor household a helper)", group="budget"),
    _P("helper_ratio", "float", 5.5, "registered households per helper", "households one "
       "helper follows", RUAN + " (one per 5-6 households in 2019)", 1.0, 1000.0, group="budget"),
    _P("helper_diagnosis_accuracy", "float", 0.75, "probability", "probability that a "
       "responsible helper names a household's cause of poverty right", "assumed", 0.0, 1.0,
       group="budget"),
    _P("helper_cost", "float", 300.0, "yuan per helper per month", "cost of a helper, paid by "
       "the sending agency", "assumed", 0.0, 1e6, group="budget"),
    _P("team_cost", "float", 1500.0, "yuan per member per month", "cost of a team member, paid "
       "by the sending agency", "assumed", 0.0, 1e6, group="budget"),
    _P("kin_exchange", "bool", True, "", "switch: households in need draw on kin with surplus",
       "assumed", group="budget"),
    _P("kin_exchange_rate", "float", 0.2, "fraction of surplus", "share of a surplus a household "
       "gives to kin in need each month", "assumed", 0.0, 1.0, group="budget"),
    _P("kin_exchange_floor", "float", 1.5, "multiples of need", "income above which a "
       "household shares its surplus with kin in need, in multiples of its need (members x "
       "poverty line)", "assumed", 0.0, 100.0, group="budget"),
    _P("diverted_to_kin_share", "float", 0.5, "share of diverted money", "share of what a "
       "cadre diverts that goes to its kin (the rest to its own household)", "assumed", 0.0,
       1.0, group="budget"),
    # --- identification -----------------------------------------------------------------------
    _P("quota_control", "bool", True, "", "switch: the register is capped by a quota set from "
       "above (规模控制)", "policy (规模控制)", group="identification"),
    _P("quota", "float", 0.3, "share of households", "most households the register may hold, "
       "as a share of households (the quota from above)",
       ALATAS + " (about a third poor)", 0.0, 1.0, group="identification"),
    _P("quota_mode", "choice", "cap", "", "how the quota binds: cap (at most the quota, and "
       "only households the lister judges poor on the ranking it shows: its estimate, minus "
       "the favoritism it dares) or fill (exactly the quota, poor or not, as in Alatas et al. "
       "2012's fixed number of beneficiaries)", "policy (规模控制: 'no more than'); "
       + ALATAS + " (fill)", choices=("cap", "fill"), group="identification"),
    _P("quota_schedule", "choice", "constant", "", "the quota each year: constant, or falling "
       "with the poor share the last third-party survey found (never above quota)",
       "policy (规模控制, adjusted yearly); assumed",
       choices=("constant", "falling"), group="identification"),
    _P("committee_identifies", "bool", True, "", "switch: the committee proposes the list "
       "from local knowledge (off: an active team lists alone; with no team in the village "
       "the committee still lists)", "DESIGN §3",
       group="identification"),
    _P("committee_error_persistence", "float", 0.7, "", "year-to-year correlation of the "
       "committee's error about a household (a misjudged household stays misjudged)",
       "assumed", 0.0, 1.0, group="identification"),
    _P("committee_noise", "float", 0.35, "coefficient of variation", "error of the committee's "
       "income estimate (local knowledge)", ALATAS + " (community arm)", 0.0, 5.0,
       group="identification"),
    _P("favoritism", "float", 0.5, "poverty lines", "registration favoritism: cadres' kin and "
       "friends look this many poverty lines poorer to the committee", HAN_GAO, 0.0, 1.0,
       group="identification"),
    _P("friend_weight", "float", 0.5, "", "weight of a cadre's friend in favoritism, where "
       "cadres and their kin weigh 1", "assumed", 0.0, 1.0, group="identification"),
    _P("committee_diagnosis_accuracy", "float", 0.35, "probability", "probability that the "
       "committee names a household's cause of poverty right (without a visit)", "assumed",
       0.0, 1.0, group="identification"),
    _P("democratic_appraisal", "bool", True, "", "switch: democratic appraisal and public notice "
       "(民主评议, 公示) with complaints", "policy (民主评议, 公示)", group="complaints"),
    _P("complaint_rate", "float", 0.3, "per household per appraisal", "probability that a "
       "wronged household (or a neighbour) complains, at trust reference_trust", "assumed",
       0.0, 1.0, group="complaints"),
    _P("meeting_noise", "float", 0.1, "coefficient of variation", "error of the appraisal "
       "meeting's view of a household's income (the villagers' public knowledge), on which "
       "complaints are settled", "assumed", 0.0, 5.0, group="complaints"),
    _P("exit_pressure", "float", 0.1, "", "exit-target pressure (数字脱贫): share of registered "
       "poor households near the line declared out of poverty each year", "policy (数字脱贫)",
       0.0, 1.0, group="identification"),
    _P("exit_band", "float", 0.25, "poverty lines", "exit-target pressure acts on registered "
       "households seen this far below the line or less", "assumed", 0.0, 1.0,
       group="identification"),
    # --- work team ----------------------------------------------------------------------------
    _P("team_present", "bool", True, "", "switch: a resident work team (驻村工作队) is sent",
       POLICY, group="team"),
    _P("team_size", "int", 3, "members", "members of the team", "2017 guideline (at least 3)",
       1, 100, group="team"),
    _P("team_visits_per_month", "int", 4, "households per member per month", "household visits "
       "one member makes in a month", "2014 survey of 75 villages (low visit rates)", 0, 1000,
       group="team"),
    _P("remote_visit_loss", "float", 0.5, "share of visits", "team visits lost at remoteness "
       "1 to travel between the township and scattered hamlets", "assumed", 0.0, 1.0,
       group="team"),
    _P("team_noise", "float", 0.15, "coefficient of variation", "error of one team visit's "
       "measurement of a household's income; repeated visits average it down",
       "assumed (a visit sees the house, the fields and the accounts)", 0.0, 5.0,
       group="team"),
    _P("team_diagnosis_accuracy", "float", 0.9, "probability", "probability that a team visit "
       "names a household's cause of poverty right", "assumed (a visit sees the household)",
       0.0, 1.0, group="team"),
    _P("team_confidence", "float", 1.0, "standard errors", "how sure the team must be of its own "
       "measurement before it challenges, adds or restores a household: the distance to the "
       "line in standard errors of its estimate", "assumed", 0.0, 10.0,
       group="team"),
    _P("team_memory", "int", 12, "months", "how long what a visit learned stays current; "
       "older findings are forgotten", "assumed (incomes change within a year)",
       1, 120, group="team"),
    _P("visit_strategy", "choice", "complaints_first", "", "whom the team visits first once "
       "queued requests are served oldest first: complaints and reports first, then those the "
       "committee states closest to the line (complaints_first, the default); closest to the "
       "line only; lowest stated estimate first; cadres' kin first; or at random (the stated "
       "estimates need team_cooperation, else ties are broken at random)",
       "assumed", choices=("complaints_first", "near_line_first",
                                        "lowest_estimate_first", "cadre_kin_first", "random"),
       group="team"),
    _P("visit_order_bins", "int", 10, "bins per poverty line", "how finely the visit "
       "strategies rank the committee's stated estimates: households in the same bin are "
       "visited in random order", "assumed", 1, 1000, group="team"),
    _P("report_rate", "float", 0.05, "per wronged household per month", "probability that "
       "villagers report a wrongly listed or wrongly missed household to the team, when every "
       "household has met the team in the last year (scaled by the share that has)",
       "assumed", 0.0, 1.0, group="team"),
    _P("team_detection", "float", 0.05, "probability per visit", "probability that one visit "
       "to a registered household uncovers a cadre's skimming or an excess payment to kin",
       "assumed", 0.0, 1.0, group="team"),
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
       "instead of checking (a failure mode)", "assumed", 0.0, 1.0, group="team"),
    _P("recheck", "bool", True, "", "switch: yearly re-check (回头看) of the register and of exits "
       "by the supervising team", "policy (回头看)", group="recheck"),
    _P("recheck_share", "float", 0.5, "share of the register", "share of registered and exited "
       "households the re-check visits", "assumed", 0.0, 1.0, group="recheck"),
    _P("upper_recheck", "bool", True, "", "switch: upper levels re-check (回头看) a sample of "
       "the register and of recent exits every year, in every regime", "policy (回头看)",
       group="recheck"),
    _P("upper_recheck_share", "float", 0.1, "share of the register", "share of registered and "
       "recently exited households the upper levels' re-check visits", "assumed",
       0.0, 1.0, group="recheck"),
    _P("upper_recheck_noise", "float", 0.1, "coefficient of variation", "error of an "
       "upper-level re-check visit's measurement of income", "assumed", 0.0, 5.0,
       group="recheck"),
    _P("team_arrives", "int", 0, "month", "month the team arrives (and mobilization starts)",
       "DESIGN §3", 0, 10_000, group="team"),
    _P("team_leaves", "optional_int", None, "month", "month the team leaves; none: it stays",
       "2017 guideline (terms of at least 2 years)", 1, 10_000, group="team"),
    # --- money and deterrence -----------------------------------------------------------------
    _P("amount_favoritism", "float", 0.5, "", "amount favoritism: extra weight of kin and "
       "friends in the cash share", HAN_GAO, 0.0, 1.0, group="deterrence"),
    _P("diversion_propensity", "float", 0.3, "share of the cash pool", "cadres' base inclination "
       "to divert, before deterrence", "assumed", 0.0, 1.0, group="deterrence"),
    _P("project_capture", "float", 0.5, "", "probability that an industry project is sited in a "
       "cadre's clan instead of by need", "assumed", 0.0, 1.0, group="deterrence"),
    _P("upper_audits", "bool", True, "", "switch: audits by upper levels (every regime)",
       "DESIGN §3", group="deterrence"),
    _P("audit_probability", "float", 0.2, "per year", "probability that upper levels audit a "
       "given year's accounts of the village (drawn in a random month of each year)",
       "DESIGN §3 (yearly audits); assumed", 0.0, 1.0, group="deterrence"),
    _P("audit_coverage", "float", 1.0, "share of the cadres", "share of the cadres' accounts an "
       "audit can examine (rounded up to whole accounts; the rest are not looked at); which "
       "ones: policy accounts, at random by default", "assumed (the budget of an audit)", 0.01,
       1.0, group="deterrence"),
    _P("detection", "float", 0.6, "probability", "probability that an audit finds a diversion",
       "assumed", 0.0, 1.0, group="deterrence"),
    _P("sanction", "float", 2.0, "multiple of the amount found", "fine on top of restitution, "
       "paid from the cadre household's income and assets (never more than it has)",
       "assumed", 0.0, 100.0, group="deterrence"),
    _P("exposure_cost", "float", 0.5, "multiple of the gain", "what being found favouring kin "
       "(on the register, in amounts, in project siting) costs a cadre: a reprimand, lost "
       "standing", "assumed", 0.0, 100.0, group="deterrence"),
    _P("risk_memory", "int", 12, "months", "how far back cadres remember what checks found "
       "(and what they risked): perceived risk follows the last this many months",
       "assumed", 1, 120, group="deterrence"),
    _P("prior_exposure", "float", 12.0, "exposure-months", "months of exposure with nothing "
       "found that cadres' learning starts from (registration, amounts, diversion), so that "
       "one early finding does not read as certainty", "assumed", 0.0, 1000.0, True,
       group="deterrence"),
    _P("prior_projects", "float", 2.0, "captured projects", "captured projects with nothing "
       "found that cadres' learning about project siting starts from", "assumed", 0.0, 1000.0,
       True, group="deterrence"),
    _P("detection_scale", "float", 0.1, "share of a cadre's cash share", "size of a diversion "
       "at which checks are half as likely to notice it as a large one: small takings hide "
       "better", "assumed", 0.001, 10.0, group="deterrence"),
    _P("perception_noise", "float", 0.3, "", "sigma of the log of each cadre's misperception "
       "of the detection risk", "assumed", 0.0, 3.0, group="deterrence"),
    _P("channel_substitution", "bool", False, "", "switch: what deterrence holds back in one "
       "favoritism channel (registration, amount, diversion, project siting) pushes the others",
       "assumed (displacement of corruption: Olken 2007; Yang 2008)",
       group="deterrence"),
    _P("recovered_to_village", "bool", False, "", "switch: restitution recovered by audits and "
       "checks returns to the village's cash fund (off: it goes to the upper level); fines "
       "always leave the village", "assumed", group="deterrence"),
    _P("internalisation_rate", "float", 0.0, "per cadre per watched year", "probability that a "
       "cadre watched by a team for a whole year lowers its greed for good (to internalised_greed "
       "of it)",
       "assumed (off by default: deterrence lasts as long as what cadres saw)",
       0.0, 1.0, group="deterrence"),
    _P("internalised_greed", "float", 0.5, "share of greed", "what is left of a cadre's greed "
       "once it has internalised honesty", "assumed", 0.0, 1.0, group="deterrence"),
    # --- cadre turnover -----------------------------------------------------------------------
    _P("elections", "bool", True, "", "switch: committee elections every term_years years",
       "村民委员会组织法", group="turnover"),
    _P("term_years", "int", 3, "years", "length of the committee's term",
       "村民委员会组织法 (3 years; 5 since 2018)", 1, 50, group="turnover"),
    _P("election_turnover", "float", 0.3, "per cadre per election", "probability that a cadre "
       "is replaced at an election when mean trust is reference_trust (scaled by (1 - mean "
       "trust) / (1 - reference_trust))",
       "assumed", 0.0, 1.0, group="turnover"),
    _P("survey_consequences", "bool", True, "", "switch: a village over the exit assessment's "
       "thresholds has cadres replaced (问责)", "exit assessment (三率一度)", group="turnover"),
    _P("missed_poor_threshold", "float", 0.02, "share", "missed-poor rate (漏评率) above which "
       "the yearly survey fails the village", "exit assessment (三率一度): below 2%", 0.0, 1.0,
       group="turnover"),
    _P("wrongful_exit_threshold", "float", 0.02, "share", "wrongful-exit rate (错退率) above "
       "which the yearly survey fails the village", "exit assessment (三率一度): below 2%", 0.0,
       1.0, group="turnover"),
    _P("survey_replacement", "float", 0.2, "per cadre", "probability that a cadre of a failed "
       "village is replaced", "assumed", 0.0, 1.0, group="turnover"),
    # --- observation --------------------------------------------------------------------------
    _P("survey_sample", "float", 0.3, "share of households", "share sampled by the yearly "
       "third-party survey", "exit assessment (三率一度)", 0.0, 1.0, True, group="observation"),
    _P("trust_rate", "float", 0.1, "per month", "speed at which trust follows perceived fairness",
       "assumed", 0.0, 1.0, group="trust"),
    _P("grievance_threshold", "float", 3.0, "grievances", "grievances at which a household "
       "sees no fairness at all (fairness 1 - grievances / threshold)", "assumed", 0.0, 1000.0,
       True, group="trust"),
    _P("reference_trust", "float", 0.5, "", "trust at which complaint_rate and "
       "election_turnover hold as stated; both scale with (1 - trust) / (1 - reference_trust)",
       "assumed", 0.0, 0.99, group="trust"),
    _P("approval_threshold", "float", 0.5, "", "trust at or above which a surveyed household "
       "approves of the work (认可度)", "assumed", 0.0, 1.0, group="trust"),
    _P("grievance_share", "float", 0.1, "share of own yearly income", "diverted money seen "
       "among a household's ties over 12 months that makes one grievance, as a share of the "
       "household's own yearly income (graded: half as much, half a grievance)",
       "assumed", 0.0, 100.0, True, group="trust"),
)
# fmt: on

PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}

ADDED_AFTER_RUN_IDS: tuple[str, ...] = ("audit_coverage",)
"""Parameters added after sweeps began storing runs by their identity, and which leave every
run as it was at their default (the golden records): a run's identity leaves each out while it
holds its default, so that a sweep stored before it existed resumes onto its runs
(:func:`village_sim.sweep.design.run_id_for`). Set to anything else, it is hashed."""

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


# --- expected effects (DESIGN §10) ------------------------------------------------------------
@dataclass(frozen=True)
class Effect:
    """What setting one parameter from its default to ``value`` is expected to do.

    A declaration, not a result: tests/test_effects.py runs both sides on the same seeds
    (common random numbers) and checks it, so a mechanism that stops acting, or acts the
    other way, fails a test. Both sides run ``regime`` with the overrides in ``base``; the
    metric is each run's mean over its final 12 months.

    Attributes:
        value: The value the parameter is set to (the other side keeps its default).
        regime: The regime both sides run.
        metric: The metric (a column of the model's monthly output) that moves.
        sign: +1 raises it, -1 lowers it (one-sided paired t above the critical value for
            its degrees of freedom, p < 0.05); 0: no effect beyond ``margin`` (the 90%
            confidence interval of the paired difference lies inside +-margin).
        why: The mechanism that produces the effect (ODD section).
        base: Overrides both sides share: the setting in which the mechanism acts.
        months: Length of each run.
        seeds: Number of paired seeds (at least 20).
        margin: The equivalence margin, for ``sign`` 0 only.
    """

    value: Any
    regime: str
    metric: str
    sign: int
    why: str
    base: tuple[tuple[str, Any], ...] = ()
    months: int = 36
    seeds: int = 20
    margin: float = 0.0


# Groups whose every parameter must declare its expected effect (Model 2 issue, item 6).
DECLARED_GROUPS = ("team", "recheck", "complaints", "deterrence", "trust", "turnover")

_E = Effect
_TC, _CO = "team_and_committee", "committee_only"
_TWS = "team_without_supervision"
# fmt: off
EFFECTS: dict[str, Effect] = {
    # --- work team (ODD 7.5) ---
    "team_present": _E(False, _TC, "kin_premium", +1, "no visits, no challenges, no findings "
                       "that cadres learn from (7.4, 7.5)"),
    "team_size": _E(1, _TC, "kin_premium", +1, "one member: a third of the visit budget, so "
                    "fewer favoured entries are found and challenged (7.5)"),
    "team_visits_per_month": _E(0, _TC, "kin_premium", +1, "zero visits: the team finds and "
                                "changes nothing (7.5)"),
    "mobilization_yuan": _E(450_000.0, _TC, "poverty_headcount_post", -1, "a team's money "
                            "in yuan reaches the register like the base budget (7.4.1)",
                            months=13),
    "remote_visit_loss": _E(1.0, _TC, "team_visits_done", -1, "in the most remote village "
                            "travel takes every visit (7.5.2)", base=(("remoteness", 1.0),),
                            months=13),
    "remoteness": _E(1.0, _CO, "poverty_headcount", +1, "a remote village earns lower wages: "
                     "more households below the line (7.1)", months=13),
    "remote_wage_loss": _E(0.6, _CO, "poverty_headcount", +1, "remoteness costs twice the wage "
                           "(7.1)", base=(("remoteness", 1.0),), months=13),
    "team_noise": _E(1.0, _TC, "mistargeting", +1, "noisy visits: the team is rarely sure "
                     "enough to act, and wrong when it is (7.5)"),
    "team_diagnosis_accuracy": _E(0.35, _TC, "matched_measure_share", -1, "the team's "
                                  "visits name the wrong cause as often as the committee "
                                  "does (7.5)"),
    "visit_order_bins": _E(1, _TC, "mistargeting", 0, "ranking the stated estimates by whole "
                           "poverty lines instead of tenths hardly changes whom the team "
                           "finds: requests fill most visits (7.5)", margin=0.01),
    "team_confidence": _E(5.0, _TC, "mistargeting", +1, "a team that wants five standard "
                          "errors of certainty seldom challenges or adds (7.5)"),
    "team_memory": _E(1, _TC, "exclusion_error", +1, "findings forgotten after a month: the "
                      "yearly review knows almost nobody (7.5)"),
    "visit_strategy": _E("random", _TC, "mistargeting", 0, "verification and complaint "
                         "requests fill most of the budget and are served oldest first; the "
                         "strategy orders only what is left, so at default capacity the order "
                         "hardly matters (7.5)", margin=0.02),
    "report_rate": _E(0.5, _TC, "exclusion_error", -1, "villagers report missed poor "
                      "households, and a team with visits to spare lists them (7.5)",
                      base=(("team_visits_per_month", 20),)),
    "team_detection": _E(0.0, _TC, "diverted_share", +1, "visits that never uncover skimming: "
                         "cadres learn that only audits find it (7.4)"),
    "team_verification": _E(False, "team_alone", "mistargeting", +1, "a team listing without "
                            "visits knows no household (7.3, 7.5)"),
    "team_cooperation": _E(False, _TWS, "mistargeting", +1, "without the committee's stated "
                           "estimates the team's visits are not aimed near the line (7.5)"),
    "team_shares_findings": _E(False, _TWS, "mistargeting", +1, "the committee no longer "
                               "corrects its estimates with the team's findings (7.3)"),
    "team_supervision": _E(False, _TC, "diverted_share", +1, "a team that does not act on what "
                           "it finds uncovers no skimming (7.4, 7.5)"),
    "cooptation": _E(1.0, _TC, "kin_premium", +1, "a team that goes along with the committee "
                     "challenges no favoured entry (7.5)", seeds=30),
    "team_arrives": _E(36, _TC, "kin_premium", +1, "no team yet in months 25-36 (7.5)"),
    "team_leaves": _E(12, _TC, "kin_premium", +1, "the team gone after month 12: what cadres "
                      "saw fades (7.4, 7.11)"),
    # --- re-checks (ODD 7.6) ---
    "recheck": _E(False, _TC, "inclusion_error_nonpoor", +1, "without the team's re-check, "
                  "entries found not poor stay listed (7.6)", base=(("upper_recheck", False),),
                  months=60, seeds=60),
    "recheck_share": _E(1.0, _TC, "team_visits_demanded", +1, "the re-check sample is visits "
                        "the team must make within its budget (7.5, 7.6)",
                        base=(("upper_recheck", False),), months=60),
    "upper_recheck": _E(False, _CO, "registration_favoritism_dared", +1, "upper levels' "
                        "re-checks are the only check on the register in a village without a "
                        "team: without them cadres dare more (7.4, 7.6)", seeds=30),
    "upper_recheck_share": _E(0.5, _CO, "kin_premium", -1, "a larger sample removes more "
                              "favoured entries and raises perceived risk (7.4, 7.6)"),
    "upper_recheck_noise": _E(2.0, _CO, "mistargeting", +1, "a noisy re-check removes poor "
                              "households and keeps others (7.6)",
                              base=(("upper_recheck_share", 0.5),)),
    # --- complaints (ODD 7.3) ---
    "democratic_appraisal": _E(False, _CO, "mistargeting", +1, "no public notice: nobody can "
                               "object to a wrong entry (7.3)"),
    "complaint_rate": _E(0.0, _CO, "mistargeting", +1, "nobody complains at the notice (7.3)"),
    "meeting_noise": _E(5.0, _CO, "mistargeting", +1, "a meeting that misjudges incomes "
                        "settles complaints wrongly: wrong entries stay, right ones go (7.3); "
                        "measured where complaints are many (at the default rate they are "
                        "too few to show it)", base=(("complaint_rate", 1.0),)),
    # --- deterrence (ODD 7.4) ---
    "amount_favoritism": _E(0.0, _CO, "amount_kin_premium", -1, "kin get no extra weight in "
                            "the cash share (7.7)"),
    "diversion_propensity": _E(0.0, _CO, "diverted_share", -1, "cadres not inclined to divert "
                               "(7.4)"),
    "project_capture": _E(0.0, _CO, "project_capture_share", -1, "projects sited by need "
                          "(7.8)"),
    "upper_audits": _E(False, _CO, "diverted_share", +1, "no audits: nothing watches the books "
                       "in a village without a team (7.4)"),
    "audit_probability": _E(0.8, _CO, "diverted_share", -1, "likelier audits raise the expected "
                            "penalty (7.4)"),
    "audit_coverage": _E(0.2, _CO, "diverted_share", +1, "an audit examines one cadre's "
                         "account in five: each cadre's risk of being audited falls (7.4)"),
    "detection": _E(0.1, _CO, "diverted_share", +1, "audits that rarely find anything deter "
                    "little (7.4)"),
    "sanction": _E(0.0, _CO, "diverted_share", +1, "only restitution at stake (7.4)"),
    "exposure_cost": _E(5.0, _TC, "kin_premium", -1, "being found favouring kin costs more, so "
                        "cadres list fewer of them (7.4)"),
    "risk_memory": _E(1, _TC, "diverted_share", +1, "cadres forget within a month what the "
                      "team's checks found (7.4)"),
    "prior_exposure": _E(120.0, _TC, "diverted_share", +1, "cadres learn ten times more "
                         "slowly from what the team's checks find (7.4)"),
    "prior_projects": _E(20.0, _TC, "project_capture_dared", +1, "cadres learn more slowly "
                         "from re-sited projects (7.4)", seeds=30),
    "detection_scale": _E(1.0, _CO, "diverted_share", +1, "small takings hide better (7.4)"),
    "perception_noise": _E(2.0, _CO, "diverted_share", +1, "cadres who underrate the risk take "
                           "more than those who overrate it take less: the optimal share is "
                           "convex in the perceived risk (7.4)"),
    "channel_substitution": _E(True, _CO, "amount_favoritism_dared", +1, "audits hold "
                               "diversion back, which pushes favoritism in amounts (7.4)"),
    "recovered_to_village": _E(True, _TC, "poverty_gap_post", -1, "restitution paid out to "
                               "households instead of going upward (7.4, 7.7)"),
    "internalisation_rate": _E(1.0, _TC, "diverted_share", -1, "cadres watched for a year "
                               "halve their greed for good, so less returns after the team "
                               "leaves (7.11)", base=(("team_leaves", 24),), months=48),
    "internalised_greed": _E(1.0, _TC, "diverted_share", +1, "internalising leaves greed as "
                             "it was, so as much returns after the team leaves (7.11)",
                             base=(("internalisation_rate", 1.0), ("team_leaves", 24)),
                             months=48),
    # --- trust (ODD 7.9) ---
    "trust_rate": _E(0.0, _CO, "mean_trust", +1, "trust stays at its initial level (here "
                     "full trust) instead of falling to what households see of fairness (7.9)",
                     base=(("initial_trust", 1.0),)),
    "grievance_threshold": _E(6.0, _CO, "mean_trust", +1, "twice the grievances before a "
                              "household sees no fairness at all (7.9)"),
    "reference_trust": _E(0.8, _CO, "cadre_replacements", +1, "the stated turnover holds at "
                          "higher trust, so at the village's trust elections replace more "
                          "(7.9, 7.11)", months=60),
    "approval_threshold": _E(0.8, _CO, "approval", -1, "a surveyed household approves only "
                             "at high trust (7.9, 7.10)"),
    "grievance_share": _E(1.0, _CO, "mean_trust", +1, "the same diversion seen among ties "
                          "makes a tenth of the grievance (7.9)"),
    # --- cadre turnover (ODD 7.11) ---
    "elections": _E(False, _CO, "cadre_replacements", -1, "no elections: only failed "
                    "assessments replace cadres (7.11)", months=60),
    "term_years": _E(1, _CO, "cadre_replacements", +1, "an election every year (7.11)"),
    "election_turnover": _E(1.0, _CO, "cadre_replacements", +1, "elections replace more "
                            "cadres (7.11)", months=48),
    "survey_consequences": _E(False, _CO, "cadre_replacements", -1, "failing the exit "
                              "assessment costs cadres nothing (7.10, 7.11)"),
    "missed_poor_threshold": _E(1.0, _CO, "failed_assessments", -1, "no missed-poor rate "
                                "fails the village (7.10)"),
    "wrongful_exit_threshold": _E(1.0, _CO, "failed_assessments", -1, "no wrongful-exit rate "
                                  "fails the village (7.10)",
                                  base=(("missed_poor_threshold", 1.0), ("exit_pressure", 0.6))),
    "survey_replacement": _E(1.0, _CO, "cadre_replacements", +1, "every cadre of a failed "
                             "village replaced (7.11)"),
}
# fmt: on


def _check_effects() -> None:
    """Each declaration names a declared parameter, a valid value, a regime and a sign."""
    for name, e in EFFECTS.items():
        param = PARAM_BY_NAME[name]
        if param.validate(e.value) == param.default:
            raise ValueError(f"effect of {name!r}: value {e.value!r} is the default")
        if e.regime not in REGIMES or e.sign not in (-1, 0, 1) or e.seeds < 20:
            raise ValueError(f"effect of {name!r}: bad regime, sign or seeds: {e}")
        if (e.sign == 0) != (e.margin > 0):
            raise ValueError(f"effect of {name!r}: a margin goes with sign 0 only: {e}")
        for key, value in e.base:
            PARAM_BY_NAME[key].validate(value)


_check_effects()


class Parameters:
    """Validated, read-only parameter values for one model.

    Build with :func:`resolve_parameters`. Attribute access (``params.quota``) and
    :meth:`as_dict` are the two ways to read them.
    """

    def __init__(self, values: Mapping[str, Any]):
        # the values are the instance's attributes: ``params.quota`` is a plain attribute
        # lookup (models read their parameters in every phase)
        object.__setattr__(self, "__dict__", dict(values))

    @property
    def _values(self) -> dict[str, Any]:
        return self.__dict__

    def __getattr__(self, name: str) -> Any:  # only for names that are not parameters
        raise AttributeError(name)

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
        """Return a new object with some values changed (validated).

        The same as :func:`resolve_parameters` with every current value and the overrides
        (the regime kept): the current values are valid already, so only the overrides and
        the combination rules are checked (a county changes 200 villages' budgets a year).
        """
        for name in overrides:
            if name not in PARAM_BY_NAME:
                raise _unknown(name)
        values = dict(self._values)
        for name, value in overrides.items():
            values[name] = PARAM_BY_NAME[name].validate(value)
        values["regime"] = self.regime
        _check_combinations(values)
        return Parameters(values)


# Parameters of earlier versions, with what replaced them (README, "Model 2").
REMOVED = {
    "supervision_strength": "it was removed in Model 2: the team acts only through visits "
    "within its budget (team_visits_per_month, team_detection, team_confidence) and cadres "
    "are deterred by the risk they perceive (sanction, exposure_cost, detection_scale, "
    "risk_memory); see README, 'Model 2'",
}


def _unknown(name: str) -> ParameterError:
    if name in REMOVED:
        return ParameterError(f"unknown parameter {name!r}: {REMOVED[name]}", name, name,
                              "unknown")
    close = difflib.get_close_matches(name, list(PARAM_BY_NAME), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ParameterError(f"unknown parameter {name!r}{hint} (see docs/parameters.md)", name,
                          name, "unknown")


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
    _check_combinations(values)
    return Parameters(values)


def _check_combinations(values: dict[str, Any]) -> None:
    """Refuse values whose combination is inconsistent (each is valid alone)."""
    if values["team_leaves"] is not None and values["team_leaves"] <= values["team_arrives"]:
        raise ParameterError(
            f"parameter 'team_leaves': got {values['team_leaves']!r}; allowed: a month after "
            f"team_arrives ({values['team_arrives']}) or none (the team stays)",
            "team_leaves", values["team_leaves"], "after", "team_arrives", values["team_arrives"],
        )
    if values["measure_share"] + values["project_share"] > 1.0:
        raise ParameterError(
            f"parameters 'measure_share' + 'project_share': got {values['measure_share']!r} + "
            f"{values['project_share']!r}; allowed: a sum of at most 1",
            "measure_share", values["measure_share"], "sum_at_most_1", "project_share",
            values["project_share"],
        )
    if values["committee_size"] >= values["n_households"]:
        raise ParameterError(
            f"parameter 'committee_size': got {values['committee_size']!r}; allowed: fewer than "
            f"n_households ({values['n_households']})",
            "committee_size", values["committee_size"], "fewer_than", "n_households",
            values["n_households"],
        )


def read_tables(path: str | Path, what: str | Phrase, key: str) -> list[Any]:
    """The ``[[key]]`` tables of a TOML file that holds nothing else (teams, villages).

    Raises:
        ValueError: as :func:`read_toml`, or for a file with other tables or none.
    """
    data = read_toml(path, what)
    if set(data) != {key}:
        extra = sorted(set(data) - {key})
        raise ValueError(f"{what} {str(path)!r}: got {extra or f'no [[{key}]] table'}; "
                         f"allowed: [[{key}]] tables only")
    return list(data[key])


def read_toml(path: str | Path, what: str | Phrase,
              allowed: str | Phrase = "a TOML file") -> dict[str, Any]:
    """Read a TOML file; every way it can fail is a refusal naming ``what`` and the path.

    The refusal (:class:`~village_sim.refusal.Refusal`) is a ``ValueError``.

    Args:
        path: The file.
        what: How the message names it (``Phrase("phrase.params_file")``: ``--params: file``).
        allowed: What the path should be, for a folder given instead.
    """
    shown = str(path)
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise Refusal("error.file_missing", what=what, path=shown) from None
    except IsADirectoryError:
        raise Refusal("error.file_is_folder", what=what, path=shown, allowed=allowed) from None
    except OSError as err:
        raise Refusal("error.file_unreadable", what=what, path=shown,
                      reason=err.strerror or err) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise Refusal("error.file_not_toml", what=what, path=shown, reason=err) from None


def load_overrides(path: str | Path) -> dict[str, Any]:
    """Read a TOML file of parameter overrides (``regime`` included) and check the names.

    The file holds ``name = value`` pairs at its top level, or under a ``[parameters]`` table.

    Raises:
        ValueError: naming the file for a syntax error, an unknown name or a bad value.
    """
    path = Path(path)
    data = read_toml(path, Phrase("phrase.params_file"), Phrase("phrase.params_allowed"))
    if "parameters" in data and isinstance(data["parameters"], dict):
        extra = set(data) - {"parameters"}
        if extra:
            raise Refusal("error.keys_beside_parameters", at=repr(str(path)), keys=sorted(extra))
        data = data["parameters"]
    # names and single values are checked here; combinations once all overrides are merged
    try:
        for name, value in data.items():
            if name not in PARAM_BY_NAME:
                raise _unknown(name)
            data[name] = PARAM_BY_NAME[name].validate(value)
    except ValueError as err:
        raise Refusal.within(repr(str(path)), err) from None
    return dict(data)


def _md_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


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
    lines += [
        "## Expected effects",
        "",
        "Every parameter of the groups " + ", ".join(DECLARED_GROUPS) + " declares what setting "
        "it from its default to another value is expected to do (`EFFECTS` in params.py). "
        "tests/test_effects.py checks each declaration on paired seeds; it fails on a "
        "parameter of these groups without one. Direction: raises or lowers (one-sided paired "
        "t, p < 0.05), or \"no effect\" (the 90% CI of the paired difference inside the "
        "margin). The metric is each run's mean over its final 12 months.",
        "",
        "| parameter | set to | regime (and shared overrides) | months | seeds | metric | "
        "direction | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, e in EFFECTS.items():
        setting = e.regime + "".join(f", `{k}` = {_md_value(v)}" for k, v in e.base)
        direction = {1: "raises", -1: "lowers", 0: f"no effect (within ±{e.margin:g})"}[e.sign]
        lines.append(f"| `{name}` | {_md_value(e.value)} | {setting} | {e.months} | {e.seeds} "
                     f"| `{e.metric}` | {direction} | {e.why} |")
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
