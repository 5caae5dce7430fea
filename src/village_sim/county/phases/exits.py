"""The yearly exit assessment for a county (mirrors :func:`village_sim.mechanisms.exits.assess`).

Every identified village certifies its register at once: the committee's stated estimates,
replaced by the team's own measurement where a supervising team knows the household and acts
(the ``challenge`` policy's default, drawn from each village's ``certification`` stream), and
exit-target pressure drawn from each village's ``committee`` stream — one generator call per
draw and village (D3), everything else on the stacked arrays. Where a village decides
``challenge`` by another rule, every village assesses with its own mechanism (D6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from village_sim.codes import Actor, Outcome, Reason
from village_sim.county.phases.draws import random_each
from village_sim.mechanisms import exits

if TYPE_CHECKING:
    from village_sim.county.stacked import StackedVillages

__all__ = ["assess"]


def assess(e: StackedVillages) -> None:
    """Yearly exit assessment of every identified village's register (before identification)."""
    vs = e.villages
    if e.decided_otherwise(exits.assess, "challenge"):  # another rule decides (D6)
        return
    P, seg = e.params, e.segments
    village = seg.village
    identified = e.gather("identified", bool)
    if not identified.any():
        return
    month = e.month
    c = e.stack.columns
    z = P.of_households("poverty_line")
    y = e.y
    team_active = e.team_active()
    supervising = identified & team_active & P("team_supervision").astype(bool)
    reg = c["registered"] & identified[village]

    # the team certifies the registered households it knows, unless co-opted (_team_certifies)
    certified = e.team_knows() & reg & supervising[village]
    cert_count = seg.count(certified)
    # each supervising village's certification draws, and each identified village's exit
    # draws (streams of their own), village after village
    u_cert = random_each(e, "certification", np.flatnonzero(supervising),
                         cert_count[supervising])
    u_exit = np.empty(seg.n)
    u_exit[identified[village]] = random_each(e, "committee", np.flatnonzero(identified),
                                              seg.sizes[identified])
    est = c["committee_shown"].copy()
    k = np.flatnonzero(certified)
    acts = u_cert >= P("cooptation")[village[k]]
    est[k[acts]] = c["team_signal_sum"][k[acts]] / c["team_signal_count"][k[acts]]

    band = P.derived("exit_band_floor", lambda p: (1.0 - p.exit_band) * p.poverty_line)
    above = reg & (est >= z)
    pressed = reg & ~above & (est >= band[village]) & (
        u_exit < P.of_households("exit_pressure")) & identified[village]
    out = above | pressed
    c["registered"][...] = c["registered"] & ~out
    c["exit_month"][out] = month
    c["ever_exited"][...] |= out
    poor = y < z
    c["wrongful_exit"][out] = poor[out]
    c["poor_since_exit"][out] = False
    exits_now = seg.count(out).tolist()
    wrongful_now = seg.count(out & poor).tolist()
    for v, n_out, n_wrong in zip(vs, exits_now, wrongful_now, strict=True):
        v.exits_total += n_out
        v.wrongful_exits_total += n_wrong
    year = (month - 1) // 12 + 1
    reason = np.where(above, Reason.ASSESSED_ABOVE_LINE, Reason.EXIT_PRESSURE)
    actor = np.where(team_active, np.int8(Actor.TEAM), np.int8(Actor.COMMITTEE))[village]
    e.log(out, year, 0, actor, Outcome.EXITED, reason)
    c["helper"][out] = -1
