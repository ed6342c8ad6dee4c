"""The layers stay apart: warehouse → sql/ → metrics/ (no streamlit) → ui/, pages/ (no SQL,
no database drivers, no side effects at import) → app.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "pages").glob("*.py"))
UI = sorted((ROOT / "ui").glob("*.py"))
METRICS = sorted((ROOT / "metrics").rglob("*.py"))  # adapters included
SQL_IN_TEXT = re.compile(
    r"\b(select\s+[\w*,\s.()\"]+?\s+from\s+[\w\"(]|insert\s+into|update\s+\w+\s+set\s|delete\s+from\s|"
    r"create\s+(temp\s+)?table|where\s+\w+\s*(=|in\s*\(|is\s+(not\s+)?null))",
    re.IGNORECASE,
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_there_is_something_to_check():
    assert {p.stem for p in PAGES} >= {"overview", "queues", "specialists", "root_causes", "definitions",
                                       "data_quality"}
    assert METRICS and UI


@pytest.mark.parametrize("path", PAGES + UI, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_and_ui_import_no_database_driver(path):
    bad = {m for m in imported_modules(path) if top(m) in {"duckdb", "sqlalchemy", "psycopg", "psycopg2"}}
    assert not bad, f"{path.name} imports {bad}: pages and widgets go through metrics.api"


@pytest.mark.parametrize("path", METRICS, ids=lambda p: str(p.relative_to(ROOT / "metrics")))
def test_metrics_never_imports_streamlit(path):
    assert not {m for m in imported_modules(path) if top(m) == "streamlit"}, f"metrics/{path.name} imports streamlit"


def test_every_metrics_file_is_checked():
    assert ROOT / "metrics" / "adapters" / "zendesk.py" in METRICS


def test_dashboard_start_up_does_not_import_the_generator():
    """app.py's imports and the bundled sample's first load leave metrics.sample unimported."""
    import subprocess
    import sys

    code = (
        "import sys, importlib, pathlib\n"
        "import ui.data, ui.context, ui.widgets, ui.charts, ui.fmt\n"
        "for p in sorted(pathlib.Path('pages').glob('*.py')):\n"
        "    spec = importlib.util.spec_from_file_location('page_' + p.stem, p)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "ui.data.sample_url()\n"
        "assert 'metrics.sample' not in sys.modules, 'the generator was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-500:]


@pytest.mark.parametrize("path", PAGES + UI, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_and_ui_hold_no_sql(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not SQL_IN_TEXT.search(node.value), f"{path.name}: SQL-like text {node.value[:60]!r}"


def test_the_sql_detector_works():
    assert SQL_IN_TEXT.search("SELECT a, b FROM appeals")
    assert SQL_IN_TEXT.search("select *\nfrom x")
    assert SQL_IN_TEXT.search("where status = 'open'")
    assert SQL_IN_TEXT.search("select count(*) as n from appeal_facts group by 1")
    assert not SQL_IN_TEXT.search("Select a queue to look into; appeals from the sidebar filters")
    assert not SQL_IN_TEXT.search("Group by")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_have_no_side_effects_at_import(path):
    """Module level: docstring, imports, constants, defs, and the `if __name__ == "__main__"` guard."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            assert not any(isinstance(n, ast.Call) for n in ast.walk(value)) or _only_pure_calls(value), (
                f"{path.name}:{node.lineno}: module-level call")
            continue
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            continue
        raise AssertionError(f"{path.name}:{node.lineno}: statement at import time: {ast.unparse(node)[:80]}")


def _only_pure_calls(value: ast.AST) -> bool:
    """Constant-building calls (dict(), tuple(), list(), set()) are fine at module level."""
    calls = [n for n in ast.walk(value) if isinstance(n, ast.Call)]
    return all(isinstance(c.func, ast.Name) and c.func.id in {"dict", "tuple", "list", "set", "frozenset", "enumerate", "sorted", "zip", "range"}
               for c in calls)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_importing_a_page_renders_nothing(path, monkeypatch):
    import importlib.util

    import streamlit as st

    calls = []
    monkeypatch.setattr(st, "title", lambda *a, **k: calls.append("title"))
    spec = importlib.util.spec_from_file_location(f"page_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.render) and calls == []
