"""Read an events file: CSV/TSV (every column as text), Parquet (typed), XES (plain or gzip).

XES is read with the standard library's streaming parser (`xml.etree.ElementTree.iterparse`):
each trace is turned into rows and freed as soon as it closes, so memory holds the rows, not
the XML tree. A trace's own attributes are copied onto each of its events as `case:<key>`
(the convention process-mining tools use, e.g. `case:concept:name` is the case id). The
children of XES lists and containers are not read (they are not columns); `<global>` defaults
are not applied (an event without the key has a null there). Every value is text: the mapping
says which column is a timestamp and parses it (XES dates carry their offset).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse

import polars as pl

from metrics.importlog.common import EventsFileError

_XES_VALUE_TAGS = {"string", "date", "int", "float", "boolean", "id"}


def file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        return "xes"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    raise EventsFileError(
        f"events file {path}: unsupported extension '{''.join(path.suffixes)}' (use .csv, .parquet, .xes or .xes.gz)"
    )


def read_events(path: str | Path) -> pl.DataFrame:
    path = Path(path)
    if not path.exists():
        raise EventsFileError(f"events file not found: {path}")
    kind = file_kind(path)
    try:
        if kind == "parquet":
            return pl.read_parquet(path)
        if kind == "xes":
            return read_xes(path)
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        # Every column as text: ids keep leading zeros; the mapping says what is a timestamp.
        return pl.read_csv(path, infer_schema=False, separator=sep, null_values=[""], encoding="utf8-lossy")
    except EventsFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a one-line file error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EventsFileError(f"cannot read events file {path}: {first}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_xes(path: Path) -> pl.DataFrame:
    with open(path, "rb") as probe:
        opener = gzip.open if probe.read(2) == b"\x1f\x8b" else open
    columns: dict[str, list[str | None]] = {}
    n_rows = 0
    stack: list[str] = []
    trace_attrs: dict[str, str] = {}
    event_attrs: dict[str, str] | None = None
    trace_events: list[dict[str, str]] = []

    def flush_trace() -> None:
        nonlocal n_rows
        for ev in trace_events:
            row = {**{f"case:{k}": v for k, v in trace_attrs.items()}, **ev}
            for key in row:  # new columns in the order first seen
                if key not in columns:
                    columns[key] = [None] * n_rows
            for key, values in columns.items():
                values.append(row.get(key))
            n_rows += 1

    try:
        with opener(path, "rb") as fh:
            for action, elem in iterparse(fh, events=("start", "end")):
                tag = _local(elem.tag)
                if action == "start":
                    stack.append(tag)
                    if tag == "trace":
                        trace_attrs, trace_events = {}, []
                    elif tag == "event":
                        event_attrs = {}
                    continue
                stack.pop()
                parent = stack[-1] if stack else ""
                if tag in _XES_VALUE_TAGS and "key" in elem.attrib:
                    key, value = elem.attrib["key"], elem.attrib.get("value")
                    if parent == "event" and event_attrs is not None:
                        event_attrs[key] = value
                    elif parent == "trace":
                        trace_attrs[key] = value
                elif tag == "event":
                    if parent == "trace" and event_attrs is not None:
                        trace_events.append(event_attrs)
                    event_attrs = None
                    elem.clear()
                elif tag == "trace":
                    flush_trace()
                    elem.clear()
    except ParseError as exc:
        raise EventsFileError(f"cannot read events file {path}: not well-formed XES ({exc})") from None
    except (OSError, EOFError) as exc:
        raise EventsFileError(f"cannot read events file {path}: {exc}") from None
    if not columns:
        raise EventsFileError(f"events file {path}: no <trace><event> found (is it an XES log?)")
    return pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in columns.items()})
