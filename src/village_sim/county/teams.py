"""A county's pool of work teams: what each team is, read and checked (issue 11).

``teams`` is a number (that many teams with the defaults below) or a list of tables, one per
kind of team, e.g. in a TOML file::

    [[team]]
    count = 10               # this many teams of this kind (default 1)
    size = 3                 # members (the village's team_size)
    visits_per_month = 4     # household visits per member a month (team_visits_per_month)
    noise = 0.15             # error of one visit's income reading (team_noise)
    cooptation = 0.0         # probability the team goes along with the committee (cooptation)
    term_years = 2           # years in one village (2017 guideline: at least 2)
    funds_yuan = 230000      # money its sending unit gives the village a year
    coordinated_yuan = 710000  # money it coordinates from elsewhere a year

A team acts on the village it is sent to through that village's own parameters
(:meth:`TeamSpec.village_parameters`): its members, visits, noise and cooptation, and the money
it brings as the village's ``mobilization_yuan`` (yuan a year, whatever the village's budget). The
money defaults are the averages 程虹 & 吴润清 (2022) report for sending units: about ¥230,000 a
village a year given and ¥710,000 coordinated; that higher-level units bring more is reported
there, but not by how much per level, so a team's money is given per team, not derived from a
sending level.

Every field is checked where it enters, naming the team and the field
(``teams[2].size: got 0; allowed: an integer in [1, 100]``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from village_sim.params import PARAM_BY_NAME, read_tables
from village_sim.refusal import Phrase

__all__ = ["TEAM_FIELDS", "TeamSpec", "load_teams", "parse_teams"]

@dataclass(frozen=True)
class TeamSpec:
    """One work team (module docstring for the fields)."""

    size: int = int(PARAM_BY_NAME["team_size"].default)
    visits_per_month: int = int(PARAM_BY_NAME["team_visits_per_month"].default)
    noise: float = float(PARAM_BY_NAME["team_noise"].default)
    cooptation: float = float(PARAM_BY_NAME["cooptation"].default)
    term_years: int = 2
    funds_yuan: float = 230_000.0
    coordinated_yuan: float = 710_000.0

    @property
    def mobilized_yuan(self) -> float:
        """Money the team brings its village a year (given and coordinated)."""
        return self.funds_yuan + self.coordinated_yuan

    def village_parameters(self) -> dict[str, Any]:
        """The parameters of the village this team is sent to that the team sets.

        Its money is the village's ``mobilization_yuan`` (yuan a year, whatever the village's
        own budget; ``mobilization``, the share of the base budget, is 0).
        """
        return {"team_present": True, "team_size": self.size,
                "team_visits_per_month": self.visits_per_month, "team_noise": self.noise,
                "cooptation": self.cooptation, "resource_mobilization": True,
                "mobilization": 0.0, "mobilization_yuan": self.mobilized_yuan}


def _param(name: str) -> Any:
    return PARAM_BY_NAME[name].validate


def _term(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise ValueError("an integer in [1, 10]")
    return value


def _yuan(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not \
            0 <= value <= 1e9 or value != value:
        raise ValueError("a number of yuan in [0, 1e9]")
    return float(value)


TEAM_FIELDS: dict[str, tuple[Any, str | None]] = {
    "size": (_param("team_size"), "team_size"),
    "visits_per_month": (_param("team_visits_per_month"), "team_visits_per_month"),
    "noise": (_param("team_noise"), "team_noise"),
    "cooptation": (_param("cooptation"), "cooptation"),
    "term_years": (_term, None),
    "funds_yuan": (_yuan, None),
    "coordinated_yuan": (_yuan, None),
}
"""Each field of a team table: its check, and the village parameter whose range it shares."""


def _check(where: str, key: str, value: Any) -> Any:
    check, param = TEAM_FIELDS[key]
    try:
        return check(value)
    except ValueError as err:
        allowed = PARAM_BY_NAME[param].allowed() if param else str(err)
        raise ValueError(f"{where}.{key}: got {value!r}; allowed: {allowed}") from None


def parse_teams(value: Any, source: str = "teams") -> list[TeamSpec]:
    """The teams ``value`` describes: a count of default teams, or a list of team tables.

    Raises:
        ValueError: naming the team and the field, the value and what is allowed.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 100_000:
            raise ValueError(f"{source}: got {value!r}; allowed: a number of teams in "
                             "[0, 100000], or a list of team tables")
        return [TeamSpec()] * value
    if isinstance(value, Mapping) or not isinstance(value, list | tuple):
        raise ValueError(f"{source}: got {value!r}; allowed: a number of teams, or a list of "
                         "team tables")
    teams: list[TeamSpec] = []
    for i, table in enumerate(value):
        where = f"{source}[{i}]"
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: got {table!r}; allowed: a table of team fields "
                             f"({', '.join(['count', *TEAM_FIELDS])})")
        known = {"count", *TEAM_FIELDS}
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"{where}: unknown field {key!r}{hint} (allowed: "
                                 f"{', '.join(['count', *TEAM_FIELDS])})")
        count = table.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100_000:
            raise ValueError(f"{where}.count: got {count!r}; allowed: an integer in "
                             "[0, 100000]")
        spec = TeamSpec(**{key: _check(where, key, table[key]) for key in TEAM_FIELDS
                           if key in table})
        teams.extend([spec] * count)
    return teams


def load_teams(path: str | Path) -> list[TeamSpec]:
    """The teams of a TOML file of ``[[team]]`` tables (module docstring).

    Raises:
        ValueError: for a missing or unreadable file or bad TOML (a refusal in the reader's
            language, :func:`village_sim.params.read_toml`), or a bad team (naming it).
    """
    path = Path(path)
    tables = read_tables(path, Phrase("phrase.teams_file"), "team")
    return parse_teams(tables, source=f"{path.name}: team")

