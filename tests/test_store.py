"""The store, refreshed incrementally, gives the same numbers as a from-scratch computation.

Random sequences of appends, late events, corrections and deletions (and changes to the
side tables) are applied to random nasty warehouses (tests/randomwh.py); after every step
the store is refreshed and its facts (wide), spans and reports must equal the warehouse
computed from scratch, exactly, and the Polars reference over the store must agree with the
SQL engine over the store.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from metrics import api, dashboard, refresh, report_cache, store, workload
from tests.helpers import make_warehouse
from tests.randomwh import EVENT_TYPES, random_tables

REPORTS = [
    (["queue"], "week", "UTC"),
    (["specialist_id", "priority"], "day", "Europe/Dublin"),
    (["policy", "enforcement_source"], "month", "America/Phoenix"),
    (["site", "pod"], "week", "UTC"),
]


@pytest.fixture(autouse=True)
def _own_store_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))


def _iso(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _latest(tables) -> datetime:
    times = [_iso(a["created_at"]) for a in tables["appeals"]] + [_iso(e["occurred_at"]) for e in tables["appeal_events"]]
    return max(times)


def _event(rng, tables, aid: str, at: datetime) -> dict:
    et = rng.choice(EVENT_TYPES + ["decided", "reopened"])
    actor_type = rng.choice(["specialist", "specialist", "system", "user"])
    n = sum(1 for _ in tables["appeal_events"]) + rng.randint(0, 10**6)
    return {"event_id": f"x{n:07d}", "appeal_id": aid, "occurred_at": at.isoformat(), "event_type": et,
            "actor_id": rng.choice(["s0", "s1", "s2", "s3", "s9"]) if actor_type == "specialist" else "bot",
            "actor_type": actor_type,
            "outcome": rng.choice(["upheld", "overturned", None]) if et == "decided" else None,
            "root_cause": rng.choice(["agent_error", None]) if et == "decided" else None, "note": None}


def mutate(rng: random.Random, tables: dict, step: int) -> str:
    """One random change to the warehouse; returns its name."""
    appeals, events = tables["appeals"], tables["appeal_events"]
    latest = _latest(tables)
    ids = [a["appeal_id"].strip() for a in appeals]
    kind = rng.choice(["append_day", "append_day", "late_events", "correct", "delete", "shared_event_id",
                       "side_tables", "quiet"])
    if kind == "append_day":  # a new day: new appeals with events, and events on old ones
        for i in range(rng.randint(1, 4)):
            created = latest + timedelta(minutes=rng.randint(1, 24 * 60))
            aid = f"n{step:02d}{i}"
            appeals.append({"appeal_id": aid, "enforcement_id": f"e{aid}", "queue": rng.choice(["q_a", "q_b", "q_c"]),
                            "priority": rng.choice(["P0", "P1", "P2"]), "market": "US", "channel": "email",
                            "language": "en", "created_at": created.isoformat()})
            if "enforcements" in tables:
                tables["enforcements"].append({"enforcement_id": f"e{aid}", "action": "q_a", "policy": "p1",
                                               "source": "human", "enforced_by": "s1",
                                               "enforced_at": (created - timedelta(hours=3)).isoformat()})
            for k in range(rng.randint(0, 4)):
                events.append(_event(rng, tables, aid, created + timedelta(minutes=30 * k)))
        for aid in rng.sample(ids, min(5, len(ids))):
            events.append(_event(rng, tables, aid, latest + timedelta(minutes=rng.randint(0, 24 * 60))))
    elif kind == "late_events":  # arrive now, happened long ago (some before the appeal's creation)
        for aid in rng.sample(ids, min(4, len(ids))):
            created = next(_iso(a["created_at"]) for a in appeals if a["appeal_id"].strip() == aid)
            events.append(_event(rng, tables, aid, created + timedelta(hours=rng.randint(-3, 200))))
    elif kind == "correct":  # rows rewritten in place
        for e in rng.sample(events, min(4, len(events))):
            field = rng.choice(["event_type", "occurred_at", "outcome", "actor_type"])
            if field == "event_type":
                e["event_type"] = rng.choice(EVENT_TYPES)
            elif field == "occurred_at":
                e["occurred_at"] = (_iso(e["occurred_at"]) - timedelta(hours=rng.randint(1, 48))).isoformat()
            elif field == "outcome":
                e["outcome"] = rng.choice(["upheld", "overturned", "partially_overturned", None])
            else:
                e["actor_type"] = rng.choice(["specialist", "system"])
        a = rng.choice(appeals)
        a["priority"] = rng.choice(["P0", "P1", "P2"])
    elif kind == "delete":
        for e in rng.sample(events, min(3, len(events))):
            events.remove(e)
        if rng.random() < 0.5 and len(appeals) > 10:
            appeals.remove(rng.choice(appeals))
    elif kind == "shared_event_id":  # an event id another appeal already carries
        src = rng.choice(events)
        copy = dict(src, appeal_id=rng.choice(ids), occurred_at=(_iso(src["occurred_at"])
                                                                 + timedelta(minutes=rng.choice([-30, 0, 30]))).isoformat())
        events.append(copy)
    elif kind == "side_tables":
        choice = rng.choice(["specialists", "enforcements", "qa", "sla"])
        if choice == "specialists":
            tables["specialists"] = [{"specialist_id": f"s{i}", "display_name": f"S{i}", "pod": rng.choice(["p1", "p2"]),
                                      "site": rng.choice(["dub", "phx"]), "team_lead": "t"} for i in range(5)]
        elif choice == "enforcements" and tables.get("enforcements"):
            rng.choice(tables["enforcements"])["policy"] = rng.choice(["p1", "p2", "p3"])
        elif choice == "qa" and "qa_reviews" in tables:
            tables["qa_reviews"].append({"review_id": f"rq{step}", "appeal_id": rng.choice(ids),
                                         "reviewed_at": (latest + timedelta(days=rng.choice([-3, 1]))).isoformat(),
                                         "decision_correct": rng.random() < 0.5})
        elif choice == "sla" and "sla_policies" in tables:
            tables["sla_policies"][0]["resolution_target_hours"] = rng.choice([12, 24, 36])
    return kind


def _decision_notes(src):
    """Every appeal's final decision note (what theme discovery and drill-downs read), in one order."""
    wh = api.open_warehouse(src)
    params = {"as_of": api.as_of_param(api.default_as_of(wh))}
    return wh.query(wh.compose(None, 'select appeal_id, decision_note from decision_notes order by appeal_id collate "C"',
                               params), params)


def assert_store_matches(src, url) -> None:
    assert_frame_equal(api.facts(src, wide=True), api.facts(url, wide=True), check_exact=True)
    assert_frame_equal(api.status_spans(src), api.status_spans(url), check_exact=True)
    assert_frame_equal(_decision_notes(src), _decision_notes(url), check_exact=True)
    # policy-clock ages with the listed appeals read from the store's facts (open ones first,
    # then the rest; an unknown id has none) equal those staged from the warehouse's appeals
    ids = [*api.facts(src, wide=True)["appeal_id"].to_list(), "no-such-appeal"]
    assert_frame_equal(workload.clock_age_hours(url, src.as_of, ids, store=src).sort("appeal_id"),
                       workload.clock_age_hours(url, src.as_of, ids).sort("appeal_id"), check_exact=True)
    # the sidebar's filter values, kept at refresh, equal a scan of the facts
    assert sorted(src.kept_key_values(src.meta["as_of"])) == sorted(dashboard.FILTER_KEYS)
    assert api.key_values(src, dashboard.FILTER_KEYS) == api.key_values(url, dashboard.FILTER_KEYS)
    assert src.kept_specialist_names(src.meta["as_of"]) == api.specialist_names(url)  # the names, kept alike
    # the per-appeal data checks read from the hits the store keeps: what they find on the models
    assert api.check(url, kept=src) == api.check(url)
    # every default view the store keeps (an incremental refresh splices them from the last
    # state's: metrics.report_cache) equals its computation from the warehouse
    kept = src.meta.get("kept_asks", {})
    assert len(kept) == len(report_cache.named_asks(src.as_of, report_cache.default_zones()))
    for name, ask in report_cache.named_asks(src.as_of, report_cache.default_zones()):
        assert name in kept
        assert_frame_equal(api.report(src, as_of=src.as_of, **ask), api.report(url, as_of=src.as_of, **ask),
                           check_exact=True)
    # filtered by carried keys (the QA reviews a DuckDB store keeps carry them: no join), and by
    # one they do not carry (the join)
    for by, filters in ((["pod"], {"queue": ["q_a", "q_b"], "priority": ["P1"]}), (["queue"], {"channel": ["email"]})):
        assert_frame_equal(api.report(src, by=by, filters=filters), api.report(url, by=by, filters=filters),
                           check_exact=True)
    for by, period, tz in REPORTS:
        stored = api.report(src, by=by, period=period, tz=tz)
        assert_frame_equal(stored, api.report(url, by=by, period=period, tz=tz), check_exact=True)
        ref = api.report(src, by=by, period=period, tz=tz, engine="polars")
        assert_frame_equal(stored, ref, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def run_sequence(tmp_path: Path, seed: int, steps: int, store_url: str | None = None,
                 warehouse=None) -> list[refresh.RefreshResult]:
    rng = random.Random(seed)
    tables = random_tables(seed, n_appeals=40)
    results = []
    for step in range(steps):
        kind = mutate(rng, tables, step) if step else "initial"
        url = warehouse(tables) if warehouse else make_warehouse(tmp_path, tables)
        wh = url if not isinstance(url, str) else api.open_warehouse(url)
        result = refresh.refresh(wh, store_url)
        results.append(result)
        src = store.open_store(wh, store.location(wh, store_url))
        # from scratch: every model computed once for this as_of (api.prepare; PostgreSQL recomputes)
        scratch = api.prepare(type(wh).open(wh.url, schema=wh.schema)) if isinstance(url, str) else wh
        try:
            assert src.meta["as_of"] == api.as_of_param(api.default_as_of(wh))
            assert_store_matches(src, scratch)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, step {step} ({kind}, {result.line()}): {exc}") from None
        finally:
            src.db.close()
            if wh.dialect == "duckdb":
                scratch._session.close()
                scratch.engine.dispose()
                wh.engine.dispose()  # the next step rewrites the file
    return results


@pytest.mark.parametrize("seed", range(2))
def test_random_sequences_store_equals_recomputation(tmp_path, seed):
    results = run_sequence(tmp_path, seed, steps=7)
    assert results[0].mode == "full"
    incremental = [r for r in results[1:] if r.mode in ("incremental", "unchanged")]
    assert incremental, [r.line() for r in results]
    # an incremental refresh recomputes a part of the appeals, not all of them
    assert any(r.recomputed < r.total for r in incremental), [r.line() for r in results]


@pytest.mark.parametrize("seed", [2, 7])
def test_full_build_in_slices_stores_the_same_rows(tmp_path, monkeypatch, seed):
    """A full build large for the memory limit writes the stored facts in the slices of
    appeal_facts (refresh.facts_slices; the one select ran out of memory at 10M): every stored
    column, the store's own volatility flag and enforcement id included, equals the build in
    one statement, and the next refresh over it behaves the same."""
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    stored = {}
    for name, chunk_rows in (("one", None), ("sliced", 7)):
        monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / f"stores-{name}"))
        wh = api.open_warehouse(url)
        wh.chunk_rows = chunk_rows
        assert refresh.refresh(wh, full=True).mode == "full"
        assert wh.slices["appeal_facts"] == (1 if chunk_rows is None else -(-60 // 7))  # 60 appeals: 9 slices
        src = store.open_store(wh, store.location(wh, None))
        stored[name] = src.db.query(f"select * from {src.tables['facts']} order by appeal_id")
        src.db.close()
        wh.close()
    assert stored["one"].height == 60 and "store_valid_until" in stored["one"].columns
    assert stored["one"]["store_valid_until"].is_not_null().sum() > 0
    assert_frame_equal(stored["one"], stored["sliced"], check_exact=True)


@pytest.mark.parametrize("seed,chunk_rows", [(0, None), (4, None), (0, 7), (4, 7)])
def test_full_build_keeps_every_event_id_shared_across_appeals(tmp_path, monkeypatch, seed, chunk_rows):
    """The store keeps (event id, appeal key) of every id carried by more than one appeal key
    (null appeal: ''), which the next refresh reads: the same pairs as counting the distinct
    keys of each id in Polars over the staged events; also when found in the slices of
    events_effective (chunk_rows 7: one slice per 7 appeals' worth of events)."""
    import polars as pl

    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    wh = api.open_warehouse(url)
    wh.chunk_rows = chunk_rows
    refresh.refresh(wh, full=True)
    assert (wh.slices["events_effective"] > 5) == (chunk_rows is not None)
    src = store.open_store(wh, store.location(wh, None))
    kept = src.db.query(f"select event_id, appeal_id from {src.tables['contested_events']} order by all")
    src.db.close()
    p = {"as_of": api.as_of_param(api.default_as_of(wh))}
    staged = wh.query(wh.compose(None, "select event_id, appeal_id from stg_appeal_events", p), p)
    keyed = staged.filter(pl.col("event_id").is_not_null()).with_columns(pl.col("appeal_id").fill_null(""))
    shared = keyed.group_by("event_id").agg(pl.col("appeal_id").n_unique().alias("keys")).filter(pl.col("keys") > 1)
    expected = keyed.join(shared.select("event_id"), on="event_id").unique().sort("event_id", "appeal_id")
    assert expected.height >= 2  # the random warehouses share event ids across appeals
    assert kept.rows() == expected.rows()


@pytest.mark.postgres
def test_random_sequence_on_postgresql_with_the_store_in_a_schema(tmp_path, pg_url):
    from metrics.load import frames_from_rows
    from metrics.warehouse import Warehouse
    from tests.pg import load_tables_pg

    def warehouse(tables):
        load_tables_pg(pg_url, frames_from_rows(tables), "wh_store_seq")
        wh = Warehouse.open(pg_url, schema="wh_store_seq")
        wh.validate()
        return wh

    results = run_sequence(tmp_path, 5, steps=5, store_url=f"{pg_url}?schema=store_seq", warehouse=warehouse)
    assert results[0].mode == "full"
    assert any(r.mode == "incremental" and r.recomputed < r.total for r in results[1:]), [r.line() for r in results]


def test_postgresql_rows_reach_the_store_in_batches_of_one_schema(pg_url):
    """A refresh copies a PostgreSQL result through a server-side cursor, a frame per batch,
    typed from the result's columns: a column null in the first batch keeps its type."""
    import polars as pl

    from metrics.warehouse import Warehouse, sqla_batches

    wh = Warehouse.open(pg_url)
    sql = ("select * from (values ('a', cast(null as double precision), cast(null as timestamptz)), "
           "('b', null, null), ('c', 2.5, timestamptz '2026-03-02 10:00:00+00'), ('d', null, null), "
           "('e', 1.0, null)) as t(k, x, at) order by k")
    frames = list(sqla_batches(wh, sql, {}, rows=2))
    # 5 rows in batches of 2: a, b | c, d | e
    assert [f["k"].to_list() for f in frames] == [["a", "b"], ["c", "d"], ["e"]]
    assert {str(f.schema) for f in frames} == {str(frames[0].schema)}
    assert frames[0].schema["x"] == pl.Float64 and frames[0].schema["at"] == pl.Datetime("us", "UTC")
    assert frames[1]["x"].to_list() == [2.5, None]
    empty = list(sqla_batches(wh, sql.replace("order by k", "where k = 'z'"), {}, rows=2))
    assert len(empty) == 1 and empty[0].height == 0 and empty[0].schema["x"] == pl.Float64
