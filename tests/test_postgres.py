"""The engine gives identical answers on PostgreSQL and on DuckDB.

The same contract tables are loaded into a throwaway PostgreSQL server (tests/pg.py, one
schema per warehouse) and into a DuckDB file; `api.facts`, `api.report` and `api.check`
must agree row for row (floats to 1e-9 relative). Warehouses: seeded random nasty ones
(tests/randomwh.py: ties, reopen chains, duplicates, DST business clocks, absent optional
tables) and a generated sample (metrics.sample.generate, every metric exercised).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import api
from metrics.load import frames_from_rows, write_duckdb
from metrics.warehouse import Warehouse
from tests.pg import load_tables_pg
from tests.randomwh import random_as_of, random_tables

pytestmark = pytest.mark.postgres

RANDOM_SEEDS = range(6)
# (by, period, tz): every period, zones east and west of UTC, with and without DST
CASES = [
    (["queue"], "week", "UTC"),
    ([], "day", "Europe/Dublin"),
    (["specialist_id", "priority"], "month", "America/Phoenix"),
    (["policy"], "week", "Australia/Sydney"),
    (["theme", "enforcement_source"], "week", "America/New_York"),
]
# The committed 50k sample by default (on PostgreSQL: facts ~6 s, a report ~7 s).
# APPEALS_PG_SAMPLE=N generates N appeals instead, for a quicker local run.
_SAMPLE = os.environ.get("APPEALS_PG_SAMPLE", "committed").strip()
SAMPLE_APPEALS = None if _SAMPLE == "committed" else int(_SAMPLE)


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort(keys, nulls_last=True, maintain_order=True)


def assert_same(pg: pl.DataFrame, duck: pl.DataFrame, keys: list[str]) -> None:
    assert pg.columns == duck.columns
    assert pg.schema == duck.schema
    assert_frame_equal(_sorted(pg, keys), _sorted(duck, keys), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


class Pair:
    """One warehouse in both engines."""

    def __init__(self, pg: Warehouse, duck_url: str, as_of: str | None):
        self.pg = pg
        self.duck = Warehouse.open(duck_url)
        self.as_of = as_of


def _load_pair(pg_url: str, tmp: Path, name: str, frames: dict[str, pl.DataFrame], as_of: str | None) -> Pair:
    load_tables_pg(pg_url, frames, schema=name)
    path = write_duckdb(frames, tmp / f"{name}.duckdb")
    pair = Pair(Warehouse.open(pg_url, schema=name), f"duckdb:///{path}", as_of)
    assert (pair.pg.dialect, pair.duck.dialect) == ("postgresql", "duckdb")
    return pair


@pytest.fixture(scope="module")
def random_pairs(pg_url, tmp_path_factory) -> dict[int, Pair]:
    tmp = tmp_path_factory.mktemp("pg_random")
    pairs = {}
    for seed in RANDOM_SEEDS:
        rows = random_tables(seed)
        pairs[seed] = _load_pair(pg_url, tmp, f"rw{seed}", frames_from_rows(rows), random_as_of(seed, rows))
    return pairs


@pytest.fixture(scope="module")
def sample_pair(pg_url, tmp_path_factory) -> Pair:
    from metrics.contract import TABLES
    from metrics.sample import generate

    tmp = tmp_path_factory.mktemp("pg_sample")
    if SAMPLE_APPEALS is None:
        root = Path(__file__).resolve().parent.parent / "data" / "sample"
        tables = {name: pl.read_parquet(root / f"{name}.parquet") for name in TABLES}
    else:
        tables = generate(n_appeals=SAMPLE_APPEALS)
    pair = _load_pair(pg_url, tmp, "sample", tables, None)
    pair.n_appeals = tables["appeals"].height
    return pair


# -- the loader itself ---------------------------------------------------------------------------


def test_loaded_tables_have_contract_types(pg_url, random_pairs):
    pair = random_pairs[0]
    types = pair.pg.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'rw0' and table_name in ('appeals', 'business_hours', 'holidays', 'qa_reviews')"
    )
    got = {(r["table_name"], r["column_name"]): r["data_type"] for r in types.iter_rows(named=True)}
    assert got[("appeals", "created_at")] == "timestamp with time zone"
    assert got[("appeals", "appeal_id")] == "text"
    assert got[("business_hours", "weekday")] == "integer"
    assert got[("business_hours", "start_time")] == "time without time zone"
    assert got[("holidays", "holiday_date")] == "date"
    if ("qa_reviews", "decision_correct") in got:
        assert got[("qa_reviews", "decision_correct")] == "boolean"
    assert pair.pg.row_counts() == pair.duck.row_counts()


def test_text_survives_copy_escaping(pg_url, tmp_path):
    # tabs, newlines, backslashes, quotes, an empty string and a null: loaded exactly as given
    frame = pl.DataFrame({"appeal_id": ["a\tb", "c\nd", "e\\f", "g'h\"", "", None]})
    load_tables_pg(pg_url, {"odd": frame}, schema="escaping")
    wh = Warehouse.open(pg_url, schema="escaping")
    got = wh.query('select appeal_id from "escaping"."odd"')["appeal_id"].to_list()
    assert sorted(got, key=lambda v: (v is None, v or "")) == sorted(frame["appeal_id"].to_list(),
                                                                     key=lambda v: (v is None, v or ""))


# -- random nasty warehouses --------------------------------------------------------------------


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_facts_agree_on_random_warehouses(random_pairs, seed):
    pair = random_pairs[seed]
    pg = api.facts(pair.pg, as_of=pair.as_of, wide=True)
    duck = api.facts(pair.duck, as_of=pair.as_of, wide=True)
    assert pg.height > 0
    assert_same(pg, duck, ["appeal_id"])


def test_facts_written_in_batches_equal_the_whole_frame(random_pairs, tmp_path, monkeypatch):
    """`facts --out` on PostgreSQL streams batches of FACTS_BATCH_ROWS rows (4.2 GB held at 1M
    otherwise): with 7-row batches the CSV has the bytes of the whole frame written at once,
    the Parquet its rows, and both the DuckDB twin's rows (assert_same's tolerance)."""
    from metrics.output import write_frame

    pair = random_pairs[RANDOM_SEEDS[0]]
    whole = api.facts(pair.pg, as_of=pair.as_of, wide=True)
    assert whole.height > 3 * 7  # more than three batches
    write_frame(whole, str(tmp_path / "whole.csv"))
    monkeypatch.setattr(api, "FACTS_BATCH_ROWS", 7)
    n_csv = api.write_facts(pair.pg, str(tmp_path / "batched.csv"), as_of=pair.as_of, wide=True)
    n_parquet = api.write_facts(pair.pg, str(tmp_path / "batched.parquet"), as_of=pair.as_of, wide=True)
    assert n_csv == n_parquet == whole.height
    assert (tmp_path / "batched.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert_frame_equal(pl.read_parquet(tmp_path / "batched.parquet"), whole)
    assert_same(pl.read_parquet(tmp_path / "batched.parquet"), api.facts(pair.duck, as_of=pair.as_of, wide=True),
                ["appeal_id"])


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_reports_agree_on_random_warehouses(random_pairs, seed):
    pair = random_pairs[seed]
    by, period, tz = CASES[seed % len(CASES)]
    pg = api.report(pair.pg, by=by, period=period, tz=tz, as_of=pair.as_of)
    duck = api.report(pair.duck, by=by, period=period, tz=tz, as_of=pair.as_of)
    assert pg.height > 0
    assert_same(pg, duck, ["period_start", *by])


@pytest.mark.parametrize("seed", [1, 4])
def test_reports_agree_with_filters_and_range(random_pairs, seed):
    pair = random_pairs[seed]
    first = api.facts(pair.duck)["created_at"].min().date()
    kwargs = dict(by=["queue"], period="week", tz="Europe/Dublin", date_from=first.isoformat(),
                  filters={"queue": ["q_a", "q_b"], "priority": ["P1", "P2"]})
    pg = api.report(pair.pg, **kwargs)
    duck = api.report(pair.duck, **kwargs)
    assert_same(pg, duck, ["period_start", "queue"])


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_backlog_by_owner_keys_agrees_on_random_warehouses(random_pairs, seed):
    # backlog under the owner of the open stretch at each period end (issue 15), with reassignments
    pair = random_pairs[seed]
    kwargs = dict(by=["specialist_id", "site"], period="day", tz="America/New_York", as_of=pair.as_of)
    pg = api.report(pair.pg, **kwargs)
    duck = api.report(pair.duck, **kwargs)
    assert pg["backlog_open"].sum() > 0
    assert_same(pg, duck, ["period_start", "specialist_id", "site"])
    assert_same(api.status_spans(pair.pg, pair.as_of), api.status_spans(pair.duck, pair.as_of),
                ["appeal_id", "open_from"])


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_checks_agree_on_random_warehouses(random_pairs, seed):
    pair = random_pairs[seed]
    pg = api.check(pair.pg, as_of=pair.as_of)
    duck = api.check(pair.duck, as_of=pair.as_of)
    assert [(r.name, r.count, sorted(r.examples)) for r in pg] == [(r.name, r.count, sorted(r.examples)) for r in duck]


def test_polars_engine_on_postgres_inputs(random_pairs):
    # the reference engine pulls its frames through the PostgreSQL path too
    pair = random_pairs[2]
    by, period, tz = CASES[0]
    ref = api.report(pair.pg, by=by, period=period, tz=tz, as_of=pair.as_of, engine="polars")
    duck = api.report(pair.duck, by=by, period=period, tz=tz, as_of=pair.as_of)
    assert_same(ref, duck, ["period_start", *by])


# -- the sample ---------------------------------------------------------------------------------


def test_sample_facts_agree(sample_pair):
    pg = api.facts(sample_pair.pg, wide=True)
    duck = api.facts(sample_pair.duck, wide=True)
    assert 0 < pg.height <= sample_pair.n_appeals
    assert_same(pg, duck, ["appeal_id"])


@pytest.mark.parametrize("by,period,tz", [
    (["queue"], "week", "UTC"),
    (["market", "priority"], "month", "Australia/Sydney"),
    ([], "day", "America/Phoenix"),
])
def test_sample_reports_agree(sample_pair, by, period, tz):
    pg = api.report(sample_pair.pg, by=by, period=period, tz=tz)
    duck = api.report(sample_pair.duck, by=by, period=period, tz=tz)
    assert pg.height > 0
    # every metric has values somewhere in the sample: nothing is silently null on PostgreSQL
    # (appeal_rate exists only for keys the enforcements carry)
    from metrics.catalog import ENFORCEMENT_KEYS

    for name in pg.columns:
        if name.startswith("appeal_rate") and not all(k in ENFORCEMENT_KEYS for k in by):
            continue
        assert pg[name].null_count() < pg.height, name
    assert_same(pg, duck, ["period_start", *by])


# -- differences found here and fixed in sql/ (regression tests) ---------------------------------

TIE_ROWS = {
    # one appeal decided twice at the same instant: the later in (occurred_at, event_id) order wins
    # (metrics.md "Appeal lifecycle"). In code-point order 'a1' > 'B1', so the upheld decision by s1
    # is final; an en-US collation sorts 'B1' after 'a1' and would pick the overturn by s2.
    "appeals": [{"appeal_id": "x1", "queue": "q_a", "priority": "P1", "created_at": "2026-03-02T10:00:00+00:00"}],
    "appeal_events": [
        {"event_id": "a1", "appeal_id": "x1", "occurred_at": "2026-03-02T12:00:00+00:00", "event_type": "decided",
         "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
        {"event_id": "B1", "appeal_id": "x1", "occurred_at": "2026-03-02T12:00:00+00:00", "event_type": "decided",
         "actor_id": "s2", "actor_type": "specialist", "outcome": "overturned"},
    ],
}


@pytest.fixture(scope="module")
def icu_url(pg_server) -> str:
    """A second database whose default collation is ICU en-US, as many production servers have."""
    import psycopg

    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        try:
            conn.execute("create database appeals_icu template template0 locale_provider icu "
                         "icu_locale 'en-US' locale 'C.UTF-8'")
        except psycopg.Error as exc:
            pytest.skip(f"this PostgreSQL has no ICU collations: {exc}")
        # the collation really does reorder these ids, so the test below can fail
        with psycopg.connect(pg_server.conninfo("appeals_icu")) as icu:
            assert icu.execute("select max(v) from (values ('a1'), ('B1')) as t(v)").fetchone()[0] == "B1"
    return pg_server.url.rsplit("/", 1)[0] + "/appeals_icu"


@pytest.mark.parametrize("database", ["c", "en_us"])
def test_event_id_tie_break_ignores_the_database_collation(request, tmp_path, database):
    # found here: ORDER BY event_id followed the database's collation (fixed with collate "C")
    url = request.getfixturevalue("pg_url" if database == "c" else "icu_url")
    pair = _load_pair(url, tmp_path, f"ties_{database}", frames_from_rows(TIE_ROWS), None)
    pg = api.facts(pair.pg)
    assert pg.select("outcome", "specialist_id").row(0) == ("upheld", "s1")
    assert_same(pg, api.facts(pair.duck), ["appeal_id"])


def test_only_ascii_spaces_are_trimmed_alike(pg_url, tmp_path):
    # found here: DuckDB's trim() strips every Unicode space separator (U+00A0, U+2003, U+3000),
    # PostgreSQL's only U+0020; warehouse.md says spaces (fixed with trim(both ' ' from x))
    rows = {
        "appeals": [
            {"appeal_id": "x1", "queue": "q_a", "priority": "P1", "market": "\u00a0",
             "created_at": "2026-03-02T10:00:00+00:00"},
            {"appeal_id": " x2\u3000", "queue": "q_a", "priority": "P1", "market": "  ",
             "created_at": "2026-03-02T10:00:00+00:00"},
        ],
        "appeal_events": [],
    }
    pair = _load_pair(pg_url, tmp_path, "nbsp", frames_from_rows(rows), None)
    pg = api.facts(pair.pg)
    assert pg.select("appeal_id", "market").rows() == [("x1", "\u00a0"), ("x2\u3000", None)]
    assert_same(pg, api.facts(pair.duck), ["appeal_id"])


def test_sample_transparency_and_theme_discovery_agree(sample_pair):
    from metrics import discovery, transparency

    pg = transparency.figures(sample_pair.pg, "2026-10-01", "2026-10-31")
    duck = transparency.figures(sample_pair.duck, "2026-10-01", "2026-10-31")
    assert pg["complaints_total"] > 0 and pg["business_users"] is not None
    assert abs(pg.pop("median_hours_to_decision") - duck.pop("median_hours_to_decision")) < 1e-9
    pg_b, duck_b = pg.pop("business_users"), duck.pop("business_users")
    assert abs(pg_b.pop("median_hours_to_decision") - duck_b.pop("median_hours_to_decision")) < 1e-9
    assert pg == duck and pg_b == duck_b
    found = [discovery.contract_frame(discovery.discover(wh, "2026-09-28", "2026-10-11"))
             for wh in (sample_pair.pg, sample_pair.duck)]
    assert found[0].height > 0
    assert_frame_equal(found[0], found[1])
