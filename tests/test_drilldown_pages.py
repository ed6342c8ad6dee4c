"""AppTest of issue 10 items 1-3 on the sample: exceptions first (Overview, Queues), every number
opens its appeals (KPI cards, table cells, QA cells, movers) and the specialist workload, each
checked against the engine; and no personal data in anything a page renders."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from metrics import api, workload
from metrics.warehouse import Warehouse
from ui import drilldown

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SALT = "test-salt-of-the-page-tests"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+(?:1 602 555|44 7700 900|49 30 23125|353 20 910|48 22 000|61 491 570)")
HANDLE = re.compile(r"(?<![\w.])@[A-Za-z_][\w.]{2,}")


@pytest.fixture(scope="module")
def sample_url() -> str:
    from metrics.sample import ensure_sample_duckdb

    return f"duckdb:///{ensure_sample_duckdb(ROOT / 'data' / 'sample')}"


@pytest.fixture(scope="module")
def engine(sample_url):
    wh = Warehouse.open(sample_url)
    wh.validate()
    as_of = api.resolve_as_of(wh, None)
    wh.materialize(api.as_of_param(as_of))
    return wh, as_of, (as_of - timedelta(days=as_of.weekday())).date()  # the week that holds as_of


@pytest.fixture(scope="module")
def fresh_caches():
    # once per module: every test reads the same sample with the same settings, so the cached
    # reports of one test are right for the next (saves a minute of recomputation)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app(monkeypatch, sample_url, fresh_caches):
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", sample_url)
    monkeypatch.setenv("APPEALS_PSEUDONYM_SALT", SALT)
    monkeypatch.setenv("APPEALS_CASE_URL_TEMPLATE", "https://acme.zendesk.com/agent/tickets/{appeal_id}")

    def make(page: str | None = None, params: dict | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=180)
        for key, value in (params or {}).items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py").run()
        ok(at)
        return at

    return make


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def frame(at: AppTest, columns: set[str]):
    """The first dataframe on the page that has these columns."""
    for df in at.dataframe:
        if columns <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no dataframe with {columns}")


def panel_count(at: AppTest) -> int:
    texts = [m.value for m in at.markdown if " appeals · as of " in m.value]
    assert texts, "no drill-down panel"
    return int(texts[-1].split("**")[1].replace(",", ""))


def open_drill(at: AppTest, page: str, drill: drilldown.Drill) -> AppTest:
    at.session_state[drilldown.STATE.format(page=page)] = drill
    at.run()
    ok(at)
    return at


def rendered_text(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.subheader, *at.info, *at.warning)]
    for df in at.dataframe:
        value = df.value
        parts += [str(v) for c in value.columns for v in value[c].tolist() if isinstance(v, str)]
    return "\n".join(parts)


def test_overview_puts_exceptions_first_and_they_reconcile(app, engine):
    wh, as_of, _week = engine
    at = app()
    assert [s.value for s in at.subheader][:3] == ["Exceptions now", "Needs action", "Headline KPIs"]
    table = frame(at, {"queue", "breached", "due_soon", "ttr_sla_attainment"})
    by_queue = workload.by_group(wh, as_of, key="queue", hours=24)
    got = dict(zip(table["queue"], table["breached"], strict=True))
    assert got["All queues"] == 94 and got["payments_hold"] == 40  # the engine's numbers (test_workload)
    assert {q: got[q] for q in by_queue["queue"]} == dict(zip(by_queue["queue"], by_queue["breached"], strict=True))
    assert table.loc[table["queue"] == "All queues", "due_soon"].item() == 44
    # the table is sorted with the most breached queue first; the SLA target is in the header
    assert table["queue"].tolist()[0] == "payments_hold"
    needs = frame(at, {"hours_left", "clock_age_hours", "age_hours", "case_link"})
    assert needs["hours_left"].tolist() == sorted(needs["hours_left"].tolist())  # most overdue first
    assert needs["hours_left"].iloc[0] < 0 and len(needs) == 50  # a page of the 138
    assert needs["case_link"].iloc[0] == f"https://acme.zendesk.com/agent/tickets/{needs['appeal_id'].iloc[0]}"
    assert any("**138** open appeals across queues are breached (94)" in c.value for c in at.caption)


def test_a_kpi_card_lists_the_94_breached_appeals(app):
    at = app()
    at.button(key="kpi_list_backlog_breached").click().run()
    ok(at)
    assert panel_count(at) == 94
    listed = frame(at, {"appeal_id", "hours_left", "is_breached"})
    assert listed["is_breached"].all() and (listed["hours_left"] < 0).all()


def test_an_exception_cell_and_a_qa_cell_open_their_appeals(app, engine):
    wh, as_of, week = engine
    at = app()
    open_drill(at, "overview", drilldown.Drill("workload", "due", group=(("queue", "payments_hold"),),
                                               what="due_soon", hours=24.0, notes=False, slot="exceptions"))
    assert panel_count(at) == 18  # payments_hold due in 24 h (the Exceptions table's cell)
    at = app("queues")
    open_drill(at, "queues", drilldown.Drill("qa", "qa", metric="qa_accuracy", period_start=week,
                                             group=(("queue", "payments_hold"),), slot="table"))
    report = api.report(wh, by="queue", metrics="qa_accuracy", date_from=week, as_of=as_of,
                        filters={"queue": ["payments_hold"]}).row(0, named=True)
    assert panel_count(at) == report["qa_accuracy_denominator"] == 13
    reviews = frame(at, {"review_id", "in_numerator"})
    assert int(reviews["in_numerator"].sum()) == report["qa_accuracy_numerator"] == 10


def test_queues_show_sla_first_and_the_rest_behind_a_toggle(app):
    at = app("queues")
    table = at.dataframe[0]
    order = list(table.proto.column_order)
    assert order[:5] == ["queue", "breached", "due_soon", "ttr_sla_attainment", "ftr_sla_attainment"]
    assert "ttr_p50_hours" not in order
    at.toggle(key="queue_all_columns").set_value(True).run()
    ok(at)
    assert "ttr_p50_hours" in list(at.dataframe[0].proto.column_order)
    value = at.dataframe[0].value
    assert value.loc[value["queue"] == "payments_hold", "breached"].item() == 40


def test_specialist_workload_reconciles_and_respects_pseudonyms(app, engine):
    wh, as_of, _week = engine
    at = app("specialists")
    table = frame(at, {"specialist_id", "open_appeals", "due_soon", "breached", "oldest_age_hours"})
    now = workload.by_group(wh, as_of, key="specialist_id", hours=24).filter(pl.col("specialist_id").is_not_null())
    expected = dict(zip(now["specialist_id"], now["breached"], strict=True))
    shown = dict(zip(table["specialist_id"], table["breached"], strict=True))
    assert {k: shown[k] for k in shown if k in expected} == {k: expected[k] for k in shown if k in expected}
    assert sum(shown.values()) == sum(expected[k] for k in shown if k in expected) > 0
    at = app("specialists", {"pseudo": "true"})
    table = frame(at, {"specialist_id", "open_appeals"})
    assert not any(str(s).startswith("sp_") for s in table["specialist_id"])
    open_drill(at, "specialists", drilldown.Drill("workload", "open", group=(("specialist_id", "sp_012"),),
                                                  what="open", notes=False, slot="table"))
    listed = frame(at, {"appeal_id", "specialist_id", "hours_left"})
    assert listed["specialist_id"].str.startswith("Specialist ").all()
    assert "specialist_name" not in listed.columns


def test_a_root_cause_mover_opens_its_redacted_notes(app, engine):
    wh, as_of, week = engine
    at = app("root_causes")
    movers = frame(at, {"dimension", "value", "current"})
    top = movers.iloc[0]
    assert top["dimension"] == "Model version" and top["value"] == "bid-anomaly-v1.4" and top["current"] == 31
    open_drill(at, "root_causes", drilldown.Drill(
        "members", "mover", metric="overturn_rate", period_start=week, group=(("enforced_by", "bid-anomaly-v1.4"),),
        filters=(("enforcement_source", ("automated",)),), what="numerator", slot="movers"))
    assert panel_count(at) == 31  # the mover's overturns now
    notes = frame(at, {"appeal_id", "decision_note", "outcome"})
    assert set(notes["outcome"]) <= {"overturned", "partially_overturned"}
    assert notes["decision_note"].notna().sum() > 0


@pytest.mark.parametrize("page", ["overview", "queues", "specialists", "root_causes"])
def test_no_personal_data_reaches_a_page(app, engine, page):
    """The pages with drill-downs, with those that carry notes opened (every page and download
    is also scanned in the browser: tests/test_browser.py)."""
    _wh, _as_of, week = engine
    at = app(None if page == "overview" else page)
    drills = {
        "overview": drilldown.Drill("members", "all resolved", metric="appeals_resolved", period_start=week,
                                    what="counted", slot="kpi"),
        "root_causes": drilldown.Drill("members", "overturns", metric="overturn_rate", period_start=week,
                                       what="numerator", slot="movers"),
    }
    if page in drills:
        open_drill(at, page, drills[page])
        assert panel_count(at) > 0
        for p in range(1, 4):  # several pages of notes
            at.session_state[f"drill_{page}_page"] = p
            at.run()
            text = rendered_text(at)
            assert not (EMAIL.findall(text) + PHONE.findall(text) + HANDLE.findall(text))
    text = rendered_text(at)
    found = EMAIL.findall(text) + PHONE.findall(text) + HANDLE.findall(text)
    assert not found, found[:5]


def test_the_sample_notes_do_carry_personal_data(engine):
    """The scans above can fail: the raw notes of the sample hold e-mails and phone numbers."""
    wh, as_of, _week = engine
    raw = wh.query(wh.compose(None, "select decision_note from appeal_lifecycle where decision_note like '%@%'",
                              {"as_of": api.as_of_param(as_of)}), {"as_of": api.as_of_param(as_of)})
    assert raw.height > 100 and EMAIL.search(raw["decision_note"][0])


def test_settings_are_read_and_a_bad_target_is_named(app, monkeypatch):
    monkeypatch.setenv("APPEALS_SLA_TARGET", "95")
    at = app()
    assert any("against the 95% target" in c.value for c in at.caption)
    monkeypatch.setenv("APPEALS_SLA_TARGET", "ninety")
    monkeypatch.delenv("APPEALS_CASE_URL_TEMPLATE")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert any("APPEALS_SLA_TARGET: expected a share" in w.value for w in at.warning)
    assert any("against the 90% target" in c.value for c in at.caption)
    needs = frame(at, {"hours_left", "appeal_id"})
    assert "case_link" not in needs.columns  # no template: no link column, and the caption says how
    assert any("Set APPEALS_CASE_URL_TEMPLATE" in c.value for c in at.caption)


@pytest.mark.parametrize("kind,metric", [("members", "appeals_created"), ("backlog", None)])
def test_a_cell_in_another_reporting_zone_lists_that_zones_appeals(app, engine, kind, metric):
    # The reporting zone moves every period boundary (14 h earlier in Kiritimati, UTC+14), so a
    # cell's drill-down must list the appeals of that zone's period, not of the UTC one: its row
    # count equals the engine's cell in that zone (and the UTC cell differs, so the zone mattered).
    wh, as_of, week = engine
    zone, prior = "Pacific/Kiritimati", week - timedelta(days=7)  # a whole week before as_of
    name = metric or "backlog_open"
    cell = {tz: api.report(wh, by="queue", period="week", metrics=name, date_from=prior, date_to=prior, tz=tz,
                           as_of=as_of, filters={"queue": ["payments_hold"]}).row(0, named=True)[name]
            for tz in ("UTC", zone)}
    assert cell["UTC"] != cell[zone]
    at = app("queues", params={"tz": zone})
    open_drill(at, "queues", drilldown.Drill(kind, "cell", metric=metric, period_start=prior,
                                             group=(("queue", "payments_hold"),), slot="table"))
    assert panel_count(at) == cell[zone]


def test_an_age_bar_lists_its_open_appeals(app, engine):
    # A bar of the Queues page's age chart (payments_hold, breached, its largest bucket) opens
    # exactly the open appeals it counts: the bar's height is the panel's count.
    from metrics import dashboard

    wh, as_of, _week = engine
    open_rows, _ = api.appeals(wh, as_of=as_of, filters={"queue": ["payments_hold"]}, where=dashboard.OPEN_APPEALS,
                               order_by="created_at", limit=api.DRILL_LIMIT_MAX)
    dist = dashboard.age_distribution(open_rows, as_of).filter(pl.col("sla_state") == "breached")
    bar = dist.sort("appeals", descending=True).row(0, named=True)
    assert bar["appeals"] > 0 and int(dist["appeals"].sum()) == 40  # payments_hold's 40 breached now
    at = app("queues", params={"queue": "payments_hold"})
    open_drill(at, "queues", drilldown.Drill("open_age", "age", group=(("age_bucket", bar["age_bucket"]),
                                                                      ("sla_state", "breached")),
                                             filters=(("queue", ("payments_hold",)),), notes=False, slot="age"))
    assert panel_count(at) == bar["appeals"]
