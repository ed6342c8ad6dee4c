"""Enforcements of the sample: the ones behind the appeals and the many never appealed.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics.sample.calendars import _Calendar
from metrics.sample.draws import _id_series, _lognormal, _ts
from metrics.sample.reference import (
    APPEAL_RATE,
    BASE_COUNTERFEIT_MODEL,
    DAY,
    ENFORCEMENT_RECIPES,
    FP_MODEL,
    HOUR,
    LAUNCH_POLICY,
    LAUNCH_RECIPE,
    N_AGENTS,
    Q_LIVE,
    QUEUES,
)

# --------------------------------------------------------------------------------------------
# Enforcements
# --------------------------------------------------------------------------------------------


# Labels are integer codes until the frame is built: cheap for millions of rows.
POLICIES = tuple(sorted({r[0] for rs in ENFORCEMENT_RECIPES.values() for r in rs} | {LAUNCH_POLICY}))
SOURCES = ("automated", "human")
MODELS = tuple(
    sorted(
        {r[2] for rs in ENFORCEMENT_RECIPES.values() for r in rs if r[2] != "agent"}
        | {r[2] for r in LAUNCH_RECIPE if r[2] != "agent"}
        | {FP_MODEL}
    )
)
# enforced_by codes: the models first, then agent_001 .. agent_060
ENFORCERS = MODELS + tuple(f"agent_{i:03d}" for i in range(1, N_AGENTS + 1))
AGENT = -1
P_COUNTERFEIT, P_LAUNCH = POLICIES.index("counterfeit"), POLICIES.index(LAUNCH_POLICY)
SRC_AUTOMATED = SOURCES.index("automated")
BY_FP, BY_BASE_COUNTERFEIT = ENFORCERS.index(FP_MODEL), ENFORCERS.index(BASE_COUNTERFEIT_MODEL)


def _recipe_codes(recipes: list[tuple[str, str, str, float]]):
    pol = np.array([POLICIES.index(r[0]) for r in recipes])
    src = np.array([SOURCES.index(r[1]) for r in recipes])
    by = np.array([AGENT if r[2] == "agent" else ENFORCERS.index(r[2]) for r in recipes])
    w = np.array([r[3] for r in recipes])
    return pol, src, by, w / w.sum()


def _draw_enforcement(
    rng: np.random.Generator, queue: np.ndarray, t: np.ndarray, cal: _Calendar, launch_extra: np.ndarray
):
    """Codes of policy, source and enforced_by for enforcements of the given queues at times t."""
    n = len(queue)
    policy = np.zeros(n, dtype=np.int64)
    source = np.zeros(n, dtype=np.int64)
    by = np.zeros(n, dtype=np.int64)
    for q, recipes in ENFORCEMENT_RECIPES.items():
        mask = queue == q
        m = int(mask.sum())
        if not m:
            continue
        pol, src, eb, p = _recipe_codes(recipes)
        pick = rng.choice(len(p), size=m, p=p)
        pol, src, eb = pol[pick], src[pick], eb[pick]
        if q == Q_LIVE:
            # after the launch the new policy takes a steady share of livestream enforcements
            lpol, lsrc, leb, lp = _recipe_codes(LAUNCH_RECIPE)
            launched = t[mask] >= cal.week_start(min(cal.spike_weeks))
            use = launch_extra[mask] | (launched & (rng.random(m) < 0.12))
            lpick = rng.choice(len(lp), size=m, p=lp)
            pol = np.where(use, lpol[lpick], pol)
            src = np.where(use, lsrc[lpick], src)
            eb = np.where(use, leb[lpick], eb)
        policy[mask], source[mask], by[mask] = pol, src, eb
    # story 1: the counterfeit classifier v3.3 was live for two weeks, then rolled back
    in_wave = (t >= cal.fp_wave[0]) & (t < cal.fp_wave[1])
    by = np.where((by == BY_BASE_COUNTERFEIT) & in_wave, BY_FP, by)
    agents = len(MODELS) + rng.integers(0, N_AGENTS, n)
    by = np.where(by == AGENT, agents, by)
    return policy, source, by


def _labels(names, codes: np.ndarray) -> pl.Series:
    return pl.Series(list(names), dtype=pl.String).gather(codes)


def _enforcements(rng: np.random.Generator, ap: dict, cal: _Calendar, n_users: int):
    n = len(ap["created"])
    queue = ap["queue"]
    lag = _lognormal(rng, 20 * HOUR, 1.2, n, 600.0, 45 * DAY)
    # the wave's extra appeals come from the faulty model's enforcements during the wave
    wave_lag = np.minimum(lag, np.maximum(ap["created"] - cal.fp_wave[0], 60.0))
    lag = np.where(ap["wave_extra"], wave_lag, lag)
    enforced = np.floor(ap["created"] - lag)
    policy, source, by = _draw_enforcement(rng, queue, enforced, cal, ap["spike_extra"])
    wave_q = ap["wave_extra"]
    policy = np.where(wave_q, P_COUNTERFEIT, policy)
    source = np.where(wave_q, SRC_AUTOMATED, source)
    by = np.where(wave_q, BY_FP, by)
    user = rng.integers(1, n_users + 1, n)

    # enforcements that nobody appealed, per (queue, day), from two weeks before the window:
    # the usual ones at the queue's appeal rate, the faulty model's extra ones (appealed at 35%)
    # and the new policy's extra ones (appealed at the queue's rate)
    weights, wave_mult, spike_mult = ap["weights"], ap["wave_mult"], ap["spike_mult"]
    base_w = weights / (wave_mult * spike_mult)
    per_appeal = n / weights.sum()
    unappealed = ((1 - APPEAL_RATE) / APPEAL_RATE)[:, None]
    lead = np.zeros_like(base_w[:, :14])
    lam_base = np.concatenate([base_w[:, :14], base_w], axis=1) * per_appeal * unappealed
    lam_wave = np.concatenate([lead, base_w * (wave_mult - 1)], axis=1) * per_appeal * (0.65 / 0.35)
    lam_spike = np.concatenate([lead, base_w * (spike_mult - 1)], axis=1) * per_appeal * unappealed
    cells, draws = [], []
    for draw, lam in enumerate((lam_base, lam_wave, lam_spike)):
        counts = rng.poisson(lam).ravel()
        cells.append(np.repeat(np.arange(counts.size), counts))
        draws.append(np.full(counts.sum(), draw, dtype=np.int8))
    cell = np.concatenate(cells)
    draw = np.concatenate(draws)
    del cells, draws
    uq, ud = np.divmod(cell, cal.n_days + 14)
    del cell
    ut = cal.t_start + (ud - 14) * DAY + np.floor(rng.random(len(uq)) * DAY)
    del ud
    upol, usrc, uby = _draw_enforcement(rng, uq, ut, cal, draw == 2)
    wave = draw == 1
    upol[wave], usrc[wave], uby[wave] = P_COUNTERFEIT, SRC_AUTOMATED, BY_FP
    uuser = rng.integers(1, n_users + 1, len(uq))

    all_t = np.concatenate([enforced, ut])
    order = np.argsort(all_t, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    frame = pl.DataFrame(
        {
            "enforcement_id": _id_series("enf_", np.arange(1, len(order) + 1), 8),
            "user_id": _id_series("u_", np.concatenate([user, uuser])[order], 7),
            "action": _labels(QUEUES, np.concatenate([queue, uq])[order]),
            "policy": _labels(POLICIES, np.concatenate([policy, upol])[order]),
            "source": _labels(SOURCES, np.concatenate([source, usrc])[order]),
            "enforced_by": _labels(ENFORCERS, np.concatenate([by, uby])[order]),
            "enforced_at": _ts(all_t[order]),
        }
    )
    return frame, {
        "enforcement_number": rank[:n] + 1,
        "source_automated": source == SRC_AUTOMATED,
        "fp_model": by == BY_FP,
        "launch_policy": policy == P_LAUNCH,
        "user": user,
    }
