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


def measure(kind: str, path: str) -> dict:
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    if kind == "pg_reference":
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


def main_postgres(n: int) -> None:
    """Full build (every model, facts written) on PostgreSQL against the reference in PostgreSQL."""
    import duckdb

    sys.path.insert(0, str(ROOT))
    from bench.gen import generate
    from tests.pg import PgServer, load_tables_pg

    path = OUT / f"wh_{n}.duckdb"
    if not path.exists():
        generate(path, n)
    with PgServer() as server:
        url = server.url
        con = duckdb.connect(str(path), read_only=True)
        con.execute("set TimeZone = 'UTC'")
        t = time.perf_counter()
        tables = {name: con.sql(f"select * from {name}").pl() for (name,) in con.sql("show tables").fetchall()}
        load_tables_pg(url, tables, "public")
        print(f"loaded {n:,} appeals into PostgreSQL in {time.perf_counter() - t:.0f}s", flush=True)
        results = {}

        def step(kind: str, label: str = "") -> None:
            proc = subprocess.run([sys.executable, __file__, "--measure", kind, url], capture_output=True, text=True,
                                  cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            results[label or kind] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(json.dumps(results[label or kind]), flush=True)

        step("pg_reference")
        step("pg_build")
        # the store built from PostgreSQL, then one new day (bench/store.py's day, appended in
        # DuckDB to wh_N_live; here its rows alone are copied in) and the refresh after it
        live = OUT / f"wh_{n}_live.duckdb"
        if live.exists():
            import os
            import tempfile

            os.environ["APPEALS_STORE_DIR"] = tempfile.mkdtemp(prefix="pg-store-", dir=OUT)
            step("pg_store_full")
            con.execute(f"attach '{live}' as live (read_only)")
            delta = {name: con.sql(f"select * from live.{name} except all select * from {name}").pl()
                     for name in tables}
            load_tables_pg(url, delta, "day")
            import psycopg

            from tests.pg import psycopg_conninfo

            with psycopg.connect(psycopg_conninfo(url)) as pg:
                for name, frame in delta.items():
                    if frame.height:
                        pg.execute(f'insert into public."{name}" select * from day."{name}"')
                pg.commit()
            results["day_rows"] = {name: frame.height for name, frame in delta.items() if frame.height}
            step("pg_reference", "pg_reference_after_day")
            step("pg_refresh_day")
    ratio = results["pg_build"]["wall_s"] / max(results["pg_reference"]["wall_s"], 1e-9)
    line = {"appeals": n, "dialect": "postgresql", **results, "ratio": round(ratio, 2)}
    print(json.dumps(line), flush=True)
    with (OUT / "results.jsonl").open("a") as fh:
        fh.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--postgres":
        main_postgres(int(sys.argv[2]))
    else:
        main([int(x) for x in sys.argv[1:]] or [100_000, 1_000_000])
