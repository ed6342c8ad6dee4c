"""Any failure as one line for a person: driver, connection, corruption and data errors.

SQLAlchemy wraps a driver's error with its class name, the SQL and a link; a person needs
what failed and what to look at. The driver's own first line is kept (DuckDB and PostgreSQL
name the table, column or value there), secrets of the warehouse URL are scrubbed.
"""

from __future__ import annotations

import re

from metrics.redact import redact_text

MAX_CHARS = 300
_WRAPPER = re.compile(r"^\((?:[\w.]+)\)\s*")  # SQLAlchemy's "(psycopg.OperationalError) " prefix
KINDS = (  # (words in the driver's message, what a person should read first)
    (("connection", "server closed", "terminating", "could not connect", "timeout expired", "connection refused",
      "no route to host", "admin_shutdown", "the database system is"),
     "the warehouse connection failed (it is retried on the next run)"),
    (("corrupt", "checksum", "not a valid duckdb", "invalid database", "failed to read", "unexpected end of file",
      "i/o error", "io error"), "the warehouse file cannot be read (corrupt or truncated?)"),
    (("out of memory",), "the warehouse ran out of memory"),
    (("conversion error", "invalid input syntax", "could not convert", "out of range"),
     "a warehouse value cannot be read as its contract type"),
    (("permission denied", "read-only", "authentication failed", "password"), "the warehouse refused access"),
)


def one_line(exc: BaseException, url: str | None = None) -> str:
    """`exc` as one line: what kind of failure, then the driver's first line (no SQL, no secret)."""
    from metrics.warehouse import WarehouseError

    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = _WRAPPER.sub("", lines[0]) if lines else type(exc).__name__
    if not isinstance(exc, WarehouseError):
        low = first.lower()
        kind = next((label for words, label in KINDS if any(w in low for w in words)), None)
        first = f"{kind}: {first}" if kind else f"{type(exc).__name__}: {first}"
    text = redact_text(first, url)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
