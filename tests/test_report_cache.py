"""Reports kept in the store at refresh (metrics.report_cache): the default views' answers are
read, not computed, and each equals the computation it replaces, cell for cell."""

from __future__ import annotations

import streamlit as st
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

import metrics.warehouse as warehouse_module
from metrics import api, refresh, report_cache
from tests.helpers import make_warehouse
from tests.randomwh import random_tables
from tests.test_app_connection import APP, ROWS, shown

ZONES = ["UTC", "Australia/Sydney"]


def _count_computed(monkeypatch) -> list[int]:
    """How many reports ran their grouped parts (a kept answer runs none)."""
    calls = [0]
    real = warehouse_module.duckdb_staged

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(warehouse_module, "duckdb_staged", counting)
    return calls


def test_kept_reports_equal_their_computation(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    tables = random_tables(6, n_appeals=80)
    url = make_warehouse(tmp_path, tables)
    result = refresh.refresh(url, report_zones=ZONES)
    assert result.mode == "full"
    reader = refresh.source(url)
    asks = report_cache.default_asks(reader.as_of, ZONES)
    # the CLI's default report, and the Overview's three reports in each of the two zones
    assert len(asks) == 1 + 3 * 2
    assert reader.meta["reports_kept"] == len(asks)
    computed = _count_computed(monkeypatch)
    kept = [api.report(reader, as_of=reader.as_of, **ask) for ask in asks]
    assert computed[0] == 0  # every default view was read from the store
    assert sum(frame.height for frame in kept) > 0
    reader._kept = {}  # the same questions, computed over the stored facts
    for ask, frame in zip(asks, kept, strict=True):
        assert_frame_equal(frame, api.report(reader, as_of=reader.as_of, **ask), check_exact=True)
    assert computed[0] == len(asks)
    # and equal to a computation from the raw warehouse (store == recomputation)
    assert_frame_equal(kept[0], api.report(url, as_of=reader.as_of, **asks[0]), check_exact=True)


def test_another_question_is_computed(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, random_tables(2, n_appeals=40))
    refresh.refresh(url, report_zones=["UTC"])
    reader = refresh.source(url)
    computed = _count_computed(monkeypatch)
    ask = report_cache.default_asks(reader.as_of, ["UTC"])[1]
    queue = api.report(reader, as_of=reader.as_of, **ask | {"by": ["queue"]})["queue"].drop_nulls()[0]
    assert computed[0] == 1  # by queue: not a kept view
    api.report(reader, as_of=reader.as_of, **ask | {"filters": {"queue": [queue]}})
    assert computed[0] == 2  # a filter: computed
    api.report(reader, as_of=reader.as_of, **ask | {"tz": "Europe/Berlin"})
    assert computed[0] == 3  # a zone not kept: computed
    api.report(reader, as_of=reader.as_of, **ask)
    assert computed[0] == 3  # the kept view itself: read


def test_overview_first_load_reads_kept_reports(tmp_path, monkeypatch):
    """A new session on a ready store: the Overview shows the hand-derived numbers of
    tests/test_app_connection.py without computing a report; a filter computes one."""
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, ROWS)
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", url)
    refresh.refresh(url)  # as `python -m metrics refresh` (APPEALS_TZ unset: UTC)
    st.cache_data.clear()
    st.cache_resource.clear()
    computed = _count_computed(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert computed[0] == 0
    # as_of 10 Mar 2026 10:30 (a Tuesday): the week of 9 Mar is running, so the default headline
    # is the week of 2 Mar: a1 and a2 created (2 and 3 Mar) and resolved (3 and 4 Mar), a1
    # overturned (1 of 2 decided)
    got = shown(at)
    assert got["Appeals created"][0] == "2"
    assert got["Appeals resolved"][0] == "2"
    assert got["Overturn rate"][0] == "50.0%"
    at.multiselect(key="queue").set_value([ROWS["appeals"][0]["queue"]]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert computed[0] > 0
    st.cache_data.clear()
    st.cache_resource.clear()
