"""Zendesk adapter: the Fivetran Zendesk connector schema read as the warehouse contract.

The mapping is SQL under sql/adapters/zendesk/ (one SELECT per contract table, plus shared
building blocks in _sources.sql); docs/zendesk.md states every rule. This module

- reads and checks the YAML configuration (`load_config` → `ZendeskConfig`): which groups are
  appeals queues, the priority map, where the outcome and root cause live (a custom ticket
  field or tags), bots whose comments are system messages, escalation groups, optional SLA
  policies;
- opens the warehouse read-only and checks the Fivetran tables and columns it reads
  (`open_warehouse`), then fills the SQL's placeholders with generated SQL only: the schema
  prefix (a checked, quoted identifier), column-or-null fragments for optional connector
  columns, and SELECTs of bind parameters (`:zd_group_0_id`, ...). Configuration values reach
  the database only as bind values in `Warehouse.adapter_params`, never inside the SQL text.

Nothing is created in the user's database: the engine inlines the SELECTs as CTEs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sqlalchemy as sa

from metrics.checks import Check
from metrics.contract import OUTCOMES
from metrics.warehouse import Warehouse, WarehouseError, redact_url

SQL_DIR = Path(__file__).resolve().parent.parent.parent / "sql" / "adapters" / "zendesk"
NAME = "zendesk"

# Contract tables this adapter provides (sla_policies only when the config has rows).
CONTRACT_TABLES = ("appeals", "appeal_events", "specialists", "business_hours", "holidays", "sla_policies")

DEFAULT_PRIORITIES = {"urgent": "P0", "high": "P1", "normal": "P2", "low": "P3", "none": "P2"}
ZENDESK_PRIORITIES = ("urgent", "high", "normal", "low", "none")
DEFAULT_CHANNELS = {
    "web": "web_form",
    "email": "email",
    "mobile_sdk": "in_app",
    "mobile": "in_app",
    "native_messaging": "in_app",
}
OUTCOME_TARGETS = (*OUTCOMES, "withdrawn")  # `withdrawn`: the solve is a withdrawal, not a decision
APPEAL_FIELDS = ("enforcement_id", "market", "appellant_type")
# Zendesk's ticket statuses, and spellings older exports use for them (`statuses` in the
# config adds more); a status outside this vocabulary is counted by a data check.
STATUSES = ("new", "open", "pending", "hold", "solved", "closed", "deleted")
LEGACY_STATUSES = {"on-hold": "hold"}
CLOCKS = ("calendar", "business")

# Fivetran tables and the columns the adapter cannot do without.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket": ("id", "created_at", "status", "priority", "group_id", "requester_id"),
    "ticket_field_history": ("ticket_id", "field_name", "updated", "user_id", "value"),
    "ticket_comment": ("id", "ticket_id", "user_id", "created", "public"),
    "user": ("id", "name", "role"),
    "group": ("id", "name"),
}
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {  # used when present; then these columns are required
    "schedule": ("id", "start_time", "end_time", "time_zone"),
    "schedule_holiday": ("schedule_id", "start_date", "end_date"),
}

# Zendesk stores Ruby on Rails time zone names ("Pacific Time (US & Canada)"); these are
# ActiveSupport::TimeZone::MAPPING's names and IANA zones. IANA names are accepted as they are;
# `time_zones` in the config adds or overrides names.
RAILS_TIME_ZONES: dict[str, str] = {
    "International Date Line West": "Pacific/Midway",
    "Midway Island": "Pacific/Midway",
    "American Samoa": "Pacific/Pago_Pago",
    "Hawaii": "Pacific/Honolulu",
    "Alaska": "America/Juneau",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Tijuana": "America/Tijuana",
    "Mountain Time (US & Canada)": "America/Denver",
    "Arizona": "America/Phoenix",
    "Chihuahua": "America/Chihuahua",
    "Mazatlan": "America/Mazatlan",
    "Central Time (US & Canada)": "America/Chicago",
    "Saskatchewan": "America/Regina",
    "Guadalajara": "America/Mexico_City",
    "Mexico City": "America/Mexico_City",
    "Monterrey": "America/Monterrey",
    "Central America": "America/Guatemala",
    "Eastern Time (US & Canada)": "America/New_York",
    "Indiana (East)": "America/Indiana/Indianapolis",
    "Bogota": "America/Bogota",
    "Lima": "America/Lima",
    "Quito": "America/Lima",
    "Atlantic Time (Canada)": "America/Halifax",
    "Caracas": "America/Caracas",
    "La Paz": "America/La_Paz",
    "Santiago": "America/Santiago",
    "Newfoundland": "America/St_Johns",
    "Brasilia": "America/Sao_Paulo",
    "Buenos Aires": "America/Argentina/Buenos_Aires",
    "Montevideo": "America/Montevideo",
    "Georgetown": "America/Guyana",
    "Puerto Rico": "America/Puerto_Rico",
    "Greenland": "America/Godthab",
    "Mid-Atlantic": "Atlantic/South_Georgia",
    "Azores": "Atlantic/Azores",
    "Cape Verde Is.": "Atlantic/Cape_Verde",
    "Dublin": "Europe/Dublin",
    "Edinburgh": "Europe/London",
    "Lisbon": "Europe/Lisbon",
    "London": "Europe/London",
    "Casablanca": "Africa/Casablanca",
    "Monrovia": "Africa/Monrovia",
    "UTC": "Etc/UTC",
    "Belgrade": "Europe/Belgrade",
    "Bratislava": "Europe/Bratislava",
    "Budapest": "Europe/Budapest",
    "Ljubljana": "Europe/Ljubljana",
    "Prague": "Europe/Prague",
    "Sarajevo": "Europe/Sarajevo",
    "Skopje": "Europe/Skopje",
    "Warsaw": "Europe/Warsaw",
    "Zagreb": "Europe/Zagreb",
    "Brussels": "Europe/Brussels",
    "Copenhagen": "Europe/Copenhagen",
    "Madrid": "Europe/Madrid",
    "Paris": "Europe/Paris",
    "Amsterdam": "Europe/Amsterdam",
    "Berlin": "Europe/Berlin",
    "Bern": "Europe/Zurich",
    "Zurich": "Europe/Zurich",
    "Rome": "Europe/Rome",
    "Stockholm": "Europe/Stockholm",
    "Vienna": "Europe/Vienna",
    "West Central Africa": "Africa/Algiers",
    "Bucharest": "Europe/Bucharest",
    "Cairo": "Africa/Cairo",
    "Helsinki": "Europe/Helsinki",
    "Kyiv": "Europe/Kiev",
    "Kyev": "Europe/Kiev",  # older Rails spelling
    "Riga": "Europe/Riga",
    "Sofia": "Europe/Sofia",
    "Tallinn": "Europe/Tallinn",
    "Vilnius": "Europe/Vilnius",
    "Athens": "Europe/Athens",
    "Istanbul": "Europe/Istanbul",
    "Minsk": "Europe/Minsk",
    "Jerusalem": "Asia/Jerusalem",
    "Harare": "Africa/Harare",
    "Pretoria": "Africa/Johannesburg",
    "Kaliningrad": "Europe/Kaliningrad",
    "Moscow": "Europe/Moscow",
    "St. Petersburg": "Europe/Moscow",
    "Volgograd": "Europe/Volgograd",
    "Samara": "Europe/Samara",
    "Kuwait": "Asia/Kuwait",
    "Riyadh": "Asia/Riyadh",
    "Nairobi": "Africa/Nairobi",
    "Baghdad": "Asia/Baghdad",
    "Tehran": "Asia/Tehran",
    "Abu Dhabi": "Asia/Muscat",
    "Muscat": "Asia/Muscat",
    "Baku": "Asia/Baku",
    "Tbilisi": "Asia/Tbilisi",
    "Yerevan": "Asia/Yerevan",
    "Kabul": "Asia/Kabul",
    "Ekaterinburg": "Asia/Yekaterinburg",
    "Islamabad": "Asia/Karachi",
    "Karachi": "Asia/Karachi",
    "Tashkent": "Asia/Tashkent",
    "Chennai": "Asia/Kolkata",
    "Kolkata": "Asia/Kolkata",
    "Mumbai": "Asia/Kolkata",
    "New Delhi": "Asia/Kolkata",
    "Kathmandu": "Asia/Kathmandu",
    "Astana": "Asia/Dhaka",
    "Dhaka": "Asia/Dhaka",
    "Sri Jayawardenepura": "Asia/Colombo",
    "Almaty": "Asia/Almaty",
    "Novosibirsk": "Asia/Novosibirsk",
    "Rangoon": "Asia/Rangoon",
    "Bangkok": "Asia/Bangkok",
    "Hanoi": "Asia/Bangkok",
    "Jakarta": "Asia/Jakarta",
    "Krasnoyarsk": "Asia/Krasnoyarsk",
    "Beijing": "Asia/Shanghai",
    "Chongqing": "Asia/Chongqing",
    "Hong Kong": "Asia/Hong_Kong",
    "Urumqi": "Asia/Urumqi",
    "Kuala Lumpur": "Asia/Kuala_Lumpur",
    "Singapore": "Asia/Singapore",
    "Taipei": "Asia/Taipei",
    "Perth": "Australia/Perth",
    "Irkutsk": "Asia/Irkutsk",
    "Ulaanbaatar": "Asia/Ulaanbaatar",
    "Ulaan Bataar": "Asia/Ulaanbaatar",  # older Rails spelling
    "Seoul": "Asia/Seoul",
    "Osaka": "Asia/Tokyo",
    "Sapporo": "Asia/Tokyo",
    "Tokyo": "Asia/Tokyo",
    "Yakutsk": "Asia/Yakutsk",
    "Darwin": "Australia/Darwin",
    "Adelaide": "Australia/Adelaide",
    "Canberra": "Australia/Melbourne",
    "Melbourne": "Australia/Melbourne",
    "Sydney": "Australia/Sydney",
    "Brisbane": "Australia/Brisbane",
    "Hobart": "Australia/Hobart",
    "Vladivostok": "Asia/Vladivostok",
    "Guam": "Pacific/Guam",
    "Port Moresby": "Pacific/Port_Moresby",
    "Magadan": "Asia/Magadan",
    "Srednekolymsk": "Asia/Srednekolymsk",
    "Solomon Is.": "Pacific/Guadalcanal",
    "New Caledonia": "Pacific/Noumea",
    "Fiji": "Pacific/Fiji",
    "Kamchatka": "Asia/Kamchatka",
    "Marshall Is.": "Pacific/Majuro",
    "Auckland": "Pacific/Auckland",
    "Wellington": "Pacific/Auckland",
    "Nuku'alofa": "Pacific/Tongatapu",
    "Tokelau Is.": "Pacific/Fakaofo",
    "Chatham Is.": "Pacific/Chatham",
    "Samoa": "Pacific/Apia",
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_FIELD_ID = re.compile(r"^[0-9]+$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRule:
    """A Zendesk group, by id or by exact name, and what it maps to (a queue or a target)."""

    group_id: str | None
    group_name: str | None
    value: str


@dataclass
class ZendeskConfig:
    appeal_groups: list[GroupRule]
    schema: str | None = None  # where the Fivetran tables are (None: the default schema)
    contract_schema: str | None = None  # where enforcements / qa_reviews are, if anywhere
    priorities: dict[str, str | None] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    channels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    outcome_field: str | None = None
    outcome_values: dict[str, str] = field(default_factory=dict)
    outcome_tags: dict[str, str] = field(default_factory=dict)  # in config order: first listed wins
    root_cause_field: str | None = None
    root_cause_tag_prefix: str | None = None
    root_cause_values: dict[str, str] = field(default_factory=dict)
    system_users: list[str] = field(default_factory=list)
    escalation_groups: list[GroupRule] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # appeal column → custom field id | external_id
    time_zones: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)  # raw status name (lower case) → a Zendesk status
    claim_on_self_assignment: bool = False  # an agent taking a ticket (assigning it to themselves) is a touch
    sla_policies: list[dict] = field(default_factory=list)
    source: str = ""  # where the configuration was read from (shown on the connection status)

    @property
    def uses_tags(self) -> bool:
        return bool(self.outcome_tags) or self.root_cause_tag_prefix is not None


TOP_KEYS = (
    "schema", "contract_schema", "appeal_groups", "priorities", "channels", "outcome", "root_cause",
    "system_users", "escalation_groups", "fields", "time_zones", "statuses", "claim_on_self_assignment",
    "sla_policies",
)


def load_config(path: str | Path) -> ZendeskConfig:
    """Read the adapter's YAML file; a bad file raises ValueError (one line naming the key)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the Zendesk adapter config: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"{path}: not valid YAML{where}") from None
    cfg = parse_config(data, str(path))
    cfg.source = str(path)
    return cfg


def parse_config(data, source: str = "zendesk config") -> ZendeskConfig:
    """Check a configuration mapping (as read from YAML) and build a ZendeskConfig."""

    def fail(key: str, message: str):
        raise ValueError(f"{source}: {key}: {message}")

    if not isinstance(data, dict):
        raise ValueError(f"{source}: the configuration must be a mapping of keys (see adapters/zendesk.example.yml)")
    for key in data:
        if key not in TOP_KEYS:
            fail(str(key), f"unknown key (known: {', '.join(TOP_KEYS)})")

    def text(key: str, value, allow_none: bool = False) -> str | None:
        if value is None:
            if allow_none:
                return None
            fail(key, "is required")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            fail(key, f"must be text, got {value!r}")
        value = str(value).strip()
        if not value:
            if allow_none:
                return None
            fail(key, "must not be empty")
        return value

    def mapping(key: str, value) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            fail(key, "must be a mapping")
        return value

    def id_text(key: str, value) -> str:
        v = text(key, value)
        if not _FIELD_ID.match(v):
            fail(key, f"must be a Zendesk numeric id, got {v!r}")
        return v

    def schema_name(key: str, value) -> str | None:
        v = text(key, value, allow_none=True)
        if v is not None and not _IDENTIFIER.match(v):
            fail(key, f"must be a plain schema name (letters, digits, _), got {v!r}")
        return v

    def group_rules(key: str, value, target_key: str) -> list[GroupRule]:
        if value is None:
            return []
        if not isinstance(value, list):
            fail(key, f"must be a list of {{id: ..., {target_key}: ...}} or {{name: ..., {target_key}: ...}}")
        rules = []
        for i, entry in enumerate(value):
            k = f"{key}[{i}]"
            if not isinstance(entry, dict):
                fail(k, f"must be a mapping with id or name, and {target_key}")
            extra = set(entry) - {"id", "name", target_key}
            if extra:
                fail(f"{k}.{sorted(map(str, extra))[0]}", f"unknown key (use id or name, and {target_key})")
            if ("id" in entry) == ("name" in entry):
                fail(k, "give exactly one of id or name")
            gid = id_text(f"{k}.id", entry["id"]) if "id" in entry else None
            gname = text(f"{k}.name", entry["name"]) if "name" in entry else None
            rules.append(GroupRule(gid, gname, text(f"{k}.{target_key}", entry.get(target_key))))
        return rules

    appeal_groups = group_rules("appeal_groups", data.get("appeal_groups"), "queue")
    if not appeal_groups:
        fail("appeal_groups", "is required: list the Zendesk groups that are appeals queues")

    priorities = dict(DEFAULT_PRIORITIES)
    for k, v in mapping("priorities", data.get("priorities")).items():
        key = str(k).strip().lower()
        if key not in ZENDESK_PRIORITIES:
            fail(f"priorities.{k}", f"not a Zendesk priority (use {', '.join(ZENDESK_PRIORITIES)})")
        priorities[key] = text(f"priorities.{k}", v, allow_none=(key == "none"))

    channels = dict(DEFAULT_CHANNELS)
    for k, v in mapping("channels", data.get("channels")).items():
        channels[text("channels", k)] = text(f"channels.{k}", v)

    cfg = ZendeskConfig(
        appeal_groups=appeal_groups,
        schema=schema_name("schema", data.get("schema")),
        contract_schema=schema_name("contract_schema", data.get("contract_schema")),
        priorities=priorities,
        channels=channels,
    )

    # outcome: a custom field (with an optional value map) or tags
    outcome = data.get("outcome")
    if outcome is None:
        fail("outcome", "is required: give custom_field (a ticket field id) or tags")
    outcome = mapping("outcome", outcome)
    for k in outcome:
        if k not in ("custom_field", "values", "tags"):
            fail(f"outcome.{k}", "unknown key (use custom_field with values, or tags)")
    if ("custom_field" in outcome) == ("tags" in outcome):
        fail("outcome", "give exactly one of custom_field or tags")
    if "custom_field" in outcome:
        cfg.outcome_field = id_text("outcome.custom_field", outcome["custom_field"])
        for k, v in mapping("outcome.values", outcome.get("values")).items():
            target = text(f"outcome.values.{k}", v)
            if target not in OUTCOME_TARGETS:
                fail(f"outcome.values.{k}", f"must be one of {', '.join(OUTCOME_TARGETS)}, got {target!r}")
            cfg.outcome_values[text("outcome.values", k)] = target
    else:
        if "values" in outcome:
            fail("outcome.values", "only with custom_field (tags map straight to outcomes)")
        tags = mapping("outcome.tags", outcome["tags"])
        if not tags:
            fail("outcome.tags", "must map at least one tag to an outcome")
        for k, v in tags.items():
            target = text(f"outcome.tags.{k}", v)
            if target not in OUTCOME_TARGETS:
                fail(f"outcome.tags.{k}", f"must be one of {', '.join(OUTCOME_TARGETS)}, got {target!r}")
            cfg.outcome_tags[text("outcome.tags", k)] = target

    # root cause (optional): a custom field or a tag prefix, with an optional value map
    root = data.get("root_cause")
    if root is not None:
        root = mapping("root_cause", root)
        for k in root:
            if k not in ("custom_field", "tag_prefix", "values"):
                fail(f"root_cause.{k}", "unknown key (use custom_field or tag_prefix, and values)")
        if ("custom_field" in root) == ("tag_prefix" in root):
            fail("root_cause", "give exactly one of custom_field or tag_prefix")
        if "custom_field" in root:
            cfg.root_cause_field = id_text("root_cause.custom_field", root["custom_field"])
        else:
            cfg.root_cause_tag_prefix = text("root_cause.tag_prefix", root["tag_prefix"])
        for k, v in mapping("root_cause.values", root.get("values")).items():
            cfg.root_cause_values[text("root_cause.values", k)] = text(f"root_cause.values.{k}", v)

    users = data.get("system_users")
    if users is not None:
        if not isinstance(users, list):
            fail("system_users", "must be a list of Zendesk user ids")
        cfg.system_users = [id_text(f"system_users[{i}]", u) for i, u in enumerate(users)]

    cfg.escalation_groups = group_rules("escalation_groups", data.get("escalation_groups"), "target")

    for k, v in mapping("fields", data.get("fields")).items():
        if k not in APPEAL_FIELDS:
            fail(f"fields.{k}", f"unknown appeal column (use {', '.join(APPEAL_FIELDS)})")
        value = text(f"fields.{k}", v)
        if value == "external_id":
            if k != "enforcement_id":
                fail(f"fields.{k}", "only enforcement_id can come from the ticket's external_id")
        elif not _FIELD_ID.match(value):
            fail(f"fields.{k}", f"must be a ticket field id (digits) or external_id, got {value!r}")
        cfg.fields[k] = value

    for k, v in mapping("time_zones", data.get("time_zones")).items():
        iana = text(f"time_zones.{k}", v)
        if not _is_iana(iana):
            fail(f"time_zones.{k}", f"not an IANA time zone: {iana!r}")
        cfg.time_zones[text("time_zones", k)] = iana

    for k, v in mapping("statuses", data.get("statuses")).items():
        name = text("statuses", k).lower()
        target = text(f"statuses.{k}", v).lower()
        if target not in STATUSES:
            fail(f"statuses.{k}", f"must be one of {', '.join(STATUSES)}, got {target!r}")
        cfg.statuses[name] = target

    claim = data.get("claim_on_self_assignment", False)
    if not isinstance(claim, bool):
        fail("claim_on_self_assignment", f"must be true or false, got {claim!r}")
    cfg.claim_on_self_assignment = claim

    rows = data.get("sla_policies")
    if rows is not None:
        if not isinstance(rows, list):
            fail("sla_policies", "must be a list of rows (queue, priority, targets, clock, schedule_id)")
        allowed = ("queue", "priority", "first_touch_target_hours", "resolution_target_hours", "clock", "schedule_id")
        for i, row in enumerate(rows):
            k = f"sla_policies[{i}]"
            if not isinstance(row, dict):
                fail(k, "must be a mapping")
            for col in row:
                if col not in allowed:
                    fail(f"{k}.{col}", f"unknown column (use {', '.join(allowed)})")
            clean = {
                "queue": text(f"{k}.queue", row.get("queue")),
                "priority": text(f"{k}.priority", row.get("priority")),
                "clock": text(f"{k}.clock", row.get("clock", "calendar")),
                "schedule_id": text(f"{k}.schedule_id", row.get("schedule_id"), allow_none=True),
            }
            if clean["clock"] not in CLOCKS:
                fail(f"{k}.clock", f"must be calendar or business, got {clean['clock']!r}")
            if clean["clock"] == "business" and clean["schedule_id"] is None:
                fail(f"{k}.schedule_id", "is required with a business clock (a Zendesk schedule id)")
            for col in ("first_touch_target_hours", "resolution_target_hours"):
                v = row.get(col)
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                    fail(f"{k}.{col}", f"must be a number of hours >= 0, got {v!r}")
                clean[col] = None if v is None else float(v)
            cfg.sla_policies.append(clean)
    return cfg


@cache
def _iana_names() -> frozenset[str]:
    try:
        import zoneinfo

        return frozenset(zoneinfo.available_timezones())
    except Exception:  # noqa: BLE001 - no tz database: accept names that look like IANA
        return frozenset()


def _is_iana(name: str) -> bool:
    names = _iana_names()
    if names:
        return name in names
    return bool(re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$", name))


def iana_name(zendesk_name: str | None, overrides: dict[str, str] | None = None) -> str | None:
    """A Zendesk time zone name → IANA: config override, Rails name, or an IANA name as is."""
    if zendesk_name is None:
        return None
    if overrides and zendesk_name in overrides:
        return overrides[zendesk_name]
    if zendesk_name in RAILS_TIME_ZONES:
        return RAILS_TIME_ZONES[zendesk_name]
    return zendesk_name if _is_iana(zendesk_name) else None


# -- SQL --------------------------------------------------------------------------------------


# The adapter's data checks (sql/adapters/zendesk/checks.sql): kind and effect of each.
CHECK_KINDS: dict[str, tuple[str, str]] = {
    "zendesk_status_from_ticket_row": (
        "corrected", "the ticket row is solved/closed (or open again) but its status history says otherwise or is "
        "missing: decided (or reopened) at the ticket's updated_at, an approximation (at or after the real change)"),
    "zendesk_unknown_status": (
        "flagged", f"a status outside Zendesk's vocabulary ({', '.join(STATUSES)}, legacy spellings, `statuses`): "
        "that status change is no event; map it under `statuses` in the adapter config"),
    "zendesk_config_group_unmatched": (
        "config", "an appeal_groups entry that matches no group reads none of its tickets as appeals; an "
        "escalation_groups entry that matches none finds no escalations"),
    "zendesk_config_field_unseen": (
        "config", "a custom field named in the adapter config is never set on an appeal ticket"),
    "zendesk_config_status_unmatched": (
        "config", "a status named under `statuses` in the adapter config occurs on no ticket"),
}
# Source SELECTs in dependency order (each reads only ones before it): a check gets the ones it needs.
SOURCE_ORDER = (
    "zd_ticket", "zd_field_history", "zd_status_history", "zd_user", "zd_group", "zd_comment", "zd_ticket_tag",
    "actors", "appeal_queue_groups", "appeal_tickets", "escalation_group_targets", "ticket_status_repairs",
)


def _sections(path: Path, marker: str) -> dict[str, str]:
    """`-- <marker>: name` sections of an SQL file, by name."""
    out: dict[str, str] = {}
    name = None
    lines: list[str] = []
    for line in path.read_text().splitlines():
        m = re.match(rf"^-- {marker}: ([a-z_]+)\s*$", line)
        if m:
            if name:
                out[name] = "\n".join(lines).strip()
            name, lines = m.group(1), []
        elif name is not None:
            lines.append(line)
    if name:
        out[name] = "\n".join(lines).strip()
    return out


@cache
def _sql_files() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(contract table → SQL, source name → SQL, check name → SQL) under sql/adapters/zendesk/."""
    tables = {t: (SQL_DIR / f"{t}.sql").read_text() for t in CONTRACT_TABLES}
    checks = {k: _strip_leading_comment(v) for k, v in _sections(SQL_DIR / "checks.sql", "check").items()}
    return tables, _sections(SQL_DIR / "_sources.sql", "source"), checks


class _Binds:
    """Bind parameters with generated names; SQL fragments refer to them by name only."""

    def __init__(self) -> None:
        self.params: dict = {}

    def add(self, name: str, value) -> str:
        assert re.match(r"^zd_[a-z0-9_]+$", name) and name not in self.params, name
        self.params[name] = value
        return f":{name}"

    def text(self, name: str, value) -> str:
        return f"cast({self.add(name, value)} as varchar)"

    def map_select(self, prefix: str, pairs: list[tuple[str, str | None]]) -> str:
        """A SELECT of (map_key, map_value, entry_rank) rows, one per pair, all binds."""
        if not pairs:
            return ("select cast(null as varchar) as map_key, cast(null as varchar) as map_value, "
                    "0 as entry_rank where 1 = 0")
        rows = []
        for i, (k, v) in enumerate(pairs):
            rows.append(f"select {self.text(f'{prefix}_{i}_key', k)} as map_key, "
                        f"{self.text(f'{prefix}_{i}_value', v)} as map_value, {i} as entry_rank")
        return "\n        union all ".join(rows)

    def rows_select(self, prefix: str, columns: tuple[str, ...], rows: list[tuple]) -> str:
        """A SELECT of text columns, one row per tuple, all binds."""
        if not rows:
            return "select " + ", ".join(f"cast(null as varchar) as {c}" for c in columns) + " where 1 = 0"
        return "\n        union all ".join(
            "select " + ", ".join(f"{self.text(f'{prefix}_{i}_{c}', v)} as {c}" for c, v in zip(columns, row, strict=True))
            for i, row in enumerate(rows))

    def group_select(self, prefix: str, rules: list[GroupRule]) -> str:
        if not rules:
            return ("select cast(null as varchar) as group_id, cast(null as varchar) as group_name, "
                    "cast(null as varchar) as map_value, 0 as entry_rank where 1 = 0")
        rows = []
        for i, r in enumerate(rules):
            rows.append(f"select {self.text(f'{prefix}_{i}_id', r.group_id)} as group_id, "
                        f"{self.text(f'{prefix}_{i}_name', r.group_name)} as group_name, "
                        f"{self.text(f'{prefix}_{i}_value', r.value)} as map_value, {i} as entry_rank")
        return "\n        union all ".join(rows)


def _column(alias: str, columns: set[str], name: str) -> str:
    return f'cast({alias}."{name}" as varchar)' if name in columns else "cast(null as varchar)"


def _alive(alias: str, columns: set[str]) -> str:
    if "_fivetran_deleted" in columns:
        return f'coalesce(cast({alias}."_fivetran_deleted" as boolean), false) = false'
    return "1 = 1"


def build_adapter_sql(config: ZendeskConfig, columns: dict[str, set[str]],
                      time_zone_names: list[str] | tuple[str, ...] = ()) -> tuple[dict[str, str], dict]:
    """Contract table → SELECT, and the bind parameters those SELECTs use.

    `columns` are the Fivetran tables present and their columns (lower case); the tables the
    adapter requires must be in it (`check_source_columns`). `time_zone_names` are the
    Zendesk time zone names to map to IANA (those found in the data when opening).
    """
    out, _checks, params = _build(config, columns, time_zone_names)
    return out, params


def build_adapter_checks(config: ZendeskConfig, columns: dict[str, set[str]]) -> tuple[tuple[Check, ...], dict]:
    """The adapter's data checks (self-contained SELECTs of example texts), and their binds."""
    _out, checks, params = _build(config, columns, ())
    return checks, params


def _status_names(config: ZendeskConfig) -> list[tuple[str, str]]:
    return list(({**LEGACY_STATUSES, **config.statuses}).items())


def _config_rows(config: ZendeskConfig) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """What the config names, labelled as in the YAML file: group rules, custom fields, statuses."""
    groups = []
    for key, rules in (("appeal_groups", config.appeal_groups), ("escalation_groups", config.escalation_groups)):
        for i, r in enumerate(rules):
            label = f"{key}[{i}] id {r.group_id}" if r.group_id else f"{key}[{i}] name '{r.group_name}'"
            groups.append((r.group_id, r.group_name, label))
    fields = []
    if config.outcome_field:
        fields.append((config.outcome_field, f"outcome.custom_field {config.outcome_field}",
                       "every decision has no outcome: decided_without_outcome"))
    if config.root_cause_field:
        fields.append((config.root_cause_field, f"root_cause.custom_field {config.root_cause_field}",
                       "no decision has a root cause"))
    for col, value in config.fields.items():
        if value != "external_id":
            fields.append((value, f"fields.{col} {value}", f"{col} is null on every appeal"))
    statuses = [(name, f"statuses.{name}") for name in config.statuses]
    return groups, fields, statuses


def _with_sources(body: str, sources: dict[str, str]) -> str:
    """`body` with the source SELECTs it needs (directly or through other sources) as CTEs."""
    needed, text = [], body
    for name in reversed(SOURCE_ORDER):
        if re.search(rf"\b{name}\b", text):
            needed.insert(0, name)
            text += "\n" + sources[name]
    if not needed:
        return body
    ctes = ",\n\n".join(f"{name} as (\n{_indent(sources[name])}\n)" for name in needed)
    return f"with {ctes}\n\n{body}"


def _build(config: ZendeskConfig, columns: dict[str, set[str]],
           time_zone_names) -> tuple[dict[str, str], tuple[Check, ...], dict]:
    binds = _Binds()
    tables, sources, check_sql = _sql_files()
    ticket = columns.get("ticket", set())
    user = columns.get("user", set())
    comment = columns.get("ticket_comment", set())
    tag = columns.get("ticket_tag", set())

    fills: dict[str, str] = {
        "zd": f'"{config.schema}".' if config.schema else "",
        "ticket_alive": _alive("t", ticket),
        "comment_alive": _alive("c", comment),
        "tag_alive": _alive("tt", tag),
        "schedule_alive": _alive("s", columns.get("schedule", set())),
        "holiday_alive": _alive("h", columns.get("schedule_holiday", set())),
        "ticket_updated_at": 't."updated_at"' if "updated_at" in ticket else "cast(null as timestamp with time zone)",
        "ticket_assignee_id": _column("t", ticket, "assignee_id"),
        "zendesk_statuses": ", ".join(f"'{v}'" for v in STATUSES),
        "ticket_description": _column("t", ticket, "description"),
        "ticket_via_channel": _column("t", ticket, "via_channel"),
        "ticket_external_id": _column("t", ticket, "external_id"),
        "user_time_zone": _column("u", user, "time_zone"),
        "user_locale": _column("u", user, "locale"),
        "comment_body": _column("c", comment, "body"),
        "tag_value": 'tt."tag"' if "tag" in tag else 'tt."tags"',
        # configuration, as SELECTs of bind parameters
        "appeal_groups": binds.group_select("zd_group", config.appeal_groups),
        "escalation_groups": binds.group_select("zd_escalation", config.escalation_groups),
        "priority_map": binds.map_select(
            "zd_priority", [(k, v) for k, v in config.priorities.items() if k != "none"]),
        "channel_map": binds.map_select("zd_channel", list(config.channels.items())),
        "outcome_values": binds.map_select("zd_outcome_value", list(config.outcome_values.items())),
        "outcome_tags": binds.map_select("zd_outcome_tag", list(config.outcome_tags.items())),
        "root_cause_values": binds.map_select("zd_root_cause_value", list(config.root_cause_values.items())),
        "time_zones": _time_zone_select(binds, config, time_zone_names),
        "system_users": _system_users_select(binds, config.system_users),
        "status_names": binds.map_select("zd_status", _status_names(config)),
        "sla_policy_rows": _sla_select(binds, config.sla_policies),
    }
    binds.add("zd_priority_none", config.priorities.get("none"))
    binds.add("zd_claim_on_self_assignment", config.claim_on_self_assignment)
    binds.add("zd_outcome_field", config.outcome_field)
    binds.add("zd_root_cause_field", config.root_cause_field)
    binds.add("zd_root_cause_tag_prefix", config.root_cause_tag_prefix)
    enforcement = config.fields.get("enforcement_id")
    binds.add("zd_enforcement_from_external_id", enforcement == "external_id")
    binds.add("zd_field_enforcement_id", None if enforcement == "external_id" else enforcement)
    binds.add("zd_field_market", config.fields.get("market"))
    binds.add("zd_field_appellant_type", config.fields.get("appellant_type"))

    source_fills = dict(sources)
    # one group-matching query, instantiated for appeals queues and for escalation groups
    matches = source_fills.pop("group_matches")
    source_fills["appeal_queue_groups"] = (
        matches.replace("{group_rules}", "{appeal_groups}").replace("{group_value}", "queue"))
    source_fills["escalation_group_targets"] = (
        matches.replace("{group_rules}", "{escalation_groups}").replace("{group_value}", "target"))
    if not tag:
        source_fills["zd_ticket_tag"] = sources["zd_ticket_tag_absent"]

    provided = ["appeals", "appeal_events", "specialists"]
    if "schedule" in columns:
        provided.append("business_hours")
        if "schedule_holiday" in columns:
            provided.append("holidays")
    if config.sla_policies:
        provided.append("sla_policies")

    out: dict[str, str] = {}
    for table in provided:
        sql = _strip_leading_comment(tables[table])
        for _ in range(5):  # sources hold placeholders of their own
            sql = _PLACEHOLDER.sub(lambda m: _fill(m, source_fills, fills), sql)
        left = _PLACEHOLDER.findall(sql)
        if left:
            raise AssertionError(f"sql/adapters/zendesk/{table}.sql: unfilled placeholder {{{left[0]}}}")
        out[table] = sql

    groups, fields, statuses = _config_rows(config)
    fills["config_group_rules"] = binds.rows_select("zd_cfg_group", ("group_id", "group_name", "label"), groups)
    fills["config_fields"] = binds.rows_select("zd_cfg_field", ("field_id", "label", "consequence"), fields)
    fills["config_statuses"] = binds.rows_select("zd_cfg_status", ("status_name", "label"), statuses)
    filled_sources = {k: _PLACEHOLDER.sub(lambda m: _fill(m, {}, fills), v) for k, v in source_fills.items()}
    checks = []
    for name, body in check_sql.items():
        sql = _with_sources(_PLACEHOLDER.sub(lambda m: _fill(m, {}, fills), body), filled_sources)
        left = _PLACEHOLDER.findall(sql)
        if left:
            raise AssertionError(f"sql/adapters/zendesk/checks.sql: {name}: unfilled placeholder {{{left[0]}}}")
        kind, effect = CHECK_KINDS[name]
        checks.append(Check(name, kind, effect, sql))
    return out, tuple(checks), binds.params


def _fill(match: re.Match, sources: dict[str, str], fills: dict[str, str]) -> str:
    name = match.group(1)
    if name in sources:
        return _indent(sources[name])
    if name in fills:
        return fills[name]
    return match.group(0)


def _indent(sql: str) -> str:
    return "\n".join("    " + line if line else line for line in sql.splitlines())


def _strip_leading_comment(sql: str) -> str:
    """The SELECT without its header comment (the engine nests it inside other SQL)."""
    lines = sql.strip().splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


def _system_users_select(binds: _Binds, users: list[str]) -> str:
    if not users:
        return "select cast(null as varchar) as user_id where 1 = 0"
    return "\n        union all ".join(
        f"select {binds.text(f'zd_system_user_{i}', u)} as user_id" for i, u in enumerate(users))


def _time_zone_select(binds: _Binds, config: ZendeskConfig, names) -> str:
    pairs = []
    for name in sorted({n for n in names if n} | set(config.time_zones)):
        iana = iana_name(name, config.time_zones)
        if iana is not None:
            pairs.append((name, iana))
    if not pairs:
        return "select cast(null as varchar) as zendesk_name, cast(null as varchar) as iana_name where 1 = 0"
    return "\n        union all ".join(
        f"select {binds.text(f'zd_tz_{i}_name', n)} as zendesk_name, {binds.text(f'zd_tz_{i}_iana', z)} as iana_name"
        for i, (n, z) in enumerate(pairs))


def _sla_select(binds: _Binds, rows: list[dict]) -> str:
    if not rows:
        return ("select cast(null as varchar) as queue, cast(null as varchar) as priority, "
                "cast(null as double precision) as first_touch_target_hours, "
                "cast(null as double precision) as resolution_target_hours, "
                "cast(null as varchar) as clock, cast(null as varchar) as schedule_id where 1 = 0")
    selects = []
    for i, r in enumerate(rows):
        selects.append(
            f"select {binds.text(f'zd_sla_{i}_queue', r['queue'])} as queue, "
            f"{binds.text(f'zd_sla_{i}_priority', r['priority'])} as priority, "
            f"cast({binds.add(f'zd_sla_{i}_ftr', r['first_touch_target_hours'])} as double precision)"
            " as first_touch_target_hours, "
            f"cast({binds.add(f'zd_sla_{i}_ttr', r['resolution_target_hours'])} as double precision)"
            " as resolution_target_hours, "
            f"{binds.text(f'zd_sla_{i}_clock', r['clock'])} as clock, "
            f"{binds.text(f'zd_sla_{i}_schedule', r['schedule_id'])} as schedule_id")
    return "\n        union all ".join(selects)


# -- opening a warehouse ------------------------------------------------------------------------


def source_columns(wh: Warehouse, schema: str | None) -> dict[str, set[str]]:
    """Fivetran tables present in `schema` (default: the connection's) → their columns, lower case."""
    wanted = (*REQUIRED_COLUMNS, *OPTIONAL_TABLES, "ticket_tag")
    if schema:
        where, params = "table_schema = :zd_schema", {"zd_schema": schema}
    elif wh.dialect == "postgresql":
        where, params = "table_schema = current_schema()", {}
    else:
        where, params = "table_schema = 'main'", {}
    sql = f"select table_name, column_name from information_schema.columns where {where}"
    found: dict[str, set[str]] = {}
    with wh.engine.connect() as conn:
        for table, column in conn.execute(sa.text(sql), params):
            t = str(table).lower()
            if t in wanted:
                found.setdefault(t, set()).add(str(column).lower())
    return found


def check_source_columns(config: ZendeskConfig, columns: dict[str, set[str]], where: str) -> None:
    """Raise WarehouseError naming the first Fivetran table or column the adapter lacks."""
    for table, cols in REQUIRED_COLUMNS.items():
        if table not in columns:
            raise WarehouseError(f"{table}: required Zendesk (Fivetran) table is missing from {where}")
        for col in cols:
            if col not in columns[table]:
                raise WarehouseError(f"{table}.{col}: required Zendesk (Fivetran) column is missing from {where}")
    for table, cols in OPTIONAL_TABLES.items():
        if table in columns:
            for col in cols:
                if col not in columns[table]:
                    raise WarehouseError(f"{table}.{col}: column is missing from the Zendesk table (present) in {where}")
    if config.uses_tags:
        if "ticket_tag" not in columns:
            raise WarehouseError(f"ticket_tag: Zendesk table is missing from {where} (the config reads tags)")
        for col in ("ticket_id",):
            if col not in columns["ticket_tag"]:
                raise WarehouseError(f"ticket_tag.{col}: column is missing from {where}")
        if not {"tag", "tags"} & columns["ticket_tag"]:
            raise WarehouseError(f"ticket_tag.tag: column is missing from {where}")
    if config.fields.get("enforcement_id") == "external_id" and "external_id" not in columns["ticket"]:
        raise WarehouseError(f"ticket.external_id: column is missing from {where} (fields.enforcement_id reads it)")


def _time_zone_names(wh: Warehouse, config: ZendeskConfig, columns: dict[str, set[str]]) -> list[str]:
    """Distinct time zone names of schedules and agents (read once, when opening)."""
    zd = f'"{config.schema}".' if config.schema else ""
    parts = []
    if "schedule" in columns:
        parts.append(f'select cast(time_zone as varchar) as name from {zd}"schedule"')
    if "time_zone" in columns.get("user", set()):
        parts.append(f'select cast(time_zone as varchar) as name from {zd}"user" '
                     "where lower(cast(role as varchar)) in ('agent', 'admin')")
    if not parts:
        return []
    sql = "select distinct name from (" + " union all ".join(parts) + ") as z where name is not null"
    with wh.engine.connect() as conn:
        return sorted(str(r[0]) for r in conn.execute(sa.text(sql)))


def open_warehouse(url: str | Warehouse, config: ZendeskConfig) -> Warehouse:
    """Open `url` read-only with the Zendesk adapter; WarehouseError names what is missing.

    `url` may also be a Warehouse opened elsewhere (e.g. `Warehouse.from_engine` for the
    dashboard's connection): the adapter is then set on it.
    """
    wh = url if isinstance(url, Warehouse) else Warehouse.open(url, schema=config.contract_schema)
    where = f"schema {config.schema}" if config.schema else f"the default schema of {redact_url(wh.url)}"
    columns = source_columns(wh, config.schema)
    check_source_columns(config, columns, where)
    adapter_sql, checks, params = _build(config, columns, _time_zone_names(wh, config, columns))
    wh.adapter_sql = adapter_sql
    wh.adapter_params = params
    wh.adapter_name = NAME
    wh.adapter_checks = checks
    wh.adapter_config = config.source
    wh.validate()  # the contract tables not provided by the adapter (enforcements, qa_reviews)
    return wh
