"""Where `api.prepare` spends its time: seconds per materialized model, in one process.

    .venv/bin/python bench/stages.py bench/out/wh_1000000.duckdb [--explain MODEL]

Times every statement `Warehouse.materialize` sends to DuckDB (a thin proxy around the
connection) and prints wall and CPU seconds per model (CPU first: the machine is shared, so wall
time swings with other load), with the peak RSS of the whole run.
--explain MODEL runs EXPLAIN ANALYZE on that model's statement instead of timing it.
"""

from __future__ import annotations

import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import api  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _TimedConnection:
    def __init__(self, raw, explain: str | None):
        self._raw, self._explain, self.times = raw, explain, {}

    def execute(self, sql, params=None):
        match = re.match(r"create or replace (?:temp )?table (?:\w+\.)?(\w+)_materialized as ", sql)
        if match and match.group(1) == self._explain:
            plan = self._raw.execute("explain analyze " + sql[match.end():], params).fetchall()
            print(plan[0][1])
        t, c = time.perf_counter(), _cpu()
        out = self._raw.execute(sql, params)
        if match:
            self.times[match.group(1)] = (time.perf_counter() - t, _cpu() - c)
        return out

    def __getattr__(self, name):
        return getattr(self._raw, name)


class _Session:
    def __init__(self, raw_connection, explain):
        self._fairy = raw_connection
        self.driver_connection = _TimedConnection(raw_connection.driver_connection, explain)


def main(path: str, explain: str | None) -> None:
    wh = api.open_warehouse(f"duckdb:///{Path(path).resolve()}")
    as_of = api.as_of_param(api.resolve_as_of(wh, None))
    wh._session = _Session(wh.engine.raw_connection(), explain)
    t, c = time.perf_counter(), _cpu()
    wh.materialize(as_of)
    total, cpu = time.perf_counter() - t, _cpu() - c
    times = wh._session.driver_connection.times
    print(f"{'model':22s} {'wall':>9s} {'cpu':>9s}")
    for name, (secs, cpu_secs) in sorted(times.items(), key=lambda kv: -kv[1][1]):
        print(f"{name:22s} {secs:7.2f} s {cpu_secs:7.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'prepare':22s} {total:7.2f} s {cpu:7.2f} s   peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    args = sys.argv[1:]
    explain = args[args.index("--explain") + 1] if "--explain" in args else None
    main(args[0], explain)
