"""Import a third-party case event log into a contract warehouse through a YAML mapping.

A case system we have never seen (ServiceNow audit rows, a help-desk activity log, ...) is
turned into `appeals` + `appeal_events` (+ `specialists`) by a documented mapping
(mappings/*.yml, explained in mappings/README.md). Nothing is dropped silently: every source
row is either *used* (it produced at least one event, or it is the case's creation record) or
counted under a named skip reason in `ImportResult.skipped`, and the counts are also written to
the warehouse table `import_skipped_rows`.

How a row becomes events
1. Rows are grouped by case and ordered by (timestamp, the mapping's `order_by` columns, file
   order). Naive timestamps are wall-clock times in the mapping's `timezone` and are stored in UTC.
2. Each row has a *state*: a source column (ServiceNow `incident_state`) or one derived from
   the activity (`state.from_activity`, carried forward over activities that do not change it).
   The previous row's state is its `from`.
3. The first rule in `rules` whose conditions all hold decides the row: `events` (one or more
   contract events, in order), `skip: reason`, or `created: true` (the creation record).
4. Optionally an assignee column: a change to a non-empty value emits `assigned` (actor = the
   new assignee) before the rule's events.
Event ids are `<case id>-<sequence>` with a zero-padded sequence in lifecycle order, so the
engine's (occurred_at, event_id) order is the order derived here.

Everything is vectorised with Polars (the ServiceNow log has 120k rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml

from metrics.contract import ACTOR_TYPES, EVENT_TYPES, OUTCOMES, TABLES
from metrics.load import write_duckdb

__all__ = ["EventsFileError", "ImportResult", "MappingError", "import_log", "load_mapping"]


class MappingError(ValueError):
    """The mapping file is wrong or does not fit the events file (one line, names the key)."""


class EventsFileError(ValueError):
    """The events file cannot be read (one line, names the file)."""


@dataclass
class ImportResult:
    tables: dict[str, int]
    source_rows: int
    used_rows: int
    skipped: dict[str, int]
    cases: int
    out_path: str = ""
    mapping_name: str = ""
    examples: dict[str, list[str]] = field(default_factory=dict)  # skip reason -> example case ids

    def summary(self) -> str:
        lines = [
            f"imported {self.cases} cases as appeals into {self.out_path}",
            f"source rows: {self.source_rows}; used: {self.used_rows}; skipped: {sum(self.skipped.values())}",
        ]
        for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            ex = ", ".join(self.examples.get(reason, [])[:5])
            lines.append(f"  skipped {reason}: {n}" + (f" (e.g. {ex})" if ex else ""))
        for name, n in self.tables.items():
            lines.append(f"  table {name}: {n} rows")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Mapping parsing and validation
# --------------------------------------------------------------------------------------------

_TOP_KEYS = {
    "version",
    "source",
    "description",
    "notes",
    "case_id",
    "timestamp",
    "order_by",
    "created_at",
    "actor",
    "activity",
    "state",
    "assignment",
    "attributes",
    "rules",
    "tables",
}
_ATTRIBUTE_KEYS = (
    "enforcement_id",
    "queue",
    "priority",
    "market",
    "channel",
    "language",
    "appeal_text",
    "appellant_type",
)
_REQUIRED_ATTRIBUTES = ("queue", "priority")
_RULE_WHEN = {"activity", "from", "to", "first_row", "changed"}
_RULE_THEN = {"events", "skip", "created"}
_EVENT_KEYS = {
    "type",
    "actor",
    "actor_type",
    "outcome",
    "outcome_from",
    "root_cause",
    "escalation_target",
    "note",
}
_PICKS = ("first", "last", "most_common")
_REASON_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_RE = re.compile(r"\{([^{}]+)\}")

# Built-in skip reasons (rows that cannot take part at all).
MISSING_CASE_ID = "missing_case_id"
MISSING_TIMESTAMP = "missing_timestamp"
BAD_TIMESTAMP = "unparseable_timestamp"
MISSING_STATE = "missing_state"
MISSING_ACTIVITY = "missing_activity"
NO_CREATED_AT = "no_created_at"
NO_RULE = "no_matching_rule"
_DEFAULT_ACTOR = "\x00default"  # an event without `actor:` uses the mapping's actor column


@dataclass
class _Attr:
    key: str
    column: str | None = None
    value: str | None = None
    template: str | None = None
    pick: str = "last"
    values: dict[str, str] | None = None
    default: str | None = None


@dataclass
class _Event:
    type: str
    actor: str | None  # column name; None = no actor
    actor_type: str | None  # None = default (mapping actor_type, system_actors -> system)
    outcome: str | None = None
    outcome_from: dict | None = None
    root_cause: str | None = None
    escalation_target: str | None = None
    note: str | None = None


@dataclass
class _Rule:
    index: int
    activity: list[str] | None = None
    from_: list[str | None] | None = None
    to: list[str] | None = None
    first_row: bool | None = None
    changed: bool | None = None
    events: list[_Event] = field(default_factory=list)
    skip: str | None = None
    created: bool = False


@dataclass
class Mapping:
    name: str
    case_id: str
    ts_column: str
    ts_timezone: str
    ts_format: str | None
    order_by: list[str]
    created_column: str | None
    created_timezone: str
    created_format: str | None
    actor_column: str | None
    actor_type: str
    system_actors: list[str]
    activity: str | None
    state_column: str | None
    state_from_activity: dict[str, str] | None
    assignee: str | None
    assignee_cleared_reason: str | None
    attributes: dict[str, _Attr]
    rules: list[_Rule]
    specialists: bool

    def referenced_columns(self) -> dict[str, str]:
        """column -> mapping key that references it (for 'column not in events file' errors)."""
        refs: dict[str, str] = {}

        def add(col: str | None, key: str) -> None:
            if col is not None and col not in refs:
                refs[col] = key

        add(self.case_id, "mapping.case_id")
        add(self.ts_column, "mapping.timestamp.column")
        for i, c in enumerate(self.order_by):
            add(c, f"mapping.order_by[{i}]")
        add(self.created_column, "mapping.created_at.column")
        add(self.actor_column, "mapping.actor.column")
        add(self.activity, "mapping.activity")
        add(self.state_column, "mapping.state.column")
        add(self.assignee, "mapping.assignment.column")
        for key, a in self.attributes.items():
            add(a.column, f"mapping.attributes.{key}.column")
            for c in _template_columns(a.template):
                add(c, f"mapping.attributes.{key}.template")
        for r in self.rules:
            for j, ev in enumerate(r.events):
                base = f"mapping.rules[{r.index}].events[{j}]"
                if ev.actor != _DEFAULT_ACTOR:
                    add(ev.actor, f"{base}.actor")
                for c in _template_columns(ev.note):
                    add(c, f"{base}.note")
                if ev.outcome_from:
                    add(ev.outcome_from["column"], f"{base}.outcome_from.column")
        return refs


def _template_columns(template: str | None) -> list[str]:
    return [] if template is None else _TEMPLATE_RE.findall(template)


def _fail(key: str, msg: str) -> MappingError:
    return MappingError(f"{key}: {msg}")


def _as_str(value: Any, key: str, allow_none: bool = False) -> str | None:
    if value is None:
        if allow_none:
            return None
        raise _fail(key, "is required")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(key, f"expected a text value, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        if allow_none:
            return None
        raise _fail(key, "is empty")
    return text


def _as_list(value: Any, key: str, allow_null_items: bool = False) -> list:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        if item is None and allow_null_items:
            out.append(None)
        else:
            out.append(_as_str(item, f"{key}[{i}]" if isinstance(value, list) else key))
    return out


def _check_keys(obj: Any, allowed: set[str], key: str) -> dict:
    if not isinstance(obj, dict):
        raise _fail(key, f"expected a mapping (key: value), got {type(obj).__name__}")
    unknown = sorted(set(map(str, obj)) - allowed)
    if unknown:
        raise _fail(key, f"unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
    return obj


def _as_dict(obj: Any, key: str) -> dict:
    if not isinstance(obj, dict):
        raise _fail(key, f"expected a mapping (value: replacement), got {type(obj).__name__}")
    return obj


def _check_zone(zone: str, key: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            key, f"unknown time zone '{zone}' (use an IANA name such as UTC or Europe/Rome)"
        ) from None
    return zone


def _check_reason(reason: str, key: str) -> str:
    if not _REASON_RE.match(reason):
        raise _fail(key, f"skip reason '{reason}' must be snake_case (letters, digits, _)")
    return reason


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping: cannot read {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MappingError(f"mapping: not valid YAML{where} in {path}") from None
    return parse_mapping(raw, name=path.stem)


def parse_mapping(raw: Any, name: str = "mapping") -> Mapping:
    m = _check_keys(raw, _TOP_KEYS, "mapping")
    version = m.get("version", 1)
    if version != 1:
        raise _fail("mapping.version", f"unsupported version {version!r} (expected 1)")

    case_id = _as_str(m.get("case_id"), "mapping.case_id")

    ts = m.get("timestamp")
    if isinstance(ts, str):
        ts = {"column": ts}
    ts = _check_keys(ts if ts is not None else {}, {"column", "timezone", "format"}, "mapping.timestamp")
    ts_column = _as_str(ts.get("column"), "mapping.timestamp.column")
    ts_zone = _check_zone(
        _as_str(ts.get("timezone", "UTC"), "mapping.timestamp.timezone"), "mapping.timestamp.timezone"
    )
    ts_format = _as_str(ts.get("format"), "mapping.timestamp.format", allow_none=True)

    order_by = [] if m.get("order_by") is None else _as_list(m["order_by"], "mapping.order_by")

    created = m.get("created_at", "first_event")
    created_column = None
    created_zone = ts_zone
    created_format = ts_format
    if created != "first_event":
        if isinstance(created, str):
            created = {"column": created}
        created = _check_keys(created, {"column", "timezone", "format", "first_event"}, "mapping.created_at")
        if created.get("first_event"):
            if "column" in created:
                raise _fail("mapping.created_at", "give either 'column' or 'first_event: true', not both")
        else:
            created_column = _as_str(created.get("column"), "mapping.created_at.column")
            if "timezone" in created:
                created_zone = _check_zone(
                    _as_str(created["timezone"], "mapping.created_at.timezone"), "mapping.created_at.timezone"
                )
            if "format" in created:
                created_format = _as_str(created["format"], "mapping.created_at.format", allow_none=True)

    actor = m.get("actor")
    if isinstance(actor, str):
        actor = {"column": actor}
    actor = _check_keys(
        actor if actor is not None else {}, {"column", "actor_type", "system_actors"}, "mapping.actor"
    )
    actor_column = _as_str(actor.get("column"), "mapping.actor.column", allow_none=True)
    actor_type = _as_str(actor.get("actor_type", "specialist"), "mapping.actor.actor_type")
    if actor_type not in ACTOR_TYPES:
        raise _fail(
            "mapping.actor.actor_type",
            f"unknown actor type '{actor_type}' (expected one of {', '.join(ACTOR_TYPES)})",
        )
    system_actors = (
        []
        if actor.get("system_actors") is None
        else _as_list(actor["system_actors"], "mapping.actor.system_actors")
    )

    activity = _as_str(m.get("activity"), "mapping.activity", allow_none=True)

    state = m.get("state")
    state_column = None
    from_activity = None
    if state is not None:
        if isinstance(state, str):
            state = {"column": state}
        state = _check_keys(state, {"column", "from_activity"}, "mapping.state")
        if ("column" in state) == ("from_activity" in state):
            raise _fail("mapping.state", "give exactly one of 'column' or 'from_activity'")
        if "column" in state:
            state_column = _as_str(state["column"], "mapping.state.column")
        else:
            if activity is None:
                raise _fail("mapping.state.from_activity", "needs 'activity' (the activity column)")
            fa = _as_dict(state["from_activity"], "mapping.state.from_activity")
            from_activity = {
                str(k).strip(): _as_str(v, f"mapping.state.from_activity.{k}") for k, v in fa.items()
            }

    assignment = m.get("assignment")
    assignee = None
    cleared_reason = None
    if assignment is not None:
        if isinstance(assignment, str):
            assignment = {"column": assignment}
        assignment = _check_keys(assignment, {"column", "cleared_reason"}, "mapping.assignment")
        assignee = _as_str(assignment.get("column"), "mapping.assignment.column")
        cleared_reason = _as_str(
            assignment.get("cleared_reason"), "mapping.assignment.cleared_reason", allow_none=True
        )
        if cleared_reason:
            _check_reason(cleared_reason, "mapping.assignment.cleared_reason")

    attrs_raw = m.get("attributes") or {}
    attrs_raw = _check_keys(attrs_raw, set(_ATTRIBUTE_KEYS), "mapping.attributes")
    attributes: dict[str, _Attr] = {}
    for key, spec in attrs_raw.items():
        akey = f"mapping.attributes.{key}"
        if spec is None:
            continue
        if isinstance(spec, str):
            spec = {"column": spec}
        spec = _check_keys(spec, {"column", "value", "template", "pick", "values", "default"}, akey)
        sources = [k for k in ("column", "value", "template") if k in spec]
        if len(sources) != 1:
            raise _fail(akey, "give exactly one of 'column', 'value' (a constant) or 'template'")
        pick = _as_str(spec.get("pick", "last"), f"{akey}.pick")
        if pick not in _PICKS:
            raise _fail(f"{akey}.pick", f"unknown pick '{pick}' (expected one of {', '.join(_PICKS)})")
        values = spec.get("values")
        if values is not None:
            values = _as_dict(values, f"{akey}.values")
            values = {str(k).strip(): _as_str(v, f"{akey}.values.{k}") for k, v in values.items()}
        attributes[key] = _Attr(
            key=key,
            column=_as_str(spec.get("column"), f"{akey}.column", allow_none=True),
            value=_as_str(spec.get("value"), f"{akey}.value", allow_none=True),
            template=_as_str(spec.get("template"), f"{akey}.template", allow_none=True),
            pick=pick,
            values=values,
            default=_as_str(spec.get("default"), f"{akey}.default", allow_none=True),
        )

    rules_raw = m.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _fail("mapping.rules", "is required: a list of rules (when → events / skip / created)")
    rules = [_parse_rule(i, r, activity, state_column or from_activity) for i, r in enumerate(rules_raw)]

    tables = _check_keys(m.get("tables") or {}, {"specialists"}, "mapping.tables")
    specialists = bool(tables.get("specialists", True))

    return Mapping(
        name=name,
        case_id=case_id,
        ts_column=ts_column,
        ts_timezone=ts_zone,
        ts_format=ts_format,
        order_by=order_by,
        created_column=created_column,
        created_timezone=created_zone,
        created_format=created_format,
        actor_column=actor_column,
        actor_type=actor_type,
        system_actors=system_actors,
        activity=activity,
        state_column=state_column,
        state_from_activity=from_activity,
        assignee=assignee,
        assignee_cleared_reason=cleared_reason,
        attributes=attributes,
        rules=rules,
        specialists=specialists,
    )


def _parse_rule(i: int, raw: Any, activity: str | None, has_state: Any) -> _Rule:
    key = f"mapping.rules[{i}]"
    r = _check_keys(raw, _RULE_WHEN | _RULE_THEN | {"why"}, key)
    thens = [k for k in _RULE_THEN if k in r]
    if len(thens) != 1:
        raise _fail(key, "needs exactly one of 'events', 'skip' or 'created: true'")
    rule = _Rule(index=i)
    if "activity" in r:
        if activity is None:
            raise _fail(f"{key}.activity", "needs 'mapping.activity' (the activity column)")
        rule.activity = _as_list(r["activity"], f"{key}.activity")
    for k in ("from", "to", "changed"):
        if k in r and not has_state:
            raise _fail(f"{key}.{k}", "needs 'mapping.state' (a state column or state.from_activity)")
    if "from" in r:
        rule.from_ = _as_list(r["from"], f"{key}.from", allow_null_items=True)
    if "to" in r:
        rule.to = _as_list(r["to"], f"{key}.to")
    for k in ("first_row", "changed"):
        if k in r:
            if not isinstance(r[k], bool):
                raise _fail(f"{key}.{k}", "must be true or false")
            setattr(rule, k, r[k])
    if "skip" in r:
        rule.skip = _check_reason(_as_str(r["skip"], f"{key}.skip"), f"{key}.skip")
    elif "created" in r:
        if r["created"] is not True:
            raise _fail(f"{key}.created", "must be true (the row is the case's creation record)")
        rule.created = True
    else:
        evs = r["events"]
        if not isinstance(evs, list) or not evs:
            evs = [evs]
        rule.events = [_parse_event(f"{key}.events[{j}]", e) for j, e in enumerate(evs)]
    return rule


def _parse_event(key: str, raw: Any) -> _Event:
    if isinstance(raw, str):
        raw = {"type": raw}
    e = _check_keys(raw, _EVENT_KEYS, key)
    etype = _as_str(e.get("type"), f"{key}.type")
    if etype not in EVENT_TYPES:
        raise _fail(f"{key}.type", f"unknown event type '{etype}' (expected one of {', '.join(EVENT_TYPES)})")
    actor_type = _as_str(e.get("actor_type"), f"{key}.actor_type", allow_none=True)
    if actor_type is not None and actor_type not in ACTOR_TYPES:
        raise _fail(
            f"{key}.actor_type",
            f"unknown actor type '{actor_type}' (expected one of {', '.join(ACTOR_TYPES)})",
        )
    outcome = _as_str(e.get("outcome"), f"{key}.outcome", allow_none=True)
    if outcome is not None and outcome not in OUTCOMES:
        raise _fail(f"{key}.outcome", f"unknown outcome '{outcome}' (expected one of {', '.join(OUTCOMES)})")
    outcome_from = None
    if e.get("outcome_from") is not None:
        of = _check_keys(e["outcome_from"], {"column", "values"}, f"{key}.outcome_from")
        col = _as_str(of.get("column"), f"{key}.outcome_from.column")
        vals = _as_dict(of.get("values") or {}, f"{key}.outcome_from.values")
        values = {}
        for k, v in vals.items():
            v = _as_str(v, f"{key}.outcome_from.values.{k}", allow_none=True)
            if v is not None and v not in OUTCOMES:
                raise _fail(
                    f"{key}.outcome_from.values.{k}",
                    f"unknown outcome '{v}' (expected one of {', '.join(OUTCOMES)})",
                )
            values[str(k).strip()] = v
        outcome_from = {"column": col, "values": values}
        if outcome is not None:
            raise _fail(key, "give either 'outcome' or 'outcome_from', not both")
    if (outcome is not None or outcome_from is not None) and etype != "decided":
        raise _fail(f"{key}.outcome", "an outcome belongs on a 'decided' event only")
    return _Event(
        type=etype,
        actor=_as_str(e["actor"], f"{key}.actor", allow_none=True) if "actor" in e else _DEFAULT_ACTOR,
        actor_type=actor_type,
        outcome=outcome,
        outcome_from=outcome_from,
        root_cause=_as_str(e.get("root_cause"), f"{key}.root_cause", allow_none=True),
        escalation_target=_as_str(e.get("escalation_target"), f"{key}.escalation_target", allow_none=True),
        note=_as_str(e.get("note"), f"{key}.note", allow_none=True),
    )


# --------------------------------------------------------------------------------------------
# Reading the events file
# --------------------------------------------------------------------------------------------


def _read_events(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise EventsFileError(f"events file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix in (".csv", ".txt", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            # Every column as text: ids keep leading zeros; the mapping says what is a timestamp.
            return pl.read_csv(
                path, infer_schema=False, separator=sep, null_values=[""], encoding="utf8-lossy"
            )
    except Exception as exc:  # noqa: BLE001 - any reader failure is a one-line file error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EventsFileError(f"cannot read events file {path}: {first}") from None
    raise EventsFileError(f"events file {path}: unsupported extension '{path.suffix}' (use .csv or .parquet)")


def _text(col: str) -> pl.Expr:
    """A source column as trimmed text; empty text is null (warehouse.md conventions)."""
    e = pl.col(col).cast(pl.String).str.strip_chars()
    return pl.when(e == "").then(None).otherwise(e)


_NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S%.f",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
)
_AWARE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")


def _localize(expr: pl.Expr, zone: str) -> pl.Expr:
    """Naive wall-clock datetimes in `zone` → UTC instants.

    An ambiguous time (fall-back) is its first occurrence; a time that does not exist
    (spring-forward gap) is shifted forward by the gap (02:30 → 03:30), as in metrics.md.
    """
    if zone == "UTC":
        return expr.dt.replace_time_zone("UTC")
    first = expr.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    shifted = (expr + pl.duration(hours=1)).dt.replace_time_zone(
        zone, ambiguous="earliest", non_existent="null"
    )
    return pl.coalesce(first, shifted).dt.convert_time_zone("UTC")


def _timestamp_expr(df: pl.DataFrame, col: str, zone: str, fmt: str | None) -> pl.Expr:
    dtype = df.schema[col]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return _localize(pl.col(col).cast(pl.Datetime("us")), zone)
        return pl.col(col).cast(pl.Datetime("us", dtype.time_zone)).dt.convert_time_zone("UTC")
    if dtype == pl.Date:
        return _localize(pl.col(col).cast(pl.Datetime("us")), zone)
    text = _text(col)
    if fmt is not None:
        if "%z" in fmt or "%:z" in fmt:
            return text.str.to_datetime(fmt, strict=False, time_zone="UTC", time_unit="us")
        return _localize(text.str.to_datetime(fmt, strict=False, time_unit="us"), zone)
    norm = text.str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt]", "$1 ").str.replace(r"[Zz]$", "+00:00")
    has_offset = norm.str.contains(r"[+-]\d{2}:?\d{2}$") & norm.str.contains(
        r"\d{2}:\d{2}.*[+-]\d{2}:?\d{2}$"
    )
    aware = pl.coalesce(
        [norm.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us") for f in _AWARE_FORMATS]
    )
    naive = pl.coalesce([norm.str.to_datetime(f, strict=False, time_unit="us") for f in _NAIVE_FORMATS])
    return pl.when(has_offset).then(aware).otherwise(_localize(naive, zone))


def _sortable(df: pl.DataFrame, col: str) -> pl.Expr:
    """An ordering column; text that is all numbers sorts as numbers (CSV input)."""
    dtype = df.schema[col]
    if dtype != pl.String:
        return pl.col(col)
    s = df[col].str.strip_chars()
    nonnull = s.is_not_null() & (s != "")
    for target in (pl.Int64, pl.Float64):
        cast = s.cast(target, strict=False)
        if (cast.is_not_null() == nonnull).all():
            return _text(col).cast(target, strict=False)
    return _text(col)


# --------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------


def _template_expr(template: str) -> pl.Expr:
    parts: list[pl.Expr] = []
    pos = 0
    for mt in _TEMPLATE_RE.finditer(template):
        if mt.start() > pos:
            parts.append(pl.lit(template[pos : mt.start()]))
        parts.append(_text(mt.group(1)))
        pos = mt.end()
    if pos < len(template):
        parts.append(pl.lit(template[pos:]))
    if not parts:
        return pl.lit(None, pl.String)
    return pl.concat_str(parts, ignore_nulls=False)


def _in(expr: pl.Expr, values: list) -> pl.Expr:
    nonnull = [v for v in values if v is not None]
    cond = expr.is_in(pl.Series(nonnull, dtype=pl.String).implode()) if nonnull else pl.lit(False)
    if len(nonnull) != len(values):
        cond = cond | expr.is_null()
    return cond.fill_null(False)


def import_log(events_path: str | Path, mapping_path: str | Path, out_path: str | Path) -> ImportResult:
    """Import `events_path` (CSV or Parquet) through the YAML mapping into a DuckDB warehouse."""
    mapping = load_mapping(mapping_path)
    raw = _read_events(Path(events_path))
    tables, result = build_tables(raw, mapping)
    write_duckdb(tables, out_path)
    result.out_path = str(out_path)
    return result


def build_tables(raw: pl.DataFrame, mp: Mapping) -> tuple[dict[str, pl.DataFrame], ImportResult]:
    for col, key in mp.referenced_columns().items():
        if col not in raw.columns:
            raise MappingError(f"{key}: column '{col}' not in events file")

    df = raw.with_row_index("__row")
    source_rows = df.height

    cols: dict[str, pl.Expr] = {
        "__case": _text(mp.case_id),
        "__ts": _timestamp_expr(df, mp.ts_column, mp.ts_timezone, mp.ts_format),
        "__ts_given": _text(mp.ts_column).is_not_null()
        if df.schema[mp.ts_column] == pl.String
        else pl.col(mp.ts_column).is_not_null(),
    }
    for i, c in enumerate(mp.order_by):
        cols[f"__ord{i}"] = _sortable(df, c)
    if mp.activity:
        cols["__act"] = _text(mp.activity)
    if mp.state_column:
        cols["__state_raw"] = _text(mp.state_column)
    if mp.actor_column:
        cols["__actor"] = _text(mp.actor_column)
    if mp.assignee:
        cols["__assignee"] = _text(mp.assignee)
    if mp.created_column:
        cols["__created_col"] = _timestamp_expr(df, mp.created_column, mp.created_timezone, mp.created_format)
    df = df.with_columns(**cols)
    sort_keys = ["__case", "__ts", *[f"__ord{i}" for i in range(len(mp.order_by))], "__row"]

    # Built-in reasons: rows that cannot be placed in any case lifecycle.
    invalid = (
        pl.when(pl.col("__case").is_null())
        .then(pl.lit(MISSING_CASE_ID))
        .when(pl.col("__ts").is_null() & ~pl.col("__ts_given"))
        .then(pl.lit(MISSING_TIMESTAMP))
        .when(pl.col("__ts").is_null())
        .then(pl.lit(BAD_TIMESTAMP))
    )
    if mp.activity:
        invalid = invalid.when(pl.col("__act").is_null()).then(pl.lit(MISSING_ACTIVITY))
    if mp.state_column:
        invalid = invalid.when(pl.col("__state_raw").is_null()).then(pl.lit(MISSING_STATE))
    df = df.with_columns(__invalid=invalid.otherwise(None))

    # created_at per case: the mapped column (first non-null), else the first event.
    first_event = (
        df.filter(pl.col("__invalid").is_null()).group_by("__case").agg(__first=pl.col("__ts").min())
    )
    cases = df.filter(pl.col("__case").is_not_null()).select("__case").unique()
    created = cases.join(first_event, on="__case", how="left")
    if mp.created_column:
        col_created = (
            df.filter(pl.col("__case").is_not_null())
            .sort(sort_keys, nulls_last=True)
            .group_by("__case")
            .agg(__cc=pl.col("__created_col").drop_nulls().first())
        )
        created = (
            created.join(col_created, on="__case", how="left")
            .with_columns(__created=pl.coalesce("__cc", "__first"))
            .drop("__cc")
        )
    else:
        created = created.with_columns(__created=pl.col("__first"))
    no_created = created.filter(pl.col("__created").is_null()).select("__case")
    if no_created.height:
        df = df.with_columns(
            __invalid=pl.when(
                pl.col("__invalid").is_null() & _in(pl.col("__case"), no_created["__case"].to_list())
            )
            .then(pl.lit(NO_CREATED_AT))
            .otherwise(pl.col("__invalid"))
        )
    created = created.filter(pl.col("__created").is_not_null())

    # Lifecycle of the valid rows.
    v = df.filter(pl.col("__invalid").is_null()).sort(sort_keys)
    first_row = pl.int_range(pl.len()).over("__case") == 0
    v = v.with_columns(__first_row=first_row)
    if mp.state_column:
        v = v.with_columns(__state=pl.col("__state_raw"))
    elif mp.state_from_activity:
        keys = list(mp.state_from_activity)
        v = v.with_columns(
            __state=pl.col("__act").replace_strict(
                keys, [mp.state_from_activity[k] for k in keys], default=None, return_dtype=pl.String
            )
        )
        v = v.with_columns(__state=pl.col("__state").forward_fill().over("__case"))
    if mp.state_column or mp.state_from_activity:
        v = v.with_columns(__prev=pl.col("__state").shift(1).over("__case"))
        v = v.with_columns(__changed=pl.col("__first_row") | pl.col("__state").ne_missing(pl.col("__prev")))

    rule_idx = None
    for r in mp.rules:
        conds = []
        if r.activity is not None:
            conds.append(_in(pl.col("__act"), r.activity))
        if r.from_ is not None:
            conds.append(~pl.col("__first_row") & _in(pl.col("__prev"), r.from_))
        if r.to is not None:
            conds.append(_in(pl.col("__state"), r.to))
        if r.first_row is not None:
            conds.append(pl.col("__first_row") == r.first_row)
        if r.changed is not None:
            conds.append(pl.col("__changed") == r.changed)
        cond = pl.all_horizontal(conds) if conds else pl.lit(True)
        rule_idx = (pl.when(cond) if rule_idx is None else rule_idx.when(cond)).then(
            pl.lit(r.index, pl.Int32)
        )
    v = v.with_columns(__rule=rule_idx.otherwise(pl.lit(None, pl.Int32)))

    if mp.assignee:
        prev_assignee = pl.col("__assignee").shift(1).over("__case")
        v = v.with_columns(
            __assign=pl.col("__assignee").is_not_null()
            & (pl.col("__first_row") | pl.col("__assignee").ne_missing(prev_assignee)),
            __cleared=pl.col("__assignee").is_null() & ~pl.col("__first_row") & prev_assignee.is_not_null(),
        )

    # Events.
    system = pl.Series(mp.system_actors, dtype=pl.String).implode()
    default_actor = pl.col("__actor") if mp.actor_column else pl.lit(None, pl.String)
    base = ["__case", "__ts", "__row"]
    pieces: list[pl.DataFrame] = []

    def actor_type_expr(actor: pl.Expr, explicit: str | None) -> pl.Expr:
        if explicit is not None:
            return pl.lit(explicit)
        default = pl.lit(mp.actor_type)
        if mp.system_actors:
            return pl.when(actor.is_in(system).fill_null(False)).then(pl.lit("system")).otherwise(default)
        return default

    def frame(
        rows: pl.DataFrame,
        sub: int,
        etype: str,
        actor: pl.Expr,
        actor_type: pl.Expr,
        outcome: pl.Expr | None = None,
        root_cause: str | None = None,
        target: str | None = None,
        note: pl.Expr | None = None,
    ) -> pl.DataFrame:
        return rows.select(
            *base,
            __sub=pl.lit(sub, pl.Int32),
            event_type=pl.lit(etype),
            actor_id=actor.cast(pl.String),
            actor_type=actor_type,
            outcome=outcome if outcome is not None else pl.lit(None, pl.String),
            root_cause=pl.lit(root_cause, pl.String),
            escalation_target=pl.lit(target, pl.String),
            note=note if note is not None else pl.lit(None, pl.String),
        )

    if mp.assignee:
        rows = v.filter("__assign")
        pieces.append(frame(rows, 0, "assigned", pl.col("__assignee"), pl.lit("specialist")))
    for r in mp.rules:
        if not r.events:
            continue
        rows = v.filter(pl.col("__rule") == r.index)
        if rows.height == 0:
            continue
        for j, ev in enumerate(r.events):
            actor = (
                default_actor
                if ev.actor == _DEFAULT_ACTOR
                else (_text(ev.actor) if ev.actor else pl.lit(None, pl.String))
            )
            if ev.outcome_from:
                vals = ev.outcome_from["values"]
                src = _text(ev.outcome_from["column"])
                outcome = src.replace_strict(
                    list(vals), list(vals.values()), default=None, return_dtype=pl.String
                )
            else:
                outcome = pl.lit(ev.outcome, pl.String)
            pieces.append(
                frame(
                    rows,
                    j + 1,
                    ev.type,
                    actor,
                    actor_type_expr(actor, ev.actor_type),
                    outcome,
                    ev.root_cause,
                    ev.escalation_target,
                    _template_expr(ev.note) if ev.note else None,
                )
            )
    if not pieces:  # no row produced an event: an empty log with the right columns
        pieces.append(frame(v.head(0), 0, "assigned", pl.lit(None, pl.String), pl.lit("specialist")))
    events = pl.concat(pieces, how="vertical")
    # Lifecycle order: the rows' order, then the events' order within a row (assigned first).
    ord_cols = [f"__ord{i}" for i in range(len(mp.order_by))]
    if ord_cols:
        events = events.join(v.select("__row", *ord_cols), on="__row", how="left")
    events = events.sort(["__case", "__ts", *ord_cols, "__row", "__sub"])
    seq = pl.int_range(1, pl.len() + 1).over("__case")
    max_per_case = events.group_by("__case").len()["len"].max() if events.height else 0
    width = max(4, len(str(max_per_case or 0)))
    events = events.with_columns(
        event_id=pl.concat_str([pl.col("__case"), pl.lit("-"), seq.cast(pl.String).str.zfill(width)]),
    )

    # Row accounting: every source row is used or counted under a reason.
    emitted = events.select("__row").unique().with_columns(__emitted=pl.lit(True))
    v = v.join(emitted, on="__row", how="left").with_columns(pl.col("__emitted").fill_null(False))
    created_rules = [r.index for r in mp.rules if r.created]
    skip_by_rule = {r.index: r.skip for r in mp.rules if r.skip}
    used = pl.col("__emitted")
    if created_rules:
        used = used | pl.col("__rule").is_in(pl.Series(created_rules, dtype=pl.Int32).implode()).fill_null(
            False
        )
    reason = pl.when(used).then(None)
    if mp.assignee and mp.assignee_cleared_reason:
        reason = reason.when(pl.col("__cleared")).then(pl.lit(mp.assignee_cleared_reason))
    if skip_by_rule:
        keys = list(skip_by_rule)
        reason = reason.when(
            pl.col("__rule").is_in(pl.Series(keys, dtype=pl.Int32).implode()).fill_null(False)
        ).then(
            pl.col("__rule").replace_strict(
                keys, [skip_by_rule[k] for k in keys], default=None, return_dtype=pl.String
            )
        )
    reason = reason.otherwise(pl.lit(NO_RULE))
    v = v.with_columns(__reason=reason)

    skipped_rows = pl.concat(
        [
            df.filter(pl.col("__invalid").is_not_null()).select(
                "__case", "__row", __reason=pl.col("__invalid")
            ),
            v.filter(pl.col("__reason").is_not_null()).select("__case", "__row", "__reason"),
        ]
    )
    skip_summary = (
        skipped_rows.sort("__row")
        .group_by("__reason", maintain_order=True)
        .agg(rows=pl.len(), examples=pl.col("__case").drop_nulls().unique(maintain_order=True).head(5))
        .sort("rows", descending=True)
    )
    skipped = {r: int(n) for r, n in zip(skip_summary["__reason"], skip_summary["rows"], strict=True)}
    examples = {r: list(ex) for r, ex in zip(skip_summary["__reason"], skip_summary["examples"], strict=True)}
    used_rows = int(v.filter(pl.col("__reason").is_null()).height)
    assert used_rows + sum(skipped.values()) == source_rows, "row accounting does not add up"

    # Appeals: one per case with a created_at.
    appeals = created.select(appeal_id=pl.col("__case"), created_at=pl.col("__created"))
    ordered = df.filter(pl.col("__case").is_not_null()).sort(sort_keys, nulls_last=True)
    for key in _ATTRIBUTE_KEYS:
        a = mp.attributes.get(key)
        if a is None:
            if key in _REQUIRED_ATTRIBUTES:
                appeals = appeals.with_columns(pl.lit("unknown").alias(key))
            continue
        if a.value is not None:
            appeals = appeals.with_columns(pl.lit(a.value).alias(key))
            continue
        expr = _text(a.column) if a.column else _template_expr(a.template)
        if a.values:
            ks = list(a.values)
            expr = expr.replace(ks, [a.values[k] for k in ks])
        per_case = ordered.select("__case", __v=expr).drop_nulls("__v")
        if a.pick == "first":
            agg = per_case.group_by("__case").agg(pl.col("__v").first())
        elif a.pick == "last":
            agg = per_case.group_by("__case").agg(pl.col("__v").last())
        else:  # most_common; ties → the value seen last
            agg = (
                per_case.with_columns(__i=pl.int_range(pl.len()))
                .group_by("__case", "__v")
                .agg(__n=pl.len(), __last=pl.col("__i").max())
                .sort(["__case", "__n", "__last"])
                .group_by("__case")
                .agg(pl.col("__v").last())
            )
        appeals = appeals.join(agg.rename({"__v": key}), left_on="appeal_id", right_on="__case", how="left")
        fill = a.default if a.default is not None else ("unknown" if key in _REQUIRED_ATTRIBUTES else None)
        if fill is not None:
            appeals = appeals.with_columns(pl.col(key).fill_null(fill))
    appeal_cols = [c.name for c in TABLES["appeals"].columns if c.name in appeals.columns]
    appeals = appeals.select(appeal_cols).sort("appeal_id")

    event_cols = [c.name for c in TABLES["appeal_events"].columns]
    appeal_events = events.rename({"__case": "appeal_id", "__ts": "occurred_at"}).select(event_cols)

    tables: dict[str, pl.DataFrame] = {"appeals": appeals, "appeal_events": appeal_events}
    if mp.specialists:
        tables["specialists"] = (
            appeal_events.filter((pl.col("actor_type") == "specialist") & pl.col("actor_id").is_not_null())
            .select(specialist_id=pl.col("actor_id"))
            .unique()
            .sort("specialist_id")
            .with_columns(display_name=pl.col("specialist_id"))
        )
    tables["import_skipped_rows"] = skip_summary.select(
        reason=pl.col("__reason"),
        rows=pl.col("rows").cast(pl.Int64),
        example_case_ids=pl.col("examples").list.join(", "),
        mapping=pl.lit(mp.name),
    )

    result = ImportResult(
        tables={k: t.height for k, t in tables.items()},
        source_rows=source_rows,
        used_rows=used_rows,
        skipped=skipped,
        cases=appeals.height,
        mapping_name=mp.name,
        examples=examples,
    )
    return tables, result
