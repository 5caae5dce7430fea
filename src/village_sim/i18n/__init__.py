"""Message catalogs: every user-facing label in Chinese, Vietnamese and English.

Translations live in one TOML file per language beside this module (``zh.toml``, ``vi.toml``,
``en.toml``), with the same keys in each: ``section.name``, e.g. ``metric.kin_premium``,
``regime.team_and_committee``, ``param.quota``, ``event.flood``, ``chart.month``. Metric,
regime, parameter and event keys use the names of the code
(:data:`village_sim.model.METRIC_NAMES`, :data:`village_sim.params.REGIMES`,
:data:`village_sim.params.PARAMETERS`, :data:`village_sim.events.EVENT_KINDS`), so that a
caller holding a name can always find its label. ``tests/test_i18n.py`` fails on a key missing
in any language, on an extra key and on a key that no code uses.

Terms follow ``glossary.toml`` beside this module: one term per concept in each language, from
the glossary of DESIGN.md §2, the source article's own wording in both languages (驻村工作队 /
đội công tác đóng tại làng; 优亲厚友 / ưu đãi người thân, bạn bè; 既相互配合，又相互监督 / vừa
phối hợp với nhau, lại giám sát lẫn nhau) and the terminology review of issue 15; the Vietnamese
catalog uses Vietnamese institutional terms (bình xét hộ nghèo, niêm yết công khai, rà soát lại,
hạn mức). ``tests/test_glossary.py`` fails when a catalog, a scenario, a handout or
docs/teaching.md uses a variant the glossary rules out.

Use::

    from village_sim.i18n import Catalog, t

    t("metric.kin_premium", "zh")                       # '识别中的亲属溢价'
    t("chart.compare_suptitle", "vi", first=25, last=36)
    _ = Catalog("vi")
    _.metric("kin_premium"), _.regime("team_alone"), _.event("flood"), _("app.play")
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "APP_KEYS",
    "DEFAULT_LANG",
    "LANGUAGES",
    "Catalog",
    "check_lang",
    "language_names",
    "messages",
    "t",
    "unit_key",
]

LANGUAGES: tuple[str, ...] = ("zh", "vi", "en")
"""Language codes, in the order the app's language switch shows them."""

DEFAULT_LANG = "en"
"""The reference catalog: every other catalog has exactly its keys."""

_ALIASES = {
    "zh": "zh", "zh-cn": "zh", "zh_cn": "zh", "zh-hans": "zh", "cn": "zh", "chinese": "zh",
    "中文": "zh",
    "vi": "vi", "vi-vn": "vi", "vi_vn": "vi", "vn": "vi", "vietnamese": "vi",
    "tiếng việt": "vi",
    "en": "en", "en-us": "en", "en_us": "en", "en-gb": "en", "en_gb": "en", "english": "en",
}

APP_KEYS: tuple[str, ...] = (
    "app.title", "app.heading", "app.subheading", "app.language", "app.scenario",
    "app.no_scenario", "app.scenario_loaded", "app.story", "app.objectives", "app.watch",
    "app.questions", "app.scheduled_events", "app.village_and_regimes", "app.regime",
    "app.regime_left", "app.second_regime", "app.side_scenario", "app.side_control",
    "app.side_by_side", "app.seed", "app.seed_help",
    "app.parameters", "app.parameters_help", "app.at_most_live", "app.restart", "app.step",
    "app.not_applied", "app.pending", "app.field_changed", "app.projector",
    "app.settings_show", "app.settings_hide", "app.download",
    "app.download_series", "app.download_decisions", "app.download_settings",
    "app.play", "app.pause", "app.reset", "app.speed", "app.month", "app.status",
    "app.instructor_events", "app.events", "app.happened", "app.coming", "app.event_month",
    "app.event_no_effect", "app.reason_already", "app.reason_no_team", "app.reason_team_there",
    "app.reason_team_gone", "app.event_only", "app.real_rate",
    "app.truth", "app.committee_sees", "app.income_per_person", "app.aid_received",
    "app.kinship_network", "app.metrics_over_time", "app.any_metric", "app.chart_kin_premium",
    "app.chart_diverted_share", "app.chart_exclusion_error", "app.chart_mistargeting",
    "app.chart_poverty_headcount", "app.chart_approval", "app.note_kin_premium",
    "app.note_diverted_share", "app.note_exclusion_error", "app.note_mistargeting",
    "app.note_poverty_headcount", "app.note_approval", "app.now", "app.metric",
    "app.difference", "app.yes", "app.no", "app.undefined", "app.household_inspector",
    "app.pick_household", "app.household", "app.household_label", "app.cadre", "app.cadre_kin",
    "app.household_chart_alt", "app.story_income_title", "app.story_aid_title",
    "app.poverty_line", "app.kin_ties", "app.none", "app.no_decisions", "app.clan",
    "app.status_truth_0", "app.status_truth_1", "app.status_truth_2", "app.status_truth_3",
    "app.status_committee_0", "app.status_committee_1", "app.status_committee_2",
    "app.status_committee_3", "app.status_committee_4", "app.legend_cadre",
    "app.legend_cadre_kin", "app.legend_team_member", "app.legend_kin_tie", "app.marker_size",
    "app.team_in_village", "app.team_left", "app.team_not_yet", "app.team_none",
    "app.network_title", "app.subtitle_truth", "app.subtitle_unknown", "app.subtitle_committee",
    # the county view (village_sim.viz.county)
    "app.view_village", "app.view_county", "app.county_settings", "app.county_settings_help",
    "app.county_villages", "app.county_households", "app.county_teams", "app.county_rule",
    "app.county_years", "app.county_too_many", "app.rule_none", "app.rule_random",
    "app.rule_poorest_first", "app.rule_most_complaints_first", "app.rule_rotate",
    "app.rule_cash_equivalent", "app.county_metric", "app.county_title", "app.county_village",
    "app.county_pool", "app.county_legend_team", "app.county_legend_moved",
    "app.county_legend_cash", "app.county_col_event", "app.county_col_team",
    "app.county_col_village", "app.county_col_why", "app.county_arrives", "app.county_leaves",
    "app.county_why_random", "app.county_why_no_estimate", "app.county_why_poor",
    "app.county_why_survey", "app.county_why_register", "app.county_why_complaints",
    "app.county_why_never", "app.county_why_last", "app.county_why_term", "app.county_why_cash",
    "app.county_now", "app.county_log", "app.county_no_log", "app.county_open_hint",
    "app.county_back", "app.county_finished", "app.county_picture_alt", "app.county_status",
)
"""Labels of the live app (``village_sim.app`` and ``village_sim.viz``), exactly the ``app.*``
keys it uses (``tests/test_app.py`` checks both ways)."""


def check_lang(lang: str | None) -> str:
    """Return the language code for ``lang`` (``zh``, ``vi`` or ``en``; aliases accepted).

    ``None`` gives :data:`DEFAULT_LANG`. Aliases: ``zh-CN``, ``zh-Hans``, ``cn``, ``中文``;
    ``vi-VN``, ``vn``, ``Tiếng Việt``; ``en-US``, ``en-GB``, ``english`` (any case).

    Raises:
        ValueError: naming the value and the allowed languages.
    """
    if lang is None:
        return DEFAULT_LANG
    code = _ALIASES.get(str(lang).strip().lower())
    if code is None:
        allowed = ", ".join(f"{c} ({_names()[c]})" for c in LANGUAGES)
        raise ValueError(f"language: got {lang!r}; allowed: {allowed}")
    return code


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise ValueError(f"message {name!r}: got {value!r}; allowed: a string")
    return out


@cache
def _catalog(lang: str) -> dict[str, str]:
    text = resources.files(__name__).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def _names() -> dict[str, str]:
    return {c: _catalog(DEFAULT_LANG)[f"lang.{c}"] for c in LANGUAGES}


def messages(lang: str) -> dict[str, str]:
    """Every message of one language, as a new dict ``{key: text}`` (e.g. for a web page)."""
    return dict(_catalog(check_lang(lang)))


def language_names() -> dict[str, str]:
    """Each language's own name: ``{"zh": "中文", "vi": "Tiếng Việt", "en": "English"}``."""
    return _names()


def t(key: str, lang: str | None = DEFAULT_LANG, /, **values: Any) -> str:
    """The message ``key`` in language ``lang``, with ``{name}`` fields filled from ``values``.

    A key missing from a language falls back to English (the tests keep the catalogs complete,
    so this only protects a user's half-finished catalog).

    Args:
        key: ``section.name``, e.g. ``"metric.kin_premium"``.
        lang: ``"zh"``, ``"vi"`` or ``"en"`` (aliases as :func:`check_lang`).
        **values: Values for the message's ``{fields}``.

    Raises:
        KeyError: for a key that is in no catalog.
        ValueError: for an unknown language.
    """
    code = check_lang(lang)
    text = _catalog(code).get(key)
    if text is None:
        text = _catalog(DEFAULT_LANG).get(key)
        if text is None:
            raise KeyError(f"no message {key!r} (add it to src/village_sim/i18n/*.toml)")
    return text.format(**values) if values else text


def unit_key(unit: str) -> str:
    """A unit's catalog name: ``"yuan per person per year"`` -> ``yuan_per_person_per_year``."""
    return re.sub(r"[^a-z0-9]+", "_", unit.lower()).strip("_")


_VI_DIGITS = str.maketrans(",.", ".,")


_PROBLEM_KEYS = {
    "bool": "problem.value", "choice": "problem.value", "range": "problem.value",
    "after": "problem.after", "sum_at_most_1": "problem.sum_at_most_1",
    "fewer_than": "problem.fewer_than", "live_max": "problem.live_max", "seed": "problem.seed",
    "regime": "problem.regime", "unknown": "problem.unknown", "language": "problem.language",
    "scenario": "problem.scenario",
}
"""Rules of :class:`village_sim.params.ParameterError` -> their message."""


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _shown(value: Any) -> str:
    """A value as the reader typed or would type it (no Python quotes or ``None``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return _number(value)
    return str(value)


class Catalog:
    """The messages of one language, with helpers for the names used in code.

    Args:
        lang: ``"zh"``, ``"vi"`` or ``"en"`` (aliases as :func:`check_lang`).

    Example::

        _ = Catalog("zh")
        _("chart.month"), _.metric("kin_premium"), _.regime("committee_only")
    """

    __slots__ = ("lang",)

    def __init__(self, lang: str | None = DEFAULT_LANG):
        self.lang = check_lang(lang)

    def __repr__(self) -> str:
        return f"Catalog({self.lang!r})"

    def __call__(self, key: str, /, **values: Any) -> str:
        """The message ``key`` (see :func:`t`)."""
        return t(key, self.lang, **values)

    def metric(self, name: str) -> str:
        """Label of a metric of ``METRIC_NAMES``."""
        return self(f"metric.{name}")

    def metric_help(self, name: str) -> str:
        """One-sentence explanation of a metric."""
        return self(f"metric_help.{name}")

    def regime(self, name: str) -> str:
        """Label of a regime."""
        return self(f"regime.{name}")

    def rule(self, name: str) -> str:
        """Label of a built-in deployment rule of a county (a custom rule: its own name)."""
        try:
            return self(f"app.rule_{name}")
        except KeyError:
            return name

    def regime_short(self, name: str) -> str:
        """A regime's short label (legends, side titles, table headers)."""
        return self(f"regime_short.{name}")

    def param(self, name: str) -> str:
        """Label of a parameter."""
        return self(f"param.{name}")

    def event(self, kind: str) -> str:
        """Label of an event kind."""
        return self(f"event.{kind}")

    def actor(self, name: str) -> str:
        """Who acted in a decision (``village_sim.codes.Actor``, lower-case name)."""
        return self(f"actor.{name}")

    def outcome(self, name: str) -> str:
        """A decision's outcome (``village_sim.codes.Outcome``, lower-case name)."""
        return self(f"outcome.{name}")

    def reason(self, name: str) -> str:
        """A decision's reason (``village_sim.codes.Reason``, lower-case name)."""
        return self(f"reason.{name}")

    def cause(self, name: str) -> str:
        """A cause of poverty (``village_sim.village.Cause``, lower-case name)."""
        return self(f"cause.{name}")

    def direction(self, direction: str) -> str:
        """``higher`` or ``lower``, translated."""
        return self(f"direction.{direction}")

    def allowed(self, name: str) -> str:
        """What parameter ``name`` allows, in plain words (its table: kind and range)."""
        from village_sim.params import PARAM_BY_NAME

        param = PARAM_BY_NAME[name]
        if param.kind == "bool":
            return self("allowed.bool")
        if param.kind == "choice":
            return self("allowed.choice", choices=", ".join(param.choices))
        kind = self("allowed.integer") if param.kind in ("int", "optional_int") \
            else self("allowed.number")
        low = "−∞" if param.low is None else self.digits(_number(param.low))
        high = "∞" if param.high is None else self.digits(_number(param.high))
        text = self("allowed.above_to" if param.low_open else "allowed.between",
                    kind=kind, low=low, high=high)
        return self("allowed.or_never", allowed=text) if param.kind == "optional_int" else text

    def field(self, name: str) -> str:
        """The label of an input of the app: a parameter's label, or the seed's, the regime's."""
        from village_sim.params import PARAM_BY_NAME

        if name in PARAM_BY_NAME and name != "regime":
            return self.param(name)
        return {"seed": self("app.seed"), "regime": self("app.regime"),
                "lang": self("app.language"), "scenario": self("app.scenario")}.get(name, name)

    def problem(self, error: Any) -> str:
        """A bad input (a :class:`village_sim.params.ParameterError`) in plain words.

        Names the field by its label, repeats the value as given and says what is allowed,
        in this catalog's language (the English ``str(error)`` is the CLI's and API's form,
        with the parameter's code name).
        """
        key = _PROBLEM_KEYS.get(error.rule)
        if key is None:  # a message with no structured form (e.g. a scenario file's)
            return str(error)
        allowed = self.allowed(error.name) if key == "problem.value" else ""
        other = self.field(error.other) if error.other else ""
        def shown(value: Any) -> str:  # a number in the reader's convention, text as typed
            return self.digits(_shown(value)) if isinstance(value, float) else _shown(value)

        text = self(key, field=self.field(error.name), value=shown(error.value),
                    allowed=allowed, other=other, other_value=shown(error.other_value))
        return text[:1].upper() + text[1:]  # a sentence, even where a label is lower case

    def number(self, value: float, spec: str = "") -> str:
        """``value`` formatted by the Python ``spec`` in the reader's convention.

        English and Chinese write ``1,308`` and ``0.308``; Vietnamese ``1.308`` and ``0,308``
        (thousands by a dot, decimals by a comma).
        """
        return self.digits(format(value, spec))

    def digits(self, text: str) -> str:
        """A number written the English way (``1,308.5``), in this language's convention."""
        return text.translate(_VI_DIGITS) if self.lang == "vi" else text

    def read_number(self, text: str) -> str:
        """A number typed in the reader's convention, as Python reads numbers.

        In Vietnamese a decimal comma is accepted (``0,5`` is 0.5); a dot is read as a
        decimal point too, since a box for one number holds no thousands. Other languages:
        unchanged.
        """
        raw = text.strip()
        if self.lang == "vi" and raw.count(",") == 1 and "." not in raw:
            return raw.replace(",", ".")
        return raw

    def unit(self, unit: str) -> str:
        """A parameter's unit (``Param.unit``, as written in the table), translated."""
        return self(f"unit.{unit_key(unit)}") if unit else ""

    def language_name(self, code: str) -> str:
        """A language's own name (``中文``, ``Tiếng Việt``, ``English``)."""
        return self(f"lang.{check_lang(code)}")

    def messages(self) -> dict[str, str]:
        """Every message of this language (a new dict)."""
        return messages(self.lang)
