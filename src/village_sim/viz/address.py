"""The page's address: a view's settings in its query string, to share as a link and reopen.

``?lang=vi&regime=committee_only&side_by_side=1&compare=team_alone&seed=7&favoritism=0.8``
opens the app in Vietnamese, side by side, on seed 7 with that parameter; ``scenario=ID``
loads a shipped teaching scenario (by id only: an address never makes the server open a file).
Parameters are written only where they differ from their default, by their names in
docs/parameters.md.

``?view=county&villages=30&households=120&teams=6&rule=poorest_first&years=6&seed=1&metric=
kin_premium`` opens the county view (:mod:`village_sim.viz.county`) with those settings and the
villages coloured by that metric; every county setting is written.

Pure Python, no Solara: the page (``village_sim.app``) reads the address
once when it opens and writes it whenever settings are applied.

A bad address never stops the page: every bad entry is left out, said as a
:class:`~village_sim.params.ParameterError` (shown in the page's banner), and the rest applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from village_sim.i18n import check_lang
from village_sim.params import PARAM_BY_NAME, ParameterError
from village_sim.viz.controller import (
    Settings,
    SettingsError,
    parameter_text,
    parse_settings,
    parse_value,
    scenario_settings,
)
from village_sim.viz.county import (
    COUNTY_METRICS,
    COUNTY_SETTING_KEYS,
    DEFAULT_COUNTY_METRIC,
    CountySettings,
    parse_county_settings,
)

__all__ = ["OpenedPage", "county_from_query", "county_query", "page_from_query",
           "projector_in_query", "settings_from_query", "settings_query"]

APP_KEYS = ("lang", "scenario", "regime", "side_by_side", "compare", "seed", "projector", "view")
"""The address's own keys, before the parameters (which go by their names)."""


def settings_query(settings: Settings, lang: str, projector: bool = False) -> str:
    """The query string (without ``?``) that reopens ``settings`` in ``lang``.

    Scenario events are not written: the scenario's id brings them back. ``projector``:
    projector mode (written as ``projector=1``, or ``projector=0`` when off).
    """
    items: list[tuple[str, str]] = [("lang", check_lang(lang)),
                                    ("projector", "1" if projector else "0")]
    if settings.scenario is not None and _shipped(settings.scenario):
        items.append(("scenario", settings.scenario))
    items.append(("regime", settings.regime))
    if settings.side_by_side:
        items.append(("side_by_side", "1"))
        if settings.scenario is None:
            items.append(("compare", settings.compare_regime))
    items.append(("seed", settings.seed.strip()))
    for name, text in settings.parameters.items():
        if name not in PARAM_BY_NAME or not text.strip():
            continue
        try:
            value = parse_value(name, text, settings.lang)
        except ValueError:
            continue  # never applied: a running village cannot hold it
        if value != PARAM_BY_NAME[name].default:
            items.append((name, parameter_text(value)))
    return urlencode(items)


def projector_in_query(search: str | None) -> bool | None:
    """Projector mode as the address says it (``projector=1`` / ``0``).

    None if it says nothing: then the browser's remembered choice applies.
    """
    for key, value in parse_qsl(search or "", keep_blank_values=True):
        if key == "projector":
            return value.strip().lower() in ("1", "true", "yes", "on")
    return None


def settings_from_query(search: str | None) -> tuple[Settings, str | None, list[ParameterError]]:
    """Read an address's query string.

    Returns:
        (settings, language or None if the address names none, problems): the settings hold
        every good entry; each bad one is left out and said in ``problems``.
    """
    entries: dict[str, str] = {}
    for key, value in parse_qsl(search or "", keep_blank_values=True):
        entries[key] = value  # a repeated key: the last wins, as in a form
    lang, problems = _lang_entry(entries)
    base = Settings()
    scenario = entries.get("scenario")
    if scenario is not None:
        if _shipped(scenario):
            base = scenario_settings(scenario)
        else:
            problems.append(ParameterError(
                f"scenario: got {scenario!r}; allowed: the id of a shipped scenario",
                "scenario", scenario, "scenario"))
    parameters = dict(base.parameters)
    for key, value in entries.items():
        if key in APP_KEYS:
            continue
        if key not in PARAM_BY_NAME or key == "regime":
            problems.append(ParameterError(f"unknown parameter {key!r}", key, key, "unknown"))
            continue
        parameters[key] = value
    settings = Settings(
        regime=entries.get("regime", base.regime),
        compare_regime=entries.get("compare", base.compare_regime),
        side_by_side=entries.get("side_by_side", "0").strip().lower() in ("1", "true", "yes"),
        seed=entries.get("seed", base.seed),
        parameters=parameters, events=base.events, scenario=base.scenario,
    )
    return _keep_what_validates(settings, base, problems), lang, problems


def _lang_entry(entries: Mapping[str, str]) -> tuple[str | None, list[ParameterError]]:
    """The address's ``lang`` entry, checked: (the language or None, its problem if bad)."""
    if "lang" not in entries:
        return None, []
    try:
        return check_lang(entries["lang"]), []
    except ValueError as err:
        return None, [ParameterError(str(err), "lang", entries["lang"], "language")]


def _keep_what_validates(settings: Settings, base: Settings,
                         problems: list[ParameterError]) -> Settings:
    """``settings`` with each refused entry put back to ``base``'s (said in ``problems``)."""
    try:
        parse_settings(settings)
        return settings
    except SettingsError as err:
        problems.extend(err.problems)
        refused = {p.name for p in err.problems} | {p.other for p in err.problems if p.other}
    kept = Settings(
        regime=base.regime if "regime" in refused else settings.regime,
        compare_regime=base.compare_regime if "regime" in refused else settings.compare_regime,
        side_by_side=settings.side_by_side,
        seed=base.seed if "seed" in refused else settings.seed,
        parameters=_without(settings.parameters, base.parameters, refused),
        events=settings.events, scenario=settings.scenario,
    )
    try:
        parse_settings(kept)
        return kept
    except SettingsError:
        return base  # a combination still refused: the address's parameters are all dropped


def _without(parameters: Mapping[str, str], base: Mapping[str, str],
             refused: set[str]) -> dict[str, str]:
    out = {k: v for k, v in parameters.items() if k not in refused}
    out.update({k: v for k, v in base.items() if k in refused})
    return out


def _shipped(ref: str) -> bool:
    from village_sim.scenario import list_scenarios

    return ref in {s.id for s in list_scenarios()}



# ---------------------------------------------------------------------------- the county view
VIEWS = ("village", "county")
"""What the page shows: one village (or two side by side), or a county (``view=county``)."""


def county_query(settings: CountySettings, metric: str, lang: str) -> str:
    """The query string (without ``?``) that reopens the county view with ``settings``."""
    items = [("lang", check_lang(lang)), ("view", "county")]
    items += [(name, text.strip()) for name, text in settings.texts().items()]
    items.append(("metric", metric))
    return urlencode(items)


def county_from_query(entries: Mapping[str, str]
                      ) -> tuple[CountySettings, str, list[ParameterError]]:
    """The county settings and metric of an address's entries (``view=county``).

    Returns:
        (settings, metric, problems): every bad entry is left out (its default kept) and said
        in ``problems``, as for a village's address.
    """
    problems: list[ParameterError] = []
    base = CountySettings()
    chosen = {name: entries[name] for name in COUNTY_SETTING_KEYS if name in entries}
    for key in entries:
        if key not in COUNTY_SETTING_KEYS and key not in ("lang", "view", "metric",
                                                          "projector"):
            problems.append(ParameterError(f"unknown parameter {key!r}", key, key, "unknown"))
    settings = CountySettings(**chosen)
    try:
        parse_county_settings(settings)
    except SettingsError as err:
        problems.extend(err.problems)
        refused = {p.name for p in err.problems} | {p.other for p in err.problems if p.other}
        settings = CountySettings(**{k: v for k, v in chosen.items() if k not in refused})
        try:
            parse_county_settings(settings)
        except SettingsError:
            settings = base
    metric = entries.get("metric", DEFAULT_COUNTY_METRIC)
    if metric not in COUNTY_METRICS:
        problems.append(ParameterError(
            f"metric: got {metric!r}; allowed: one of {', '.join(COUNTY_METRICS)}", "metric",
            metric, "county_metric"))
        metric = DEFAULT_COUNTY_METRIC
    return settings, metric, problems


@dataclass(frozen=True)
class OpenedPage:
    """What an address opens: the view, its settings, the language, what was left out."""

    view: str
    settings: Settings
    lang: str | None
    problems: list[ParameterError] = field(default_factory=list)
    county: CountySettings = field(default_factory=CountySettings)
    metric: str = DEFAULT_COUNTY_METRIC


def page_from_query(search: str | None) -> OpenedPage:
    """Read an address: the village view's settings or, with ``view=county``, the county's.

    See :func:`settings_from_query` and :func:`county_from_query`.
    """
    entries = dict(parse_qsl(search or "", keep_blank_values=True))
    view = entries.get("view", "village")
    if view != "county":
        settings, lang, problems = settings_from_query(search)
        if view not in VIEWS:
            problems.append(ParameterError(
                f"view: got {view!r}; allowed: one of {', '.join(VIEWS)}", "view", view,
                "county_view"))
        return OpenedPage("village", settings, lang, problems)
    lang, problems = _lang_entry(entries)
    county, metric, more = county_from_query(entries)
    return OpenedPage("county", Settings(), lang, problems + more, county, metric)
