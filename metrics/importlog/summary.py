"""The import's own account in the warehouse, and what `check` reports from it.

`import_runs` (one row: the mapping, the source file, source / used / skipped / unmatched
rows, the threshold) and `import_skipped_rows` (one row per skip reason, with example case
ids) sit beside the contract tables. They are not part of warehouse.md and are optional:
a warehouse without them (any warehouse not made by `import-log`) simply has no import lines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from metrics.importlog.common import NO_RULE, ImportResult

SKIPS_TABLE = "import_skipped_rows"
RUNS_TABLE = "import_runs"
CHECK_PREFIX = "import_skipped:"


def run_table(result: ImportResult, events_path) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "mapping": [result.mapping_name],
            "mapping_format": [result.mapping_format],
            "events_file": [Path(events_path).name],
            "source_rows": [result.source_rows],
            "used_rows": [result.used_rows],
            "skipped_rows": [sum(result.skipped.values())],
            "unmatched_rows": [result.unmatched_rows],
            "max_unmatched": [result.max_unmatched],
            "appeals": [result.cases],
            "unlisted_outcome_decisions": [sum(result.unlisted_outcomes.values())],
            "unlisted_outcome_values": [", ".join(sorted(result.unlisted_outcomes)) or None],
            "imported_at": [datetime.now(UTC)],
        },
        schema_overrides={"unlisted_outcome_values": pl.String},
    )


def skip_checks(wh) -> list:
    """One `check` line per skip reason recorded by the import (none for other warehouses)."""
    from metrics.checks import CheckResult

    if SKIPS_TABLE not in wh.columns():
        return []
    rows = wh.query(
        f"select cast(reason as varchar) as reason, cast(rows as bigint) as n, "
        f"cast(example_case_ids as varchar) as examples from ({wh.source(SKIPS_TABLE)}) as s"
    )
    out = []
    for reason, n, examples in sorted(rows.iter_rows(), key=lambda r: (-int(r[1] or 0), str(r[0]))):
        if not n:
            continue
        effect = ("source rows that no mapping rule decided (unmatched): fix the mapping" if reason == NO_RULE
                  else f"source rows left out when the log was imported ({reason})")
        out.append(CheckResult(f"{CHECK_PREFIX}{reason}", "excluded", effect, int(n),
                               [e.strip() for e in (examples or "").split(",") if e.strip()][:5]))
    return out


def import_summary(wh) -> dict | None:
    """The import's row accounting (import_runs), or None for a warehouse not made by import-log."""
    if RUNS_TABLE not in wh.columns():
        return None
    rows = wh.query(f"select * from ({wh.source(RUNS_TABLE)}) as r")
    if rows.height == 0:
        return None
    return rows.row(rows.height - 1, named=True)
