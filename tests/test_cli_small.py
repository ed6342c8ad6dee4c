"""Issue 10 item 8, the command-line half: `wbr --out -` writes Markdown to standard output
as `report --out -` writes CSV, and `facts` says what it wrote (one line on standard output;
with `--out -` standard output stays pure data). Warehouse: the two hand-written appeals of tests/test_cli.py."""

from __future__ import annotations

import csv
import io

from tests.test_cli import ROWS, run_cli, wh_url  # noqa: F401 - the module fixture


def test_facts_says_what_it_wrote(wh_url, tmp_path):  # noqa: F811
    out = tmp_path / "facts.csv"
    proc = run_cli("facts", "--warehouse", wh_url, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    # two appeals (A1, A2) created at or before as_of
    assert proc.stdout == f"wrote 2 appeals to {out}\n"


def test_facts_to_stdout_stays_pure_csv(wh_url):  # noqa: F811
    proc = run_cli("facts", "--warehouse", wh_url, "--out", "-")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["appeal_id"] for r in rows] == ["A1", "A2"]
    assert "wrote" not in proc.stdout + proc.stderr


def test_wbr_out_dash_writes_markdown_to_stdout(wh_url, tmp_path):  # noqa: F811
    proc = run_cli("wbr", "--warehouse", wh_url, "--week", "2026-W10", "--out", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#")  # the review's Markdown title
    assert "2026-W10" in proc.stdout
    # and the same text as the .md file
    out = tmp_path / "w.md"
    proc2 = run_cli("wbr", "--warehouse", wh_url, "--week", "2026-W10", "--out", str(out))
    assert proc2.returncode == 0, proc2.stderr
    assert out.read_text().strip() == proc.stdout.strip()
    assert proc2.stdout == f"wrote the review of 2026-W10 to {out}\n"
