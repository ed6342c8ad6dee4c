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
    asks = [ask for _, ask in report_cache.named_asks(reader.as_of, ZONES)]
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
    ask = report_cache.named_asks(reader.as_of, ["UTC"])[1][1]
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


def test_a_change_to_the_reports_sql_keeps_them_again_whole(tmp_path, monkeypatch):
    """A code change to a report's SQL that leaves every model as it was (the engine version,
    so no full rebuild): the kept answers were found by the old queries' keys, so none was read
    again until the warehouse changed. The store notes the reports' SQL version; another one
    keeps them again, each computed whole (never an old answer spliced with new cells)."""
    from metrics import engine_sql

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, random_tables(3, n_appeals=40))
    assert refresh.refresh(url, report_zones=["UTC"]).mode == "full"
    reader = refresh.source(url)
    version = reader.meta["reports_version"]
    assert len(version) == 16 and version == report_cache.sql_version(reader)
    reader.db.close()
    assert refresh.refresh(url, report_zones=["UTC"]).mode == "unchanged"

    real = engine_sql.report_query

    def reworded(wh, plan):  # the same answer, other SQL text: what a code change looks like
        ctes, final, params, parts = real(wh, plan)
        return ctes, final + "\n-- reworded", params, parts

    monkeypatch.setattr(engine_sql, "report_query", reworded)

    def no_splice(*args):
        raise AssertionError("an answer of the old SQL was spliced")

    monkeypatch.setattr(report_cache, "splice", no_splice)
    # the warehouse is the same file: before, this was "unchanged" and kept the old answers
    result = refresh.refresh(url, report_zones=["UTC"])
    assert (result.mode, result.recomputed) == ("incremental", 0)
    reader = refresh.source(url)
    assert reader.meta["reports_version"] not in (None, version)
    computed = _count_computed(monkeypatch)
    for _, ask in report_cache.named_asks(reader.as_of, ["UTC"]):
        api.report(reader, as_of=reader.as_of, **ask)
    assert computed[0] == 0  # every default view read from what the store keeps, under the new SQL
    reader.db.close()
    assert refresh.refresh(url, report_zones=["UTC"]).mode == "unchanged"


def test_the_filter_values_are_kept_at_refresh_and_after_an_upgrade(tmp_path, monkeypatch):
    """The sidebar's filter lists (api.key_values of dashboard.FILTER_KEYS) are kept in the
    store's meta at refresh and read from there. A store written by code that kept fewer keys
    (here: the queue's alone) has another reports version, so the next refresh keeps all of
    them, with no appeal recomputed, though the warehouse did not change."""
    from metrics import dashboard

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, random_tables(4, n_appeals=40))
    monkeypatch.setattr(dashboard, "FILTER_KEYS", ("queue",))
    refresh.refresh(url, report_zones=["UTC"])
    reader = refresh.source(url)
    assert list(reader.meta["key_values"]) == ["queue"]
    reader.db.close()
    monkeypatch.undo()
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    result = refresh.refresh(url, report_zones=["UTC"])
    assert (result.mode, result.recomputed) == ("incremental", 0)
    reader = refresh.source(url)
    kept = reader.meta["key_values"]
    assert sorted(kept) == ["market", "pod", "priority", "queue", "site"]
    assert api.key_values(reader, dashboard.FILTER_KEYS) == api.key_values(url, dashboard.FILTER_KEYS)
    # read from the meta: no query reaches the store's tables
    monkeypatch.setattr(type(reader), "query", lambda *a, **k: (_ for _ in ()).throw(AssertionError("queried")))
    assert api.key_values(reader, ("priority", "queue"), reader.as_of) == {"priority": kept["priority"], "queue": kept["queue"]}
    reader.db.close()


# -- an incremental refresh splices the kept answers (report_cache.splice) ----------------------
# Four appeals in four ISO weeks (UTC; weeks start on Monday): 2 Mar, 9 Mar, 16 Mar, 23 Mar 2026.
# A, C, D decided within their week; B created 10 Mar and still open. Calendar SLAs: first touch
# 1 h, resolution 100 h, so B's are breached (decided) by as_of: no appeal moves with as_of alone.
SPLICE_APPEALS = [
    {"appeal_id": x, "enforcement_id": f"E{x}", "queue": "q", "priority": "P1", "created_at": created}
    for x, created in (("A", "2026-03-03T09:00:00Z"), ("B", "2026-03-10T09:00:00Z"),
                       ("C", "2026-03-17T09:00:00Z"), ("D", "2026-03-24T09:00:00Z"))
]
SPLICE_EVENTS = [
    {"event_id": f"{x.lower()}1", "appeal_id": x, "occurred_at": at, "event_type": "decided", "actor_id": "s2",
     "actor_type": "specialist", "outcome": "upheld"}
    for x, at in (("A", "2026-03-04T12:00:00Z"), ("C", "2026-03-18T12:00:00Z"), ("D", "2026-03-24T15:00:00Z"))
]
SPLICE_POLICIES = [{"queue": "*", "priority": "P1", "first_touch_target_hours": 1, "resolution_target_hours": 100,
                    "clock": "calendar"}]


def _splice_warehouse(tmp_path, events, policy="counterfeit") -> str:
    import gc

    gc.collect()  # let go of this process's connections to the file before it is rewritten
    enforcements = [{"enforcement_id": f"E{a['appeal_id']}", "user_id": "u", "action": "q",
                     "policy": policy if a["appeal_id"] == "A" else "counterfeit", "source": "automated",
                     "enforced_by": "model", "enforced_at": a["created_at"].replace("T09", "T07")}
                    for a in SPLICE_APPEALS]
    return make_warehouse(tmp_path, {"appeals": SPLICE_APPEALS, "appeal_events": events,
                                     "enforcements": enforcements, "sla_policies": SPLICE_POLICIES})


def test_an_incremental_refresh_computes_only_the_weeks_a_change_touches(tmp_path, monkeypatch):
    from metrics import engine_sql
    from metrics.catalog import METRICS

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    # (ask, first week, last week) of each stretch a splice computes; an Overview ask by its number
    # of metrics and keys: the KPIs (all queues), the SLA exceptions by queue and for all queues
    runs: list[tuple[str, str, str]] = []
    overview = [f"overview {len(metrics)} by {list(by)}" for by, metrics in report_cache.OVERVIEW_REPORTS]
    real_run, real_splice = engine_sql.run_report, report_cache.splice
    splicing = [False]

    def recording(wh, plan):
        if splicing[0]:
            ask = "cli" if plan.metrics == list(METRICS) else f"overview {len(plan.metrics)} by {plan.keys}"
            runs.append((ask, plan.period_from.isoformat(), plan.period_to.isoformat()))
        return real_run(wh, plan)

    def splice(*args):
        splicing[0] = True
        try:
            return real_splice(*args)
        finally:
            splicing[0] = False

    monkeypatch.setattr(engine_sql, "run_report", recording)
    monkeypatch.setattr(report_cache, "splice", splice)

    def step(events, policy="counterfeit") -> list[tuple[str, str, str]]:
        url = _splice_warehouse(tmp_path, events, policy)
        runs.clear()
        result = refresh.refresh(url, report_zones=["UTC"])
        reader = refresh.source(url)
        asks = report_cache.named_asks(reader.as_of, ["UTC"])
        assert sorted(reader.meta["kept_asks"]) == sorted(name for name, _ in asks)
        computed = _count_computed(monkeypatch)
        kept = [api.report(reader, as_of=reader.as_of, **ask) for _, ask in asks]
        assert computed[0] == 0  # the store answered every default view from what it keeps
        for (_, ask), frame in zip(asks, kept, strict=True):  # and each equals the warehouse's computation
            assert_frame_equal(frame, api.report(url, as_of=reader.as_of, **ask), check_exact=True)
        reader.db.close()
        return result.mode, sorted(runs)

    # 0. the full build computes every report whole: no stretch of weeks
    assert step(SPLICE_EVENTS) == ("full", [])
    # as_of is the latest instant, D's decision (24 Mar 15:00, week of 23 Mar); the Overview's
    # range is the 8 complete weeks before: 26 Jan to 16 Mar. The CLI's: the whole history.

    # 1. a message to D's user on 25 Mar 10:00: as_of moves within the week of 23 Mar. Only D
    #    is recomputed; each report's last week ends at as_of, so the week of 23 Mar (the last
    #    as_of's week through this one's) is computed again, for the CLI's report alone.
    msg = [*SPLICE_EVENTS, {"event_id": "d2", "appeal_id": "D", "occurred_at": "2026-03-25T10:00:00Z",
                            "event_type": "message_to_user", "actor_id": "s2", "actor_type": "specialist"}]
    assert step(msg) == ("incremental", [("cli", "2026-03-23", "2026-03-23")])

    # 2. a late assignment of B on 11 Mar 10:00 (week of 9 Mar): B's open stretch splits there
    #    and the second part has an owner. Its facts rows move within the week of 9 Mar only
    #    (created 10 Mar; both SLA deadlines, 10 Mar 10:00 and 14 Mar 13:00, in that week).
    #    The stretches differ from 11 Mar 10:00 on (the first one now ends there), so every week
    #    whose end is later: 9, 16 and 23 Mar (the count by queue stays, B open either way: the
    #    stretches are compared, not the cells). One stretch for the CLI (9-23 Mar), and for each of the Overview's
    #    three reports the part in its range (9-16 Mar).
    late = [*msg, {"event_id": "b1", "appeal_id": "B", "occurred_at": "2026-03-11T10:00:00Z",
                   "event_type": "assigned", "actor_id": "s1", "actor_type": "specialist"}]
    assert step(late) == ("incremental", sorted([("cli", "2026-03-09", "2026-03-23")]
                                                + [(o, "2026-03-09", "2026-03-16") for o in overview]))

    # 3. A's enforcement row corrected (policy): A is recomputed, its counted rows unchanged
    #    (no default view reads the policy); the enforcement's row counts in appeal_rate's
    #    denominator in its week, 2 Mar (enforced 3 Mar 07:00). With the as_of week: two
    #    stretches for the CLI (2 Mar; 23 Mar), one for each Overview report (2 Mar).
    assert step(late, policy="fraud") == ("incremental", sorted([("cli", "2026-03-02", "2026-03-02"),
                                                                 ("cli", "2026-03-23", "2026-03-23")]
                                                                + [(o, "2026-03-02", "2026-03-02") for o in overview]))
