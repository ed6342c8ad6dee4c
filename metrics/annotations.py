"""Annotations on time charts: what happened on a day that explains a move (a policy launch, a
model rollout, a holiday). Two sources, one frame:

- the `holidays` table (closed days of the business-hours schedules, as the SLA clocks read it);
- a small CSV file the team maintains (setting APPEALS_ANNOTATIONS_FILE; the sample ships
  data/sample/annotations.csv). Format, one row per event, header required:

      date,label,kind,queue
      2026-10-05,Counterfeit policy v3 live,policy_launch,
      2026-10-26,Listing model v2.4 rollout,model_rollout,listing_removal

  `date` (YYYY-MM-DD, a calendar day in the reporting time zone) and `label` are required;
  `kind` is one of KINDS (default `other`); `queue` limits the note to one queue's charts
  (empty: every chart). Lines starting with # are comments.

A bad file is refused with one line naming the file, the line and the column; nothing is
silently dropped.

Holidays apply where their schedule does (warehouse.md ties a schedule to appeals two ways):
through `sla_policies` (a queue's business-clock policy for a priority, else the `*` policy
of that priority) and through the specialists who work to it (their time zone is the
schedule's). A chart filtered to queues, priorities, sites or pods shows the holidays of the
schedules those reach (`applicable_schedules`); an unfiltered chart shows every holiday,
labelled with its schedule, the sites and the queues it serves (`from_holidays`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from metrics.periods import truncate

KINDS = ("policy_launch", "model_rollout", "holiday", "incident", "other")
KIND_LABELS = {"policy_launch": "Policy launch", "model_rollout": "Model rollout", "holiday": "Holiday",
               "incident": "Incident", "other": "Note"}
COLUMNS = {"date": pl.Date, "label": pl.Utf8, "kind": pl.Utf8, "queue": pl.Utf8}
MAX_LABEL = 120


class AnnotationError(ValueError):
    """One line naming the file, the line and the column."""


@dataclass(frozen=True)
class Annotation:
    day: date
    label: str
    kind: str = "other"
    queue: str | None = None
    schedule: str | None = None  # a holiday's business-hours schedule (None: not a holiday of the table)


@dataclass(frozen=True)
class ScheduleLinks:
    """What ties schedules to appeals (api.schedule_links) and the queues there are."""

    policies: tuple[tuple[str, str, str | None], ...] = ()  # (queue, priority, schedule_id or None)
    staff: tuple[tuple[str | None, str | None, str], ...] = ()  # (site, pod, schedule_id)
    queues: tuple[str, ...] = ()

    @classmethod
    def of(cls, policies: pl.DataFrame, staff: pl.DataFrame, queues) -> ScheduleLinks:
        return cls(tuple(policies.select("queue", "priority", "schedule_id").iter_rows()),
                   tuple(staff.select("site", "pod", "schedule_id").iter_rows()), tuple(sorted(set(queues))))

    def policy_schedules(self, queues=None, priorities=None) -> set[str]:
        """Schedules of the business-clock policies the (queue, priority) pairs run on: a queue's
        own row for a priority, else the `*` row (a calendar row of its own replaces `*`)."""
        own = {(q, p): s for q, p, s in self.policies if q != "*"}
        default = {p: s for q, p, s in self.policies if q == "*"}
        pris = set(priorities) if priorities else {p for _, p, _ in self.policies}
        qs = set(queues) if queues else set(self.queues) | {q for q, _, _ in self.policies if q != "*"}
        out = {own[(q, p)] if (q, p) in own else default.get(p) for q in qs for p in pris}
        return {s for s in out if s is not None}

    def staff_schedules(self, sites=None, pods=None) -> set[str]:
        """Schedules the specialists of these sites and pods work to (their time zone's)."""
        return {s for site, pod, s in self.staff
                if (not sites or site in sites) and (not pods or pod in pods)}

    def applicable(self, filters: dict, queue: str | None = None) -> set[str] | None:
        """The schedules whose holidays a chart with these filters (and its own queue) shows;
        None when nothing narrows it (every holiday). Queue/priority and site/pod narrow
        together: a holiday shows when its schedule serves both."""
        queues = [queue] if queue else list(filters.get("queue") or ())
        priorities = list(filters.get("priority") or ())
        sites, pods = list(filters.get("site") or ()), list(filters.get("pod") or ())
        if not (queues or priorities or sites or pods):
            return None
        found: set[str] | None = None
        if queues or priorities:
            found = self.policy_schedules(queues, priorities)
        if sites or pods:
            staff = self.staff_schedules(sites, pods)
            found = staff if found is None else found & staff
        return found

    def serves(self, schedule: str) -> str:
        """Who a schedule's holiday touches, for its label: "site dublin; ip_counterfeit, listing_removal"."""
        sites = sorted({site for site, _, s in self.staff if s == schedule and site})
        queues = sorted(q for q in set(self.queues) | {q for q, _, _ in self.policies if q != "*"}
                        if schedule in self.policy_schedules([q]))
        parts = ([f"site{'s' if len(sites) > 1 else ''} {', '.join(sites)}"] if sites else []) + (
            [f"queue{'s' if len(queues) > 1 else ''} {', '.join(queues)}"] if queues else [])
        return "; ".join(parts)


def read_file(path: str | Path) -> list[Annotation]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AnnotationError(f"annotations file {path}: cannot read it ({exc.strerror or exc})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    reader = csv.DictReader(lines)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("date", "label") if c not in header]
    if missing:
        raise AnnotationError(f"annotations file {path}: missing column {missing[0]!r} (header: date,label,kind,queue)")
    out = []
    for i, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            raise AnnotationError(f"annotations file {path}, line {i}, column date: not a YYYY-MM-DD date: "
                                  f"{row['date'][:40]!r}") from None
        label = row.get("label", "")
        if not label:
            raise AnnotationError(f"annotations file {path}, line {i}, column label: empty")
        kind = row.get("kind") or "other"
        if kind not in KINDS:
            raise AnnotationError(f"annotations file {path}, line {i}, column kind: {kind[:40]!r} is not one of "
                                  f"{', '.join(KINDS)}")
        out.append(Annotation(day, label[:MAX_LABEL], kind, row.get("queue") or None))
    return out


def from_holidays(closed: dict[str, list[date]], links: ScheduleLinks | None = None) -> list[Annotation]:
    """With `links`: one annotation per schedule and closed day, labelled with the schedule, the
    sites and the queues it serves (so an unfiltered chart says whose holiday it was) and kept
    to the charts it applies to. Without: one per day naming the schedules closed, on every chart."""
    if links is None:
        by_day: dict[date, list[str]] = {}
        for schedule, days in closed.items():
            for d in days:
                by_day.setdefault(d, []).append(schedule)
        return [Annotation(d, f"Holiday: {', '.join(sorted(s))} closed", "holiday") for d, s in sorted(by_day.items())]
    out = []
    for schedule, days in sorted(closed.items()):
        who = links.serves(schedule)
        label = f"Holiday: {schedule} schedule closed" + (f" ({who})" if who else "")
        out += [Annotation(d, label, "holiday", schedule=schedule) for d in days]
    return sorted(out, key=lambda a: (a.day, a.label))


def frame(notes: list[Annotation], date_from: date, date_to: date, grain: str,
          queue: str | None = None, schedules: set[str] | None = None) -> pl.DataFrame:
    """The annotations between the dates (inclusive) for one queue's charts (or all), holidays
    only of `schedules` (None: every schedule's), with the `period_start` of the period that
    holds each day; one row per (period, text), the texts of one period joined so that a chart
    draws one rule per period."""
    rows = [{"period_start": truncate(a.day, grain), "day": a.day, "text": f"{a.day:%-d %b}: {a.label}",
             "kind": KIND_LABELS[a.kind]}
            for a in notes if date_from <= a.day <= date_to and (a.queue is None or queue is None or a.queue == queue)
            and (a.schedule is None or schedules is None or a.schedule in schedules)]
    schema = {"period_start": pl.Date, "day": pl.Date, "text": pl.Utf8, "kind": pl.Utf8}
    if not rows:
        return pl.DataFrame(schema=schema)
    return (pl.DataFrame(rows, schema=schema).sort("day", "text")
            .group_by("period_start", maintain_order=True)
            .agg(pl.col("day").min(), pl.col("text").str.join(" · "),
                 pl.col("kind").unique(maintain_order=True).str.join(", ")))
