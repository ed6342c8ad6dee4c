"""What an incremental refresh recomputes (metrics.refresh), on hand-made warehouses, the store
equal to the warehouse after every step:
- changed rows, found by day: fingerprints per day of the rows (an event's occurred_at, an
  appeal's created_at, an enforcement's enforced_at), then per day and key on the days whose
  fingerprint moved (FINGERPRINTED); each appeal lives on its own day, so a change on one day
  must recompute exactly the appeals it touches;
- what moves with as_of alone: an appeal once as_of passes its stored `store_valid_until`
  (a pending SLA's deadline), a running user wait at any as_of, an open appeal whose SLAs are
  decided or n/a never."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from metrics import cli, dialect
from tests.helpers import make_warehouse


@pytest.fixture(autouse=True)
def _own_store_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))


# Day numbers, derived by hand: whole days since 1970-01-01 UTC, rounded down.
# - 1970-01-01T00:00Z is day 0; one second earlier is day -1 (down, not toward zero).
# - 2026-03-02T23:30-05:00 is 2026-03-03T04:30Z: 1970-2025 are 56 years of which 14 leap
#   (1972, 1976, ..., 2024), 56 * 365 + 14 = 20454 days to 2026-01-01; then January 31 and
#   February 28 days to 2026-03-01 (20513), and two more to 2026-03-03: 20515. The wall clock's
#   date (the 2nd) does not count: the day is UTC's.
# - a null instant: NO_DAY.
DAY_CASES = [
    ("1970-01-01 00:00:00+00", 0),
    ("1969-12-31 23:59:59+00", -1),
    ("2026-03-02 23:30:00-05", 20515),
    (None, dialect.NO_DAY),
]


def _day_numbers(run_sql) -> list[int]:
    out = []
    for text, _ in DAY_CASES:
        instant = "cast(null as timestamp with time zone)" if text is None else f"cast('{text}' as timestamp with time zone)"
        out.append(run_sql(instant))
    return out


def test_day_number_on_duckdb():
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'Asia/Tokyo'")  # the session's zone does not move a day
    got = _day_numbers(lambda ts: con.execute(f"select {dialect.day_number(ts, 'duckdb')}").fetchall()[0][0])
    assert got == [day for _, day in DAY_CASES]


def test_day_number_on_postgresql(pg_url):
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        conn.execute(sa.text("set time zone 'Asia/Tokyo'"))
        got = _day_numbers(lambda ts: conn.execute(
            sa.text(f"select {dialect.day_number(ts, 'postgresql')}")).scalar_one())
    engine.dispose()
    assert got == [day for _, day in DAY_CASES]


# Three appeals, each created, decided and enforced on its own day; none moves with as_of once
# decided (resolution SLA achieved within 100 h, first touch breached after 1 h: both final).
APPEALS = [
    {"appeal_id": "A", "enforcement_id": "EA", "queue": "q", "priority": "P1", "created_at": "2026-03-01T09:00:00Z"},
    {"appeal_id": "B", "enforcement_id": "EB", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00Z"},
    {"appeal_id": "C", "enforcement_id": "EC", "queue": "q", "priority": "P1", "created_at": "2026-03-03T09:00:00Z"},
]
EVENTS = [
    {"event_id": "a1", "appeal_id": "A", "occurred_at": "2026-03-01T12:00:00Z", "event_type": "decided",
     "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
    {"event_id": "b1", "appeal_id": "B", "occurred_at": "2026-03-02T12:00:00Z", "event_type": "decided",
     "actor_id": "s1", "actor_type": "specialist", "outcome": "overturned", "root_cause": "agent_error"},
    {"event_id": "c1", "appeal_id": "C", "occurred_at": "2026-03-03T12:00:00Z", "event_type": "decided",
     "actor_id": "s2", "actor_type": "specialist", "outcome": "upheld"},
]
ENFORCEMENTS = [
    {"enforcement_id": f"E{x}", "user_id": f"u{x}", "action": "listing_removal", "policy": "counterfeit",
     "source": "automated", "enforced_by": "model", "enforced_at": f"2026-02-2{i}T08:00:00Z"}
    for i, x in enumerate("ABC", start=6)
]
POLICIES = [{"queue": "*", "priority": "P1", "first_touch_target_hours": 1, "resolution_target_hours": 100,
             "clock": "calendar"}]


def _warehouse(tmp_path, events, enforcements=ENFORCEMENTS) -> str:
    import gc

    gc.collect()  # let go of this process's connections to the file before it is rewritten
    return make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": events, "enforcements": enforcements,
                                     "sla_policies": POLICIES})


def _refresh(capsys, url, store) -> str:
    extra = ["--store", store] if store else []
    assert cli.main(["refresh", "--warehouse", url, *extra, "--quiet"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def _same_as_warehouse(tmp_path, capsys, url, store) -> None:
    extra = ["--store", store] if store else []
    for cmd in (["facts", "--wide"], ["spans"], ["report", "--by", "queue", "--period", "day"]):
        a, b = tmp_path / f"{cmd[0]}_store.csv", tmp_path / f"{cmd[0]}_plain.csv"
        assert cli.main([cmd[0], "--warehouse", url, *extra, *cmd[1:], "--out", str(a)]) == 0
        assert cli.main([cmd[0], "--warehouse", url, *cmd[1:], "--no-store", "--out", str(b)]) == 0
        capsys.readouterr()
        assert a.read_text() == b.read_text(), cmd


@pytest.mark.parametrize("store", [None, "schema"])
def test_a_change_on_an_old_day_recomputes_the_appeals_it_touches(tmp_path, capsys, store):
    store = f"duckdb:///{tmp_path / 'mine.duckdb'}?schema=team_store" if store else None
    url = _warehouse(tmp_path, EVENTS)
    # as_of = the latest instant, C's decision at 2026-03-03T12:00; every step below keeps it
    # there, so nothing is recomputed for as_of's sake: only what a changed day touches
    assert _refresh(capsys, url, store) == "refresh: full, 3 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"

    # 1. a late event for A on its own day (03-01): that day's fingerprint moves; of its rows,
    #    only A's changed. 1 of 3 (A).
    late = [*EVENTS, {"event_id": "a2", "appeal_id": "A", "occurred_at": "2026-03-01T13:00:00Z",
                      "event_type": "message_to_user", "actor_id": "s1", "actor_type": "specialist"}]
    _warehouse(tmp_path, late)
    assert _refresh(capsys, url, store) == "refresh: incremental, 1 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, store)

    # 2. B's decision deleted (day 03-02): B's row there is gone. 1 of 3 (B, open again).
    deleted = [e for e in late if e["event_id"] != "b1"]
    _warehouse(tmp_path, deleted)
    assert _refresh(capsys, url, store) == "refresh: incremental, 1 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, store)

    # 3. a row for C on day 03-03 carrying event id a1, which A carries on day 03-01 (an
    #    unchanged day): the earliest row of an id wins across appeals, so A's decision may be
    #    hidden and A must be recomputed too. B is open but as_of did not move. 2 of 3 (A, C).
    shared = [*deleted, {"event_id": "a1", "appeal_id": "C", "occurred_at": "2026-03-03T11:00:00Z",
                         "event_type": "claimed", "actor_id": "s2", "actor_type": "specialist"}]
    _warehouse(tmp_path, shared)
    assert _refresh(capsys, url, store) == "refresh: incremental, 2 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, store)

    # 4. rows without a usable instant share one day of their own (NO_DAY): a B row with no
    #    occurred_at, then a C row in 1980 (before staging's sanity range: read as null). Each
    #    time only that day moves, and the refresh reads every row for it (no instant range
    #    applies). 1 of 3 (B); then C, and A with it: C carries event id a1, which A carries
    #    too (step 3), and a change to one carrier of a shared id recomputes them all. 2 of 3.
    undated = [*shared, {"event_id": "b9", "appeal_id": "B", "occurred_at": None, "event_type": "claimed",
                         "actor_id": "s1", "actor_type": "specialist"}]
    _warehouse(tmp_path, undated)
    assert _refresh(capsys, url, store) == "refresh: incremental, 1 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, store)
    undated = [*undated, {"event_id": "c9", "appeal_id": "C", "occurred_at": "1980-01-01T00:00:00Z",
                          "event_type": "claimed", "actor_id": "s2", "actor_type": "specialist"}]
    _warehouse(tmp_path, undated)
    assert _refresh(capsys, url, store) == "refresh: incremental, 2 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, store)

    # 5. EA's policy corrected (enforced on 02-26): the enforcements' day moves, of its ids EA
    #    only; A carries EA. 1 of 3 (A).
    corrected = [dict(e, policy="hate_speech") if e["enforcement_id"] == "EA" else e for e in ENFORCEMENTS]
    _warehouse(tmp_path, undated, corrected)
    assert _refresh(capsys, url, store) == "refresh: incremental, 1 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, store)

    # 6. nothing changed: no day moves. 0 of 3.
    assert _refresh(capsys, url, store) == "refresh: incremental, 0 appeals recomputed of 3, as_of 2026-03-03T12:00:00+00:00"


# Open appeals and as_of. Calendar clock, P1: first touch 1 h, resolution 100 h; P3 has no policy.
# - P (P1), created 03-01 09:00, claimed 09:30 (first touch achieved): resolution pending until
#   its deadline 03-01 09:00 + 100 h = 03-05 13:00. Stored valid until then.
# - Q (P3): open, no policy: both SLAs n/a, nothing moves with as_of. Never recomputed for it.
# - R (P1), created 03-01 10:00, claimed 10:10, evidence requested 11:00 and not received: the
#   wait runs to as_of, so its user_wait_hours moves with any as_of.
# - D1 (P1), created 03-02 08:00, decided 09:00: resolved, first touch and resolution achieved.
# The first as_of: the latest instant, 03-02 09:00.
OPEN_APPEALS = [
    {"appeal_id": "P", "queue": "q", "priority": "P1", "created_at": "2026-03-01T09:00:00Z"},
    {"appeal_id": "Q", "queue": "q", "priority": "P3", "created_at": "2026-03-01T09:30:00Z"},
    {"appeal_id": "R", "queue": "q", "priority": "P1", "created_at": "2026-03-01T10:00:00Z"},
    {"appeal_id": "D1", "queue": "q", "priority": "P1", "created_at": "2026-03-02T08:00:00Z"},
]
OPEN_EVENTS = [
    {"event_id": "p1", "appeal_id": "P", "occurred_at": "2026-03-01T09:30:00Z", "event_type": "claimed",
     "actor_id": "s1", "actor_type": "specialist"},
    {"event_id": "r1", "appeal_id": "R", "occurred_at": "2026-03-01T10:10:00Z", "event_type": "claimed",
     "actor_id": "s1", "actor_type": "specialist"},
    {"event_id": "r2", "appeal_id": "R", "occurred_at": "2026-03-01T11:00:00Z", "event_type": "evidence_requested",
     "actor_id": "s1", "actor_type": "specialist"},
    {"event_id": "d1", "appeal_id": "D1", "occurred_at": "2026-03-02T09:00:00Z", "event_type": "decided",
     "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
]


def _new_decided(appeal_id: str, created: str, decided: str) -> tuple[dict, dict]:
    return ({"appeal_id": appeal_id, "queue": "q", "priority": "P1", "created_at": created},
            {"event_id": f"{appeal_id}-d", "appeal_id": appeal_id, "occurred_at": decided, "event_type": "decided",
             "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"})


def test_open_appeals_are_recomputed_when_as_of_passes_what_they_wait_for(tmp_path, capsys):
    import gc

    def write(appeals, events) -> str:
        gc.collect()
        return make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events, "sla_policies": POLICIES})

    url = write(OPEN_APPEALS, OPEN_EVENTS)
    assert _refresh(capsys, url, None) == "refresh: full, 4 appeals recomputed of 4, as_of 2026-03-02T09:00:00+00:00"

    # 1. a new appeal D2 created 03-03 11:00, decided 12:00: as_of moves to 03-03 12:00, before
    #    P's deadline (03-05 13:00). Recomputed: D2 (new) and R (its wait runs to as_of). P, Q
    #    and D1 are kept. 2 of 5.
    a2, e2 = _new_decided("D2", "2026-03-03T11:00:00Z", "2026-03-03T12:00:00Z")
    appeals, events = [*OPEN_APPEALS, a2], [*OPEN_EVENTS, e2]
    write(appeals, events)
    assert _refresh(capsys, url, None) == "refresh: incremental, 2 appeals recomputed of 5, as_of 2026-03-03T12:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, None)

    # 2. D3 created 03-05 12:00, decided 13:00: as_of is P's deadline itself. P is still
    #    pending there (breached only once as_of is after the deadline), but within the
    #    refresh's one-second margin: recomputed all the same. D3, R, P: 3 of 6.
    a3, e3 = _new_decided("D3", "2026-03-05T12:00:00Z", "2026-03-05T13:00:00Z")
    appeals, events = [*appeals, a3], [*events, e3]
    write(appeals, events)
    assert _refresh(capsys, url, None) == "refresh: incremental, 3 appeals recomputed of 6, as_of 2026-03-05T13:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, None)
    rows = {line.split(",")[0]: line for line in (tmp_path / "facts_store.csv").read_text().splitlines()[1:]}
    assert ",pending," in rows["P"]

    # 3. D4 on 03-06 (as_of 03-06 10:00): past P's deadline, so P's resolution SLA is now
    #    breached: recomputed, and stays put afterwards (breached is final). D4, R, P: 3 of 7.
    a4, e4 = _new_decided("D4", "2026-03-06T09:00:00Z", "2026-03-06T10:00:00Z")
    appeals, events = [*appeals, a4], [*events, e4]
    write(appeals, events)
    assert _refresh(capsys, url, None) == "refresh: incremental, 3 appeals recomputed of 7, as_of 2026-03-06T10:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, None)
    rows = {line.split(",")[0]: line for line in (tmp_path / "facts_store.csv").read_text().splitlines()[1:]}
    assert ",breached," in rows["P"] and ",pending," not in rows["P"] and ",n/a,n/a," in rows["Q"]

    # 4. D5 on 03-07: P (breached, open), Q (n/a) and the resolved ones are kept: D5, R. 2 of 8.
    a5, e5 = _new_decided("D5", "2026-03-07T09:00:00Z", "2026-03-07T10:00:00Z")
    write([*appeals, a5], [*events, e5])
    assert _refresh(capsys, url, None) == "refresh: incremental, 2 appeals recomputed of 8, as_of 2026-03-07T10:00:00+00:00"
    _same_as_warehouse(tmp_path, capsys, url, None)
