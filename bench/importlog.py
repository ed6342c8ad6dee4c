"""Benchmark: importing a road-traffic-fine-shaped log (mappings/road_traffic_fines.*).

    .venv/bin/python bench/importlog.py 150000        # fines (the real log has 150,370)

Generates a CSV of N fines (about 4 rows per fine; 3% appealed, a fifth of those go on to a
judge), then measures, each in a fresh process: the reference (Polars reads the CSV and counts
rows per case: the least any import must do), the YAML mapping, the SQL mapping. Reports
seconds, the ratio to the reference and peak RSS; checks that YAML and SQL give equal facts.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["case:concept:name", "concept:name", "time:timestamp", "org:resource", "dismissal", "article",
           "vehicleClass", "amount"]


def generate(n_fines: int, path: Path, seed: int = 7) -> int:
    import polars as pl

    rng = random.Random(seed)
    rows = []
    blank = ("", "", "", "", "")

    def step(case, activity, day):
        rows.append((case, activity, day.isoformat(), *blank))

    for i in range(n_fines):
        case = f"N{i}"
        day = date(2020, 1, 1) + timedelta(days=rng.randrange(900))
        rows.append((case, "Create Fine", day.isoformat(), str(rng.randrange(500, 600)),
                     rng.choice(["NIL"] * 8 + ["#", "G"]), str(rng.choice([7, 157, 158])), rng.choice("ACM"), "35.0"))
        day += timedelta(days=rng.randrange(5, 60))
        step(case, "Send Fine", day)
        if rng.random() < 0.03:
            lodged = day + timedelta(days=rng.randrange(5, 30))
            step(case, "Insert Date Appeal to Prefecture", lodged)
            step(case, "Send Appeal to Prefecture", lodged + timedelta(days=20))
            step(case, "Receive Result Appeal from Prefecture", lodged + timedelta(days=rng.randrange(5, 40)))
            step(case, "Notify Result Appeal to Offender", lodged + timedelta(days=50))
            if rng.random() < 0.2:
                step(case, "Add penalty", lodged + timedelta(days=55))
                step(case, "Appeal to Judge", lodged + timedelta(days=60))
        else:
            step(case, "Insert Fine Notification", day + timedelta(days=3))
            step(case, "Payment", day + timedelta(days=rng.randrange(10, 90)))
    pl.DataFrame(rows, schema=COLUMNS, orient="row").write_csv(path)
    return len(rows)


def measure(kind: str, events: str, out: str) -> dict:
    """Run in a fresh process (peak RSS is this work's)."""
    import polars as pl

    from metrics.importlog import import_log

    start = time.perf_counter()  # modules loaded first: the ratio compares the work
    if kind == "reference":
        pl.read_csv(events, infer_schema=False).group_by("case:concept:name").len()
    else:
        mapping = ROOT / "mappings" / f"road_traffic_fines.{'yml' if kind == 'yaml' else 'sql'}"
        import_log(events, mapping, out)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(sizes: list[int]) -> None:
    print("| fines | rows | reference | YAML | ratio | peak RSS | SQL | ratio | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            events = Path(tmp) / f"fines_{n}.csv"
            rows = generate(n, events)
            res = {}
            for kind in ("reference", "yaml", "sql"):
                out = str(Path(tmp) / f"{kind}_{n}.duckdb")
                proc = subprocess.run([sys.executable, __file__, "--measure", kind, str(events), out],
                                      capture_output=True, text=True, cwd=ROOT, check=True)
                res[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
            from metrics import api

            same = api.facts(f"duckdb:///{tmp}/yaml_{n}.duckdb").equals(api.facts(f"duckdb:///{tmp}/sql_{n}.duckdb"))
            ref = res["reference"]["seconds"]
            print(f"| {n:,} | {rows:,} | {ref:.2f} s | {res['yaml']['seconds']:.2f} s | "
                  f"{res['yaml']['seconds'] / ref:.0f}× | {res['yaml']['peak_mb']:,.0f} MB | "
                  f"{res['sql']['seconds']:.2f} s | {res['sql']['seconds'] / ref:.0f}× | "
                  f"{res['sql']['peak_mb']:,.0f} MB |" + ("" if same else " FACTS DIFFER"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(*sys.argv[2:5])))
    else:
        sys.path.insert(0, str(ROOT))
        main([int(a) for a in sys.argv[1:]] or [150_000])
