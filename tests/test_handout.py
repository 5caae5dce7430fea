"""Handouts: HTML and PDF written from a real paired run, in Chinese, Vietnamese and English."""

from __future__ import annotations

import base64
import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

from village_sim.cli import main
from village_sim.handout import make_handout
from village_sim.scenario import load_scenario


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def no_missing_glyphs(caught: list[warnings.WarningMessage]) -> None:
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing


def test_html_handout_in_chinese(tmp_path: Path) -> None:
    s = load_scenario("team_leaves")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = make_handout("team_leaves", "zh", tmp_path / "h.html", seeds=4, answers=True)
    no_missing_glyphs(caught)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-Hans">' in page
    text = s.texts["zh"]
    for part in (text.title, text.objectives[0], text.watch[-1], *text.questions,
                 text.answers[0], "讨论题", "参考答案（教员用）", "第24月：驻村工作队撤离",
                 "识别中的亲属溢价高于"):
        assert part in page, part
    assert "http://" not in page.replace("http://www.adobe.com", "")  # nothing to fetch
    image = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert image is not None
    png = base64.b64decode(image.group(1))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30_000


def test_pdf_handout_in_vietnamese_embeds_fonts(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = make_handout("floods_and_illness", "vi", tmp_path / "h.pdf", seeds=4)
    no_missing_glyphs(caught)
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 60_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2
    assert b"/FontFile2" in data  # TrueType fonts embedded (Type 42), text stays text
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+DejaVuSans", data)
    assert path.stat().st_mode & 0o044  # readable by others, like any new file (umask)


def test_pdf_handout_in_chinese_with_answers_via_cli(tmp_path: Path) -> None:
    out = tmp_path / "zh.pdf"
    code, stdout, stderr = run_cli(["handout", "complaints_recheck", "--lang", "zh",
                                    "--format", "pdf", "--out", str(out), "--seeds", "3",
                                    "--answers"])
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    data = out.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 60_000
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+VillageSimCJKSC-Regular", data)
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3  # the answers get their own page


def test_html_is_the_default_format_and_english_reads_right(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_cli(["handout", "team_alone", "--seeds", "2"])
    assert code == 0, stderr
    path = Path(stdout.strip())
    assert path.name == "handout-team_alone-en.html"
    page = path.read_text(encoding="utf-8")
    assert "The impartial but uninformed outsider" in page
    assert "Exclusion error is higher than in" in page
    assert "Answers for the instructor" not in page  # only with --answers


def test_vietnamese_handout_writes_decimal_commas(tmp_path: Path) -> None:
    """Issue 15 item 10: the measured result and the changed parameters in the reader's
    convention (vi ``+0,118``, ``0,8``), never English decimals; English keeps its own."""
    vi = make_handout("complaints_recheck", "vi", tmp_path / "vi.html", seeds=3).read_text(
        encoding="utf-8")
    body = re.sub(r"<style.*?</style>|<[^>]+>|data:[^\"']+", " ", vi, flags=re.DOTALL)
    assert re.search(r"[+-]0,\d{3}", body), "the paired difference with a decimal comma"
    assert "0,8" in body  # upper_recheck_share = 0.8, as the scenario sets it
    assert not re.findall(r"(?<![\w.])[+-]?\d+\.\d+(?![\w.])", body), \
        re.findall(r"(?<![\w.])[+-]?\d+\.\d+(?![\w.])", body)
    en = make_handout("complaints_recheck", "en", tmp_path / "en.html", seeds=3).read_text(
        encoding="utf-8")
    assert re.search(r"[+-]0\.\d{3}", en) and "0.8" in en
