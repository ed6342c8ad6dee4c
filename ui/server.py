"""The dashboard's server: `streamlit run app.py`, with the app's modules imported first.

    python -m ui.server [streamlit run options...]     (what scripts/dashboard.sh runs)

Streamlit imports what app.py and its pages import on the first run of the first session: the
engine, the UI helpers, Altair, Polars, DuckDB, pandas' table styling. The first lead to open
a freshly started dashboard waited for those imports, about 1.3 s of a 10M first load
(bench/README.md), and the first chart built (Altair reads its schema; the sparklines' shapes
are built once per process). Done here, before the server listens, that time is part of the
server's start instead. A page module renders only when run as a script (`__main__`), so
importing one runs nothing.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# what app.py imports, and what a first load imports inside functions (not reached by
# importing the pages); tests/test_server.py lists what a first load still imports late
LAZY = ("metrics.faults", "metrics.redact", "metrics.store", "metrics.refresh", "metrics.engine_sql",
        "metrics.report_plan", "metrics.workload", "metrics.report_cache", "metrics.transparency", "duckdb_engine",
        "pandas.io.formats.style", "polars._utils.udfs")


def preload() -> list[str]:
    """Import app.py's page modules and what a first load imports lazily, and build what a
    process builds once (ui.charts.prebuild); the names imported."""
    pages = sorted(f"pages.{p.stem}" for p in (ROOT / "pages").glob("*.py") if not p.stem.startswith("_"))
    # st.cache_data / st.cache_resource check their settings at decoration and warn that no
    # runtime exists yet; the caches themselves are made on first call, inside the runtime
    import streamlit.runtime.caching  # noqa: F401  (its loggers are set up on import: quieted after)

    quiet = [logging.getLogger(f"streamlit.runtime.caching.{name}") for name in ("cache_data_api", "cache_resource_api")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    try:
        for name in (*pages, *LAZY):
            importlib.import_module(name)
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
    from ui import charts

    charts.prebuild()
    return [*pages, *LAZY]


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    preload()
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
