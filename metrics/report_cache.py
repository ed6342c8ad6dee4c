"""Reports computed at refresh and kept in the store: the dashboard's first view and the CLI's
default report read them instead of grouping every stored fact again (at 10M appeals a report
over the store groups 10M facts eight times; bench/README.md, "10M end to end, evening session").

A kept answer is keyed by the report's own SQL (its CTEs and final select, before the stored
tables are named) and its bind parameters: the same question over the same stored state. A
change to the engine's SQL, the metrics, the range, the filters, the zone or the as-of makes
another key, so a kept answer is only ever the answer that query gives; everything else is
computed as before.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from datetime import datetime

import polars as pl

from metrics import dashboard

# The Overview's reports (pages/overview.py), in the dashboard's default view: no filter, the
# default range of weeks, the reporting zone. tests/test_report_cache.py proves that the
# Overview's first load on a ready store asks exactly these (it computes no report).
SLA_METRICS: tuple[str, ...] = ("ttr_sla_attainment", "ftr_sla_attainment")
OVERVIEW_REPORTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    ((), dashboard.GROUP_TABLE_METRICS),  # headline KPIs (the same call as the Queues total row)
    (("queue",), SLA_METRICS),  # exceptions table, per queue
    ((), SLA_METRICS),  # exceptions table, all queues
)
# `python -m metrics report` with its defaults (interfaces.md: --by queue --period week)
CLI_DEFAULT_REPORT = {"by": ["queue"], "period": "week"}

SCHEMA = {"report_key": pl.Utf8, "answer": pl.Utf8}


def key(extra_ctes: dict[str, str], select: str, params: dict, stage: list[str]) -> str:
    text = json.dumps([sorted(extra_ctes.items()), select, sorted(params.items()), list(stage)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def encode(frame: pl.DataFrame) -> str:
    """A frame as text (Parquet, base64): every store dialect keeps text, and Parquet keeps
    the column types."""
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode(text: str) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(base64.b64decode(text)))


def default_zones(team_zone: str | None = None) -> list[str]:
    """The reporting zones the dashboard opens in: the team's (given, else APPEALS_TZ) and UTC."""
    zone = team_zone or os.environ.get("APPEALS_TZ", "").strip()
    return list(dict.fromkeys([z for z in (zone, "UTC") if z]))


def default_asks(as_of: datetime, zones: list[str]) -> list[dict]:
    """The api.report arguments of the default views: the CLI's default report, and the
    Overview's reports over its default range in each zone."""
    asks: list[dict] = [dict(CLI_DEFAULT_REPORT)]
    for tz in zones:
        start, end = dashboard.default_date_range(as_of, tz=tz)
        for by, metrics in OVERVIEW_REPORTS:
            asks.append({"by": list(by), "period": "week", "date_from": start, "date_to": end,
                         "metrics": list(metrics), "tz": tz, "filters": {}})
    return asks


def warm(reader, zones: list[str]) -> pl.DataFrame:
    """Compute the default views' reports over `reader` (a StoreWarehouse of the state being
    written) and return the rows to keep: (report_key, answer)."""
    from metrics import api
    from metrics.warehouse import WarehouseError

    reader.recorded = {}
    try:
        for ask in default_asks(reader.as_of, zones):
            try:
                api.report(reader, as_of=reader.as_of, **ask)
            except WarehouseError:  # e.g. an APPEALS_TZ that is not a zone: nothing to keep for it
                continue
        rows = [(k, encode(frame)) for k, frame in reader.recorded.items()]
    finally:
        reader.recorded = None
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")
