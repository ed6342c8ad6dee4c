"""A throwaway PostgreSQL server for tests, and a loader for contract tables.

`PgServer` runs Debian's (or any) PostgreSQL binaries with `initdb` + `pg_ctl` in a
temporary folder: 127.0.0.1 on a free port, its unix socket inside that folder, trust
authentication, fsync off. As root it runs the server as the `postgres` user (PostgreSQL
refuses to run as root). `load_tables_pg` loads Polars frames into a fresh schema with the
contract's column types, through COPY.

`python -m tests.pg [--appeals N]` starts a server with the sample warehouse loaded and
prints its URL, for trying the dashboard or the CLI against PostgreSQL by hand.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from metrics.contract import TABLES

# contract type → PostgreSQL column type
PG_TYPES = {
    "text": "text",
    "timestamptz": "timestamp with time zone",
    "date": "date",
    "time": "time",
    "int": "integer",
    "double": "double precision",
    "boolean": "boolean",
}

DATABASE = "appeals"


class PostgresNotFound(RuntimeError):
    pass


def find_pg_bin() -> Path:
    """The folder holding initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""

    def version(path: str) -> tuple:
        m = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/bin$", path)
        return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if os.access(f"{folder}/initdb", os.X_OK) and os.access(f"{folder}/pg_ctl", os.X_OK):
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb:
        folder = Path(os.path.realpath(initdb)).parent
        if (folder / "pg_ctl").exists():
            return folder
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or on PATH; "
        "install them with `apt-get install -y postgresql` (scripts/test.sh does this as root)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One PostgreSQL cluster in a temporary folder; `start()` then `stop()` (idempotent)."""

    def __init__(self, database: str = DATABASE):
        self.bin = find_pg_bin()
        self.database = database
        self.port: int | None = None
        self.root: Path | None = None
        self._started = False
        self._watchdog: subprocess.Popen | None = None
        self._user: str | None = None  # run as this user (root → postgres)
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresNotFound("running as root, but there is no `postgres` user to run the server as") from None
            self._user = "postgres"

    # -- helpers ----------------------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(a) for a in args]
        if self._user is None:
            return cmd
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        if os.path.exists(runuser):
            return [runuser, "-u", self._user, "--", *cmd]
        return ["su", self._user, "-s", "/bin/sh", "-c", " ".join(_shquote(c) for c in cmd)]

    def _run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(self._cmd(*args), cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "LC_ALL": "C", "LANG": "C"})
        if proc.returncode != 0:
            log = self._log_tail()
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                + (f"\n--- server log ---\n{log}" if log else "")
            )

    def _log_tail(self, n: int = 30) -> str:
        if self.root is None:
            return ""
        log = self.root / "server.log"
        try:
            return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "sock"

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> PgServer:
        # as root the server runs as `postgres`, which must reach the folder: /tmp, not a private TMPDIR
        # (short too: a unix socket path has a ~100-byte limit)
        base = "/tmp" if self._user is not None and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="appeals-pg-", dir=base))
        self.socket_dir.mkdir()
        if self._user is not None:
            pw = pwd.getpwnam(self._user)
            for p in (self.root, self.socket_dir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._run(self.bin / "initdb", "-D", self.data_dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        last_error: Exception | None = None
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            options = " ".join([
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.socket_dir}",
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "-c shared_buffers=256MB -c work_mem=64MB",
                "-c timezone=UTC -c log_min_messages=warning",
            ])
            self._options = options
            try:
                self._run(self.bin / "pg_ctl", "-D", self.data_dir, "-l", self.root / "server.log", "-o", options,
                          "-w", "-t", "60", "start", timeout=90)
            except RuntimeError as exc:
                last_error = exc
                continue
            self._started = True
            break
        else:
            raise RuntimeError(f"PostgreSQL did not start: {last_error}")
        self._start_watchdog()
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'create database "{self.database}"')
        return self

    def _start_watchdog(self) -> None:
        """A detached process that stops the server and deletes its folder if this process dies
        without calling stop() (killed test run, crashed script): no orphaned servers."""
        stop_cmd = self._cmd(self.bin / "pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "stop")
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.root), *stop_cmd],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=self.root, start_new_session=True,
        )

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        if self.root is None:
            return
        try:
            if self._started:
                with contextlib.suppress(Exception):
                    self._run(self.bin / "pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "-t", "30", "stop",
                              timeout=60)
        finally:
            self._started = False
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def down(self) -> None:
        """Stop the server as an operator's restart does (fast: open sessions are cut)."""
        self._run(self.bin / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "-t", "60", "stop", timeout=90)

    def up(self) -> None:
        """Start it again on the same port with the same options."""
        self._run(self.bin / "pg_ctl", "-D", self.data_dir, "-l", self.root / "server.log", "-w", "-t", "60",
                  "-o", self._options, "start", timeout=90)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------
    def conninfo(self, database: str | None = None) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database or self.database}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"


_WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, root, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
subprocess.run(stop, capture_output=True, timeout=60)
shutil.rmtree(root, ignore_errors=True)
"""


def _shquote(s: str) -> str:
    import shlex

    return shlex.quote(s)


# -- loading ----------------------------------------------------------------------------------


def psycopg_conninfo(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) → a libpq URI psycopg accepts."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _pg_type(table: str, column: str) -> str:
    spec = TABLES.get(table)
    if spec is not None and column in spec.column_names:
        return PG_TYPES[spec.column(column).type]
    return "text"


def _as_copy_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text PostgreSQL parses for its column type (nulls stay null)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:  # a timestamp without zone is UTC (warehouse.md)
                col = col.dt.replace_time_zone("UTC")
            else:
                col = col.dt.convert_time_zone("UTC")
            col = col.dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")
        elif dtype == pl.Date:
            col = col.dt.strftime("%Y-%m-%d")
        elif dtype == pl.Time:
            col = col.dt.strftime("%H:%M:%S%.6f")
        elif dtype == pl.Boolean:
            col = pl.when(col).then(pl.lit("t")).when(~col).then(pl.lit("f")).otherwise(pl.lit(None, pl.Utf8))
        elif dtype.is_float():
            col = col.cast(pl.Utf8)  # shortest round-trip text ("inf", "1e+18"): float8in reads it exactly
        else:
            col = col.cast(pl.Utf8)
        exprs.append(col.alias(name))
    return frame.select(exprs)


def _copy_escape(frame: pl.DataFrame) -> bytes:
    """COPY text format: tab-separated, \\N for null, backslash/tab/newline/CR escaped."""
    esc = []
    for name in frame.columns:
        c = pl.col(name)
        c = (c.str.replace_all("\\", "\\\\", literal=True)
             .str.replace_all("\t", "\\t", literal=True)
             .str.replace_all("\n", "\\n", literal=True)
             .str.replace_all("\r", "\\r", literal=True))
        esc.append(c.fill_null(pl.lit("\\N")).alias(name))
    if not frame.columns or frame.height == 0:
        return b""
    lines = frame.select(esc).select(pl.concat_str(pl.all(), separator="\t").alias("line"))["line"]
    buf = io.StringIO()
    buf.write("\n".join(lines.to_list()))
    buf.write("\n")
    return buf.getvalue().encode("utf-8")


def load_tables_pg(url: str, tables: dict[str, pl.DataFrame], schema: str) -> None:
    """Create schema `schema` afresh in the database at `url` and load `tables` into it.

    Contract columns get the contract's types (warehouse.md); other columns are text.
    Timestamps given as text without an offset are read as UTC (the session is in UTC).
    """
    import psycopg

    with psycopg.connect(psycopg_conninfo(url)) as conn:
        conn.execute("set time zone 'UTC'")
        conn.execute(f'drop schema if exists "{schema}" cascade')
        conn.execute(f'create schema "{schema}"')
        for name, frame in tables.items():
            cols = ", ".join(f'"{c}" {_pg_type(name, c)}' for c in frame.columns)
            conn.execute(f'create table "{schema}"."{name}" ({cols})')
            if frame.height == 0:
                continue
            data = _copy_escape(_as_copy_text(frame))
            col_list = ", ".join(f'"{c}"' for c in frame.columns)
            with conn.cursor() as cur, cur.copy(f'copy "{schema}"."{name}" ({col_list}) from stdin') as copy:
                chunk = 1 << 20
                for i in range(0, len(data), chunk):
                    copy.write(data[i:i + chunk])
            conn.execute(f'analyze "{schema}"."{name}"')
        conn.commit()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.pg",
                                     description="Start a throwaway PostgreSQL with the sample warehouse loaded.")
    parser.add_argument("--appeals", type=int, default=None,
                        help="generate N appeals instead of loading data/sample/*.parquet")
    args = parser.parse_args(argv)
    from metrics import sample

    if args.appeals:
        tables = sample.generate(n_appeals=args.appeals)
    else:
        sample_dir = Path("data/sample")
        tables = {n: pl.read_parquet(sample_dir / f"{n}.parquet") for n in TABLES
                  if (sample_dir / f"{n}.parquet").exists()}
        if "appeals" not in tables:
            tables = sample.generate(n_appeals=10_000)
    with PgServer() as server:
        load_tables_pg(server.url, tables, "public")
        print(f"PostgreSQL is up with the sample loaded: {server.url}", flush=True)
        print(f"try: python -m metrics report --warehouse {server.url} --by queue --out -", flush=True)
        print("Ctrl-C stops it and deletes its data.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
