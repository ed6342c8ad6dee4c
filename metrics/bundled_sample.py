"""The bundled sample warehouse: the committed Parquet files under data/sample/, loaded into
a DuckDB file on first use.

The dashboard and the CLI open the sample through `ensure_sample_duckdb()` when no warehouse
is given. It lives apart from the generator (metrics.sample) so that start-up never imports
the 1.9k-line lifecycle simulation and its word lists.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import polars as pl

from metrics.contract import TABLES
from metrics.load import write_duckdb

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def ensure_sample_duckdb(sample_dir: str | Path = "data/sample") -> Path:
    """Path of `sample_dir/warehouse.duckdb`, built from the Parquet files there when needed.

    The DuckDB file is not committed (DuckDB files are tied to the DuckDB version); it is
    (re)built from `sample_dir/<table>.parquet` when it is missing or older than one of them
    (after a pull that brought a new sample). A relative `sample_dir` that does not exist
    under the working directory is looked up under the project root, so the app and the CLI
    find the bundled sample from anywhere.
    """
    sample_dir = Path(sample_dir)
    if not sample_dir.is_absolute() and not sample_dir.exists() and (PROJECT_ROOT / sample_dir).exists():
        sample_dir = PROJECT_ROOT / sample_dir
    path = sample_dir / "warehouse.duckdb"
    sources = [sample_dir / f"{name}.parquet" for name in TABLES]
    missing = [p.name for p in sources if not p.exists()]
    if path.exists() and (missing or path.stat().st_mtime >= max(p.stat().st_mtime for p in sources)):
        return path
    if missing:
        raise FileNotFoundError(f"sample Parquet files missing in {sample_dir}: {', '.join(missing)}")
    tables = {name: pl.read_parquet(sample_dir / f"{name}.parquet") for name in TABLES}
    # a private temporary name, then an atomic rename: concurrent first runs (app and CLI, test
    # workers) never see a half-written file and never write into each other's file
    tmp = sample_dir / f".warehouse.{os.getpid()}.{uuid.uuid4().hex[:8]}.duckdb"
    try:
        write_duckdb(tables, tmp)
        newest = max(time.time(), *(p.stat().st_mtime for p in sources))
        os.utime(tmp, (newest, newest))  # not older than its sources, even with clock skew
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return path
