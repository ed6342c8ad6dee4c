"""Hand-derived: the backlog a DuckDB store counts from its open stretches alone. The store's
spans carry their appeal's queue, priority, market and deadline (metrics.store.SPAN_FACTS), so
a backlog report filtered and grouped by those keys reads no facts row; a key the stretches do
not carry (channel) joins them to the facts as the warehouse's report does. Both give the cells
derived here, and the same as the warehouse without a store.

The fixture (instants UTC; resolution target 48 calendar hours; as_of = the latest instant,
A's decision, Thu 03-05 12:00):

  A  q1, DE, app  created Mon 03-02 10:00 (deadline Wed 03-04 10:00), decided Thu 03-05 12:00
  B  q2, DE, app  created Mon 03-02 12:00 (deadline Wed 03-04 12:00), open
  C  q1, FR, web  created Tue 03-03 08:00 (deadline Thu 03-05 08:00), open

Daily periods end at 00:00 UTC the next day (E). Open at E: created before E, not decided by
E. Breached at E: the deadline is before the earlier of E and as_of. The period of 03-05 ends
after as_of (E = 03-06 00:00): A's stretch closed at 12:00, before E.

  period  E            A            B            C
  03-02   03-03 00:00  open         open         -
  03-03   03-04 00:00  open         open         open
  03-04   03-05 00:00  open, brch   open, brch   open
  03-05   03-06 00:00  -            open, brch   open, brch (08:00 < as_of 12:00)
"""

from __future__ import annotations

import pytest

from metrics import api, refresh, store
from tests.cases import D, appeal, ev, policy
from tests.helpers import make_warehouse

BACKLOG = ["backlog_open", "backlog_breached"]


@pytest.fixture
def stored(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    url = make_warehouse(tmp_path, {
        "appeals": [
            appeal("A", "2026-03-02 10:00:00", "q1", market="DE", channel="app"),
            appeal("B", "2026-03-02 12:00:00", "q2", market="DE", channel="app"),
            appeal("C", "2026-03-03 08:00:00", "q1", market="FR", channel="web"),
        ],
        "appeal_events": [ev("A-01", "A", "2026-03-05 12:00:00", "decided", outcome="upheld")],
        "sla_policies": [policy("*", "P2", 1000, 48)],
    })
    refresh.refresh(url)
    wh = api.open_warehouse(url)
    src = store.open_store(wh, store.location(wh))
    yield url, src
    src.db.close()


def cells(source, by, filters=None) -> dict[tuple, tuple]:
    df = api.report(source, by=by, period="day", metrics=BACKLOG, filters=filters,
                    date_from="2026-03-02", date_to="2026-03-05")
    return {(r["period_start"], *(r[k] for k in by)): (r["backlog_open"], r["backlog_breached"]) for r in df.to_dicts()}


def read_facts(src, by, filters=None) -> bool:
    """Whether the store's backlog report joined the stretches to the facts."""
    seen = []
    staged = src.query_staged

    def spy(ctes, select, params, stage):
        seen.append(set(ctes))
        return staged(ctes, select, params, stage)

    src.query_staged = spy
    try:
        cells(src, by, filters)
    finally:
        del src.query_staged
    assert seen and all("backlog_spans" in c for c in seen)
    return any("backlog_facts" in c for c in seen)


def test_the_stored_spans_carry_their_appeals_keys_and_deadline(stored):
    _, src = stored
    assert src.span_facts() == ("queue", "priority", "market", "ttr_deadline_at")


def test_backlog_by_a_carried_key_with_carried_filters(stored):
    url, src = stored
    by_market = {
        (D("2026-03-02"), "DE"): (2, 0),  # A, B
        (D("2026-03-03"), "DE"): (2, 0),  # A, B: deadlines on 03-04, after E
        (D("2026-03-03"), "FR"): (1, 0),  # C
        (D("2026-03-04"), "DE"): (2, 2),  # A (10:00) and B (12:00) past their deadlines at 03-05 00:00
        (D("2026-03-04"), "FR"): (1, 0),  # C due 03-05 08:00
        (D("2026-03-05"), "DE"): (1, 1),  # B; A decided 03-05 12:00
        (D("2026-03-05"), "FR"): (1, 1),  # C, due 08:00 < as_of 12:00
    }
    assert cells(src, ["market"]) == by_market == cells(url, ["market"])
    q1 = {
        (D("2026-03-02"),): (1, 0),  # A
        (D("2026-03-03"),): (2, 0),  # A, C
        (D("2026-03-04"),): (2, 1),  # A breached, C not yet
        (D("2026-03-05"),): (1, 1),  # C
    }
    assert cells(src, [], {"queue": ["q1"]}) == q1 == cells(url, [], {"queue": ["q1"]})
    only_c = {(D("2026-03-03"),): (1, 0), (D("2026-03-04"),): (1, 0), (D("2026-03-05"),): (1, 1)}
    both = {"queue": ["q1"], "market": ["FR"], "priority": ["P2"]}
    assert cells(src, [], both) == only_c == cells(url, [], both)
    assert not read_facts(src, ["market"]) and not read_facts(src, [], both)


def test_backlog_by_a_key_the_stretches_do_not_carry_joins_the_facts(stored):
    url, src = stored
    only_c = {(D("2026-03-03"), "web"): (1, 0), (D("2026-03-04"), "web"): (1, 0), (D("2026-03-05"), "web"): (1, 1)}
    assert cells(src, ["channel"], {"channel": ["web"]}) == only_c == cells(url, ["channel"], {"channel": ["web"]})
    assert read_facts(src, ["channel"], {"channel": ["web"]})
    assert read_facts(src, [], {"queue": ["q1"], "channel": ["web"]})
