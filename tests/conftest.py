"""Shared fixtures: a throwaway PostgreSQL server for the `postgres` tests.

`pg_url` starts one server per test session (tests/pg.py) and stops it at the end, also
when tests fail. Without PostgreSQL binaries the tests that use it are skipped on a
developer's machine, but fail under CI (CI=true): CI must prove the PostgreSQL path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

# Under pytest-xdist (scripts/test.sh runs the suite on several workers) each worker keeps its
# own default stores: two workers building the sample's store at once would meet the store's
# refresh lock (RefreshBusy) and one of them would fail. Set before any test or app server
# starts, so subprocesses (streamlit, the CLI) inherit it.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and not os.environ.get("APPEALS_STORE_DIR"):
    os.environ["APPEALS_STORE_DIR"] = str(Path(__file__).resolve().parent.parent / "data" / "store" / f"test-{_WORKER}")

# The longest modules first: pytest-xdist hands whole modules to workers in collection order
# (`--dist loadfile`), so a long module collected last would run alone at the end.
LONG_MODULES = ("test_postgres.py", "test_store.py", "test_spark.py", "test_property_broken.py",
                "test_browser.py", "test_zendesk.py", "test_app_pages.py", "test_wbr.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG_MODULES)}
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), order[id(item)]))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_server(request):
    from tests.pg import PgServer, PostgresNotFound

    try:
        server = PgServer()
    except PostgresNotFound as exc:
        if _in_ci():
            pytest.fail(f"CI=true but PostgreSQL is not usable: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {exc}")
    request.addfinalizer(server.stop)  # registered before start: a half-started server is cleaned too
    t0 = time.perf_counter()
    server.start()
    server.start_seconds = time.perf_counter() - t0
    return server


@pytest.fixture(scope="session")
def pg_url(pg_server) -> str:
    """`postgresql+psycopg://postgres@127.0.0.1:PORT/appeals` (trust auth on localhost)."""
    return pg_server.url


# Modules of hand-derived report cases: each of their tests runs once per engine, the SQL
# pushed down to the warehouse and the Polars reference (metrics.engine_polars).
BOTH_ENGINES = {"test_report_cases"}
ENGINES = ("sql", "polars")


def pytest_generate_tests(metafunc):
    if "api" in metafunc.fixturenames and metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_ENGINES:
        metafunc.parametrize("api", ENGINES, indirect=True)


class _EngineApi:
    """metrics.api with `report` pinned to one engine (everything else unchanged)."""

    def __init__(self, module, engine: str):
        self._module, self.engine = module, engine

    def __getattr__(self, name):
        return getattr(self._module, name)

    def report(self, *args, **kwargs):
        kwargs.setdefault("engine", self.engine)
        return self._module.report(*args, **kwargs)


@pytest.fixture
def api(request):
    """The engine's API, imported when a test asks for it (pinned to one engine in BOTH_ENGINES modules)."""
    from metrics import api as _api

    engine = getattr(request, "param", None)
    return _api if engine is None else _EngineApi(_api, engine)
