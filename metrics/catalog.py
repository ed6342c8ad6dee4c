"""The metric catalog: every metric of metrics.md and interfaces.md, declared once.

Each entry names its kind (metrics.kinds: count, percentile, ratio, ratio across two
cohorts), its cohort (which rows, which instant puts them in a period), its unit and
direction, the team that owns its definition, the words managers use for it, and its
edge cases. The SQL engine (metrics.engine_sql), the Polars reference
(metrics.engine_polars), the API's drill-downs, `python -m metrics definitions` and the
dashboard all read this file; `validate()` holds the rules every entry obeys
(tests/test_catalog.py runs them). A change to a definition is a change here with a
bumped `version`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from metrics.conditions import Always, Condition, Eq, Gt, In, IsTrue, NotNull
from metrics.contract import OVERTURN_OUTCOMES
from metrics.kinds import CohortRatio, Count, Kind, Percentile, Ratio

CATALOG_VERSION = "1.2.0"  # 1.1.0: backlog under the owner at the period end; 1.2.0: kinds, owners, names

# Which events are a specialist's first touch (metrics.md, "first touch"): versioned here.
TOUCH_EVENT_TYPES: tuple[str, ...] = ("claimed", "message_to_user", "evidence_requested", "decided")
TOUCH_DEFINITION_VERSION = "1"

# Groups with a rate denominator under this are "too few to compare" (metrics.md, Rates).
MIN_GROUP_SIZE = 20


DEFAULT_SLA_TARGET = 0.90  # the SLA attainment a queue is held to unless the team sets its own


def parse_sla_target(raw) -> float | None:
    """A team's SLA attainment target (APPEALS_SLA_TARGET): a share (0.9) or a percentage (90);
    None when unset; raises ValueError naming the setting when it is neither."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if 1 < value <= 100:  # "90" means 90%
        return value / 100
    if 0 < value <= 1:
        return value
    raise ValueError(f"APPEALS_SLA_TARGET: expected a share such as 0.9 or 90, got {str(raw)[:40]!r}")


def sla_target() -> float:
    """The target every surface (dashboard, WBR, digest) compares attainment with."""
    import os

    try:
        return parse_sla_target(os.environ.get("APPEALS_SLA_TARGET")) or DEFAULT_SLA_TARGET
    except ValueError:
        return DEFAULT_SLA_TARGET  # the dashboard names the bad value; a report keeps the default


class Unit(StrEnum):
    APPEALS = "appeals"
    HOURS = "hours"
    RATIO = "ratio"

    @property
    def fmt(self) -> str:
        """Display format (d3-format, also used by Altair axes)."""
        return {"appeals": ",d", "hours": ",.1f", "ratio": ".1%"}[self.value]


class Direction(Enum):
    HIGHER_IS_BETTER = True
    LOWER_IS_BETTER = False
    NEUTRAL = None  # context, not a target (e.g. intake, escalations)

    @property
    def words(self) -> str:
        return {True: "higher is better", False: "lower is better", None: "neither (context)"}[self.value]


class Team(StrEnum):
    """Who owns a metric's definition (asked first when a number is disputed)."""

    APPEALS_OPERATIONS = "Appeals Operations"
    TRUST_AND_SAFETY_POLICY = "Trust & Safety Policy"
    QUALITY_ASSURANCE = "Quality Assurance"
    ENFORCEMENT_OPERATIONS = "Enforcement Operations"


class CohortName(StrEnum):
    CREATED = "created"
    RESOLVED = "resolved"
    FIRST_TOUCH = "first_touch"
    FTR_SLA = "ftr_sla"
    TTR_SLA = "ttr_sla"
    BACKLOG = "backlog"
    QA = "qa"
    ENFORCEMENTS = "enforcements"


class Source(StrEnum):
    """The rows a cohort counts."""

    FACTS = "facts"  # appeal_facts, one row per appeal
    SPANS = "spans"  # status spans: an appeal at each period end at which it is open
    QA_REVIEWS = "qa_reviews"
    ENFORCEMENTS = "enforcements"

@dataclass(frozen=True)
class Cohort:
    """Which rows a metric counts and which instant puts them in a period."""

    name: CohortName
    source: Source
    timestamp: str  # the column whose period the row counts in
    where: Condition = field(default_factory=Always)
    rule: str = ""


COHORTS: dict[str, Cohort] = {
    c.name: c
    for c in (
        Cohort(CohortName.CREATED, Source.FACTS, "created_at", rule="counted in the period of created_at"),
        Cohort(
            CohortName.RESOLVED,
            Source.FACTS,
            "resolved_at",
            Eq("status", "resolved"),
            "resolved appeals, counted in the period of resolved_at (the final decision)",
        ),
        Cohort(
            CohortName.FIRST_TOUCH,
            Source.FACTS,
            "first_touch_at",
            NotNull("first_touch_at"),
            "appeals with a first touch (withdrawn ones too), counted in the period of first_touch_at",
        ),
        Cohort(
            CohortName.FTR_SLA,
            Source.FACTS,
            "ftr_sla_decided_at",
            In("ftr_sla", ("achieved", "breached")),
            "first-touch SLAs that are decided: in the period of the stop time when achieved, "
            "of the deadline when breached; pending and n/a are in no period",
        ),
        Cohort(
            CohortName.TTR_SLA,
            Source.FACTS,
            "ttr_sla_decided_at",
            In("ttr_sla", ("achieved", "breached")),
            "resolution SLAs that are decided: in the period of resolved_at when achieved, "
            "of the deadline when breached; pending and n/a are in no period",
        ),
        Cohort(
            CohortName.BACKLOG,
            Source.SPANS,
            "period_end",
            rule="state at each period's end instant E: created before E and open when the "
            "lifecycle is evaluated from the events before E",
        ),
        Cohort(CohortName.QA, Source.QA_REVIEWS, "reviewed_at", rule="QA reviews counted in the period of reviewed_at"),
        Cohort(
            CohortName.ENFORCEMENTS,
            Source.ENFORCEMENTS,
            "enforced_at",
            rule="enforcements counted in the period of enforced_at",
        ),
    )
}


@dataclass(frozen=True)
class Metric:
    """One catalog entry. `name` is the report column (interfaces.md: never renamed)."""

    name: str
    label: str  # short, on KPI cards and chart axes
    business_name: str  # the words managers use ("First Touch Response SLA")
    description: str
    kind: Kind
    cohort: CohortName
    unit: Unit
    direction: Direction
    owner: Team
    edge_cases: tuple[str, ...]
    needs: tuple[str, ...] = ()  # optional tables this metric needs (null when absent)
    version: str = "1"

    @property
    def fmt(self) -> str:
        return self.unit.fmt

    @property
    def higher_is_better(self) -> bool | None:
        return self.direction.value

    @property
    def cohort_spec(self) -> Cohort:
        return COHORTS[self.cohort]

    @property
    def columns(self) -> list[str]:
        """This metric's report columns: its value, then numerator and denominator for ratios."""
        return list(self.kind.columns(self.name))

    @property
    def reconcilable(self) -> bool:
        """Whether api.members can list a cell's appeals and reproduce its number."""
        return self.kind.reconcilable(self, COHORTS[self.kind.row_cohort(self)].source)

    def formula(self) -> str:
        return self.kind.formula(self, COHORTS)


_RESOLVED_ONLY = "Withdrawn and open appeals are in neither part."

_ENTRIES: tuple[Metric, ...] = (
    Metric(
        "appeals_created",
        label="Appeals created",
        business_name="Appeal Intake Volume",
        description="Appeals submitted in the period (by created_at).",
        kind=Count(),
        cohort=CohortName.CREATED,
        unit=Unit.APPEALS,
        direction=Direction.NEUTRAL,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=("Appeals created after as_of do not exist yet (data check appeals_after_as_of).",),
    ),
    Metric(
        "appeals_resolved",
        label="Appeals resolved",
        business_name="Resolved Appeals Volume",
        description="Appeals whose final decision falls in the period (by resolved_at).",
        kind=Count(),
        cohort=CohortName.RESOLVED,
        unit=Unit.APPEALS,
        direction=Direction.HIGHER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=(
            "A reopened appeal that is decided again counts once, at its final decision.",
            "A decision without an outcome still resolves the appeal.",
        ),
    ),
    Metric(
        "ttr_p50_hours",
        label="TTR p50",
        business_name="Time to Resolve, median (TTR p50)",
        description="Median Time to Resolve (resolved_at − created_at, calendar hours) of appeals resolved in "
        "the period.",
        kind=Percentile("ttr_hours", 0.5),
        cohort=CohortName.RESOLVED,
        unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=(
            "Calendar hours, whatever the SLA clock; a reopened appeal runs to its final decision.",
            "Percentiles of groups are never averaged: each group's value comes from its own appeals.",
        ),
    ),
    Metric(
        "ttr_p90_hours",
        label="TTR p90",
        business_name="Time to Resolve, 90th percentile (TTR p90)",
        description="90th percentile Time to Resolve (calendar hours) of appeals resolved in the period.",
        kind=Percentile("ttr_hours", 0.9),
        cohort=CohortName.RESOLVED,
        unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=("Continuous (linear interpolation): with one appeal the p90 is its own time.",),
    ),
    Metric(
        "ftr_p50_hours",
        label="FTR p50",
        business_name="First Touch Response, median (FTR p50)",
        description="Median First Touch Response (first_touch_at − created_at, calendar hours) of appeals first "
        "touched in the period, withdrawn ones included.",
        kind=Percentile("ftr_hours", 0.5),
        cohort=CohortName.FIRST_TOUCH,
        unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=("Assignment, internal notes and automatic acknowledgements are not touches.",),
    ),
    Metric(
        "ftr_p90_hours",
        label="FTR p90",
        business_name="First Touch Response, 90th percentile (FTR p90)",
        description="90th percentile First Touch Response (calendar hours) of appeals first touched in the period.",
        kind=Percentile("ftr_hours", 0.9),
        cohort=CohortName.FIRST_TOUCH,
        unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=("An appeal decided without any specialist touch has no first touch and is not counted.",),
    ),
    Metric(
        "ftr_sla_attainment",
        label="First-touch SLA",
        business_name="First Touch Response SLA",
        description="Share of decided first-touch SLAs that were achieved (achieved ÷ (achieved + breached)).",
        kind=Ratio(numerator=Eq("ftr_sla", "achieved")),
        cohort=CohortName.FTR_SLA,
        unit=Unit.RATIO,
        direction=Direction.HIGHER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=(
            "Pending SLAs are in no period; n/a (no policy, withdrawn before the deadline) neither.",
            "An appeal decided without any specialist touch stops the first-touch clock at resolved_at.",
        ),
        needs=("sla_policies",),
    ),
    Metric(
        "ttr_sla_attainment",
        label="Resolution SLA",
        business_name="Time to Resolve SLA (Resolution SLA)",
        description="Share of decided resolution SLAs that were achieved (achieved ÷ (achieved + breached)).",
        kind=Ratio(numerator=Eq("ttr_sla", "achieved")),
        cohort=CohortName.TTR_SLA,
        unit=Unit.RATIO,
        direction=Direction.HIGHER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=("A decision that is later reopened does not stop the resolution clock.",),
        needs=("sla_policies",),
    ),
    Metric(
        "overturn_rate",
        label="Overturn rate",
        business_name="Overturn Rate (overturned or partially overturned)",
        description="Resolved appeals overturned or partially overturned ÷ resolved appeals with a known outcome.",
        kind=Ratio(numerator=In("outcome", OVERTURN_OUTCOMES), denominator=NotNull("outcome")),
        cohort=CohortName.RESOLVED,
        unit=Unit.RATIO,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.TRUST_AND_SAFETY_POLICY,
        edge_cases=(f"{_RESOLVED_ONLY} Unknown outcomes are left out.",),
    ),
    Metric(
        "full_overturn_rate",
        label="Full overturn rate",
        business_name="Full Overturn Rate",
        description="Resolved appeals fully overturned ÷ resolved appeals with a known outcome.",
        kind=Ratio(numerator=Eq("outcome", "overturned"), denominator=NotNull("outcome")),
        cohort=CohortName.RESOLVED,
        unit=Unit.RATIO,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.TRUST_AND_SAFETY_POLICY,
        edge_cases=(f"{_RESOLVED_ONLY} Partially overturned appeals are in the denominator only.",),
    ),
    Metric(
        "reopen_rate",
        label="Reopen rate",
        business_name="Reopen Rate",
        description="Resolved appeals that were reopened at least once ÷ resolved appeals.",
        kind=Ratio(numerator=Gt("reopen_count", 0)),
        cohort=CohortName.RESOLVED,
        unit=Unit.RATIO,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=(f"{_RESOLVED_ONLY} An appeal reopened and not yet decided again is open, so in neither.",),
    ),
    Metric(
        "escalation_rate",
        label="Escalation rate",
        business_name="Escalation Rate",
        description="Resolved appeals that were escalated (Policy, Legal, Product) ÷ resolved appeals.",
        kind=Ratio(numerator=IsTrue("escalated")),
        cohort=CohortName.RESOLVED,
        unit=Unit.RATIO,
        direction=Direction.NEUTRAL,
        owner=Team.TRUST_AND_SAFETY_POLICY,
        edge_cases=("Counted at resolution: an escalated appeal still open is in neither part.",),
    ),
    Metric(
        "backlog_open",
        label="Backlog open",
        business_name="Open Backlog",
        description="Appeals open at the end of the period (created before the end, open by the events before it).",
        kind=Count(),
        cohort=CohortName.BACKLOG,
        unit=Unit.APPEALS,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=(
            "A reopened appeal is in the backlog of every period end at which it is open.",
            "Grouped or filtered by specialist_id, pod, site or team_lead, an appeal counts under its owner "
            "at the period end: the last specialist assigned before E (none when unassigned then), not its "
            "owner now; a reassigned appeal counts for whoever held it at each period end.",
        ),
        version="2",  # 2: grouped by owner-following keys under the owner at the period end
    ),
    Metric(
        "backlog_breached",
        label="Backlog breached",
        business_name="Breached Backlog (open past the resolution SLA)",
        description="Open appeals at the end of the period whose resolution deadline is before the earlier of the "
        "period end and as_of.",
        kind=Count(where=IsTrue("is_breached")),
        cohort=CohortName.BACKLOG,
        unit=Unit.APPEALS,
        direction=Direction.LOWER_IS_BETTER,
        owner=Team.APPEALS_OPERATIONS,
        edge_cases=(
            "An open appeal without an SLA policy has no deadline and is never breached.",
            "Grouped by an owner-following key, counted under the owner at the period end, as backlog_open.",
        ),
        needs=("sla_policies",),
        version="2",  # 2: grouped by owner-following keys under the owner at the period end
    ),
    Metric(
        "qa_accuracy",
        label="QA accuracy",
        business_name="QA Decision Accuracy",
        description="QA reviews that found the decision correct ÷ QA reviews, by reviewed_at.",
        kind=Ratio(numerator=IsTrue("decision_correct")),
        cohort=CohortName.QA,
        unit=Unit.RATIO,
        direction=Direction.HIGHER_IS_BETTER,
        owner=Team.QUALITY_ASSURANCE,
        edge_cases=("Reviews of appeals unknown to facts are left out (data check qa_review_unknown_appeal).",),
        needs=("qa_reviews",),
    ),
    Metric(
        "appeal_rate",
        label="Appeal rate",
        business_name="Appeal Rate (appeals per enforcement)",
        description="Appeals created in the period ÷ enforcements applied in the period (same group).",
        kind=CohortRatio(numerator_cohort=CohortName.CREATED),
        cohort=CohortName.ENFORCEMENTS,
        unit=Unit.RATIO,
        direction=Direction.NEUTRAL,
        owner=Team.ENFORCEMENT_OPERATIONS,
        edge_cases=(
            "Only groupings and filters the enforcements table carries (policy, enforcement_source, "
            "enforced_by; queue through enforcements.action) give an appeal rate; others are null.",
        ),
        needs=("enforcements",),
    ),
)


# -- validation rules (tests/test_catalog.py runs them; each returns the violations) --------------


def _names_unique(entries) -> list[str]:
    seen: set[str] = set()
    out = []
    for m in entries:
        for what, value in (("name", m.name), ("label", m.label), ("business name", m.business_name)):
            if (what, value) in seen:
                out.append(f"{m.name}: {what} {value!r} is used twice")
            seen.add((what, value))
    return out


def _every_ratio_has_both_parts(entries) -> list[str]:
    out = []
    for m in entries:
        k = m.kind
        if isinstance(k, Ratio) and not (isinstance(k.numerator, Condition) and isinstance(k.denominator, Condition)):
            out.append(f"{m.name}: a ratio needs a numerator and a denominator condition")
        if isinstance(k, CohortRatio) and (k.numerator_cohort not in COHORTS or k.numerator_cohort == m.cohort):
            out.append(f"{m.name}: a ratio across cohorts needs a numerator cohort other than its own")
        if k.has_parts and m.columns != [m.name, f"{m.name}_numerator", f"{m.name}_denominator"]:
            out.append(f"{m.name}: a ratio reports its value, numerator and denominator")
    return out


def _every_metric_defined(entries) -> list[str]:
    out = []
    for m in entries:
        if not (m.description.strip() and m.business_name.strip() and m.label.strip()):
            out.append(f"{m.name}: needs a label, a business name and a definition")
        if not any(e.strip() for e in m.edge_cases):
            out.append(f"{m.name}: needs at least one edge-case note")
        if m.cohort not in COHORTS or not COHORTS[m.cohort].rule:
            out.append(f"{m.name}: cohort {m.cohort!r} is unknown or has no counting rule")
    return out


def _units_consistent(entries) -> list[str]:
    out = []
    for m in entries:
        if m.unit != m.kind.unit:
            out.append(f"{m.name}: a {m.kind.name} is in {m.kind.unit}, not {m.unit}")
        if (m.unit == Unit.HOURS) != m.name.endswith("_hours"):
            out.append(f"{m.name}: durations, and only durations, are named *_hours")
    return out


RULES: dict[str, Callable[[tuple[Metric, ...]], list[str]]] = {
    "names_unique": _names_unique,
    "every_ratio_has_both_parts": _every_ratio_has_both_parts,
    "every_metric_defined": _every_metric_defined,
    "units_consistent": _units_consistent,
}


def validate(entries: tuple[Metric, ...] = _ENTRIES) -> dict[str, list[str]]:
    """Rule name → violations, for every rule that found one (empty: the catalog is sound)."""
    found = {name: rule(entries) for name, rule in RULES.items()}
    return {name: v for name, v in found.items() if v}


METRICS: dict[str, Metric] = {m.name: m for m in _ENTRIES}

# Grouping keys of metrics.md → the facts column that carries each.
GROUP_KEYS: dict[str, str] = {
    "queue": "queue",
    "priority": "priority",
    "market": "market",
    "channel": "channel",
    "language": "language",
    "specialist_id": "specialist_id",
    "specialist": "specialist_id",
    "owner": "specialist_id",
    "pod": "pod",
    "site": "site",
    "team_lead": "team_lead",
    "policy": "policy",
    "enforcement_policy": "policy",
    "enforcement_source": "enforcement_source",
    "source": "enforcement_source",
    "enforced_by": "enforced_by",
    "root_cause": "root_cause",
    "theme": "theme",
}

# Keys (facts columns) whose value changes with the appeal's owner (metrics.md, report rows):
# backlog takes them from the owner of the open stretch at the period end (status_spans),
# every other metric from the owner as of as_of (appeal_facts).
OWNER_KEYS: tuple[str, ...] = ("specialist_id", "pod", "site", "team_lead")

# Keys (facts columns) that the enforcements table can also group by, for appeal_rate.
ENFORCEMENT_KEYS: dict[str, str] = {
    "policy": "policy",
    "enforcement_source": "source",
    "enforced_by": "enforced_by",
    "queue": "action",
}


def resolve_keys(keys: list[str] | None) -> list[str]:
    """Grouping keys as given on the command line → facts columns, in order, no repeats."""
    out: list[str] = []
    for key in keys or []:
        key = key.strip()
        if not key or key == "none":
            continue
        if key not in GROUP_KEYS:
            raise ValueError(f"--by: unknown grouping key '{key}' (allowed: {', '.join(sorted(set(GROUP_KEYS)))})")
        col = GROUP_KEYS[key]
        if col not in out:
            out.append(col)
    return out


def resolve_metrics(names: list[str] | None) -> list[str]:
    if not names:
        return list(METRICS)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"--metrics: unknown metric '{unknown[0]}' (known: {', '.join(METRICS)})")
    return [n for n in METRICS if n in names]


def report_columns(metric_names: list[str]) -> list[str]:
    return [col for name in metric_names for col in METRICS[name].columns]


def as_records() -> list[dict]:
    """The catalog as plain records (for `definitions --format json` and the Definitions page)."""
    rows = []
    for m in METRICS.values():
        rows.append(
            {
                "name": m.name,
                "label": m.label,
                "business_name": m.business_name,
                "description": m.description,
                "kind": m.kind.name,
                "cohort": m.cohort_spec.rule,
                "cohort_timestamp": m.cohort_spec.timestamp,
                "formula": m.formula(),
                "unit": m.unit.value,
                "format": m.fmt,
                "higher_is_better": m.higher_is_better,
                "direction": m.direction.words,
                "owner": m.owner.value,
                "columns": m.columns,
                "version": m.version,
                "edge_cases": list(m.edge_cases),
                "needs": list(m.needs),
            }
        )
    return rows
