"""A grouping key that a filter holds to one value is computed without it and added back as a
constant column (report_plan.pinned_keys): the answer must be the grouped report itself, on
both engines, for facts keys, owner-following keys (their backlog rows come from the open
stretch's owner) and keys the appeal rate reads from the enforcements; and the dashboard's
cached path must return the same frame, columns in order."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from metrics import api, engine_polars, engine_sql
from metrics.report_plan import pinned_keys
from tests.helpers import make_warehouse
from tests.randomwh import random_as_of, random_tables


def test_pinned_keys_by_hand():
    # queue is filtered to one value (pinned), priority to two (a real grouping), site is a
    # filter only (not a key), and a key without a filter stays a key
    keys = ["queue", "priority", "specialist_id"]
    filters = {"queue": ("q_a",), "priority": ("P1", "P2"), "site": ("dublin",)}
    assert pinned_keys(keys, filters) == {"queue": "q_a"}
    assert pinned_keys(keys, {}) == {}
    assert pinned_keys([], filters) == {}
    assert pinned_keys(["site", "queue"], filters) == {"site": "dublin", "queue": "q_a"}


# (seed, grouping keys, the pinned key, period, zone): facts keys, an owner-following key
# (backlog by the owner at the period end), keys of the appeal rate (enforcements' action,
# source); seeds chosen for the tables each needs (specialists, enforcements, QA reviews;
# seed 3 has none of the optional tables)
CASES = [
    (1, ["queue"], "queue", "week", "UTC"),
    (3, ["queue", "priority"], "queue", "day", "Europe/Dublin"),
    (4, ["specialist_id", "priority"], "specialist_id", "week", "America/New_York"),
    (6, ["pod"], "pod", "month", "UTC"),
    (5, ["theme", "enforcement_source"], "enforcement_source", "week", "UTC"),
    (7, ["policy", "queue"], "queue", "week", "Australia/Sydney"),
]


def _grouped(url, by, period, tz, as_of, filters, engine):
    """The report grouped by every key, as the engines compute it (no pinning)."""
    wh = api.open_warehouse(url)
    plan = api.plan_report(wh, by, period, None, None, None, tz, as_of, filters)
    if engine == "polars":
        frames = api.report_inputs(wh, plan.as_of)
        out = engine_polars.report(frames["facts"], frames["spans"], frames["qa"], frames["enforcements"], plan)
    else:
        out = engine_sql.run_report(wh, plan)
    return api.conform(out, api._report_schema(plan))


@pytest.mark.parametrize(("seed", "by", "key", "period", "tz"), CASES)
def test_pinned_report_is_the_grouped_report(tmp_path, seed, by, key, period, tz):
    tables = random_tables(seed)
    url = make_warehouse(tmp_path, tables)
    as_of = random_as_of(seed, tables)
    facts = api.facts(url, as_of=as_of, wide=True)
    # the most frequent value, ties by code point: a group with rows in most cohorts
    counts = facts.drop_nulls(key).group_by(key).len().sort(["len", key], descending=[True, False])
    value = counts[key][0]
    filters = {key: [value]}
    for engine in ("sql", "polars"):
        want = _grouped(url, by, period, tz, as_of, filters, engine)
        got = api.report(url, by=by, period=period, tz=tz, as_of=as_of, filters=filters, engine=engine)
        assert want.height > 0, f"seed {seed}: no rows for {key} = {value}"
        assert set(want[key].to_list()) == {value}
        assert_frame_equal(got, want)


def test_dashboard_report_pins_and_orders_columns(tmp_path):
    """ui.data.report_in_zone asks the cache without the pinned key, then puts it back in place:
    the same frame as the engine's grouped report (a key in the middle of `by`)."""
    from ui import data

    tables = random_tables(5)
    url = make_warehouse(tmp_path, tables)
    as_of = api.resolve_as_of(api.open_warehouse(url), random_as_of(5, tables))
    by = ("policy", "queue", "priority")
    facts = api.facts(url, as_of=as_of, wide=True)
    queue = facts.drop_nulls("queue").group_by("queue").len().sort(["len", "queue"], descending=[True, False])["queue"][0]
    filters = (("queue", (queue,)),)
    got = data.report_in_zone(url, as_of, by, "week", None, None, None, filters)
    want = _grouped(url, list(by), "week", "UTC", as_of, {"queue": [queue]}, "sql")
    assert got.columns[:4] == ["period_start", "policy", "queue", "priority"]
    assert want.height > 0
    assert_frame_equal(got, want)
