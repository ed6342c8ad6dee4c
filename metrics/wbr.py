"""The weekly business review: what moved most and why, drift, SLA risks, anomalies.

Every number comes from `api.report` (so it reconciles with the dashboard and the CLI) computed
**as of the end of the week** under review: a review of an October week says what was known
then, and its risks "for the next days" are those open at that week's end. This module picks
what moved, ranks each move against its own week-to-week noise, explains it (mix and rate
effects, metrics.drivers; holidays in `holidays`; new model or policy versions) and says it in
sentences a manager can paste.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from metrics import api, drivers, impact
from metrics import dashboard as views
from metrics.annotations import ScheduleLinks
from metrics.catalog import METRICS, MIN_GROUP_SIZE, sla_target
from metrics.contract import SANE_FIRST_DAY, SANE_LAST_DAY
from metrics.formatting import format_value, markdown_text
from metrics.kinds import Movement
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
SUMMARY = ("appeals_created", "ttr_p50_hours", "ttr_sla_attainment", "overturn_rate", "backlog_open")
HISTORY_WEEKS = 16  # weeks of history behind each noise estimate and drift test
MATERIAL = 3.0  # a move is material at 3× its usual week-to-week change
LEAD_MOVES = 3
DRIVER_KEYS = ("queue", "priority", "market", "enforcement_source", "site")
DRIFT_METRICS = ("ttr_p50_hours", "ttr_sla_attainment", "ftr_sla_attainment", "overturn_rate")
KEY_LABELS = {"queue": "queue", "priority": "priority", "market": "market", "enforcement_source": "enforcement source",
              "site": "site"}


def parse_week(text: str) -> date:
    m = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip())
    if not m:
        raise WarehouseError(f"--week: expected YYYY-Www (e.g. 2026-W46), got {text!r}")
    try:
        start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise WarehouseError(f"--week: no such ISO week {text!r}") from None
    if not SANE_FIRST_DAY + timedelta(days=7) <= start <= SANE_LAST_DAY - timedelta(days=6):
        raise WarehouseError(f"--week: {text.strip()} is outside the years this product reads "
                             f"({SANE_FIRST_DAY.year}–{SANE_LAST_DAY.year})")
    return start


def week_name(start: date) -> str:
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _signed(value: float, digits: int = 1) -> str:
    """+1.2 / −0.4; a value that rounds to zero is "0.0", never "-0.0"."""
    text = f"{value:+.{digits}f}"
    return f"{0:.{digits}f}" if float(text) == 0 else text


def fmt_value(name: str, value) -> str:
    return format_value(METRICS[name], value, missing="n/a")


def fmt_change(name: str, now, before) -> str:
    if now is None or before is None:
        return "no comparison"
    m = METRICS[name]
    if m.unit == "ratio":
        return f"{_signed((now - before) * 100)} pp"
    if before == 0:
        return "new" if now else "flat"
    return f"{_signed((now - before) / before * 100)}%"


def fmt_delta(name: str, delta: float) -> str:
    """An absolute change in the metric's unit: +21.4 pp, +5.9 h, +359."""
    m = METRICS[name]
    if m.unit == "ratio":
        return f"{_signed(delta * 100)} pp"
    if m.unit == "hours":
        return f"{_signed(delta)} h"
    return f"{int(round(delta)):+,}" if round(delta) else "0"


def _verdict(name: str, now, before) -> str:
    m = METRICS[name]
    if now is None or before is None or m.higher_is_better is None or now == before:
        return ""
    better = (now > before) == m.higher_is_better
    return " (better)" if better else " (worse)"


@dataclass
class Move:
    metric: str
    now: float
    before: float
    noise: float | None

    @property
    def change(self) -> float:
        return self.now - self.before

    @property
    def score(self) -> float:
        """The change in units of its usual week-to-week change (0 without enough history)."""
        return abs(self.change) / self.noise if self.noise else 0.0


@dataclass
class Wbr:
    week: date
    as_of: datetime
    headline: pl.DataFrame
    sentences: list[str]
    queue_table: pl.DataFrame
    theme_table: pl.DataFrame
    sla_risks: list[str]
    anomalies: list[str]
    moves: list[str] = field(default_factory=list)
    drifts: list[str] = field(default_factory=list)
    trends: dict[str, list[tuple[date, float | None]]] = field(default_factory=dict)
    tz: str = "UTC"  # the reporting zone: weeks run Monday 00:00 to Sunday 24:00 on its clocks


def zone(tz: str) -> ZoneInfo:
    """The IANA zone of `--tz`, or a one-line error naming the argument."""
    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise WarehouseError(f"--tz: unknown IANA time zone {str(tz)[:60]!r}") from None


def effective_as_of(latest: datetime, start: date, tz: str = "UTC") -> datetime:
    """The end of the week in the reporting zone (its last microsecond: local Monday 00:00 after
    it, as an instant), or the data's as-of when earlier."""
    end = datetime.combine(start + timedelta(days=7), time.min, zone(tz)).astimezone(UTC) - timedelta(microseconds=1)
    return min(latest, end)


def build(url, week: str, as_of=None, tz: str = "UTC") -> Wbr:
    start = parse_week(week)
    zone(tz)
    wh = api.open_warehouse(url)
    latest = api.resolve_as_of(wh, as_of)
    eff = effective_as_of(latest, start, tz)
    wh = api.prepare(wh, eff)  # one facts computation, as of the week's end, for every report below
    prev = start - timedelta(days=7)
    end = start + timedelta(days=6)
    hist = start - timedelta(weeks=HISTORY_WEEKS - 1)
    weeks = views.period_starts(hist, end, "week")

    def rep(by=(), metrics=None, date_from=hist, filters=None):
        return api.report(wh, by=list(by), period="week", date_from=date_from, date_to=end, as_of=eff, tz=tz,
                          metrics=metrics, filters=filters)

    total = rep(metrics=HEADLINE)
    if total.filter(pl.col("period_start") == start).height == 0:
        raise WarehouseError(f"--week: nothing happened in {week} in this warehouse (as of {latest:%Y-%m-%d})")
    series = views.complete_periods(total, weeks, HEADLINE)
    cur = series.filter(pl.col("period_start") == start).row(0, named=True)
    bef = (series.filter(pl.col("period_start") == prev).row(0, named=True)
           if total.filter(pl.col("period_start") == prev).height else {})
    trends = {name: list(zip(series["period_start"].to_list(), series[name].to_list(), strict=True))
              for name in HEADLINE}

    moves = []
    rows = []
    for name in HEADLINE:
        now, was = cur.get(name), bef.get(name)
        values = series[name].to_list()
        noise = drivers.noise(values)
        move = Move(name, now, was, noise) if now is not None and was is not None else None
        if move is not None and move.change and move.score >= MATERIAL:
            moves.append(move)
        rows.append({"Metric": METRICS[name].label, "This week": fmt_value(name, now), "Last week": fmt_value(name, was),
                     "Change": fmt_change(name, now, was),
                     "Usual weekly change": "n/a" if noise is None else "±" + fmt_delta(name, noise).lstrip("+"),
                     "Size vs usual": "n/a" if move is None or not noise else f"{move.score:.1f}×"})
    headline = pl.DataFrame(rows)
    moves.sort(key=lambda m: m.score, reverse=True)

    context = _Context(wh, start, prev, end, eff, tz, rep)
    lead = [_explain(context, m) for m in moves[:LEAD_MOVES]]

    sentences = []
    for name in SUMMARY:
        now, was = cur.get(name), bef.get(name)
        extra = ""
        if METRICS[name].kind.has_parts and cur.get(f"{name}_denominator"):
            extra = f" ({cur[f'{name}_numerator']:,} of {cur[f'{name}_denominator']:,})"
        sentences.append(
            f"{METRICS[name].label} was {fmt_value(name, now)}{extra} in {week}, "
            f"{fmt_change(name, now, was)} week over week{_verdict(name, now, was)}."
        )

    by_queue = rep(("queue",), ["appeals_created", "appeals_resolved", "ttr_p50_hours", "ttr_sla_attainment",
                                "ftr_sla_attainment", "overturn_rate", "backlog_breached"])
    drifts, drift_by_queue = _drifts(by_queue, weeks, start)
    queue_table, queue_sentences = _queues(by_queue, weeks, start, prev, drift_by_queue)
    sentences += queue_sentences
    sentences += _why(wh, by_queue, start, prev, end, eff, tz)
    sentences += _backlog_by_site(context)

    by_theme = rep(("theme",), ["overturn_rate"], date_from=prev)
    theme_table, theme_sentences = _themes(by_theme, total, start, prev)
    sentences += theme_sentences

    anomalies = _anomalies(wh, start, end, eff, tz)
    sla_risks = _sla_risks(by_queue, weeks, start, drift_by_queue)
    _rows, n_risk = api.at_risk(wh, as_of=eff, within_hours=24, limit=1)
    sla_risks.append(
        f"At the end of {week} ({_instant(eff, tz)}), {n_risk:,} open appeals were due to reach their resolution "
        "deadline within the next 24 hours." if n_risk else
        f"At the end of {week} ({_instant(eff, tz)}), no open appeal was due within the next 24 hours."
    )
    return Wbr(start, eff, headline, sentences, queue_table, theme_table, sla_risks, anomalies, lead, drifts, trends,
               tz)


def _instant(at: datetime, tz: str = "UTC") -> str:
    """An instant on the reporting zone's clock, the zone named: "Sun 1 Nov 2026, 24:00 UTC"."""
    at = at.astimezone(zone(tz))
    if at.microsecond == 999_999 and at.hour == 23 and at.minute == 59:
        return f"{at:%a %-d %b %Y}, 24:00 {tz}"
    return f"{at:%a %-d %b %Y %H:%M} {tz}"


@dataclass
class _Context:
    wh: object
    start: date
    prev: date
    end: date
    as_of: datetime
    tz: str
    rep: object
    _holidays: dict | None = None

    def holidays(self) -> dict[str, list[date]]:
        """schedule_id → its holidays inside the week under review (from `holidays`)."""
        if self._holidays is None:
            self._holidays = _holidays_in(self.wh, self.start, self.end, self.as_of)
        return self._holidays


# -- why a headline number moved ------------------------------------------------------------------


def _explain(ctx: _Context, move: Move) -> str:
    name = move.metric
    m = METRICS[name]
    direction = "rose" if move.change > 0 else "fell"
    verdict = _verdict(name, move.now, move.before).strip(" ()")
    text = (f"{m.label} {direction} from {fmt_value(name, move.before)} to {fmt_value(name, move.now)} "
            f"({fmt_delta(name, move.change)}{', ' + verdict if verdict else ''}), "
            f"{move.score:.0f}× its usual week-to-week change (±{fmt_delta(name, move.noise).lstrip('+')}).")
    found = _drivers(ctx, move)
    if found:
        key, group, sentence = found
        text += " " + sentence
        cause = _cause(ctx, key, group)
        if cause:
            text += " " + cause
    if name in ("overturn_rate", "appeals_created"):
        text += "".join(" " + s for s in _new_versions(ctx))
    return text


def _drivers(ctx: _Context, move: Move):
    """(key, group, sentence): the breakdown in which one group explains most of the move."""
    name = move.metric
    m = METRICS[name]
    best = None
    for key in DRIVER_KEYS:
        frame = ctx.rep((key,), [name], date_from=ctx.prev).filter(pl.col(key).is_not_null())
        now = frame.filter(pl.col("period_start") == ctx.start)
        was = frame.filter(pl.col("period_start") == ctx.prev)
        if m.kind.movement is Movement.RATE_AND_MIX:
            num, den = f"{name}_numerator", f"{name}_denominator"
            parts = drivers.decompose_rate({r[key]: (r[num] or 0, r[den] or 0) for r in was.iter_rows(named=True)},
                                           {r[key]: (r[num] or 0, r[den] or 0) for r in now.iter_rows(named=True)})
        elif m.kind.movement is Movement.ADDITIVE:
            parts = drivers.decompose_count({r[key]: r[name] or 0 for r in was.iter_rows(named=True)},
                                            {r[key]: r[name] or 0 for r in now.iter_rows(named=True)})
        else:
            parts = _percentile_shift(was, now, key, name)
        if not parts:
            continue
        share = abs(parts[0].total) / abs(move.change)  # how much of the move one group carries
        if best is None or share > best[0]:
            best = (share, key, parts)
    if best is None:
        return None
    _, key, parts = best
    top = parts[0]
    label = KEY_LABELS[key]
    if m.kind.movement is Movement.RATE_AND_MIX:
        mix = sum(p.mix for p in parts)
        rate = sum(p.rate for p in parts)
        sentence = (f"By {label}: the groups' own rates moved it {fmt_delta(name, rate)} (rate effect) and their "
                    f"shifting mix {fmt_delta(name, mix)} (mix effect); most of it in {label} {top.group} "
                    f"({fmt_delta(name, top.total)}: {fmt_value(name, top.before)} → {fmt_value(name, top.now)}).")
    elif m.kind.movement is Movement.ADDITIVE:
        sentence = (f"Most of it in {label} {top.group}: {fmt_value(name, top.before)} → {fmt_value(name, top.now)} "
                    f"({fmt_delta(name, top.total)} of {fmt_delta(name, move.change)}).")
    else:
        sentence = (f"The distribution moved most in {label} {top.group}: {fmt_value(name, top.before)} → "
                    f"{fmt_value(name, top.now)}.")
    return key, top.group, sentence


def _percentile_shift(was: pl.DataFrame, now: pl.DataFrame, key: str, name: str) -> list[drivers.Contribution]:
    """The group whose own percentile moved most (a percentile does not split into group parts;
    the `rate` field carries that group's shift)."""
    before = {r[key]: r[name] for r in was.iter_rows(named=True)}
    out = []
    for r in now.iter_rows(named=True):
        b = before.get(r[key])
        if b is None or r[name] is None:
            continue
        out.append(drivers.Contribution(r[key], 0.0, r[name] - b, b, r[name]))
    return sorted(out, key=lambda c: (-abs(c.rate), c.group))[:1]


def _cause(ctx: _Context, key: str, group: str) -> str:
    """A holiday in `holidays` on the schedule that the driving site or queue works to."""
    holidays = ctx.holidays()
    if not holidays:
        return ""
    schedules = _schedules_of(ctx.wh, key, group, ctx.as_of)
    hit = sorted((d, s) for s in schedules for d in holidays.get(s, []))
    if not hit:
        return ""
    days = ", ".join(f"{d:%a %-d %b %Y}" for d, _ in hit)
    sched = ", ".join(sorted({s for _, s in hit}))
    return (f"Cause: a public holiday — the {sched} schedule that {KEY_LABELS[key]} {group} works to was closed "
            f"on {days} (in the holidays table).")


def _new_versions(ctx: _Context) -> list[str]:
    """Model versions (enforced_by of automated enforcements) and policies with decisions this
    week and none the week before: a version change is a likely cause of an overturn move."""
    out = []
    for key, what, filters in (("enforced_by", "model version", {"enforcement_source": ["automated"]}),
                               ("policy", "policy", None)):
        frame = ctx.rep((key,), ["overturn_rate"], date_from=ctx.prev, filters=filters)
        frame = frame.filter(pl.col(key).is_not_null())
        before = {r[key] for r in frame.filter(pl.col("period_start") == ctx.prev).iter_rows(named=True)
                  if r["overturn_rate_denominator"]}
        for r in frame.filter(pl.col("period_start") == ctx.start).sort(key).iter_rows(named=True):
            if r[key] not in before and (r["overturn_rate_denominator"] or 0) >= MIN_GROUP_SIZE:
                out.append(f"New this week: {what} {r[key]} ({r['overturn_rate_numerator']:,} of "
                           f"{r['overturn_rate_denominator']:,} decisions on its enforcements overturned, "
                           f"{fmt_value('overturn_rate', r['overturn_rate'])}).")
    return out


def _holidays_in(wh, start: date, end: date, as_of: datetime) -> dict[str, list[date]]:
    return api.holidays(wh, start, end, as_of)


def _schedules_of(wh, key: str, group: str, as_of: datetime) -> set[str]:
    """Schedules a site works to (its specialists' time zone is the schedule's) or a queue's
    business-clock SLA policies use (per priority its own row, else the `*` row): the rule the
    dashboard's holiday annotations follow (metrics.annotations.ScheduleLinks)."""
    links = ScheduleLinks.of(*api.schedule_links(wh, as_of), ())
    if key == "site":
        return links.staff_schedules(sites=[group])
    if key == "queue":
        return links.policy_schedules(queues=[group])
    return set()


# -- queues: moves, drift, risks ----------------------------------------------------------------------


def _pick(frame: pl.DataFrame, period: date, key: str) -> dict[str, dict]:
    return {r[key]: r for r in frame.filter(pl.col("period_start") == period).iter_rows(named=True)}


def _queue_series(by_queue: pl.DataFrame, weeks: list[date], queue: str, metric: str) -> list[float | None]:
    sub = {r["period_start"]: r[metric] for r in by_queue.filter(pl.col("queue") == queue).iter_rows(named=True)}
    return [sub.get(w) for w in weeks]


def _drifts(by_queue: pl.DataFrame, weeks: list[date], start: date):
    """Queues whose metric has drifted for several weeks up to this one (a robust trend test)."""
    out, found = [], {}
    for q in sorted(v for v in set(by_queue["queue"].to_list()) if v is not None):
        for name in DRIFT_METRICS:
            d = drivers.find_drift(weeks, _queue_series(by_queue, weeks, q, name))
            if d is None or weeks[-1] != start:
                continue
            m = METRICS[name]
            if m.higher_is_better is not None and (d.direction > 0) == m.higher_is_better:
                continue  # only drift for the worse is a risk worth a sentence
            found[(q, name)] = d
            word = "risen" if d.direction > 0 else "fallen"
            out.append(
                f"{q}: {m.label} has {word} for {d.weeks} weeks (since {week_name(d.since)}): "
                f"{fmt_value(name, d.first)} in {week_name(d.since)} → {fmt_value(name, d.last)} in "
                f"{week_name(start)}, against {fmt_value(name, d.baseline)} before "
                f"(about {fmt_delta(name, d.slope)} a week; Mann–Kendall p = {d.p_value:.3f}). "
                "A drift, not a one-week move."
            )
    return out, found


def _queues(by_queue: pl.DataFrame, weeks: list[date], start: date, prev: date, drift: dict):
    now, was = _pick(by_queue, start, "queue"), _pick(by_queue, prev, "queue")
    table_rows, moves = [], []
    for q in sorted(now):
        c, p = now[q], was.get(q, {})
        table_rows.append({
            "Queue": q,
            "Created": c["appeals_created"],
            "Created change": fmt_change("appeals_created", c["appeals_created"], p.get("appeals_created")),
            "Resolved": c["appeals_resolved"],
            "TTR p50": fmt_value("ttr_p50_hours", c["ttr_p50_hours"]),
            "Resolution SLA": fmt_value("ttr_sla_attainment", c["ttr_sla_attainment"]),
            "Overturn rate": fmt_value("overturn_rate", c["overturn_rate"]),
            "Overturn change": fmt_change("overturn_rate", c["overturn_rate"], p.get("overturn_rate")),
            "Open past deadline": c["backlog_breached"],
        })
        for name, size in (("overturn_rate", "overturn_rate_denominator"), ("appeals_created", "appeals_created")):
            if c[name] is None or p.get(name) is None or (c[size] or 0) < MIN_GROUP_SIZE or c[name] == p[name]:
                continue
            noise = drivers.noise(_queue_series(by_queue, weeks, q, name))
            score = abs(c[name] - p[name]) / noise if noise else 0.0
            if score >= 2.0 or (noise is None and name == "overturn_rate"):
                moves.append((score, name, q, c, p))
    moves.sort(key=lambda m: (-m[0], m[2]))
    sentences = []
    for score, name, q, c, p in moves[:4]:
        vs_noise = f", {score:.1f}× its usual weekly change" if score else ""
        tail = ""
        if (q, name) in drift:
            tail = f" It is part of a {drift[(q, name)].weeks}-week drift (below)."
        if name == "overturn_rate":
            direction = "rose" if c["overturn_rate"] > p["overturn_rate"] else "fell"
            sentences.append(
                f"In {q}, the overturn rate {direction} from {fmt_value('overturn_rate', p['overturn_rate'])} to "
                f"{fmt_value('overturn_rate', c['overturn_rate'])} ({c['overturn_rate_numerator']:,} of "
                f"{c['overturn_rate_denominator']:,} decisions overturned{vs_noise}).{tail}"
            )
        else:
            direction = "up" if c["appeals_created"] > p["appeals_created"] else "down"
            sentences.append(
                f"{q} intake was {direction} {fmt_change('appeals_created', c['appeals_created'], p['appeals_created'])} "
                f"({c['appeals_created']:,} appeals vs {p['appeals_created']:,}{vs_noise}).{tail}"
            )
    return pl.DataFrame(table_rows), sentences


def _sla_risks(by_queue: pl.DataFrame, weeks: list[date], start: date, drift: dict) -> list[str]:
    """Queues out of the resolution-SLA target this week, or drifting towards it."""
    target = sla_target()
    out = []
    for q, c in sorted(_pick(by_queue, start, "queue").items()):
        att = c["ttr_sla_attainment"]
        if att is None or (c["ttr_sla_attainment_denominator"] or 0) < MIN_GROUP_SIZE:
            continue
        d = drift.get((q, "ttr_sla_attainment"))
        heading = d is not None and att + d.slope < target
        if att >= target and not heading:
            continue
        status = (f"below the {target:.0%} target" if att < target
                  else f"still on target but heading below {target:.0%} next week at this pace")
        trend = (f", falling for {d.weeks} weeks (about {fmt_delta('ttr_sla_attainment', d.slope)} a week)"
                 if d is not None else "")
        out.append(
            f"{q}: resolution SLA attainment {fmt_value('ttr_sla_attainment', att)} "
            f"({c['ttr_sla_attainment_numerator']:,} of {c['ttr_sla_attainment_denominator']:,} met), {status}{trend}; "
            f"{c['backlog_breached']:,} open appeals past their deadline at the week's end."
        )
    return out


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


def _backlog_by_site(ctx: _Context) -> list[str]:
    rep = ctx.rep(("site",), ["backlog_open"], date_from=ctx.prev)
    now, was = _pick(rep, ctx.start, "site"), _pick(rep, ctx.prev, "site")
    moves = sorted(
        ((c["backlog_open"] - (was.get(s) or {}).get("backlog_open", 0), s) for s, c in now.items() if s is not None),
        reverse=True,
    )
    if not moves or moves[0][0] <= 0:
        return []
    d, site = moves[0]
    before = (was.get(site) or {}).get("backlog_open", 0)
    text = f"Open backlog at the {site} site grew by {d:,} ({before:,} → {now[site]['backlog_open']:,}) over the week."
    cause = _cause(ctx, "site", site)
    return [f"{text} {cause}" if cause else text]


def _themes(by_theme: pl.DataFrame, total: pl.DataFrame, start: date, prev: date):
    now, was = _pick(by_theme, start, "theme"), _pick(by_theme, prev, "theme")
    rows = []
    for theme in sorted(k for k in set(now) | set(was) if k is not None):
        n = (now.get(theme) or {}).get("overturn_rate_numerator") or 0
        b = (was.get(theme) or {}).get("overturn_rate_numerator") or 0
        rows.append({"Theme": theme.replace("_", " "), "Overturns this week": n, "Overturns last week": b,
                     "Change": n - b})
    table = pl.DataFrame(rows, schema={"Theme": pl.Utf8, "Overturns this week": pl.Int64,
                                       "Overturns last week": pl.Int64, "Change": pl.Int64})
    sentences = []
    count = int(table["Overturns this week"].sum()) if table.height else 0
    if count:
        top = table.sort("Overturns this week", descending=True).row(0, named=True)
        sentences.append(
            f"The largest overturn theme was {top['Theme']}: {top['Overturns this week']:,} of "
            f"{count:,} overturns ({top['Overturns this week'] / count:.0%}), {top['Change']:+,} week over week."
        )
        movers = impact.theme_movers(by_theme, start, prev)
        shares = impact.theme_shares(by_theme, total.filter(pl.col("period_start").is_in([start, prev])))
        shares = shares.filter(pl.col("period_start") == start)
        if movers.height and movers["is_mover"][0]:
            mv = movers.row(0, named=True)
            drop = shares.filter(pl.col("theme") == mv["theme"])
            worth = ""
            if drop.height and mv["change"] > 0:
                worth = (f"; fixing it would have cut this week's overturn rate by "
                         f"{drop['rate_drop'][0] * 100:.1f} pp")
            sentences.append(
                f"Biggest theme mover: {mv['theme'].replace('_', ' ')} ({mv['previous']:,} → {mv['current']:,}, "
                f"{mv['z']:+.1f} standard errors){worth}."
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


# -- export -------------------------------------------------------------------------------------------

SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    return "".join(" " if v is None else SPARKS[min(7, int((v - lo) / span * 7.999))] for v in values)


def to_markdown(w: Wbr) -> str:
    week = week_name(w.week)
    last = w.week + timedelta(days=6)
    lines = [f"# Appeals weekly business review — {week} ({w.week:%-d %b} – {last:%-d %b %Y})", "",
             f"_Every number is as of the end of the week ({_instant(w.as_of, w.tz)}); weeks run Monday to Sunday "
             f"in {w.tz}; moves are ranked by their size against each metric's usual week-to-week change over the "
             f"{HISTORY_WEEKS} weeks before._", ""]
    lines += ["## What moved most", ""] + (_md_items(w.moves)
                                           or ["- Nothing moved more than three times its usual weekly change."])
    if w.drifts:
        lines += ["", "## Drift over several weeks", ""] + _md_items(w.drifts)
    lines += ["", "## Summary", ""] + _md_items(w.sentences)
    lines += ["", "## SLA risks", ""] + _md_items(w.sla_risks)
    lines += ["", "## Anomalies", ""] + (_md_items(w.anomalies) or ["- None beyond control limits."])
    if w.trends:
        rows = []
        for name, points in w.trends.items():
            values = [v for _, v in points]
            known = [v for v in values if v is not None]
            rows.append({"Metric": METRICS[name].label, f"Last {len(points)} weeks": sparkline(values),
                         "Low": fmt_value(name, min(known)) if known else "n/a",
                         "High": fmt_value(name, max(known)) if known else "n/a"})
        lines += ["", "## Trends", "", _md_table(pl.DataFrame(rows))]
    lines += ["", "## Headline metrics", "", _md_table(w.headline), "", "## Queues", "", _md_table(w.queue_table),
              "", "## Overturn themes", "", _md_table(w.theme_table), ""]
    return "\n".join(lines)


def _md_items(sentences: list[str]) -> list[str]:
    """Sentences carry warehouse text (queue, theme and policy names): escaped so a name shows as
    itself in any Markdown viewer, never as a link, emphasis or a broken table."""
    return [f"- {markdown_text(s)}" for s in sentences]


def _md_table(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "_no rows_"
    head = "| " + " | ".join(markdown_text(c) for c in frame.columns) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join("" if v is None else markdown_text(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, sep, *body])


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_ESCAPE = re.compile(r"\\(.)")


def _unescape(text: str) -> str:
    """The text behind markdown_text's backslash escapes (for the HTML rendering)."""
    return _ESCAPE.sub(r"\1", text)


def svg_chart(points: list[tuple[date, float | None]], name: str, width: int = 260, height: int = 70) -> str:
    """A small line chart as inline SVG (no script, no fonts or files to fetch): renders offline."""
    values = [v for _, v in points]
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    title = html.escape(METRICS[name].label)
    if len(known) < 2:
        return f"<figure><figcaption>{title}: not enough data</figcaption></figure>"
    lo, hi = min(v for _, v in known), max(v for _, v in known)
    span = (hi - lo) or 1.0
    pad = 6

    def xy(i, v):
        x = pad + i * (width - 2 * pad) / max(1, len(values) - 1)
        y = height - pad - (v - lo) / span * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(i, v) for i, v in known)
    li, lv = known[-1]
    cx, cy = xy(li, lv).split(",")
    desc = html.escape(f"{METRICS[name].label}: {fmt_value(name, lo)} to {fmt_value(name, hi)}, "
                       f"latest {fmt_value(name, lv)}")
    return (f"<figure class='spark'><svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' role='img' aria-label='{desc}'>"
            f"<polyline fill='none' stroke='#4c78a8' stroke-width='2' points='{line}'/>"
            f"<circle cx='{cx}' cy='{cy}' r='3.5' fill='#f58518'/></svg>"
            f"<figcaption>{title}: {html.escape(fmt_value(name, lv))} "
            f"<span class='range'>({html.escape(fmt_value(name, lo))} – {html.escape(fmt_value(name, hi))})</span>"
            "</figcaption></figure>")


def to_html(source: str | Wbr) -> str:
    """A self-contained HTML page (inline style and SVG charts, nothing fetched over the network)."""
    w = source if isinstance(source, Wbr) else None
    markdown = to_markdown(w) if w is not None else source
    out, in_table, in_list = [], False, False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [html.escape(_unescape(c.strip())) for c in _UNESCAPED_PIPE.split(line.strip()[1:-1])]
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
            out.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
            if line[3:] == "Trends" and w is not None:
                out.append("<div class='charts'>" + "".join(svg_chart(p, n) for n, p in w.trends.items()) + "</div>")
        elif line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222;line-height:1.45}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             "th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:12px}"
             "figure{margin:0;font-size:13px}.range{color:#777}code{background:#f3f3f3;padding:0 3px}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Appeals weekly business review</title>"
            f"<style>{style}</style></head><body>{''.join(out)}</body></html>")


def _inline(text: str) -> str:
    """A whole line in _emphasis_ (the review's own note) or escaped text (sentences with names)."""
    whole = re.fullmatch(r"_(.+)_", text)
    if whole:
        return f"<em>{html.escape(whole.group(1))}</em>"
    return html.escape(_unescape(text))


def render(url, week: str, out: str | None = None, as_of=None, tz: str = "UTC") -> str:
    review = build(url, week, as_of, tz)
    text = to_markdown(review)
    if out and out != "-":  # "-": Markdown on standard output, as `report --out -` writes CSV there
        path = Path(out)
        if path.suffix.lower() not in (".md", ".html"):
            raise ValueError(f"--out: unsupported extension {path.suffix!r}; use .md or .html")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_html(review) if path.suffix.lower() == ".html" else text)
    return text
