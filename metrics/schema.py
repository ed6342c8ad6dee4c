"""The facts and spans schemas: column names, order and types, written once.

`python -m metrics facts` (interfaces.md) returns FACTS_COLUMNS in this order; the
dashboard and the Polars engine also read WIDE_COLUMNS (not in the public contract).
The SQL model sql/models/12_appeal_facts.sql ends with `select {facts_columns}`, filled
from here by metrics.models, so a column added to one and not the other fails at once.
"""

from __future__ import annotations

import polars as pl

FACTS_COLUMNS: dict[str, pl.DataType] = {
    "appeal_id": pl.Utf8,
    "queue": pl.Utf8,
    "priority": pl.Utf8,
    "market": pl.Utf8,
    "channel": pl.Utf8,
    "policy": pl.Utf8,
    "enforcement_source": pl.Utf8,
    "specialist_id": pl.Utf8,
    "created_at": pl.Datetime("us", "UTC"),
    "first_touch_at": pl.Datetime("us", "UTC"),
    "resolved_at": pl.Datetime("us", "UTC"),
    "status": pl.Utf8,
    "outcome": pl.Utf8,
    "is_overturned": pl.Boolean,
    "reopen_count": pl.Int64,
    "escalated": pl.Boolean,
    "ftr_hours": pl.Float64,
    "ttr_hours": pl.Float64,
    "ftr_clock_hours": pl.Float64,
    "ttr_clock_hours": pl.Float64,
    "ftr_target_hours": pl.Float64,
    "ttr_target_hours": pl.Float64,
    "ftr_sla": pl.Utf8,
    "ttr_sla": pl.Utf8,
    "user_wait_hours": pl.Float64,
    "root_cause": pl.Utf8,
    "theme": pl.Utf8,
}

WIDE_COLUMNS: dict[str, pl.DataType] = {
    "language": pl.Utf8,
    "enforced_by": pl.Utf8,
    "specialist_name": pl.Utf8,
    "pod": pl.Utf8,
    "site": pl.Utf8,
    "team_lead": pl.Utf8,
    "withdrawn_at": pl.Datetime("us", "UTC"),
    "sla_clock": pl.Utf8,
    "decider_actor_type": pl.Utf8,
    "appellant_type": pl.Utf8,
    "enforcement_action": pl.Utf8,
    "taxonomy_version": pl.Utf8,
    "ftr_deadline_at": pl.Datetime("us", "UTC"),
    "ttr_deadline_at": pl.Datetime("us", "UTC"),
    "ftr_sla_decided_at": pl.Datetime("us", "UTC"),
    "ttr_sla_decided_at": pl.Datetime("us", "UTC"),
}

ALL_FACTS_COLUMNS: dict[str, pl.DataType] = FACTS_COLUMNS | WIDE_COLUMNS

# The `spans` export: one row per stretch an appeal is open under one owner (open at E when
# open_from < E <= open_to, open_to null = still so at as_of); specialist_id is the owner
# during the stretch and pod, site, team_lead follow it (backlog groups by these).
SPANS_COLUMNS: dict[str, pl.DataType] = {
    "appeal_id": pl.Utf8,
    "open_from": pl.Datetime("us", "UTC"),
    "open_to": pl.Datetime("us", "UTC"),
    "specialist_id": pl.Utf8,
    "pod": pl.Utf8,
    "site": pl.Utf8,
    "team_lead": pl.Utf8,
}

# Polars type -> the portable SQL type a column is cast to when the warehouse writes it.
SQL_TYPES = {pl.Utf8: "varchar", pl.Float64: "double precision", pl.Int64: "bigint", pl.Boolean: "boolean"}
