-- appeal_policy: one row per appeal in appeals_base with its SLA policy: the
-- (queue, priority) row of sla_policies, else the ('*', priority) row; nulls when neither.
-- is_clock_usable is false when the policy's clock cannot run (business clock without a
-- schedule that has open hours in a week, or an unknown clock): its SLAs are n/a.
with policies as (
    select
        queue, priority, first_touch_target_hours, resolution_target_hours, clock, schedule_id,
        row_number() over (
            partition by queue, priority
            order by clock collate "C", schedule_id collate "C", first_touch_target_hours, resolution_target_hours
        ) as row_rank
    from stg_sla_policies
    where queue is not null and priority is not null
),

usable_schedules as (
    select schedule_id
    from schedule_hours
    group by schedule_id
    having sum(open_seconds) > 0
),

matched as (
    select
        a.appeal_id,
        coalesce(own.queue, star.queue) as policy_queue,
        case when own.queue is not null then own.first_touch_target_hours else star.first_touch_target_hours end
            as ftr_target_hours,
        case when own.queue is not null then own.resolution_target_hours else star.resolution_target_hours end
            as ttr_target_hours,
        case when own.queue is not null then own.clock else star.clock end as clock,
        case when own.queue is not null then own.schedule_id else star.schedule_id end as schedule_id
    from appeals_base as a
    left join policies as own
        on own.queue = a.queue and own.priority = a.priority and own.row_rank = 1
    left join policies as star
        on star.queue = '*' and star.priority = a.priority and star.row_rank = 1
)

select
    m.*,
    m.policy_queue is not null as has_policy,
    case
        when m.clock = 'calendar' then true
        when m.clock = 'business' and u.schedule_id is not null then true
        else false
    end as is_clock_usable
from matched as m
left join usable_schedules as u on u.schedule_id = m.schedule_id
