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


def from_holidays(closed: dict[str, list[date]]) -> list[Annotation]:
    """One annotation per closed day, naming the schedules closed on it."""
    by_day: dict[date, list[str]] = {}
    for schedule, days in closed.items():
        for d in days:
            by_day.setdefault(d, []).append(schedule)
    return [Annotation(d, f"Holiday: {', '.join(sorted(s))} closed", "holiday") for d, s in sorted(by_day.items())]


def frame(notes: list[Annotation], date_from: date, date_to: date, grain: str,
          queue: str | None = None) -> pl.DataFrame:
    """The annotations between the dates (inclusive) for one queue's charts (or all), with the
    `period_start` of the period that holds each day; one row per (period, text), the texts of
    one period joined so that a chart draws one rule per period."""
    rows = [{"period_start": truncate(a.day, grain), "day": a.day, "text": f"{a.day:%-d %b}: {a.label}",
             "kind": KIND_LABELS[a.kind]}
            for a in notes if date_from <= a.day <= date_to and (a.queue is None or queue is None or a.queue == queue)]
    schema = {"period_start": pl.Date, "day": pl.Date, "text": pl.Utf8, "kind": pl.Utf8}
    if not rows:
        return pl.DataFrame(schema=schema)
    return (pl.DataFrame(rows, schema=schema).sort("day", "text")
            .group_by("period_start", maintain_order=True)
            .agg(pl.col("day").min(), pl.col("text").str.join(" · "),
                 pl.col("kind").unique(maintain_order=True).str.join(", ")))
