"""The committed Zendesk-shaped sample (data/sample_zendesk): deterministic, read whole by the
adapter, no closed ticket open in facts, and the dashboard shows the adapter config in use."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
import streamlit as st
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from metrics import api
from metrics.adapters import open_adapted, zendesk, zendesk_sample
from metrics.adapters.zendesk_sample import CONFIG_PATH, ROOT, SAMPLE_DIR, TABLES


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("zds")
    for name in TABLES:
        shutil.copy(SAMPLE_DIR / f"{name}.parquet", folder / f"{name}.parquet")
    return f"duckdb:///{zendesk_sample.ensure_duckdb(folder)}"


@pytest.fixture(scope="module")
def wh(sample_url):
    return open_adapted("zendesk", sample_url, CONFIG_PATH)


def test_committed_parquet_is_what_the_generator_makes():
    for name, frame in zendesk_sample.generate().items():
        assert_frame_equal(pl.read_parquet(SAMPLE_DIR / f"{name}.parquet"), frame), name


def test_sample_has_the_cases_the_adapter_must_read_right():
    t = zendesk_sample.generate()
    tickets, history = t["ticket"], t["ticket_field_history"]
    no_history = tickets.filter(~pl.col("id").is_in(history["ticket_id"].implode()))
    assert no_history.height > 0 and set(no_history["status"]) == {"closed"}  # imported, closed long ago
    assert "on-hold" in set(history.filter(pl.col("field_name") == "status")["value"])  # legacy spelling
    assert "voice" in set(tickets["via_channel"])  # agent-created tickets


def test_no_closed_or_solved_ticket_is_open_in_facts(wh, sample_url):
    facts = api.facts(wh)
    tickets = pl.read_parquet(SAMPLE_DIR / "ticket.parquet").with_columns(pl.col("id").cast(pl.Utf8))
    appeals = set(facts["appeal_id"])
    done = tickets.filter(pl.col("status").is_in(["solved", "closed"]) & pl.col("id").is_in(list(appeals)))
    by_id = dict(zip(facts["appeal_id"], facts["status"], strict=True))
    assert done.height > 300
    assert {by_id[i] for i in done["id"]} == {"resolved"}
    # ... the ones whose history does not say so are counted (all of them imported without history)
    found = {c.name: c for c in api.check(wh)}
    history_ids = set(pl.read_parquet(SAMPLE_DIR / "ticket_field_history.parquet")["ticket_id"].cast(pl.Utf8))
    without = sorted(i for i in done["id"] if i not in history_ids)
    assert found["zendesk_status_from_ticket_row"].count == len(without) > 0
    assert not [c for c in found.values() if c.kind == "config"]  # the sample's config matches its data


def test_open_facts_are_open_tickets(wh):
    # every ticket the row calls new/open/pending/hold (on-hold) is open in facts, and vice versa
    facts = api.facts(wh)
    row = dict(zip(*pl.read_parquet(SAMPLE_DIR / "ticket.parquet").select(
        pl.col("id").cast(pl.Utf8), "status").to_dict(as_series=False).values(), strict=True))
    assert {row[a] in ("new", "open", "pending", "hold", "on-hold") for a in facts.filter(
        pl.col("status") == "open")["appeal_id"]} == {True}


def test_dashboard_connection_panel_names_the_config(sample_url, monkeypatch, tmp_path):
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("APPEALS_WAREHOUSE_URL", sample_url)
    monkeypatch.setenv("APPEALS_ADAPTER", "zendesk")
    monkeypatch.setenv("APPEALS_ADAPTER_CONFIG", str(CONFIG_PATH))
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        side = " ".join(c.value for c in at.sidebar.caption)
        assert f"**Read through** zendesk with `{CONFIG_PATH}`" in side
        assert not at.sidebar.warning  # nothing in the config is unmatched
        at.switch_page("pages/data_quality.py").run()
        assert not at.exception and not at.error, [e.value for e in at.exception]
        table = at.dataframe[0].value
        row = table.filter(pl.col("check") == "zendesk_status_from_ticket_row") if isinstance(
            table, pl.DataFrame) else table[table["check"] == "zendesk_status_from_ticket_row"]
        assert len(row) == 1  # the adapter's own checks are listed with the engine's

        bad = tmp_path / "zendesk_bad.yml"  # a group spelled wrong
        monkeypatch.setenv("APPEALS_ADAPTER_CONFIG", str(bad))
        bad.write_text(CONFIG_PATH.read_text().replace('name: "Appeals - Listings"', 'name: "Appeals - listings"'))
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
        warning = " ".join(w.value for w in at.sidebar.warning)
        assert "appeal_groups[1] name 'Appeals - listings': no such group" in warning
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_connection_info_names_the_config(wh):
    info = api.connection_info(wh)
    assert (info["adapter"], info["adapter_config"]) == ("zendesk", str(CONFIG_PATH))
    assert zendesk.load_config(CONFIG_PATH).source == str(CONFIG_PATH)
