"""The instructor's guide in English, Chinese and Vietnamese: docs/teaching.md, .zh.md, .vi.md.

Run from the repository root::

    uv run python docs/make_teaching_guides.py           # write the three guides
    uv run python docs/make_teaching_guides.py --check   # exit 1 if a committed guide is stale

Each guide is generated, so that it cannot drift from its sources:

* the prose is written in a template, docs/teaching_src/<lang>.md (en.md is the original, zh.md
  and vi.md hand translations): a TOML front matter between ``+++`` lines (the small phrases
  and separators the generated parts use, and notes) and a Markdown body with placeholders;
* every scenario's title, story, objectives, what to watch, questions and answers come from
  the scenario file's ``[text.<lang>]`` (src/village_sim/scenarios/*.toml), its settings and
  the measured claim are written with the catalogs' handout sentences;
* app buttons, metric, regime, parameter and event names come from the catalogs
  (src/village_sim/i18n/<lang>.toml), numbers in the reader's convention (``Catalog.digits``:
  Vietnamese ``0,166``);
* the claims table and every number that quotes a claim from docs/figures/teaching/claims.csv
  (written with claims.md by docs/figures/make_teaching_figures.py; the English guide shows
  claims.md's own table);
* the source article's two quotations from docs/teaching_src/article.toml;
* the glossary table from tests/test_glossary.py (``glossary_table``, read from
  src/village_sim/i18n/glossary.toml);
* figures: the scenario's figure in the guide's language where one exists
  (docs/figures/teaching/<id>_<lang>.png), else the English one.

No generated guide is read as a source.

Placeholders of the template body, ``{{kind}}`` or ``{{kind:argument}}``:

``scenario:ID`` (title and id), ``title:ID``, ``short:ID``, ``order:ID``; ``label:KEY`` (a
catalog message; ``label:KEY|field=value`` fills a field); ``metric:NAME``, ``regime:NAME``,
``event:KIND``; ``num:1.5`` (a number in the reader's convention); ``claim:ID.FIELD`` (``mean``,
``ci_low``, ``ci_high``, ``t``: a measured number as the claims table writes it; ``window``:
the claim's months, ``25–36``); ``count`` (scenarios), ``seeds`` (paired villages per claim),
``critical_t``; ``article:zh`` / ``article:vi``; ``claims_table``, ``metric_notes``,
``figures_note``, ``glossary_table``. Section 4's scenarios are either ``scenarios`` (every
scenario in full: story, settings, objectives, what to watch, the measured claim, figure, note,
questions and answers; the Chinese and Vietnamese guides) or, per scenario, ``heading:ID``,
``figure:ID`` and ``qa:ID`` (its questions and answers) around prose written in the template
(the English guide); then every scenario must have its ``qa:ID`` exactly once. An unknown
placeholder or front-matter key, or a front-matter key a placeholder needs but the template
lacks, is an error.

tests/test_teaching_guide.py fails when a committed guide differs from a fresh generation.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from village_sim.i18n import Catalog
from village_sim.params import PARAM_BY_NAME
from village_sim.scenario import Scenario, list_scenarios, load_control
from village_sim.teaching import claim_sentence, format_value

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
TEMPLATES = DOCS / "teaching_src"
ARTICLE = TEMPLATES / "article.toml"
FIGURES = "figures/teaching"
LANGS = ("en", "zh", "vi")
COMMAND = "uv run python docs/make_teaching_guides.py"

STRINGS = {
    "colon": "after a label",
    "semicolon": "between items of a line",
    "lparen": "an opening parenthesis",
    "rparen": "a closing parenthesis",
    "list_sep": "between titles in a list",
    "scenario_ref": "a scenario in running text: {title}, {id}",
    "scenario_heading": "section 4's heading of a scenario: {order}, {title}, {id}",
    "qa_heading": "the heading of the questions with their answers",
    "claims_header": "the claims table's column names (a list of 10)",
    "interval": "a 95% interval: {low}, {high}",
    "identical_cell": "the claims table's last cell with the identical-start check: {holds}, "
                      "{until}, {answer}",
    "identical_yes": "the sentence when both sides are identical up to month {until}",
    "identical_no": "the sentence when they are not",
    "metric_note": "one line of the metric notes: {label}, {help}, {name} (the code name)",
    "figures_note": "which figures are in the guide's language: {titles}",
    "notes": "a table: scenario id -> a note printed under its figure",
}
"""The front matter's keys: each is required only by the placeholders that use it."""


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@cache
def _figures_script() -> ModuleType:
    return _load("_make_teaching_figures", DOCS / "figures" / "make_teaching_figures.py")


@cache
def _glossary_test() -> ModuleType:
    return _load("_test_glossary", ROOT / "tests" / "test_glossary.py")


def guide_path(lang: str) -> Path:
    """Where the guide in ``lang`` is written (docs/teaching.md, docs/teaching.<lang>.md)."""
    return DOCS / ("teaching.md" if lang == "en" else f"teaching.{lang}.md")


def template_path(lang: str) -> Path:
    """The hand-translated template of the guide in ``lang``."""
    return TEMPLATES / f"{lang}.md"


@dataclass(frozen=True)
class Template:
    """A guide's template: its front matter (phrases, notes) and its Markdown body."""

    lang: str
    strings: dict[str, Any]
    body: str

    @classmethod
    def read(cls, lang: str) -> Template:
        """Read docs/teaching_src/<lang>.md and check its front matter."""
        path = template_path(lang)
        text = path.read_text(encoding="utf-8")
        match = re.fullmatch(r"\+\+\+\n(.*?)\n\+\+\+\n(.*)", text, re.DOTALL)
        if match is None:
            raise ValueError(f"{path}: expected a TOML front matter between '+++' lines")
        strings = tomllib.loads(match.group(1))
        unknown = set(strings) - set(STRINGS)
        if unknown:
            raise ValueError(f"{path}: front matter: unknown {sorted(unknown)}; "
                             f"allowed: {sorted(STRINGS)}")
        if "claims_header" in strings and len(strings["claims_header"]) != 10:
            raise ValueError(f"{path}: claims_header: got {len(strings['claims_header'])} "
                             "columns; allowed: 10")
        ids = {s.id for s in list_scenarios()}
        if set(strings.get("notes", {})) - ids:
            raise ValueError(f"{path}: notes for unknown scenarios "
                             f"{sorted(set(strings['notes']) - ids)}")
        return cls(lang, strings, match.group(2))


@cache
def article_quotes() -> dict[str, str]:
    """The source article's quotations (docs/teaching_src/article.toml) as Markdown quotes."""
    data = tomllib.loads(ARTICLE.read_text(encoding="utf-8"))
    if set(data) != {"zh", "vi"}:
        raise ValueError(f"{ARTICLE}: expected the quotations zh and vi, got {sorted(data)}")
    return {lang: "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())
            for lang, text in data.items()}


class _Strings:
    """A template's front matter, read by key; a missing key is an error naming the template."""

    def __init__(self, template: Template):
        self.template = template

    def __getitem__(self, key: str) -> Any:
        if key not in self.template.strings:
            raise ValueError(f"{template_path(self.template.lang)}: front matter lacks {key!r} "
                             f"({STRINGS[key]}), which the template's placeholders need")
        return self.template.strings[key]


class Guide:
    """Renders one language's guide from its template and the sources."""

    _PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)(?::([^|}]*))?(?:\|([^}]*))?\s*\}\}")

    def __init__(self, lang: str):
        self.lang = lang
        self.template = Template.read(lang)
        self._ = Catalog(lang)
        self._qa_shown: list[str] = []
        """Scenarios whose questions and answers the guide being rendered has shown."""
        self.scenarios = {sc.id: sc for sc in list_scenarios()}
        self.claims = {row.scenario: row for row in _figures_script().read_claims()}
        if set(self.claims) != set(self.scenarios):
            raise ValueError("docs/figures/teaching/claims.csv does not list exactly the "
                             f"shipped scenarios: {sorted(set(self.claims) ^ set(self.scenarios))}"
                             "; re-run docs/figures/make_teaching_figures.py")

    # ------------------------------------------------------------------------ small pieces
    @property
    def s(self) -> _Strings:
        """The template's front matter; a key it lacks is an error naming the template."""
        return _Strings(self.template)

    def number(self, value: float, reference: float | None = None, signed: bool = False) -> str:
        """A measured number as the claims table writes it, in the reader's convention."""
        return self._.digits(format_value(value, reference, signed))

    def scenario(self, sid: str) -> Scenario:
        """A shipped scenario by id (an unknown id is an error naming the template)."""
        if sid not in self.scenarios:
            raise ValueError(f"{template_path(self.lang)}: no scenario {sid!r}")
        return self.scenarios[sid]

    def ref(self, sid: str) -> str:
        """A scenario in running text: its title and id."""
        return self.s["scenario_ref"].format(title=self.scenario(sid).text(self.lang).title,
                                             id=sid)

    def claim_numbers(self, sid: str) -> dict[str, str]:
        """The measured numbers of a scenario's claim, written as in the claims table."""
        self.scenario(sid)
        row = self.claims[sid]
        ref = max(abs(row.mean), abs(row.ci_low), abs(row.ci_high))
        return {"mean": self.number(row.mean, ref, signed=True),
                "ci_low": self.number(row.ci_low, ref, signed=True),
                "ci_high": self.number(row.ci_high, ref, signed=True),
                "t": self._.digits(f"{row.t:.1f}"),
                "window": f"{row.first}–{row.last}"}

    def claim_field(self, argument: str) -> str:
        """``ID.FIELD``: one measured number of a scenario's claim."""
        sid, _, name = argument.partition(".")
        numbers = self.claim_numbers(sid)
        if name not in numbers:
            raise ValueError(f"{template_path(self.lang)}: claim:{argument}: no field {name!r}; "
                             f"allowed: {sorted(numbers)}")
        return numbers[name]

    def critical_t(self) -> str:
        """The t critical value of the claims (all measured on the same number of seeds)."""
        values = {row.critical_t for row in self.claims.values()}
        assert len(values) == 1, values
        return self._.digits(f"{values.pop():.2f}")

    def seeds(self) -> str:
        """The paired villages each claim was measured on."""
        values = {row.n for row in self.claims.values()}
        assert len(values) == 1, values
        return str(values.pop())

    def label(self, key: str, fields: str | None) -> str:
        """A catalog message, with ``field=value&field=value`` filled in."""
        values = dict(item.split("=", 1) for item in fields.split("&")) if fields else {}
        return self._(key, **values)

    # ------------------------------------------------------------------------ tables
    def claims_table(self) -> str:
        """The claims table of section 4, in this language (in English: claims.md's table)."""
        if self.lang == "en":
            rows = sorted(self.claims.values(), key=lambda r: r.order)
            return str(_figures_script().claims_table(rows)).rstrip("\n")
        header = self.s["claims_header"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for sid in sorted(self.claims, key=lambda k: self.claims[k].order):
            row = self.claims[sid]
            numbers = self.claim_numbers(sid)
            holds = self._("app.yes" if row.holds else "app.no")
            if row.identical_before is not None:
                holds = self.s["identical_cell"].format(
                    holds=holds, until=row.identical_until,
                    answer=self._("app.yes" if row.identical_before else "app.no"))
            control = self.scenario(row.control).text(self.lang).title
            lines.append(
                f"| {row.order} | {self.ref(sid)} | {control} | {self._.metric(row.metric)} | "
                f"{self._.direction(row.direction)} | {row.first}–{row.last} | "
                f"{numbers['mean']} | "
                f"{self.s['interval'].format(low=numbers['ci_low'], high=numbers['ci_high'])} | "
                f"{numbers['t']} | {holds} |")
        return "\n".join(lines)

    def metric_notes(self) -> str:
        """What each claim metric measures (the catalog's one-sentence help)."""
        metrics = dict.fromkeys(row.metric for row in
                                sorted(self.claims.values(), key=lambda r: r.order))
        return "\n".join(self.s["metric_note"].format(label=self._.metric(m),
                                                      help=self._.metric_help(m), name=m)
                         for m in metrics)

    # ------------------------------------------------------------------------ figures
    def figure(self, sid: str) -> str:
        """The figure's path relative to docs/: in this language if it exists."""
        local = f"{FIGURES}/{sid}_{self.lang}.png"
        return local if (DOCS / local).exists() else f"{FIGURES}/{sid}.png"

    def figures_note(self) -> str:
        """Say once which figures are in this language (the others are in English)."""
        titles = [f"“{sc.text(self.lang).title}”" for sc in self.scenarios.values()
                  if self.figure(sc.id).endswith(f"_{self.lang}.png")]
        return self.s["figures_note"].format(titles=self.s["list_sep"].join(titles))

    # ------------------------------------------------------------------------ scenarios
    def settings(self, sc: Scenario, control: Scenario) -> list[str]:
        """Regime, changed parameters, events and control, as the handout says them."""
        _, colon, sep = self._, self.s["colon"], self.s["semicolon"]
        changed = []
        for name, value in sc.overrides().items():
            if isinstance(value, bool):
                shown = "✓" if value else "✗"
            elif isinstance(value, float):
                shown = _.digits(str(int(value)) if value.is_integer() else repr(value))
            else:
                shown = str(value)
            assert name in PARAM_BY_NAME, name
            changed.append(f"{_.param(name)} = {shown}")
        events = [_("handout.month_event", month=e.month, event=_.event(e.kind))
                  for e in sc.events]
        return [
            f"{_('handout.regime')}{colon}{_.regime(sc.regime)}",
            f"{_('handout.parameters')}{colon}{sep.join(changed) if changed else '—'}"
            f"{self.s['lparen']}{_('handout.defaults')}{self.s['rparen']}",
            f"{_('handout.events')}{colon}"
            + (sep.join(events) if events else _("cli.no_events")),
            _("handout.control", control=control.text(self.lang).title, id=control.id),
        ]

    def result(self, sc: Scenario, control: Scenario) -> str:
        """What was measured on the paired villages, in the handout's sentences."""
        _, row = self._, self.claims[sc.id]
        numbers = self.claim_numbers(sc.id)
        measured = _("handout.result", n=row.n, claim=claim_sentence(sc, control, self.lang),
                     diff=numbers["mean"], low=numbers["ci_low"], high=numbers["ci_high"],
                     t=numbers["t"])
        crit = self._.digits(f"{row.critical_t:.2f}")
        if row.n < 3:
            verdict = _("handout.result_few", n=row.n)
        elif row.holds:
            verdict = _("handout.result_holds", t=self.number(abs(row.t), 10.0), crit=crit,
                        df=row.n - 1)
        else:
            verdict = _("handout.result_fails", crit=crit, df=row.n - 1)
        sentences = [measured, verdict]
        if row.identical_before is not None:
            key = "identical_yes" if row.identical_before else "identical_no"
            sentences.append(self.s[key].format(until=row.identical_until))
        return ("" if self.lang == "zh" else " ").join(sentences)

    def heading(self, sc: Scenario) -> str:
        """Section 4's heading of a scenario: its order, title and id."""
        return self.s["scenario_heading"].format(order=sc.order, title=sc.text(self.lang).title,
                                                 id=sc.id)

    def figure_markdown(self, sc: Scenario) -> str:
        """The scenario's figure, its title as the alternative text."""
        return f"![{sc.text(self.lang).title}]({self.figure(sc.id)})"

    def questions_and_answers(self, sc: Scenario) -> str:
        """The scenario file's questions, each with its answer, under one heading."""
        text = sc.text(self.lang)
        out = [f"**{self.s['qa_heading']}**", ""]
        for k, (question, answer) in enumerate(zip(text.questions, text.answers,
                                                   strict=True), start=1):
            out += [f"{k}. **{question}**", "", f"   {answer}", ""]
        return "\n".join(out).rstrip("\n")

    def scenario_section(self, sc: Scenario) -> str:
        """Section 4's part on one scenario, everything from the scenario file."""
        _, text, control = self._, sc.text(self.lang), load_control(sc)
        out = [self.heading(sc), ""]
        for paragraph in text.paragraphs():
            out += [paragraph, ""]
        out += [f"**{_('handout.settings')}**", ""]
        out += [f"- {line}" for line in self.settings(sc, control)] + [""]
        for heading, items in (("handout.objectives", text.objectives),
                               ("handout.watch", text.watch)):
            out += [f"**{_(heading)}**", ""] + [f"- {item}" for item in items] + [""]
        out += [f"**{_('handout.figure')}**", "", self.result(sc, control), "",
                self.figure_markdown(sc), ""]
        note = self.template.strings.get("notes", {}).get(sc.id)
        if note is not None:
            out += [" ".join(note.split()) if self.lang != "zh" else "".join(note.split()), ""]
        return "\n".join([*out, self.questions_and_answers(sc)])

    def scenario_qa(self, sid: str) -> str:
        """``qa:ID``: a scenario's questions and answers in a section 4 the template writes."""
        self._qa_shown.append(self.scenario(sid).id)
        return self.questions_and_answers(self.scenarios[sid])

    # ------------------------------------------------------------------------ the whole
    def _fill(self, match: re.Match[str]) -> str:
        kind, arg, fields = match.group(1), (match.group(2) or "").strip(), match.group(3)
        simple: dict[str, Callable[[], str]] = {
            "count": lambda: str(len(self.scenarios)),
            "seeds": self.seeds,
            "critical_t": self.critical_t,
            "claims_table": self.claims_table,
            "metric_notes": self.metric_notes,
            "figures_note": self.figures_note,
            "glossary_table": _glossary_test().glossary_table,
            "scenarios": self.all_scenarios,
        }
        with_arg: dict[str, Callable[[str], str]] = {
            "scenario": self.ref,
            "title": lambda a: self.scenario(a).text(self.lang).title,
            "short": lambda a: self.scenario(a).text(self.lang).label,
            "order": lambda a: str(self.scenario(a).order),
            "label": lambda a: self.label(a, fields),
            "metric": self._.metric,
            "regime": self._.regime,
            "event": self._.event,
            "num": self._.digits,
            "claim": self.claim_field,
            "article": lambda a: article_quotes()[a],
            "heading": lambda a: self.heading(self.scenario(a)),
            "figure": lambda a: self.figure_markdown(self.scenario(a)),
            "qa": self.scenario_qa,
        }
        if kind in simple and not arg:
            return simple[kind]()
        if kind in with_arg and arg:
            return with_arg[kind](arg)
        raise ValueError(f"{template_path(self.lang)}: unknown placeholder {match.group(0)!r}; "
                         f"allowed: {sorted(simple)} and {sorted(with_arg)} with ':argument'")

    def all_scenarios(self) -> str:
        """``scenarios``: section 4's scenarios, each in full, in their order."""
        self._qa_shown.extend(self.scenarios)
        return "\n\n".join(self.scenario_section(sc) for sc in self.scenarios.values())

    def render(self) -> str:
        """The whole guide."""
        self._qa_shown = []
        body = self._PLACEHOLDER.sub(self._fill, self.template.body)
        if "{{" in body or "}}" in body:
            raise ValueError(f"{template_path(self.lang)}: a placeholder is not closed: "
                             f"…{body[body.find('{{'):][:60]}…")
        if sorted(self._qa_shown) != sorted(self.scenarios):
            twice = sorted({sid for sid in self._qa_shown if self._qa_shown.count(sid) > 1})
            raise ValueError(f"{template_path(self.lang)}: section 4 must give every scenario's "
                             "questions and answers once ({{scenarios}} or {{qa:ID}}); missing "
                             f"{sorted(set(self.scenarios) - set(self._qa_shown))}, twice {twice}")
        header = (f"<!-- Generated by docs/make_teaching_guides.py from "
                  f"docs/teaching_src/{self.lang}.md and the sources its docstring lists; do "
                  f"not edit by hand: edit the template and run `{COMMAND}`. -->\n")
        return header + body.rstrip("\n") + "\n"


def render(lang: str) -> str:
    """The guide in ``lang`` (``en``, ``zh`` or ``vi``), freshly generated."""
    return Guide(lang).render()


def stale() -> dict[str, str]:
    """Guides whose committed text differs from a fresh generation: path -> a short diff."""
    out = {}
    for lang in LANGS:
        path, fresh = guide_path(lang), render(lang)
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old != fresh:
            diff = difflib.unified_diff(old.splitlines(), fresh.splitlines(),
                                        "committed", "generated", n=0, lineterm="")
            out[str(path.relative_to(ROOT))] = "\n".join(list(diff)[:20])
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the guides, or with ``--check`` report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed guide differs")
    args = parser.parse_args(argv)
    if args.check:
        found = stale()
        for path, diff in found.items():
            sys.stderr.write(f"{path} is stale; regenerate it: {COMMAND}\n{diff}\n")
        return 1 if found else 0
    for lang in LANGS:
        guide_path(lang).write_text(render(lang), encoding="utf-8")
        sys.stdout.write(f"wrote {guide_path(lang).relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
