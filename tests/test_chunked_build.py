"""The build in slices (Warehouse.materialize on a big warehouse: events_effective per hash
slice of event_id, appeal_facts and status_spans per hash slice of appeal_id, so that 10M
appeals fit the memory budget)
gives exactly the rows of the one-statement build, on random nasty warehouses: duplicate ids,
event ids shared across appeals, enforcements named by several appeals, reassignments."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from metrics import api
from tests.helpers import make_warehouse
from tests.randomwh import random_as_of, random_tables


def _prepared(url: str, as_of, chunk_rows: int | None):
    wh = api.open_warehouse(url)
    wh.chunk_rows = chunk_rows
    wh = api.prepare(wh, as_of)
    sliced = wh.query(f"select count(*) as n from {wh.materialized_table('appeals_base')}")["n"][0]
    return wh, int(sliced)


@pytest.mark.parametrize("seed", [0, 5, 11])
def test_sliced_build_equals_one_statement(tmp_path, seed):
    tables = random_tables(seed, n_appeals=120)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    whole, n = _prepared(url, as_of, None)
    sliced, _ = _prepared(url, as_of, 7)  # about 17 slices of 7 appeals
    assert n > 7 * 5  # the slicing path ran with many slices
    # events in slices: the models went to a DuckDB file of their own; a small build keeps temp tables
    assert "." in sliced.materialized_table("appeal_facts") and "." not in whole.materialized_table("appeal_facts")
    for part in ("facts", "spans"):
        a = api.facts(whole, as_of, wide=True) if part == "facts" else api.status_spans(whole, as_of)
        b = api.facts(sliced, as_of, wide=True) if part == "facts" else api.status_spans(sliced, as_of)
        assert a.height > 0
        assert_frame_equal(a.sort(a.columns, nulls_last=True), b.sort(b.columns, nulls_last=True), check_exact=True)
    checks_a = [(c.name, int(c.count), c.examples) for c in api.check(whole, as_of)]
    checks_b = [(c.name, int(c.count), c.examples) for c in api.check(sliced, as_of)]
    assert checks_a == checks_b
    models_file = sliced._models_db[1]
    assert models_file.exists()
    sliced.close()
    assert not models_file.exists()  # the models' file goes with the session


def test_models_file_of_a_gone_process_is_swept(tmp_path, monkeypatch):
    """A build killed before it could delete its models' file leaves it in the spill folder;
    the next build deletes it (its process is gone), never a live process's."""
    import os
    import subprocess
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs
    folder = tmp_path / "tmp" / "appeals-analytics-duckdb"
    folder.mkdir()
    dead = folder / f"models-{gone.pid}-0123456789ab.duckdb"
    live = folder / f"models-{os.getppid()}-0123456789ab.duckdb"  # pytest's parent: alive
    dead.write_bytes(b"x")
    live.write_bytes(b"x")
    tables = random_tables(4, n_appeals=40)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(4, tables)
    wh = api.open_warehouse(url)
    wh.chunk_rows = 10  # events in slices: a models' file
    api.prepare(wh, as_of)
    assert wh._models_db[1].parent == folder
    assert not dead.exists() and live.exists()
    wh.close()


def test_slices_follow_the_memory_limit(tmp_path, monkeypatch):
    # a 10 GB budget: DuckDB gets 70% = 7,168 MB, at 1,000 appeals per MB 7,168,000 appeals a
    # slice: one; a 1,500,000-appeal equivalent is forced by chunk_rows = n // 3 + 1 -> 3 slices
    monkeypatch.setenv("APPEALS_DUCKDB_MEMORY_LIMIT", "10GB")
    tables = random_tables(2)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(2, tables)
    wh = api.prepare(url, as_of)
    assert wh.query("select current_setting('memory_limit') as m")["m"][0] == "7.0 GiB"
    assert wh.slices == {"events_effective": 1, "appeal_facts": 1, "status_spans": 1}
    n = int(wh.query(f"select count(*) as n from {wh.materialized_table('appeals_base')}")["n"][0])
    wh2 = api.open_warehouse(url)
    wh2.chunk_rows = n // 3 + 1
    api.prepare(wh2, as_of)
    assert wh2.slices == {"events_effective": 3, "appeal_facts": 3, "status_spans": 3}


@pytest.mark.parametrize("seed", [3, 8])
def test_report_in_parts_equals_the_one_statement(tmp_path, seed):
    """On DuckDB a report computes each cohort's grouped part by a statement of its own
    (engine_sql.run_report; one statement held every part at once and ran out of memory at
    10M): its rows equal compile_report's one statement exactly, on a plain connection and on
    the held session of prepared models, and no part's temp table is left behind."""
    from metrics import engine_sql

    tables = random_tables(seed, n_appeals=120)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    for wh in (api.open_warehouse(url), api.prepare(url, as_of)):
        for by in (["queue"], ["specialist_id", "priority"]):
            plan = api.plan_report(wh, by=by, period="week", as_of=as_of)
            assert len(plan.cohorts()) >= 6  # created, resolved, first touch, both SLAs, backlog (and QA)
            sql, params = engine_sql.compile_report(wh, plan)
            one = wh.query(sql, params)
            parts = engine_sql.run_report(wh, plan)
            assert one.height > 0
            assert_frame_equal(one, parts, check_exact=True)
            left = wh.query("select count(*) as n from duckdb_tables() where temporary and table_name like 'part_%'")
            assert left["n"][0] == 0
            # the parts read the models computed once (each part over the raw chain would
            # compute every model again): a plain connection has them after its first report
            assert set(wh.model_overrides(params["as_of"])) == set(wh.FINAL_MODELS)


def test_bounding_a_connection_again_after_it_spilled(tmp_path, monkeypatch):
    """A 10M refresh bounds the warehouse's connection, spills while fingerprinting, then
    bounds it again to build the models: DuckDB refuses `set temp_directory` once the folder
    is in use, even to the same path ("Cannot switch temporary directory"), so the second
    bound must leave the folder as it is."""
    import duckdb

    from metrics.warehouse import bound_duckdb

    monkeypatch.setenv("APPEALS_DUCKDB_MEMORY_LIMIT", "100MB")  # 0.5 share: a 50 MiB buffer pool
    con = duckdb.connect(str(tmp_path / "spill.duckdb"))
    assert bound_duckdb(con, 0.5) == 50.0
    used = con.execute("select current_setting('temp_directory')").fetchone()[0]
    # a temp table of 2M distinct 100-character texts (200 MB before compression) cannot stay in
    # 50 MiB: part of it is written to the folder (how much depends on DuckDB's compression)
    con.execute("create temp table big as select i, repeat(cast(i as varchar), 100)[1:100] as t from range(2000000) as r(i)")
    assert con.execute("select coalesce(sum(size), 0) from duckdb_temporary_files()").fetchone()[0] > 0
    assert bound_duckdb(con, 0.5) == 50.0
    assert con.execute("select current_setting('temp_directory')").fetchone()[0] == used
    assert con.execute("select count(*) from big").fetchone()[0] == 2_000_000
