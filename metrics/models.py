"""Compose the SQL models under sql/models/ into one query that runs in the warehouse.

Each file holds one model (a SELECT; its grain is stated at its top). Models are chained
as CTEs in file order behind the warehouse's staging CTEs, so the warehouse does all the
work and the app pulls only the final result. Placeholders in braces are filled from the
catalog (constants, never user input); user values are bind parameters (`:as_of`, ...).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from metrics.catalog import TOUCH_EVENT_TYPES
from metrics.conditions import sql_list
from metrics.contract import EVENT_TYPES, OUTCOMES, OVERTURN_OUTCOMES
from metrics.schema import ALL_FACTS_COLUMNS
from metrics.themes import theme_sql

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "models"


@cache
def model_sql() -> dict[str, str]:
    """Model name → SQL, in dependency (file) order."""
    fills = {
        "event_types": sql_list(EVENT_TYPES),
        "touch_types": sql_list(TOUCH_EVENT_TYPES),
        "outcomes": sql_list(OUTCOMES),
        "overturn_outcomes": sql_list(OVERTURN_OUTCOMES),
        "facts_columns": ", ".join(ALL_FACTS_COLUMNS),
        "theme_expression": theme_sql(),
    }
    models: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        name = path.stem.split("_", 1)[1]
        # comment lines go: a ":name" in prose must not look like a bind parameter
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
        for key, value in fills.items():
            text = text.replace("{" + key + "}", value)
        models[name] = text
    return models


def with_models(staging: dict[str, str], final_ctes: dict[str, str] | None, select: str, upto: str | None = None,
                overrides: dict[str, str] | None = None) -> str:
    """WITH staging..., models... [, extra CTEs] SELECT ... .

    `overrides` replaces a model's body (e.g. with its materialized table); models that only
    fed it are then unreferenced, and the database does not run them.
    """
    ctes = dict(staging)
    for name, sql in model_sql().items():
        ctes[name] = (overrides or {}).get(name, sql)
        if name == upto:
            break
    ctes.update(final_ctes or {})
    body = ",\n".join(f"{name} as (\n{_indent(sql)}\n)" for name, sql in ctes.items())
    return f"with {body}\n{select}"


def _indent(sql: str) -> str:
    return "\n".join("    " + line if line else line for line in sql.strip().splitlines())
