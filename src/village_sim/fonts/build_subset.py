"""Rebuild the shipped CJK font: a subset of Noto Sans CJK SC with TrueType outlines.

Usage (needs the full Noto Sans CJK font, e.g. Debian's ``fonts-noto-cjk``)::

    python -m village_sim.fonts.build_subset /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

The subset holds every character of GB 2312 (all 6,763 hanzi of the national standard for
simplified Chinese, with its punctuation, symbols, kana, Greek and Cyrillic), printable ASCII,
CJK punctuation and full-width forms, and every character of the message catalogs and the
shipped scenarios (``extra_characters``). GB 2312 covers nearly all modern Chinese text, so a
trainer's own scenario text renders too, not only the shipped one. Latin and Vietnamese come
from matplotlib's own DejaVu Sans, which is first in the font fallback list.

Outlines are converted from CFF (cubic) to TrueType (quadratic, 1 unit tolerance) because
matplotlib embeds fonts in PDF as Type 42 (TrueType) only; a CFF font there makes PDFs that
some viewers reject. Layout tables (GSUB, GPOS), vertical metrics and hinting are dropped:
matplotlib uses none of them. The family is renamed so that an installed full Noto font is
never mistaken for it (and vice versa); the copyright and the SIL Open Font License are kept
(see OFL.txt beside the font).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "VillageSimCJKSC-Regular.ttf"
FAMILY = "VillageSim CJK SC"
POSTSCRIPT = "VillageSimCJKSC-Regular"
SOURCE_FAMILY = "Noto Sans CJK SC"


def gb2312_characters() -> set[str]:
    """Every character of GB 2312 (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    out: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                out.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def extra_characters() -> set[str]:
    """Every character in the message catalogs and the shipped scenario files."""
    package = HERE.parent
    files = sorted((package / "i18n").glob("*.toml")) + sorted(
        (package / "scenarios").glob("*.toml"))
    chars: set[str] = set()
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for text in _strings(data):
            chars.update(text)
    return chars


def wanted_characters() -> set[str]:
    """The characters the subset must cover."""
    chars = gb2312_characters() | extra_characters()
    chars |= {chr(c) for c in range(0x20, 0x7F)}
    chars |= {chr(c) for c in range(0x3000, 0x3040)}  # CJK symbols and punctuation
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}  # full-width forms
    chars |= set("–—‘’“”…·•←→↑↓≤≥×÷±°")
    return {c for c in chars if c.isprintable()}


def _to_truetype(font: Any) -> None:
    """Convert a CFF-flavoured font to TrueType outlines in place."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    f = font
    order = f.getGlyphOrder()
    glyph_set = f.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    f["loca"] = newTable("loca")
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    f["glyf"] = glyf
    del f["CFF "]
    glyf.compile(f)
    hmtx = f["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    f["maxp"] = maxp
    post = f["post"]
    post.formatType = 3.0  # no glyph names: CID-keyed source fonts have none
    post.extraNames = []
    post.mapping = {}
    f["head"].glyphDataFormat = 0
    f.sfntVersion = "\x00\x01\x00\x00"


def _rename(font: Any) -> None:
    name = font["name"]
    source_version = name.getDebugName(5) or ""
    replacements = {
        1: FAMILY, 4: f"{FAMILY} Regular", 6: POSTSCRIPT, 16: FAMILY, 17: "Regular",
        3: f"{POSTSCRIPT};village_sim subset",
        10: f"Subset of {SOURCE_FAMILY} ({source_version.split(';')[0]}) made for village_sim: "
            "GB 2312 and the texts of the package, TrueType outlines. SIL Open Font License 1.1.",
    }
    for record in list(name.names):
        if record.nameID in (1, 3, 4, 6, 10, 16, 17, 18, 21, 22):
            name.removeNames(nameID=record.nameID)
    for name_id, text in replacements.items():
        name.setName(text, name_id, 3, 1, 0x409)
        name.setName(text, name_id, 1, 0, 0)


def build(source: Path, output: Path = OUTPUT) -> Path:
    """Subset ``source`` (a Noto Sans CJK .ttc or the SC .otf) and write ``output``."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() == ".ttc":
        fonts = TTCollection(str(source)).fonts
        matches = [f for f in fonts if f["name"].getDebugName(1) == SOURCE_FAMILY]
        if not matches:
            raise SystemExit(f"{source}: no {SOURCE_FAMILY!r} face in this collection")
        font = matches[0]
    else:
        font = TTFont(str(source))
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vmtx", "vhea", "VORG", "JSTF",
                            "DSIG"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in wanted_characters()))
    subsetter.subset(font)
    _to_truetype(font)
    _rename(font)
    font.save(str(output))
    return output


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m village_sim.fonts.build_subset SOURCE [--out FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc or "
                                                  "NotoSansCJKsc-Regular.otf")
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    path = build(args.source, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
