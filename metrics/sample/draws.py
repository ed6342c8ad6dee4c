"""Vectorised random draws and column builders shared by the sample's parts.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _lognormal(rng: np.random.Generator, median, sigma: float, n: int, lo=None, hi=None) -> np.ndarray:
    x = np.exp(np.log(median) + sigma * rng.standard_normal(n))
    if lo is not None or hi is not None:
        x = np.clip(x, lo, hi)
    return x


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of `probs` (n × k, rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(probs))
    return (u[:, None] > cum).sum(axis=1)


def _id_series(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    s = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.lit(prefix) + s).to_series()


def _ts(seconds: np.ndarray) -> pl.Series:
    us = np.floor(seconds).astype(np.int64) * 1_000_000
    return pl.Series(us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _pick_grouped(
    rng: np.random.Generator, groups: np.ndarray, pools: list[list[str]]
) -> tuple[pl.Series, np.ndarray]:
    """For each row, a random entry of pools[group]: (flat pool, flat index per row)."""
    counts = np.array([len(p) for p in pools])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    idx = offsets[groups] + (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    flat = pl.Series([s for p in pools for s in p], dtype=pl.String)
    return flat, idx


def _gather(rng: np.random.Generator, groups: np.ndarray, pools: list[list[str]]) -> pl.Series:
    flat, idx = _pick_grouped(rng, groups, pools)
    return flat.gather(idx)


def _pick(rng: np.random.Generator, n: int, pool: list[str]) -> pl.Series:
    return pl.Series(pool, dtype=pl.String).gather(rng.integers(0, len(pool), n))
