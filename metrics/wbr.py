"""The weekly business review: headline numbers, movers and why, SLA risks, anomalies.

Every number comes from `api.report` (so it reconciles with the dashboard and the CLI);
this module only picks what moved and says it in sentences a manager can paste.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from metrics import api
from metrics.catalog import METRICS, MIN_GROUP_SIZE
from metrics.formatting import format_value
from metrics.warehouse import WarehouseError

HEADLINE = [
    "appeals_created",
    "appeals_resolved",
    "ttr_p50_hours",
    "ttr_p90_hours",
    "ftr_p50_hours",
    "ftr_sla_attainment",
    "ttr_sla_attainment",
    "overturn_rate",
    "backlog_open",
    "backlog_breached",
    "qa_accuracy",
    "appeal_rate",
]


def parse_week(text: str) -> date:
    m = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip())
    if not m:
        raise WarehouseError(f"--week: expected YYYY-Www (e.g. 2026-W46), got {text!r}")
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise WarehouseError(f"--week: no such ISO week {text!r}") from None


def fmt_value(name: str, value) -> str:
    return format_value(METRICS[name], value, missing="n/a")


def fmt_change(name: str, now, before) -> str:
    if now is None or before is None:
        return "no comparison"
    m = METRICS[name]
    if m.unit == "ratio":
        diff = (now - before) * 100
        return f"{diff:+.1f} pp"
    if before == 0:
        return "new" if now else "flat"
    return f"{(now - before) / before * 100:+.1f}%"


def _verdict(name: str, now, before) -> str:
    m = METRICS[name]
    if now is None or before is None or m.higher_is_better is None or now == before:
        return ""
    better = (now > before) == m.higher_is_better
    return " (better)" if better else " (worse)"


@dataclass
class Wbr:
    week: date
    headline: pl.DataFrame
    sentences: list[str]
    queue_table: pl.DataFrame
    theme_table: pl.DataFrame
    sla_risks: list[str]
    anomalies: list[str]


def build(url, week: str, as_of=None, tz: str = "UTC") -> Wbr:
    wh = api.prepare(url, as_of)  # one facts computation for the dozen reports below
    start = parse_week(week)
    prev = start - timedelta(days=7)
    end = start + timedelta(days=6)
    total = api.report(wh, by=[], period="week", date_from=prev, date_to=end, as_of=as_of, tz=tz)
    if total.filter(pl.col("period_start") == start).height == 0:
        raise WarehouseError(f"--week: nothing happened in {week} in this warehouse (as of {api.resolve_as_of(wh, as_of):%Y-%m-%d})")
    cur = total.filter(pl.col("period_start") == start).row(0, named=True)
    before_rows = total.filter(pl.col("period_start") == prev)
    bef = before_rows.row(0, named=True) if before_rows.height else {}

    rows = []
    sentences = []
    for name in HEADLINE:
        now, was = cur.get(name), bef.get(name)
        rows.append({"metric": METRICS[name].label, "this_week": fmt_value(name, now), "last_week": fmt_value(name, was),
                     "change": fmt_change(name, now, was)})
        if name in ("appeals_created", "ttr_p50_hours", "ttr_sla_attainment", "overturn_rate", "backlog_open"):
            extra = ""
            if METRICS[name].kind.has_parts and cur.get(f"{name}_denominator"):
                extra = f" ({cur[f'{name}_numerator']:,} of {cur[f'{name}_denominator']:,})"
            sentences.append(
                f"{METRICS[name].label} was {fmt_value(name, now)}{extra} in {week}, "
                f"{fmt_change(name, now, was)} week over week{_verdict(name, now, was)}."
            )
    headline = pl.DataFrame(rows)

    by_queue = api.report(wh, by=["queue"], period="week", date_from=prev, date_to=end, as_of=as_of, tz=tz)
    queue_table, queue_sentences, sla_risks = _queues(by_queue, start, prev)
    sentences += queue_sentences
    sentences += _why(wh, by_queue, start, prev, end, as_of, tz)
    sentences += _backlog_by_site(wh, start, prev, end, as_of, tz)

    by_theme = api.report(wh, by=["theme"], period="week", date_from=prev, date_to=end, as_of=as_of, tz=tz,
                          metrics=["overturn_rate"])
    theme_table, theme_sentences = _themes(by_theme, start, prev)
    sentences += theme_sentences

    anomalies = _anomalies(wh, start, end, as_of, tz)
    at_risk, n_risk = api.at_risk(wh, as_of=as_of, within_hours=24, limit=1)
    if n_risk:
        sla_risks.append(f"{n_risk:,} open appeals reach their resolution deadline within the next 24 hours.")
    return Wbr(start, headline, sentences, queue_table, theme_table, sla_risks, anomalies)


def _pick(frame: pl.DataFrame, period: date, key: str) -> dict[str, dict]:
    return {r[key]: r for r in frame.filter(pl.col("period_start") == period).iter_rows(named=True)}


def _queues(by_queue: pl.DataFrame, start: date, prev: date):
    now, was = _pick(by_queue, start, "queue"), _pick(by_queue, prev, "queue")
    table_rows, moves, risks = [], [], []
    for q in sorted(now):
        c, p = now[q], was.get(q, {})
        table_rows.append({
            "queue": q,
            "created": c["appeals_created"],
            "created_change": fmt_change("appeals_created", c["appeals_created"], p.get("appeals_created")),
            "resolved": c["appeals_resolved"],
            "ttr_p50_hours": None if c["ttr_p50_hours"] is None else round(c["ttr_p50_hours"], 1),
            "resolution_sla": fmt_value("ttr_sla_attainment", c["ttr_sla_attainment"]),
            "overturn_rate": fmt_value("overturn_rate", c["overturn_rate"]),
            "overturn_change": fmt_change("overturn_rate", c["overturn_rate"], p.get("overturn_rate")),
            "backlog_breached": c["backlog_breached"],
        })
        if c["overturn_rate"] is not None and p.get("overturn_rate") is not None \
                and c["overturn_rate_denominator"] >= MIN_GROUP_SIZE:
            moves.append((abs(c["overturn_rate"] - p["overturn_rate"]), "overturn", q, c, p))
        if p.get("appeals_created"):
            change = (c["appeals_created"] - p["appeals_created"]) / p["appeals_created"]
            if abs(change) >= 0.2 and c["appeals_created"] >= MIN_GROUP_SIZE:
                moves.append((abs(change), "volume", q, c, p))
        att = c["ttr_sla_attainment"]
        if att is not None and c["ttr_sla_attainment_denominator"] >= MIN_GROUP_SIZE:
            prev_att = p.get("ttr_sla_attainment")
            if att < 0.9 or (prev_att is not None and prev_att - att >= 0.05):
                risks.append(
                    f"{q}: resolution SLA attainment {fmt_value('ttr_sla_attainment', att)} "
                    f"({c['ttr_sla_attainment_numerator']:,} of {c['ttr_sla_attainment_denominator']:,} met), "
                    f"{fmt_change('ttr_sla_attainment', att, prev_att)} week over week; "
                    f"{c['backlog_breached']:,} open appeals already past their deadline."
                )
    moves.sort(key=lambda m: m[0], reverse=True)
    sentences = []
    for _, move, q, c, p in moves[:4]:
        if move == "overturn":
            direction = "rose" if c["overturn_rate"] > p["overturn_rate"] else "fell"
            sentences.append(
                f"In {q}, the overturn rate {direction} from {fmt_value('overturn_rate', p['overturn_rate'])} to "
                f"{fmt_value('overturn_rate', c['overturn_rate'])} ({c['overturn_rate_numerator']:,} of "
                f"{c['overturn_rate_denominator']:,} decisions overturned)."
            )
        else:
            direction = "up" if c["appeals_created"] > p["appeals_created"] else "down"
            sentences.append(
                f"{q} intake was {direction} {fmt_change('appeals_created', c['appeals_created'], p['appeals_created'])} "
                f"({c['appeals_created']:,} appeals vs {p['appeals_created']:,})."
            )
    return pl.DataFrame(table_rows), sentences, risks


def _why(wh, by_queue: pl.DataFrame, start: date, prev: date, end: date, as_of, tz) -> list[str]:
    """For the queue whose overturns grew most, which theme and which enforcer drove it."""
    now, was = _pick(by_queue, start, "queue"), _pick(by_queue, prev, "queue")
    growth = sorted(
        ((c["overturn_rate_numerator"] - (was.get(q) or {}).get("overturn_rate_numerator", 0), q) for q, c in now.items()),
        reverse=True,
    )
    if not growth or growth[0][0] <= 0:
        return []
    extra, queue = growth[0]
    out = []
    for key, label in (("theme", "theme"), ("enforced_by", "enforced by")):
        rep = api.report(wh, by=["queue", key], period="week", date_from=prev, date_to=end, as_of=as_of, tz=tz,
                         metrics=["overturn_rate"], filters={"queue": [queue]})
        cur = {r[key]: r["overturn_rate_numerator"] for r in rep.filter(pl.col("period_start") == start).iter_rows(named=True)}
        bef = {r[key]: r["overturn_rate_numerator"] for r in rep.filter(pl.col("period_start") == prev).iter_rows(named=True)}
        deltas = sorted(((cur.get(k, 0) - bef.get(k, 0), k) for k in set(cur) | set(bef) if k is not None), reverse=True)
        if deltas and deltas[0][0] > 0:
            d, k = deltas[0]
            out.append(
                f"Why {queue}: overturns {label} {str(k).replace('_', ' ')} went from {bef.get(k, 0):,} to "
                f"{cur.get(k, 0):,} ({d:+,}), while the queue's overturns changed by {extra:+,} in all."
            )
    return out


def _backlog_by_site(wh, start: date, prev: date, end: date, as_of, tz) -> list[str]:
    rep = api.report(wh, by=["site"], period="week", date_from=prev, date_to=end, as_of=as_of, tz=tz,
                     metrics=["backlog_open"])
    now, was = _pick(rep, start, "site"), _pick(rep, prev, "site")
    moves = sorted(
        ((c["backlog_open"] - (was.get(s) or {}).get("backlog_open", 0), s) for s, c in now.items() if s is not None),
        reverse=True,
    )
    if not moves or moves[0][0] <= 0:
        return []
    d, site = moves[0]
    before = (was.get(site) or {}).get("backlog_open", 0)
    return [f"Open backlog at the {site} site grew by {d:,} ({before:,} → {now[site]['backlog_open']:,}) over the week."]


def _themes(by_theme: pl.DataFrame, start: date, prev: date):
    now, was = _pick(by_theme, start, "theme"), _pick(by_theme, prev, "theme")
    rows = []
    for theme in sorted(k for k in set(now) | set(was) if k is not None):
        n = (now.get(theme) or {}).get("overturn_rate_numerator") or 0
        b = (was.get(theme) or {}).get("overturn_rate_numerator") or 0
        rows.append({"theme": theme, "overturns_this_week": n, "overturns_last_week": b, "change": n - b})
    table = pl.DataFrame(rows, schema={"theme": pl.Utf8, "overturns_this_week": pl.Int64,
                                       "overturns_last_week": pl.Int64, "change": pl.Int64})
    sentences = []
    total = int(table["overturns_this_week"].sum()) if table.height else 0
    if total:
        top = table.sort("overturns_this_week", descending=True).row(0, named=True)
        sentences.append(
            f"The largest overturn theme was {top['theme'].replace('_', ' ')}: {top['overturns_this_week']:,} of "
            f"{total:,} overturns ({top['overturns_this_week'] / total:.0%}), {top['change']:+,} week over week."
        )
        mover = table.sort(pl.col("change").abs(), descending=True).row(0, named=True)
        if mover["theme"] != top["theme"] and mover["change"]:
            sentences.append(
                f"Biggest theme mover: {mover['theme'].replace('_', ' ')} "
                f"({mover['overturns_last_week']:,} → {mover['overturns_this_week']:,})."
            )
    return table, sentences


def _anomalies(wh, start: date, end: date, as_of, tz) -> list[str]:
    """Specialists whose overturn rate sits outside the 99.8% funnel limits of their peers."""
    rep = api.report(wh, by=["specialist_id"], period="week", date_from=start, date_to=end, as_of=as_of, tz=tz,
                     metrics=["overturn_rate"])
    rep = rep.filter(pl.col("specialist_id").is_not_null() & (pl.col("overturn_rate_denominator") > 0))
    if rep.height == 0:
        return []
    p = rep["overturn_rate_numerator"].sum() / rep["overturn_rate_denominator"].sum()
    out = []
    for r in rep.iter_rows(named=True):
        n = r["overturn_rate_denominator"]
        if n < MIN_GROUP_SIZE:
            continue
        limit = 3.09 * math.sqrt(p * (1 - p) / n)
        if abs(r["overturn_rate"] - p) > limit:
            side = "above" if r["overturn_rate"] > p else "below"
            out.append(
                f"Specialist {r['specialist_id']} overturned {r['overturn_rate_numerator']} of {n} "
                f"({r['overturn_rate']:.0%}), {side} the 99.8% limit around the team rate of {p:.0%}: "
                "worth a calibration review."
            )
    return out


def to_markdown(w: Wbr) -> str:
    week = f"{w.week.isocalendar().year}-W{w.week.isocalendar().week:02d}"
    lines = [f"# Appeals weekly business review — {week} (week of {w.week:%d %b %Y})", "", "## Summary", ""]
    lines += [f"- {s}" for s in w.sentences]
    lines += ["", "## SLA risks", ""] + ([f"- {s}" for s in w.sla_risks] or ["- No queue is below 90% resolution SLA attainment."])
    lines += ["", "## Anomalies", ""] + ([f"- {s}" for s in w.anomalies] or ["- None beyond control limits."])
    lines += ["", "## Headline metrics", "", _md_table(w.headline), "", "## Queues", "", _md_table(w.queue_table),
              "", "## Overturn themes", "", _md_table(w.theme_table), ""]
    return "\n".join(lines)


def _md_table(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "_no rows_"
    head = "| " + " | ".join(frame.columns) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, sep, *body])


def to_html(markdown: str) -> str:
    out, in_table, in_list = [], False, False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             "th{background:#f3f3f3}")
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>{''.join(out)}</body></html>"


def render(url, week: str, out: str | None = None, as_of=None) -> str:
    text = to_markdown(build(url, week, as_of))
    if out:
        path = Path(out)
        if path.suffix.lower() not in (".md", ".html"):
            raise ValueError(f"--out: unsupported extension {path.suffix!r}; use .md or .html")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_html(text) if path.suffix.lower() == ".html" else text)
    return text
