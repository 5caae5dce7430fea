"""Fonts shipped with the package, so figures render Chinese and Vietnamese on any machine.

Matplotlib's own DejaVu Sans covers Latin and every Vietnamese letter with its diacritics
(ư, ơ, ạ, ế, …) but no Chinese. The package ships ``VillageSimCJKSC-Regular.ttf``, a subset
of Noto Sans CJK SC (SIL Open Font License 1.1, see ``OFL.txt``) holding all of GB 2312 and
every character of the catalogs and scenarios; ``build_subset.py`` rebuilds it. Figures use
matplotlib's per-glyph font fallback (matplotlib >= 3.6): the family list is
``["DejaVu Sans", "VillageSim CJK SC"]``, so Latin and Vietnamese come from DejaVu Sans and
Chinese from the subset, whatever fonts the machine has (none need be installed).

Use :func:`use_fonts` around code that creates and saves figures::

    from village_sim.fonts import use_fonts

    with use_fonts():
        fig = Figure(); ...; fig.savefig("chart.png")

:func:`missing_glyphs` lists the characters of a text that neither font covers (for checking a
trainer's own scenario before class).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, cast

__all__ = [
    "CJK_FAMILY",
    "FONT_FILE",
    "LATIN_FAMILY",
    "families",
    "missing_glyphs",
    "register",
    "rc_params",
    "use_fonts",
]

FONT_FILE = Path(__file__).resolve().with_name("VillageSimCJKSC-Regular.ttf")
"""The shipped CJK font (TrueType outlines, so PDFs embed it as Type 42)."""

CJK_FAMILY = "VillageSim CJK SC"
LATIN_FAMILY = "DejaVu Sans"


@cache
def register() -> str:
    """Add the shipped font to matplotlib's font manager (once); return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(FONT_FILE))
    return str(font_manager.FontProperties(fname=str(FONT_FILE)).get_name())


def families() -> list[str]:
    """The font fallback list: DejaVu Sans first (Latin, Vietnamese), then the CJK subset."""
    return [LATIN_FAMILY, register()]


def rc_params() -> dict[str, Any]:
    """Matplotlib settings for figures with Chinese and Vietnamese text.

    Fonts are embedded in PDF and PostScript as Type 42 (TrueType), so text stays text.
    """
    return {"font.family": families(), "pdf.fonttype": 42, "ps.fonttype": 42}


@contextlib.contextmanager
def use_fonts() -> Iterator[None]:
    """Context in which new figures use the shipped fonts (``matplotlib.rc_context``)."""
    import matplotlib

    with matplotlib.rc_context(rc=cast(Any, rc_params())):
        yield


@cache
def _covered() -> frozenset[int]:
    import matplotlib
    from fontTools.ttLib import TTFont

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    covered: set[int] = set()
    for path in (dejavu, FONT_FILE):
        with TTFont(str(path), lazy=True) as font:
            covered |= set(font.getBestCmap())
    return frozenset(covered)


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that neither shipped font covers (whitespace ignored), sorted."""
    covered = _covered()
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in covered})
