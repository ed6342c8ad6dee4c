"""Sample warehouse generator: a realistic, deterministic appeals operation.

`generate()` returns every table of the warehouse contract (../shared/spec/warehouse.md) as
Polars frames; `write_sample()` writes them as a DuckDB file plus one Parquet file per table;
`metrics.bundled_sample.ensure_sample_duckdb()` rebuilds the DuckDB file from the committed
Parquet files.

What the data looks like (data/sample/README.md documents it for users):
- 26 ISO weeks of appeals ending on `end_date`, five queues, priorities P0-P3, six markets,
  two sites (Phoenix and Dublin) whose specialists work their site's business hours;
- a lifecycle log per appeal (assignment, automatic acknowledgement, claim, notes, evidence
  requests and user replies, escalations, decisions, reopenings, withdrawals), cut at the
  end of `end_date` (UTC) so recent appeals are still open;
- the enforcements behind the appeals plus the many that were never appealed, QA reviews,
  SLA policies, business hours and public holidays;
- six planted stories (a model false-positive wave, a policy-launch volume spike, a
  calibration outlier, a queue drifting out of SLA, a holiday backlog, an unnamed recurring
  problem in overturn notes) and a handful of deliberate data-quality cases.

Everything is vectorised with NumPy/Polars: one million appeals without text take well
under a minute. Each part draws from its own random stream, so `with_text=False` yields the
same numbers as `with_text=True`, only without the free-text columns.

The package, in the order the generator uses it: `reference` (the knobs), `calendars`
(window, stories, holidays, working clocks), `draws` (random helpers), `appeals`,
`enforcements`, `lifecycle` (events per appeal), `text` (word lists, notes, fictional PII),
and here the assembly into contract tables and the files. `python -m metrics sample` is its
command line; the dashboard never imports it (metrics.bundled_sample loads the committed files).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from metrics.bundled_sample import ensure_sample_duckdb  # noqa: F401 (the loader of the committed sample)
from metrics.contract import TABLES
from metrics.load import write_duckdb
from metrics.sample.appeals import _appeals, _assign_specialists
from metrics.sample.calendars import _Calendar, _calendar
from metrics.sample.draws import _id_series, _lognormal, _ts
from metrics.sample.enforcements import _enforcements, _labels
from metrics.sample.lifecycle import A_BOT, A_CLOSEBOT, A_USER, E_DECIDED, E_MSG, EVENT_NAMES, _lifecycle
from metrics.sample.reference import (
    CHANNELS,
    DAY,
    DEFAULT_APPEALS,
    DEFAULT_SEED,
    ESCALATION_TARGETS,
    LANGUAGES,
    MARKETS,
    OUTCOMES,
    PRIORITIES,
    QA_REVIEWERS,
    QUEUES,
    ROOT_CAUSES,
    S_PHX,
    SAMPLE_END_DATE,
    SCHEDULES,
    SLA_POLICY_ROWS,
    SP_IDS,
    SPECIALISTS,
    TS,
)
from metrics.sample.text import _appeal_text, _notes

# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def _config_tables(cal: _Calendar) -> dict[str, pl.DataFrame]:
    sla = pl.DataFrame(
        SLA_POLICY_ROWS,
        schema={
            "queue": pl.String,
            "priority": pl.String,
            "first_touch_target_hours": pl.Float64,
            "resolution_target_hours": pl.Float64,
            "clock": pl.String,
            "schedule_id": pl.String,
        },
        orient="row",
    )
    bh_rows = []
    for sched, (tz, rows) in SCHEDULES.items():
        for weekdays, s, e in rows:
            for wd in weekdays:
                bh_rows.append((sched, tz, wd, dt.time.fromisoformat(s), dt.time.fromisoformat(e)))
    bh = pl.DataFrame(
        bh_rows,
        schema={
            "schedule_id": pl.String,
            "timezone": pl.String,
            "weekday": pl.Int32,
            "start_time": pl.Time,
            "end_time": pl.Time,
        },
        orient="row",
    ).sort("schedule_id", "weekday", "start_time")
    hol = pl.DataFrame(
        [(site, d) for site, days in cal.holidays.items() for d in days],
        schema={"schedule_id": pl.String, "holiday_date": pl.Date},
        orient="row",
    )
    specialists = pl.DataFrame(
        [
            (
                s[0],
                s[1],
                s[2],
                s[3],
                s[4],
                SCHEDULES[s[4]][0],
                dt.date.fromisoformat(s[5]),
                dt.date.fromisoformat(s[6]) if s[6] else None,
            )
            for s in SPECIALISTS
        ],
        schema={
            "specialist_id": pl.String,
            "display_name": pl.String,
            "pod": pl.String,
            "team_lead": pl.String,
            "site": pl.String,
            "timezone": pl.String,
            "active_from": pl.Date,
            "active_to": pl.Date,
        },
        orient="row",
    )
    return {"specialists": specialists, "sla_policies": sla, "business_hours": bh, "holidays": hol}


def _qa_reviews(rng: np.random.Generator, life: dict, appeal_ids: pl.Series, cal: _Calendar) -> pl.DataFrame:
    n = len(life["decided"])
    pick = life["decided"] & (rng.random(n) < 0.05)
    idx = np.flatnonzero(pick)
    m = len(idx)
    delay_days = rng.integers(1, 7, m) + rng.random(m) * 0.4
    reviewed = cal.clocks[S_PHX].advance(
        life["final_dec_time"][idx] + delay_days * DAY, _lognormal(rng, 1.0, 0.8, m, 0.05, 8.0)
    )
    p_correct = np.where(life["outlier"][idx], 0.70, 0.91)
    correct = rng.random(m) < p_correct
    score = np.where(
        correct, np.clip(rng.normal(92, 4.5, m), 70, 100), np.clip(rng.normal(61, 10, m), 20, 85)
    )
    categories = [
        "wrong_outcome",
        "policy_misapplied",
        "evidence_standard_not_met",
        "template_not_followed",
        "missing_rationale",
    ]
    cat = rng.choice(5, size=m, p=[0.35, 0.25, 0.2, 0.12, 0.08])
    minor = correct & (rng.random(m) < 0.05)
    error_category = np.where(~correct, cat, np.where(minor, 3, -1))
    keep = reviewed < cal.cutoff
    idx, reviewed, correct, score, error_category = (
        idx[keep],
        reviewed[keep],
        correct[keep],
        score[keep],
        error_category[keep],
    )
    order = np.argsort(reviewed, kind="stable")
    k = len(order)
    return pl.DataFrame(
        {
            "review_id": _id_series("qa_", np.arange(1, k + 1), 6),
            "appeal_id": appeal_ids.gather(idx[order]),
            "reviewer_id": pl.Series(np.array(QA_REVIEWERS)[rng.integers(0, 4, k)], dtype=pl.String),
            "reviewed_at": _ts(reviewed[order]),
            "decision_correct": pl.Series(correct[order], dtype=pl.Boolean),
            "score": pl.Series(np.round(score[order], 1), dtype=pl.Float64),
            "error_category": pl.Series([None, *categories], dtype=pl.String).gather(
                error_category[order] + 1
            ),
        }
    )


def _plant_data_quality(
    rng: np.random.Generator, ev: dict, ap: dict, enf: dict, life: dict, cal: _Calendar
) -> np.ndarray:
    """Plant the deliberate data-quality cases (data/sample/README.md lists them) in `ev`.

    Returns the appeals whose enforcement is to be attributed to their own decider
    (self-review). The cases are picked among appeals decided once, by a specialist, on a
    human enforcement, at least two weeks before the end, so each shows exactly one problem.
    """
    n = len(ap["created"])
    eligible = np.flatnonzero(
        life["decided"]
        & ~life["reopened"]
        & ~enf["source_automated"]
        & (ap["created"] < cal.cutoff - 14 * DAY)
    )
    picks = rng.choice(eligible, size=5, replace=False)
    decided_rows = np.flatnonzero(ev["etype"] == E_DECIDED)
    row_of = np.full(n, -1)
    row_of[ev["appeal"][decided_rows]] = decided_rows
    # 1. decided without outcome (2 appeals)
    no_outcome = row_of[picks[:2]]
    ev["outcome"][no_outcome] = -1
    ev["root"][no_outcome] = -1
    # 2. decided by a system actor (1 appeal): a bulk-close script, not a person
    ev["actor"][row_of[picks[2]]] = A_CLOSEBOT
    # 3. events before created_at (3 appeals): the acknowledgement bot's clock ran 4 minutes late
    acks = np.flatnonzero((ev["etype"] == E_MSG) & (ev["actor"] == A_BOT) & (ev["time"] < cal.cutoff - DAY))
    skew = rng.choice(acks, size=3, replace=False)
    ev["time"][skew] = ap["created"][ev["appeal"][skew]] - 240.0
    # 4. self-review (2 appeals): the enforcing person decided the appeal of their own action
    return picks[3:5]


def generate(
    n_appeals: int = DEFAULT_APPEALS,
    seed: int = DEFAULT_SEED,
    end_date: dt.date = SAMPLE_END_DATE,
    with_text: bool = True,
) -> dict[str, pl.DataFrame]:
    """Every table of the warehouse contract, for `n_appeals` appeals over 26 weeks to `end_date`.

    Deterministic per (n_appeals, seed, end_date). Timestamps are `Datetime("us", "UTC")`;
    events at or after the end of `end_date` (UTC) are cut, so recent appeals are open.
    With `with_text=False` the free-text columns (`appeal_text`, `note`) are null.
    """
    if n_appeals < 100:
        raise ValueError("n_appeals must be at least 100")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    cal = _calendar(end_date)
    ap = _appeals(streams[0], n_appeals, cal)
    n_users = max(20_000, n_appeals * 4)
    enf_frame, enf = _enforcements(streams[1], ap, cal, n_users)
    sp1, sp2 = _assign_specialists(streams[2], ap, cal)
    ev, life = _lifecycle(streams[3], ap, enf, sp1, sp2, cal)
    self_review = _plant_data_quality(streams[7], ev, ap, enf, life, cal)
    if len(self_review):
        by = enf_frame["enforced_by"].scatter(
            enf["enforcement_number"][self_review] - 1, SP_IDS[life["decider"][self_review]].tolist()
        )
        enf_frame = enf_frame.with_columns(by)

    appeal_ids = _id_series("ap_", np.arange(1, n_appeals + 1), 7)
    enf_ids = enf_frame["enforcement_id"].gather(enf["enforcement_number"] - 1)
    appeals = pl.DataFrame(
        {
            "appeal_id": appeal_ids,
            "enforcement_id": enf_ids,
            "queue": pl.Series(np.array(QUEUES)[ap["queue"]], dtype=pl.String),
            "priority": pl.Series(np.array(PRIORITIES)[ap["priority"]], dtype=pl.String),
            "market": pl.Series(np.array(MARKETS)[ap["market"]], dtype=pl.String),
            "channel": pl.Series(np.array(CHANNELS)[ap["channel"]], dtype=pl.String),
            "language": pl.Series(np.array(LANGUAGES)[ap["language"]], dtype=pl.String),
            "created_at": _ts(ap["created"]),
            "appeal_text": _appeal_text(streams[4], ap)
            if with_text
            else pl.Series([None] * n_appeals, dtype=pl.String),
            "appellant_type": pl.Series(np.where(ap["seller"], "seller", "buyer"), dtype=pl.String),
        }
    )

    # events ordered by appeal, then time, then lifecycle step; ids follow that order
    order = np.lexsort((ev["order"], ev["time"], ev["appeal"]))
    ev = {k: v[order] for k, v in ev.items()}
    m = len(order)
    actor = ev["actor"]
    user_ids = _id_series("u_", enf["user"], 7)
    sp_part = pl.Series(SP_IDS[np.clip(actor, 0, None)], dtype=pl.String)
    actor_id = pl.select(
        pl.when(pl.Series(actor == A_USER))
        .then(user_ids.gather(ev["appeal"]))
        .when(pl.Series(actor == A_BOT))
        .then(pl.lit("autoack-bot"))
        .when(pl.Series(actor == A_CLOSEBOT))
        .then(pl.lit("auto-close-bot"))
        .otherwise(sp_part)
    ).to_series()
    actor_type = _labels(
        ("specialist", "system", "user"), np.where(actor == A_USER, 2, np.where(actor < 0, 1, 0))
    )

    def coded(values, names):
        return pl.Series([None, *names], dtype=pl.String).gather(values + 1)

    notes = (
        _notes(streams[5], ev, ap["queue"][ev["appeal"]], ap["market"][ev["appeal"]])
        if with_text
        else pl.Series([None] * m, dtype=pl.String)
    )
    events = pl.DataFrame(
        {
            "event_id": _id_series("ev_", np.arange(1, m + 1), 9),
            "appeal_id": appeal_ids.gather(ev["appeal"]),
            "occurred_at": _ts(ev["time"]),
            "event_type": coded(ev["etype"], EVENT_NAMES),
            "actor_id": actor_id,
            "actor_type": actor_type,
            "outcome": coded(ev["outcome"], OUTCOMES),
            "root_cause": coded(ev["root"], ROOT_CAUSES),
            "escalation_target": coded(ev["esc"], ESCALATION_TARGETS),
            "note": notes.rename("note"),
        }
    )
    qa = _qa_reviews(streams[6], life, appeal_ids, cal)
    tables = {
        "appeals": appeals,
        "appeal_events": events,
        "enforcements": enf_frame,
        **_config_tables(cal),
        "qa_reviews": qa,
    }
    return {name: _conform(name, tables[name]) for name in TABLES}


_POLARS_TYPES = {
    "text": pl.String,
    "timestamptz": TS,
    "date": pl.Date,
    "time": pl.Time,
    "int": pl.Int32,
    "double": pl.Float64,
    "boolean": pl.Boolean,
}


def _conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns, in the contract's order and types."""
    spec = TABLES[name]
    return frame.select([pl.col(c.name).cast(_POLARS_TYPES[c.type]) for c in spec.columns])


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_sample(
    out_dir: str | Path,
    n_appeals: int = DEFAULT_APPEALS,
    seed: int = DEFAULT_SEED,
    end_date: dt.date = SAMPLE_END_DATE,
    with_text: bool = True,
) -> dict[str, int]:
    """Write `out_dir/warehouse.duckdb` and `out_dir/<table>.parquet`; return row counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = generate(n_appeals=n_appeals, seed=seed, end_date=end_date, with_text=with_text)
    for name, frame in tables.items():
        frame.write_parquet(
            out / f"{name}.parquet", compression="zstd", compression_level=19, statistics=True
        )
    write_duckdb(tables, out / "warehouse.duckdb")
    return {name: frame.height for name, frame in tables.items()}
