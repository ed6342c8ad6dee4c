"""The metric catalog reads like a spec: its named rules hold, each rule catches a broken
entry, and every kind gives the same cells in SQL and in Polars (including the empty ones)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from metrics import catalog
from metrics import dialect as sql_dialect
from metrics.catalog import METRICS, RULES, Direction, Team, Unit, validate
from metrics.conditions import Always, Gt, IsTrue
from metrics.kinds import KINDS, CohortRatio, Count, Percentile, Ratio

ROOT = Path(__file__).resolve().parent.parent


def test_the_catalog_obeys_every_rule():
    assert set(RULES) == {"names_unique", "every_ratio_has_both_parts", "every_metric_defined", "units_consistent"}
    assert validate() == {}


def _broken(name: str, **changes):
    return dataclasses.replace(METRICS[name], **changes)


@pytest.mark.parametrize(
    ("rule", "entries"),
    [
        ("names_unique", (METRICS["overturn_rate"], METRICS["overturn_rate"])),
        ("names_unique", (METRICS["reopen_rate"], _broken("escalation_rate", label="Reopen rate"))),
        ("every_ratio_has_both_parts", (_broken("reopen_rate", kind=Ratio(numerator=None)),)),
        ("every_ratio_has_both_parts", (_broken("appeal_rate", kind=CohortRatio("enforcements")),)),
        ("every_metric_defined", (_broken("reopen_rate", edge_cases=()),)),
        ("every_metric_defined", (_broken("reopen_rate", description=" "),)),
        ("units_consistent", (_broken("ttr_p50_hours", unit=Unit.RATIO),)),
        ("units_consistent", (_broken("appeals_created", kind=Percentile("ttr_hours", 0.5), unit=Unit.HOURS),)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_rule_catches_a_broken_entry(rule, entries):
    found = validate(entries)
    assert set(found) == {rule}, found


def test_entries_have_named_fields_and_enums():
    for m in METRICS.values():
        assert isinstance(m.unit, Unit) and isinstance(m.direction, Direction) and isinstance(m.owner, Team)
        assert type(m.kind) in KINDS
    # the numbers' names are the contract's (interfaces.md), the labels the managers' words
    assert list(METRICS) == [
        "appeals_created", "appeals_resolved", "ttr_p50_hours", "ttr_p90_hours", "ftr_p50_hours", "ftr_p90_hours",
        "ftr_sla_attainment", "ttr_sla_attainment", "overturn_rate", "full_overturn_rate", "reopen_rate",
        "escalation_rate", "backlog_open", "backlog_breached", "qa_accuracy", "appeal_rate",
    ]
    assert METRICS["ftr_sla_attainment"].business_name == "First Touch Response SLA"
    assert METRICS["overturn_rate"].fmt == ".1%" and METRICS["overturn_rate"].higher_is_better is False
    assert METRICS["appeal_rate"].columns == ["appeal_rate", "appeal_rate_numerator", "appeal_rate_denominator"]
    assert METRICS["ttr_p90_hours"].columns == ["ttr_p90_hours"]


def test_business_names_grep_in_the_printed_catalog():
    out = subprocess.run([sys.executable, "-m", "metrics", "definitions"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "First Touch Response SLA" in out
    assert "owner: Quality Assurance" in out  # qa_accuracy's owner
    assert "kind: cohort_ratio" in out  # appeal_rate is a ratio across two cohorts, said so


def test_reconcilable_metrics_follow_from_kind_and_cohort():
    # facts cohorts, not the backlog (spans), QA reviews, or a ratio over enforcements
    assert [n for n, m in METRICS.items() if not m.reconcilable] == [
        "backlog_open", "backlog_breached", "qa_accuracy", "appeal_rate"]


# -- every kind, both engines ------------------------------------------------------------------------

# One cohort's rows in two cells (A: 4 rows, B: 1 row) and a second cohort with rows in A only.
ROWS = pl.DataFrame({
    "cell": ["A", "A", "A", "A", "B"],
    "hours": [1.0, 2.0, 4.0, None, 10.0],
    "reopen_count": [0, 2, 1, 0, 0],
    "escalated": [True, None, False, True, False],
})
OTHER = pl.DataFrame({"cell": ["A", "A", "A"]})

KIND_CASES = {
    # kind, expected {cell: (value, numerator, denominator)}, derivation
    "count": (Count(), {"A": (4, None, None), "B": (1, None, None)}),  # rows per cell
    "count_where": (Count(IsTrue("escalated")), {"A": (2, None, None), "B": (0, None, None)}),  # null is not true
    # A: hours 1, 2, 4 known; p50 = 2; p90 = 2 + 0.8·(4 − 2) = 3.6 (rank 0.9·2 = 1.8); B: 10
    "percentile": (Percentile("hours", 0.9), {"A": (3.6, None, None), "B": (10.0, None, None)}),
    # A: reopen_count > 0 for 2 of 4; B: 0 of 1
    "ratio": (Ratio(Gt("reopen_count", 0)), {"A": (0.5, 2, 4), "B": (0.0, 0, 1)}),
    # numerator: rows of "rows" per cell (A 4, B 1); denominator: rows of "other" (A 3, B none → null)
    "cohort_ratio": (CohortRatio("rows"), {"A": (4 / 3, 4, 3), "B": (None, 1, 0)}),
}


def _metric(kind):
    return dataclasses.replace(METRICS["appeals_created"], name="x", kind=kind, cohort="other"
                               if isinstance(kind, CohortRatio) else "rows")


def _cells_sql(m, present: bool) -> dict:
    con = duckdb.connect()
    rows, other = ROWS, OTHER  # noqa: F841 (read by DuckDB's replacement scan)
    parts = {"rows": "rows", "other": "other"}
    ctes = []
    for cohort, table in parts.items():
        aggs = sql_dialect.expand_percentiles(m.kind.sql_aggregates(m, cohort), "duckdb")  # as engine_sql
        if aggs:
            ctes.append(f"part_{cohort} as (select cell, {', '.join(aggs)} from {table} group by cell)")
    computed = {c for c in parts if m.kind.sql_aggregates(m, c)} if present else set()
    joins = "".join(f" left join part_{c} using (cell)" for c in sorted(computed))

    def ref(cohort, column):
        return f"part_{cohort}.{column}" if cohort in computed else None

    sql = (f"with {', '.join(ctes)}, cells as (select distinct cell from rows) "
           f"select cell, {', '.join(m.kind.sql_outputs(m, ref))} from cells{joins} order by cell")
    return {r[0]: r[1:] for r in con.execute(sql).fetchall()}


def _cells_polars(m, present: bool) -> dict:
    frames = {"rows": ROWS, "other": OTHER}
    out = ROWS.select("cell").unique()
    computed = set()
    for cohort, frame in frames.items():
        aggs = m.kind.polars_aggregates(m, cohort)
        if aggs and present:
            out = out.join(frame.group_by("cell").agg(aggs), on="cell", how="left")
            computed.add(cohort)

    def ref(cohort, column):
        return pl.col(column) if cohort in computed else None

    res = out.select("cell", *m.kind.polars_outputs(m, ref)).sort("cell")
    return {r[0]: tuple(r[1:]) for r in res.iter_rows()}


def _triple(values) -> tuple:
    return tuple(values) + (None,) * (3 - len(values))


@pytest.mark.parametrize("case", list(KIND_CASES))
def test_every_kind_gives_the_same_cells_in_sql_and_polars(case):
    kind, expected = KIND_CASES[case]
    m = _metric(kind)
    sql, pol = _cells_sql(m, True), _cells_polars(m, True)
    for cell, want in expected.items():
        for got in (_triple(sql[cell]), _triple(pol[cell])):
            assert got[1:] == want[1:], (case, cell, got)
            assert got[0] == pytest.approx(want[0]) if want[0] is not None else got[0] is None, (case, cell, got)
    assert set(KINDS) == {type(k) for k, _ in KIND_CASES.values()}  # a new kind needs a case here


@pytest.mark.parametrize("case", list(KIND_CASES))
def test_a_metric_whose_cohort_was_not_computed_is_the_kinds_empty_value_in_both_engines(case):
    # The drift this fixes: a count over no rows was NULL in SQL and 0 in Polars. Now both say
    # 0 for counts (kind.empty) and null for every column of the other kinds.
    kind, _ = KIND_CASES[case]
    m = _metric(kind)
    empty = (kind.empty,) + (None,) * (len(kind.columns("x")) - 1)
    assert _cells_sql(m, False)["A"] == empty == _cells_polars(m, False)["A"]
    assert (Count.empty, Percentile.empty, Ratio.empty) == (0, None, None)


def test_formulas_are_written_by_the_kind():
    assert METRICS["reopen_rate"].formula() == (
        "count where reopen_count > 0 ÷ count where every row (rows: status = 'resolved'); "
        "null when the denominator is 0")
    assert "linear interpolation" in METRICS["ftr_p90_hours"].formula()
    assert METRICS["backlog_breached"].formula().endswith("where is_breached is true; 0 when none")
    assert isinstance(METRICS["appeals_created"].kind.where, Always)
    assert catalog.as_records()[0]["owner"] == "Appeals Operations"
