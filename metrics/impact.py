"""Theme impact: how much of the overturns each theme is, and which themes moved.

Everything here reshapes `api.report` frames by `theme` (the overturn_rate numerator of a
theme row is that theme's overturns; a theme exists only on overturned appeals) and by the
whole selection (the denominator: decisions with a known outcome). "Fix this theme" means
its overturns would not have happened: the overturn rate would fall by its overturns over
all decisions.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl

MIN_MOVER_COUNT = 10  # a theme with fewer overturns in both weeks together is not called a mover
MIN_MOVER_Z = 2.0  # |change| / sqrt(sum): a Poisson difference beyond ~95% chance

NUM, DEN = "overturn_rate_numerator", "overturn_rate_denominator"


def theme_shares(by_theme: pl.DataFrame, total: pl.DataFrame, key: str | None = None) -> pl.DataFrame:
    """Per period (and `key` group) and theme: overturns, share of the period's overturns, and
    the overturn rate with and without the theme's overturns ("fix this and the rate falls to").

    `by_theme` is a report by [theme] (or [key, theme]) with overturn_rate; `total` the report by
    [] (or [key]) for the same periods."""
    groups = ["period_start"] + ([key] if key else [])
    themed = by_theme.filter(pl.col("theme").is_not_null()).select(*groups, "theme", pl.col(NUM).alias("overturns"))
    base = total.select(*groups, pl.col(NUM).alias("all_overturns"), pl.col(DEN).alias("decisions"))
    out = themed.join(base, on=groups, how="left", nulls_equal=True).with_columns(
        (pl.col("overturns") / pl.col("all_overturns")).alias("share"),
        (pl.col("all_overturns") / pl.col("decisions")).alias("overturn_rate"),
        ((pl.col("all_overturns") - pl.col("overturns")) / pl.col("decisions")).alias("overturn_rate_without"),
    )
    return out.with_columns((pl.col("overturn_rate") - pl.col("overturn_rate_without")).alias("rate_drop")).sort(
        [*groups, "overturns"], descending=[False] * len(groups) + [True])


def theme_movers(by_theme: pl.DataFrame, focus: date, previous: date, min_count: int = MIN_MOVER_COUNT,
                 min_z: float = MIN_MOVER_Z) -> pl.DataFrame:
    """Themes by how far their overturns moved from `previous` to `focus`, largest |z| first.

    z = (now − before) / √(now + before): the change against the Poisson noise of the two
    counts. `is_mover` marks changes that are both large against that noise (|z| ≥ min_z) and
    on enough appeals (now + before ≥ min_count), so a theme going 1 → 4 is not news."""
    rows = []
    sub = by_theme.filter(pl.col("theme").is_not_null())
    for theme in sorted(set(sub["theme"].to_list())):
        part = sub.filter(pl.col("theme") == theme)
        now = int(part.filter(pl.col("period_start") == focus)[NUM].sum() or 0)
        before = int(part.filter(pl.col("period_start") == previous)[NUM].sum() or 0)
        z = (now - before) / math.sqrt(now + before) if now + before else 0.0
        rows.append({"theme": theme, "previous": before, "current": now, "change": now - before, "z": z,
                     "is_mover": abs(z) >= min_z and now + before >= min_count})
    schema = {"theme": pl.Utf8, "previous": pl.Int64, "current": pl.Int64, "change": pl.Int64, "z": pl.Float64,
              "is_mover": pl.Boolean}
    out = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return out.with_columns(pl.col("z").abs().alias("_abs")).sort(["is_mover", "_abs", "theme"],
                                                                 descending=[True, True, False]).drop("_abs")


def impact_table(by_theme: pl.DataFrame, total: pl.DataFrame, by_queue: pl.DataFrame, by_source: pl.DataFrame,
                 focus: date, previous: date) -> pl.DataFrame:
    """One row per theme in the focus period: overturns, share, the overturn-rate drop if it were
    fixed, its largest queue and enforcement source (by overturns), and its move against the
    period before (z and the small-count guard of theme_movers)."""
    shares = theme_shares(by_theme, total).filter(pl.col("period_start") == focus)
    moves = theme_movers(by_theme, focus, previous).select("theme", "previous", "change", "z", "is_mover")

    def largest(frame: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
        sub = frame.filter((pl.col("period_start") == focus) & pl.col("theme").is_not_null()
                           & pl.col(key).is_not_null())
        sub = sub.with_columns((pl.col(NUM) / pl.col(NUM).sum().over("theme")).alias("_share"))
        best = sub.sort([NUM, key], descending=[True, False]).unique("theme", keep="first")
        return best.select("theme", pl.format("{} ({}%)", pl.col(key), (pl.col("_share") * 100).round(0)
                                              .cast(pl.Int64)).alias(name))

    out = (shares.select("theme", "overturns", "share", "rate_drop")
           .join(moves, on="theme", how="left")
           .join(largest(by_queue, "queue", "largest_queue"), on="theme", how="left")
           .join(largest(by_source, "enforcement_source", "largest_source"), on="theme", how="left"))
    return out.sort(["overturns", "theme"], descending=[True, False])
