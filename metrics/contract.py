"""The warehouse contract (../shared/spec/warehouse.md) as data.

Everything that validates input, generates samples or loads test warehouses reads the
table and column list from here, so the contract is written down once in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

TEXT = "text"
TIMESTAMPTZ = "timestamptz"
DATE = "date"
TIME = "time"
INT = "int"
DOUBLE = "double"
BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    required: bool = True  # False: an optional column that may be absent from the table


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    purpose: str = ""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: str, nullable: bool = True, required: bool = True) -> Column:
    return Column(name, type_, nullable, required)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "appeals",
            True,
            (
                _c("appeal_id", TEXT, False),
                _c("enforcement_id", TEXT, required=False),
                _c("queue", TEXT, False),
                _c("priority", TEXT, False),
                _c("market", TEXT, required=False),
                _c("channel", TEXT, required=False),
                _c("language", TEXT, required=False),
                _c("created_at", TIMESTAMPTZ, False),
                _c("appeal_text", TEXT, required=False),
                _c("appellant_type", TEXT, required=False),
            ),
            "one row per appeal",
        ),
        Table(
            "appeal_events",
            True,
            (
                _c("event_id", TEXT, False),
                _c("appeal_id", TEXT, False),
                _c("occurred_at", TIMESTAMPTZ, False),
                _c("event_type", TEXT, False),
                _c("actor_id", TEXT),
                _c("actor_type", TEXT, False),
                _c("outcome", TEXT, required=False),
                _c("root_cause", TEXT, required=False),
                _c("escalation_target", TEXT, required=False),
                _c("note", TEXT, required=False),
            ),
            "append-only lifecycle log",
        ),
        Table(
            "enforcements",
            False,
            (
                _c("enforcement_id", TEXT, False),
                _c("user_id", TEXT, required=False),
                _c("action", TEXT, False),
                _c("policy", TEXT, False),
                _c("source", TEXT, False),
                _c("enforced_by", TEXT, required=False),
                _c("enforced_at", TIMESTAMPTZ, False),
            ),
            "the original actions: appeal rate and enforcement breakdowns",
        ),
        Table(
            "specialists",
            False,
            (
                _c("specialist_id", TEXT, False),
                _c("display_name", TEXT, required=False),
                _c("pod", TEXT, required=False),
                _c("team_lead", TEXT, required=False),
                _c("site", TEXT, required=False),
                _c("timezone", TEXT, required=False),
                _c("active_from", DATE, required=False),
                _c("active_to", DATE, required=False),
            ),
            "names, pods and sites for grouping",
        ),
        Table(
            "qa_reviews",
            False,
            (
                _c("review_id", TEXT, False),
                _c("appeal_id", TEXT, False),
                _c("reviewer_id", TEXT, required=False),
                _c("reviewed_at", TIMESTAMPTZ, False),
                _c("decision_correct", BOOLEAN, False),
                _c("score", DOUBLE, required=False),
                _c("error_category", TEXT, required=False),
            ),
            "decision quality",
        ),
        Table(
            "sla_policies",
            False,
            (
                _c("queue", TEXT, False),
                _c("priority", TEXT, False),
                _c("first_touch_target_hours", DOUBLE),
                _c("resolution_target_hours", DOUBLE),
                _c("clock", TEXT, False),
                _c("schedule_id", TEXT),
            ),
            "SLA targets per (queue, priority)",
        ),
        Table(
            "business_hours",
            False,
            (
                _c("schedule_id", TEXT, False),
                _c("timezone", TEXT, False),
                _c("weekday", INT, False),
                _c("start_time", TIME, False),
                _c("end_time", TIME, False),
            ),
            "business-hours schedules",
        ),
        Table(
            "holidays",
            False,
            (
                _c("schedule_id", TEXT, False),
                _c("holiday_date", DATE, False),
            ),
            "closed days of business schedules",
        ),
    )
}

EVENT_TYPES = (
    "assigned",
    "claimed",
    "message_to_user",
    "internal_note",
    "evidence_requested",
    "evidence_received",
    "escalated",
    "decided",
    "reopened",
    "withdrawn",
)
ACTOR_TYPES = ("specialist", "system", "user")
OUTCOMES = ("upheld", "overturned", "partially_overturned")
ENFORCEMENT_SOURCES = ("automated", "human")
OVERTURN_OUTCOMES = ("overturned", "partially_overturned")

DUCKDB_TYPES = {
    TEXT: "VARCHAR",
    TIMESTAMPTZ: "TIMESTAMPTZ",
    DATE: "DATE",
    TIME: "TIME",
    INT: "INTEGER",
    DOUBLE: "DOUBLE",
    BOOLEAN: "BOOLEAN",
}

# Instants outside this window are no real appeal activity (a 9999-12-31 "never" placeholder, a
# 0001-01-01 default): staging reads them as null and the check `timestamp_outside_window` counts
# them, so they never become the default as-of. Dates the user asks for (--from, --week) must
# fall inside it too.

SANE_FROM = datetime(1990, 1, 1, tzinfo=UTC)
SANE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
SANE_FIRST_DAY: date = SANE_FROM.date()
SANE_LAST_DAY: date = date(2099, 12, 31)
# An SLA target beyond ten years (or negative, NaN, infinite) is no target: read as null.
MAX_TARGET_HOURS = 87_600
# A schedule closed on more than half the days of a year is a broken holidays table, not a
# calendar: that year's holiday rows are ignored (counted by `holidays_most_of_year`).
MAX_HOLIDAYS_PER_YEAR = 183
