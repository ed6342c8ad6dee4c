"""The weekly business review on a small hand-built warehouse: sentences carry the numbers."""

from __future__ import annotations

import pytest

from metrics import wbr
from metrics.warehouse import WarehouseError
from tests.helpers import make_warehouse


def _appeal(i, queue, created):
    return {"appeal_id": f"a{i}", "queue": queue, "priority": "P1", "created_at": created,
            "enforcement_id": f"e{i}"}


def _decided(i, at, outcome, root_cause=None, actor="s1"):
    return {"event_id": f"d{i}", "appeal_id": f"a{i}", "occurred_at": at, "event_type": "decided",
            "actor_id": actor, "actor_type": "specialist", "outcome": outcome, "root_cause": root_cause}


def test_wbr_headline_and_why(tmp_path):
    # Week 2026-W10 (Mon 03-02) then W11 (Mon 03-09). Queue q1:
    #   W10: 2 appeals created and decided, 1 overturned (agent_error)  → overturn 50%
    #   W11: 4 appeals created and decided, 3 overturned (automation_false_positive), 1 upheld → 75%
    # Queue q2: W11 one appeal decided upheld.
    appeals, events = [], []
    plan = [
        (1, "q1", "2026-03-02 09:00", "2026-03-03 09:00", "overturned", "agent_error"),
        (2, "q1", "2026-03-02 10:00", "2026-03-03 10:00", "upheld", None),
        (3, "q1", "2026-03-09 09:00", "2026-03-10 09:00", "overturned", "automation_false_positive"),
        (4, "q1", "2026-03-09 10:00", "2026-03-10 10:00", "overturned", "automation_false_positive"),
        (5, "q1", "2026-03-09 11:00", "2026-03-10 11:00", "overturned", "automation_false_positive"),
        (6, "q1", "2026-03-09 12:00", "2026-03-10 12:00", "upheld", None),
        (7, "q2", "2026-03-09 12:00", "2026-03-11 12:00", "upheld", None),
    ]
    for i, queue, created, decided, outcome, rc in plan:
        appeals.append(_appeal(i, queue, created))
        events.append(_decided(i, decided, outcome, rc))
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events})
    text = wbr.render(url, "2026-W11", str(tmp_path / "wbr.md"))
    # appeals created: W11 = 5 (a3..a7), W10 = 2 → +150.0%
    assert "Appeals created was 5 in 2026-W11, +150.0% week over week." in text
    # overturn rate: W11 3 of 5 known outcomes = 60.0%; W10 1 of 2 = 50.0% → +10.0 pp, worse
    assert "Overturn rate was 60.0% (3 of 5) in 2026-W11, +10.0 pp week over week (worse)." in text
    # why: q1 overturns 1 → 3 (+2); theme automation false positives 0 → 3 (+3)
    assert ("Why q1: overturns theme automation false positives went from 0 to 3 (+3), "
            "while the queue's overturns changed by +2 in all.") in text
    assert (tmp_path / "wbr.md").read_text() == text
    html_text = (wbr.render(url, "2026-W11", str(tmp_path / "wbr.html")), (tmp_path / "wbr.html").read_text())[1]
    assert html_text.startswith("<!doctype html>") and "<table>" in html_text


def test_wbr_bad_week(tmp_path):
    url = make_warehouse(tmp_path, {"appeals": [_appeal(1, "q", "2026-03-02 09:00")], "appeal_events": []})
    with pytest.raises(WarehouseError, match="--week"):
        wbr.render(url, "2026-53")
    with pytest.raises(WarehouseError, match="nothing happened"):
        wbr.render(url, "2025-W01")


def test_no_minus_zero_and_readable_changes():
    assert wbr.fmt_change("overturn_rate", 0.2000004, 0.2000005) == "0.0 pp"
    assert wbr.fmt_change("appeals_created", 1000, 1000) == "0.0%"
    assert wbr.fmt_delta("ttr_p50_hours", -0.04) == "0.0 h"
    assert wbr.fmt_delta("backlog_open", -357) == "-357"


def test_effective_as_of_is_the_end_of_the_week():
    from datetime import UTC, date, datetime

    start = date(2026, 10, 26)
    later = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    assert wbr.effective_as_of(later, start) == datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=UTC)
    earlier = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)  # a week still running: the data's as-of
    assert wbr.effective_as_of(earlier, start) == earlier


@pytest.fixture(scope="module")
def sample_w44():
    return wbr.build(None, "2026-W44")


def test_sample_w44_tells_the_holiday_story(sample_w44):
    # README story 5: the Irish bank holiday Mon 2026-10-26 (in `holidays`) leaves Dublin short-handed
    w = sample_w44
    assert w.moves[0].startswith("First-touch SLA fell from 86.6% to 65.2% (-21.4 pp, worse)")
    assert "Mon 26 Oct 2026" in w.moves[0] and "holiday" in w.moves[0]
    backlog = next(s for s in w.sentences if s.startswith("Open backlog at the dublin site grew"))
    assert "public holiday" in backlog and "dublin schedule" in backlog and "Mon 26 Oct 2026" in backlog
    # the 24-hour risk is computed as of the end of W44, not as of the data's end (2026-11-22)
    from datetime import UTC, datetime

    from metrics import api

    end_w44 = datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=UTC)
    _rows, due = api.at_risk(None, as_of=end_w44, within_hours=24, limit=1)
    _rows, due_now = api.at_risk(None, within_hours=24, limit=1)
    assert due != due_now  # the two instants give different answers, so the test can tell them apart
    assert w.sla_risks[-1] == (f"At the end of 2026-W44 (Sun 1 Nov 2026, 24:00 UTC), {due:,} open appeals were due "
                               "to reach their resolution deadline within the next 24 hours.")
    text = wbr.to_markdown(w)
    assert "-0.0" not in text and "_change" not in text and "this_week" not in text


def test_sample_w44_mix_and_rate_effects_sum_to_the_change():
    from datetime import UTC, date, datetime

    from metrics import api, drivers

    end_w44 = datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=UTC)
    for key in ("queue", "priority", "market", "enforcement_source", "site"):
        rep = api.report(None, by=[key], period="week", date_from="2026-10-19", date_to="2026-11-01",
                         metrics=["ftr_sla_attainment", "overturn_rate"], as_of=end_w44)
        tot = api.report(None, by=[], period="week", date_from="2026-10-19", date_to="2026-11-01",
                         metrics=["ftr_sla_attainment", "overturn_rate"], as_of=end_w44)
        for name in ("ftr_sla_attainment", "overturn_rate"):
            num, den = f"{name}_numerator", f"{name}_denominator"

            def parts(week, rep=rep, num=num, den=den, key=key):
                rows = rep.filter(rep["period_start"] == week)
                return {r[key] or "(none)": (r[num], r[den]) for r in rows.iter_rows(named=True)}

            w43, w44 = date(2026, 10, 19), date(2026, 10, 26)
            change = (tot.filter(tot["period_start"] == w44)[name][0] - tot.filter(tot["period_start"] == w43)[name][0])
            effects = drivers.decompose_rate(parts(w43), parts(w44))
            assert abs(sum(p.mix + p.rate for p in effects) - change) < 1e-12, (key, name)


def test_sample_w47_names_the_payments_hold_drift():
    # README story 4: payments_hold TTR p50 ~20 h in W30–W41, then 26, 27, 38, 43, 50, 50 h in W42–W47
    w = wbr.build(None, "2026-W47")
    drift = next(s for s in w.drifts if s.startswith("payments_hold: TTR p50"))
    assert drift.startswith("payments_hold: TTR p50 has risen for 6 weeks (since 2026-W42): 26.2 h in 2026-W42 → "
                            "49.6 h in 2026-W47")
    risk = next(s for s in w.sla_risks if s.startswith("payments_hold"))
    assert "falling for 6 weeks" in risk
    assert not any(s.startswith(("livestream_ban", "listing_removal")) for s in w.sla_risks)  # on target


def test_wbr_names_with_markdown_syntax_show_as_themselves(tmp_path):
    # A queue named like Markdown (a pipe, emphasis, a link) must not break the review's tables
    # or turn into formatting: in the .md it is backslash-escaped, in the .html it is the raw name.
    name = "q|1 *x* [l](http://e.com)"
    appeals = [_appeal(1, name, "2026-03-02 09:00"), _appeal(2, name, "2026-03-09 09:00"),
               _appeal(3, name, "2026-03-09 10:00")]
    events = [_decided(1, "2026-03-03 09:00", "upheld"), _decided(2, "2026-03-10 09:00", "overturned", "agent_error"),
              _decided(3, "2026-03-10 10:00", "overturned", "agent_error")]
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events})
    text = wbr.render(url, "2026-W11")
    escaped = r"q\|1 \*x\* \[l\](http\://e.com)"
    # every ( | * [ ] : before //) of the name is escaped wherever the name appears; no raw copy is left
    assert escaped in text and name not in text
    # the queue table keeps its column count: no row has more unescaped pipes than the header
    table = text.split("## Queues")[1].split("##")[0].strip().splitlines()
    widths = {len(wbr._UNESCAPED_PIPE.split(row.strip()[1:-1])) for row in table if row.startswith("|")}
    assert len(widths) == 1
    page = wbr.to_html(text)
    assert f"<td>{name}</td>" in page and "\\|" not in page and "\\*" not in page
