"""Open work now and the drill-downs (metrics.workload, api.backlog_members, api.qa_members)
give identical rows on PostgreSQL and DuckDB, on seeded random nasty warehouses."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import api, workload
from metrics.load import frames_from_rows, write_duckdb
from metrics.warehouse import Warehouse
from tests.pg import load_tables_pg
from tests.randomwh import random_as_of, random_tables

pytestmark = pytest.mark.postgres

SEEDS = (4,)  # one nasty warehouse: each PostgreSQL call recomposes the models (~3 s)


@pytest.fixture(scope="module")
def pairs(pg_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pg_workload")
    out = {}
    for seed in SEEDS:
        rows = random_tables(seed)
        frames = frames_from_rows(rows)
        load_tables_pg(pg_url, frames, schema=f"wl{seed}")
        path = write_duckdb(frames, tmp / f"wl{seed}.duckdb")
        pg, duck = Warehouse.open(pg_url, schema=f"wl{seed}"), Warehouse.open(f"duckdb:///{path}")
        out[seed] = (pg, duck, api.resolve_as_of(duck, random_as_of(seed, rows)))
    return out


def same(a: pl.DataFrame, b: pl.DataFrame, keys: list[str]) -> None:
    assert_frame_equal(a.sort(keys, nulls_last=True), b.sort(keys, nulls_last=True), check_exact=False,
                       rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_workload_and_drilldowns_agree(pairs, seed):
    pg, duck, as_of = pairs[seed]
    for key in ("queue", "specialist_id", None):
        name = key or "group_value"
        same(workload.by_group(pg, as_of, key=key, hours=48), workload.by_group(duck, as_of, key=key, hours=48), [name])
    a, na = workload.needs_action_list(pg, as_of, hours=48)
    b, nb = workload.needs_action_list(duck, as_of, hours=48)
    assert na == nb
    same(a, b, ["appeal_id"])
    ids = api.facts(duck, as_of)["appeal_id"].to_list()[:60]
    same(workload.clock_age_hours(pg, as_of, ids), workload.clock_age_hours(duck, as_of, ids), ["appeal_id"])
    same(workload.decision_notes(pg, as_of, ids), workload.decision_notes(duck, as_of, ids), ["appeal_id"])
    report = api.report(duck, by="queue", metrics="backlog_open,backlog_breached,qa_accuracy", as_of=as_of)
    for row in report.filter(pl.col("queue").is_not_null()).tail(2).iter_rows(named=True):
        group = {"queue": row["queue"]} if row["queue"] is not None else {}
        if row["queue"] is None:
            continue
        for breached in (False, True):
            a, na = api.backlog_members(pg, row["period_start"], group=group, as_of=as_of, breached_only=breached)
            b, nb = api.backlog_members(duck, row["period_start"], group=group, as_of=as_of, breached_only=breached)
            assert na == nb == (row["backlog_breached"] if breached else row["backlog_open"])
            same(a, b, ["appeal_id"])
        a, na = api.qa_members(pg, row["period_start"], group=group, as_of=as_of)
        b, nb = api.qa_members(duck, row["period_start"], group=group, as_of=as_of)
        assert na == nb == (row["qa_accuracy_denominator"] or 0)
        same(a, b, ["review_id"])
