"""The SLA digest a scheduler sends every morning: breached and soon-breaching open appeals by
queue, and the queues whose resolution-SLA attainment crossed below its target.

`python -m metrics digest --warehouse URL [--hours N] --out FILE.md|FILE.html|-` writes it;
with a webhook URL (`--webhook`, default the APPEALS_DIGEST_WEBHOOK_URL setting) it is also
posted as Slack-compatible JSON ({"text": ..., "blocks": [...]}).

Definitions (the same words as the dashboard):
- breached: open at as_of and its resolution deadline (`ttr_deadline_at`) is before as_of;
- due soon: open and its deadline is within [as_of, as_of + N hours] (api.at_risk's window);
- attainment: `ttr_sla_attainment` of the period (grain `week` by default) that holds as_of,
  to date, against the team's SLA target (`catalog.sla_target`, APPEALS_SLA_TARGET, default 90%); a queue "crosses" when it is below the target now and
  was on or above it in the period before. Queues with fewer than MIN_GROUP_SIZE decided SLAs
  are listed with their n and marked too few to compare.
Only ids, queues, priorities, owners and times are shown: no free text, so nothing personal
beyond the owner, who is pseudonymised on request (dashboard.pseudonymise, salt required).
"""

from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from metrics import api, dashboard, workload
from metrics.catalog import MIN_GROUP_SIZE, sla_target
from metrics.periods import previous_period, truncate
from metrics.warehouse import WarehouseError

WEBHOOK_SETTING = "APPEALS_DIGEST_WEBHOOK_URL"
LISTED_PER_QUEUE = 10  # appeals listed per queue and section; the counts are always complete
ROW_COLUMNS = ("appeal_id", "queue", "priority", "specialist_id", "created_at", "ttr_deadline_at", "hours_left")


@dataclass(frozen=True)
class QueueSla:
    queue: str
    attainment: float | None
    achieved: int
    decided: int
    previous: float | None
    target: float

    @property
    def below(self) -> bool:
        return self.attainment is not None and self.attainment < self.target

    @property
    def crossed(self) -> bool:
        """Below the target now, on or above it (or without decided SLAs) in the period before."""
        return self.below and (self.previous is None or self.previous >= self.target)

    @property
    def too_few(self) -> bool:
        return self.decided < MIN_GROUP_SIZE


@dataclass(frozen=True)
class Digest:
    as_of: datetime
    hours: float
    period: str
    period_start: object
    breached: pl.DataFrame  # ROW_COLUMNS, most overdue first
    due_soon: pl.DataFrame  # ROW_COLUMNS, least time left first
    counts: pl.DataFrame  # queue, breached, due_soon (every queue with either)
    queues: list[QueueSla]  # queues below target now, crossed first

    @property
    def breached_total(self) -> int:
        return int(self.counts["breached"].sum()) if self.counts.height else 0

    @property
    def due_soon_total(self) -> int:
        return int(self.counts["due_soon"].sum()) if self.counts.height else 0


def _rows(wh, as_of: datetime, where, filters) -> pl.DataFrame:
    rows, total = api.appeals(wh, as_of, filters, where=where, order_by="ttr_deadline_at",
                              limit=api.DRILL_LIMIT_MAX)
    if total > rows.height:  # more than one drill-down can hold: the counts must still be whole
        raise WarehouseError(f"--hours: {total:,} appeals match, more than the {api.DRILL_LIMIT_MAX:,} a digest "
                             "lists; use a shorter window or a queue filter")
    now = pl.lit(as_of).cast(pl.Datetime("us", "UTC"))
    return rows.with_columns(
        ((pl.col("ttr_deadline_at") - now).dt.total_seconds() / 3600).alias("hours_left")
    ).select(ROW_COLUMNS)


def build(url=None, hours: float = 24.0, as_of=None, tz: str = "UTC", period: str = "week",
          filters: dict | None = None, salt: str | None = None) -> Digest:
    """The digest as of `as_of` (default: the data's latest instant). With `salt`, owners are
    pseudonymised exactly as on the dashboard."""
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - unknown key, malformed name: one line naming the argument
        raise WarehouseError(f"--tz: unknown IANA time zone {str(tz)[:60]!r}") from None
    wh = api.open_warehouse(url)
    now = api.resolve_as_of(wh, as_of)
    # the dashboard's definitions (metrics.workload): breached = deadline before as_of; due = in [as_of, +N h]
    breached = _rows(wh, now, workload.breached_now(now), filters)
    due = _rows(wh, now, workload.due_within(now, hours), filters)
    if salt:
        breached, due = dashboard.pseudonymise(breached, salt), dashboard.pseudonymise(due, salt)
    counts = (
        pl.concat([breached.select("queue", pl.lit(1).alias("breached"), pl.lit(0).alias("due_soon")),
                   due.select("queue", pl.lit(0).alias("breached"), pl.lit(1).alias("due_soon"))])
        .group_by("queue").agg(pl.col("breached").sum(), pl.col("due_soon").sum())
        .sort(["breached", "due_soon", "queue"], descending=[True, True, False], nulls_last=True)
    )
    local_day = now.astimezone(zone).date()
    start = truncate(local_day, period)
    prev = previous_period(start, period)
    rep = api.report(wh, by=["queue"], period=period, date_from=prev, date_to=local_day, tz=tz, as_of=now,
                     metrics=["ttr_sla_attainment"], filters=filters)
    cur = {r["queue"]: r for r in rep.filter(pl.col("period_start") == start).iter_rows(named=True)}
    was = {r["queue"]: r for r in rep.filter(pl.col("period_start") == prev).iter_rows(named=True)}
    queues = [
        QueueSla(q, r["ttr_sla_attainment"], r["ttr_sla_attainment_numerator"] or 0,
                 r["ttr_sla_attainment_denominator"] or 0, (was.get(q) or {}).get("ttr_sla_attainment"), sla_target())
        for q, r in cur.items() if q is not None
    ]
    queues = sorted((q for q in queues if q.below), key=lambda q: (not q.crossed, q.too_few, q.attainment, q.queue))
    return Digest(now, float(hours), period, start, breached, due, counts, queues)


# -- rendering -----------------------------------------------------------------------------------

def _instant(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _left(hours: float) -> str:
    """Time left to the deadline, or how long past it: "12.0 h left", "1.5 d overdue"."""
    h = abs(hours)
    span = f"{h / 24:.1f} d" if h >= 48 else f"{h:.1f} h"
    return f"{span} overdue" if hours < 0 else f"{span} left"


def _sla_line(q: QueueSla) -> str:
    prev = f"{q.previous:.1%}" if q.previous is not None else "no decided SLAs"
    mark = "crossed below" if q.crossed else "still below"
    few = f"; n = {q.decided}, too few to compare" if q.too_few else ""
    return (f"{q.queue}: {q.attainment:.1%} of resolution SLAs met ({q.achieved} of {q.decided}), {mark} the "
            f"{q.target:.0%} target (period before: {prev}{few})")


def summary(d: Digest) -> str:
    return (f"{d.breached_total:,} open appeals past their resolution deadline, {d.due_soon_total:,} due in the next "
            f"{d.hours:g} h, {len(d.queues)} queue(s) below the resolution-SLA target")


def _queue_sections(d: Digest):
    """(queue, breached count, due count, breached rows, due rows) per queue, worst first."""
    for r in d.counts.iter_rows(named=True):
        q = r["queue"]
        match = pl.col("queue").is_null() if q is None else pl.col("queue") == q
        yield q, r["breached"], r["due_soon"], d.breached.filter(match), d.due_soon.filter(match)


def _row_text(r: dict) -> str:
    owner = r["specialist_id"] or "unassigned"
    return (f"{r['appeal_id']} · {r['priority'] or '—'} · {owner} · due {_instant(r['ttr_deadline_at'])} "
            f"({_left(r['hours_left'])})")


def to_markdown(d: Digest) -> str:
    lines = [f"# SLA digest, {_instant(d.as_of)}", "", summary(d) + ".", ""]
    lines += ["## Queues below the resolution-SLA target", ""]
    lines += [f"- {_sla_line(q)}" for q in d.queues] or ["- None: every queue is on target this "
                                                         f"{d.period} so far."]
    lines += ["", f"## Breached and due within {d.hours:g} h, by queue", ""]
    if not d.counts.height:
        lines.append(f"Nothing is breached or due within {d.hours:g} h.")
    for q, nb, nd, b, s in _queue_sections(d):
        lines += [f"### {q or '(no queue)'}: {nb:,} breached, {nd:,} due soon", ""]
        for title, rows, n in (("Breached", b, nb), (f"Due within {d.hours:g} h", s, nd)):
            if not n:
                continue
            lines.append(f"{title}:")
            lines += [f"- {_row_text(r)}" for r in rows.head(LISTED_PER_QUEUE).iter_rows(named=True)]
            if n > LISTED_PER_QUEUE:
                lines.append(f"- … and {n - LISTED_PER_QUEUE:,} more")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_html(d: Digest) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>SLA digest {e(_instant(d.as_of))}</title>"
             "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
             ".late{color:#b00020}</style></head><body>",
             f"<h1>SLA digest, {e(_instant(d.as_of))}</h1><p>{e(summary(d))}.</p>",
             "<h2>Queues below the resolution-SLA target</h2><ul>"]
    parts += [f"<li>{e(_sla_line(q))}</li>" for q in d.queues] or [f"<li>None: every queue is on target this "
                                                                    f"{e(d.period)} so far.</li>"]
    parts.append(f"</ul><h2>Breached and due within {d.hours:g} h, by queue</h2>")
    for q, nb, nd, b, s in _queue_sections(d):
        parts.append(f"<h3>{e(q or '(no queue)')}: {nb:,} breached, {nd:,} due soon</h3>")
        rows = pl.concat([b.head(LISTED_PER_QUEUE), s.head(LISTED_PER_QUEUE)])
        parts.append("<table><tr><th>Appeal</th><th>Priority</th><th>Owner</th><th>Due</th><th>Time left</th></tr>")
        for r in rows.iter_rows(named=True):
            cls = " class='late'" if r["hours_left"] < 0 else ""
            parts.append(f"<tr{cls}><td>{e(r['appeal_id'])}</td><td>{e(r['priority'] or '—')}</td>"
                         f"<td>{e(r['specialist_id'] or 'unassigned')}</td><td>{e(_instant(r['ttr_deadline_at']))}</td>"
                         f"<td>{e(_left(r['hours_left']))}</td></tr>")
        parts.append("</table>")
        more = max(nb - LISTED_PER_QUEUE, 0) + max(nd - LISTED_PER_QUEUE, 0)
        if more:
            parts.append(f"<p>… and {more:,} more.</p>")
    if not d.counts.height:
        parts.append(f"<p>Nothing is breached or due within {d.hours:g} h.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def check_out(out: str) -> None:
    """Refuse an --out the digest cannot be written as, before anything is computed."""
    suffix = Path(out).suffix.lower()
    if out != "-" and suffix not in (".md", ".html"):
        raise ValueError(f"--out: unsupported extension {suffix or '(none)'!r}; use .md, .html or -")


def write(d: Digest, out: str) -> str:
    """Write to `out` (.md, .html, or - for Markdown on standard output); returns the text written."""
    check_out(out)
    if out == "-":
        return to_markdown(d)
    path = Path(out)
    suffix = path.suffix.lower()
    text = to_html(d) if suffix == ".html" else to_markdown(d)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


# -- the webhook ---------------------------------------------------------------------------------

def slack_payload(d: Digest) -> dict:
    """Slack-compatible incoming-webhook JSON: `text` (the fallback every client shows) and
    section blocks in Slack's mrkdwn (also accepted by Mattermost and Teams' Slack connector)."""
    head = f"*SLA digest, {_instant(d.as_of)}*: {summary(d)}."
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    if d.queues:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(
            f"• {_sla_line(q)}" for q in d.queues)}})
    if d.counts.height:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(
            f"• *{q or '(no queue)'}*: {nb:,} breached, {nd:,} due within {d.hours:g} h"
            for q, nb, nd, _b, _s in _queue_sections(d))}})
    return {"text": head, "blocks": blocks}


def webhook_label(url: str) -> str:
    """The webhook without its secret path (a Slack webhook URL is its own credential)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"


def post(d: Digest, url: str, timeout: float = 10.0) -> int:
    """POST the payload; returns the HTTP status. Errors are one line naming --webhook,
    never the URL's secret path."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise WarehouseError(f"--webhook: expected an http(s) URL, got {webhook_label(url)}")
    body = json.dumps(slack_payload(d)).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) checked above
            return resp.status
    except urllib.error.HTTPError as exc:
        raise ConnectionError(f"--webhook: {webhook_label(url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectionError(f"--webhook: cannot post to {webhook_label(url)}: {reason}") from None
