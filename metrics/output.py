"""Write frames in the format of the --out file's extension (interfaces.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def _text_safe(frame: pl.DataFrame) -> pl.DataFrame:
    # CSV/JSON: timestamps as ISO-8601 UTC (interfaces.md)
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ").alias(name))
        elif dtype == pl.Date:
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d").alias(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def write_frame(frame: pl.DataFrame, out: str) -> None:
    if out == "-":
        sys.stdout.write(_text_safe(frame).write_csv())
        return
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".json"):
        raise ValueError(f"--out: unsupported extension {suffix or '(none)'!r}; use .csv, .parquet, .json or -")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _text_safe(frame).write_csv(path)
    elif suffix == ".parquet":
        frame.write_parquet(path)
    else:
        path.write_text(_text_safe(frame).write_json())
