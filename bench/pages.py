"""Benchmark: each dashboard page's rerun after a filter change, warm, measured with AppTest
on a generated warehouse, against a single DuckDB aggregate measured in the same run.

    .venv/bin/python bench/pages.py 1000000

"Warm" = the server already holds the connection and the prepared models for this as-of
(st.cache_resource), as after the first visitor; the filter change itself is new to the
caches, so every number on the page is recomputed by the engine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["overview", "queues", "specialists", "root_causes", "definitions", "data_quality"]
# (widget key, values): three different filter changes, each new to the caches
CHANGES = [("queue", ["payments_hold"]), ("queue", ["listing_removal"]), ("priority", ["P1"])]
REFERENCE_SQL = "select queue, count(*) as appeals, median(created_at) from appeals group by queue"


def main(n: int) -> None:
    from streamlit.testing.v1 import AppTest

    from bench.gen import generate

    path = ROOT / "bench" / "out" / f"wh_{n}.duckdb"
    if not path.exists():
        generate(path, n)
    os.environ["APPEALS_WAREHOUSE_URL"] = f"duckdb:///{path}"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    t = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t
    assert not at.exception, [e.value for e in at.exception]

    # the reference runs in its own process: DuckDB allows one configuration per file per process
    probe = (
        "import duckdb, statistics, time\n"
        f"con = duckdb.connect({str(path)!r}, read_only=True)\n"
        "ts = []\n"
        "for _ in range(5):\n"
        "    t = time.perf_counter()\n"
        f"    con.sql({REFERENCE_SQL!r}).fetchall()\n"
        "    ts.append(time.perf_counter() - t)\n"
        "print(statistics.median(ts))\n"
    )
    ref = float(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)

    results = {"appeals": n, "first_load_s": round(cold, 2), "reference_s": round(ref, 4), "pages": {}}
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        for key in ("queue", "priority"):
            at.multiselect(key=key).set_value([])
        at.run()
        times = []
        for key, value in CHANGES:
            at.multiselect(key=key).set_value(value)
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
            assert not at.exception, [e.value for e in at.exception]
            at.multiselect(key=key).set_value([])
            at.run()
        warm = statistics.median(times)
        results["pages"][page] = {"rerun_s": round(warm, 3), "ratio": round(warm / ref, 1)}
        print(page, results["pages"][page], flush=True)
    print(json.dumps(results))
    with (ROOT / "bench" / "out" / "pages.jsonl").open("a") as fh:
        fh.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
