"""No SQL text crosses a module boundary: drill-downs take condition objects and allow-listed
columns; constants are quoted by one helper; user values are binds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from metrics import api
from metrics.conditions import Eq, In, Within, sql_list, sql_literal
from metrics.warehouse import WarehouseError
from tests.cases import T, appeal, ev, policy
from tests.helpers import make_warehouse


def test_one_quoting_rule():
    assert sql_literal("O'Brien") == "'O''Brien'"
    assert sql_list(["a", "b'c"]) == "'a', 'b''c'"
    assert In("queue", ("x'y",)).sql() == "queue in ('x''y')"
    assert sql_literal(True) == "true" and sql_literal(3) == "3"


def test_within_is_bound_not_spliced():
    low = T("2026-03-03 08:00")
    cond = Eq("status", "open") & Within("ttr_deadline_at", low, low + timedelta(hours=2))
    assert "2026" not in cond.sql()  # the instants are bind parameters
    assert cond.params() == {"ttr_deadline_at_low": "2026-03-03T08:00:00+00:00",
                             "ttr_deadline_at_high": "2026-03-03T10:00:00+00:00"}


@pytest.fixture
def url(tmp_path):
    return make_warehouse(tmp_path, {
        "appeals": [
            appeal("A", "2026-03-02 09:00:00"),  # open; TTR deadline 03-03 09:00 (24 h calendar)
            appeal("B", "2026-03-02 10:00:00"),  # resolved
            appeal("C", "2026-03-03 07:00:00"),  # open; deadline 03-04 07:00
        ],
        "appeal_events": [ev("B-01", "B", "2026-03-02 12:00:00", "decided", outcome="upheld")],
        "sla_policies": [policy("*", "P2", 1000, 24)],
    })


def test_appeals_takes_a_condition_and_an_allowed_column(url):
    as_of = T("2026-03-03 08:00")
    rows, total = api.appeals(url, as_of, where=Eq("status", "open"), order_by="created_at")
    assert (rows["appeal_id"].to_list(), total) == (["A", "C"], 2)  # B is resolved
    rows, total = api.appeals(url, as_of, order_by="created_at", limit=1)
    assert (rows["appeal_id"].to_list(), total) == (["A"], 3)
    with pytest.raises(WarehouseError, match="where: expected a metrics.conditions.Condition"):
        api.appeals(url, as_of, where="status = 'open'")
    with pytest.raises(WarehouseError, match="order_by: unknown facts column"):
        api.appeals(url, as_of, order_by="created_at; drop table appeals")


def test_at_risk_window_is_a_bound_condition(url):
    as_of = T("2026-03-03 08:00")
    # A is due at 09:00 (1 h after as_of), C at 03-04 07:00 (23 h after)
    rows, total = api.at_risk(url, as_of, within_hours=2)
    assert (rows["appeal_id"].to_list(), total) == (["A"], 1)
    rows, total = api.at_risk(url, as_of, within_hours=23)
    assert (rows["appeal_id"].to_list(), total) == (["A", "C"], 2)  # the window's end counts
