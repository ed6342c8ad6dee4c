"""SQL constructs that each database spells its own way, in one place (like dbt's
cross-database macros).

Models under sql/models/ are written in portable SQL; where a construct has a much faster
native form, they call a macro in braces, expanded here per dialect before the SQL leaves
the engine:

    {last_by(v1, v2; k1, k2 collate "C"; condition; prefix_)}
    {first_by(v1, v2; k1, k2 collate "C"; condition; prefix_)}

are select items `prefix_v1, prefix_v2`: the values of the row of the group that is last
(first) in the order of the keys, among the rows where the condition holds (`true` for
all); null when no row qualifies. A null key sorts as the largest value (PostgreSQL's
order: last for first_by, first for last_by). Text keys carry `collate "C"` (code-point
order, metrics.md), which DuckDB needs no spelling for: its text order already is that.

- DuckDB: one `arg_max`/`arg_min` over a row of the values, keyed by a row of the keys
  (compared field by field, so ties break exactly as `order by k1, k2` does; unnamed rows
  so that sqlglot can still transpile the SQL to other warehouses); DuckDB binds
  the identical aggregate once, whatever number of values is read from it. About 3x
  cheaper than a `row_number()` window and a join back.
- Anything else (PostgreSQL; no arg_max there): an ordered `array_agg(...)[1]` per value.
"""

from __future__ import annotations

import re

_MACRO = re.compile(r"\{(last_by|first_by)\(([^{}]*)\)\}")
_COLLATE_C = re.compile(r'\s+collate\s+"C"', re.IGNORECASE)


def expand(sql: str, dialect: str) -> str:
    """The SQL with every macro spelled for `dialect` (a SQLAlchemy dialect name)."""
    return _MACRO.sub(lambda m: _by(m.group(1) == "last_by", m.group(2), dialect), sql)


def _by(last: bool, args: str, dialect: str) -> str:
    parts = [p.strip() for p in args.split(";")]
    if len(parts) != 4:
        raise ValueError(f"sql macro: expected values; keys; condition; prefix, got {args!r}")
    values, keys, condition, prefix = ([s.strip() for s in parts[0].split(",")],
                                       [s.strip() for s in parts[1].split(",")], parts[2], parts[3])
    where = "" if condition.lower() == "true" else f" filter (where {condition})"
    if dialect == "duckdb":
        key = ", ".join(_COLLATE_C.sub("", k) for k in keys)
        agg = f"{'arg_max' if last else 'arg_min'}(row({', '.join(values)}), row({key})){where}"
        return ",\n".join(f"({agg})[{i}] as {prefix}{v}" for i, v in enumerate(values, start=1))
    direction = " desc" if last else ""
    order = ", ".join(f"{k}{direction}" for k in keys)
    return ",\n".join(f"(array_agg({v} order by {order}){where})[1] as {prefix}{v}" for v in values)
