"""Sessions read the store concurrently: each query on a cursor of its own (no shared lock
to queue behind), with the same numbers as one session reading alone."""

from __future__ import annotations

import threading

import pytest
from polars.testing import assert_frame_equal

from metrics import api, refresh, store
from tests.helpers import make_warehouse
from tests.test_app_connection import ROWS


@pytest.fixture()
def reader(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    wh = api.open_warehouse(make_warehouse(tmp_path, ROWS))
    refresh.refresh(wh, None)
    src = store.open_store(wh, store.location(wh, None))
    yield src
    src.db.close()
    wh.engine.dispose()


def test_a_query_runs_while_another_holds_its_cursor(reader):
    """With one shared connection under a lock (before), the second read waits for the first
    to give its connection back; here it runs at once on a cursor of its own."""
    db = reader.db
    done = threading.Event()
    got = {}

    def second():
        got["n"] = db.query("select count(*) as n from main.facts")["n"][0]
        done.set()

    with db.cursor() as held:
        held.execute("select 1")
        t = threading.Thread(target=second)
        t.start()
        # 4 appeals in tests/test_app_connection.py ROWS (a1..a4): the stored facts hold 4 rows
        assert done.wait(timeout=20), "the second reader waited for the first one's cursor"
        t.join()
    assert got["n"] == 4
    assert db.cursors_opened == 2  # the held one and the second reader's


def test_concurrent_sessions_get_the_same_report_as_one_alone(reader):
    alone = api.report(reader, by=["queue"], period="week")
    barrier = threading.Barrier(4)
    out: list = []
    errors: list = []

    def session():
        try:
            barrier.wait(timeout=20)
            for _ in range(3):
                out.append(api.report(reader, by=["queue"], period="week"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=session) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(out) == 12
    for frame in out:
        assert_frame_equal(frame, alone, check_exact=True)
    # hand-derived from ROWS: appeals created 2 in each of the two weeks (a1, a2 / a3, a4)
    assert sorted(alone["appeals_created"].drop_nulls().to_list()) == [2, 2]
    assert reader.db.cursors_opened >= 2  # threads ran their queries on cursors of their own
    assert len(reader.db._idle) <= store.DuckStoreDB.POOL_IDLE_MAX


def test_the_readers_memory_is_bounded_by_its_share_of_the_budget(reader, monkeypatch):
    # APPEALS_DUCKDB_MEMORY_LIMIT default 2GB: the read-only store gets 30% (the warehouse's
    # instance beside it 20%): int(2048 * 0.3) = 614 MiB
    limit = reader.db.query("select current_setting('memory_limit') as m")["m"][0]
    assert limit == "614.0 MiB"
    monkeypatch.setenv("APPEALS_DUCKDB_MEMORY_LIMIT", "600MB")
    other = store.DuckStoreDB(reader.db.path, read_only=True)
    try:
        assert other.query("select current_setting('memory_limit') as m")["m"][0] == "180.0 MiB"  # 600 * 0.3
    finally:
        other.close()


def test_a_closed_store_says_so_in_one_line(reader):
    db = store.DuckStoreDB(reader.db.path, read_only=True)
    db.close()
    with pytest.raises(Exception, match="was closed"):
        db.query("select 1")
