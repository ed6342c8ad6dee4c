"""Import a third-party case event log into a contract warehouse through a YAML mapping.

A case system we have never seen (ServiceNow audit rows, a help-desk activity log, a
road-traffic-fine log, ...) is turned into `appeals` + `appeal_events` (+ `specialists`,
`enforcements`) by a documented mapping (mappings/*.yml, explained in mappings/README.md).
Nothing is dropped silently: every source row is either *used* (it produced at least one event,
is the case's creation record or its enforcement record) or counted under a named skip reason
in `ImportResult.skipped`; the counts are also written to the warehouse (`import_skipped_rows`,
`import_runs`) where `check` and the Data quality page read them.

How a row becomes events
1. Derived columns (`derive`) are added to the source rows.
2. Cases are selected (`appeals.any_row`: a case is an appeal when any of its rows matches);
   the rows of other cases are `not_an_appeal`, except the one that is the case's enforcement.
3. Rows are grouped by case and ordered by (timestamp, the mapping's `order_by` columns, file
   order). Naive timestamps are wall-clock times in the mapping's `timezone` and are stored in UTC.
4. Each row has a *state*: a source column (ServiceNow `incident_state`) or one derived from
   the activity (`state.from_activity`, carried forward over activities that do not change it).
   `from` is the previous row's state (`skipped_rows: set_state`, version 1) or the state of
   the last row a rule used (`skipped_rows: keep_state`, the default of version 2).
5. The first rule in `rules` whose conditions all hold decides the row: `events` (one or more
   contract events, in order), `skip: reason`, or `created: true` (the creation record).
6. Optionally an assignee column: a change to a non-empty value emits `assigned` (actor = the
   new assignee) before the rule's events.
Event ids are `<case id>-<sequence>` with a zero-padded sequence in lifecycle order, so the
engine's (occurred_at, event_id) order is the order derived here.

Everything is vectorised with Polars (the ServiceNow log has 120k rows) except the per-case
state walk of `keep_state`, where a row's `from` depends on the rules' decisions before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml

from metrics.contract import ACTOR_TYPES, ENFORCEMENT_SOURCES, EVENT_TYPES, OUTCOMES, TABLES
from metrics.importlog.common import (
    BAD_TIMESTAMP,
    DEFAULT_MAX_UNMATCHED,
    MISSING_ACTIVITY,
    MISSING_CASE_ID,
    MISSING_STATE,
    MISSING_TIMESTAMP,
    NO_CREATED_AT,
    NO_RULE,
    NOT_AN_APPEAL,
    ImportResult,
    MappingError,
    parse_max_unmatched,
)

__all__ = ["Mapping", "build_tables", "load_mapping", "parse_mapping"]


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
    "derive",
    "appeals",
    "enforcements",
    "max_unmatched",
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
_RULE_WHEN = {"activity", "from", "to", "first_row", "changed", "where"}
_RULE_THEN = {"events", "skip", "created"}
_RULE_OPTIONS = {"why", "sets_state"}
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
_ENFORCEMENT_KEYS = ("enforcement_id", "user_id", "action", "policy", "source", "enforced_by")
_PICKS = ("first", "last", "most_common")
_OUTCOME_ROWS = ("this_row", "earlier_rows", "case")
_SKIPPED_ROWS = ("set_state", "keep_state")
_REASON_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_RE = re.compile(r"\{([^{}]+)\}")
_DEFAULT_ACTOR = "\x00default"  # an event without `actor:` uses the mapping's actor
_CREATED_RULE = "created_rule"
# characters with a meaning in a regular expression (Rust regex syntax, as Polars uses)
_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


@dataclass
class _Value:
    """A value per row: a source column, a constant or a template over columns."""

    column: str | None = None
    value: str | None = None
    template: str | None = None
    coalesce: list[str] | None = None

    def columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.coalesce is not None:
            return list(self.coalesce)
        return _template_columns(self.template)

    def expr(self) -> pl.Expr:
        if self.column is not None:
            return _text(self.column)
        if self.value is not None:
            return pl.lit(self.value, pl.String)
        if self.coalesce is not None:
            return pl.coalesce([_text(c) for c in self.coalesce])
        return _template_expr(self.template)


@dataclass
class _Match:
    """Values a text must (or, negated, must not) be: exact values, null, and * / ? wildcards."""

    exact: list[str]
    globs: list[str]  # anchored regular expressions
    null: bool = False
    negate: bool = False

    def expr(self, e: pl.Expr) -> pl.Expr:
        cond = e.is_in(pl.Series(self.exact, dtype=pl.String).implode()) if self.exact else pl.lit(False)
        for g in self.globs:
            cond = cond | e.str.contains(g)
        if self.null:
            cond = cond | e.is_null()
        cond = cond.fill_null(False)
        return ~cond if self.negate else cond

    def test(self, v: str | None) -> bool:
        hit = self.null if v is None else v in self.exact or any(p.match(v) for p in self._compiled())
        return hit != self.negate

    def _compiled(self) -> list[re.Pattern]:
        if not hasattr(self, "_patterns"):
            self._patterns = [re.compile(g[1:-1] + r"\Z") for g in self.globs]
        return self._patterns


@dataclass
class _Cond:
    """Conditions on a row's own columns (no lifecycle): activity and `where`."""

    activity: _Match | None = None
    where: dict[str, _Match] = field(default_factory=dict)

    def columns(self) -> list[str]:
        return list(self.where)

    def exprs(self) -> list[pl.Expr]:
        out = []
        if self.activity is not None:
            out.append(self.activity.expr(pl.col("__act")))
        for col, m in self.where.items():
            out.append(m.expr(_text(col)))
        return out

    def expr(self) -> pl.Expr:
        parts = self.exprs()
        return pl.all_horizontal(parts) if parts else pl.lit(True)


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
    actor: Any  # _DEFAULT_ACTOR, None (no actor) or a _Value
    actor_type: str | None  # None = default (mapping actor_type, system_actors -> system)
    outcome: str | None = None
    outcome_from: dict | None = None
    root_cause: _Value | None = None
    escalation_target: _Value | None = None
    note: str | None = None


@dataclass
class _Rule:
    index: int
    activity: _Match | None = None
    from_: _Match | None = None
    to: _Match | None = None
    first_row: bool | None = None
    changed: bool | None = None
    where: dict[str, _Match] = field(default_factory=dict)
    events: list[_Event] = field(default_factory=list)
    skip: str | None = None
    created: bool = False
    sets_state: bool = True  # keep_state: does the row's state become the case's state?


@dataclass
class _Enforcements:
    when: _Cond
    fields: dict[str, _Value]  # enforcements column -> value; enforcement_id defaults to the case id


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
    version: int = 1
    actor_value: _Value | None = None  # constant / template actor (instead of actor_column)
    created_from_rule: bool = False
    keep_state: bool = False
    derive: dict[str, _Value] = field(default_factory=dict)
    appeal_when: _Cond | None = None
    enforcements: _Enforcements | None = None
    max_unmatched: str = DEFAULT_MAX_UNMATCHED

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
        if self.actor_value is not None:
            for c in self.actor_value.columns():
                add(c, "mapping.actor")
        add(self.activity, "mapping.activity")
        add(self.state_column, "mapping.state.column")
        add(self.assignee, "mapping.assignment.column")
        for key, a in self.attributes.items():
            add(a.column, f"mapping.attributes.{key}.column")
            for c in _template_columns(a.template):
                add(c, f"mapping.attributes.{key}.template")
        if self.appeal_when is not None:
            for c in self.appeal_when.columns():
                add(c, f"mapping.appeals.any_row.where.{c}")
        if self.enforcements is not None:
            for c in self.enforcements.when.columns():
                add(c, f"mapping.enforcements.when.where.{c}")
            for k, v in self.enforcements.fields.items():
                for c in v.columns():
                    add(c, f"mapping.enforcements.{k}")
        for r in self.rules:
            for c in r.where:
                add(c, f"mapping.rules[{r.index}].where.{c}")
            for j, ev in enumerate(r.events):
                base = f"mapping.rules[{r.index}].events[{j}]"
                if isinstance(ev.actor, _Value):
                    for c in ev.actor.columns():
                        add(c, f"{base}.actor")
                for c in _template_columns(ev.note):
                    add(c, f"{base}.note")
                for name in ("root_cause", "escalation_target"):
                    v = getattr(ev, name)
                    if v is not None:
                        for c in v.columns():
                            add(c, f"{base}.{name}")
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


def _glob_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch in _REGEX_META:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "^" + "".join(out) + "$"


def _parse_match(raw: Any, key: str, allow_null: bool = True) -> _Match:
    """A value, a list of values (null allowed), or {not: value or list}; * and ? are wildcards."""
    negate = False
    if isinstance(raw, dict):
        raw = _check_keys(raw, {"not"}, key)
        if "not" not in raw:
            raise _fail(key, "expected a value, a list of values or {not: ...}")
        raw, negate, key = raw["not"], True, f"{key}.not"
    values = _as_list(raw, key, allow_null_items=allow_null)
    exact = [v for v in values if v is not None and "*" not in v and "?" not in v]
    globs = [_glob_regex(v) for v in values if v is not None and ("*" in v or "?" in v)]
    return _Match(exact=exact, globs=globs, null=None in values, negate=negate)


def _parse_where(raw: Any, key: str) -> dict[str, _Match]:
    raw = _as_dict(raw, key)
    return {str(col): _parse_match(spec, f"{key}.{col}") for col, spec in raw.items()}


def _parse_cond(raw: Any, key: str, activity: str | None) -> _Cond:
    c = _check_keys(raw, {"activity", "where"}, key)
    if not c:
        raise _fail(key, "give 'activity' and/or 'where' (conditions on the row's columns)")
    cond = _Cond()
    if "activity" in c:
        if activity is None:
            raise _fail(f"{key}.activity", "needs 'mapping.activity' (the activity column)")
        cond.activity = _parse_match(c["activity"], f"{key}.activity")
    if "where" in c:
        cond.where = _parse_where(c["where"], f"{key}.where")
    return cond


def _parse_value(raw: Any, key: str, bare: str = "column") -> _Value:
    """`bare` says what a plain text means: a column name (attributes, actor) or a constant."""
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        text = _as_str(raw, key)
        return _Value(column=text) if bare == "column" else _Value(value=text)
    spec = _check_keys(raw, {"column", "value", "template", "coalesce"}, key)
    given = [k for k in ("column", "value", "template", "coalesce") if k in spec]
    if len(given) != 1:
        raise _fail(key, "give exactly one of 'column', 'value' (a constant), 'template' or 'coalesce'")
    k = given[0]
    if k == "coalesce":
        cols = _as_list(spec[k], f"{key}.coalesce")
        if len(cols) < 2:
            raise _fail(f"{key}.coalesce", "name two or more columns (the first non-empty one is used)")
        return _Value(coalesce=cols)
    return _Value(**{k: _as_str(spec[k], f"{key}.{k}")})


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
    if version not in (1, 2):
        raise _fail("mapping.version", f"unsupported version {version!r} (expected 1 or 2)")

    case_id = _as_str(m.get("case_id"), "mapping.case_id")

    derive: dict[str, _Value] = {}
    if m.get("derive") is not None:
        for col, spec in _as_dict(m["derive"], "mapping.derive").items():
            key = f"mapping.derive.{col}"
            derive[str(col)] = _Value(template=_as_str(spec, key)) if isinstance(spec, str) else _parse_value(spec, key)

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
    created_from_rule = created == _CREATED_RULE
    if created not in ("first_event", _CREATED_RULE):
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
        actor if actor is not None else {},
        {"column", "value", "template", "actor_type", "system_actors"},
        "mapping.actor",
    )
    if sum(k in actor for k in ("column", "value", "template")) > 1:
        raise _fail("mapping.actor", "give one of 'column', 'value' (a constant) or 'template'")
    actor_column = _as_str(actor.get("column"), "mapping.actor.column", allow_none=True)
    actor_value = None
    if "value" in actor or "template" in actor:
        k = "value" if "value" in actor else "template"
        actor_value = _Value(**{k: _as_str(actor[k], f"mapping.actor.{k}")})
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
    keep_state = version >= 2
    if state is not None:
        if isinstance(state, str):
            state = {"column": state}
        state = _check_keys(state, {"column", "from_activity", "skipped_rows"}, "mapping.state")
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
        if "skipped_rows" in state:
            sr = _as_str(state["skipped_rows"], "mapping.state.skipped_rows")
            if sr not in _SKIPPED_ROWS:
                raise _fail("mapping.state.skipped_rows", f"expected one of {', '.join(_SKIPPED_ROWS)}, got '{sr}'")
            keep_state = sr == "keep_state"

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

    appeal_when = None
    if m.get("appeals") is not None:
        sel = _check_keys(m["appeals"], {"any_row"}, "mapping.appeals")
        if "any_row" not in sel:
            raise _fail("mapping.appeals", "needs 'any_row' (a case is an appeal when one of its rows matches)")
        appeal_when = _parse_cond(sel["any_row"], "mapping.appeals.any_row", activity)

    enforcements = None
    if m.get("enforcements") is not None:
        enf = _check_keys(m["enforcements"], {"when", *_ENFORCEMENT_KEYS}, "mapping.enforcements")
        if "when" not in enf:
            raise _fail("mapping.enforcements", "needs 'when' (which row of a case is its enforcement)")
        fields = {k: _parse_value(enf[k], f"mapping.enforcements.{k}") for k in _ENFORCEMENT_KEYS if k in enf}
        for k in ("action", "policy", "source"):
            if k not in fields:
                raise _fail(f"mapping.enforcements.{k}", "is required (the contract's enforcements column)")
        src = fields["source"]
        if src.value is not None and src.value not in ENFORCEMENT_SOURCES:
            raise _fail("mapping.enforcements.source", f"'{src.value}' is not one of {', '.join(ENFORCEMENT_SOURCES)}")
        enforcements = _Enforcements(when=_parse_cond(enf["when"], "mapping.enforcements.when", activity),
                                     fields=fields)

    rules_raw = m.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _fail("mapping.rules", "is required: a list of rules (when → events / skip / created)")
    rules = [_parse_rule(i, r, activity, state_column or from_activity) for i, r in enumerate(rules_raw)]
    if created_from_rule and not any(r.created for r in rules):
        raise _fail("mapping.created_at", "'created_rule' needs a rule with 'created: true'")

    tables = _check_keys(m.get("tables") or {}, {"specialists"}, "mapping.tables")
    specialists = bool(tables.get("specialists", True))

    max_unmatched = DEFAULT_MAX_UNMATCHED
    if "max_unmatched" in m:
        max_unmatched = parse_max_unmatched(m["max_unmatched"], "mapping.max_unmatched")

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
        version=version,
        actor_value=actor_value,
        created_from_rule=created_from_rule,
        keep_state=keep_state and bool(state_column or from_activity),
        derive=derive,
        appeal_when=appeal_when,
        enforcements=enforcements,
        max_unmatched=max_unmatched,
    )


def _parse_rule(i: int, raw: Any, activity: str | None, has_state: Any) -> _Rule:
    key = f"mapping.rules[{i}]"
    r = _check_keys(raw, _RULE_WHEN | _RULE_THEN | _RULE_OPTIONS, key)
    thens = [k for k in _RULE_THEN if k in r]
    if len(thens) != 1:
        raise _fail(key, "needs exactly one of 'events', 'skip' or 'created: true'")
    rule = _Rule(index=i)
    if "activity" in r:
        if activity is None:
            raise _fail(f"{key}.activity", "needs 'mapping.activity' (the activity column)")
        rule.activity = _parse_match(r["activity"], f"{key}.activity", allow_null=False)
    for k in ("from", "to", "changed"):
        if k in r and not has_state:
            raise _fail(f"{key}.{k}", "needs 'mapping.state' (a state column or state.from_activity)")
    if "from" in r:
        rule.from_ = _parse_match(r["from"], f"{key}.from")
    if "to" in r:
        rule.to = _parse_match(r["to"], f"{key}.to", allow_null=False)
    if "where" in r:
        rule.where = _parse_where(r["where"], f"{key}.where")
    for k in ("first_row", "changed"):
        if k in r:
            if not isinstance(r[k], bool):
                raise _fail(f"{key}.{k}", "must be true or false")
            setattr(rule, k, r[k])
    if "skip" in r:
        rule.skip = _check_reason(_as_str(r["skip"], f"{key}.skip"), f"{key}.skip")
        rule.sets_state = False
    elif "created" in r:
        if r["created"] is not True:
            raise _fail(f"{key}.created", "must be true (the row is the case's creation record)")
        rule.created = True
    else:
        evs = r["events"]
        if not isinstance(evs, list) or not evs:
            evs = [evs]
        rule.events = [_parse_event(f"{key}.events[{j}]", e) for j, e in enumerate(evs)]
    if "sets_state" in r:
        if not isinstance(r["sets_state"], bool):
            raise _fail(f"{key}.sets_state", "must be true or false")
        if "skip" not in r:
            raise _fail(f"{key}.sets_state", "belongs on a 'skip' rule (rows a rule uses always set the state)")
        rule.sets_state = r["sets_state"]
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
        of = _check_keys(e["outcome_from"], {"column", "values", "rows", "default"}, f"{key}.outcome_from")
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
        rows = _as_str(of.get("rows", "this_row"), f"{key}.outcome_from.rows")
        if rows not in _OUTCOME_ROWS:
            raise _fail(f"{key}.outcome_from.rows", f"expected one of {', '.join(_OUTCOME_ROWS)}, got '{rows}'")
        has_default = "default" in of
        default = _as_str(of.get("default"), f"{key}.outcome_from.default", allow_none=True)
        if default is not None and default not in OUTCOMES:
            raise _fail(f"{key}.outcome_from.default", f"unknown outcome '{default}' (expected one of {', '.join(OUTCOMES)})")
        outcome_from = {"column": col, "values": values, "rows": rows, "has_default": has_default, "default": default}
        if outcome is not None:
            raise _fail(key, "give either 'outcome' or 'outcome_from', not both")
    if (outcome is not None or outcome_from is not None) and etype != "decided":
        raise _fail(f"{key}.outcome", "an outcome belongs on a 'decided' event only")
    actor: Any = _DEFAULT_ACTOR
    if "actor" in e:
        actor = None if e["actor"] is None else _parse_value(e["actor"], f"{key}.actor")
    targets = {}
    for name in ("root_cause", "escalation_target"):
        if e.get(name) is not None:
            targets[name] = _parse_value(e[name], f"{key}.{name}", bare="value")
    return _Event(
        type=etype,
        actor=actor,
        actor_type=actor_type,
        outcome=outcome,
        outcome_from=outcome_from,
        root_cause=targets.get("root_cause"),
        escalation_target=targets.get("escalation_target"),
        note=_as_str(e.get("note"), f"{key}.note", allow_none=True),
    )


# --------------------------------------------------------------------------------------------
# Values and timestamps
# --------------------------------------------------------------------------------------------


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


def _timestamps(df: pl.DataFrame, col: str, zone: str, fmt: str | None) -> pl.Expr:
    """`_timestamp_expr`, parsed once per distinct text (logs repeat their timestamps: the
    fine log has a few thousand dates over half a million rows) and looked up per row."""
    if df.schema[col] != pl.String:
        return _timestamp_expr(df, col, zone, fmt)
    uniq = df.select(pl.col(col).unique().drop_nulls())
    parsed = uniq.select(pl.col(col), __p=_timestamp_expr(uniq, col, zone, fmt)).drop_nulls("__p")
    return pl.col(col).replace_strict(
        parsed[col], parsed["__p"], default=None, return_dtype=pl.Datetime("us", "UTC")
    )


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


def _is_in(expr: pl.Expr, series: pl.Series) -> pl.Expr:
    return expr.is_in(series.implode()).fill_null(False)


def _static_conds(r: _Rule) -> list[pl.Expr]:
    """A rule's conditions on the row itself (not on the lifecycle state)."""
    conds = []
    if r.activity is not None:
        conds.append(r.activity.expr(pl.col("__act")))
    for col, m in r.where.items():
        conds.append(m.expr(_text(col)))
    if r.first_row is not None:
        conds.append(pl.col("__first_row") == r.first_row)
    return conds


def _rules_vectorised(v: pl.DataFrame, mp: Mapping) -> pl.DataFrame:
    """Version-1 state: `from` is the previous row's state, whatever became of that row."""
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
        conds = _static_conds(r)
        if r.from_ is not None:
            conds.append(~pl.col("__first_row") & r.from_.expr(pl.col("__prev")))
        if r.to is not None:
            conds.append(r.to.expr(pl.col("__state")))
        if r.changed is not None:
            conds.append(pl.col("__changed") == r.changed)
        cond = pl.all_horizontal(conds) if conds else pl.lit(True)
        rule_idx = (pl.when(cond) if rule_idx is None else rule_idx.when(cond)).then(
            pl.lit(r.index, pl.Int32)
        )
    return v.with_columns(__rule=rule_idx.otherwise(pl.lit(None, pl.Int32)))


def _rules_keep_state(v: pl.DataFrame, mp: Mapping) -> pl.DataFrame:
    """`skipped_rows: keep_state`: the case's state changes only on rows a rule used.

    A row's `from` is the state of the last earlier row that a rule decided with events or
    `created` (or a skip rule with `sets_state: true`); skipped and unmatched rows leave it as
    it was. Whether a row is skipped feeds the next row's rules: a walk over each case's rows.
    """
    if mp.state_column:
        here = pl.col("__state_raw")
    else:
        keys = list(mp.state_from_activity)
        here = pl.col("__act").replace_strict(
            keys, [mp.state_from_activity[k] for k in keys], default=None, return_dtype=pl.String
        )
    carry_unlisted = mp.state_column is None  # an activity that names no state keeps the case's state
    statics = {f"__s{r.index}": (pl.all_horizontal(c) if (c := _static_conds(r)) else pl.lit(True)) for r in mp.rules}
    frame = v.select("__case", __here=here, **statics)
    cases = frame["__case"].to_list()
    heres = frame["__here"].to_list()
    static_cols = [frame[f"__s{r.index}"].to_list() for r in mp.rules]
    dyn = [(r.from_, r.to, r.changed, r.sets_state) for r in mp.rules]
    rule_out: list[int | None] = []
    state_out: list[str | None] = []
    prev_out: list[str | None] = []
    current: object = object()
    carried: str | None = None
    first = True
    for k, case in enumerate(cases):
        if case != current:
            current, carried, first = case, None, True
        state = heres[k] if heres[k] is not None or not carry_unlisted else carried
        changed = first or state != carried
        pick = None
        for i, (from_, to, chg, _sets_state) in enumerate(dyn):
            if not static_cols[i][k]:
                continue
            # before any used row there is no state: only a listed `null` matches it
            if from_ is not None and not (from_.test(carried) if carried is not None
                                          else from_.null and not from_.negate):
                continue
            if to is not None and not to.test(state):
                continue
            if chg is not None and changed != chg:
                continue
            pick = i
            break
        rule_out.append(mp.rules[pick].index if pick is not None else None)
        state_out.append(state)
        prev_out.append(carried)
        if pick is not None and dyn[pick][3]:
            carried = state
        first = False
    return v.with_columns(
        __rule=pl.Series(rule_out, dtype=pl.Int32),
        __state=pl.Series(state_out, dtype=pl.String),
        __prev=pl.Series(prev_out, dtype=pl.String),
    )


def _pick(per_case: pl.DataFrame, pick: str) -> pl.DataFrame:
    if pick == "first":
        return per_case.group_by("__case").agg(pl.col("__v").first())
    if pick == "last":
        return per_case.group_by("__case").agg(pl.col("__v").last())
    # most_common; ties → the value seen last
    return (
        per_case.with_columns(__i=pl.int_range(pl.len()))
        .group_by("__case", "__v")
        .agg(__n=pl.len(), __last=pl.col("__i").max())
        .sort(["__case", "__n", "__last"])
        .group_by("__case")
        .agg(pl.col("__v").last())
    )


def build_tables(raw: pl.DataFrame, mp: Mapping) -> tuple[dict[str, pl.DataFrame], ImportResult]:
    for col, spec in mp.derive.items():
        if col in raw.columns:
            raise MappingError(f"mapping.derive.{col}: column '{col}' is already in the events file")
        for c in spec.columns():
            if c not in raw.columns:
                raise MappingError(f"mapping.derive.{col}: column '{c}' not in events file")
        raw = raw.with_columns(spec.expr().alias(col))
    for col, key in mp.referenced_columns().items():
        if col not in raw.columns:
            raise MappingError(f"{key}: column '{col}' not in events file")

    df = raw.with_row_index("__row")
    source_rows = df.height

    cols: dict[str, pl.Expr] = {
        "__case": _text(mp.case_id),
        "__ts": _timestamps(df, mp.ts_column, mp.ts_timezone, mp.ts_format),
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
    elif mp.actor_value is not None:
        cols["__actor"] = mp.actor_value.expr()
    if mp.assignee:
        cols["__assignee"] = _text(mp.assignee)
    if mp.created_column:
        cols["__created_col"] = _timestamps(df, mp.created_column, mp.created_timezone, mp.created_format)
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

    # Which cases are appeals; which row of a case is its enforcement (appeal or not).
    if mp.appeal_when is not None:
        chosen = df.filter(pl.col("__case").is_not_null() & mp.appeal_when.expr())["__case"].unique()
        df = df.with_columns(__appeal=_is_in(pl.col("__case"), chosen))
    else:
        df = df.with_columns(__appeal=pl.lit(True))
    if mp.enforcements is not None:
        enf_rows = (
            df.filter(pl.col("__invalid").is_null() & mp.enforcements.when.expr())
            .sort(sort_keys)
            .group_by("__case", maintain_order=True)
            .agg(pl.col("__row").first())
        )["__row"]
        df = df.with_columns(__enf=_is_in(pl.col("__row"), enf_rows))
    else:
        df = df.with_columns(__enf=pl.lit(False))
    df = df.with_columns(
        __invalid=pl.when(pl.col("__invalid").is_null() & ~pl.col("__appeal") & ~pl.col("__enf"))
        .then(pl.lit(NOT_AN_APPEAL))
        .otherwise(pl.col("__invalid"))
    )

    # created_at per case (column / first event; a created rule's row is found after the rules).
    life = pl.col("__invalid").is_null() & pl.col("__appeal")
    cases = df.filter(pl.col("__case").is_not_null() & pl.col("__appeal")).select("__case").unique()
    first_event = df.filter(life).group_by("__case").agg(__first=pl.col("__ts").min())
    created = cases.join(first_event, on="__case", how="left")
    if mp.created_column:
        col_created = (
            df.filter(pl.col("__case").is_not_null() & pl.col("__appeal"))
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

    # Lifecycle of the valid rows of appeal cases.
    v = df.filter(life).sort(sort_keys)
    v = v.with_columns(__first_row=pl.int_range(pl.len()).over("__case") == 0)
    v = _rules_keep_state(v, mp) if mp.keep_state else _rules_vectorised(v, mp)
    created_rules = [r.index for r in mp.rules if r.created]
    is_created_row = _is_in(pl.col("__rule"), pl.Series(created_rules, dtype=pl.Int32))
    if mp.created_from_rule:
        by_rule = v.filter(is_created_row).group_by("__case", maintain_order=True).agg(__cr=pl.col("__ts").first())
        created = created.join(by_rule, on="__case", how="left").with_columns(__created=pl.col("__cr")).drop("__cr")
    no_created = created.filter(pl.col("__created").is_null())["__case"]
    created = created.filter(pl.col("__created").is_not_null())
    v = v.with_columns(__nc=_is_in(pl.col("__case"), no_created))

    if mp.assignee:
        prev_assignee = pl.col("__assignee").shift(1).over("__case")
        v = v.with_columns(
            __assign=pl.col("__assignee").is_not_null()
            & (pl.col("__first_row") | pl.col("__assignee").ne_missing(prev_assignee)),
            __cleared=pl.col("__assignee").is_null() & ~pl.col("__first_row") & prev_assignee.is_not_null(),
        )

    # Outcome sources that look beyond the row: computed over the whole case before filtering.
    outcome_cols: dict[tuple[int, int], str] = {}
    for r in mp.rules:
        for j, ev in enumerate(r.events):
            if ev.outcome_from:
                name = f"__oc{r.index}_{j}"
                src = _text(ev.outcome_from["column"])
                if ev.outcome_from["rows"] == "earlier_rows":
                    src = src.forward_fill().over("__case")
                elif ev.outcome_from["rows"] == "case":
                    src = src.forward_fill().last().over("__case")
                v = v.with_columns(src.alias(name))
                outcome_cols[(r.index, j)] = name

    # Events.
    system = pl.Series(mp.system_actors, dtype=pl.String).implode()
    default_actor = pl.col("__actor") if "__actor" in v.columns else pl.lit(None, pl.String)
    base = ["__case", "__ts", "__row"]
    pieces: list[pl.DataFrame] = []
    unlisted: dict[str, int] = {}
    life_rows = v.filter(~pl.col("__nc"))

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
        root_cause: pl.Expr | None = None,
        target: pl.Expr | None = None,
        note: pl.Expr | None = None,
    ) -> pl.DataFrame:
        null = pl.lit(None, pl.String)
        return rows.select(
            *base,
            __sub=pl.lit(sub, pl.Int32),
            event_type=pl.lit(etype),
            actor_id=actor.cast(pl.String),
            actor_type=actor_type,
            outcome=outcome if outcome is not None else null,
            root_cause=root_cause if root_cause is not None else null,
            escalation_target=target if target is not None else null,
            note=note if note is not None else null,
        )

    if mp.assignee:
        rows = life_rows.filter("__assign")
        pieces.append(frame(rows, 0, "assigned", pl.col("__assignee"), pl.lit("specialist")))
    for r in mp.rules:
        if not r.events:
            continue
        rows = life_rows.filter(pl.col("__rule") == r.index)
        if rows.height == 0:
            continue
        for j, ev in enumerate(r.events):
            if ev.actor == _DEFAULT_ACTOR:
                actor = default_actor
            elif ev.actor is None:
                actor = pl.lit(None, pl.String)
            else:
                actor = ev.actor.expr()
            if ev.outcome_from:
                of = ev.outcome_from
                keys = list(of["values"])
                src = pl.col(outcome_cols[(r.index, j)])
                listed = src.is_in(pl.Series(keys, dtype=pl.String).implode()).fill_null(False)
                mapped = src.replace_strict(keys, list(of["values"].values()), default=None, return_dtype=pl.String)
                # an unlisted value passes through unchanged (as attribute `values` do) unless a
                # `default` is given; either way it is counted
                other = pl.lit(of["default"], pl.String) if of["has_default"] else src
                outcome = pl.when(listed).then(mapped).otherwise(other)
                counts = rows.filter(src.is_not_null() & ~listed).group_by(src.alias("__v")).len()
                for value, n in counts.iter_rows():
                    unlisted[value] = unlisted.get(value, 0) + int(n)
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
                    ev.root_cause.expr() if ev.root_cause is not None else None,
                    ev.escalation_target.expr() if ev.escalation_target is not None else None,
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
    skip_by_rule = {r.index: r.skip for r in mp.rules if r.skip}
    used = pl.col("__emitted") | pl.col("__enf")
    if created_rules:
        used = used | is_created_row
    reason = pl.when(pl.col("__nc") & ~pl.col("__enf")).then(pl.lit(NO_CREATED_AT)).when(used).then(None)
    if mp.assignee and mp.assignee_cleared_reason:
        reason = reason.when(pl.col("__cleared")).then(pl.lit(mp.assignee_cleared_reason))
    if skip_by_rule:
        keys = list(skip_by_rule)
        reason = reason.when(_is_in(pl.col("__rule"), pl.Series(keys, dtype=pl.Int32))).then(
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
    # enforcement rows of cases that are not appeals are used outside any lifecycle
    outside = df.filter(pl.col("__invalid").is_null() & ~pl.col("__appeal")).height
    used_rows = int(v.filter(pl.col("__reason").is_null()).height) + outside
    assert used_rows + sum(skipped.values()) == source_rows, "row accounting does not add up"
    unmatched_examples = _unmatched_examples(v, mp)

    # Appeals: one per case with a created_at.
    appeals = created.select(appeal_id=pl.col("__case"), created_at=pl.col("__created"))
    ordered = df.filter(pl.col("__case").is_not_null()).sort(sort_keys, nulls_last=True)
    enforcement_ids = None
    if mp.enforcements is not None:
        spec = mp.enforcements.fields
        enf_src = df.filter(pl.col("__enf")).sort(sort_keys)
        null = pl.lit(None, pl.String)
        enforcements = enf_src.select(
            __case=pl.col("__case"),
            enforcement_id=spec["enforcement_id"].expr() if "enforcement_id" in spec else pl.col("__case"),
            user_id=spec["user_id"].expr() if "user_id" in spec else null,
            action=spec["action"].expr(),
            policy=spec["policy"].expr(),
            source=spec["source"].expr(),
            enforced_by=spec["enforced_by"].expr() if "enforced_by" in spec else null,
            enforced_at=pl.col("__ts"),
        )
        enforcement_ids = enforcements.select("__case", __enf_id=pl.col("enforcement_id"))
        enforcements = enforcements.drop("__case").sort("enforcement_id")
    for key in _ATTRIBUTE_KEYS:
        a = mp.attributes.get(key)
        if a is None:
            if key in _REQUIRED_ATTRIBUTES:
                appeals = appeals.with_columns(pl.lit("unknown").alias(key))
            elif key == "enforcement_id" and enforcement_ids is not None:
                appeals = appeals.join(
                    enforcement_ids.rename({"__enf_id": key}), left_on="appeal_id", right_on="__case", how="left"
                )
            continue
        if a.value is not None:
            appeals = appeals.with_columns(pl.lit(a.value).alias(key))
            continue
        expr = _text(a.column) if a.column else _template_expr(a.template)
        if a.values:
            ks = list(a.values)
            expr = expr.replace(ks, [a.values[k] for k in ks])
        per_case = ordered.select("__case", __v=expr).drop_nulls("__v")
        agg = _pick(per_case, a.pick)
        appeals = appeals.join(agg.rename({"__v": key}), left_on="appeal_id", right_on="__case", how="left")
        fill = a.default if a.default is not None else ("unknown" if key in _REQUIRED_ATTRIBUTES else None)
        if fill is not None:
            appeals = appeals.with_columns(pl.col(key).fill_null(fill))
    appeal_cols = [c.name for c in TABLES["appeals"].columns if c.name in appeals.columns]
    appeals = appeals.select(appeal_cols).sort("appeal_id")

    event_cols = [c.name for c in TABLES["appeal_events"].columns]
    appeal_events = events.rename({"__case": "appeal_id", "__ts": "occurred_at"}).select(event_cols)

    tables: dict[str, pl.DataFrame] = {"appeals": appeals, "appeal_events": appeal_events}
    if mp.enforcements is not None:
        tables["enforcements"] = enforcements
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
        is_unmatched=pl.col("__reason") == NO_RULE,
        example_values=pl.when(pl.col("__reason") == NO_RULE)
        .then(pl.lit("; ".join(unmatched_examples)))
        .otherwise(pl.lit(None, pl.String)),
    )

    result = ImportResult(
        tables={k: t.height for k, t in tables.items()},
        source_rows=source_rows,
        used_rows=used_rows,
        skipped=skipped,
        cases=appeals.height,
        mapping_name=mp.name,
        examples=examples,
        unmatched_examples=unmatched_examples,
        unlisted_outcomes=unlisted,
        max_unmatched=mp.max_unmatched,
    )
    return tables, result


def _unmatched_examples(v: pl.DataFrame, mp: Mapping, limit: int = 5) -> list[str]:
    """What the rows nobody decided about look like: the commonest (activity, from, state)."""
    rows = v.filter(pl.col("__reason") == NO_RULE)
    if rows.height == 0:
        return []
    keys = [c for c in ("__act", "__prev", "__state") if c in rows.columns]
    if not keys:
        return [f"{rows.height} rows, e.g. case {rows['__case'][0]}"]
    top = (
        rows.group_by(keys, maintain_order=True)
        .agg(n=pl.len(), case=pl.col("__case").first())
        .sort("n", descending=True, maintain_order=True)
        .head(limit)
    )
    labels = {"__act": "activity", "__prev": "from", "__state": "state"}
    out = []
    for row in top.iter_rows(named=True):
        parts = [f"{labels[k]} {row[k]!r}" if row[k] is not None else f"{labels[k]} null" for k in keys]
        out.append(f"{', '.join(parts)} ({row['n']} rows, e.g. case {row['case']})")
    return out
