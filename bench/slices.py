"""Diagnose the sliced build at scale: `api.prepare`, then facts and two reports, logging every
statement DuckDB runs (model, wall, the process's RSS and peak) and, where a sliced model runs
out of memory, trying the next slice size in the same session (the models before it stay
materialized, so one 10M run tries several sizes instead of one per half hour).

    .venv/bin/python bench/slices.py /work/benchdata/wh_10000000.duckdb [--rows-per-mb appeal_facts=250,100]

Log lines go to stdout; the last line is a JSON summary like bench/run.py's pack.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import api, warehouse  # noqa: E402
from metrics.warehouse import Warehouse, WarehouseError  # noqa: E402

T0 = time.perf_counter()


def _status() -> str:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return f"rss {int(fields['VmRSS'].split()[0]) // 1024} MB, peak {int(fields['VmHWM'].split()[0]) // 1024} MB"


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg} ({_status()})", flush=True)


def main(path: str, tries: dict[str, list[int]]) -> None:
    run_bounded = warehouse._run_bounded

    def logged(raw, name, sql, params):
        t = time.perf_counter()
        try:
            run_bounded(raw, name, sql, params)
        except Exception as exc:
            log(f"{name}: FAILED after {time.perf_counter() - t:.1f}s: {str(exc)[:220]}")
            raise
        log(f"{name}: {sql.split(' as ', 1)[0][:60].strip()} {time.perf_counter() - t:.1f}s")

    warehouse._run_bounded = logged
    chunked = Warehouse._materialize_chunked

    def trying(self, raw, name, staging, done, params, limit_mb):
        for per_mb in tries.get(name, [self.rows_per_mb.get(name, self.CHUNK_ROWS_PER_MB)]):
            self.rows_per_mb = {**self.rows_per_mb, name: per_mb}
            log(f"{name}: trying {per_mb} appeals per MB of a {limit_mb:.0f} MB limit")
            try:
                chunked(self, raw, name, staging, done, params, limit_mb)
                log(f"{name}: done in {self.slices[name]} slices")
                return
            except WarehouseError:
                raw.execute(f"drop table if exists {self.materialized_table(name)}")
        raise SystemExit(f"{name}: every slice size ran out of memory")

    Warehouse._materialize_chunked = trying
    wh = api.open_warehouse(f"duckdb:///{Path(path).resolve()}")
    t = time.perf_counter()
    as_of = api.as_of_param(api.resolve_as_of(wh, None))
    wh.materialize(as_of)
    prepare_s = time.perf_counter() - t
    log(f"prepare {prepare_s:.1f}s, slices {wh.slices}")
    t = time.perf_counter()
    n_facts = api.write_facts(wh, "/dev/null" if False else str(ROOT / "bench" / "out" / "facts_slices.parquet"))
    facts_s = time.perf_counter() - t
    log(f"facts {n_facts:,} rows {facts_s:.1f}s")
    t = time.perf_counter()
    api.report(wh, by=["queue"], period="week")
    queue_s = time.perf_counter() - t
    log(f"report by queue {queue_s:.1f}s")
    t = time.perf_counter()
    api.report(wh, by=["specialist_id"], period="week")
    spec_s = time.perf_counter() - t
    log(f"report by specialist {spec_s:.1f}s")
    print(json.dumps({"kind": "pack", "wall_s": round(time.perf_counter() - T0, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "prepare_s": round(prepare_s, 2), "facts_rows": n_facts, "facts_s": round(facts_s, 2),
                      "report_queue_s": round(queue_s, 2), "report_specialist_s": round(spec_s, 2),
                      "slices": wh.slices}), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    tries: dict[str, list[int]] = {}
    if "--rows-per-mb" in args:
        for part in args[args.index("--rows-per-mb") + 1].split(";"):
            model, sizes = part.split("=")
            tries[model] = [int(s) for s in sizes.split(",")]
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    main(args[0], tries)
