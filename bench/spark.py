"""Full build and a weekly report on local Spark beside DuckDB, in the same run (orientation).

    .venv/bin/python bench/spark.py 100000 [1000000 ...]    # generated warehouses (bench/gen.py)
    .venv/bin/python bench/spark.py /path/wh.duckdb          # an existing DuckDB warehouse (read only)

For each warehouse: DuckDB runs `api.prepare` (every model once) and `api.report` weekly by
queue, all metrics; then the same tables are copied into a local Spark 4.3 session
(`spark+local://`, master local[2], 2 shuffle partitions, 1 GB driver: metrics/spark.py) and
Spark runs the same two steps. The copy is timed apart (a real Spark warehouse has its tables
already). Prints seconds, the Spark/DuckDB ratio and whether the two reports are equal.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from polars.testing import assert_frame_equal  # noqa: E402

from metrics import api, spark  # noqa: E402
from metrics.warehouse import Warehouse  # noqa: E402


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def build_and_report(wh: Warehouse):
    as_of = api.as_of_param(api.resolve_as_of(wh, None))
    _, build = _timed(lambda: wh.materialize(as_of))
    print(f"  {wh.dialect} build {build:7.1f} s", flush=True)
    frame, report = _timed(lambda: api.report(wh, by=["queue"], period="week", tz="UTC", as_of=as_of))
    return frame, build, report


def main(args: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    url = f"spark+local://{work / 'catalog'}"
    rows = []
    try:
        for arg in args:
            if arg.endswith(".duckdb"):
                path = Path(arg).resolve()
            else:
                from bench.gen import generate

                path = generate(work / f"wh_{arg}.duckdb", int(arg))
            duck = Warehouse.open(f"duckdb:///{path}")
            n = duck.row_counts()["appeals"]
            d_frame, d_build, d_report = build_and_report(duck)
            print(f"{n:>10,} appeals | DuckDB build {d_build:7.1f} s, report {d_report:6.2f} s", flush=True)
            name = f"wh{n}"
            duck.close()  # DuckDB refuses a second connection to the file with other settings
            _, copy = _timed(lambda: spark.copy_duckdb(url, path, name))  # noqa: B023
            print(f"{n:>10,} appeals | Spark copy {copy:7.1f} s", flush=True)  # partial results survive a stop
            sw = Warehouse.open(url, schema=name)
            s_frame, s_build, s_report = build_and_report(sw)
            duck = Warehouse.open(f"duckdb:///{path}")
            d_frame = api.report(duck, by=["queue"], period="week", tz="UTC", as_of=api.as_of_param(api.resolve_as_of(duck, None)))
            duck.close()
            try:
                assert_frame_equal(s_frame, d_frame, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
                same = "equal"
            except AssertionError as exc:
                same = f"DIFFER: {str(exc).splitlines()[0]}"
            rows.append((n, d_build, d_report, copy, s_build, s_report, same))
            print(f"{n:>10,} appeals | DuckDB build {d_build:7.1f} s, report {d_report:6.2f} s | Spark copy {copy:7.1f} s, "
                  f"build {s_build:7.1f} s, report {s_report:6.2f} s | build x{s_build / d_build:5.1f}, "
                  f"report x{s_report / max(d_report, 1e-9):5.1f} | reports {same}", flush=True)
    finally:
        spark.stop_sessions()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["100000"])
