"""A composed query carries only the CTEs its select reads (models.with_models, decision 91)."""

from metrics import models

STAGING = {name: "select 1 as x" for name in (
    "stg_appeals", "stg_appeal_events", "stg_specialists", "stg_sla_policies", "stg_business_hours",
    "stg_holidays", "stg_qa_reviews", "stg_enforcements")}


def test_reads_follow_names_through_other_ctes_in_their_order():
    ctes = {"a": "select 1", "b": "select * from a", "b_x": "select * from d", "c": "select * from b_x", "d": "select 2"}
    # the select reads b; b reads a. "b_x" is another word (c's reference), d is read by b_x only
    assert list(models._read_by(ctes, "select * from b")) == ["a", "b"]
    # c reads b_x, which reads d: kept in the order given, not the order found
    assert list(models._read_by(ctes, "select * from c")) == ["b_x", "c", "d"]
    # SQL names are case-insensitive
    assert list(models._read_by(ctes, "SELECT * FROM B")) == ["a", "b"]
    assert models._read_by(ctes, "select 3") == {}


def test_a_select_reading_no_cte_is_sent_as_it_is():
    assert models.with_models(STAGING, None, "select 42 as answer") == "select 42 as answer"


def test_a_staging_read_carries_that_table_alone():
    sql = models.with_models(STAGING, None, "select distinct queue from stg_sla_policies")
    assert sql == "with stg_sla_policies as (\n    select 1 as x\n)\nselect distinct queue from stg_sla_policies"


def test_facts_carry_their_chain_and_none_of_the_later_models():
    sql = models.with_models(STAGING, None, "select * from appeal_facts")
    # the models are in dependency (file) order, so nothing after appeal_facts can feed it
    for later in ("status_spans", "qa_reviews_clean", "enforcements_clean", "decision_notes"):
        assert f"{later} as (" not in sql
    # what the facts are built from (warehouse.md: appeals, their events, policies, clocks)
    for read in ("stg_appeals", "stg_appeal_events", "stg_sla_policies", "appeals_base", "events_effective",
                 "appeal_lifecycle", "appeal_policy", "appeal_clock", "appeal_facts"):
        assert f"{read} as (" in sql
    # the staging of QA reviews is read by no model up to the facts
    assert "stg_qa_reviews as (" not in sql
    # an override (a materialized model) ends what its body read: the chain behind it goes
    # (read from its table, the model is a bare alias, inlined: test_an_alias_read_twice_is_scanned_twice)
    over = models.with_models(STAGING, None, "select * from appeal_facts", overrides={"appeal_facts": "select * from t"})
    assert over == "with appeal_facts as not materialized (\n    select * from t\n)\nselect * from appeal_facts"
    # Spark has no such clause
    over = models.with_models(STAGING, None, "select * from appeal_facts", overrides={"appeal_facts": "select * from t"},
                              dialect="spark")
    assert over == "with appeal_facts as (\n    select * from t\n)\nselect * from appeal_facts"
    # an override that computes something is not a bare alias: left to the database
    over = models.with_models(STAGING, None, "select * from appeal_facts",
                              overrides={"appeal_facts": "select * from t where x > 1"})
    assert over.startswith("with appeal_facts as (\n")


def test_an_alias_read_twice_is_scanned_twice():
    """A drill-down's page and its count read `appeal_facts` twice. Left to itself DuckDB
    materializes a CTE read twice (every column of every row that passes the filters it can
    push down), before the page's top-N; inlined, each reference is a scan of its own."""
    import duckdb

    con = duckdb.connect()
    con.execute("create table facts as select i as appeal_id, i % 4 as queue, i * 2 as ttr from range(1000) t(i)")
    select = ("select page.*, total.n from (select * from appeal_facts where queue = 1 order by appeal_id limit 5) page "
              "cross join (select count(*) as n from appeal_facts where queue = 1) total order by appeal_id")

    def plan(sql: str) -> str:
        return "\n".join(row[1] for row in con.execute("explain " + sql).fetchall())

    inlined = models.with_models(STAGING, None, select, overrides={"appeal_facts": "select * from facts"})
    kept = inlined.replace(" not materialized", "")
    assert "CTE Scan" in plan(kept)  # what the clause is for: DuckDB 2.0 materializes it otherwise
    # inlined: the page and the count each scan the table (the page's top-N on the ids first,
    # then its rows fetched by rowid: a third scan), the filter in each scan
    assert "CTE" not in plan(inlined) and plan(inlined).count("Table: memory.main.facts") >= 2
    # the same rows: 1, 5, 9, 13, 17 (queue 1 is every fourth id from 1), 250 of them in all
    assert con.execute(inlined).fetchall() == [(i, 1, 2 * i, 250) for i in (1, 5, 9, 13, 17)]
