"""Benchmark: facts plus weekly reports by queue and by specialist, against a hand-written
DuckDB query (count and median TTR by week and queue) measured in the same run.

    .venv/bin/python bench/run.py 100000 1000000 10000000
    .venv/bin/python bench/run.py --postgres 1000000     # orientation: PostgreSQL (tests/pg.py server)

Each size runs in a fresh subprocess so peak RSS is that of the measured work alone.
Results are printed and appended to bench/out/results.jsonl; bench/README.md records them.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

REFERENCE_SQL = """
select date_trunc('week', a.created_at) as week, a.queue, count(*) as appeals,
       median(epoch(d.decided_at - a.created_at) / 3600.0) as ttr_p50_hours
from appeals as a
left join (select appeal_id, max(occurred_at) as decided_at from appeal_events
           where event_type = 'decided' group by appeal_id) as d on d.appeal_id = a.appeal_id
group by all
"""


# the same question in PostgreSQL's spelling
REFERENCE_SQL_PG = """
select date_trunc('week', a.created_at) as week, a.queue, count(*) as appeals,
       percentile_cont(0.5) within group (order by extract(epoch from d.decided_at - a.created_at) / 3600.0)
           as ttr_p50_hours
from appeals as a
left join (select appeal_id, max(occurred_at) as decided_at from appeal_events
           where event_type = 'decided' group by appeal_id) as d on d.appeal_id = a.appeal_id
group by 1, 2
"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, path: str, *args: str) -> dict:
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    if kind == "pg_load":
        detail = {"rows": load_postgres(path, args[0], "day" if len(args) > 1 else "public", *args[1:])}
    elif kind == "pg_reference":
        import sqlalchemy as sa

        with sa.create_engine(path).connect() as conn:
            conn.execute(sa.text("set time zone 'UTC'"))
            detail = {"rows": len(conn.execute(sa.text(REFERENCE_SQL_PG)).fetchall())}
    elif kind == "pg_build":
        from metrics import api

        wh = api.open_warehouse(path)
        t = time.perf_counter()
        n_facts = api.write_facts(wh, str(OUT / "facts_pg.parquet"))
        detail = {"facts_rows": n_facts, "facts_s": round(time.perf_counter() - t, 2)}
    elif kind in ("pg_store_full", "pg_refresh_day"):
        from metrics import refresh

        result = refresh.refresh(path, full=kind == "pg_store_full")
        detail = {"line": result.line(), "recomputed": result.recomputed, "phases": result.phases}
    elif kind == "reference":
        import duckdb

        con = duckdb.connect(path, read_only=True)
        con.execute("set TimeZone = 'UTC'")
        rows = len(con.sql(REFERENCE_SQL).fetchall())
        detail = {"rows": rows}
    else:
        from metrics import api

        wh = api.open_warehouse(f"duckdb:///{path}")
        t = time.perf_counter()
        wh = api.prepare(wh)
        t_prepare = time.perf_counter() - t
        facts_path = OUT / "facts.parquet"
        t = time.perf_counter()
        n_facts = api.write_facts(wh, str(facts_path))
        t_facts = time.perf_counter() - t
        t = time.perf_counter()
        by_queue = api.report(wh, by=["queue"], period="week")
        t_queue = time.perf_counter() - t
        t = time.perf_counter()
        by_spec = api.report(wh, by=["specialist_id"], period="week")
        t_spec = time.perf_counter() - t
        detail = {"prepare_s": round(t_prepare, 2), "facts_rows": n_facts, "facts_s": round(t_facts, 2), "report_queue_s": round(t_queue, 2),
                  "report_specialist_s": round(t_spec, 2), "queue_rows": by_queue.height,
                  "specialist_rows": by_spec.height}
    return {"kind": kind, "wall_s": round(time.perf_counter() - t0, 2), "peak_rss_mb": round(_peak_mb()), **detail}


def main(sizes: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from bench.gen import generate

    for n in sizes:
        path = OUT / f"wh_{n}.duckdb"
        if not path.exists():
            t = time.perf_counter()
            generate(path, n)
            print(f"generated {n:,} appeals in {time.perf_counter() - t:.1f}s", flush=True)
        results = {}
        for kind in ("reference", "pack"):
            proc = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)], capture_output=True,
                                  text=True, cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
        ratio = results["pack"]["wall_s"] / max(results["reference"]["wall_s"], 1e-9)
        line = {"appeals": n, "reference": results["reference"], "pack": results["pack"], "ratio": round(ratio, 2)}
        print(json.dumps(line), flush=True)
        with (OUT / "results.jsonl").open("a") as fh:
            fh.write(json.dumps(line) + "\n")


def load_postgres(url: str, path: str, schema: str, since: str = "") -> dict:
    """Copy the DuckDB warehouse at `path` into `schema` of the PostgreSQL at `url`; with
    `since` (an older copy of it), only the rows `path` has beyond it, appended to public.
    Run in its own process: the frames it holds must not count in the measured peaks (a
    child's peak RSS starts from its parent's)."""
    import duckdb

    from tests.pg import load_tables_pg, psycopg_conninfo

    con = duckdb.connect(path, read_only=True)
    con.execute("set TimeZone = 'UTC'")
    names = [name for (name,) in con.sql("show tables").fetchall()]
    if since:
        con.execute(f"attach '{since}' as before (read_only)")
    tables = {name: con.sql(f"select * from {name}" + (f" except all select * from before.{name}" if since else "")).pl()
              for name in names}
    load_tables_pg(url, tables, schema)
    if since:
        import psycopg

        with psycopg.connect(psycopg_conninfo(url)) as pg:
            for name, frame in tables.items():
                if frame.height:
                    pg.execute(f'insert into public."{name}" select * from "{schema}"."{name}"')
            pg.commit()
    return {name: frame.height for name, frame in tables.items() if frame.height}


def main_postgres(n: int) -> None:
    """On PostgreSQL, against the reference in PostgreSQL's spelling: a full facts build, the
    store built from it, and its refresh after bench/store.py's new day."""
    import os
    import signal
    import tempfile

    sys.path.insert(0, str(ROOT))
    from bench.gen import generate
    from tests.pg import PgServer

    path = OUT / f"wh_{n}.duckdb"
    if not path.exists():
        generate(path, n)
    live = OUT / f"wh_{n}_live.duckdb"  # bench/store.py's copy with one new day appended
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed bench stops its server too
    results: dict = {}
    with PgServer() as server:
        url = server.url

        def step(kind: str, *args: str, label: str = "") -> dict:
            proc = subprocess.run([sys.executable, __file__, "--measure", kind, url, *args], capture_output=True,
                                  text=True, cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            results[label or kind] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(json.dumps(results[label or kind]), flush=True)
            return results[label or kind]

        step("pg_load", str(path))
        step("pg_reference")
        if live.exists():  # the store first: the full build it does is what a team runs
            os.environ["APPEALS_STORE_DIR"] = tempfile.mkdtemp(prefix="pg-store-", dir=OUT)
            step("pg_store_full")
            step("pg_load", str(live), str(path), label="pg_load_day")
            step("pg_reference", label="pg_reference_after_day")
            step("pg_refresh_day")
        step("pg_build")
    ref = results["pg_reference"]["wall_s"]
    ratios = {k: round(results[k]["wall_s"] / max(ref, 1e-9), 2) for k in ("pg_store_full", "pg_build") if k in results}
    if "pg_refresh_day" in results:
        ratios["pg_refresh_day"] = round(results["pg_refresh_day"]["wall_s"]
                                         / max(results["pg_reference_after_day"]["wall_s"], 1e-9), 2)
    line = {"appeals": n, "dialect": "postgresql", **results, "ratios": ratios}
    print(json.dumps({"appeals": n, "dialect": "postgresql", "ratios": ratios}), flush=True)
    with (OUT / "results.jsonl").open("a") as fh:
        fh.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], *sys.argv[4:])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--postgres":
        main_postgres(int(sys.argv[2]))
    else:
        main([int(x) for x in sys.argv[1:]] or [100_000, 1_000_000])
