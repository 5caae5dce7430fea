"""village_sim: favoritism in village poverty-alleviation allocation, with and without a team.

Households linked by kinship, a village committee whose cadres have kin, and a resident work
team (驻村工作队) that cooperates with and supervises the committee. See docs/ODD.md.
"""

from village_sim.model import METRIC_NAMES, VillageModel
from village_sim.params import PARAMETERS, REGIMES, load_overrides, resolve_parameters

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
