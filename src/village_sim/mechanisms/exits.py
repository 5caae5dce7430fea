"""Exits (脱贫), wrongful exits (错退) and returns to poverty (返贫). ODD §7.8."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.codes import Actor, Outcome, Reason
from village_sim.mechanisms import policies
from village_sim.state import Purpose

if TYPE_CHECKING:
    from village_sim.state import VillageState


def assess(s: VillageState) -> None:
    """Yearly exit assessment (脱贫), just before the new register is written (months 13, 25…).

    Exits and wrongful exits (错退) are decided on the register of the year that ends, so the
    register never stands half-empty between assessment and identification. The committee
    certifies from the estimates it states (so its kin and friends look poorer and stay on);
    a supervising team certifies the households its own visits measured, from that
    measurement, unless it goes along with the committee (the ``challenge`` policy, as for
    every supervisory act; a team that does not check the committee signs what it is shown).
    Those seen above the line exit. Under exit-target pressure (数字脱贫),
    a share ``exit_pressure`` of those it sees within ``exit_band`` (a quarter) of the line
    below it are
    declared out too.
    """
    if not s.identified:
        return
    p, z = s.p, s.p.poverty_line
    y = s.per_capita_income()
    est = s.committee_shown.copy()
    if s.supervising:
        _team_certifies(s, est)
    # the pressure's draw comes from the committee's stream in every regime (common random
    # numbers): exit targets press on whoever certifies
    rng = s.committee.stream
    reg = s.registered
    above = reg & (est >= z)
    pressed = reg & ~above & (est >= (1.0 - p.exit_band) * z) & (rng.random(s.n) < p.exit_pressure)
    out = above | pressed
    s.registered = reg & ~out
    s.exit_month[out] = s.steps
    s.ever_exited |= out
    s.wrongful_exit[out] = y[out] < z
    s.poor_since_exit[out] = False
    s.exits_total += int(out.sum())
    s.wrongful_exits_total += int((out & (y < z)).sum())
    year = (s.steps - 1) // 12 + 1
    outcome = Outcome.EXITED
    reason = np.where(above, Reason.ASSESSED_ABOVE_LINE,
                      Reason.EXIT_PRESSURE)
    actor = Actor.TEAM if s.team_active else Actor.COMMITTEE
    s.log(out, year, 0, actor, outcome, reason)
    s.helper[out] = -1


def _team_certifies(s: VillageState, est: np.ndarray) -> None:
    """Put the team's measurement in ``est`` for the registered households it knows and acts on.

    Whether it acts is the ``challenge`` policy's (by default: unless co-opted, probability
    ``cooptation`` per household), drawn from the ``certification`` stream so that no other
    stream moves: at ``cooptation = 0`` the default acts everywhere, as before.
    """
    k = np.flatnonzero(s.team_knows() & s.registered)
    measured = s.team_signal_sum[k] / s.team_signal_count[k]
    view = policies.ChallengeView(
        households=k, estimate=measured, registered=np.ones(k.size, dtype=bool),
        purpose=np.full(k.size, Purpose.EXIT, dtype=np.int8),
        eligible=s.eligible_to_list()[k], recently_exited=np.zeros(k.size, dtype=bool),
        poverty_line=s.p.poverty_line, cooptation=s.p.cooptation)
    acts = policies.check_mask("challenge",
                               s.policies["challenge"](view, s.streams["certification"]), k.size)
    est[k[acts]] = measured[acts]


def track_returns(s: VillageState) -> None:
    """Track exited households that fall back below the line (返贫)."""
    exited = s.ever_exited & ~s.registered
    poor = s.poor()
    newly = exited & poor & ~s.poor_since_exit & ~s.wrongful_exit
    s.returned |= newly
    s.poor_since_exit |= exited & poor
