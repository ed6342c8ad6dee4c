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
- Spark: one `max_by`/`min_by` over a named struct of the values, keyed by a named struct of
  `(k is null, k)` pairs (structs compare field by field; the flag makes a null key the
  largest, as PostgreSQL orders it), read back field by field.
- Anything else (PostgreSQL; no arg_max there): an ordered `array_agg(...)[1]` per value.

Two more macros spell a local (zone-less) wall-clock time:

    {local_instant(local_ts; zone)}   the instant at which the wall clock in the IANA `zone`
                                      reads `local_ts` (PostgreSQL/DuckDB: `local_ts at time
                                      zone zone` on a timestamp without zone; Spark:
                                      to_utc_timestamp). Spark, Java and PostgreSQL resolve a
                                      gap forward and an overlap to its first occurrence; the
                                      model checks its guesses either way (09_clock_pieces).
    {local_timestamp(d; t)}           the wall-clock timestamp of date `d` at time `t`
                                      (`d + t`; Spark: make_timestamp(d, t)).
    {days_between(d1; d2)}            whole days from date d1 to date d2 (`d2 - d1`; Spark,
                                      where that is an INTERVAL DAY: datediff(d2, d1)).

Two more spell the store's fingerprints (metrics.refresh), sums of row hashes that tell
whether any row changed, whatever the order of the rows:

    {row_hash(tag; c1, c2, ...)}      a non-negative 52-bit hash of one row, tagged (DuckDB:
                                      hash() shifted; PostgreSQL: 13 hex digits of an md5;
                                      Spark: xxhash64 shifted unsigned, each column beside
                                      its null flag, since Spark's hashes skip null inputs
                                      and (x, null) would hash as (null, x))
    {hash_sum(h; modulus)}            sum(h) modulo `modulus` as a bigint, exact at any row
                                      count (DuckDB and PostgreSQL sum bigints exactly in a
                                      wider type; Spark's sum of a bigint is a bigint that
                                      overflows, so it sums decimals)

A hash differs by engine, so a store's fingerprints are comparable only with fingerprints
from the same dialect; a store serves one warehouse URL.

One spells an exact percentile (metrics.kinds.Percentile), expanded over a whole select list
(`expand_percentiles`):

    {percentile(q; column)}           the continuous quantile q of `column` over the group
                                      (linear interpolation): `percentile_cont(q) within group
                                      (order by column)`. On DuckDB every percentile of one
                                      column in the list reads one `quantile_cont(column,
                                      [q1, q2, ...])`, which DuckDB binds once: the column is
                                      sorted once for p50 and p90 (a one-queue report's
                                      resolved part at 10M: 61-75 ms -> 53 ms), the same
                                      values as each quantile alone.

The opposite direction, `instant at time zone zone` (the wall clock of an instant), needs no
macro: sqlglot spells it FROM_UTC_TIMESTAMP for Spark, which is that. Spark runs the SQL
through `to_spark` (below): sqlglot's PostgreSQL-to-Spark transpilation plus the few
rewrites where its guess would change a number (exact percentiles, epochs, ISO weekdays,
code-point text order).
"""

from __future__ import annotations

import re
from functools import cache

_MACRO = re.compile(r"\{(last_by|first_by)\(([^{}]*)\)\}")
_LOCAL = re.compile(r"\{(local_instant|local_timestamp|days_between|row_hash|hash_sum)\(([^{}]*)\)\}")
_COLLATE_C = re.compile(r'\s+collate\s+"C"', re.IGNORECASE)
_PERCENTILE = re.compile(r"\{percentile\(([^{};]*);([^{};]*)\)\}")


def expand(sql: str, dialect: str) -> str:
    """The SQL with every macro spelled for `dialect` (a SQLAlchemy dialect name)."""
    sql = _LOCAL.sub(lambda m: _local(m.group(1), m.group(2), dialect), sql)
    return _MACRO.sub(lambda m: _by(m.group(1) == "last_by", m.group(2), dialect), sql)


def expand_percentiles(items: list[str], dialect: str) -> list[str]:
    """The items of one select list with their percentile macros spelled for `dialect`: on
    DuckDB the percentiles of one column share one list quantile of all of them (ascending)."""
    by_column: dict[str, set[float]] = {}
    for item in items:
        for q, col in _PERCENTILE.findall(item):
            by_column.setdefault(col.strip(), set()).add(float(q))

    def spell(m: re.Match) -> str:
        q, col = float(m.group(1)), m.group(2).strip()
        if dialect != "duckdb":
            return f"percentile_cont({m.group(1).strip()}) within group (order by {col})"
        qs = sorted(by_column[col])
        return f"quantile_cont({col}, [{', '.join(repr(x) for x in qs)}])[{qs.index(q) + 1}]"

    return [_PERCENTILE.sub(spell, item) for item in items]


def _local(name: str, args: str, dialect: str) -> str:
    parts = [p.strip() for p in args.split(";")]
    if len(parts) != 2:
        raise ValueError(f"sql macro {name}: expected two arguments separated by ';', got {args!r}")
    a, b = parts
    if name == "row_hash":
        return _row_hash(a, [c.strip() for c in b.split(",")], dialect)
    if name == "hash_sum":
        if dialect == "spark":
            return f"cast(sum(cast({a} as decimal(20, 0))) % {b} as bigint)"
        return f"cast(sum({a}) % {b} as bigint)"
    if name == "days_between":  # Spark's date - date is an INTERVAL DAY, not a number
        return f"datediff({b}, {a})" if dialect == "spark" else f"({b} - {a})"
    if name == "local_instant":
        return f"to_utc_timestamp({a}, {b})" if dialect == "spark" else f"(({a}) at time zone {b})"
    return f"make_timestamp({a}, {b})" if dialect == "spark" else f"({a} + {b})"


def wall_clock(instant: str, tz: str | None, dialect: str | None) -> str:
    """The wall clock of `instant` in the zone bound as :tz (`instant at time zone :tz`). In UTC
    on DuckDB: the instant's epoch as a plain timestamp, the same value without ICU's
    conversion per row, which cost five times the rest of a grouped count at 1M appeals
    (docs/decisions.md 77)."""
    if tz == "UTC" and dialect == "duckdb":
        return f"make_timestamp(epoch_us({instant}))"
    return f"{instant} at time zone :tz"


# The day of a row without one (a null instant): no instant's day number comes near it.
NO_DAY = -(10**9)


def day_number(instant: str, dialect: str) -> str:
    """Whole days since 1970-01-01 UTC of `instant` (a timestamp with time zone), NO_DAY when
    null: the bucket a refresh's fingerprints group rows by (metrics.refresh), the same on any
    session time zone."""
    if dialect == "duckdb":  # its // rounds toward zero: one less below zero when a remainder is left
        us = f"epoch_us({instant})"
        days = f"({us} // 86400000000 - cast({us} % 86400000000 < 0 as bigint))"
    elif dialect == "spark":
        days = f"cast(floor(unix_timestamp({instant}) / 86400) as bigint)"
    else:
        days = f"cast(floor(extract(epoch from {instant}) / 86400) as bigint)"
    return f"coalesce({days}, {NO_DAY})"


def _row_hash(tag: str, cols: list[str], dialect: str) -> str:
    listed = ", ".join(cols)
    if dialect == "duckdb":
        return f"cast(hash({tag}, {listed}) >> 12 as bigint)"
    if dialect == "spark":
        flagged = ", ".join(f"{c}, {c} is null" for c in cols)
        return f"shiftrightunsigned(xxhash64({tag}, {flagged}), 12)"
    return f"cast(cast('x' || substr(md5(cast(row({tag}, {listed}) as text)), 1, 13) as bit(52)) as bigint)"


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
    if dialect == "spark":
        vals = ", ".join(f"'c{i}', {v}" for i, v in enumerate(values, start=1))
        key = ", ".join(f"'n{i}', {k} is null, 'k{i}', {k}"
                        for i, k in enumerate((_COLLATE_C.sub("", k) for k in keys), start=1))
        agg = f"{'max_by' if last else 'min_by'}(named_struct({vals}), named_struct({key})){where}"
        return ",\n".join(f"({agg})['c{i}'] as {prefix}{v}" for i, v in enumerate(values, start=1))
    direction = " desc" if last else ""
    order = ", ".join(f"{k}{direction}" for k in keys)
    return ",\n".join(f"(array_agg({v} order by {order}){where})[1] as {prefix}{v}" for v in values)


def to_spark(sql: str) -> str:
    """Engine SQL (PostgreSQL spelling, macros expanded for "spark") as Spark SQL.

    sqlglot does the bulk; these rewrites keep every number identical to DuckDB's:
    - `percentile_cont(q) within group (order by x)` -> an exact percentile with linear
      interpolation rounded as DuckDB rounds it (`_SPARK_PERCENTILE`; sqlglot would write the
      approximate PERCENTILE_APPROX, Spark's own exact percentile() rounds differently);
    - `extract(epoch from t)` -> `unix_micros(t) / 1e6` (Spark's extract has no epoch);
    - `extract(isodow from d)` -> `extract(dayofweek_iso from d)` (Monday 1 .. Sunday 7);
    - `x collate "C"` -> `x`: Spark's default collation (UTF8_BINARY) already orders by code
      point, and C is no collation name there.
    Bind parameters stay `:name` (Spark's named parameter markers).
    """
    import sqlglot
    from sqlglot import exp

    return _to_spark_cached(sql, sqlglot, exp)


_SPARK_CACHE: dict[str, str] = {}


@cache
def _spark3():
    """sqlglot's Spark dialect, with TIME kept, minus its Spark 2 habit of hoisting nested WITHs to the top
    (it would merge the models' inner CTEs into one list, where their names clash); Spark 3+
    scopes a WITH inside a CTE or subquery itself."""
    from sqlglot import exp
    from sqlglot.dialects.spark import Spark
    from sqlglot.generators.spark import SparkGenerator

    class Generator(SparkGenerator):
        EXPRESSIONS_WITHOUT_NESTED_CTES: set = set()
        # Spark 4 has TIME (spark.sql.timeType.enabled); sqlglot maps it to TIMESTAMP
        TYPE_MAPPING = {**SparkGenerator.TYPE_MAPPING, exp.DataType.Type.TIME: "TIME"}

    class Spark3(Spark):
        generator_class = Generator

    return Spark3()


def _to_spark_cached(sql: str, sqlglot, exp) -> str:
    hit = _SPARK_CACHE.get(sql)
    if hit is not None:
        return hit

    def rewrite(node):
        if isinstance(node, exp.Filter) and _is_percentile_cont(node.this, exp):
            return _spark_percentile(node.this, node.expression.this, exp, rewrite)
        if _is_percentile_cont(node, exp):
            return _spark_percentile(node, None, exp, rewrite)
        if isinstance(node, exp.Collate):
            return node.this.copy()
        if isinstance(node, exp.Extract):
            unit = node.this.name.lower()
            if unit == "epoch":
                micros = exp.Anonymous(this="unix_micros", expressions=[node.expression.copy()])
                return exp.Div(this=micros, expression=exp.Literal.number("1e6"))
            if unit == "isodow":
                return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=node.expression.copy())
        return node

    tree = sqlglot.parse_one(sql, read="postgres").transform(rewrite)
    out = _spark3().generate(tree)
    if len(_SPARK_CACHE) > 512:
        _SPARK_CACHE.clear()
    _SPARK_CACHE[sql] = out
    return out


def _is_percentile_cont(node, exp) -> bool:
    return isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont)


# Linear interpolation between the sorted values lo and hi at rank r = (n - 1) * q, d = r - floor(r),
# in doubles, is spelled differently by each engine, and the spellings round differently:
# - DuckDB: `lo * (1 - d) + hi * d`, which its x86-64 build evaluates with a fused multiply-add,
#   fma(lo, 1 - d, hi * d) (0 differences on 5,460 pairs; 309 against the unfused form);
# - Spark's percentile(): (ceil(r) - r) * lo + (r - floor(r)) * hi, unfused (Java);
# - PostgreSQL and Polars: lo + (hi - lo) * d.
# They agree to one unit in the last place (p90 of 1 and 3: DuckDB and Spark 2.8000000000000003,
# PostgreSQL and Polars 2.8; of 1 and 2 at q 0.3: DuckDB 1.2999999999999998, Spark 1.3). Spark is
# spelled here to compute DuckDB's result exactly: Java's own Math.fma through `reflect` (which
# returns text; Java prints a double so that it parses back to the same double), over the
# sorted values of the group (Spark's percentile() holds them all as well).
_SPARK_PERCENTILE = (
    "element_at(transform(array(array_sort(collect_list(cast(__x__ as double)))), s -> "
    "case when size(s) = 0 then null else cast(reflect('java.lang.Math', 'fma', "
    "element_at(s, cast(floor((size(s) - 1) * cast(__q__ as double)) as int) + 1), "
    "cast(1 as double) - ((size(s) - 1) * cast(__q__ as double) - floor((size(s) - 1) * cast(__q__ as double))), "
    "element_at(s, cast(ceil((size(s) - 1) * cast(__q__ as double)) as int) + 1)"
    " * ((size(s) - 1) * cast(__q__ as double) - floor((size(s) - 1) * cast(__q__ as double)))) as double) end), 1)")


def _spark_percentile(node, where, exp, rewrite):
    """`percentile_cont(q) within group (order by x) [filter (where c)]` as Spark SQL that
    interpolates exactly as DuckDB does (above)."""
    import sqlglot

    (ordered,) = node.expression.expressions
    if ordered.args.get("desc"):
        raise ValueError("percentile_cont ... order by desc has no Spark spelling here")
    tree = sqlglot.parse_one(_SPARK_PERCENTILE, read="spark")
    x = ordered.this.copy().transform(rewrite)
    q = node.this.this.copy()
    for col in list(tree.find_all(exp.Column)):
        if col.name == "__x__":
            col.replace(x.copy())
        elif col.name == "__q__":
            col.replace(q.copy())
    if where is not None:
        listed = tree.find(exp.ArrayAgg) or next(f for f in tree.find_all(exp.Anonymous, exp.Func)
                                                 if f.sql(dialect="spark").lower().startswith("collect_list"))
        listed.replace(exp.Filter(this=listed.copy(), expression=exp.Where(this=where.copy().transform(rewrite))))
    return tree


def transpile(sql: str, target: str, read: str = "duckdb") -> str:
    """Engine SQL for a warehouse not run here (Snowflake, BigQuery, Trino, Databricks): sqlglot's
    transpilation, with the gaps it leaves closed where a faithful spelling exists:
    - `x collate "C"` -> `x`: these four order text by code point already, and C is no
      collation name there (an error, or a different order);
    - Databricks: `percentile_cont(q) within group (order by x)` -> `percentile(x, q)`, exact
      (sqlglot would write the approximate PERCENTILE_APPROX).
    Verified by transpilation only (tests/test_dialects.py); README says what that covers."""
    import sqlglot
    from sqlglot import exp

    def rewrite(node):
        if isinstance(node, exp.Collate):
            return node.this.copy()
        if (target == "databricks" and isinstance(node, exp.WithinGroup)
                and isinstance(node.this, exp.PercentileCont)):
            (ordered,) = node.expression.expressions
            if not ordered.args.get("desc"):
                return exp.Anonymous(this="percentile", expressions=[ordered.this.copy(), node.this.this.copy()])
        return node

    return sqlglot.parse_one(sql, read=read).transform(rewrite).sql(dialect=target)
