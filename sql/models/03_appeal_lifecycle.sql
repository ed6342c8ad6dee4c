-- appeal_lifecycle: one row per appeal in appeals_base with its lifecycle as of :as_of:
-- first touch, status (last of decided / reopened / withdrawn), final decision, owner,
-- reopens and escalations (metrics.md, "Appeal lifecycle").
with status_events as (
    select
        appeal_id, event_type, effective_at, actor_id, actor_type, outcome, root_cause, note,
        row_number() over (
            partition by appeal_id order by occurred_at desc, event_id collate "C" desc
        ) as recency
    from events_effective
    where event_type in ('decided', 'reopened', 'withdrawn')
),

last_status as (
    select * from status_events where recency = 1
),

last_assignment as (
    select appeal_id, actor_id
    from (
        select
            appeal_id, actor_id,
            row_number() over (
                partition by appeal_id order by occurred_at desc, event_id collate "C" desc
            ) as recency
        from events_effective
        where event_type = 'assigned'
    ) as assignments
    where recency = 1
),

event_summary as (
    select
        appeal_id,
        min(case
            when actor_type = 'specialist' and event_type in ({touch_types}) then effective_at
        end) as first_touch_at,
        sum(case when event_type = 'reopened' then 1 else 0 end) as reopen_count,
        max(case when event_type = 'escalated' then 1 else 0 end) as escalated_flag
    from events_effective
    group by appeal_id
),

final as (
    select
        a.appeal_id,
        s.first_touch_at,
        case
            when ls.event_type = 'decided' then 'resolved'
            when ls.event_type = 'withdrawn' then 'withdrawn'
            else 'open'
        end as status,
        case when ls.event_type = 'decided' then ls.effective_at end as resolved_at,
        case when ls.event_type = 'withdrawn' then ls.effective_at end as withdrawn_at,
        case when ls.event_type = 'decided' then ls.outcome end as outcome,
        case when ls.event_type = 'decided' then ls.root_cause end as root_cause,
        case when ls.event_type = 'decided' then ls.note end as decision_note,
        case when ls.event_type = 'decided' then ls.actor_type end as decider_actor_type,
        case when ls.event_type = 'decided' then ls.actor_id else la.actor_id end as specialist_id,
        coalesce(s.reopen_count, 0) as reopen_count,
        coalesce(s.escalated_flag, 0) = 1 as escalated
    from appeals_base as a
    left join event_summary as s on s.appeal_id = a.appeal_id
    left join last_status as ls on ls.appeal_id = a.appeal_id
    left join last_assignment as la on la.appeal_id = a.appeal_id
)

select * from final
