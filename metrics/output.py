"""Write frames in the format of the --out file's extension (interfaces.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
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


def _checked_path(out: str) -> Path:
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".json"):
        raise ValueError(f"--out: unsupported extension {suffix or '(none)'!r}; use .csv, .parquet, .json or -")
    return path


def write_frames(frames: Iterable[pl.DataFrame], out: str) -> int:
    """Write frames of one schema, in order, as one file (or stdout): CSV and Parquet a frame at
    a time, so a result read in batches is never held whole (JSON, one array, is). Returns the
    row count. The same rows as write_frame of the frames concatenated (CSV: the same bytes)."""
    import pyarrow.parquet as pq

    path = None if out == "-" else _checked_path(out)
    suffix = path.suffix.lower() if path else ".csv"
    if suffix == ".json":
        frame = pl.concat(list(frames))
        write_frame(frame, out)
        return frame.height
    rows, writer, fh = 0, None, None
    try:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames):
            rows += frame.height
            if suffix == ".parquet":
                table = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
                continue
            text = _text_safe(frame).write_csv(include_header=i == 0)
            if path is None:
                sys.stdout.write(text)
            else:
                if fh is None:
                    fh = path.open("w", encoding="utf-8", newline="")
                fh.write(text)
    finally:
        if writer is not None:
            writer.close()
        if fh is not None:
            fh.close()
    return rows


def write_frame(frame: pl.DataFrame, out: str) -> None:
    if out == "-":
        sys.stdout.write(_text_safe(frame).write_csv())
        return
    path = _checked_path(out)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _text_safe(frame).write_csv(path)
    elif suffix == ".parquet":
        frame.write_parquet(path)
    else:
        path.write_text(_text_safe(frame).write_json())
