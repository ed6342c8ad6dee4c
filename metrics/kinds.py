"""Metric kinds: the closed set of ways a metric turns its cohort's rows into a number.

A kind declares, once, everything that depends on it: the SQL aggregate and the Polars
expression over a cohort's rows, the report columns it adds (value, and numerator and
denominator for ratios), the value of a cell in which it counted nothing, its formula in
words for the Definitions page, the flags a drill-down row carries, and how the listed
rows reproduce the report's number (reconciliation). The engines, the API, the views and
the pages ask a metric's kind; none of them branches on a kind's name. A new kind is one
new class here.

Empty values (the contract: cells where nothing happened are absent; within a present
cell): a count over no rows is 0 in both engines; a percentile over no rows is null; a
ratio with a zero denominator is null with numerator and denominator 0. When the table a
metric needs is absent (`needs` in the catalog), every column of the metric is null.

Each method takes the catalog `Metric` (its name and cohort) so a kind object holds only
its own parameters (which rows count, which column, which quantile).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from metrics.conditions import Always, Condition, NotNull
from metrics.formatting import DASH, format_parts, format_value

# (cohort name, column) -> the engine's reference to that aggregate, or None when the
# cohort's part was not computed (its table is absent or cannot group by the keys).
SqlRef = Callable[[str, str], "str | None"]
PolarsRef = Callable[[str, str], "pl.Expr | None"]


class Movement(enum.Enum):
    """How a change between two periods splits across groups (the WBR's driver analysis)."""

    RATE_AND_MIX = "rate_and_mix"  # a ratio: the groups' own rates and their shifting mix
    ADDITIVE = "additive"  # a count: the groups' own changes sum to the total's change
    SHIFT = "shift"  # a percentile does not split; name the group whose own value moved most


@dataclass(frozen=True)
class Tile:
    """One figure of the reconciliation panel: label, value as text, optional help."""

    label: str
    text: str
    help: str | None = None


@dataclass(frozen=True)
class Listed:
    """What the appeals listed for a cell add up to."""

    numerator: int | None
    denominator: int | None
    recomputed: float | None


def _sql_count(cond: Condition) -> str:
    if isinstance(cond, Always):
        return "count(*)"
    return f"sum(case when {cond.sql()} then 1 else 0 end)"


def _polars_count(cond: Condition) -> pl.Expr:
    if isinstance(cond, Always):
        return pl.len()
    return cond.polars().fill_null(False).sum()


def _flag_count(rows: pl.DataFrame, column: str) -> int:
    return int(rows[column].fill_null(False).sum()) if rows.height else 0


class Kind:
    """The interface every kind implements (see the module docstring)."""

    name: ClassVar[str]
    unit: ClassVar[str]  # the catalog unit a metric of this kind must have
    has_parts: ClassVar[bool] = False  # reports numerator and denominator columns
    empty: ClassVar[object] = None  # a cell's value where this metric counted nothing
    movement: ClassVar[Movement] = Movement.SHIFT

    # -- which cohorts -------------------------------------------------------------------------
    def cohorts(self, m) -> tuple[str, ...]:
        """Every cohort this metric reads (its cells are null unless all were computed)."""
        return (m.cohort,)

    def row_cohort(self, m) -> str:
        """The cohort whose rows make report cells and whose appeals a drill-down lists."""
        return m.cohort

    def reconcilable(self, m, source: str) -> bool:
        """True when a cell can be listed appeal by appeal (api.members) and reproduced."""
        return source == "facts"

    # -- report columns ------------------------------------------------------------------------
    def columns(self, name: str) -> dict[str, pl.DataType]:
        raise NotImplementedError

    def sql_aggregates(self, m, cohort: str) -> list[str]:
        """Aggregates over `cohort`'s rows of one cell (empty when the metric does not read it)."""
        raise NotImplementedError

    def sql_outputs(self, m, ref: SqlRef) -> list[str]:
        """The final report columns from the cohorts' aggregates."""
        raise NotImplementedError

    def polars_aggregates(self, m, cohort: str) -> list[pl.Expr]:
        raise NotImplementedError

    def polars_outputs(self, m, ref: PolarsRef) -> list[pl.Expr]:
        raise NotImplementedError

    # -- words ---------------------------------------------------------------------------------
    def formula(self, m, cohorts: dict) -> str:
        raise NotImplementedError

    # -- drill-down and reconciliation ----------------------------------------------------------
    def member_flags(self, m) -> dict[str, Condition]:
        """Boolean columns a drill-down row carries: which part of the number it is in."""
        raise NotImplementedError

    def listed(self, m, rows: pl.DataFrame) -> Listed:
        raise NotImplementedError

    def matches(self, report_value, report_numerator, report_denominator, listed: Listed) -> bool:
        raise NotImplementedError

    def member_summary(self, m, rows: pl.DataFrame, total: int) -> str:
        counted = _flag_count(rows, "counted")
        return f"**{total:,}** appeals in the cohort · **{counted:,}** counted"

    def reconciliation_tiles(self, m, listed: Listed, report_numerator, report_denominator, total: int) -> list[Tile]:
        raise NotImplementedError


def _null_columns(columns: dict[str, pl.DataType]) -> list[str]:
    sql_type = {pl.Float64: "double precision", pl.Int64: "bigint"}
    return [f"cast(null as {sql_type[t]}) as {c}" for c, t in columns.items()]


def _null_exprs(columns: dict[str, pl.DataType]) -> list[pl.Expr]:
    return [pl.lit(None, t).alias(c) for c, t in columns.items()]


@dataclass(frozen=True)
class Count(Kind):
    """Rows of the cohort (optionally only those where `where` holds)."""

    where: Condition = field(default_factory=Always)

    name: ClassVar[str] = "count"
    unit: ClassVar[str] = "appeals"
    empty: ClassVar[object] = 0
    movement: ClassVar[Movement] = Movement.ADDITIVE

    def columns(self, name: str) -> dict[str, pl.DataType]:
        return {name: pl.Int64}

    def sql_aggregates(self, m, cohort: str) -> list[str]:
        return [f"{_sql_count(self.where)} as {m.name}"] if cohort == m.cohort else []

    def sql_outputs(self, m, ref: SqlRef) -> list[str]:
        col = ref(m.cohort, m.name)
        value = f"coalesce({col}, 0)" if col else "0"
        return [f"cast({value} as bigint) as {m.name}"]

    def polars_aggregates(self, m, cohort: str) -> list[pl.Expr]:
        return [_polars_count(self.where).alias(m.name)] if cohort == m.cohort else []

    def polars_outputs(self, m, ref: PolarsRef) -> list[pl.Expr]:
        col = ref(m.cohort, m.name)
        value = col.fill_null(0) if col is not None else pl.lit(0)
        return [value.cast(pl.Int64).alias(m.name)]

    def formula(self, m, cohorts: dict) -> str:
        extra = "" if isinstance(self.where, Always) else f" where {self.where.describe()}"
        return f"count of rows ({cohorts[m.cohort].where.describe()}){extra}; 0 when none"

    def member_flags(self, m) -> dict[str, Condition]:
        return {"counted": self.where}

    def listed(self, m, rows: pl.DataFrame) -> Listed:
        n = _flag_count(rows, "counted")
        return Listed(n, None, n)

    def matches(self, report_value, report_numerator, report_denominator, listed: Listed) -> bool:
        return listed.numerator == int(report_value or 0)

    def reconciliation_tiles(self, m, listed, report_numerator, report_denominator, total) -> list[Tile]:
        return [Tile("Listed appeals counted", f"{listed.numerator:,}"), Tile("Appeals in the cohort", f"{total:,}")]


@dataclass(frozen=True)
class Percentile(Kind):
    """A continuous quantile of a duration over the cohort's rows where it is known."""

    column: str
    quantile: float

    name: ClassVar[str] = "percentile"
    unit: ClassVar[str] = "hours"

    def columns(self, name: str) -> dict[str, pl.DataType]:
        return {name: pl.Float64}

    def sql_aggregates(self, m, cohort: str) -> list[str]:
        if cohort != m.cohort:
            return []
        # metrics.dialect.expand_percentiles spells it per warehouse (one sort per column on DuckDB)
        return [f"{{percentile({self.quantile}; {self.column})}} as {m.name}"]

    def sql_outputs(self, m, ref: SqlRef) -> list[str]:
        col = ref(m.cohort, m.name)
        return [f"cast({col} as double precision) as {m.name}"] if col else _null_columns(self.columns(m.name))

    def polars_aggregates(self, m, cohort: str) -> list[pl.Expr]:
        if cohort != m.cohort:
            return []
        return [pl.col(self.column).quantile(self.quantile, interpolation="linear").alias(m.name)]

    def polars_outputs(self, m, ref: PolarsRef) -> list[pl.Expr]:
        col = ref(m.cohort, m.name)
        return [col.cast(pl.Float64).alias(m.name)] if col is not None else _null_exprs(self.columns(m.name))

    def formula(self, m, cohorts: dict) -> str:
        scope = cohorts[m.cohort].where.describe()
        return (f"quantile_cont({self.column}, {self.quantile}) over rows ({scope}) with {self.column} known "
                "(linear interpolation); null when none")

    def member_flags(self, m) -> dict[str, Condition]:
        return {"counted": NotNull(self.column)}

    def listed(self, m, rows: pl.DataFrame) -> Listed:
        counted = rows.filter(pl.col("counted").fill_null(False)) if rows.height else rows
        values = counted[self.column].drop_nulls() if counted.height else pl.Series([], dtype=pl.Float64)
        value = float(values.quantile(self.quantile, interpolation="linear")) if values.len() else None
        return Listed(counted.height, None, value)

    def matches(self, report_value, report_numerator, report_denominator, listed: Listed) -> bool:
        if report_value is None or listed.recomputed is None:
            return report_value is None and listed.recomputed is None
        return math.isclose(report_value, listed.recomputed, rel_tol=1e-9, abs_tol=1e-9)

    def reconciliation_tiles(self, m, listed, report_numerator, report_denominator, total) -> list[Tile]:
        return [Tile("Recomputed from the listed appeals", format_value(m, listed.recomputed),
                     "Linear-interpolation quantile of the listed appeals' values"),
                Tile("Appeals with a value", f"{listed.numerator:,}")]


def _ratio_sql(name: str, num: str, den: str) -> list[str]:
    return [
        f"case when {den} > 0 then cast({num} as double precision) / {den} end as {name}",
        f"cast({num} as bigint) as {name}_numerator",
        f"cast({den} as bigint) as {name}_denominator",
    ]


def _ratio_polars(name: str, num: pl.Expr, den: pl.Expr) -> list[pl.Expr]:
    num = num.fill_null(0).cast(pl.Int64)
    den = den.fill_null(0).cast(pl.Int64)
    return [
        pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None).alias(name),
        num.alias(f"{name}_numerator"),
        den.alias(f"{name}_denominator"),
    ]


class _RatioBase(Kind):
    unit: ClassVar[str] = "ratio"
    has_parts: ClassVar[bool] = True
    movement: ClassVar[Movement] = Movement.RATE_AND_MIX

    def columns(self, name: str) -> dict[str, pl.DataType]:
        return {name: pl.Float64, f"{name}_numerator": pl.Int64, f"{name}_denominator": pl.Int64}

    def matches(self, report_value, report_numerator, report_denominator, listed: Listed) -> bool:
        return listed.numerator == (report_numerator or 0) and listed.denominator == (report_denominator or 0)

    def reconciliation_tiles(self, m, listed, report_numerator, report_denominator, total) -> list[Tile]:
        return [Tile("Report numerator / denominator", format_parts(report_numerator, report_denominator) or DASH),
                Tile("Listed appeals: numerator / denominator", format_parts(listed.numerator, listed.denominator))]


@dataclass(frozen=True)
class Ratio(_RatioBase):
    """Cohort rows where `numerator` holds ÷ cohort rows where `denominator` holds (the
    numerator is always within the denominator); both parts are reported."""

    numerator: Condition
    denominator: Condition = field(default_factory=Always)

    name: ClassVar[str] = "ratio"

    @property
    def numerator_rows(self) -> Condition:
        return self.numerator if isinstance(self.denominator, Always) else self.numerator & self.denominator

    def sql_aggregates(self, m, cohort: str) -> list[str]:
        if cohort != m.cohort:
            return []
        return [f"{_sql_count(self.numerator_rows)} as {m.name}_numerator",
                f"{_sql_count(self.denominator)} as {m.name}_denominator"]

    def sql_outputs(self, m, ref: SqlRef) -> list[str]:
        num, den = ref(m.cohort, f"{m.name}_numerator"), ref(m.cohort, f"{m.name}_denominator")
        if not (num and den):
            return _null_columns(self.columns(m.name))
        return _ratio_sql(m.name, f"coalesce({num}, 0)", f"coalesce({den}, 0)")

    def polars_aggregates(self, m, cohort: str) -> list[pl.Expr]:
        if cohort != m.cohort:
            return []
        return [_polars_count(self.numerator_rows).alias(f"{m.name}_numerator"),
                _polars_count(self.denominator).alias(f"{m.name}_denominator")]

    def polars_outputs(self, m, ref: PolarsRef) -> list[pl.Expr]:
        num, den = ref(m.cohort, f"{m.name}_numerator"), ref(m.cohort, f"{m.name}_denominator")
        if num is None or den is None:
            return _null_exprs(self.columns(m.name))
        return _ratio_polars(m.name, num, den)

    def formula(self, m, cohorts: dict) -> str:
        scope = cohorts[m.cohort].where.describe()
        return (f"count where {self.numerator.describe()} ÷ count where {self.denominator.describe()} "
                f"(rows: {scope}); null when the denominator is 0")

    def member_flags(self, m) -> dict[str, Condition]:
        return {"in_numerator": self.numerator_rows, "in_denominator": self.denominator}

    def listed(self, m, rows: pl.DataFrame) -> Listed:
        num, den = _flag_count(rows, "in_numerator"), _flag_count(rows, "in_denominator")
        return Listed(num, den, (num / den) if den else None)

    def member_summary(self, m, rows: pl.DataFrame, total: int) -> str:
        listed = self.listed(m, rows)
        return (f"**{total:,}** appeals in the cohort · **{listed.numerator:,}** in the numerator · "
                f"**{listed.denominator:,}** in the denominator → {format_value(m, listed.recomputed)}")


@dataclass(frozen=True)
class CohortRatio(_RatioBase):
    """Rows of one cohort ÷ rows of another in the same period and group (appeal_rate:
    appeals by created_at ÷ enforcements by enforced_at). The metric's `cohort` is the
    denominator's; its cells exist only where both cohorts can be computed. The
    denominator is not appeal-level, so a cell is listed (its numerator's appeals) but
    not reconciled."""

    numerator_cohort: str

    name: ClassVar[str] = "cohort_ratio"

    def cohorts(self, m) -> tuple[str, ...]:
        return (self.numerator_cohort, m.cohort)

    def row_cohort(self, m) -> str:
        return self.numerator_cohort

    def reconcilable(self, m, source: str) -> bool:
        return False

    def sql_aggregates(self, m, cohort: str) -> list[str]:
        out = []
        if cohort == self.numerator_cohort:
            out.append(f"count(*) as {m.name}_numerator")
        if cohort == m.cohort:
            out.append(f"count(*) as {m.name}_denominator")
        return out

    def sql_outputs(self, m, ref: SqlRef) -> list[str]:
        num, den = ref(self.numerator_cohort, f"{m.name}_numerator"), ref(m.cohort, f"{m.name}_denominator")
        if not (num and den):
            return _null_columns(self.columns(m.name))
        return _ratio_sql(m.name, f"coalesce({num}, 0)", f"coalesce({den}, 0)")

    def polars_aggregates(self, m, cohort: str) -> list[pl.Expr]:
        out = []
        if cohort == self.numerator_cohort:
            out.append(pl.len().alias(f"{m.name}_numerator"))
        if cohort == m.cohort:
            out.append(pl.len().alias(f"{m.name}_denominator"))
        return out

    def polars_outputs(self, m, ref: PolarsRef) -> list[pl.Expr]:
        num, den = ref(self.numerator_cohort, f"{m.name}_numerator"), ref(m.cohort, f"{m.name}_denominator")
        if num is None or den is None:
            return _null_exprs(self.columns(m.name))
        return _ratio_polars(m.name, num, den)

    def formula(self, m, cohorts: dict) -> str:
        return (f"count of {cohorts[self.numerator_cohort].rule} ÷ count of {cohorts[m.cohort].rule}, "
                "same period and group; null when the denominator is 0")

    def member_flags(self, m) -> dict[str, Condition]:
        return {"counted": Always()}

    def listed(self, m, rows: pl.DataFrame) -> Listed:
        n = _flag_count(rows, "counted")
        return Listed(n, None, None)

    def matches(self, report_value, report_numerator, report_denominator, listed: Listed) -> bool:
        return listed.numerator == (report_numerator or 0)


KINDS: tuple[type[Kind], ...] = (Count, Percentile, Ratio, CohortRatio)
