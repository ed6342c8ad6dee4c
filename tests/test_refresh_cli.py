"""`python -m metrics refresh` and `--store` / `--no-store` (interfaces.md), on hand-made warehouses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from metrics import cli, refresh
from tests.helpers import make_warehouse

ROOT = Path(__file__).resolve().parent.parent

APPEALS = [
    {"appeal_id": "A", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00Z"},
    {"appeal_id": "B", "queue": "q", "priority": "P1", "created_at": "2026-03-02T10:00:00Z"},
    {"appeal_id": "C", "queue": "q", "priority": "P1", "created_at": "2026-03-02T11:00:00Z"},
]
EVENTS = [
    {"event_id": "a1", "appeal_id": "A", "occurred_at": "2026-03-02T12:00:00Z", "event_type": "decided",
     "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"},
    {"event_id": "b1", "appeal_id": "B", "occurred_at": "2026-03-02T13:00:00Z", "event_type": "claimed",
     "actor_id": "s1", "actor_type": "specialist"},
    {"event_id": "c1", "appeal_id": "C", "occurred_at": "2026-03-02T14:00:00Z", "event_type": "decided",
     "actor_id": "s2", "actor_type": "specialist", "outcome": "overturned"},
]
# SLA on a calendar clock: resolution target 100 h, so B's resolution SLA is pending
POLICIES = [{"queue": "*", "priority": "P1", "first_touch_target_hours": 1, "resolution_target_hours": 100,
             "clock": "calendar"}]


@pytest.fixture(autouse=True)
def _own_store_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))


def rewrite(tmp_path, tables) -> str:
    """Rewrite the warehouse file in place: first let go of this process's connections to it."""
    import gc

    gc.collect()
    return make_warehouse(tmp_path, tables)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_refresh_full_then_incremental_counts(tmp_path, capsys):
    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES})
    code, out, _err = run(capsys, "refresh", "--warehouse", url)
    assert code == 0
    # as_of = the latest instant, c1 at 14:00
    assert out.strip().splitlines()[-1] == "refresh: full, 3 appeals recomputed of 3, as_of 2026-03-02T14:00:00+00:00"
    code, out, _err = run(capsys, "refresh", "--warehouse", url)
    # nothing changed, as_of did not move: nothing to recompute
    assert out.strip().splitlines()[-1] == "refresh: incremental, 0 appeals recomputed of 3, as_of 2026-03-02T14:00:00+00:00"

    # a correction to C's decision, and a new appeal D created at 15:00 (as_of moves to 15:00)
    events = [dict(e) for e in EVENTS]
    events[2]["outcome"] = "upheld"
    appeals = APPEALS + [{"appeal_id": "D", "queue": "q", "priority": "P1", "created_at": "2026-03-02T15:00:00Z"}]
    url2 = rewrite(tmp_path, {"appeals": appeals, "appeal_events": events, "sla_policies": POLICIES})
    assert url2 == url
    code, out, _err = run(capsys, "refresh", "--warehouse", url)
    # recomputed: C (its row changed), D (new). B is open, its resolution SLA pending until
    # its deadline, 10:00 + 100 h = 03-06 14:00, which as_of (15:00 on 03-02) has not passed
    # (its first touch, claimed 13:00 after the 11:00 deadline, is breached: final); A is
    # resolved and achieved at 12:00 before its deadline: both fixed, kept as stored. 2 of 4.
    assert out.strip().splitlines()[-1] == "refresh: incremental, 2 appeals recomputed of 4, as_of 2026-03-02T15:00:00+00:00"

    # the store's answers are the warehouse's answers (byte for byte)
    for cmd in (["facts", "--wide"], ["spans"], ["report", "--by", "queue", "--period", "day"], ["check"]):
        a, b = tmp_path / f"{cmd[0]}_store.csv", tmp_path / f"{cmd[0]}_plain.csv"
        assert run(capsys, *cmd[:1], "--warehouse", url, *cmd[1:], "--out", str(a))[0] == 0
        assert run(capsys, *cmd[:1], "--warehouse", url, *cmd[1:], "--no-store", "--out", str(b))[0] == 0
        assert a.read_text() == b.read_text()
    # D has no event at all (a per-appeal check, read from the hits the store keeps)
    assert "appeal_without_events,flagged,1,D," in (tmp_path / "check_store.csv").read_text()
    report = (tmp_path / "report_store.csv").read_text().splitlines()
    header = report[0].split(",")
    row = dict(zip(header, report[1].split(","), strict=True))
    # day 2026-03-02, queue q: 4 created, 2 resolved (A upheld, C now upheld): overturn rate 0/2
    assert (row["appeals_created"], row["appeals_resolved"], row["overturn_rate_numerator"],
            row["overturn_rate_denominator"]) == ("4", "2", "0", "2")


def test_store_in_a_named_schema_and_sla_change_rebuilds(tmp_path, capsys):
    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES})
    store = f"duckdb:///{tmp_path / 'mine.duckdb'}?schema=team_store"
    code, out, _ = run(capsys, "refresh", "--warehouse", url, "--store", store, "--quiet")
    assert code == 0 and out.startswith("refresh: full, 3 appeals recomputed of 3")
    policies = [dict(POLICIES[0], resolution_target_hours=2)]
    rewrite(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": policies})
    err_out = run(capsys, "refresh", "--warehouse", url, "--store", store)
    assert err_out[1].startswith("refresh: full, 3 appeals recomputed of 3")  # sla_policies changed
    assert "sla_policies changed" in err_out[2]
    a, b = tmp_path / "s.csv", tmp_path / "p.csv"
    run(capsys, "facts", "--warehouse", url, "--store", store, "--out", str(a))
    run(capsys, "facts", "--warehouse", url, "--no-store", "--out", str(b))
    assert a.read_text() == b.read_text()
    assert "breached" in a.read_text()  # B: created 10:00, 2 h target, unresolved at 14:00


def test_failed_refresh_keeps_the_previous_store(tmp_path, capsys, monkeypatch):
    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS})
    assert run(capsys, "refresh", "--warehouse", url)[0] == 0
    rewrite(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS[:2]})  # C's decision deleted

    def broken(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(refresh, "_build", broken)
    code, out, err = run(capsys, "refresh", "--warehouse", url, "--quiet")
    assert code == 1 and out == ""
    assert err.strip() == ("error: refresh failed: OSError: disk full; the previous store "
                           "(as_of 2026-03-02T14:00:00+00:00) is still in use")
    assert len(err.strip().splitlines()) == 1
    monkeypatch.undo()
    monkeypatch.setenv("APPEALS_STORE_DIR", str(tmp_path / "stores"))
    code, out, _ = run(capsys, "refresh", "--warehouse", url)
    # as_of moved back from 14:00 (c1 gone) to 13:00: a full rebuild
    assert out.strip() == "refresh: full, 3 appeals recomputed of 3, as_of 2026-03-02T13:00:00+00:00"


def test_killed_refresh_leaves_the_store_usable_and_says_so(tmp_path):
    from tests.randomwh import random_tables

    url = make_warehouse(tmp_path, random_tables(3, n_appeals=300))
    env = {**os.environ, "APPEALS_STORE_DIR": str(tmp_path / "stores")}
    cmd = [sys.executable, "-m", "metrics", "refresh", "--warehouse", url]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    assert first.returncode == 0, first.stderr
    proc = subprocess.Popen([*cmd, "--full"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env=env)
    for line in proc.stderr:
        if "Computing facts" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    facts = subprocess.run([sys.executable, "-m", "metrics", "facts", "--warehouse", url, "--out", "-"],
                           capture_output=True, text=True, cwd=ROOT, env=env)
    plain = subprocess.run([sys.executable, "-m", "metrics", "facts", "--warehouse", url, "--no-store", "--out", "-"],
                           capture_output=True, text=True, cwd=ROOT, env=env)
    assert facts.returncode == 0 and facts.stdout == plain.stdout
    assert "did not finish" in facts.stderr  # the next refresh (before reading) says so


def test_a_reader_keeps_its_state_while_another_process_refreshes(tmp_path):
    from metrics import api, store

    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS})
    env = {**os.environ, "APPEALS_STORE_DIR": str(tmp_path / "stores")}
    cmd = [sys.executable, "-m", "metrics", "refresh", "--warehouse", url, "--quiet"]
    assert subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env).returncode == 0
    wh = api.open_warehouse(url)
    loc = store.location(wh)
    reader = store.open_store(wh, loc)  # the dashboard's open connection to the live generation
    wh.engine.dispose()
    rewrite(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS + [
        {"event_id": "b2", "appeal_id": "B", "occurred_at": "2026-03-02T16:00:00Z", "event_type": "decided",
         "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"}]})
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    # DuckDB lets a process write a file only when nobody else has it open: the refresh wrote
    # a new generation while the reader held the old one
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refresh: incremental, 1 appeals recomputed of 3, as_of 2026-03-02T16:00:00+00:00"
    old = api.report(reader, by=[], period="day", metrics=["appeals_resolved"])
    assert old["appeals_resolved"].to_list() == [2]  # A and C, as of 14:00
    fresh = store.open_store(wh, loc)
    assert api.report(fresh, by=[], period="day", metrics=["appeals_resolved"])["appeals_resolved"].to_list() == [3]
    reader.db.close()
    fresh.db.close()


def test_a_changed_specialist_row_reaches_the_stretches_they_owned(tmp_path, capsys):
    # X created 09:00, assigned to s1 at 10:00, reassigned to s2 at 11:00, still open at as_of 11:00:
    # stretches [09:00, 10:00) no owner, [10:00, 11:00) s1, [11:00, -) s2 (its owner now)
    appeals = [{"appeal_id": "X", "queue": "q", "priority": "P1", "created_at": "2026-03-02T09:00:00Z"}]
    events = [{"event_id": "x1", "appeal_id": "X", "occurred_at": "2026-03-02T10:00:00Z", "event_type": "assigned",
               "actor_id": "s1", "actor_type": "system"},
              {"event_id": "x2", "appeal_id": "X", "occurred_at": "2026-03-02T11:00:00Z", "event_type": "assigned",
               "actor_id": "s2", "actor_type": "system"}]
    people = [{"specialist_id": "s1", "pod": "p1"}, {"specialist_id": "s2", "pod": "p2"}]
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events, "specialists": people})
    assert run(capsys, "refresh", "--warehouse", url, "--quiet")[0] == 0
    rewrite(tmp_path, {"appeals": appeals, "appeal_events": events,
                       "specialists": [{"specialist_id": "s1", "pod": "p9"}, people[1]]})
    code, out, _ = run(capsys, "refresh", "--warehouse", url, "--quiet")
    # s1 owns none of X now, but owned its second stretch: X is recomputed (1 of 1)
    assert out.strip() == "refresh: incremental, 1 appeals recomputed of 1, as_of 2026-03-02T11:00:00+00:00"
    spans = tmp_path / "spans.csv"
    assert run(capsys, "spans", "--warehouse", url, "--out", str(spans))[0] == 0
    lines = spans.read_text().splitlines()
    at = lines[0].split(",").index("pod")
    pods = [line.split(",")[at] for line in lines[1:]]
    assert pods == ["", "p9", "p2"]


def test_an_enforcement_reaches_the_store_when_as_of_passes_it(tmp_path, capsys):
    """An incremental refresh keeps the stored enforcements and recomputes the ids whose rows
    changed or that as_of has just passed (metrics.refresh._enforced_since): EF's row never
    changes, but it counts in appeal_rate's denominator only once as_of reaches 15:00.

    A created 09:00 (enforcement EA 08:00), decided 12:00: as_of 12:00, so day 03-02 is
    1 appeal (A) / 1 enforcement (EA); EF (15:00) and EG (03-03 10:00) are after as_of.
    Then B is created at 16:00: as_of 16:00, day 03-02 is 2 appeals (A, B) / 2 enforcements
    (EA, EF); EG is still after as_of."""
    def enf(eid, at):
        return {"enforcement_id": eid, "action": "listing_removal", "policy": "counterfeit", "source": "automated",
                "enforced_by": "model-v1", "enforced_at": at}

    appeals = [{"appeal_id": "A", "enforcement_id": "EA", "queue": "q", "priority": "P1",
                "created_at": "2026-03-02T09:00:00Z"}]
    events = [{"event_id": "a1", "appeal_id": "A", "occurred_at": "2026-03-02T12:00:00Z", "event_type": "decided",
               "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"}]
    enforcements = [enf("EA", "2026-03-02T08:00:00Z"), enf("EF", "2026-03-02T15:00:00Z"),
                    enf("EG", "2026-03-03T10:00:00Z")]
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events, "enforcements": enforcements})

    def day_rate(no_store: bool) -> tuple[str, str]:
        out = tmp_path / f"report_{no_store}.csv"
        argv = ["report", "--warehouse", url, "--period", "day", "--tz", "UTC", "--out", str(out)]
        assert run(capsys, *argv, *(["--no-store"] if no_store else []))[0] == 0
        lines = out.read_text().splitlines()
        header = lines[0].split(",")
        row = next(dict(zip(header, line.split(","), strict=True)) for line in lines[1:] if "2026-03-02" in line)
        return row["appeal_rate_numerator"], row["appeal_rate_denominator"]

    assert run(capsys, "refresh", "--warehouse", url, "--quiet")[1].startswith("refresh: full, 1 appeals")
    assert day_rate(False) == ("1", "1")
    appeals.append({"appeal_id": "B", "enforcement_id": "EF", "queue": "q", "priority": "P1",
                    "created_at": "2026-03-02T16:00:00Z"})
    rewrite(tmp_path, {"appeals": appeals, "appeal_events": events, "enforcements": enforcements})
    assert run(capsys, "refresh", "--warehouse", url, "--quiet")[1].startswith("refresh: incremental")
    assert day_rate(False) == ("2", "2") == day_rate(True)


def test_an_untouched_warehouse_file_is_not_read_again(tmp_path, capsys, monkeypatch):
    """The file's identity (inode, size, mtime, ctime, WAL) recorded by the last refresh says
    "unchanged" without a query; anything that touches the file falls back to fingerprints."""
    import gc
    import shutil

    import duckdb

    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES})
    path = Path(url.split("///", 1)[1])
    assert refresh.refresh(url).mode == "full"
    # the fast path must not ask the warehouse anything: make every as-of question fail
    real_as_of = refresh.api.default_as_of

    def no_reading(_wh):
        raise AssertionError("the warehouse was read")

    monkeypatch.setattr(refresh.api, "default_as_of", no_reading)
    again = refresh.refresh(url)
    assert (again.mode, again.recomputed, again.total) == ("unchanged", 0, 3)
    assert again.reason == "the warehouse file is unchanged since the last refresh"
    assert again.as_of.isoformat() == "2026-03-02T14:00:00+00:00"  # c1, the latest instant
    monkeypatch.setattr(refresh.api, "default_as_of", real_as_of)

    # touched, not changed (a new mtime): the refresh reads, finds nothing changed, and notes
    # the new identity, so the look after that needs no reading again
    os.utime(path)
    touched = refresh.refresh(url)
    assert (touched.mode, touched.reason) == ("unchanged", "nothing changed")
    monkeypatch.setattr(refresh.api, "default_as_of", no_reading)
    assert refresh.refresh(url).reason == "the warehouse file is unchanged since the last refresh"
    monkeypatch.setattr(refresh.api, "default_as_of", real_as_of)

    # a late event for B written through DuckDB: the file changes, the refresh reads and finds it
    gc.collect()  # let go of this process's read-only connections first
    con = duckdb.connect(str(path))
    con.execute("insert into appeal_events (event_id, appeal_id, occurred_at, event_type, actor_id, actor_type, "
                "outcome) values ('b2', 'B', timestamptz '2026-03-02 16:00:00+00', 'decided', 's1', 'specialist', "
                "'overturned')")
    con.close()
    moved = refresh.refresh(url)
    # B (its new event) recomputed; A and C resolved before and unchanged: 1 of 3
    assert (moved.mode, moved.recomputed, moved.as_of.isoformat()) == ("incremental", 1, "2026-03-02T16:00:00+00:00")

    # the earlier file copied back over it (copy2 keeps the source's mtime; the ctime moves):
    # the refresh goes back to the fingerprints, which see B's decision gone
    old = tmp_path / "old.duckdb"
    make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES}, name="old.duckdb")
    gc.collect()
    shutil.copy2(old, path)
    back = refresh.refresh(url)
    assert back.mode != "unchanged" and back.as_of.isoformat() == "2026-03-02T14:00:00+00:00"


def test_a_warehouse_with_views_is_always_fingerprinted(tmp_path):
    """A view may read another file, so the file's identity cannot vouch for it."""
    import duckdb

    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS})
    con = duckdb.connect(url.split("///", 1)[1])
    con.execute("create view recent_appeals as select * from appeals")
    con.close()
    assert refresh.refresh(url).mode == "full"
    second = refresh.refresh(url)
    # nothing changed, found by fingerprinting the tables (the fingerprint path's wording)
    assert (second.mode, second.reason) == ("unchanged", "nothing changed")


def test_a_store_in_spark_is_refused_in_one_line(tmp_path, capsys):
    # the store lives in DuckDB or PostgreSQL; a Spark URL names a warehouse (docs/decisions.md 64)
    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES})
    code, out, err = run(capsys, "refresh", "--warehouse", url, "--store", "sc://localhost:15002?schema=s")
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "--store: a store lives in DuckDB or PostgreSQL" in line and "not in Spark" in line


def test_stored_facts_and_spans_keep_their_order(tmp_path, capsys):
    """metrics.store.STORED_ORDER: a full build stores the facts ordered by queue, then
    created_at, and the open stretches by open_to (open ones last); an incremental refresh keeps
    the unchanged rows in their order and appends the recomputed ones in that order. (Reports
    read the same rows in any order: this is for DuckDB's row-group skipping, bench/README.md.)

    A (q2, created 09:00, decided 12:00), B (q1, 10:00, open), C (q1, 08:00, decided 11:30),
    D (q2, 07:00, decided 12:30): facts C, B, D, A; each has one stretch, open from creation to
    its decision, so spans C (11:30), A (12:00), D (12:30), B (open). Then E (q1, 11:00) arrives
    and B is claimed: B and E are recomputed (B is open, E is new), A, C and D are kept. Facts:
    C, D, A, then B, E; spans: C, A, D, then B and E (both open: either order)."""
    import duckdb

    from metrics import api, store

    appeals = [{"appeal_id": a, "queue": q, "priority": "P1", "created_at": f"2026-03-02T{h}:00:00Z"}
               for a, q, h in (("A", "q2", "09"), ("B", "q1", "10"), ("C", "q1", "08"), ("D", "q2", "07"))]
    events = [{"event_id": f"{a}1", "appeal_id": a, "occurred_at": f"2026-03-02T{t}:00Z", "event_type": "decided",
               "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"}
              for a, t in (("A", "12:00"), ("C", "11:30"), ("D", "12:30"))]
    url = make_warehouse(tmp_path, {"appeals": appeals, "appeal_events": events, "sla_policies": POLICIES})

    def stored_order(table: str) -> list[str]:
        loc = store.location(api.open_warehouse(url))
        path = loc.folder / (loc.folder / "CURRENT").read_text().strip()
        with duckdb.connect(str(path), read_only=True) as con:
            return [r[0] for r in con.execute(f"select appeal_id from {table} order by rowid").fetchall()]

    assert run(capsys, "refresh", "--warehouse", url, "--quiet")[1].startswith("refresh: full, 4 appeals")
    assert stored_order("facts") == ["C", "B", "D", "A"]
    assert stored_order("spans") == ["C", "A", "D", "B"]
    appeals.append({"appeal_id": "E", "queue": "q1", "priority": "P1", "created_at": "2026-03-02T11:00:00Z"})
    events.append({"event_id": "B2", "appeal_id": "B", "occurred_at": "2026-03-02T13:00:00Z", "event_type": "claimed",
                   "actor_id": "s1", "actor_type": "specialist"})
    rewrite(tmp_path, {"appeals": appeals, "appeal_events": events, "sla_policies": POLICIES})
    out = run(capsys, "refresh", "--warehouse", url, "--quiet")[1]
    assert out.startswith("refresh: incremental, 2 appeals recomputed of 5")
    assert stored_order("facts") == ["C", "D", "A", "B", "E"]
    spans = stored_order("spans")
    assert spans[:3] == ["C", "A", "D"] and sorted(spans[3:]) == ["B", "E"]


def test_progress_only_moves_forward_and_names_each_phase(tmp_path):
    """The dashboard's progress bar and the CLI's lines follow these fractions: they never go
    back, and a full build names the ordering of the stored tables between releasing the
    models and computing the default views' reports (its seconds are measured apart)."""
    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES})
    seen: list[tuple[float, str]] = []
    refresh.refresh(url, progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    names = [m for _, m in seen]
    assert names.index("Releasing the computed models") + 1 == names.index(
        "Ordering the facts and open stretches for the reports' filters")
    assert names.index("Ordering the facts and open stretches for the reports' filters") + 1 == names.index(
        "Computing the default views' reports")


def test_a_killed_refresh_s_working_tables_do_not_stop_the_next(tmp_path, capsys):
    """A store in a named schema keeps its tables across refreshes; the working tables a
    refresh orders rows through (facts__next_recomputed, spans__next_ordered, ...) or compares
    the changed days' fingerprints in (fp_appeals__next_changed) are left
    there when it is killed. The next refresh, incremental or full, replaces them."""
    import gc

    import duckdb

    url = make_warehouse(tmp_path, {"appeals": APPEALS, "appeal_events": EVENTS, "sla_policies": POLICIES})
    path = tmp_path / "mine.duckdb"
    store = f"duckdb:///{path}?schema=team_store"
    assert run(capsys, "refresh", "--warehouse", url, "--store", store, "--quiet")[0] == 0
    gc.collect()
    with duckdb.connect(str(path)) as con:
        for t in ("facts__next_recomputed", "spans__next_recomputed", "facts__next_ordered", "spans__next_ordered",
                  "fp_appeals__next_changed"):
            con.execute(f'create table team_store."{t}" as select 1 as leftover')
    events = [*EVENTS, {"event_id": "b2", "appeal_id": "B", "occurred_at": "2026-03-02T15:00:00Z",
                        "event_type": "decided", "actor_id": "s1", "actor_type": "specialist", "outcome": "upheld"}]
    rewrite(tmp_path, {"appeals": APPEALS, "appeal_events": events, "sla_policies": POLICIES})
    code, out, _ = run(capsys, "refresh", "--warehouse", url, "--store", store, "--quiet")
    assert code == 0 and out.startswith("refresh: incremental, 1 appeals recomputed of 3")
    code, out, _ = run(capsys, "refresh", "--warehouse", url, "--store", store, "--full", "--quiet")
    assert code == 0 and out.startswith("refresh: full, 3 appeals recomputed of 3")
