-- appeal_clock: one row per appeal whose SLA policy has a usable clock, with the clock
-- readings at its stops and its deadlines (epoch seconds). On a calendar clock these are
-- plain arithmetic; on a business clock, B(t) = open seconds of the schedule before t
-- (found by equality on the UTC day), and the deadline is the earliest instant at which
-- B reaches B(created) + target: inside the piece where the running total crosses it,
-- so a target reached exactly at closing time has its deadline at closing time.
with base as (
    select
        a.appeal_id,
        a.created_at,
        a.created_epoch,
        p.clock,
        p.schedule_id,
        p.ftr_target_hours,
        p.ttr_target_hours,
        cast(extract(epoch from coalesce(l.first_touch_at, l.resolved_at)) as double precision) as ftr_stop_epoch,
        cast(extract(epoch from l.resolved_at) as double precision) as ttr_stop_epoch,
        coalesce(l.first_touch_at, l.resolved_at) as ftr_stop_at,
        l.resolved_at as ttr_stop_at
    from appeals_base as a
    inner join appeal_policy as p on p.appeal_id = a.appeal_id
    inner join appeal_lifecycle as l on l.appeal_id = a.appeal_id
    where p.has_policy and p.is_clock_usable
),

points as (
    select appeal_id, schedule_id, 'created' as point, created_epoch as at_epoch,
           cast(created_at at time zone 'UTC' as date) as utc_day
    from base where clock = 'business'
    union all
    select appeal_id, schedule_id, 'ftr_stop', ftr_stop_epoch,
           cast(ftr_stop_at at time zone 'UTC' as date)
    from base where clock = 'business' and ftr_stop_at is not null
    union all
    select appeal_id, schedule_id, 'ttr_stop', ttr_stop_epoch,
           cast(ttr_stop_at at time zone 'UTC' as date)
    from base where clock = 'business' and ttr_stop_at is not null
),

point_readings as (
    select
        pt.appeal_id,
        pt.point,
        max(d.cum_before_day_seconds) + coalesce(sum(case
            when pc.start_epoch < pt.at_epoch then least(pc.end_epoch, pt.at_epoch) - pc.start_epoch
            else 0
        end), 0) as clock_seconds
    from points as pt
    left join clock_days as d on d.schedule_id = pt.schedule_id and d.utc_day = pt.utc_day
    left join clock_pieces as pc on pc.schedule_id = pt.schedule_id and pc.utc_day = pt.utc_day
    group by pt.appeal_id, pt.point
),

readings as (
    select
        appeal_id,
        max(case when point = 'created' then clock_seconds end) as created_seconds,
        max(case when point = 'ftr_stop' then clock_seconds end) as ftr_stop_seconds,
        max(case when point = 'ttr_stop' then clock_seconds end) as ttr_stop_seconds
    from point_readings
    group by appeal_id
),

targets as (
    select b.appeal_id, b.schedule_id, 'ftr' as sla, r.created_seconds + b.ftr_target_hours * 3600.0 as target_seconds
    from base as b inner join readings as r on r.appeal_id = b.appeal_id
    where b.clock = 'business' and b.ftr_target_hours > 0
    union all
    select b.appeal_id, b.schedule_id, 'ttr', r.created_seconds + b.ttr_target_hours * 3600.0
    from base as b inner join readings as r on r.appeal_id = b.appeal_id
    where b.clock = 'business' and b.ttr_target_hours > 0
),

business_deadlines as (
    select
        t.appeal_id,
        max(case when t.sla = 'ftr' then pc.start_epoch + (t.target_seconds - pc.cum_before_seconds) end)
            as ftr_deadline_epoch,
        max(case when t.sla = 'ttr' then pc.start_epoch + (t.target_seconds - pc.cum_before_seconds) end)
            as ttr_deadline_epoch
    from targets as t
    inner join clock_pieces as pc
        on pc.schedule_id = t.schedule_id
        and pc.cum_before_seconds < t.target_seconds
        and t.target_seconds <= pc.cum_before_seconds + (pc.end_epoch - pc.start_epoch)
    group by t.appeal_id
)

select
    b.appeal_id,
    case
        when b.clock = 'calendar' then (b.ftr_stop_epoch - b.created_epoch) / 3600.0
        else (r.ftr_stop_seconds - r.created_seconds) / 3600.0
    end as ftr_clock_hours,
    case
        when b.clock = 'calendar' then (b.ttr_stop_epoch - b.created_epoch) / 3600.0
        else (r.ttr_stop_seconds - r.created_seconds) / 3600.0
    end as ttr_clock_hours,
    b.ftr_stop_epoch,
    b.ttr_stop_epoch,
    case
        when b.ftr_target_hours is null then null
        when b.ftr_target_hours <= 0 then b.created_epoch
        when b.clock = 'calendar' then b.created_epoch + b.ftr_target_hours * 3600.0
        else bd.ftr_deadline_epoch
    end as ftr_deadline_epoch,
    case
        when b.ttr_target_hours is null then null
        when b.ttr_target_hours <= 0 then b.created_epoch
        when b.clock = 'calendar' then b.created_epoch + b.ttr_target_hours * 3600.0
        else bd.ttr_deadline_epoch
    end as ttr_deadline_epoch
from base as b
left join readings as r on r.appeal_id = b.appeal_id
left join business_deadlines as bd on bd.appeal_id = b.appeal_id
