"""Benchmark: the store. Full refresh, refresh after one new day of events, a weekly report by
queue read from the store (kept at refresh, and grouped again from the stored facts), and the
dashboard's first load with a ready store; each as a ratio to the hand-written reference query
of bench/run.py measured in the same run.

    .venv/bin/python bench/store.py 1000000 [10000000]

Each measurement runs in a fresh process (peak RSS is that of the measured work). The
warehouse is a copy of bench/gen.py's (`wh_N_live.duckdb`), so a day can be appended to it.
Results are printed and appended to bench/out/store.jsonl; bench/README.md records them.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

# One new day: appeals created in the 24 hours after the warehouse's latest instant (1/182 of
# the warehouse, as the generator spreads appeals over 182 days) with their first events, and
# decisions for a third of the appeals still open; as_of moves on by up to a day.
NEW_DAY_SQL = """
set TimeZone = 'UTC';
create temp table day_start as
select greatest((select max(created_at) from appeals), (select max(occurred_at) from appeal_events)) as t0;
create temp table new_appeals as
select 'd' || cast(i as varchar) as appeal_id, 'ed' || cast(i as varchar) as enforcement_id,
       ['account_suspension', 'listing_removal', 'livestream_ban', 'payments_hold', 'ip_counterfeit'][cast(1 + (hash(i) % 5) as bigint)] as queue,
       ['P0', 'P1', 'P2', 'P3'][cast(1 + (hash(i * 3) % 4) as bigint)] as priority,
       'US' as market, 'in_app' as channel, 'en' as language,
       (select t0 from day_start) + to_microseconds(cast(random() * 86400e6 as bigint)) as created_at,
       cast(null as varchar) as appeal_text, 'buyer' as appellant_type,
       'sp_' || lpad(cast(1 + hash(i) % 30 as varchar), 3, '0') as specialist_id
from range({n_new}) as t(i);
insert into appeals select * exclude (specialist_id) from new_appeals;
insert into enforcements
select enforcement_id, 'u' || appeal_id, queue, 'counterfeit', 'automated', 'model-v3', created_at - interval '2 hours'
from new_appeals;
insert into appeal_events
select appeal_id || '-1', appeal_id, created_at + interval '5 minutes', 'assigned', specialist_id, 'specialist',
       null, null, null, null from new_appeals
union all
select appeal_id || '-2', appeal_id, created_at + interval '1 minute', 'message_to_user', 'autoack', 'system',
       null, null, null, null from new_appeals
union all
select appeal_id || '-3', appeal_id, created_at + interval '3 hours', 'claimed', specialist_id, 'specialist',
       null, null, null, null from new_appeals where hash(appeal_id) % 2 = 0;
insert into appeal_events
select a.appeal_id || '-day', a.appeal_id, (select t0 from day_start) + interval '12 hours', 'decided', 'sp_001',
       'specialist', 'upheld', null, null, null
from appeals as a
where a.created_at <= (select t0 from day_start)
  and not exists (select 1 from appeal_events as e where e.appeal_id = a.appeal_id and e.event_type = 'decided')
  and hash(a.appeal_id) % 3 = 0;
"""


def _peak_mb() -> float:
    """This process's peak RSS: VmHWM, which starts afresh at exec. ru_maxrss does not: a
    measure forked from this bench after it appended the 10M day reported the parent's 864 MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, path: str) -> dict:
    url = f"duckdb:///{path}"
    t0 = time.perf_counter()
    detail: dict = {}
    if kind == "reference":
        import duckdb

        from bench.run import REFERENCE_SQL

        con = duckdb.connect(path, read_only=True)
        con.execute("set TimeZone = 'UTC'")
        detail["rows"] = len(con.sql(REFERENCE_SQL).fetchall())
    elif kind in ("refresh_full", "refresh_day"):
        from metrics import refresh

        result = refresh.refresh(url, full=kind == "refresh_full")
        detail = {"line": result.line(), "recomputed": result.recomputed, "appeals": result.total,
                  "phases": result.phases}
    elif kind in ("report_store", "report_store_computed"):
        from metrics import api, refresh

        src = refresh.source(url)  # checks the fingerprints first (nothing changed: no rewrite)
        if kind == "report_store_computed":
            src._kept = {}  # the same report grouped from the stored facts, not read from those kept at refresh
        t = time.perf_counter()
        rows = api.report(src, by=["queue"], period="week")
        detail = {"rows": rows.height, "report_only_s": round(time.perf_counter() - t, 2),
                  "source_s": round(t - t0, 2)}
    elif kind == "dashboard":
        from streamlit.testing.v1 import AppTest

        os.environ["APPEALS_WAREHOUSE_URL"] = url
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        detail = {"store_caption": " ".join(c.value for c in at.sidebar.caption if "Store" in c.value)[:160]}
    return {"kind": kind, "wall_s": round(time.perf_counter() - t0, 2), "peak_rss_mb": round(_peak_mb()), **detail}


def run(kind: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)], capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind}: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(out), flush=True)
    return out


def main(sizes: list[int]) -> None:
    from bench.gen import generate

    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("APPEALS_STORE_DIR", str(OUT / "stores"))
    for n in sizes:
        base = OUT / f"wh_{n}.duckdb"
        if not base.exists():
            generate(base, n)
        live = OUT / f"wh_{n}_live.duckdb"
        shutil.copy(base, live)
        shutil.rmtree(Path(os.environ["APPEALS_STORE_DIR"]), ignore_errors=True)
        res = {"appeals": n, "load_avg": os.getloadavg()[0]}
        res["reference_before"] = run("reference", live)
        res["refresh_full"] = run("refresh_full", live)
        import duckdb

        con = duckdb.connect(str(live))
        for statement in NEW_DAY_SQL.format(n_new=max(1, n // 182)).split(";"):
            if statement.strip():
                con.execute(statement)
        con.close()
        res["reference"] = run("reference", live)
        res["refresh_day"] = run("refresh_day", live)
        res["report_store"] = run("report_store", live)
        res["report_store_computed"] = run("report_store_computed", live)
        res["dashboard"] = run("dashboard", live)
        ref = res["reference"]["wall_s"]
        res["ratios"] = {k: round(res[k]["wall_s"] / max(ref, 1e-9), 2)
                         for k in ("refresh_full", "refresh_day", "report_store", "report_store_computed", "dashboard")}
        print(json.dumps({"appeals": n, "ratios": res["ratios"]}), flush=True)
        with (OUT / "store.jsonl").open("a") as fh:
            fh.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
    else:
        main([int(x) for x in sys.argv[1:]] or [1_000_000])
