"""What every kind of mapping shares: errors, the import result, skip reasons, the threshold."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Built-in skip reasons (rows that cannot take part in an appeal's lifecycle at all).
MISSING_CASE_ID = "missing_case_id"
MISSING_TIMESTAMP = "missing_timestamp"
BAD_TIMESTAMP = "unparseable_timestamp"
MISSING_STATE = "missing_state"
MISSING_ACTIVITY = "missing_activity"
NO_CREATED_AT = "no_created_at"
NOT_AN_APPEAL = "not_an_appeal"
NO_RULE = "no_matching_rule"  # the one "unmatched" reason: nobody decided about the row

DEFAULT_MAX_UNMATCHED = "10%"


class MappingError(ValueError):
    """The mapping file is wrong or does not fit the events file (one line, names the key)."""


class EventsFileError(ValueError):
    """The events file cannot be read (one line, names the file)."""


class UnmatchedRowsError(ValueError):
    """More rows matched no rule than the mapping (or --max-unmatched) allows (one line)."""


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
    unmatched_examples: list[str] = field(default_factory=list)  # "activity 'X', state 'y' (n rows)"
    unlisted_outcomes: dict[str, int] = field(default_factory=dict)  # source value -> decisions
    max_unmatched: str = DEFAULT_MAX_UNMATCHED
    mapping_format: str = "yaml"

    @property
    def unmatched_rows(self) -> int:
        return self.skipped.get(NO_RULE, 0)

    def summary(self) -> str:
        lines = [
            f"imported {self.cases} cases as appeals into {self.out_path}",
            f"source rows: {self.source_rows}; used: {self.used_rows}; skipped: {sum(self.skipped.values())}"
            f" (unmatched: {self.unmatched_rows}, allowed: {self.max_unmatched})",
        ]
        for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            ex = ", ".join(self.examples.get(reason, [])[:5])
            lines.append(f"  skipped {reason}: {n}" + (f" (e.g. {ex})" if ex else ""))
        for text in self.unmatched_examples:
            lines.append(f"  unmatched: {text}")
        for value, n in sorted(self.unlisted_outcomes.items()):
            lines.append(f"  outcome value not listed in outcome_from.values: {value!r} on {n} decisions")
        for name, n in self.tables.items():
            lines.append(f"  table {name}: {n} rows")
        return "\n".join(lines)


_LIMIT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def parse_max_unmatched(value, key: str) -> str:
    """'N' rows or 'P%' of the source rows; returns the normalised text."""
    if isinstance(value, bool) or value is None:
        raise MappingError(f"{key}: expected a row count (e.g. 0) or a share (e.g. 1%), got {value!r}")
    m = _LIMIT_RE.match(str(value))
    if not m or (not m.group(2) and "." in m.group(1)):
        raise MappingError(f"{key}: expected a row count (e.g. 0) or a share (e.g. 1%), got {value!r}")
    if m.group(2) and float(m.group(1)) > 100:
        raise MappingError(f"{key}: a share is at most 100%, got {value!r}")
    return f"{m.group(1)}{m.group(2)}"


def allowed_unmatched(limit: str, source_rows: int) -> float:
    if limit.endswith("%"):
        return float(limit[:-1]) / 100.0 * source_rows
    return float(limit)


def enforce_unmatched(result: ImportResult, key: str) -> None:
    """Fail the import (before anything is written) when too many rows matched no rule."""
    n = result.unmatched_rows
    if n and n > allowed_unmatched(result.max_unmatched, result.source_rows):
        share = 100.0 * n / result.source_rows if result.source_rows else 0.0
        ex = "; ".join(result.unmatched_examples[:3]) or ", ".join(result.examples.get(NO_RULE, [])[:5])
        raise UnmatchedRowsError(
            f"{key}: {n} of {result.source_rows} rows ({share:.1f}%) matched no rule, more than the "
            f"{result.max_unmatched} allowed (e.g. {ex}); add rules or named skips, or raise max_unmatched"
        )
