"""A tiny filter language that compiles to SQL text and to Polars expressions.

Metric filters are written once, in the catalog, with these nodes; the SQL engine and the
Polars engine both derive their filters from them. Modules pass these objects to each other,
never SQL text: the SQL is written here, at the boundary of the query. Values of the
catalog's nodes are constants, rendered as literals by `sql_literal` (the one quoting rule);
a value that comes from a user (a date, a window) goes into a `Within` node, which renders
bind parameters and hands their values over in `params()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl


def sql_literal(value: object) -> str:
    """A constant as a SQL literal: the one quoting rule (quotes doubled) of the project."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("'", "''")
    return f"'{text}'"


def sql_list(values) -> str:
    """Constants as the inside of a SQL `in (...)` list."""
    return ", ".join(sql_literal(v) for v in values)


class Condition:
    def sql(self, alias: str = "") -> str:
        raise NotImplementedError

    def polars(self) -> pl.Expr:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def params(self) -> dict:
        """Bind parameters the SQL text refers to (none for constant conditions)."""
        return {}

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))


def _col(alias: str, name: str) -> str:
    return f"{alias}.{name}" if alias else name


@dataclass(frozen=True)
class Eq(Condition):
    column: str
    value: object

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} = {sql_literal(self.value)}"

    def polars(self) -> pl.Expr:
        return pl.col(self.column) == self.value

    def describe(self) -> str:
        return f"{self.column} = {self.value!r}"


@dataclass(frozen=True)
class In(Condition):
    column: str
    values: tuple

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} in ({sql_list(self.values)})"

    def polars(self) -> pl.Expr:
        return pl.col(self.column).is_in(list(self.values))

    def describe(self) -> str:
        return f"{self.column} in {list(self.values)}"


@dataclass(frozen=True)
class NotNull(Condition):
    column: str

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} is not null"

    def polars(self) -> pl.Expr:
        return pl.col(self.column).is_not_null()

    def describe(self) -> str:
        return f"{self.column} is known"


@dataclass(frozen=True)
class IsTrue(Condition):
    column: str

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} = true"

    def polars(self) -> pl.Expr:
        return pl.col(self.column).fill_null(False)

    def describe(self) -> str:
        return f"{self.column} is true"


@dataclass(frozen=True)
class Gt(Condition):
    column: str
    value: float

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} > {sql_literal(self.value)}"

    def polars(self) -> pl.Expr:
        return pl.col(self.column) > self.value

    def describe(self) -> str:
        return f"{self.column} > {self.value}"


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]

    def sql(self, alias: str = "") -> str:
        return " and ".join(f"({p.sql(alias)})" for p in self.parts)

    def polars(self) -> pl.Expr:
        expr = self.parts[0].polars()
        for part in self.parts[1:]:
            expr = expr & part.polars()
        return expr

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.parts)

    def params(self) -> dict:
        out: dict = {}
        for part in self.parts:
            out |= part.params()
        return out


@dataclass(frozen=True)
class Always(Condition):
    def sql(self, alias: str = "") -> str:
        return "true"

    def polars(self) -> pl.Expr:
        return pl.lit(True)

    def describe(self) -> str:
        return "every row"


@dataclass(frozen=True)
class Within(Condition):
    """low <= column <= high for instants given at run time (bound, never spliced into SQL)."""

    column: str
    low: datetime
    high: datetime

    def _names(self) -> tuple[str, str]:
        return f"{self.column}_low", f"{self.column}_high"

    def sql(self, alias: str = "") -> str:
        low, high = self._names()
        col = _col(alias, self.column)
        return (f"{col} >= cast(:{low} as timestamp with time zone) and "
                f"{col} <= cast(:{high} as timestamp with time zone)")

    def polars(self) -> pl.Expr:
        return pl.col(self.column).is_between(self.low, self.high, closed="both")

    def describe(self) -> str:
        return f"{self.column} between {self.low.isoformat()} and {self.high.isoformat()}"

    def params(self) -> dict:
        low, high = self._names()
        return {low: self.low.astimezone(UTC).isoformat(), high: self.high.astimezone(UTC).isoformat()}


@dataclass(frozen=True)
class Before(Condition):
    """column < instant, for an instant given at run time (bound, never spliced into SQL);
    `name` keeps two such conditions on the same column apart in one query."""

    column: str
    instant: datetime
    name: str = "before"
    inclusive: bool = False  # column <= instant

    def _name(self) -> str:
        return f"{self.column}_{self.name}"

    def sql(self, alias: str = "") -> str:
        op = "<=" if self.inclusive else "<"
        return f"{_col(alias, self.column)} {op} cast(:{self._name()} as timestamp with time zone)"

    def polars(self) -> pl.Expr:
        return pl.col(self.column) <= self.instant if self.inclusive else pl.col(self.column) < self.instant

    def describe(self) -> str:
        return f"{self.column} {'at or ' if self.inclusive else ''}before {self.instant.isoformat()}"

    def params(self) -> dict:
        return {self._name(): self.instant.astimezone(UTC).isoformat()}
