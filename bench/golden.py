"""Guard for engine speed work: the models' outputs must not change by a single cell.

    .venv/bin/python bench/golden.py save  DIR [WAREHOUSE.duckdb ...]
    .venv/bin/python bench/golden.py check DIR [WAREHOUSE.duckdb ...]

For 40 seeded random nasty warehouses (tests/randomwh.py, with and without an as_of) and for
any given warehouse files, writes (save) or compares exactly (check) the wide facts, the
status spans and every data check's count and examples, computed through `api.prepare` (the
materialized path) and, for the random ones, also through the plain CTE path.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import api  # noqa: E402
from metrics.load import frames_from_rows, write_duckdb  # noqa: E402
from tests.randomwh import random_as_of, random_tables  # noqa: E402

SEEDS = range(40)


def outputs(url: str, as_of, prepared: bool) -> dict[str, pl.DataFrame]:
    wh = api.prepare(url, as_of) if prepared else api.open_warehouse(url)
    checks = api.check(wh, as_of)
    return {
        "facts": api.facts(wh, as_of, wide=True),
        "spans": api.status_spans(wh, as_of),
        "checks": pl.DataFrame({"name": [c.name for c in checks], "count": [int(c.count) for c in checks],
                                "examples": [repr(c.examples) for c in checks]},
                               schema={"name": pl.Utf8, "count": pl.Int64, "examples": pl.Utf8}),
    }


def cases(extra: list[str]):
    tmp = Path(tempfile.mkdtemp(prefix="golden-"))
    for seed in SEEDS:
        tables = random_tables(seed)
        path = write_duckdb(frames_from_rows(tables), tmp / f"wh{seed}.duckdb")
        url = f"duckdb:///{path}"
        as_of = random_as_of(seed, tables)
        yield f"r{seed}_plain", url, as_of, False
        yield f"r{seed}_prep", url, as_of, True
    for path in extra:
        yield Path(path).stem, f"duckdb:///{Path(path).resolve()}", None, True


def main(mode: str, out: str, extra: list[str]) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    bad = 0
    for name, url, as_of, prepared in cases(extra):
        got = outputs(url, as_of, prepared)
        for part, frame in got.items():
            target = out_dir / f"{name}.{part}.parquet"
            if mode == "save":
                frame.write_parquet(target)
                continue
            want = pl.read_parquet(target)
            if part == "spans":  # api orders spans by (appeal_id, open_from) only: ties in any order
                frame, want = frame.sort(frame.columns, nulls_last=True), want.sort(want.columns, nulls_last=True)
            try:
                assert_frame_equal(frame, want, check_exact=True)
            except AssertionError as exc:
                bad += 1
                print(f"DIFF {name} {part}: {str(exc).splitlines()[0]}", flush=True)
    print(f"{mode}: {'ok' if not bad else f'{bad} differences'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
