"""A small, made-up Zendesk account as the Fivetran connector syncs it, to try the adapter.

`generate()` builds the Fivetran tables (`ticket`, `ticket_comment`, `ticket_field_history`,
`user`, `group`, `ticket_tag`, `schedule`, `schedule_holiday`) deterministically from a seed;
the committed copy is data/sample_zendesk/*.parquet with its config `zendesk.yml` (README there).
The tickets carry what real exports carry and the adapter must read right: bot
acknowledgements, agent-created (phone) tickets submitted as pending, requests for evidence
with and without a message, agents taking tickets out of pending, the legacy `on-hold`
spelling, reopens, escalations, tickets closed long ago with no status history, and tickets of
a group that is not an appeals queue.

    python -m metrics.adapters.zendesk_sample              # check + weekly report on the sample
    python -m metrics.adapters.zendesk_sample --dashboard  # the dashboard on it
    python -m metrics.adapters.zendesk_sample --write      # regenerate the committed Parquet files
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_DIR = ROOT / "data" / "sample_zendesk"
CONFIG_PATH = SAMPLE_DIR / "zendesk.yml"
TABLES = ("user", "group", "ticket", "ticket_comment", "ticket_field_history", "ticket_tag", "schedule",
          "schedule_holiday")

START = datetime(2026, 2, 2)  # a Monday; four ISO weeks, 2026-W06 to 2026-W09
END = datetime(2026, 3, 1, 23, 59)
OUTCOME_FIELD = "360000000001"
MARKET_FIELD = "360000000003"
GROUPS = [(360001000001, "Appeals - Accounts"), (360001000002, "Appeals - Listings"),
          (360001000003, "Appeals - Payments"), (360001000008, "Billing"), (360001000009, "Policy Escalations")]
APPEAL_GROUPS = GROUPS[:3]
BILLING, ESCALATIONS = GROUPS[3][0], GROUPS[4][0]
BOT = 360100000001
AGENTS = [(360200000001 + i, name, tz) for i, (name, tz) in enumerate([
    ("Ana Alves", "Berlin"), ("Bo Berg", "Berlin"), ("Cy Cole", "London"), ("Dee Diaz", "Madrid"),
    ("Eli Eze", "Eastern Time (US & Canada)"), ("Fay Fox", "Pacific Time (US & Canada)")])]
SCHEDULE_ID = 360000500001
OUTCOMES = [("appeal_upheld", 0.55), ("appeal_overturned", 0.3), ("appeal_partially_overturned", 0.15)]
ROOT_CAUSES = ["rc_automation_false_positive", "rc_agent_error", "rc_new_evidence", "rc_policy_misapplied"]
MARKETS = ["DE", "GB", "US", "FR", "ES"]
VIA = [("web", 0.5), ("email", 0.25), ("mobile_sdk", 0.2), ("api", 0.05)]
PRIORITIES = [("urgent", 0.05), ("high", 0.2), ("normal", 0.6), ("low", 0.1), (None, 0.05)]


def _pick(rng: random.Random, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def generate(n_tickets: int = 400, seed: int = 16) -> dict[str, pl.DataFrame]:
    """The Fivetran Zendesk tables of a made-up appeals team, the same for the same arguments."""
    rng = random.Random(seed)
    users = [(BOT, "Appeals Bot", "agent", "UTC", "en-US")]
    users += [(i, n, "agent" if k % 3 else "admin", tz, "en-US") for k, (i, n, tz) in enumerate(AGENTS)]
    tickets, comments, history, tags = [], [], [], []
    comment_id = [700000000]

    def comment(ticket_id, user_id, at, public=True, body=""):
        comment_id[0] += 1
        comments.append((comment_id[0], ticket_id, user_id, at, public, body))

    def change(ticket_id, field, at, user_id, value):
        history.append((ticket_id, field, at, user_id, value))

    for n in range(n_tickets):
        tid = 50001 + n
        requester = 900000 + n
        users.append((requester, f"Appellant {n + 1}", "end-user", rng.choice(["Berlin", "London", "UTC"]),
                      rng.choice(["de", "en-GB", "en-US", "fr", "es"])))
        day = rng.randrange(28)
        created = START + timedelta(days=day, hours=rng.randrange(6, 21), minutes=rng.randrange(60))
        group_id = BILLING if rng.random() < 0.08 else rng.choice(APPEAL_GROUPS)[0]
        priority = _pick(rng, PRIORITIES)
        via = _pick(rng, VIA)
        agent = rng.choice(AGENTS)[0]
        status, t, final_assignee, current_group = "new", created, None, group_id
        roll = rng.random()

        if day < 7 and roll < 0.15:
            # imported long ago: closed, no field history at all (a public reply, then the close)
            comment(tid, requester, created, body="Please review my account suspension")
            comment(tid, agent, created + timedelta(hours=rng.randrange(2, 20)), body="We reviewed your appeal")
            updated = created + timedelta(days=rng.randrange(2, 6))
            tickets.append((tid, created, updated, "closed", priority, group_id, agent, requester, requester, via,
                            f"enf-{tid}"))
            continue

        agent_created = roll > 0.93
        if agent_created:  # a phone appeal written down by the agent, submitted as pending
            via = "voice"
            comment(tid, agent, created, body="Appeal taken by phone; please send the order number")
            change(tid, "status", created, agent, "pending")
            status, final_assignee = "pending", agent
            change(tid, "assignee_id", created, agent, str(agent))
        else:
            comment(tid, requester, created, body="I would like to appeal this decision")
            change(tid, "status", created, requester, "new")
        change(tid, "group_id", created, requester, str(group_id))
        change(tid, "priority", created, requester, priority or "")
        change(tid, MARKET_FIELD, created, requester, rng.choice(MARKETS))
        if rng.random() < 0.5 and not agent_created:
            comment(tid, BOT, created + timedelta(minutes=1), body="We received your appeal")
        if not agent_created:
            t = created + timedelta(minutes=rng.randrange(10, 240))
            change(tid, "assignee_id", t, -1, str(agent))  # routed by a trigger (Zendesk's user -1)
            final_assignee = agent
            t += timedelta(hours=rng.randrange(1, 20), minutes=rng.randrange(60))
            if rng.random() < 0.3:  # asks for evidence: the public comment and pending in one update
                comment(tid, agent, t, body="Please send us the invoice")
                change(tid, "status", t, agent, "pending")
                status = "pending"
            elif rng.random() < 0.1:  # sets pending without writing: no touch
                comment(tid, agent, t, public=False, body="Waiting for the payment provider")
                change(tid, "status", t, agent, "pending")
                status = "pending"
            else:
                comment(tid, agent, t, body="We are reviewing your appeal")
                change(tid, "status", t, agent, "open")
                status = "open"
        if status == "pending":
            t += timedelta(hours=rng.randrange(4, 60))
            if rng.random() < 0.75:  # the requester answers: pending → open in the same update
                comment(tid, requester, t, body="Here is what you asked for")
                change(tid, "status", t, requester, "open")
                status = "open"
            elif rng.random() < 0.5:  # the agent takes it out of pending without a reply
                change(tid, "status", t, agent, "open")
                status = "open"
        if status == "open" and rng.random() < 0.1:  # waiting on a third party
            t += timedelta(hours=rng.randrange(1, 8))
            change(tid, "status", t, agent, "on-hold" if rng.random() < 0.5 else "hold")  # older exports: on-hold
            status = "hold"
            if rng.random() < 0.4:
                change(tid, "group_id", t, agent, str(ESCALATIONS))
                comment(tid, agent, t, public=False, body="Escalated to Policy")
                current_group = ESCALATIONS
            if rng.random() < 0.7:
                t += timedelta(hours=rng.randrange(4, 30))
                change(tid, "status", t, agent, "open")
                status = "open"
        rounds = 0 if status == "hold" else 2 if rng.random() < 0.08 else 1
        for r in range(rounds):
            t += timedelta(hours=rng.randrange(2, 50))
            if t > END or rng.random() < 0.04:
                break
            outcome = _pick(rng, OUTCOMES)
            comment(tid, agent, t, public=False, body="Decision rationale: " + outcome.replace("appeal_", ""))
            comment(tid, agent, t, body="We have decided on your appeal")
            change(tid, OUTCOME_FIELD, t, agent, outcome)
            change(tid, "status", t, agent, "solved")
            status = "solved"
            if r + 1 < rounds:  # the requester replies to the solved ticket: reopened
                t += timedelta(hours=rng.randrange(2, 30))
                if t > END:
                    break
                comment(tid, requester, t, body="I do not agree")
                change(tid, "status", t, requester, "open")
                status = "open"
        if status == "solved":
            tags.append((tid, rng.choice(ROOT_CAUSES)))
            if t + timedelta(days=4) <= END:  # Zendesk closes solved tickets after four days
                t += timedelta(days=4)
                change(tid, "status", t, -1, "closed")
                status = "closed"
        tickets.append((tid, created, t, "on-hold" if status == "hold" else status, priority, current_group,
                        final_assignee, requester, agent if agent_created else requester, via, f"enf-{tid}"))

    ts = pl.Datetime("us")
    berlin = [(1980 + d * 1440, 2460 + d * 1440) for d in range(5)]  # Mon..Fri 09:00-17:00
    return {
        "user": pl.DataFrame(users, schema={"id": pl.Int64, "name": pl.Utf8, "role": pl.Utf8, "time_zone": pl.Utf8,
                                            "locale": pl.Utf8}, orient="row"),
        "group": pl.DataFrame(GROUPS, schema={"id": pl.Int64, "name": pl.Utf8}, orient="row"),
        "ticket": pl.DataFrame(tickets, schema={
            "id": pl.Int64, "created_at": ts, "updated_at": ts, "status": pl.Utf8, "priority": pl.Utf8,
            "group_id": pl.Int64, "assignee_id": pl.Int64, "requester_id": pl.Int64, "submitter_id": pl.Int64,
            "via_channel": pl.Utf8, "external_id": pl.Utf8}, orient="row"),
        "ticket_comment": pl.DataFrame(comments, schema={
            "id": pl.Int64, "ticket_id": pl.Int64, "user_id": pl.Int64, "created": ts, "public": pl.Boolean,
            "body": pl.Utf8}, orient="row"),
        "ticket_field_history": pl.DataFrame(
            [(tid, f, at, u, v or None) for tid, f, at, u, v in history],
            schema={"ticket_id": pl.Int64, "field_name": pl.Utf8, "updated": ts, "user_id": pl.Int64,
                    "value": pl.Utf8}, orient="row"),
        "ticket_tag": pl.DataFrame(tags, schema={"ticket_id": pl.Int64, "tag": pl.Utf8}, orient="row"),
        "schedule": pl.DataFrame([(SCHEDULE_ID, "Berlin office", "Berlin", s, e) for s, e in berlin], schema={
            "id": pl.Int64, "name": pl.Utf8, "time_zone": pl.Utf8, "start_time": pl.Int64, "end_time": pl.Int64},
            orient="row"),
        "schedule_holiday": pl.DataFrame([(1, SCHEDULE_ID, date(2026, 2, 16), date(2026, 2, 16), "Closed day")],
                                         schema={"id": pl.Int64, "schedule_id": pl.Int64, "start_date": pl.Date,
                                                 "end_date": pl.Date, "name": pl.Utf8}, orient="row"),
    }


def write_parquet(out_dir: str | Path = SAMPLE_DIR, **kwargs) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in generate(**kwargs).items():
        frame.write_parquet(out_dir / f"{name}.parquet", compression="zstd")


def ensure_duckdb(sample_dir: str | Path = SAMPLE_DIR) -> Path:
    """`sample_dir/zendesk.duckdb`, built from its Parquet files when missing or older (not committed)."""
    import duckdb

    sample_dir = Path(sample_dir)
    path = sample_dir / "zendesk.duckdb"
    sources = [sample_dir / f"{name}.parquet" for name in TABLES]
    missing = [p.name for p in sources if not p.exists()]
    if missing:
        raise FileNotFoundError(f"Zendesk sample Parquet files missing in {sample_dir}: {', '.join(missing)}")
    if path.exists() and path.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return path
    tmp = sample_dir / f".zendesk.{os.getpid()}.{uuid.uuid4().hex[:8]}.duckdb"
    try:
        con = duckdb.connect(str(tmp))
        try:
            for name in TABLES:
                con.register("_incoming", pl.read_parquet(sample_dir / f"{name}.parquet").to_arrow())
                con.execute(f'create table "{name}" as select * from _incoming')
                con.unregister("_incoming")
        finally:
            con.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.adapters.zendesk_sample",
                                     description="Try the Zendesk adapter on the bundled Zendesk-shaped sample.")
    parser.add_argument("--dashboard", action="store_true", help="start the dashboard on the sample")
    parser.add_argument("--write", action="store_true", help="regenerate data/sample_zendesk/*.parquet")
    args = parser.parse_args(argv)
    if args.write:
        write_parquet()
        print(f"wrote {SAMPLE_DIR}/*.parquet")
        return 0
    url = f"duckdb:///{ensure_duckdb()}"
    if args.dashboard:
        env = {**os.environ, "APPEALS_WAREHOUSE_URL": url, "APPEALS_ADAPTER": "zendesk",
               "APPEALS_ADAPTER_CONFIG": str(CONFIG_PATH)}
        streamlit = Path(sys.executable).with_name("streamlit")
        os.execve(str(streamlit), [str(streamlit), "run", str(ROOT / "app.py")], env)
    from metrics import api
    from metrics.adapters import open_adapted

    wh = open_adapted("zendesk", url, CONFIG_PATH)
    facts = api.facts(wh)
    print(f"Zendesk sample: {facts.height} appeals read through {CONFIG_PATH.relative_to(ROOT)}")
    print(facts.group_by("status").len().sort("status"))
    print("data checks:")
    for c in api.check(wh):
        print("  " + c.line())
    with pl.Config(tbl_cols=-1, tbl_width_chars=160):
        print(api.report(wh, by=["queue"], period="week",
                         metrics=["appeals_created", "appeals_resolved", "ttr_p50_hours", "ftr_p50_hours",
                                  "overturn_rate"]))
    print(f"\nthe same through the CLI:\n  python -m metrics report --warehouse {url} --adapter zendesk "
          f"--adapter-config {CONFIG_PATH.relative_to(ROOT)} --by queue --out -")
    print("the dashboard:\n  python -m metrics.adapters.zendesk_sample --dashboard")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
