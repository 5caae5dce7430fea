"""village_sim: favoritism in village poverty-alleviation allocation, with and without a team.

Households linked by kinship, a village committee whose cadres have kin, and a resident work
team (驻村工作队) that cooperates with and supervises the committee. See docs/ODD.md.

The model (and Mesa) are imported on first use, so that ``village-sim --help`` is quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "METRIC_NAMES",
    "PARAMETERS",
    "REGIMES",
    "VillageModel",
    "__version__",
    "load_overrides",
    "resolve_parameters",
]

if TYPE_CHECKING:
    from village_sim.model import METRIC_NAMES, VillageModel
    from village_sim.params import PARAMETERS, REGIMES, load_overrides, resolve_parameters

_LAZY = {
    "METRIC_NAMES": "village_sim.model",
    "VillageModel": "village_sim.model",
    "PARAMETERS": "village_sim.params",
    "REGIMES": "village_sim.params",
    "load_overrides": "village_sim.params",
    "resolve_parameters": "village_sim.params",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'village_sim' has no attribute {name!r}")
