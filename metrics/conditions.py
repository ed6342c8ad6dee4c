"""A tiny filter language that compiles to SQL text and to Polars expressions.

Metric filters are written once, in the catalog, with these nodes; the SQL engine and the
Polars engine both derive their filters from them. Values are catalog constants, never
user input, so rendering them as SQL literals is safe (user input goes through binds).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("'", "''")
    return f"'{text}'"


class Condition:
    def sql(self, alias: str = "") -> str:
        raise NotImplementedError

    def polars(self) -> pl.Expr:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))


def _col(alias: str, name: str) -> str:
    return f"{alias}.{name}" if alias else name


@dataclass(frozen=True)
class Eq(Condition):
    column: str
    value: object

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} = {_literal(self.value)}"

    def polars(self) -> pl.Expr:
        return pl.col(self.column) == self.value

    def describe(self) -> str:
        return f"{self.column} = {self.value!r}"


@dataclass(frozen=True)
class In(Condition):
    column: str
    values: tuple

    def sql(self, alias: str = "") -> str:
        return f"{_col(alias, self.column)} in ({', '.join(_literal(v) for v in self.values)})"

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
        return f"{_col(alias, self.column)} > {_literal(self.value)}"

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


@dataclass(frozen=True)
class Always(Condition):
    def sql(self, alias: str = "") -> str:
        return "true"

    def polars(self) -> pl.Expr:
        return pl.lit(True)

    def describe(self) -> str:
        return "every row"
