"""Teaching scenarios: every file loads, validates, runs its full length in every language, and
its claim against its control holds on paired seeds (DESIGN §4).

One contract suite parametrized over every shipped scenario (as STYLE.md asks). The claim test
measures, like tests/test_effects.py, each run's mean of the claim metric over the claim's
window (which holds a yearly identification), on the same 10 seeds for the scenario and its
control, and asks for the stated sign with a 95% CI that excludes zero (t critical value for the
degrees of freedom).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from village_sim.cli import main
from village_sim.experiment import replicate_seeds
from village_sim.i18n import LANGUAGES, Catalog
from village_sim.model import METRIC_NAMES
from village_sim.params import resolve_parameters
from village_sim.scenario import (
    ScenarioError,
    list_scenarios,
    load_control,
    load_scenario,
    measure_claim,
    parse_scenario,
    run_pair,
    scenario_ids,
)
from village_sim.teaching import claim_sentence, run_figure, scenario_figure

IDS = scenario_ids()
SEEDS = tuple(replicate_seeds(0, 10))


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def squash(text: str) -> str:
    """Text without whitespace (titles are wrapped to the panel's width)."""
    return re.sub(r"\s", "", text)


@cache
def pair(sid: str) -> pd.DataFrame:
    scenario = load_scenario(sid)
    return run_pair(scenario, load_control(scenario), SEEDS)


# ---------------------------------------------------------------------------- the library
def test_library_has_the_suggested_set() -> None:
    assert len(IDS) >= 8
    for sid in ("clan_village", "fair_committee", "team_arrives", "team_alone",
                "team_without_supervision", "team_leaves", "floods_and_illness", "more_money",
                "complaints_recheck"):
        assert sid in IDS, sid
    orders = [s.order for s in list_scenarios()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    regimes = {s.regime for s in list_scenarios()}
    assert regimes == {"committee_only", "committee_plus_mobilization", "team_and_committee",
                       "team_without_supervision", "team_alone"}  # every regime is taught
    kinds = {e.kind for s in list_scenarios() for e in s.events}
    assert {"flood", "illness_outbreak", "team_leaves"} <= kinds


@pytest.mark.parametrize("sid", IDS)
def test_scenario_file_is_complete_and_valid(sid: str) -> None:
    s = load_scenario(sid)
    assert s.path is not None and s.path.stem == sid
    assert resolve_parameters(**s.parameters).regime == s.regime
    control = load_control(s)
    assert control.id != s.id
    assert s.claim.metric in METRIC_NAMES and s.charts[0] == s.claim.metric
    first, last = s.claim.window
    assert 1 <= first <= last <= s.steps
    assert any(m % 12 == 1 for m in range(first, last + 1)), "window without identification"
    assert all(1 <= e.month <= s.steps for e in s.events)
    # an identification in the window comes after any cause inside the run (an event or a
    # changed date; events apply at the start of their month, before identification)
    cause = max([e.month for e in s.events] + [s.parameters.get("team_arrives", 0)])
    assert cause <= first
    assert any(m % 12 == 1 and m >= cause for m in range(first, last + 1))
    for lang in LANGUAGES:
        text = s.texts[lang]  # every language is in the file, no fallback
        assert text.title and text.story and text.summary
        assert text.short and len(text.short) <= 28 and text.label == text.short
        assert len(text.objectives) >= 2 and len(text.watch) >= 2
        assert len(text.questions) >= 2 and len(text.answers) == len(text.questions)
        assert all(item.strip() for item in (*text.objectives, *text.watch, *text.questions,
                                            *text.answers))
        joined = " ".join([text.title, text.story, *text.objectives, *text.watch,
                           *text.questions, *text.answers])
        if lang == "vi":
            assert not re.search(r"[\u4e00-\u9fff]", joined), "Chinese characters in vi text"
        if lang == "en":
            assert not re.search(r"[ăâđêôơư]", joined.lower()), "Vietnamese in en text"


def test_texts_use_the_source_article_and_institutional_terms() -> None:
    zh = " ".join(s.texts["zh"].story + " ".join(s.texts["zh"].answers) for s in list_scenarios())
    vi = " ".join(s.texts["vi"].story + " ".join(s.texts["vi"].answers) for s in list_scenarios())
    for term in ("驻村工作队", "优亲厚友", "既相互配合，又相互监督", "回头看", "民主评议", "公示",
                 "帮扶责任人", "规模控制", "致贫原因", "因户施策", "数字脱贫", "返贫"):
        assert term in zh, term
    for term in ("đội công tác đóng tại làng", "tổ chức cấp làng", "ưu đãi người thân, bạn bè",
                 "vừa phối hợp với nhau, lại giám sát lẫn nhau", "bình xét hộ nghèo",
                 "niêm yết công khai", "rà soát lại", "cán bộ chịu trách nhiệm hỗ trợ",
                 "hạn mức", "chỉ tiêu thoát nghèo", "nguyên nhân dẫn đến nghèo", "tái nghèo"):
        assert term in vi, term


_QUOTED = r"[“\"]([^”\"]+)[”\"]"
_BUTTON_WORDS = re.compile(r"(?:\bbuttons?\b|\bpress\b|\bnút\b|按)\W{0,3}\(?\s*" + _QUOTED,
                           re.IGNORECASE)
_BUTTON_AFTER = re.compile(_QUOTED + r"\s*(?:按钮|button\b)")
_BUTTON_LIST = re.compile(r"\bbuttons \(([^)]*)\)")


def cited_buttons(text: str) -> set[str]:
    """Labels a text cites as buttons: “X” after button/press/nút/按, before 按钮/button,
    and every quoted label in a "buttons (…)" list."""
    found = {m.group(1) for m in _BUTTON_WORDS.finditer(text)}
    found |= {m.group(1) for m in _BUTTON_AFTER.finditer(text)}
    for group in _BUTTON_LIST.finditer(text):
        found |= set(re.findall(_QUOTED, group.group(1)))
    return {" ".join(label.split()) for label in found}


def button_labels(lang: str) -> set[str]:
    """The labels of the app's buttons in ``lang``: its controls and the instructor's events."""
    catalog = Catalog(lang).messages()
    return {v for k, v in catalog.items() if k.startswith(("app.", "event."))}


def test_cited_buttons_are_found() -> None:
    assert cited_buttons("with the button “Team leaves now”.") == {"Team leaves now"}
    assert cited_buttons("按“工作队现在撤离”按钮") == {"工作队现在撤离"}
    assert cited_buttons("bằng nút “Đội rời đi ngay”") == {"Đội rời đi ngay"}
    assert cited_buttons('the buttons ("A b",\n"C", and more) and press "Step"') == {
        "A b", "C", "Step"}
    assert cited_buttons("a “quoted” phrase, no control") == set()


def test_scenarios_and_guide_cite_only_buttons_the_app_has() -> None:
    """Issue 15: texts once told trainers to press “Team leaves now”, a button that never
    existed; every label a scenario or the instructor's guide (docs/teaching.md and its
    Chinese and Vietnamese versions) cites is a label of the app in that language."""
    for scenario in list_scenarios():
        for lang, text in scenario.texts.items():
            joined = " ".join([text.story, *text.watch, *text.questions, *text.answers])
            unknown = cited_buttons(joined) - button_labels(lang)
            assert not unknown, (scenario.id, lang, unknown)
    docs = Path(__file__).resolve().parents[1] / "docs"
    for lang, name in (("en", "teaching.md"), ("zh", "teaching.zh.md"), ("vi", "teaching.vi.md")):
        cited = cited_buttons((docs / name).read_text("utf-8"))
        assert cited, f"docs/{name} cites the event buttons"
        assert not cited - button_labels(lang), (name, cited - button_labels(lang))


# ---------------------------------------------------------------------------- claims
@pytest.mark.parametrize("sid", IDS)
def test_claim_holds_against_control_on_paired_seeds(sid: str) -> None:
    s = load_scenario(sid)
    result = measure_claim(s, SEEDS, frame=pair(sid))
    d = result.diffs[np.isfinite(result.diffs)]
    assert d.size >= 8, f"metric undefined on too many seeds: {result.diffs}"
    assert np.sign(result.mean) == s.claim.sign, (
        f"{sid}: {s.claim.metric} should be {s.claim.direction} than in {s.control}; mean "
        f"paired difference {result.mean:+.4f} (t = {result.t:.2f}): {d}")
    # the 95% CI excludes 0: the t critical value for n - 1 degrees of freedom (was a fixed
    # 2.0 before the issue "Outputs ...", item 5; the critical value is larger below 60 seeds)
    bar = max(result.critical_t, s.claim.min_t or 0.0)
    assert abs(result.t) >= bar, (
        f"{sid}: mean difference {result.mean:+.4f} is within {bar:.2f} standard errors "
        f"({result.se:.4f}) of 0: {d}")
    if s.claim.identical_until is not None:
        assert result.identical_before, f"{sid}: runs differ before month " \
                                        f"{s.claim.identical_until}"
    assert result.holds


def test_team_arrives_is_the_committee_village_until_the_team_comes() -> None:
    frame = pair("team_arrives")
    ours = frame[(frame["side"] == "scenario") & (frame["step"] <= 12)]
    theirs = frame[(frame["side"] == "control") & (frame["step"] <= 12)]
    np.testing.assert_array_equal(ours[list(METRIC_NAMES)].to_numpy(),
                                  theirs[list(METRIC_NAMES)].to_numpy())
    later = frame[(frame["side"] == "scenario") & (frame["step"] == 13)]
    assert (later["team_active"] == 1).all()


# ---------------------------------------------------------------------------- every language
@pytest.mark.parametrize("sid", IDS)
def test_scenario_runs_its_full_length_in_every_language(sid: str) -> None:
    s = load_scenario(sid)
    model = s.run(SEEDS[0])
    assert model.steps == s.steps
    assert [e.kind for e in model.events_applied] == [e.kind for e in s.events]
    from village_sim.experiment import timeseries

    ts = timeseries(model)
    assert len(ts) == s.steps + 1
    control = load_control(s)
    for lang in LANGUAGES:
        _ = Catalog(lang)
        assert _.metric(s.claim.metric) in claim_sentence(s, control, lang)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig = run_figure(ts, s, SEEDS[0], lang, width_in=6)
            fig.set_dpi(40)
            fig.canvas.draw()
        assert not [w for w in caught if "missing from font" in str(w.message)], lang
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
        assert squash(titles[0]) == squash(_.metric(s.claim.metric))


def test_pair_figure_labels_follow_the_language() -> None:
    s = load_scenario("team_leaves")
    frame = pair("team_leaves")
    for lang in LANGUAGES:
        fig = scenario_figure(frame, s, load_control(s), lang, width_in=6)
        assert squash(s.texts[lang].title) in squash(fig.get_suptitle())
        assert squash(fig.axes[0].get_title()) == squash(Catalog(lang).metric("kin_premium"))


# ---------------------------------------------------------------------------- validation
BASE = {
    "id": "mine", "control": "committee_alone", "steps": 24,
    "parameters": {"regime": "team_and_committee"},
    "claim": {"metric": "kin_premium", "direction": "lower", "window": [13, 24]},
    "text": {"en": {"title": "T", "story": "S.", "objectives": ["o"], "watch": ["w"],
                    "questions": ["q"]}},
}


def with_change(path: str, value: object) -> dict:
    import copy

    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: dict = data
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("parameters.regime", None, "needs at least 'regime"),
        ("parameters.quota", 1.5, "parameter 'quota': got 1.5"),
        ("parameters.qouta", 0.2, "did you mean 'quota'"),
        ("claim.metric", "kin_premum", "did you mean 'kin_premium'"),
        ("claim.direction", "up", "'higher' or 'lower'"),
        ("claim.window", [14, 20], "holding a yearly identification"),
        ("claim.window", [13, 30], "last <= steps (24)"),
        ("events", [{"month": 30, "kind": "flood"}], "months 1..steps (24)"),
        ("events", [{"month": 3, "kind": "floods"}], "did you mean 'flood'"),
        ("text.fr", {"title": "x"}, "unknown language"),
        ("text.en.answers", ["a", "b"], "one per question"),
        ("text.en.story", "", "non-empty string"),
        ("text.en.short", "A label far too long to fit a legend", "at most 28 characters"),
        ("text.en.short", " ", "non-empty label"),
        ("colour", "red", "unknown keys ['colour']"),
        ("control", "mine", "the id of another scenario"),
    ],
)
def test_bad_scenarios_are_refused_clearly(path: str, value: object, expected: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(expected)):
        parse_scenario(with_change(path, value), "mine.toml")


def test_a_trainers_own_scenario_file(tmp_path: Path) -> None:
    """One language is enough; the others fall back to it; the control can sit beside it."""
    path = tmp_path / "audit_village.toml"
    path.write_text(
        'id = "audit_village"\ncontrol = "committee_alone"\nsteps = 24\n'
        '[parameters]\nregime = "committee_only"\naudit_probability = 0.5\n'
        '[[events]]\nmonth = 6\nkind = "audit_now"\n'
        '[claim]\nmetric = "diverted_share"\ndirection = "lower"\nwindow = [13, 24]\n'
        '[text.zh]\ntitle = "经常审计的村"\nstory = "上级每两个月审计一次。"\n'
        'objectives = ["看审计的作用"]\nwatch = ["截留比例"]\nquestions = ["为什么？"]\n',
        encoding="utf-8")
    s = load_scenario(str(path))
    assert s.text("vi").title == "经常审计的村"  # falls back to the file's only language
    assert load_control(s).id == "committee_alone"
    code, stdout, stderr = run_cli(["run", "--scenario", str(path), "--seed", "1",
                                    "--out", str(tmp_path / "out")])
    assert code == 0, stderr
    assert "经常审计的村" in stdout


# ---------------------------------------------------------------------------- CLI
def test_cli_scenarios_lists_every_scenario_in_each_language() -> None:
    for lang in LANGUAGES:
        code, stdout, stderr = run_cli(["scenarios", "--lang", lang])
        assert code == 0, stderr
        for s in list_scenarios():
            assert s.id in stdout and s.texts[lang].title in stdout
            assert s.texts[lang].summary in stdout
    code, stdout, _ = run_cli(["scenarios", "team_alone", "--lang", "vi", "--answers"])
    assert code == 0 and "Câu hỏi thảo luận" in stdout and "→" in stdout


def test_cli_run_scenario_uses_its_parameters_events_and_length(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(["run", "--scenario", "team_leaves", "--lang", "zh",
                                    "--out", str(out)])
    assert code == 0, stderr
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == load_scenario("team_leaves").steps + 1 == 61  # its length: 60 months
    assert ts.loc[ts["step"] < 24, "team_active"].eq(1).all()
    assert ts.loc[ts["step"] >= 24, "team_active"].eq(0).all()  # the scheduled event
    for name in ("metrics.png", "scenario.toml", "parameters.toml", "households.csv"):
        assert (out / name).is_file(), name
    assert "驻村工作队撤离之后" in stdout and "识别中的亲属溢价" in stdout
    assert "第24月：驻村工作队撤离" in stdout
    # --steps and --set still override the scenario
    code, _, stderr = run_cli(["run", "--scenario", "clan_village", "--steps", "13", "--set",
                               "quota=0.2", "--out", str(tmp_path / "r2")])
    assert code == 0, stderr
    assert len(pd.read_csv(tmp_path / "r2" / "timeseries.csv")) == 14
    params = (tmp_path / "r2" / "parameters.toml").read_text(encoding="utf-8")
    assert "quota = 0.2" in params and "kin_degree = 16.0" in params


def test_cli_run_without_lang_or_scenario_is_unchanged(tmp_path: Path) -> None:
    code, stdout, _ = run_cli(["run", "--steps", "3", "--out", str(tmp_path / "r")])
    assert code == 0 and "kin_premium" in stdout and "Final-year means" in stdout


def test_cli_compare_lang_translates_table_and_figure(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli(["compare", "--lang", "zh", "--seeds", "2", "--steps",
                                    "13", "--set", "n_households=60", "--out",
                                    str(tmp_path / "c")])
    assert code == 0, stderr
    assert "识别中的亲属溢价" in stdout and "配对比较" in stdout
    assert "驻村工作队与村委会既相互配合，又相互监督" in stdout
    assert (tmp_path / "c" / "metrics.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--scenario", "team_leave"], "did you mean 'team_leaves'"),
        (["run", "--scenario", "team_leaves", "--lang", "fr"], "language: got 'fr'"),
        (["scenarios", "--lang", "de"], "language: got 'de'"),
        (["handout", "nope"], "unknown scenario 'nope'"),
    ],
)
def test_cli_bad_teaching_input_exits_2(tmp_path: Path, args: list[str],
                                        expected: str) -> None:
    code, _, stderr = run_cli([*args, "--out", str(tmp_path / "x")] if args[0] != "scenarios"
                              else args)
    assert code == 2
    assert stderr.startswith("error: ") and expected in stderr and "Traceback" not in stderr
