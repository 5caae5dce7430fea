"""Printable handouts of a teaching scenario, in HTML or PDF, with no internet and no tools.

A handout holds the scenario's story, learning objectives, what to watch, its settings
(regime, changed parameters, events), a figure from a real paired run of the scenario against
its control on the same seeds, the measured claim, and the discussion questions with room to
write; ``answers=True`` adds the instructor's answers. Everything is made here:

* **HTML**: one self-contained file (the figure embedded as a base64 PNG, CSS for A4
  printing); any browser prints it. The figure's text is inside the PNG, drawn with the
  shipped fonts, so it reads correctly even where the browser lacks a CJK font.
* **PDF**: drawn page by page with matplotlib (``PdfPages``): A4, text wrapped for Chinese,
  Vietnamese and English (:func:`village_sim.teaching.wrap_text`), the shipped fonts embedded
  as TrueType (Type 42), the figure placed as an image.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from village_sim.experiment import atomic_path, replicate_seeds, write_text
from village_sim.i18n import Catalog
from village_sim.outputs import package_version
from village_sim.scenario import (
    ClaimResult,
    Scenario,
    load_control,
    load_scenario,
    measure_claim,
    run_pair,
)
from village_sim.teaching import (
    figure_png,
    result_sentences,
    scenario_figure,
    text_family,
    text_weight,
    wrap_text,
)

__all__ = ["FORMATS", "Handout", "make_handout", "render_html", "render_pdf"]

FORMATS = ("html", "pdf")
HTML_LANG = {"zh": "zh-Hans", "vi": "vi", "en": "en"}


@dataclass(frozen=True)
class Handout:
    """Everything a handout shows, in one language.

    Attributes:
        scenario: The scenario.
        control: Its control.
        lang: Language code.
        result: The claim measured on the paired runs.
        figure: The chart as PNG bytes.
        answers: Whether to include the instructor's answers.
        command: The command that reproduces it (printed in the footer).
        version: village-sim version.
    """

    scenario: Scenario
    control: Scenario
    lang: str
    result: ClaimResult
    figure: bytes
    answers: bool
    command: str
    version: str


def _setting_lines(h: Handout) -> list[str]:
    """Regime, changed parameters and events, translated."""
    from village_sim.params import PARAM_BY_NAME

    _ = Catalog(h.lang)
    # Chinese sentences take full-width punctuation (tests/test_glossary.py checks)
    colon, semicolon, left, right = ("：", "；", "（", "）") if h.lang == "zh" \
        else (": ", "; ", " (", ")")
    lines = [f"{_('handout.regime')}{colon}{_.regime(h.scenario.regime)}"]
    changed = []
    for name, value in h.scenario.overrides().items():
        shown = ("✓" if value else "✗") if isinstance(value, bool) else _.digits(str(value))
        unit = PARAM_BY_NAME[name].unit
        changed.append(f"{_.param(name)} = {shown}" + (f" ({unit})" if unit and h.lang == "en"
                                                        and "(" not in _.param(name) else ""))
    lines.append(f"{_('handout.parameters')}{colon}"
                 + (semicolon.join(changed) if changed else "—")
                 + f"{left}{_('handout.defaults')}{right}")
    events = [_("handout.month_event", month=e.month, event=_.event(e.kind))
              for e in h.scenario.events]
    lines.append(f"{_('handout.events')}{colon}"
                 + (semicolon.join(events) if events else _("cli.no_events")))
    lines.append(_("handout.control", control=h.control.text(h.lang).title, id=h.control.id))
    return lines


# ---------------------------------------------------------------------------- HTML
_CSS = """
@page { size: A4; margin: 16mm 16mm 18mm 16mm; }
body { font-family: "DejaVu Sans", "Noto Sans", "Noto Sans CJK SC", "Source Han Sans SC",
       "Microsoft YaHei", "PingFang SC", "Segoe UI", Arial, sans-serif;
       font-size: 11pt; line-height: 1.5; color: #111; max-width: 180mm; margin: 0 auto; }
.kicker { color: #555; font-size: 9pt; margin: 0; text-transform: uppercase;
          letter-spacing: .04em; }
h1 { font-size: 19pt; margin: 2mm 0 1mm 0; }
h2 { font-size: 13pt; margin: 6mm 0 1mm 0; border-bottom: 1px solid #bbb; }
.name { color: #333; margin: 2mm 0 4mm 0; }
.settings { font-size: 9.5pt; color: #333; background: #f5f5f5; padding: 2mm 3mm; }
.settings p { margin: .6mm 0; }
figure { margin: 4mm 0; page-break-inside: avoid; }
figure img { width: 100%; }
figcaption { font-size: 9pt; color: #333; }
.result { font-size: 10pt; background: #fff7dc; padding: 2mm 3mm; }
ol.questions li { margin-bottom: 16mm; }
.answers { page-break-before: always; }
footer { margin-top: 8mm; font-size: 8pt; color: #666; word-break: break-all; }
@media print { h2 { page-break-after: avoid; } }
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(h: Handout) -> str:
    """The handout as one self-contained HTML page (figure embedded as base64 PNG)."""
    _ = Catalog(h.lang)
    text = h.scenario.text(h.lang)
    control_title = h.control.text(h.lang).title
    image = base64.b64encode(h.figure).decode("ascii")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{HTML_LANG[h.lang]}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(text.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f'<p class="kicker">{_esc(_("handout.kicker"))} · {_esc(h.scenario.id)}</p>',
        f"<h1>{_esc(text.title)}</h1>",
        f'<p class="name">{_esc(_("handout.name_line"))}</p>',
        f"<h2>{_esc(_('handout.story'))}</h2>",
        *[f"<p>{_esc(p)}</p>" for p in text.paragraphs()],
        f"<h2>{_esc(_('handout.objectives'))}</h2>",
        "<ul>", *[f"<li>{_esc(o)}</li>" for o in text.objectives], "</ul>",
        f"<h2>{_esc(_('handout.watch'))}</h2>",
        "<ul>", *[f"<li>{_esc(w)}</li>" for w in text.watch], "</ul>",
        f"<h2>{_esc(_('handout.settings'))}</h2>",
        '<div class="settings">', *[f"<p>{_esc(line)}</p>" for line in _setting_lines(h)],
        "</div>",
        f"<h2>{_esc(_('handout.figure'))}</h2>",
        "<figure>",
        f'<img alt="{_esc(text.title)}" src="data:image/png;base64,{image}">',
        f"<figcaption>{_esc(_('handout.caption', control=control_title, n=h.result.n))}"
        "</figcaption>",
        "</figure>",
        '<div class="result">',
        *[f"<p>{_esc(s)}</p>" for s in result_sentences(h.result, h.scenario, h.control, h.lang)],
        "</div>",
        f"<h2>{_esc(_('handout.questions'))}</h2>",
        '<ol class="questions">', *[f"<li>{_esc(q)}</li>" for q in text.questions], "</ol>",
    ]
    if h.answers and text.answers:
        parts += [
            '<section class="answers">',
            f"<h2>{_esc(_('handout.answers'))}</h2>",
            "<ol>",
            *[f"<li><p><b>{_esc(q)}</b></p><p>{_esc(a)}</p></li>"
              for q, a in zip(text.questions, text.answers, strict=True)],
            "</ol>",
            "</section>",
        ]
    parts += [
        f"<footer>{_esc(_('handout.generated', version=h.version, command=h.command))}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------- PDF
A4 = (8.27, 11.69)
MARGIN = 0.7  # inches


class _PdfFlow:
    """Text and images flowing down A4 pages, a new page when one is full."""

    def __init__(self, pdf: Any, lang: str):
        self.pdf = pdf
        self.lang = lang
        self.fig: Any = None
        self.y = 0.0  # inches from the top
        self.page = 0
        self.width_pt = (A4[0] - 2 * MARGIN) * 72

    def new_page(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.close_page()
        self.fig = Figure(figsize=A4)
        FigureCanvasAgg(self.fig)
        self.page += 1
        self.y = MARGIN

    def close_page(self) -> None:
        if self.fig is None:
            return
        _ = Catalog(self.lang)
        self.fig.text(0.5, 0.4 / A4[1], _("handout.page", page=self.page), ha="center",
                      va="bottom", fontsize=8, color="#666", parse_math=False)
        self.pdf.savefig(self.fig)
        self.fig = None

    def _room(self, height: float) -> None:
        if self.fig is None or self.y + height > A4[1] - MARGIN:
            self.new_page()

    def text(self, text: str, size: float = 10.5, weight: str = "normal", indent: float = 0.0,
             before: float = 0.0, after: float = 0.06, colour: str = "#111",
             bullet: str = "") -> None:
        """Wrapped text; ``bullet`` (e.g. "1." or "•") hangs in the indent."""
        width = self.width_pt - indent * 72
        lines = wrap_text(text, width, size, weight)
        step = size * 1.45 / 72
        self.y += before
        for k, line in enumerate(lines):
            self._room(step)
            top = 1 - self.y / A4[1]
            if k == 0 and bullet:
                self.fig.text((MARGIN + indent - 0.22) / A4[0], top, bullet, fontsize=size,
                              va="top", color=colour, parse_math=False)
            line_weight = text_weight(line, weight)
            self.fig.text((MARGIN + indent) / A4[0], top, line, fontsize=size,
                          weight=line_weight, family=text_family(line, line_weight),
                          va="top", color=colour, parse_math=False)
            self.y += step
        self.y += after

    @property
    def bold(self) -> str:
        """Bold for Latin scripts; the CJK subset has one weight, so Chinese stays regular."""
        return "normal" if self.lang == "zh" else "bold"  # and text_weight() per line

    def heading(self, text: str, keep: float = 2 * 10.5 * 1.45 / 72) -> None:
        """A section heading, kept on one page with the next ``keep`` inches."""
        self._room(0.45 + keep)
        self.text(text, size=13, weight=self.bold, before=0.14, after=0.06)

    def space(self, inches: float) -> None:
        """Vertical space (room to write, for instance); at most to the end of the page."""
        self.y = min(self.y + inches, A4[1] - MARGIN)

    @staticmethod
    def image_height(pixels: Any) -> float:
        """Height in inches of an image drawn at full text width."""
        height_px, width_px = pixels.shape[:2]
        return float((A4[0] - 2 * MARGIN) * height_px / width_px)

    def image(self, pixels: Any, caption: str) -> None:
        """An RGB(A) pixel array at full text width, with its caption below."""
        width = A4[0] - 2 * MARGIN
        height = self.image_height(pixels)
        self._room(height + 0.5)
        ax = self.fig.add_axes((MARGIN / A4[0], 1 - (self.y + height) / A4[1],
                                width / A4[0], height / A4[1]))
        ax.imshow(pixels, interpolation="none")
        ax.set_axis_off()
        self.y += height + 0.05
        self.text(caption, size=8.5, colour="#333")


def render_pdf(h: Handout, path: str | Path) -> Path:
    """Write the handout as an A4 PDF (fonts embedded) to ``path`` (atomically)."""
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_pdf import PdfPages

    from village_sim.fonts import use_fonts

    _ = Catalog(h.lang)
    text = h.scenario.text(h.lang)
    path = Path(path)
    with use_fonts(), atomic_path(path) as tmp:
        metadata = {"Title": text.title, "Creator": f"village-sim {h.version}",
                    "Subject": _("handout.kicker")}
        with PdfPages(tmp, metadata=metadata) as pdf:
            flow = _PdfFlow(pdf, h.lang)
            flow.new_page()
            flow.text(f"{_('handout.kicker')} · {h.scenario.id}", size=8.5, colour="#555")
            flow.text(text.title, size=19, weight=flow.bold, before=0.04, after=0.1)
            flow.text(_("handout.name_line"), size=9.5, colour="#333", after=0.1)
            flow.heading(_("handout.story"))
            for paragraph in text.paragraphs():
                flow.text(paragraph, after=0.1)
            flow.heading(_("handout.objectives"))
            for item in text.objectives:
                flow.text(item, indent=0.25, bullet="•")
            flow.heading(_("handout.watch"))
            for item in text.watch:
                flow.text(item, indent=0.25, bullet="•")
            flow.heading(_("handout.settings"))
            for line in _setting_lines(h):
                flow.text(line, size=9, colour="#333", after=0.03)
            pixels = mpimg.imread(io.BytesIO(h.figure), format="png")
            flow.heading(_("handout.figure"), keep=flow.image_height(pixels) + 0.5)
            flow.image(pixels, _("handout.caption", control=h.control.text(h.lang).title,
                                 n=h.result.n))
            for sentence in result_sentences(h.result, h.scenario, h.control, h.lang):
                flow.text(sentence, size=9.5, colour="#5a4500", after=0.04)
            flow.heading(_("handout.questions"))
            for k, question in enumerate(text.questions, start=1):
                flow.text(question, indent=0.3, bullet=f"{k}.", after=0.02)
                flow.space(0.9)
            if h.answers and text.answers:
                flow.new_page()
                flow.heading(_("handout.answers"))
                for k, (question, answer) in enumerate(
                        zip(text.questions, text.answers, strict=True), start=1):
                    flow.text(question, indent=0.3, bullet=f"{k}.", weight=flow.bold,
                              after=0.03)
                    flow.text(answer, indent=0.3, after=0.12)
            flow.text(_("handout.generated", version=h.version, command=h.command), size=7.5,
                      colour="#666", before=0.2)
            flow.close_page()
    return path


# ---------------------------------------------------------------------------- entry point
def make_handout(ref: str | Path, lang: str, out: str | Path | None = None,
                 fmt: str | None = None, seeds: int = 10, root: int = 0,
                 answers: bool = False, command: str | None = None,
                 seed_list: Sequence[int] | None = None) -> Path:
    """Run a scenario against its control on paired seeds and write its handout.

    Args:
        ref: Scenario id or path of a scenario file.
        lang: ``zh``, ``vi`` or ``en``.
        out: Output file (default: ``handout-ID-LANG.FORMAT`` in the current directory).
        fmt: ``html`` or ``pdf`` (default: from ``out``'s suffix, else ``html``).
        seeds: Number of paired villages.
        root: Root seed (replicate seeds as in ``village-sim compare``).
        answers: Add the instructor's answers.
        command: Command line printed in the footer.
        seed_list: Explicit seeds (overrides ``seeds`` and ``root``).

    Returns:
        The file written.

    Raises:
        ValueError: for an unknown scenario, language or format.
    """
    _ = Catalog(lang)
    scenario = load_scenario(ref)
    control = load_control(scenario)
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out is not None else ""
        fmt = suffix if suffix in FORMATS else "html"
    if fmt not in FORMATS:
        raise ValueError(f"format: got {fmt!r}; allowed: {', '.join(FORMATS)}")
    path = Path(out) if out is not None else Path(f"handout-{scenario.id}-{_.lang}.{fmt}")
    chosen = list(seed_list) if seed_list is not None else replicate_seeds(root, seeds)
    frame = run_pair(scenario, control, chosen)
    result = measure_claim(scenario, chosen, control, frame)
    png = figure_png(scenario_figure(frame, scenario, control, _.lang))
    if command is None:
        command = f"village-sim handout {scenario.id} --lang {_.lang} --seeds {len(chosen)}"
    handout = Handout(scenario, control, _.lang, result, png, answers, command,
                      package_version())
    if fmt == "html":
        write_text(render_html(handout), path)
    else:
        render_pdf(handout, path)
    return path
