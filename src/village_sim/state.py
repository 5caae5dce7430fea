"""The village's state: household columns, institutions' records and the money ledger.

Household state lives in numpy columns (../shared/DESIGN.md §6). :class:`VillageState` holds
them and the queries every mechanism shares (y, who is poor, whether a team is present, the
decision log, the ledger); the mechanisms in :mod:`village_sim.mechanisms` read and change it,
and :class:`village_sim.model.VillageModel` adds Mesa's scheduling, agents and data collection
on top. Nothing here draws a random number except construction, from the ``village`` stream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from village_sim import metrics as M
from village_sim import numerics
from village_sim.events import Event
from village_sim.params import Parameters
from village_sim.village import (
    Cause,
    build_village,
    cause_of_poverty,
    positive_keys,
    tied_to,
    unweighted_csr,
)

if TYPE_CHECKING:
    import scipy.sparse as sp

    from village_sim.agents import VillageCommittee, WorkTeam

__all__ = ["AT_IDENTIFICATION", "CHANNELS", "HOUSEHOLD_COLUMNS", "LEDGER_FLOWS", "MEMO_FLOWS",
           "MATERIAL_YUAN", "NO_REQUEST", "VILLAGE_NUMBERS", "HouseholdColumn", "Purpose",
           "VillageNumber", "VillageState"]

# Money through the programme's funds. Inflows: released (base budget and mobilized funds),
# staff funding, carried in, restitution returned to the village; outflows: delivered, diverted,
# measures, projects, staff, carried over. ``recovered`` (restitution) and ``fines`` are paid by
# cadre households to the upper level: their own flows, outside the funds' identity unless
# ``recovered_to_village`` returns the restitution (then it is ``returned_to_village``).
LEDGER_FLOWS = (
    "released", "mobilized", "staff_funding", "carried_in", "recovered",
    "delivered", "diverted", "measures_spent", "projects_spent", "staff_costs", "carried_over",
    "fines", "returned_to_village",
)
# Memo items (not money movements): what could be diverted, and what the books report spent.
MEMO_FLOWS = ("divertible", "reported_spent", "diverted_projects")

# The committee's favoritism channels, each with its own deterrence (ODD §7.4).
CHANNELS = ("registration", "amount", "diversion", "project")

# ``pending_since`` of a household nobody has asked the team to visit.
NO_REQUEST = 1 << 40
# The month of something that never happened (a visit, a measure, an exit): long before month 0.
NEVER = -10_000
# Baseline income groups (terciles) for project_gain_gradient: richest minus poorest third.
INCOME_GROUPS = 3


class Purpose:
    """Why a team visit was requested (bits of ``pending_purpose``)."""

    VERIFY = 1  # an entry on the committee's list the team has not seen
    COMPLAINT = 2  # a complaint at the democratic appraisal or public notice
    REPORT = 4  # villagers told the team
    RECHECK = 8  # the re-check (回头看) sample
    EXIT = 16  # certifying a registered household's exit at the yearly assessment (not a visit)

# Targeting metrics also scored at identification (``<name>_at_identification``).
AT_IDENTIFICATION = ("coverage", "exclusion_error", "inclusion_error_leakage",
                     "inclusion_error_nonpoor", "mistargeting", "targeting_differential",
                     "kin_premium")

# Amounts below this are not material: they neither count as a detection nor as a grievance.
MATERIAL_YUAN = 1.0


class HouseholdColumn:
    """A household column of a village: one entry per household (the last axis).

    A data descriptor: the array lives in the village's ``_columns``. Assigning to the
    attribute writes *into* the array it holds (same shape and dtype required) instead of
    rebinding the name, so a village whose columns are blocks of a stack's arrays
    (:meth:`VillageState.attach`) keeps writing into the stack, whatever the mechanism does.
    The first assignment (in :meth:`VillageState.build_state`) creates the column.
    """

    name: str

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> HouseholdColumn: ...

    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> np.ndarray: ...

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            return obj._columns[self.name]  # type: ignore[attr-defined]
        except (AttributeError, KeyError):
            raise AttributeError(
                f"household column {self.name!r} is not built yet") from None

    def __set__(self, obj: object, value: np.ndarray) -> None:
        columns: dict[str, np.ndarray] = obj.__dict__.setdefault("_columns", {})
        current = columns.get(self.name)
        if current is None:
            columns[self.name] = value
            return
        if value is current:  # augmented assignment (``s.trust += d``) already wrote it
            return
        if (not isinstance(value, np.ndarray) or value.shape != current.shape
                or value.dtype != current.dtype):
            got = (f"{value.dtype}{list(value.shape)}" if isinstance(value, np.ndarray)
                   else type(value).__name__)
            raise TypeError(
                f"household column {self.name!r}: got {got}; allowed: an array of "
                f"{current.dtype}{list(current.shape)} (a column is written in place)")
        current[...] = value


class VillageNumber[Number: (bool, int, float)]:
    """A number of the village (a fund, a flag, a counter): one entry of its ``_numbers`` row.

    A data descriptor: the value lives in the village's ``_numbers`` (float64, one entry per
    number its class declares, in their order: :data:`VILLAGE_NUMBERS`) and reads back as the
    declared Python type (``bool``, ``int`` or ``float``, what the village's mechanisms
    assign; whole numbers are exact in a double below 2**53). A county engine makes each
    village's row a row of one county table (:class:`village_sim.county.books.Numbers`), so
    that it reads and writes every village's number as one column instead of visiting each
    village's object, while the village's own mechanisms read and assign the number by name
    as before. NaN marks a number not yet set.
    """

    name: str
    index: int  # its place in the row
    width: int  # the row's length: how many numbers the class declares

    def __init__(self, kind: type[Number]):
        self.kind: type[Number] = kind

    def __set_name__(self, owner: type, name: str) -> None:
        declared = [k for k, d in vars(owner).items() if isinstance(d, VillageNumber)]
        self.name, self.index, self.width = name, declared.index(name), len(declared)

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> VillageNumber[Number]: ...

    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> Number: ...

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        row = obj.__dict__.get("_numbers")
        value = row[self.index] if row is not None else np.nan
        if value != value:  # NaN: never set
            raise AttributeError(f"village number {self.name!r} is not set yet")
        return self.kind(value)

    def __set__(self, obj: object, value: float) -> None:
        row = obj.__dict__.get("_numbers")
        if row is None:
            row = obj.__dict__["_numbers"] = np.full(self.width, np.nan)
        row[self.index] = value


class VillageState:
    """Household columns, institutions and money of one village (see the module docstring).

    Subclasses provide ``steps`` (months stepped), ``streams`` (one generator per purpose,
    :data:`village_sim.rng.STREAMS`) and the two institutions ``committee`` and ``team``.
    """

    p: Parameters
    steps: int
    streams: dict[str, np.random.Generator]
    committee: VillageCommittee
    team: WorkTeam
    n: int
    kin: sp.csr_matrix
    friends: sp.csr_matrix
    network: sp.csr_matrix
    team_arrives: int
    team_leaves: int | None
    events: list[Event]
    events_applied: list[Event]
    policies: dict[str, Any]
    _columns: dict[str, np.ndarray]
    stack: Any = None  # the VillageStack this village's columns live in (village_sim.stack)
    # stepped by a county engine (village_sim.county.engine): its own step() only advances
    # Mesa's clock, the engine runs the phases for all villages at once
    county_driven: bool = False

    # --- household columns (HouseholdColumn: written in place, so a stacked village writes
    # into its block of the stack's arrays; village_sim.stack)
    clan = HouseholdColumn()
    persons = HouseholdColumn()
    labour = HouseholdColumn()
    persons_float = HouseholdColumn()
    skill = HouseholdColumn()
    assets = HouseholdColumn()
    sick = HouseholdColumn()
    measure_income = HouseholdColumn()
    project_income = HouseholdColumn()
    income_hist = HouseholdColumn()
    aid_hist = HouseholdColumn()
    other_transfer_hist = HouseholdColumn()
    diverted_hist = HouseholdColumn()
    diverted_to = HouseholdColumn()
    registered = HouseholdColumn()
    aid_received = HouseholdColumn()
    diverted_received = HouseholdColumn()
    kin_net = HouseholdColumn()
    trust = HouseholdColumn()
    helper = HouseholdColumn()
    diagnosis = HouseholdColumn()
    diagnosed_by = HouseholdColumn()
    measure_month = HouseholdColumn()
    measures_received = HouseholdColumn()
    exit_month = HouseholdColumn()
    ever_exited = HouseholdColumn()
    wrongful_exit = HouseholdColumn()
    poor_since_exit = HouseholdColumn()
    returned = HouseholdColumn()
    restored_at_recheck = HouseholdColumn()
    committee_error = HouseholdColumn()
    committee_estimate = HouseholdColumn()
    committee_shown = HouseholdColumn()
    committee_proposed = HouseholdColumn()
    team_signal_sum = HouseholdColumn()
    team_signal_count = HouseholdColumn()
    team_last_visit = HouseholdColumn()
    pending_since = HouseholdColumn()
    pending_purpose = HouseholdColumn()
    favoured_entry = HouseholdColumn()
    fines_paid = HouseholdColumn()
    cadre = HouseholdColumn()
    baseline_income = HouseholdColumn()
    baseline_tercile = HouseholdColumn()
    cadre_kin = HouseholdColumn()
    cadre_friend = HouseholdColumn()
    fav_weight = HouseholdColumn()
    cause = HouseholdColumn()

    # --- the village's numbers (VillageNumber: a row a county engine keeps in its table)
    cash_fund = VillageNumber(float)
    measure_fund = VillageNumber(float)
    project_fund = VillageNumber(float)
    budget_factor = VillageNumber(float)
    infrastructure = VillageNumber(float)
    evidence_fade = VillageNumber(float)
    skill_median = VillageNumber(float)
    asset_median = VillageNumber(float)
    favoritism_now = VillageNumber(float)
    identified = VillageNumber(bool)
    committee_estimated = VillageNumber(bool)
    force_disaster = VillageNumber(bool)
    force_audit = VillageNumber(bool)
    n_helpers = VillageNumber(int)
    team_visits_done = VillageNumber(int)
    team_visits_demanded = VillageNumber(int)
    team_visits_total = VillageNumber(int)
    detected_diversions = VillageNumber(int)
    team_months_last_year = VillageNumber(int)

    def build_state(self) -> np.ndarray:
        """Build the village from the ``village`` stream; return the cadres' greed.

        Returns:
            The cadres' greed (handed to the committee by the caller, with the cadres).
        """
        p = self.p
        rng = self.streams["village"]
        v = build_village(p, rng)
        n = self.n = p.n_households
        self.clan, self.persons, self.labour = v.clan, v.persons, v.labour
        self.persons_float = self.persons.astype(np.float64)  # persons never change
        self.skill, self.assets, self.sick = v.skill, v.assets, v.sick
        self.kin, self.friends = v.kin, v.friends
        self.network = unweighted_csr(n, np.concatenate([positive_keys(v.kin),
                                                         positive_keys(v.friends)]))
        self.set_cadres(v.cadres)

        self.measure_income = np.zeros(n)
        self.project_income = np.zeros(n)
        self.infrastructure = 1.0
        self.skill_median = float(np.median(self.skill))  # skill never changes
        self.asset_median = float(np.median(self.assets))  # changes only in disasters
        # the cause each household would have if it were well: skill, labour and assets only
        # (labour and skill never change; cached until assets change, assets_changed)
        self._cause_if_well: np.ndarray | None = None
        self.cause = self.causes()
        self._y: np.ndarray | None = None  # y, cached until income_hist changes
        self._y_order: np.ndarray | None = None  # np.argsort(y), cached with it
        self._income_12: np.ndarray | None = None  # income_hist summed over 12 months, too
        # 12 months of history so that y is defined from the start
        self.income_hist = np.zeros((12, n))
        self.aid_hist = np.zeros((12, n))
        self.other_transfer_hist = np.zeros((12, n))  # diverted money, kin exchange, fines
        self.diverted_hist = np.zeros((12, n))  # diverted money received (what kin can see)
        self.diverted_to = np.zeros(n, dtype=bool)  # ever received any: diverted_hist's columns
        annual = self.annual_capacity()
        sigma = p.income_volatility
        for k in range(12):
            self.income_hist[k] = annual / 12.0 * numerics.mean_one(
                sigma * rng.standard_normal(n), sigma * sigma)
        # baseline: market income of the 12 months before month 1, and its per-capita third
        # (0 poorest, 2 richest), what project gains are measured against (project_gain_gradient)
        self.baseline_income = self.income_hist.sum(axis=0)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(self.baseline_income / self.persons, kind="stable")] = np.arange(n)
        self.baseline_tercile = (INCOME_GROUPS * rank // n).astype(np.int8)

        self.registered = np.zeros(n, dtype=bool)
        self.aid_received = np.zeros(n)
        self.diverted_received = np.zeros(n)
        self.kin_net = np.zeros(n)
        self.trust = np.clip(rng.normal(p.initial_trust, p.initial_trust_spread, size=n), 0.0, 1.0)
        self.helper = np.full(n, -1, dtype=np.int64)
        self.n_helpers = 0
        self.diagnosis = np.zeros(n, dtype=np.int8)  # Cause code; NONE: not diagnosed
        self.diagnosed_by = np.zeros(n, dtype=np.int8)  # an Actor code
        self.measure_month = np.full(n, NEVER, dtype=np.int64)
        self.measures_received = np.zeros(n, dtype=np.int64)
        self.exit_month = np.full(n, NEVER, dtype=np.int64)
        self.ever_exited = np.zeros(n, dtype=bool)
        self.wrongful_exit = np.zeros(n, dtype=bool)
        self.poor_since_exit = np.zeros(n, dtype=bool)
        self.returned = np.zeros(n, dtype=bool)
        self.restored_at_recheck = np.zeros(n, dtype=bool)
        self.identified = False
        self.identifications = 0
        # targeting of the register as written at the last identification, scored against y
        # of that month (identification.score_at_identification)
        self.at_identification: dict[str, float] = dict.fromkeys(AT_IDENTIFICATION, M.NAN)

        # --- what each institution knows (ODD §7.3): the committee's private estimate, with a
        # household-specific log-error that persists from year to year, and what it shows
        self.committee_error = np.zeros(n)
        self.committee_estimate = np.zeros(n)
        self.committee_shown = np.zeros(n)
        # the list the committee proposed at the last identification (before any check)
        self.committee_proposed = np.zeros(n, dtype=bool)
        self.committee_estimated = False
        self.favoritism_now = p.favoritism
        # the team's findings: the sum and count of its visits' measurements, and when
        self.team_signal_sum = np.zeros(n)
        self.team_signal_count = np.zeros(n)
        self.team_last_visit = np.full(n, NEVER, dtype=np.int64)
        self.pending_since = np.full(n, NO_REQUEST, dtype=np.int64)
        self.pending_purpose = np.zeros(n, dtype=np.int8)
        self.team_visits_done = 0
        self.team_visits_demanded = 0
        self.team_visits_total = 0
        # --- deterrence (ODD §7.4): each cadre's misperception of risk, and what was seen
        n_cadres = v.cadres.size
        sigma = p.perception_noise
        self.risk_perception = numerics.mean_one(sigma * rng.standard_normal(n_cadres),
                                                 sigma * sigma)
        # what cadres have seen, each month's record fading by exp(-1 / risk_memory): findings
        # by checks and exposures to them (deterrence.perceived_risk)
        self.evidence_found = dict.fromkeys(CHANNELS, 0.0)
        self.evidence_exposure = dict.fromkeys(CHANNELS, 0.0)
        self.evidence_fade = math.exp(-1.0 / p.risk_memory)
        # entries the committee listed by favoritism (its own judgement when it listed them)
        self.favoured_entry = np.zeros(n, dtype=bool)
        self.diversion_share = np.zeros(n_cadres)
        self.diversion_inclination = np.zeros(n_cadres)
        self.diversion_risk = np.zeros(n_cadres)
        self.channel_intensity = dict.fromkeys(CHANNELS, 1.0)
        self.fines_paid = np.zeros(n)
        self.cadre_replacements = 0
        self.failed_assessments = 0
        self.team_months_last_year = 0
        self.team_month_ring = np.zeros(12, dtype=bool)
        self.audit_month_due = False

        self.budget_factor = 1.0
        self.force_disaster = False
        self.force_audit = False
        # money: three funds carried over between months
        self.cash_fund = 0.0
        self.measure_fund = 0.0
        self.project_fund = 0.0
        self.flows: dict[str, float] = dict.fromkeys(LEDGER_FLOWS, 0.0)
        self.flow_hist: dict[str, np.ndarray] = {
            k: np.zeros(12) for k in LEDGER_FLOWS + MEMO_FLOWS}
        self.memo: dict[str, float] = dict.fromkeys(MEMO_FLOWS, 0.0)
        self.totals: dict[str, float] = dict.fromkeys(LEDGER_FLOWS, 0.0)
        self.industry_invested = 0.0
        self.measures_given = 0
        self.measures_matched = 0
        self.industry_misdirected = 0.0
        self.detected_diversions = 0
        self.exits_total = 0
        self.wrongful_exits_total = 0
        self.survey: dict[str, float] = {
            "missed_poor_rate": M.NAN, "wrongful_exit_rate": M.NAN, "approval": M.NAN,
            "survey_poor_share": M.NAN,
        }
        self._log_blocks: list[Mapping[str, np.ndarray]] = []  # a county appends LogRows
        self.slot = 0
        return v.cadre_greed

    def set_cadres(self, cadres: np.ndarray) -> None:
        """Seat the cadres: who is a cadre, a cadre's kin or friend, and how favoured.

        Favoured (优亲厚友): cadre households and their kin fully, their friends by
        ``friend_weight`` (half).
        """
        n = self.n
        self.cadres = np.sort(cadres)
        self.cadre = np.zeros(n, dtype=bool)
        self.cadre[self.cadres] = True
        self.cadre_kin = tied_to(self.kin, self.cadres) & ~self.cadre
        cadre_friend = tied_to(self.friends, self.cadres) & ~self.cadre
        self.fav_weight = np.where(
            self.cadre | self.cadre_kin, 1.0, np.where(cadre_friend, self.p.friend_weight, 0.0)
        )
        self.cadre_friend = cadre_friend
        self.cadre_kin_lists = [self.kin.indices[self.kin.indptr[c]:self.kin.indptr[c + 1]]
                                for c in self.cadres]

    def attach(self, blocks: dict[str, np.ndarray]) -> None:
        """Move the household columns into ``blocks`` (views of a stack's arrays, same shapes).

        The values are copied in, and from then on every write of a mechanism lands in the
        stack (HouseholdColumn writes in place). Used by :class:`village_sim.stack.VillageStack`.
        """
        for name in HOUSEHOLD_COLUMNS:
            own, block = self._columns[name], blocks[name]
            if block.shape != own.shape or block.dtype != own.dtype:
                raise ValueError(
                    f"household column {name!r}: block {block.dtype}{list(block.shape)} does "
                    f"not fit the village's {own.dtype}{list(own.shape)}")
            block[...] = own
            self._columns[name] = block

    # ------------------------------------------------------------------ queries
    def annual_capacity(self) -> np.ndarray:
        """Yearly market income each household can earn now (before monthly noise)."""
        p = self.p
        labour = self.labour * np.where(self.sick, p.sick_labour_share, 1.0)
        wage = p.wage * (1.0 - p.remote_wage_loss * p.remoteness)  # p.wage at remoteness 0
        base = wage * labour * self.skill + p.asset_return * self.assets
        return base * self.infrastructure + self.measure_income + self.project_income

    def causes(self) -> np.ndarray:
        """Each household's binding constraint (致贫原因) as things stand.

        ``cause_of_poverty``, with the part that does not depend on illness kept between
        months (illness comes first in it, so it simply overrides that part).
        """
        if self._cause_if_well is None:
            self._cause_if_well = cause_of_poverty(
                np.zeros(self.n, dtype=bool), self.labour, self.persons, self.skill,
                self.assets, self.p.labour_poverty_ratio, self.skill_median, self.asset_median)
        return np.where(self.sick, np.int8(Cause.ILLNESS), self._cause_if_well)

    def assets_changed(self) -> None:
        """Assets were written (a disaster, a fine): new median, causes recomputed."""
        self.asset_median = float(np.median(self.assets))
        self._cause_if_well = None

    @property
    def month(self) -> int:
        """The current month (the number of steps taken)."""
        return self.steps

    @property
    def team_active(self) -> bool:
        """Whether a work team is in the village this month."""
        if not self.p.team_present:
            return False
        return self.team_window_open

    @property
    def team_window_open(self) -> bool:
        """Whether this month lies in [team_arrives, team_leaves), with or without a team."""
        m = self.steps
        return m >= self.team_arrives and (self.team_leaves is None or m < self.team_leaves)

    @property
    def supervising(self) -> bool:
        """Whether an active team supervises the committee (相互监督)."""
        return self.team_active and self.p.team_supervision

    def eligible_to_list(self) -> np.ndarray:
        """Households that may be listed: not declared out of poverty in the last 12 months."""
        return (self.steps - self.exit_month) >= 12

    def team_knows(self) -> np.ndarray:
        """Households the team has visited within ``team_memory`` months (while present)."""
        return (self.steps - self.team_last_visit < self.p.team_memory) & (
            self.team_signal_count > 0)

    def team_estimate(self) -> np.ndarray:
        """The team's income estimate from its own visits (NaN where it knows nothing)."""
        known = self.team_knows()
        est = np.full(self.n, np.nan)
        est[known] = self.team_signal_sum[known] / self.team_signal_count[known]
        return est

    def per_capita_income(self) -> np.ndarray:
        """y: pre-transfer per-capita market income over the last 12 months (read-only view).

        Computed once per month: phases, metrics and every ``Household`` view share it.
        """
        if self._y is None:
            self._y = self.income_12() / self.persons
            self._y.flags.writeable = False
        return self._y

    def income_12(self) -> np.ndarray:
        """Market income of each household over the last 12 months (read-only; cached)."""
        if self._income_12 is None:
            self._income_12 = self.income_hist.sum(axis=0)
            self._income_12.flags.writeable = False
        return self._income_12

    def per_capita_income_order(self) -> np.ndarray:
        """``np.argsort(y)`` (read-only), once per month: the Gini and the deciles share it."""
        if self._y_order is None:
            self._y_order = np.argsort(self.per_capita_income())
            self._y_order.flags.writeable = False
        return self._y_order

    def income_changed(self) -> None:
        """Forget the cached y (and its order): this month's income has been written."""
        self._y = None
        self._y_order = None
        self._income_12 = None

    def per_capita_income_post(self, aid_12: np.ndarray | None = None) -> np.ndarray:
        """Per-capita income over the last 12 months after all transfers.

        ``aid_12`` is ``aid_hist.sum(axis=0)`` when the caller has it.
        """
        if aid_12 is None:
            aid_12 = self.aid_hist.sum(axis=0)
        total = self.income_12() + aid_12
        return (total + self.other_transfer_hist.sum(axis=0)) / self.persons

    def poor(self) -> np.ndarray:
        """Households with y below the poverty line."""
        return self.per_capita_income() < self.p.poverty_line

    # ------------------------------------------------------------------ records
    def log(self, mask: np.ndarray, year: int, proposed_by: np.ndarray | int,
            challenged_by: np.ndarray | int, outcome: np.ndarray | int,
            reason: np.ndarray | int) -> None:
        """Append registration decisions (codes of :mod:`village_sim.codes`) for ``mask``."""
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return

        def pick(a: np.ndarray | int) -> np.ndarray:
            return a[idx] if isinstance(a, np.ndarray) else np.full(idx.size, a, dtype=np.int8)

        self._log_blocks.append({
            "household_id": idx, "year": np.full(idx.size, year),
            "month": np.full(idx.size, self.steps),
            "proposed_by": pick(proposed_by), "challenged_by": pick(challenged_by),
            "outcome": pick(outcome), "reason": pick(reason),
        })

    def open_month(self) -> None:
        """Start the month's books: this month's history slot, flows at zero."""
        self.slot = self.steps % 12
        for k in LEDGER_FLOWS:
            self.flows[k] = 0.0
        for k in MEMO_FLOWS:
            self.memo[k] = 0.0
        for c in CHANNELS:  # what cadres saw fades (deterrence.perceived_risk)
            self.evidence_found[c] *= self.evidence_fade
            self.evidence_exposure[c] *= self.evidence_fade

    def close_month(self) -> None:
        """Book the month: funds carried over, 12-month and cumulative flow totals."""
        f = self.flows
        f["carried_over"] = self.cash_fund + self.measure_fund + self.project_fund
        slot = self.steps % 12
        for k in LEDGER_FLOWS:
            self.flow_hist[k][slot] = f[k]
            self.totals[k] += f[k]
        for k in MEMO_FLOWS:
            self.flow_hist[k][slot] = self.memo[k]
        self.team_month_ring[slot] = self.team_active
        self.team_months_last_year = int(self.team_month_ring.sum())

    def ledger_balance(self) -> float:
        """This month's inflows minus outflows (zero up to rounding: money is conserved)."""
        f = self.flows
        inflow = f["released"] + f["staff_funding"] + f["carried_in"] + f["returned_to_village"]
        outflow = (f["delivered"] + f["diverted"] + f["measures_spent"] + f["projects_spent"]
                   + f["staff_costs"] + f["carried_over"])
        return inflow - outflow


# Every household column of a village, in declaration order (a stack holds one array of each).
HOUSEHOLD_COLUMNS: tuple[str, ...] = tuple(
    name for name, value in vars(VillageState).items() if isinstance(value, HouseholdColumn))
# Every number of a village, in declaration order (the places of its ``_numbers`` row, and the
# columns of a county engine's table of them: county/books.Numbers).
VILLAGE_NUMBERS: tuple[str, ...] = tuple(
    name for name, value in vars(VillageState).items() if isinstance(value, VillageNumber))
