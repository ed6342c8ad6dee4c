"""ui.server (what scripts/dashboard.sh runs) imports, before the server listens, every app
module a first load imports: the first lead to open the dashboard does not wait for them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# run in a fresh interpreter: this one has imported the app's modules already
SCRIPT = textwrap.dedent("""
    import sys
    from ui import server
    names = server.preload()
    from ui import charts
    built = charts._sparkline_shape.cache_info().misses
    before = set(sys.modules)
    from streamlit.testing.v1 import AppTest  # imported after the preload: not what a first load imports
    before |= set(sys.modules)
    at = AppTest.from_file("app.py", default_timeout=600).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value, "the Overview rendered no title"
    mine = ("metrics", "ui", "pages", "altair", "polars", "duckdb", "duckdb_engine", "sqlalchemy", "pandas")
    late = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in mine)
    from ui import charts
    shapes = charts._sparkline_shape.cache_info()
    print("PRELOADED", len(names))
    print("SHAPES", built, shapes.misses, shapes.hits > 0)
    print("LATE", late)
""")


def test_a_first_load_imports_nothing_of_the_app_the_server_had_not():
    from metrics.sample import ensure_sample_duckdb

    url = f"duckdb:///{ensure_sample_duckdb(ROOT / 'data' / 'sample')}"
    env = dict(os.environ, APPEALS_WAREHOUSE_URL=url, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("PRELOADED", "LATE", "SHAPES")))
    # the seven pages and ui.server.LAZY's twelve modules
    assert lines["PRELOADED"] == "19"
    assert lines["LATE"] == "[]", f"imported on the first load, not by ui.server.preload: {lines['LATE']}"
    # both sparkline shapes built by the preload, none by the first load, which used them
    assert lines["SHAPES"] == "2 2 True"
