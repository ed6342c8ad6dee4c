"""Theme discovery: scoring by hand, a small warehouse end to end, and the planted sample story."""

from __future__ import annotations

import math
import subprocess
import sys

import polars as pl
import pytest

from metrics import discovery
from tests.helpers import make_warehouse


def test_redaction_and_terms():
    note = "Badge broken again; call +44 7700 900123 or mail a.b@example.com @shop_owner. Tool bug."
    assert discovery.redact(note) == "Badge broken again; call [phone] or mail [email] [handle]. Tool bug."
    # stop words ("again", "or") and masks end a phrase; a sentence end too ("owner. Tool" is no phrase)
    assert discovery.terms_of(note) == {"badge", "broken", "badge broken", "call", "mail", "tool", "bug", "tool bug"}


def test_log_odds_z_by_hand():
    # 12 of 16 period appeals carry the term, 0 of 40 baseline ones; with +1/2 on every cell:
    #   log-odds = ln(12.5 / 4.5) - ln(0.5 / 40.5) = 1.021651 + 4.394449 = 5.416100
    #   variance = 1/12.5 + 1/4.5 + 1/0.5 + 1/40.5 = 0.08 + 0.222222 + 2 + 0.024691 = 2.326914
    #   z = 5.416100 / sqrt(2.326914) = 5.416100 / 1.525423 = 3.550558
    assert math.isclose(discovery._z(12, 16, 0, 40), 3.550558, abs_tol=1e-6)
    # as common now as before (every appeal both times): below zero, never a candidate
    assert discovery._z(16, 16, 40, 40) < 0


def test_scoring_and_clusters_by_hand():
    period = {f"p{i}": {"badge", "badge broken", "broken"} for i in range(12)}
    period |= {f"q{i}": {"reinstated"} for i in range(4)}
    baseline = {f"b{i}": {"reinstated"} for i in range(40)}
    scored = discovery.score_terms(period, baseline, min_appeals=5)
    # badge / broken / badge broken each: 12 of 16 vs 0 of 40 → z 3.55 (ties: the phrase first);
    # reinstated: 4 of 16 (< 5 appeals) is left out
    assert [t for t, *_ in scored] == ["badge broken", "badge", "broken"]
    groups = discovery.cluster(scored)
    assert len(groups) == 1 and [t for t, *_ in groups[0]] == ["badge broken", "badge", "broken"]


def _warehouse(tmp_path):
    return make_warehouse(tmp_path, _tables())


def _tables() -> dict[str, list[dict]]:
    appeals, events = [], []
    plan = []
    # baseline 2026-03-02..03-29: 20 unclassified overturns "Reinstated after review."
    for i in range(20):
        plan.append((f"b{i:02d}", f"2026-03-{2 + i:02d} 10:00", "Reinstated after review.", None))
    # period 2026-03-30..04-05: 8 "storefront badge missing" (one with a phone), 4 "Reinstated after review.",
    # and 3 coded agent_error (classified, so not read)
    for i in range(8):
        extra = " Called +1 602 555 0168." if i == 0 else ""
        plan.append((f"p{i:02d}", "2026-04-01 10:00", f"Storefront badge missing again.{extra}", None))
    for i in range(4):
        plan.append((f"r{i:02d}", "2026-04-02 10:00", "Reinstated after review.", None))
    for i in range(3):
        plan.append((f"c{i:02d}", "2026-04-02 10:00", "Storefront badge missing, agent error.", "agent_error"))
    for aid, decided, note, rc in plan:
        appeals.append({"appeal_id": aid, "queue": "account_suspension", "priority": "P1",
                        "created_at": decided.replace("10:00", "08:00")})
        events.append({"event_id": f"d_{aid}", "appeal_id": aid, "occurred_at": decided, "event_type": "decided",
                       "actor_id": "s1", "actor_type": "specialist", "outcome": "overturned", "root_cause": rc,
                       "note": note})
    return {"appeals": appeals, "appeal_events": events}


def test_small_warehouse_end_to_end(tmp_path):
    url = _warehouse(tmp_path)
    found = discovery.discover(url, "2026-03-30", "2026-04-05")
    # default baseline: the 8 weeks before 03-30 → 02-02..03-29; 20 notes there, 12 unclassified in the period
    assert found.baseline == (discovery.date(2026, 2, 2), discovery.date(2026, 3, 29))
    assert (found.notes_in_period, found.notes_in_baseline) == (12, 20)
    top = found.candidates[0]
    # "storefront badge", "badge missing", ... : 8 of 12 vs 0 of 20; the label is the best phrase
    assert top.rank == 1 and top.appeals == 8 and top.baseline_appeals == 0
    assert top.terms in {"storefront badge", "badge missing"}
    assert top.example_appeal_ids == ["p00", "p01", "p02", "p03", "p04"]
    assert "[phone]" in top.examples[0] and "555" not in top.examples[0]
    # trend: the baseline's 8 weeks (none of them carry the wording) and the period's week
    assert top.weekly == {discovery.date(2026, 2, 2) + discovery.timedelta(weeks=i): 0 for i in range(8)} | {
        discovery.date(2026, 3, 30): 8}
    assert all("reinstated" not in c.terms for c in found.candidates)  # as frequent as in the baseline
    out = tmp_path / "themes.csv"
    run = subprocess.run([sys.executable, "-m", "metrics", "themes", "--warehouse", url, "--from", "2026-03-30",
                          "--to", "2026-04-05", "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    frame = pl.read_csv(out)
    assert frame.columns == ["rank", "terms", "appeals", "baseline_appeals", "example_appeal_ids"]
    assert frame.row(0, named=True)["example_appeal_ids"] == "p00,p01,p02,p03,p04"


def test_discovery_from_the_store_equals_the_warehouse(tmp_path, monkeypatch):
    """The store keeps each overturned appeal's final note (the decision_notes model): discovery
    read there finds what it finds on the raw warehouse, before and after an incremental refresh."""
    from polars.testing import assert_frame_equal

    from metrics import api, refresh

    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    tables = _tables()

    def both_agree(url):
        import gc

        reader = refresh.source(url)
        url = api.open_warehouse(url)  # one connection, closed below: the file is written again
        for only in (True, False):
            for lo, hi in ((discovery.date(2026, 3, 30), discovery.date(2026, 4, 5)),
                           (discovery.date(2026, 2, 2), discovery.date(2026, 3, 29))):
                assert_frame_equal(discovery.notes(reader, lo, hi, unclassified_only=only),
                                   discovery.notes(url, lo, hi, unclassified_only=only))
            assert discovery.discover(reader, "2026-03-30", "2026-04-05", unclassified_only=only) == \
                discovery.discover(url, "2026-03-30", "2026-04-05", unclassified_only=only)
        assert type(reader).__name__ == "StoreWarehouse"
        found = discovery.discover(reader, "2026-03-30", "2026-04-05")
        reader.db.close()
        if url._session is not None:
            url._session.close()
        url.engine.dispose()
        gc.collect()
        return found

    url = make_warehouse(tmp_path, tables)
    assert refresh.refresh(url).mode == "full"
    found = both_agree(url)
    assert (found.notes_in_period, found.notes_in_baseline) == (12, 20)  # as on the warehouse above
    assert found.candidates[0].appeals == 8
    # a day later: one more "storefront badge missing" overturn (p08), an overturn with no note
    # (n00: a note read, no term) and an upheld appeal with the wording (u00: not an overturn, not
    # read). By hand: 12 + 2 = 14 notes in the period; the wording in 8 + 1 = 9 appeals.
    for aid, outcome, note in (("p08", "overturned", "Storefront badge missing."), ("n00", "overturned", None),
                               ("u00", "upheld", "Storefront badge missing.")):
        tables["appeals"].append({"appeal_id": aid, "queue": "account_suspension", "priority": "P1",
                                  "created_at": "2026-04-03 08:00"})
        tables["appeal_events"].append({"event_id": f"d_{aid}", "appeal_id": aid, "occurred_at": "2026-04-03 10:00",
                                        "event_type": "decided", "actor_id": "s1", "actor_type": "specialist",
                                        "outcome": outcome, "root_cause": None, "note": note})
    url = make_warehouse(tmp_path, tables)
    result = refresh.refresh(url)
    assert result.mode == "incremental" and result.recomputed < result.total, result.line()
    found = both_agree(url)
    assert (found.notes_in_period, found.notes_in_baseline) == (14, 20)
    assert found.candidates[0].appeals == 9


def test_bad_arguments(tmp_path):
    url = _warehouse(tmp_path)
    with pytest.raises(discovery.WarehouseError, match="--baseline-from/--baseline-to"):
        discovery.discover(url, "2026-03-30", "2026-04-05", baseline_from="2026-03-01")
    with pytest.raises(discovery.WarehouseError, match="--to"):
        discovery.discover(url, "2026-04-05", "2026-03-30")


def test_sample_finds_the_verification_badge_in_w40_w41():
    # README story 6: ~129 "verification badge" notes, mostly W40–W41, 61% without a root cause
    found = discovery.discover(None, "2026-09-28", "2026-10-11")
    top = found.candidates[0]
    assert top.terms == "verification badge"
    assert top.appeals >= 60 and top.baseline_appeals == 0
    assert set(top.queues) == {"account_suspension"}
