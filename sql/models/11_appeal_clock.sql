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
    -- schedule and targets ride along, so that later steps read one relation (PostgreSQL
    -- misjudges joins between these derived tables and falls back to nested loops)
    select appeal_id, schedule_id, ftr_target_hours, ttr_target_hours, 'created' as point,
           created_epoch as at_epoch, cast(created_at at time zone 'UTC' as date) as utc_day
    from base where clock = 'business'
    union all
    select appeal_id, schedule_id, ftr_target_hours, ttr_target_hours, 'ftr_stop', ftr_stop_epoch,
           cast(ftr_stop_at at time zone 'UTC' as date)
    from base where clock = 'business' and ftr_stop_at is not null
    union all
    select appeal_id, schedule_id, ftr_target_hours, ttr_target_hours, 'ttr_stop', ttr_stop_epoch,
           cast(ttr_stop_at at time zone 'UTC' as date)
    from base where clock = 'business' and ttr_stop_at is not null
),

point_readings as (
    select
        pt.appeal_id,
        pt.point,
        max(pt.schedule_id) as schedule_id,
        max(pt.ftr_target_hours) as ftr_target_hours,
        max(pt.ttr_target_hours) as ttr_target_hours,
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
        max(schedule_id) as schedule_id,
        max(ftr_target_hours) as ftr_target_hours,
        max(ttr_target_hours) as ttr_target_hours,
        max(case when point = 'created' then clock_seconds end) as created_seconds,
        max(case when point = 'ftr_stop' then clock_seconds end) as ftr_stop_seconds,
        max(case when point = 'ttr_stop' then clock_seconds end) as ttr_stop_seconds
    from point_readings
    group by appeal_id
),

targets as (
    -- the open-seconds total each deadline waits for, and its hour bucket for the join below
    select appeal_id, schedule_id, sla, target_seconds, floor(target_seconds / 3600.0) as target_bucket
    from (
        select appeal_id, schedule_id, 'ftr' as sla, created_seconds + ftr_target_hours * 3600.0 as target_seconds
        from readings where ftr_target_hours > 0
        union all
        select appeal_id, schedule_id, 'ttr', created_seconds + ttr_target_hours * 3600.0
        from readings where ttr_target_hours > 0
    ) as t
),

bucket_offsets as (
    select d1.n + 10 * d2.n as n
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d1(n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d2(n)
),

piece_buckets as (
    -- every hour bucket of cumulative open time a piece spans (pieces are at most 24 h), so a
    -- target finds its piece by equality instead of a range scan over all pieces
    select pc.schedule_id, pc.start_epoch, pc.end_epoch, pc.cum_before_seconds,
           floor(pc.cum_before_seconds / 3600.0) + o.n as bucket
    from clock_pieces as pc
    cross join bucket_offsets as o
    where floor(pc.cum_before_seconds / 3600.0) + o.n
        <= floor((pc.cum_before_seconds + (pc.end_epoch - pc.start_epoch)) / 3600.0)
),

business_deadlines as (
    select
        t.appeal_id,
        max(case when t.sla = 'ftr' then pb.start_epoch + (t.target_seconds - pb.cum_before_seconds) end)
            as ftr_deadline_epoch,
        max(case when t.sla = 'ttr' then pb.start_epoch + (t.target_seconds - pb.cum_before_seconds) end)
            as ttr_deadline_epoch
    from targets as t
    inner join piece_buckets as pb
        on pb.schedule_id = t.schedule_id
        and pb.bucket = t.target_bucket
        and pb.cum_before_seconds < t.target_seconds
        and t.target_seconds <= pb.cum_before_seconds + (pb.end_epoch - pb.start_epoch)
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
