"""The lifecycle simulation: each appeal's events (assignment, acknowledgement, claim, notes,
evidence, escalation, decisions, reopenings, withdrawals), cut at the sample's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics.contract import EVENT_TYPES
from metrics.sample.calendars import _Calendar
from metrics.sample.draws import _choice_rows, _lognormal
from metrics.sample.reference import (
    DAY,
    DRIFT_PER_WEEK,
    ESCALATION_MIX,
    ESCALATION_RATE,
    EVIDENCE_RATE,
    HOUR,
    OUTLIER_FACTOR,
    OUTLIER_SPECIALIST,
    OVERTURN_BASE,
    Q_ACC,
    Q_PAY,
    RC_AFP,
    RC_AGENT,
    RC_MIX_AUTOMATED,
    RC_MIX_HUMAN,
    RC_MIX_LAUNCH,
    RC_NEW_EV,
    ROOT_CAUSES,
    S_DUB,
    S_PHX,
    SP_IDS,
    SP_SITE,
)

# --------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------

E_ASSIGNED, E_CLAIMED, E_MSG, E_NOTE, E_EV_REQ, E_EV_REC, E_ESC, E_DECIDED, E_REOPENED, E_WITHDRAWN = range(
    10
)
EVENT_NAMES = EVENT_TYPES  # the codes above index the contract's own list, in its order
A_USER, A_BOT, A_CLOSEBOT = -1, -2, -3  # actor codes besides specialist indexes

# note kinds
N_NONE, N_INTERNAL, N_GUIDANCE, N_ESCALATION, N_DECISION = range(5)


@dataclass
class _Steps:
    """Columns of the event log before it becomes a frame (one entry per event)."""

    appeal: list
    time: list
    etype: list
    actor: list
    outcome: list
    root: list
    esc: list
    note_kind: list
    note_group: list
    order: list

    def add(
        self,
        mask,
        appeal,
        time,
        etype,
        actor,
        order,
        outcome=None,
        root=None,
        esc=None,
        note_kind=N_NONE,
        note_group=None,
    ):
        idx = np.flatnonzero(mask)
        m = len(idx)

        def col(v, fill, dtype):
            if v is None:
                return np.full(m, fill, dtype=dtype)
            v = np.asarray(v)
            return np.full(m, v, dtype=dtype) if v.ndim == 0 else v[idx].astype(dtype)

        self.appeal.append(appeal[idx].astype(np.int32))
        self.time.append(time[idx])
        self.etype.append(np.full(m, etype, dtype=np.int8))
        self.actor.append(col(actor, 0, np.int16))
        self.outcome.append(col(outcome, -1, np.int8))
        self.root.append(col(root, -1, np.int8))
        self.esc.append(col(esc, -1, np.int8))
        self.note_kind.append(np.full(m, note_kind, dtype=np.int8))
        self.note_group.append(col(note_group, -1, np.int8))
        self.order.append(np.full(m, order, dtype=np.int8))

    def concat(self) -> dict[str, np.ndarray]:
        out = {}
        for k in self.__dataclass_fields__:
            out[k] = np.concatenate(getattr(self, k))
            setattr(self, k, [])
        return out


def _outcome(rng, p_over, partial_share, rc_probs, n):
    over = rng.random(n) < p_over
    partial = rng.random(n) < partial_share
    outcome = np.where(over, np.where(partial, 2, 1), 0)
    root = np.where(over, _choice_rows(rng, rc_probs), -1)
    return outcome, root


def _lifecycle(
    rng: np.random.Generator, ap: dict, enf: dict, sp1: np.ndarray, sp2: np.ndarray, cal: _Calendar
):
    n = len(ap["created"])
    q, prio, site = ap["queue"], ap["priority"], ap["site"]
    calendar = prio <= 1  # P0/P1 are worked around the clock (on call), the rest in site hours
    clocks = cal.clocks

    def work(t, hours, site_=site):
        out = t + hours * HOUR
        for s in (S_PHX, S_DUB):
            m = (site_ == s) & ~calendar
            if m.any():
                out[m] = clocks[s].advance(t[m], hours[m])
        return out

    # story 4: the payments_hold queue slows down week after week at the end of the window
    drift = np.where(
        (q == Q_PAY) & (ap["week"] >= cal.drift_from_week),
        1.0 + DRIFT_PER_WEEK * (ap["week"] - cal.drift_from_week + 1),
        1.0,
    )

    t0 = ap["created"]
    app = np.arange(n)
    t_asg = t0 + _lognormal(rng, 45.0, 0.8, n, 2.0, 1800.0)
    has_ack = rng.random(n) < 0.97
    t_ack = t_asg + rng.uniform(2.0, 60.0, n)
    ft_median = np.array([0.2, 0.7, 2.5, 5.0])[prio]
    d_ft = _lognormal(rng, ft_median, 0.9, n, 1 / 30, None) * drift
    t_claim = work(t_asg, d_ft)

    # reassignment: before the claim (rebalancing) or mid-work (handover)
    r = rng.random(n)
    rea_early = r < 0.05
    rea_mid = (r >= 0.05) & (r < 0.08)
    t_rea_early = t_asg + rng.uniform(0.2, 0.8, n) * (t_claim - t_asg)
    worker = np.where(rea_early, sp2, sp1)

    # the user withdraws before anyone looks at it
    t_wd_early = t0 + _lognormal(rng, 8 * HOUR, 1.0, n, 1800.0, 20 * DAY)
    wd_early = (rng.random(n) < 0.015) & (t_wd_early < t_claim)

    cur = t_claim.copy()
    has_note = rng.random(n) < 0.25
    t_note = work(cur, _lognormal(rng, 0.3, 0.8, n, 1 / 30, 4.0))
    cur = np.where(has_note, t_note, cur)

    has_ev = rng.random(n) < EVIDENCE_RATE[q] * np.where(prio == 0, 0.5, 1.0)
    t_req = work(cur, _lognormal(rng, 0.25, 0.7, n, 1 / 30, 3.0))
    responds = rng.random(n) < 0.85
    # users answer faster when the matter is urgent (money held, account locked)
    t_recv = t_req + _lognormal(rng, np.where(prio <= 1, 8.0, 20.0) * HOUR, 1.1, n, 600.0, 14 * DAY)
    wd_nr = has_ev & ~responds & (rng.random(n) < 0.4)
    t_wd_nr = t_req + _lognormal(rng, 50 * HOUR, 0.6, n, 3600.0, 10 * DAY)
    timeout = has_ev & ~responds & ~wd_nr
    t_timeout = t_req + 5 * DAY + rng.uniform(0, DAY, n)
    cur = np.where(has_ev & responds, t_recv, np.where(timeout, t_timeout, cur))

    has_esc = (rng.random(n) < ESCALATION_RATE[q]) & ~timeout
    esc_target = _choice_rows(rng, ESCALATION_MIX[q])
    t_esc = work(cur, _lognormal(rng, 0.5, 0.8, n, 1 / 30, 6.0))
    t_ret = t_esc + _lognormal(rng, 30 * HOUR, 0.7, n, 2 * HOUR, 12 * DAY)
    has_guidance = has_esc & (rng.random(n) < 0.7)
    t_guid = work(t_ret, _lognormal(rng, 0.3, 0.7, n, 1 / 30, 3.0))
    cur = np.where(has_esc, np.where(has_guidance, t_guid, t_ret), cur)

    t_rea_mid = work(cur, _lognormal(rng, 1.0, 0.8, n, 1 / 30, 8.0))
    sp_mid = np.where(rea_early, sp1, sp2)  # the handover goes to someone else than the worker
    sp_mid_site = SP_SITE[sp_mid]
    t_claim2 = work(t_rea_mid, _lognormal(rng, 1.5, 0.9, n, 1 / 30, None) * drift, sp_mid_site)
    cur = np.where(rea_mid, t_claim2, cur)
    decider = np.where(rea_mid, sp_mid, worker)

    quick = rng.random(n) < 0.55
    d_rev = (
        np.where(quick, _lognormal(rng, 0.4, 0.7, n, 1 / 20, 6.0), _lognormal(rng, 6.0, 0.9, n, 0.5, 80.0))
        * drift
    )
    t_dec = work(cur, d_rev, SP_SITE[decider])
    has_msg = rng.random(n) < 0.8
    t_msg = t_dec + rng.uniform(60.0, 1800.0, n)

    withdrawn = wd_early | wd_nr
    t_wd = np.where(wd_early, t_wd_early, t_wd_nr)
    decided = ~withdrawn

    # ---- outcomes -------------------------------------------------------------------------
    auto = enf["source_automated"]
    fp_model = enf["fp_model"]
    launch = enf["launch_policy"]
    badge = (q == Q_ACC) & ap["seller"] & (t0 >= cal.badge[0]) & (t0 < cal.badge[1]) & (rng.random(n) < 0.55)
    outlier = SP_IDS[decider] == OUTLIER_SPECIALIST
    p_over = OVERTURN_BASE[q] * np.where(auto, 1.25, 0.8) + np.where(has_ev & responds, 0.12, 0.0)
    p_over = p_over * np.where(launch, 1.3, 1.0) * np.where(outlier, OUTLIER_FACTOR, 1.0)
    p_over = np.where(timeout, 0.04, p_over)
    p_over = np.where(fp_model, 0.72, p_over)
    p_over = np.where(badge, 1.0, p_over)
    p_over = np.clip(p_over, 0, 0.95)
    rc_probs = np.where(auto[:, None], RC_MIX_AUTOMATED[None, :], RC_MIX_HUMAN[None, :])
    rc_probs = np.where(launch[:, None], RC_MIX_LAUNCH[None, :], rc_probs)
    ev_rc = np.zeros(len(ROOT_CAUSES))
    ev_rc[RC_NEW_EV] = 1.0
    rc_probs = np.where((has_ev & responds & (rng.random(n) < 0.45))[:, None], ev_rc[None, :], rc_probs)
    afp = np.full(len(ROOT_CAUSES), 0.02 / 6)
    afp[RC_AFP] = 0.98
    rc_probs = np.where(fp_model[:, None], afp[None, :], rc_probs)
    partial_share = np.where(fp_model, 0.1, np.where(badge, 0.15, 0.3))
    outcome1, root1 = _outcome(rng, p_over, partial_share, rc_probs, n)
    # some overturns carry no code at all; the badge cluster has none or a generic one
    root1 = np.where((outcome1 > 0) & (rng.random(n) < 0.02), -1, root1)
    root1 = np.where(badge & (outcome1 > 0), np.where(rng.random(n) < 0.6, -1, RC_AGENT), root1)

    # ---- reopen and second decision ---------------------------------------------------------
    reopen = decided & (rng.random(n) < 0.04)
    reopen_by_user = rng.random(n) < 0.7
    t_reo = t_dec + np.where(
        reopen_by_user,
        _lognormal(rng, 40 * HOUR, 0.9, n, HOUR, 20 * DAY),
        _lognormal(rng, 4 * DAY, 0.5, n, DAY, 20 * DAY),
    )
    t_dec2 = work(t_reo, _lognormal(rng, 3.0, 1.0, n, 1 / 20, 60.0) * drift, SP_SITE[decider])
    has_msg2 = rng.random(n) < 0.8
    t_msg2 = t_dec2 + rng.uniform(60.0, 1800.0, n)
    flip = np.where(reopen_by_user, np.where(outcome1 == 0, 0.35, 0.05), 0.6)
    flip = np.where(outlier & (outcome1 == 0), np.minimum(flip * OUTLIER_FACTOR, 0.95), flip)
    flips = rng.random(n) < flip
    outcome2 = np.where(flips, np.where(outcome1 == 0, np.where(rng.random(n) < 0.3, 2, 1), 0), outcome1)
    root2 = np.where(
        outcome2 == 0, -1, np.where(outcome1 > 0, root1, np.where(reopen_by_user, RC_NEW_EV, RC_AGENT))
    )

    # ---- events ---------------------------------------------------------------------------
    st = _Steps(*([] for _ in range(10)))
    alive = ~wd_early  # events after an early withdrawal do not happen
    st.add(np.ones(n, bool), app, t_asg, E_ASSIGNED, sp1, 0)
    st.add(has_ack, app, t_ack, E_MSG, A_BOT, 1)
    st.add(rea_early & alive, app, t_rea_early, E_ASSIGNED, sp2, 2)
    st.add(wd_early, app, t_wd, E_WITHDRAWN, A_USER, 3)
    st.add(alive, app, t_claim, E_CLAIMED, worker, 4)
    st.add(has_note & alive, app, t_note, E_NOTE, worker, 5, note_kind=N_INTERNAL)
    st.add(has_ev & alive, app, t_req, E_EV_REQ, worker, 6)
    st.add(has_ev & responds & alive, app, t_recv, E_EV_REC, A_USER, 7)
    st.add(wd_nr & alive, app, t_wd, E_WITHDRAWN, A_USER, 8)
    ok = decided
    st.add(
        has_esc & ok,
        app,
        t_esc,
        E_ESC,
        worker,
        9,
        esc=esc_target,
        note_kind=N_ESCALATION,
        note_group=esc_target,
    )
    st.add(has_guidance & ok, app, t_guid, E_NOTE, worker, 10, note_kind=N_GUIDANCE, note_group=esc_target)
    st.add(rea_mid & ok, app, t_rea_mid, E_ASSIGNED, sp_mid, 11)
    st.add(rea_mid & ok, app, t_claim2, E_CLAIMED, sp_mid, 12)
    note_group1 = np.where(badge & (outcome1 > 0), -2, np.where(timeout & (outcome1 == 0), -3, 0))
    st.add(
        ok,
        app,
        t_dec,
        E_DECIDED,
        decider,
        13,
        outcome=outcome1,
        root=root1,
        note_kind=N_DECISION,
        note_group=note_group1,
    )
    st.add(ok & has_msg, app, t_msg, E_MSG, decider, 14)
    st.add(reopen, app, t_reo, E_REOPENED, np.where(reopen_by_user, A_USER, decider), 15)
    st.add(
        reopen,
        app,
        t_dec2,
        E_DECIDED,
        decider,
        16,
        outcome=outcome2,
        root=root2,
        note_kind=N_DECISION,
        note_group=np.zeros(n, np.int64),
    )
    st.add(reopen & has_msg2, app, t_msg2, E_MSG, decider, 17)
    ev = st.concat()
    keep = ev["time"] < cal.cutoff
    ev = {k: v[keep] for k, v in ev.items()}
    ev["time"] = np.floor(ev["time"])

    final_dec_time = np.where(reopen, t_dec2, t_dec)
    final_outcome = np.where(reopen, outcome2, outcome1)
    return ev, {
        "decided": decided & (final_dec_time < cal.cutoff),
        "reopened": reopen,
        "final_dec_time": final_dec_time,
        "final_outcome": final_outcome,
        "decider": decider,
        "outlier": outlier,
        "badge": badge,
    }
