-- appeal_lifecycle: one row per appeal in appeals_base with its lifecycle as of :as_of:
-- first touch, status (last of decided / reopened / withdrawn), final decision, owner,
-- reopens and escalations (metrics.md, "Appeal lifecycle"). "Last" is in event order:
-- occurred_at, then event_id by code point; one pass over the events per appeal
-- (last_by: metrics/dialect.py).
with event_summary as (
    select
        appeal_id,
        min(case
            when actor_type = 'specialist' and event_type in ({touch_types}) then effective_at
        end) as first_touch_at,
        sum(case when event_type = 'reopened' then 1 else 0 end) as reopen_count,
        max(case when event_type = 'escalated' then 1 else 0 end) as escalated_flag,
        {last_by(event_type, effective_at, actor_id, actor_type, outcome, root_cause, note;
                 occurred_at, event_id collate "C";
                 event_type in ('decided', 'reopened', 'withdrawn');
                 status_)},
        {last_by(actor_id; occurred_at, event_id collate "C"; event_type = 'assigned'; assigned_)}
    from events_effective
    group by appeal_id
),

final as (
    select
        a.appeal_id,
        s.first_touch_at,
        case
            when s.status_event_type = 'decided' then 'resolved'
            when s.status_event_type = 'withdrawn' then 'withdrawn'
            else 'open'
        end as status,
        case when s.status_event_type = 'decided' then s.status_effective_at end as resolved_at,
        case when s.status_event_type = 'withdrawn' then s.status_effective_at end as withdrawn_at,
        case when s.status_event_type = 'decided' then s.status_outcome end as outcome,
        case when s.status_event_type = 'decided' then s.status_root_cause end as root_cause,
        case when s.status_event_type = 'decided' then s.status_note end as decision_note,
        case when s.status_event_type = 'decided' then s.status_actor_type end as decider_actor_type,
        case when s.status_event_type = 'decided' then s.status_actor_id else s.assigned_actor_id end as specialist_id,
        coalesce(s.reopen_count, 0) as reopen_count,
        coalesce(s.escalated_flag, 0) = 1 as escalated
    from appeals_base as a
    left join event_summary as s on s.appeal_id = a.appeal_id
)

select * from final
