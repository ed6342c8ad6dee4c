"""Compose the SQL models under sql/models/ into one query that runs in the warehouse.

Each file holds one model (a SELECT; its grain is stated at its top). Models are chained
as CTEs in file order behind the warehouse's staging CTEs, so the warehouse does all the
work and the app pulls only the final result. Placeholders in braces are filled from the
catalog (constants, never user input); user values are bind parameters (`:as_of`, ...).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

from metrics import dialect as sql_dialect
from metrics import themes
from metrics.catalog import TOUCH_EVENT_TYPES
from metrics.conditions import sql_list
from metrics.contract import EVENT_TYPES, OUTCOMES, OVERTURN_OUTCOMES
from metrics.schema import ALL_FACTS_COLUMNS

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "models"


def model_sql(dialect: str = "portable") -> dict[str, str]:
    """Model name → SQL for `dialect` (SQLAlchemy name; "portable" for any), in dependency (file)
    order, with the taxonomy file as it is now."""
    taxonomy = themes.load()
    return _model_sql(themes.theme_sql(taxonomy=taxonomy), themes.version_sql(taxonomy), dialect)


def taxonomy_key() -> str:
    """Identifies the taxonomy in force (the models' only input that is not code): its file and
    version, and a digest of the theme SQL generated from it."""
    import hashlib

    taxonomy = themes.load()
    digest = hashlib.sha256(themes.theme_sql(taxonomy=taxonomy).encode()).hexdigest()[:12]
    return f"{taxonomy.version}:{digest}"


@cache
def _model_sql(theme_expression: str, taxonomy_version: str, dialect: str) -> dict[str, str]:
    fills = {
        "event_types": sql_list(EVENT_TYPES),
        "touch_types": sql_list(TOUCH_EVENT_TYPES),
        "outcomes": sql_list(OUTCOMES),
        "overturn_outcomes": sql_list(OVERTURN_OUTCOMES),
        "facts_columns": ", ".join(ALL_FACTS_COLUMNS),
        "theme_expression": theme_expression,
        "taxonomy_version": taxonomy_version,
    }
    models: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        name = path.stem.split("_", 1)[1]
        # comment lines go: a ":name" in prose must not look like a bind parameter
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
        for key, value in fills.items():
            text = text.replace("{" + key + "}", value)
        models[name] = sql_dialect.expand(text, dialect)
    return models


def model_comment(name: str) -> str:
    """The leading comment of a model (its grain and rules), for the Definitions page."""
    lines = []
    path = next(p for p in sorted(SQL_DIR.glob("*.sql")) if p.stem.split("_", 1)[1] == name)
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def with_models(staging: dict[str, str], final_ctes: dict[str, str] | None, select: str, upto: str | None = None,
                overrides: dict[str, str] | None = None, dialect: str = "portable") -> str:
    """WITH staging..., models... [, extra CTEs] SELECT ... .

    `overrides` replaces a model's body (e.g. with its materialized table); models that only
    fed it are then unreferenced, and the database does not run them.
    """
    ctes = dict(staging)
    for name, sql in model_sql(dialect).items():
        ctes[name] = (overrides or {}).get(name, sql)
        if name == upto:
            break
    ctes.update(final_ctes or {})
    ctes = _read_by(ctes, select)
    if not ctes:
        return select
    inlined = {name for name, sql in (overrides or {}).items() if dialect != "spark" and _ALIAS.fullmatch(sql.strip())}
    body = ",\n".join(f"{name} as {'not materialized ' if name in inlined else ''}(\n{_indent(sql)}\n)"
                       for name, sql in ctes.items())
    return f"with {body}\n{select}"


# A model read from its table (a store, a materialized session) is a bare alias of it. A query
# reading it twice (a drill-down's page and its count) made DuckDB materialize all of it
# first, and PostgreSQL does the same: 0.15 s against 0.05 s for a month's cell on the 10M
# store. Inlined, each reference is a scan with the query's own filters pushed into it.
# Spark has no such clause (and inlines by itself).
_ALIAS = re.compile(r"select \* from [\w.\"]+", re.IGNORECASE)


_WORD = re.compile(r"[a-z_][a-z0-9_]*")


def _words(sql: str) -> frozenset[str]:
    return frozenset(_WORD.findall(sql.lower()))


# the CTE bodies repeat (staging and the models, a few dozen); the selects seldom do, and a
# report's is tens of kB: only the bodies are kept
_body_words = lru_cache(maxsize=256)(_words)


def _read_by(ctes: dict[str, str], select: str) -> dict[str, str]:
    """The CTEs `select` reads, directly or through another, in their order. The database
    runs no other, but parses and binds every one: a small query carrying the whole chain
    took 25 ms on a 10M store and 60 ms on a DuckDB warehouse, 1-2 ms without it. A name
    that only appears in a comment or a literal keeps its CTE: harmless."""
    by_word = {name.lower(): name for name in ctes}  # SQL names are case-insensitive
    read: set[str] = set()
    todo = [_words(select)]
    while todo:
        for word in (todo.pop() & by_word.keys()) - read:
            read.add(word)
            todo.append(_body_words(ctes[by_word[word]]))
    return {name: sql for name, sql in ctes.items() if name.lower() in read}


def _indent(sql: str) -> str:
    return "\n".join("    " + line if line else line for line in sql.strip().splitlines())
