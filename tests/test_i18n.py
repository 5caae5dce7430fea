"""Message catalogs and fonts: every key in every language, no unused key, every glyph drawn.

The catalogs (src/village_sim/i18n/{zh,vi,en}.toml) must hold exactly the same keys; the keys
named after code (metrics, regimes, parameters, events) must match the code's names exactly;
every other key must be used by some module; and figures with Chinese and Vietnamese text
must render with no missing glyph, from the fonts shipped in the package alone.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
import warnings
from pathlib import Path

import pytest

import village_sim
from village_sim.codes import Actor, Outcome, Reason
from village_sim.county.metrics import COUNTY_METRICS
from village_sim.county.model import COUNTY_PARAMETERS
from village_sim.dictionary import DESCRIBED, UNITS, county_columns, county_notes
from village_sim.events import EVENT_KINDS
from village_sim.fonts import CJK_FAMILY, FONT_FILE, families, missing_glyphs, use_fonts
from village_sim.i18n import (
    APP_KEYS,
    LANGUAGES,
    Catalog,
    check_lang,
    messages,
    t,
    unit_key,
)
from village_sim.model import METRIC_NAMES
from village_sim.params import PARAMETERS, REGIMES
from village_sim.scenario import DIRECTIONS
from village_sim.village import Cause

PACKAGE = Path(village_sim.__file__).parent
CATALOG_DIR = PACKAGE / "i18n"

# key families named after code: section -> the names the code uses (a county's metrics,
# parameters and own columns too: village_sim.county)
FAMILIES: dict[str, set[str]] = {
    "lang": set(LANGUAGES),
    "metric": set(METRIC_NAMES) | set(COUNTY_METRICS),
    "metric_help": set(METRIC_NAMES) | set(COUNTY_METRICS),
    "regime": set(REGIMES),
    "regime_short": set(REGIMES),
    "param": {p.name for p in (*PARAMETERS, *COUNTY_PARAMETERS)},
    "event": set(EVENT_KINDS),
    "direction": set(DIRECTIONS),
    "actor": {a.name.lower() for a in Actor if a != Actor.NOBODY},
    "outcome": {o.name.lower() for o in Outcome},
    "reason": {r.name.lower() for r in Reason},
    "cause": {c.name.lower() for c in Cause},
    "unit": {unit_key(p.unit) for p in (*PARAMETERS, *COUNTY_PARAMETERS) if p.unit},
    # the data dictionary (columns.csv) of village_sim.dictionary
    "column": set(DESCRIBED) | set(county_columns()),
    "county_column": set(county_notes()),
    "column_unit": {unit_key(u) for u in UNITS | {c.unit for c in county_columns().values()}
                    if u},
}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))


# ---------------------------------------------------------------------------- completeness
def test_one_catalog_file_per_language() -> None:
    """One catalog per language; beside them only the glossary (tests/test_glossary.py)."""
    catalogs = [p.stem for p in CATALOG_DIR.glob("*.toml") if p.name != "glossary.toml"]
    assert sorted(catalogs) == sorted(LANGUAGES)
    assert (CATALOG_DIR / "glossary.toml").is_file()


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_no_key_missing_or_extra(lang: str) -> None:
    reference, other = set(messages("en")), set(messages(lang))
    assert not reference - other, f"missing in {lang}.toml: {sorted(reference - other)}"
    assert not other - reference, f"extra in {lang}.toml (not in en.toml): " \
                                  f"{sorted(other - reference)}"


def test_code_named_keys_match_the_code_exactly() -> None:
    keys = set(messages("en"))
    for section, names in FAMILIES.items():
        present = {k.split(".", 1)[1] for k in keys if k.split(".", 1)[0] == section}
        assert not names - present, f"{section}: no message for {sorted(names - present)}"
        assert not present - names, f"{section}: messages for unknown names " \
                                    f"{sorted(present - names)}"


def test_every_other_key_is_used_by_the_code() -> None:
    code = source_text()
    static = [k for k in messages("en") if k.split(".", 1)[0] not in FAMILIES]
    unused = [k for k in static if f'"{k}"' not in code and f"'{k}'" not in code]
    assert not unused, f"keys no module uses (remove them or use them): {unused}"
    assert set(APP_KEYS) <= set(messages("en")), set(APP_KEYS) - set(messages("en"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_messages_are_non_empty_nfc_with_the_same_fields(lang: str) -> None:
    english = messages("en")
    for key, text in messages(lang).items():
        assert text.strip(), f"{lang}: {key} is empty"
        assert unicodedata.normalize("NFC", text) == text, f"{lang}: {key} is not NFC"
        assert fields(text) == fields(english[key]), (
            f"{lang}: {key} has fields {sorted(fields(text))}, English has "
            f"{sorted(fields(english[key]))}")
        if lang == "vi":
            assert not re.search(r"[\u4e00-\u9fff]", text) or key.startswith("lang."), key


def test_scenarios_read_the_models_metric_names_from_the_catalog() -> None:
    """The catalog labels the county's own metrics too; a scenario may claim only a village's."""
    from village_sim.scenario import _metric_names

    assert set(_metric_names()) == set(METRIC_NAMES)
    assert len(_metric_names()) == len(METRIC_NAMES)


def test_county_columns_in_english_are_the_county_s_own_words() -> None:
    """The English catalog's ``column.NAME`` of a county's column (the text translators work
    from) says what village_sim.county.model.COUNTY_COLUMNS says, so that a change there shows
    up here and its translations are revisited. The glossary's spelling “favouritism” is the
    one difference allowed (columns.csv in English keeps COUNTY_COLUMNS' words)."""
    entries = county_columns()
    assert {"between_village_gini", "teams_deployed", "village", "rule"} <= set(entries)
    assert not {"year", "month", "persons", "reason", "baseline"} & set(entries)  # COLUMNS'
    for name, entry in entries.items():
        assert t(f"column.{name}", "en") == entry.meaning.replace("favoritism", "favouritism"), \
            name
        assert not entry.unit or t(f"column_unit.{unit_key(entry.unit)}", "en") == entry.unit
    notes = county_notes()  # the names other files use otherwise: county_column.NAME
    assert set(notes) == {"year", "month", "persons", "reason", "regime", "baseline"}
    for name, entry in notes.items():
        assert t(f"county_column.{name}", "en") == entry.meaning, name


@pytest.mark.parametrize("lang", ["zh", "vi"])
def test_county_parameters_are_described_by_their_labels(lang: str) -> None:
    """A county's parameters in columns.csv (a county sweep's): label and unit in ``lang``;
    in English the meaning of COUNTY_PARAMETERS, as before the labels."""
    from village_sim.dictionary import describe

    for p in COUNTY_PARAMETERS:
        english, other = describe(p.name), describe(p.name, lang)
        assert english is not None and other is not None, p.name
        assert english.meaning == f"parameter: {p.meaning}"
        assert english.unit == (p.unit or "dimensionless")
        assert other.meaning == t("dictionary.parameter", lang, meaning=t(f"param.{p.name}", lang))
        assert other.meaning != english.meaning and other.unit != english.unit, p.name


def test_translations_differ_from_english() -> None:
    """A copied English string in zh or vi is a missing translation in disguise."""
    english = messages("en")
    same_ok = {"lang.zh", "lang.vi", "lang.en", "cli.col_n", "metric.gini"}
    for lang in ("zh", "vi"):
        copied = [k for k, v in messages(lang).items() if v == english[k] and k not in same_ok]
        assert not copied, f"{lang}: untranslated {copied}"


def test_glossary_terms_of_the_source_article() -> None:
    zh, vi = messages("zh"), messages("vi")
    assert zh["regime.team_and_committee"] == "驻村工作队与村委会既相互配合，又相互监督"
    assert "vừa phối hợp với nhau, lại giám sát lẫn nhau" in vi["regime.team_and_committee"]
    assert "优亲厚友" in zh["param.favoritism"]
    assert "ưu đãi người thân, bạn bè" in vi["param.favoritism"].lower()
    assert zh["param.recheck"] == "回头看" and vi["param.recheck"] == "Rà soát lại"
    assert "bình xét" in vi["param.democratic_appraisal"].lower()
    assert "niêm yết công khai" in vi["param.democratic_appraisal"]
    assert zh["param.helpers"] == "帮扶责任人"
    assert vi["param.helpers"] == "Cán bộ chịu trách nhiệm hỗ trợ"


# ---------------------------------------------------------------------------- API
def test_t_and_catalog() -> None:
    assert t("metric.kin_premium", "zh") == "识别中的亲属溢价"
    assert t("chart.compare_suptitle", "vi", first=25, last=36).endswith("(tháng 25–36)")
    assert t("event.flood") == "Flood"  # English by default
    _ = Catalog("zh-CN")
    assert _.lang == "zh"
    assert _.metric("coverage") == "贫困户覆盖率"
    assert _.regime("team_alone").startswith("驻村工作队单独识别")
    assert _.param("quota").startswith("规模控制")
    assert _.event("team_leaves") == "驻村工作队撤离"
    assert _.language_name("vi") == "Tiếng Việt"
    assert check_lang("Tiếng Việt") == "vi" and check_lang(None) == "en"
    with pytest.raises(KeyError, match="no message 'metric.nope'"):
        t("metric.nope", "vi")
    with pytest.raises(ValueError, match="language: got 'fr'; allowed: zh"):
        t("metric.gini", "fr")


# ---------------------------------------------------------------------------- fonts
def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_every_character_of_catalogs_and_scenarios_has_a_glyph() -> None:
    files = sorted(CATALOG_DIR.glob("*.toml")) + sorted((PACKAGE / "scenarios").glob("*.toml"))
    assert len(files) >= 3 + 8
    for path in files:
        text = "".join(_strings(tomllib.loads(path.read_text(encoding="utf-8"))))
        assert missing_glyphs(text) == [], f"{path.name}: no glyph for {missing_glyphs(text)}; " \
                                           "rebuild the font (src/village_sim/fonts/README.md)"


def test_font_is_shipped_renamed_and_licensed() -> None:
    from fontTools.ttLib import TTFont

    assert FONT_FILE.is_file() and FONT_FILE.stat().st_size < 4_000_000
    license_text = (FONT_FILE.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in license_text and "Adobe" in license_text
    with TTFont(str(FONT_FILE)) as font:
        assert font["name"].getDebugName(1) == CJK_FAMILY  # not a Reserved Font Name
        assert "glyf" in font  # TrueType outlines: embeddable as Type 42 in PDF
        assert len(font.getBestCmap()) > 7000  # GB 2312 and more: trainers' own texts too


def test_fonts_come_from_the_package_not_the_system() -> None:
    """What matplotlib draws with is DejaVu Sans (bundled with matplotlib) and our subset,
    so a machine with no CJK font installed renders the same."""
    import matplotlib
    from matplotlib import font_manager

    data = Path(matplotlib.get_data_path()).resolve()
    latin, cjk = families()
    assert cjk == CJK_FAMILY
    found_cjk = Path(font_manager.findfont(font_manager.FontProperties(family=cjk),
                                           fallback_to_default=False)).resolve()
    assert found_cjk == FONT_FILE
    found_latin = Path(font_manager.findfont(font_manager.FontProperties(family=latin),
                                             fallback_to_default=False)).resolve()
    assert data in found_latin.parents


def _draw(titles: list[str]) -> list[str]:
    """Draw a figure with these titles (shipped fonts); return the warnings raised."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with warnings.catch_warnings(record=True) as caught, use_fonts():
        warnings.simplefilter("always")
        fig = Figure(figsize=(6, 2 + len(titles)))
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(titles), 1, squeeze=False)
        for ax, title in zip(axes.flat, titles, strict=True):
            ax.set_title(title)
            ax.set_xlabel(title[:20])
        fig.canvas.draw()
    return [str(w.message) for w in caught]


def test_figure_with_chinese_and_vietnamese_titles_has_every_glyph() -> None:
    zh, vi = Catalog("zh"), Catalog("vi")
    titles = [zh.regime("team_and_committee"), vi.regime("team_and_committee"),
              zh.metric("kin_premium") + " · " + vi.metric("kin_premium"),
              "优亲厚友 / ưu đãi người thân, bạn bè / Ỷ ỹ Ừ ừ Ữ ữ Ợ ợ Đ đ"]
    messages_seen = _draw(titles)
    assert not [m for m in messages_seen if "missing from font" in m], messages_seen


def test_missing_glyphs_are_detected() -> None:
    """The check above can fail: DejaVu Sans alone has no Chinese."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = Figure()
        FigureCanvasAgg(fig)
        fig.subplots().set_title("驻村工作队", family="DejaVu Sans")
        fig.canvas.draw()
    assert any("missing from font" in str(w.message) for w in caught)
    assert missing_glyphs("𠀀 ok") == ["𠀀"]  # CJK Extension B: not in the subset


def test_compare_figure_in_chinese_and_vietnamese(tmp_path: Path) -> None:
    """``compare --lang``'s figure: translated titles and legend, no missing glyph."""
    from village_sim import experiment as ex

    df = ex.run_paired(["committee_only", "team_and_committee"], [1, 2], 13,
                       {"n_households": 60})
    for lang in ("zh", "vi"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = ex.plot_metrics(df, tmp_path / f"{lang}.png", ex.PLOT_METRICS, 12, lang=lang)
        assert path.read_bytes()[:4] == b"\x89PNG"
        assert not [w for w in caught if "missing from font" in str(w.message)], lang
