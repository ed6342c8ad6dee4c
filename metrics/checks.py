"""Data checks (warehouse.md "What bad data gets", metrics.md "Controls").

Every row the engine excludes, corrects or ignores is counted here under a named check
with example ids; controls flag appeals that break an operating rule. Each check is one
query pushed down to the warehouse (run one by one: see compile_check).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metrics.conditions import sql_list
from metrics.contract import (
    ACTOR_TYPES,
    EVENT_TYPES,
    MAX_HOLIDAYS_PER_YEAR,
    MAX_TARGET_HOURS,
    OUTCOMES,
    SANE_FROM,
    SANE_UNTIL,
)


@dataclass(frozen=True)
class Check:
    name: str
    kind: str  # "excluded", "corrected", "flagged", "control"
    effect: str
    sql: str  # returns example_id rows, one per affected row
    # the sql returns (example_id, appeal_id): each hit belongs to one appeal of the facts, so
    # the store keeps these hits per appeal and a refresh recomputes the changed appeals' only
    # (they read the models; over raw 10M appeals one such check ran out of memory)
    per_appeal: bool = False


@dataclass
class CheckResult:
    name: str
    kind: str
    effect: str
    count: int
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        ex = ", ".join(self.examples)
        return f"{self.name}: {self.count} ({self.kind}; {self.effect}) e.g. {ex}"


AS_OF = "cast(:as_of as timestamp with time zone)"


def _extra_rows(table: str, key: str, order: str, partition: str | None = None) -> str:
    """Rows after the first of each key (the ones the models leave out), as example ids."""
    partition = partition or key
    return (f"select example from (select {key} as example, row_number() over (partition by {partition} "
            f"order by {order}) as rn from {table} where {key} is not null) as d where rn > 1")


CHECKS: tuple[Check, ...] = (
    Check("appeal_missing_required_value", "excluded", "row left out of facts (null appeal_id, queue, priority or created_at)",
          "select coalesce(appeal_id, '(null appeal_id)') from stg_appeals "
          "where appeal_id is null or queue is null or priority is null or created_at is null"),
    Check("duplicate_appeal_id", "excluded", "extra rows left out; the earliest-created row is used",
          _extra_rows("stg_appeals", "appeal_id", "created_at")),
    Check("appeals_after_as_of", "excluded", "created after as_of: not in facts or reports yet",
          f"select appeal_id from stg_appeals where created_at > {AS_OF}"),
    Check("event_missing_required_value", "excluded", "event ignored (null event_id or occurred_at)",
          "select coalesce(event_id, '(null event_id)') from stg_appeal_events where event_id is null or occurred_at is null"),
    Check("duplicate_event_id", "excluded", "extra rows ignored; the earliest row of the id is used",
          _extra_rows("stg_appeal_events", "event_id", "occurred_at")),
    Check("event_unknown_appeal", "excluded", "event ignored: its appeal_id is not in appeals",
          # not exists, not `not in`: Spark plans a `not in` under `or` as a nested-loop join
          # (events x appeals: hours on the 50k sample); both say the same here, since the
          # subquery has no null ids and a null appeal_id is caught by the first arm
          "select e.event_id from stg_appeal_events e where e.appeal_id is null or not exists "
          "(select 1 from stg_appeals a where a.appeal_id = e.appeal_id)"),
    Check("appeal_without_events", "flagged", "open with no usable event up to as_of (no touch, no decision): often "
          "cases imported as appeals that are not appeals",
          "select a.appeal_id, a.appeal_id from appeals_base a where not exists "
          "(select 1 from events_effective e where e.appeal_id = a.appeal_id)", per_appeal=True),
    Check("required_table_empty", "flagged", "a required table has no rows: every metric that reads it is empty",
          "select 'appeals' where not exists (select 1 from stg_appeals) union all "
          "select 'appeal_events' where not exists (select 1 from stg_appeal_events)"),
    Check("unknown_event_type", "excluded", f"event ignored: event_type not one of {', '.join(EVENT_TYPES)}",
          f"select event_id from stg_appeal_events where event_type is null or event_type not in ({sql_list(EVENT_TYPES)})"),
    Check("unknown_actor_type", "flagged", "event used, but never a specialist touch",
          f"select event_id from stg_appeal_events where actor_type is null or actor_type not in ({sql_list(ACTOR_TYPES)})"),
    Check("event_after_as_of", "excluded", "event in the future of as_of: ignored",
          f"select event_id from stg_appeal_events where occurred_at > {AS_OF}"),
    Check("event_before_created_at", "corrected", "used as if at the appeal's created_at",
          "select e.event_id from stg_appeal_events e join appeals_base a on a.appeal_id = e.appeal_id "
          "where e.occurred_at < a.created_at"),
    Check("decided_without_outcome", "flagged", "the appeal is resolved with a null outcome (not in overturn rate)",
          "select event_id, appeal_id from events_effective where event_type = 'decided' and recorded_outcome is null",
          per_appeal=True),
    Check("unknown_outcome", "flagged", f"the decision counts with a null outcome (known: {', '.join(OUTCOMES)})",
          f"select event_id from stg_appeal_events where event_type = 'decided' and outcome is not null "
          f"and outcome not in ({sql_list(OUTCOMES)})"),
    Check("decided_by_non_specialist", "control", "a decision not made by a specialist (no solely automated decisions)",
          "select appeal_id, appeal_id from events_effective where event_type = 'decided' "
          "and (actor_type is null or actor_type <> 'specialist')", per_appeal=True),
    Check("self_review", "control", "the final decider also made the enforcement (conflict of interest)",
          "select appeal_id, appeal_id from appeal_facts where status = 'resolved' and specialist_id is not null "
          "and specialist_id = enforced_by", per_appeal=True),
    Check("no_sla_policy", "flagged", "SLA metrics n/a for the appeal: no (queue, priority) or ('*', priority) policy",
          "select appeal_id, appeal_id from appeal_policy where not has_policy", per_appeal=True),
    Check("sla_schedule_without_hours", "flagged",
          "SLA n/a: business clock without a schedule that has open hours in a week (or unknown clock)",
          "select appeal_id, appeal_id from appeal_policy where has_policy and not is_clock_usable", per_appeal=True),
    Check("duplicate_sla_policy", "excluded", "extra (queue, priority) rows ignored",
          _extra_rows("stg_sla_policies", "queue || '/' || priority", "clock", partition="queue, priority")),
    Check("business_hours_row_opens_nothing", "excluded", "row ignored: end_time not after start_time (and not 00:00)",
          "select schedule_id || ' weekday ' || cast(weekday as varchar) from schedule_hours where open_seconds = 0"),
    Check("qa_review_after_as_of", "excluded", "QA review in the future of as_of: ignored",
          f"select review_id from stg_qa_reviews where reviewed_at > {AS_OF}"),
    Check("enforcement_after_as_of", "excluded", "enforcement in the future of as_of: not in appeal_rate",
          f"select enforcement_id from stg_enforcements where enforced_at > {AS_OF}"),
    Check("duplicate_review_id", "excluded", "extra QA rows ignored",
          _extra_rows("stg_qa_reviews", "review_id", "reviewed_at")),
    Check("qa_review_unknown_appeal", "excluded", "QA review left out of qa_accuracy: its appeal is not in facts",
          "select review_id from stg_qa_reviews where appeal_id not in (select appeal_id from appeals_base)"),
    Check("duplicate_enforcement_id", "excluded", "extra enforcement rows ignored",
          _extra_rows("stg_enforcements", "enforcement_id", "enforced_at")),
    Check("duplicate_specialist_id", "corrected",
          "extra rows ignored; a name, pod, team lead or site on which the rows disagree is read as null",
          _extra_rows("stg_specialists", "specialist_id", "specialist_id")),
    Check("appeal_unknown_enforcement", "flagged", "policy and enforcement source null for the appeal",
          "select appeal_id from appeals_base where enforcement_id is not null and enforcement_id not in "
          "(select enforcement_id from stg_enforcements where enforcement_id is not null) "
          "and exists (select 1 from stg_enforcements)"),
)


def compile_check(wh, check: Check, params: dict) -> str:
    """One check as its own query: its count and up to five example ids, in code-point order.

    Checks run one by one: DuckDB planned the union of all of them far worse than the parts.
    """
    return wh.compose(None, _hits(check.sql, check.per_appeal), params)


PER_APPEAL_HITS = "per_appeal_check_hits"  # the relation below, as a CTE name


def per_appeal_hits() -> dict[str, str]:
    """Every hit of the per-appeal checks with its appeal, as one CTE (name → body) over the
    models: what the store keeps, so that run_checks reads a check's count and examples there."""
    body = "\nunion all\n".join(
        f"select '{c.name}' as check_name, cast(appeal_id as varchar) as appeal_id, "
        f"cast(example_id as varchar) as example_id from ({c.sql}) as h(example_id, appeal_id)"
        for c in CHECKS if c.per_appeal)
    return {PER_APPEAL_HITS: body}


# Checks of raw values that staging reads as null or leaves out; their SQL depends on how the
# warehouse stores each column, so Warehouse.value_check_sql writes it.
VALUE_CHECKS: tuple[Check, ...] = (
    Check("unreadable_value", "excluded",
          "value read as null: not readable as its column's contract type (a row that needed it is left "
          "out under its own check, e.g. appeal_missing_required_value)", ""),
    Check("timestamp_outside_window", "excluded",
          f"instant read as null: before {SANE_FROM:%Y-%m-%d} or from {SANE_UNTIL:%Y-%m-%d} on; never the "
          "default as-of", ""),
    Check("sla_target_unusable", "excluded",
          f"SLA target read as null (negative, NaN, infinite or over {MAX_TARGET_HOURS:,} h): that SLA is n/a "
          "for the policy's appeals", ""),
    Check("holidays_most_of_year", "excluded",
          f"holiday rows ignored: the schedule would be closed on more than {MAX_HOLIDAYS_PER_YEAR} days of "
          "that year (its business clock would barely run and nothing would breach)", ""),
)

UNKNOWN_TZ = Check("business_hours_unknown_timezone", "excluded",
                   "schedule rows ignored: timezone is not an IANA zone (its SLAs become n/a)", "")


def run_adapter_checks(wh, params: dict, kinds: tuple[str, ...] | None = None) -> list[CheckResult]:
    """The checks an adapter brings (self-contained SQL over its source tables, no models)."""
    out = []
    for check in wh.adapter_checks:
        if kinds is None or check.kind in kinds:
            rows = wh.query(_hits(check.sql), params)
            if rows.height:
                out.append(CheckResult(check.name, check.kind, check.effect, int(rows["n"][0]),
                                       [str(x) for x in rows["example_id"].to_list()]))
    return out


def _hits(sql: str, per_appeal: bool = False) -> str:
    """The count of a check's example rows and the first five, in code-point order."""
    names = "example_id, appeal_id" if per_appeal else "example_id"
    return ("select example_id, count(*) over () as n\n"
            f"from (select cast(example_id as varchar) as example_id from ({sql}) as h({names})) as hits\n"
            'order by example_id collate "C"\nlimit 5')


def run_checks(wh, params: dict, kept=None) -> list[CheckResult]:
    """Every check on the warehouse `wh`; with `kept` (a store's state at this as-of), the
    per-appeal checks are read from the hits it keeps (its table `check_hits`)."""
    out = []
    for check in CHECKS:
        if kept is not None and check.per_appeal:  # the same count and order as on the models
            kept_sql = f"select example_id, appeal_id from {kept.tables['check_hits']} where check_name = :check_name"
            rows = kept.query(_hits(kept_sql, per_appeal=True), {"check_name": check.name})
        else:
            rows = wh.query(compile_check(wh, check, params), params)
        if rows.height:
            out.append(CheckResult(check.name, check.kind, check.effect, int(rows["n"][0]),
                                   [str(x) for x in rows["example_id"].to_list()]))
    value_sql = wh.value_check_sql()
    for check in VALUE_CHECKS:
        if check.name not in value_sql:
            continue
        rows = wh.query(compile_check(wh, Check(check.name, check.kind, check.effect, value_sql[check.name]), params),
                        params)
        if rows.height:
            out.append(CheckResult(check.name, check.kind, check.effect, int(rows["n"][0]),
                                   [str(x) for x in rows["example_id"].to_list()]))
    out.extend(run_adapter_checks(wh, params))
    zones = wh.unknown_timezones()  # those rows were left out in staging; the names are known here
    if zones:
        out.append(CheckResult(UNKNOWN_TZ.name, UNKNOWN_TZ.kind, UNKNOWN_TZ.effect, len(zones), zones[:5]))
    return out


# Source freshness (as dbt's): the warehouse's latest created_at/occurred_at against a threshold
# the operator sets (check --max-age-hours, APPEALS_MAX_DATA_AGE_HOURS); no threshold, no line.
STALE = Check("warehouse_stale", "flagged",
              "the latest event is older than the freshness threshold: the load may have stopped", "")


def freshness(latest_at, max_age_hours: float | None, now=None) -> CheckResult | None:
    """A `warehouse_stale` result when `latest_at` is more than `max_age_hours` before now."""
    from datetime import UTC, datetime

    if max_age_hours is None:
        return None
    now = now or datetime.now(UTC)
    age_hours = (now - latest_at).total_seconds() / 3600
    if age_hours <= max_age_hours:
        return None
    example = f"latest event {latest_at:%Y-%m-%d %H:%M} UTC, {age_hours:,.1f} h old (threshold {max_age_hours:g} h)"
    return CheckResult(STALE.name, STALE.kind, STALE.effect, 1, [example])


ALL_CHECKS: tuple[Check, ...] = (*CHECKS, *VALUE_CHECKS, UNKNOWN_TZ, STALE)
