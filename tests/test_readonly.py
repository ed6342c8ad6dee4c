"""The engine never writes the user's warehouse.

DuckDB files are opened read-only (a write through the engine raises, and the file's bytes
and mtime stay as they were after facts, report and check); PostgreSQL connections run in
read-only transactions (`postgresql_readonly`), so even a stray statement cannot write.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from metrics import api
from metrics.load import frames_from_rows
from metrics.warehouse import Warehouse
from tests.helpers import make_warehouse
from tests.randomwh import random_tables

ROWS = random_tables(5)


def _fingerprint(path: Path) -> tuple[int, str]:
    return os.stat(path).st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def duck_file(tmp_path) -> tuple[str, Path]:
    url = make_warehouse(tmp_path, ROWS)
    return url, Path(url.split("///", 1)[1])


def test_duckdb_engine_refuses_create_table(duck_file):
    url, path = duck_file
    wh = Warehouse.open(url)
    with wh.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="(?i)read.only"):
        conn.execute(sa.text("create table x(i int)"))
    with wh.engine.connect() as conn:  # nor through the driver's own connection
        raw = conn.connection.driver_connection
        with pytest.raises(Exception, match="(?i)read.only"):
            raw.execute("insert into appeals (appeal_id) values ('intruder')")
    wh.engine.dispose()
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("select count(*) from information_schema.tables where table_name = 'x'").fetchone()[0] == 0
    finally:
        con.close()


def test_duckdb_file_unchanged_by_facts_report_check(duck_file):
    url, path = duck_file
    before = _fingerprint(path)
    wal = path.with_name(path.name + ".wal")
    api.facts(url)
    api.report(url, by=["queue"], period="week")
    api.report(url, by=[], period="day", tz="Europe/Dublin", engine="polars")
    api.check(url)
    assert _fingerprint(path) == before
    assert not wal.exists()


@pytest.mark.postgres
def test_postgres_engine_refuses_create_table(pg_url):
    from tests.pg import load_tables_pg

    load_tables_pg(pg_url, frames_from_rows(ROWS), schema="ro")
    wh = Warehouse.open(pg_url, schema="ro")
    with wh.engine.connect() as conn:
        assert conn.exec_driver_sql("show transaction_read_only").scalar() == "on"
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            conn.execute(sa.text("create table ro.x(i int)"))
    with wh.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
        conn.execute(sa.text("delete from ro.appeals"))
    # and the API still reads it
    assert api.facts(wh).height > 0
    with wh.engine.connect() as conn:
        n = conn.execute(sa.text("select count(*) from information_schema.tables "
                                 "where table_schema = 'ro' and table_name = 'x'")).scalar()
    assert n == 0
    wh.engine.dispose()
