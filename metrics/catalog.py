"""The metric catalog: every metric of metrics.md and interfaces.md, declared once.

The SQL aggregation (metrics.engine_sql), the Polars reference (metrics.engine_polars),
`python -m metrics definitions` and the dashboard's Definitions page all read this file.
A change to a definition is a change here with a bumped `version`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metrics.conditions import Always, Condition, Eq, Gt, In, IsTrue, NotNull

CATALOG_VERSION = "1.1.0"  # 1.1.0: backlog counts under the owner at the period end

# Which events are a specialist's first touch (metrics.md, "first touch"): versioned here.
TOUCH_EVENT_TYPES: tuple[str, ...] = ("claimed", "message_to_user", "evidence_requested", "decided")
TOUCH_DEFINITION_VERSION = "1"

# Groups with a rate denominator under this are "too few to compare" (metrics.md, Rates).
MIN_GROUP_SIZE = 20

OVERTURN_OUTCOMES = ("overturned", "partially_overturned")


@dataclass(frozen=True)
class Cohort:
    """Which rows a metric counts and which instant puts them in a period."""

    name: str
    source: str  # "facts", "spans" (backlog at period ends), "qa_reviews", "enforcements"
    timestamp: str  # the column whose period the row counts in
    where: Condition = field(default_factory=Always)
    rule: str = ""


COHORTS: dict[str, Cohort] = {
    c.name: c
    for c in (
        Cohort("created", "facts", "created_at", rule="counted in the period of created_at"),
        Cohort(
            "resolved",
            "facts",
            "resolved_at",
            Eq("status", "resolved"),
            "resolved appeals, counted in the period of resolved_at (the final decision)",
        ),
        Cohort(
            "first_touch",
            "facts",
            "first_touch_at",
            NotNull("first_touch_at"),
            "appeals with a first touch (withdrawn ones too), counted in the period of first_touch_at",
        ),
        Cohort(
            "ftr_sla",
            "facts",
            "ftr_sla_decided_at",
            In("ftr_sla", ("achieved", "breached")),
            "first-touch SLAs that are decided: in the period of the stop time when achieved, "
            "of the deadline when breached; pending and n/a are in no period",
        ),
        Cohort(
            "ttr_sla",
            "facts",
            "ttr_sla_decided_at",
            In("ttr_sla", ("achieved", "breached")),
            "resolution SLAs that are decided: in the period of resolved_at when achieved, "
            "of the deadline when breached; pending and n/a are in no period",
        ),
        Cohort(
            "backlog",
            "spans",
            "period_end",
            rule="state at each period's end instant E: created before E and open when the "
            "lifecycle is evaluated from the events before E",
        ),
        Cohort("qa", "qa_reviews", "reviewed_at", rule="QA reviews counted in the period of reviewed_at"),
        Cohort(
            "enforcements",
            "enforcements",
            "enforced_at",
            rule="enforcements counted in the period of enforced_at",
        ),
    )
}


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    kind: str  # "count", "percentile", "ratio"
    cohort: str
    unit: str  # "appeals", "hours", "ratio"
    fmt: str  # display format (d3-format, also used by Altair axes)
    higher_is_better: bool | None
    version: str = "1"
    where: Condition = field(default_factory=Always)  # count: which cohort rows
    value: str | None = None  # percentile: the column
    quantile: float | None = None
    numerator: Condition | None = None  # ratio: condition on denominator rows
    denominator: Condition = field(default_factory=Always)
    numerator_cohort: str | None = None  # ratio across cohorts (appeal_rate)
    edge_cases: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # optional tables this metric needs

    @property
    def is_rate(self) -> bool:
        return self.kind == "ratio"

    @property
    def cohort_spec(self) -> Cohort:
        return COHORTS[self.cohort]

    def formula(self) -> str:
        c = self.cohort_spec
        scope = c.where.describe()
        if self.kind == "count":
            extra = "" if isinstance(self.where, Always) else f" where {self.where.describe()}"
            return f"count of rows ({scope}){extra}"
        if self.kind == "percentile":
            return (
                f"quantile_cont({self.value}, {self.quantile}) over rows ({scope}) with {self.value} known "
                "(linear interpolation)"
            )
        if self.numerator_cohort:
            return (
                f"count of {COHORTS[self.numerator_cohort].rule} ÷ count of {c.rule}, same period and group"
            )
        den = self.denominator.describe()
        return (
            f"count where {self.numerator.describe()} ÷ count where {den} "
            f"(rows: {scope}); null when the denominator is 0"
        )


def _pct(name: str, label: str, value: str, q: float, cohort: str, desc: str, edges=()) -> Metric:
    return Metric(
        name,
        label,
        desc,
        "percentile",
        cohort,
        "hours",
        ",.1f",
        False,
        value=value,
        quantile=q,
        edge_cases=edges,
    )


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "appeals_created",
            "Appeals created",
            "Appeals submitted in the period (by created_at).",
            "count",
            "created",
            "appeals",
            ",d",
            None,
            edge_cases=("Appeals created after as_of do not exist yet (data check appeals_after_as_of).",),
        ),
        Metric(
            "appeals_resolved",
            "Appeals resolved",
            "Appeals whose final decision falls in the period (by resolved_at).",
            "count",
            "resolved",
            "appeals",
            ",d",
            True,
            edge_cases=(
                "A reopened appeal that is decided again counts once, at its final decision.",
                "A decision without an outcome still resolves the appeal.",
            ),
        ),
        _pct(
            "ttr_p50_hours",
            "TTR p50",
            "ttr_hours",
            0.5,
            "resolved",
            "Median Time to Resolve (resolved_at − created_at, calendar hours) of appeals resolved in the period.",
        ),
        _pct(
            "ttr_p90_hours",
            "TTR p90",
            "ttr_hours",
            0.9,
            "resolved",
            "90th percentile Time to Resolve (calendar hours) of appeals resolved in the period.",
        ),
        _pct(
            "ftr_p50_hours",
            "FTR p50",
            "ftr_hours",
            0.5,
            "first_touch",
            "Median First Touch Response (first_touch_at − created_at, calendar hours) of appeals first "
            "touched in the period, withdrawn ones included.",
            ("Assignment, internal notes and automatic acknowledgements are not touches.",),
        ),
        _pct(
            "ftr_p90_hours",
            "FTR p90",
            "ftr_hours",
            0.9,
            "first_touch",
            "90th percentile First Touch Response (calendar hours) of appeals first touched in the period.",
        ),
        Metric(
            "ftr_sla_attainment",
            "First-touch SLA",
            "Share of decided first-touch SLAs that were achieved (achieved ÷ (achieved + breached)).",
            "ratio",
            "ftr_sla",
            "ratio",
            ".1%",
            True,
            numerator=Eq("ftr_sla", "achieved"),
            edge_cases=(
                "Pending SLAs are in no period; n/a (no policy, withdrawn before the deadline) neither.",
                "An appeal decided without any specialist touch stops the first-touch clock at resolved_at.",
            ),
            needs=("sla_policies",),
        ),
        Metric(
            "ttr_sla_attainment",
            "Resolution SLA",
            "Share of decided resolution SLAs that were achieved (achieved ÷ (achieved + breached)).",
            "ratio",
            "ttr_sla",
            "ratio",
            ".1%",
            True,
            numerator=Eq("ttr_sla", "achieved"),
            edge_cases=("A decision that is later reopened does not stop the resolution clock.",),
            needs=("sla_policies",),
        ),
        Metric(
            "overturn_rate",
            "Overturn rate",
            "Resolved appeals overturned or partially overturned ÷ resolved appeals with a known outcome.",
            "ratio",
            "resolved",
            "ratio",
            ".1%",
            False,
            numerator=In("outcome", OVERTURN_OUTCOMES),
            denominator=NotNull("outcome"),
            edge_cases=("Withdrawn and open appeals are in neither part; unknown outcomes are left out.",),
        ),
        Metric(
            "full_overturn_rate",
            "Full overturn rate",
            "Resolved appeals fully overturned ÷ resolved appeals with a known outcome.",
            "ratio",
            "resolved",
            "ratio",
            ".1%",
            False,
            numerator=Eq("outcome", "overturned"),
            denominator=NotNull("outcome"),
        ),
        Metric(
            "reopen_rate",
            "Reopen rate",
            "Resolved appeals that were reopened at least once ÷ resolved appeals.",
            "ratio",
            "resolved",
            "ratio",
            ".1%",
            False,
            numerator=Gt("reopen_count", 0),
        ),
        Metric(
            "escalation_rate",
            "Escalation rate",
            "Resolved appeals that were escalated (Policy, Legal, Product) ÷ resolved appeals.",
            "ratio",
            "resolved",
            "ratio",
            ".1%",
            None,
            numerator=IsTrue("escalated"),
        ),
        Metric(
            "backlog_open",
            "Backlog open",
            "Appeals open at the end of the period (created before the end, open by the events before it).",
            "count",
            "backlog",
            "appeals",
            ",d",
            False,
            version="2",  # 2: grouped by owner-following keys under the owner at the period end
            edge_cases=(
                "A reopened appeal is in the backlog of every period end at which it is open.",
                "Grouped or filtered by specialist_id, pod, site or team_lead, an appeal counts under its owner "
                "at the period end: the last specialist assigned before E (none when unassigned then), not its "
                "owner now; a reassigned appeal counts for whoever held it at each period end.",
            ),
        ),
        Metric(
            "backlog_breached",
            "Backlog breached",
            "Open appeals at the end of the period whose resolution deadline is before the earlier of the "
            "period end and as_of.",
            "count",
            "backlog",
            "appeals",
            ",d",
            False,
            version="2",  # 2: grouped by owner-following keys under the owner at the period end
            where=IsTrue("is_breached"),
            needs=("sla_policies",),
            edge_cases=("Grouped by an owner-following key, counted under the owner at the period end, as "
                        "backlog_open.",),
        ),
        Metric(
            "qa_accuracy",
            "QA accuracy",
            "QA reviews that found the decision correct ÷ QA reviews, by reviewed_at.",
            "ratio",
            "qa",
            "ratio",
            ".1%",
            True,
            numerator=IsTrue("decision_correct"),
            needs=("qa_reviews",),
            edge_cases=("Reviews of appeals unknown to facts are left out (data check qa_review_unknown_appeal).",),
        ),
        Metric(
            "appeal_rate",
            "Appeal rate",
            "Appeals created in the period ÷ enforcements applied in the period (same group).",
            "ratio",
            "enforcements",
            "ratio",
            ".1%",
            None,
            numerator_cohort="created",
            needs=("enforcements",),
            edge_cases=(
                "Only groupings and filters the enforcements table carries (policy, enforcement_source, "
                "enforced_by; queue through enforcements.action) give an appeal rate; others are null.",
            ),
        ),
    )
}

RATE_METRICS = [m.name for m in METRICS.values() if m.is_rate]


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
    cols: list[str] = []
    for name in metric_names:
        cols.append(name)
        if METRICS[name].is_rate:
            cols += [f"{name}_numerator", f"{name}_denominator"]
    return cols


def as_records() -> list[dict]:
    """The catalog as plain records (for `definitions --format json` and the Definitions page)."""
    rows = []
    for m in METRICS.values():
        rows.append(
            {
                "name": m.name,
                "label": m.label,
                "description": m.description,
                "kind": m.kind,
                "cohort": m.cohort_spec.rule,
                "cohort_timestamp": m.cohort_spec.timestamp,
                "formula": m.formula(),
                "unit": m.unit,
                "format": m.fmt,
                "higher_is_better": m.higher_is_better,
                "version": m.version,
                "edge_cases": list(m.edge_cases),
                "needs": list(m.needs),
            }
        )
    return rows
