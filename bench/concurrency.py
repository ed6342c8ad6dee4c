"""Benchmark: page loads in real headless Chromium, one session alone vs five at once.

    .venv/bin/python bench/concurrency.py [--sessions 5] [--warehouse URL]

Starts `streamlit run app.py` (the bundled sample unless --warehouse) on 127.0.0.1, builds
the store once, then runs the same work twice on a freshly started server each time:

- lone: the five sessions' step lists one after another, one browser session at a time;
- concurrent: the five step lists at once, five browser sessions (contexts) in one Chromium.

Each session walks Overview, Queues, Specialists and Root causes with filters of its own
(a market per session, two queues per page; filters live in the URL, so each step is a page
load with new filter values), so no session is served by another session's cached answers:
every step is new to the data caches. A page has loaded when its title, the sidebar and a
metric, chart or table are shown and Streamlit reports no running script, no spinner and no
stale element (the end is the first instant of that idle state, not after a grace period).

Reports p50/p90 page load for 1 and N sessions and the ratio of the p90s, with the load
average, to bench/out/concurrency.jsonl. The machine is shared: read the ratio, measured in
the same run, rather than the seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
# as tests/test_browser.py: nothing may try to reach the network on this closed machine
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ["overview", "queues", "specialists", "root-causes"]
LOADED_JS = """(t0) => {
    const shown = document.querySelector('h1')
        && document.querySelector('[data-testid="stSidebar"]')
        && document.querySelector('[data-testid="stMain"] [data-testid="stMetric"], '
            + '[data-testid="stMain"] [data-testid="stVegaLiteChart"], [data-testid="stMain"] [data-testid="stDataFrame"], '
            + '[data-testid="stMain"] [data-testid="stException"], [data-testid="stMain"] [data-testid="stAlert"]');
    const busy = document.querySelector('[data-testid="stStatusWidget"]')
        || document.querySelector('[data-stale="true"]')
        || document.querySelector('[data-testid="stSpinner"]');
    if (!shown || busy) { window.__idleSince = null; return false; }
    window.__idleSince = window.__idleSince || Date.now();
    return Date.now() - window.__idleSince > 600;   // stays idle: not a gap between two runs
}"""


def steps(session: int, markets: list[str], queues: list[str]) -> list[str]:
    """URL paths of one session: its own market, each page with two queues (new to the caches)."""
    market = markets[session % len(markets)]
    out = []
    for k, page in enumerate(PAGES):
        for j in range(2):
            queue = queues[(session + 2 * k + j) % len(queues)]
            out.append(f"/{page}?market={market}&queue={queue}")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.server", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"streamlit did not start (exit {proc.poll()}); see {log_path}")
        time.sleep(0.3)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def load(page, url: str) -> float:
    """Seconds from asking for `url` until the page has loaded (see the module's docstring)."""
    t0 = time.time() * 1000
    await page.goto(url)
    await page.wait_for_function(LOADED_JS, arg=t0, timeout=300_000, polling=100)
    end = await page.evaluate("() => window.__idleSince")
    if await page.locator('[data-testid="stException"]').count():
        raise SystemExit(f"{url}: the page shows an exception: "
                         f"{(await page.locator('[data-testid=stException]').first.inner_text())[:300]}")
    return (end - t0) / 1000


async def session(browser, base: str, paths: list[str], out: list[dict], name: str, think: float = 0.0) -> None:
    context = await browser.new_context(viewport={"width": 1500, "height": 1000})
    page = await context.new_page()
    try:
        for i, path in enumerate(paths):
            if think and i:  # a person reads the page before changing a filter
                await asyncio.sleep(think)
            seconds = await load(page, base + path)
            out.append({"session": name, "path": path, "seconds": round(seconds, 3)})
            print(f"  {name} {path} {seconds:.2f} s", flush=True)
    finally:
        await context.close()


async def run(base: str, plans: list[list[str]], together: bool, think: float, pid: int) -> tuple[list[dict], float]:
    from playwright.async_api import async_playwright

    out: list[dict] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # the first visitor: store opened, filter lists read (not measured)
            await session(browser, base, ["/overview"], [], "warm-up")
            cpu = cpu_seconds(pid)
            if together:
                await asyncio.gather(*(session(browser, base, plan, out, f"s{i}", think)
                                       for i, plan in enumerate(plans)))
            else:
                for i, plan in enumerate(plans):
                    await session(browser, base, plan, out, f"s{i}", think)
            cpu = cpu_seconds(pid) - cpu
        finally:
            await browser.close()
    return out, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return statistics.median(values), cuts[8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--warehouse", help="warehouse URL (default: the bundled sample)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a session waits between two page loads (a person reading; default 0)")
    parser.add_argument("--store-dir", help="APPEALS_STORE_DIR (default: a temporary folder, built once here)")
    args = parser.parse_args()

    import polars as pl

    env = dict(os.environ)
    if args.warehouse:
        env["APPEALS_WAREHOUSE_URL"] = args.warehouse
        url = args.warehouse
    else:
        env.pop("APPEALS_WAREHOUSE_URL", None)
        from metrics.bundled_sample import ensure_sample_duckdb

        url = f"duckdb:///{ensure_sample_duckdb(ROOT / 'data' / 'sample')}"
    env["APPEALS_STORE_DIR"] = args.store_dir or tempfile.mkdtemp(prefix="appeals-bench-store-")
    import duckdb

    con = duckdb.connect(url.split("///", 1)[1], read_only=True)
    markets = [r[0] for r in con.sql("select market from appeals where market is not null "
                                     "group by market order by count(*) desc").fetchall()]
    queues = [r[0] for r in con.sql("select queue from appeals where queue is not null "
                                    "group by queue order by count(*) desc").fetchall()]
    con.close()
    plans = [steps(i, markets, queues) for i in range(args.sessions)]
    logs = Path(tempfile.mkdtemp(prefix="appeals-bench-logs-"))

    results: dict = {"warehouse": url, "sessions": args.sessions, "steps_per_session": len(plans[0]),
                     "think_s": args.think, "cores": os.cpu_count(),
                     "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                              text=True).stdout.strip()}
    for label, together in (("lone", False), ("concurrent", True)):
        proc, base = start_server(env, logs / f"{label}.log")
        try:
            load_before = os.getloadavg()[0]
            print(f"{label}: {base}", flush=True)
            t = time.perf_counter()
            rows, cpu = asyncio.run(run(base, plans, together, args.think, proc.pid))
            wall = time.perf_counter() - t
            load_after = os.getloadavg()[0]
        finally:
            stop_server(proc)
        p50, p90 = quantiles([r["seconds"] for r in rows])
        by_page = pl.DataFrame(rows).with_columns(page=pl.col("path").str.extract(r"^/([a-z-]+)")).group_by(
            "page").agg(pl.col("seconds").median().round(2)).sort("page")
        results[label] = {"p50_s": round(p50, 2), "p90_s": round(p90, 2), "n": len(rows),
                          "load_avg_1m": [round(load_before, 1), round(load_after, 1)],
                          # the server's CPU per page load: with N sessions at once on C cores, a
                          # page cannot load faster than about N x this / C (the floor of the ratio)
                          "server_cpu_per_load_s": round(cpu / len(rows), 2), "wall_s": round(wall, 1),
                          "median_by_page": dict(zip(by_page["page"], by_page["seconds"], strict=True))}
        print(label, results[label], flush=True)
    results["p90_ratio"] = round(results["concurrent"]["p90_s"] / results["lone"]["p90_s"], 2)
    results["p50_ratio"] = round(results["concurrent"]["p50_s"] / results["lone"]["p50_s"], 2)
    print(json.dumps(results))
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    with (ROOT / "bench" / "out" / "concurrency.jsonl").open("a") as fh:
        fh.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
