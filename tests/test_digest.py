"""`python -m metrics digest`: breached and soon-breaching appeals by queue, queues below the
resolution-SLA target, and the Slack-compatible post to a real local HTTP server.

Hand-written warehouse (policy '*' P1: first touch 4 h, resolution 72 h, calendar clock);
as_of given as 2026-03-05 12:00Z (a Thursday; ISO week W10 starts Mon 03-02).
  B1  q1 P1 created 03-01 00:00, assigned s1, never decided -> deadline 03-04 00:00 < as_of:
      breached, 36 h overdue (12:00 - 00:00 on 03-05 = 36 h). Its SLA is decided at the
      deadline, in W10: q1 attainment W10 = 0 achieved / 1 decided = 0 % < 90 %; W09 has no
      decided SLA for q1 -> previous None -> "crossed below"; n = 1 < 20 -> too few.
  B2  q1 P2 created 03-03 00:00, open -> deadline 03-06 00:00: 12 h left -> due soon (24 h window).
  B3  q2 P1 created 03-04 12:00, open -> deadline 03-07 12:00: exactly 48 h left: due with
      --hours 48 (the window is closed at both ends), not with the default 24.
  C1  q2 P1 created 03-02 00:00, claimed 01:00, decided upheld 10:00 -> achieved (10 h <= 72 h)
      in W10: q2 attainment 1 / 1 = 100 % -> not below target, not listed.
Defaults: 1 breached (q1), 1 due soon (q1); --hours 48: 1 breached, 2 due soon (q1 B2, q2 B3).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.helpers import make_warehouse
from tests.test_cli import run_cli

AS_OF = "2026-03-05T12:00:00Z"
P = {"first_touch_target_hours": 4.0, "resolution_target_hours": 72.0, "clock": "calendar"}
ROWS = {
    "appeals": [
        {"appeal_id": "B1", "queue": "q1", "priority": "P1", "created_at": "2026-03-01T00:00:00Z"},
        {"appeal_id": "B2", "queue": "q1", "priority": "P2", "created_at": "2026-03-03T00:00:00Z"},
        {"appeal_id": "B3", "queue": "q2", "priority": "P1", "created_at": "2026-03-04T12:00:00Z"},
        {"appeal_id": "C1", "queue": "q2", "priority": "P1", "created_at": "2026-03-02T00:00:00Z"},
    ],
    "appeal_events": [
        {"event_id": "e1", "appeal_id": "B1", "occurred_at": "2026-03-01T00:30:00Z", "event_type": "assigned",
         "actor_id": "s1", "actor_type": "specialist"},
        {"event_id": "e2", "appeal_id": "C1", "occurred_at": "2026-03-02T01:00:00Z", "event_type": "claimed",
         "actor_id": "s2", "actor_type": "specialist"},
        {"event_id": "e3", "appeal_id": "C1", "occurred_at": "2026-03-02T10:00:00Z", "event_type": "decided",
         "actor_id": "s2", "actor_type": "specialist", "outcome": "upheld"},
    ],
    "sla_policies": [{"queue": "*", "priority": "P1", **P}, {"queue": "*", "priority": "P2", **P}],
}


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    return make_warehouse(tmp_path_factory.mktemp("digest"), ROWS)


def test_digest_counts_and_lines(url):
    from metrics import digest

    d = digest.build(url, as_of=AS_OF)
    assert (d.breached_total, d.due_soon_total) == (1, 1)
    assert d.breached.select("appeal_id", "hours_left").rows() == [("B1", -36.0)]
    assert d.due_soon.select("appeal_id", "hours_left").rows() == [("B2", 12.0)]
    assert d.counts.rows() == [("q1", 1, 1)]
    (q,) = d.queues
    assert (q.queue, q.attainment, q.achieved, q.decided, q.previous, q.crossed, q.too_few) == \
        ("q1", 0.0, 0, 1, None, True, True)
    wide = digest.build(url, as_of=AS_OF, hours=48)
    assert wide.due_soon.select("appeal_id", "hours_left").rows() == [("B2", 12.0), ("B3", 48.0)]
    assert wide.counts.rows() == [("q1", 1, 1), ("q2", 0, 1)]


def test_digest_cli_markdown_to_stdout(url):
    proc = run_cli("digest", "--warehouse", url, "--as-of", AS_OF, "--no-store", "--out", "-")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "1 open appeals past their resolution deadline, 1 due in the next 24 h, 1 queue(s) below" in text
    assert ("- q1: 0.0% of resolution SLAs met (0 of 1), crossed below the 90% target "
            "(period before: no decided SLAs; n = 1, too few to compare)") in text
    assert "### q1: 1 breached, 1 due soon" in text
    assert "- B1 · P1 · s1 · due 2026-03-04 00:00 UTC (36.0 h overdue)" in text
    assert "- B2 · P2 · unassigned · due 2026-03-06 00:00 UTC (12.0 h left)" in text
    assert "q2" not in text  # 100 % attainment, nothing due in 24 h


def test_digest_html_file_and_bad_arguments(url, tmp_path):
    out = tmp_path / "d.html"
    proc = run_cli("digest", "--warehouse", url, "--as-of", AS_OF, "--hours", "48", "--no-store", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("wrote the digest (1 open appeals past their resolution deadline, 2 due")
    html = out.read_text()
    assert "<h3>q2: 0 breached, 1 due soon</h3>" in html and "<td>2.0 d left</td>" in html  # 48 h: shown in days from 48 h
    assert "<tr class='late'><td>B1</td>" in html
    for argv, name in ((["--hours", "soon"], "--hours"), (["--hours", "-3"], "--hours"),
                       (["--out", str(tmp_path / "d.txt")], "--out"), (["--tz", "Mars/Base"], "--tz")):
        args = ["digest", "--warehouse", url, "--as-of", AS_OF, "--no-store", "--out", "-", *argv]
        proc = run_cli(*args)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and name in proc.stderr, proc.stderr


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    _Hook.received = []
    _Hook.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_digest_posts_slack_json_to_a_local_server(url, hook, tmp_path):
    port = hook.server_address[1]
    secret = f"http://127.0.0.1:{port}/services/T000/B000/secrettoken"
    proc = run_cli("digest", "--warehouse", url, "--as-of", AS_OF, "--no-store", "--webhook", secret,
                   "--out", str(tmp_path / "d.md"))
    assert proc.returncode == 0, proc.stderr
    assert f"posted to http://127.0.0.1:{port}/… (HTTP 200)" in proc.stderr
    assert "secrettoken" not in proc.stdout + proc.stderr
    ((path, ctype, payload),) = _Hook.received
    assert path == "/services/T000/B000/secrettoken" and ctype == "application/json"
    assert payload["text"] == ("*SLA digest, 2026-03-05 12:00 UTC*: 1 open appeals past their resolution deadline, "
                               "1 due in the next 24 h, 1 queue(s) below the resolution-SLA target.")
    assert [b["type"] for b in payload["blocks"]] == ["section", "section", "section"]
    assert payload["blocks"][2]["text"]["text"] == "• *q1*: 1 breached, 1 due within 24 h"


def test_digest_webhook_failure_is_one_line_without_the_secret(url, hook, tmp_path):
    _Hook.status = 500
    port = hook.server_address[1]
    out = tmp_path / "d.md"
    proc = run_cli("digest", "--warehouse", url, "--as-of", AS_OF, "--no-store", "--webhook",
                   f"http://127.0.0.1:{port}/hooks/secrettoken", "--out", str(out))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"error: --webhook: http://127.0.0.1:{port}/… answered HTTP 500"
    assert out.exists()  # the digest itself was written before the post


def test_digest_pseudonymises_owners(url, monkeypatch):
    from metrics import dashboard, digest

    salt = "a-test-salt-of-32-characters-xyz"
    d = digest.build(url, as_of=AS_OF, salt=salt)
    assert d.breached["specialist_id"].to_list() == [dashboard.pseudonyms(["s1"], salt)["s1"]]
    text = digest.to_markdown(d)
    assert "· s1 ·" not in text and f"· {dashboard.pseudonyms(['s1'], salt)['s1']} ·" in text
    proc = run_cli("digest", "--warehouse", url, "--as-of", AS_OF, "--no-store", "--pseudonymise", "--out", "-")
    assert proc.returncode == 2 and "--pseudonymise" in proc.stderr  # no salt in the environment
