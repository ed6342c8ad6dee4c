"""Benchmark: the dashboard on a big warehouse, as a new user meets it, in headless Chromium.

    # a new user: generate, refresh, start the app (this bench starts it)
    .venv/bin/python bench/gen.py /path/wh_10000000.duckdb 10000000
    .venv/bin/python -m metrics refresh --warehouse duckdb:////path/wh_10000000.duckdb
    .venv/bin/python bench/dashboard.py duckdb:////path/wh_10000000.duckdb

With the store already refreshed (the store the app finds for this warehouse URL), starts
`streamlit run app.py` and measures:

- first load: a new browser session opening the app's root on the freshly started server
  (store opened, filter lists read, the Overview computed), until the page has loaded
  (bench/concurrency.py: title, sidebar and content shown, no running script);
- per page, warm: the page opened once with a queue filter (its load), then the rerun after
  a filter change made in the page (the period grain set to Month in the sidebar: every
  report of the page is new to the caches), median of two changes (Month, then Day); a page
  without periods (Data quality) is opened again instead (warm);
- the app's peak RSS: the server process's VmHWM (/proc), after all of the above;
- the server's CPU seconds (all threads) for the first load and each rerun: on a shared,
  loaded machine the wall time is mostly waiting for a core, the CPU time is the app's cost.

Writes one JSON line to bench/out/dashboard.jsonl, with the load average during the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.concurrency import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    LOADED_JS,
    cpu_seconds,
    load,
    start_server,
    stop_server,
)

PAGES = ["overview", "queues", "specialists", "root-causes", "definitions", "data-quality"]
GRAINS = ["Month", "Day"]
BUSY_JS = """() => !!(document.querySelector('[data-testid="stStatusWidget"]')
    || document.querySelector('[data-stale="true"]') || document.querySelector('[data-testid="stSpinner"]'))"""


def peak_rss_mb(pid: int) -> float:
    """VmHWM of the process and its children (streamlit runs in the one process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def rerun(page, label: str) -> float:
    """Seconds from a click on the sidebar's grain button until the rerun has finished."""
    button = page.locator(f'[data-testid="stSidebar"] button:has-text("{label}")').first
    await page.evaluate("() => { window.__idleSince = null; }")
    t0 = time.time() * 1000
    await button.click()
    # the rerun marks the page stale or shows the running widget within moments; one faster
    # than the poll is measured by the idle wait alone
    with contextlib.suppress(Exception):
        await page.wait_for_function(BUSY_JS, timeout=5_000, polling=20)
    await page.wait_for_function(LOADED_JS, arg=t0, timeout=300_000, polling=100)
    end = await page.evaluate("() => window.__idleSince")
    if await page.locator('[data-testid="stException"]').count():
        raise SystemExit(f"{label}: the page shows an exception")
    return (end - t0) / 1000


async def drive(base: str, queue: str, pid: int, pages: list[str]) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {"pages": {}}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1500, "height": 1000})
            page = await context.new_page()
            cpu = cpu_seconds(pid)
            out["first_load_s"] = round(await load(page, base + "/"), 2)
            # the server's own CPU (all threads, DuckDB's included): what the app costs apart
            # from waiting for a core on a loaded machine
            out["first_load_cpu_s"] = round(cpu_seconds(pid) - cpu, 2)
            out["rss_after_first_load_mb"] = round(rss_mb(pid))
            print("first load", out["first_load_s"], "s", flush=True)
            for name in pages:
                cpu = cpu_seconds(pid)
                opened = await load(page, f"{base}/{name}?queue={queue}")
                opened_cpu = cpu_seconds(pid) - cpu
                grain = page.locator(f'[data-testid="stSidebar"] button:has-text("{GRAINS[0]}")').first
                times, cpus = [], []
                if await grain.is_visible():
                    for g in GRAINS:
                        cpu = cpu_seconds(pid)
                        times.append(await rerun(page, g))
                        cpus.append(cpu_seconds(pid) - cpu)
                else:  # a page without periods (Data quality): its load, then opened again (warm)
                    cpu = cpu_seconds(pid)
                    times.append(await load(page, f"{base}/{name}?queue={queue}"))
                    cpus.append(cpu_seconds(pid) - cpu)
                out["pages"][name] = {"load_with_filter_s": round(opened, 2), "load_cpu_s": round(opened_cpu, 2),
                                      "reruns_s": [round(t, 2) for t in times],
                                      "rerun_s": round(statistics.median(times), 2),
                                      "rerun_cpu_s": round(statistics.median(cpus), 2), "rss_mb": round(rss_mb(pid)),
                                      "rerun": "grain change" if len(times) == len(GRAINS) else "opened again"}
                print(name, out["pages"][name], flush=True)
            await context.close()
        finally:
            await browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", help="warehouse URL whose store is already refreshed")
    parser.add_argument("--queue", default="payments_hold", help="the queue filter pages open with")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages to open (default: all)")
    args = parser.parse_args()
    env = dict(os.environ, APPEALS_WAREHOUSE_URL=args.warehouse)
    logs = Path(tempfile.mkdtemp(prefix="appeals-bench-dashboard-"))
    load_before = os.getloadavg()
    t = time.perf_counter()
    proc, base = start_server(env, logs / "server.log")
    started = time.perf_counter() - t
    try:
        result = asyncio.run(drive(base, args.queue, proc.pid, [p for p in args.pages.split(",") if p]))
        result["peak_rss_mb"] = round(peak_rss_mb(proc.pid))
    finally:
        stop_server(proc)
    result.update({
        "warehouse": args.warehouse, "server_start_s": round(started, 2),
        "memory_limit": os.environ.get("APPEALS_DUCKDB_MEMORY_LIMIT", "2GB (default)"),
        "load_avg_before": [round(x, 1) for x in load_before], "load_avg_after": [round(x, 1) for x in os.getloadavg()],
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
    })
    print(json.dumps(result))
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    with (ROOT / "bench" / "out" / "dashboard.jsonl").open("a") as fh:
        fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
