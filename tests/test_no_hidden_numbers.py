"""No hidden numbers (Money and measurement, item 7): every number that decides a result is a
parameter with unit, range, default and source (params.py), never a literal in a mechanism.

The scan walks the syntax trees of the modules that hold the model's rules — every mechanism
module, the village builder (village.py), the agents (agents.py) and the functions of the
state (state.py) — and fails on any numeric literal other than 0, 1 and 12 (months in a
year). Docstrings and enumerations of codes (IntEnum bodies) are not rules; module-level
names in state.py are encodings (sentinels such as ``NEVER``), not numbers a result depends
on. Identities and tolerances live in village_sim.numerics (see its docstring).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import village_sim
from village_sim.params import PARAMETERS

PACKAGE = Path(village_sim.__file__).parent
ALLOWED = {0, 1, 12}
RULE_MODULES = sorted((PACKAGE / "mechanisms").glob("*.py")) + [
    PACKAGE / "village.py", PACKAGE / "agents.py"]
FUNCTIONS_ONLY = [PACKAGE / "state.py"]


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _enum_bodies(tree: ast.AST) -> set[int]:
    """Constants inside classes derived from an enum (codes, not numbers a result uses)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id in {"IntEnum", "IntFlag", "Enum"}
                for b in node.bases):
            out |= {id(n) for n in ast.walk(node)}
    return out


def hidden_numbers(source: str, functions_only: bool = False) -> list[tuple[int, object]]:
    """(line, value) of every numeric literal a rule uses, other than 0, 1 and 12."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _enum_bodies(tree)
    roots: list[ast.AST] = [tree]
    if functions_only:
        roots = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    found = set()
    for root in roots:
        for node in ast.walk(root):
            if (isinstance(node, ast.Constant) and type(node.value) in (int, float)
                    and id(node) not in skip and node.value not in ALLOWED):
                found.add((node.lineno, node.value))
    return sorted(found)


def test_the_scan_finds_a_hidden_number_and_ignores_docstrings_and_codes() -> None:
    source = '''
"""Module docstring 0.75."""
from enum import IntEnum
class Code(IntEnum):
    A = 2
def rule(x):
    """Docstring 3.0."""
    return x * 0.75 + 12 - 1 + 0
LIMIT = 40
'''
    assert hidden_numbers(source) == [(8, 0.75), (9, 40)]
    assert hidden_numbers(source, functions_only=True) == [(8, 0.75)]


@pytest.mark.parametrize("path", RULE_MODULES + FUNCTIONS_ONLY, ids=lambda p: p.name)
def test_no_numeric_literal_in_the_model_rules(path: Path) -> None:
    found = hidden_numbers(path.read_text(encoding="utf-8"), path in FUNCTIONS_ONLY)
    where = ", ".join(f"line {line}: {value!r}" for line, value in found)
    assert not found, (f"{path.name} uses numbers that are not parameters ({where}): declare "
                       "each in params.py with unit, range, default and source")


def test_every_parameter_is_read_by_the_code() -> None:
    # a declared parameter that no rule reads would be a number that decides nothing
    sources = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")
                        if p.name != "params.py")
    unread = [p.name for p in PARAMETERS
              if not re.search(rf"\b(p|params|s\.p|self\.p|s\.params)\.{p.name}\b|"
                               rf"[\"']{p.name}[\"']", sources)]
    assert not unread, f"parameters no code reads: {unread}"


def test_every_parameter_names_its_source() -> None:
    missing = [p.name for p in PARAMETERS if not p.source.strip()]
    assert not missing, f"parameters without a source: {missing}"
