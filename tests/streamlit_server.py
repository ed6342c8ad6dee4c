"""`streamlit run app.py` (as scripts/dashboard.sh starts it: `python -m ui.server`) as a real server for the browser tests: started on a free port,
waited for through its health endpoint, always stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# as root on a closed network: no sandbox, and none of Chromium's own background connections
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(port: int, host: str, env: dict, log_path: Path, extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """The app served on host:port until the block ends; yields its base URL."""
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.server", "--server.headless", "true", "--server.port", str(port),
         "--server.address", host, "--browser.gatherUsageStats", "false", *extra_args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {proc.poll()}); see {log_path}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
