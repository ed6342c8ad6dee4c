-- clock_days: one row per (business schedule, UTC day) over the span of clock_range,
-- with the schedule's open seconds before that day starts. Days with no open hours are
-- present, so an instant on any day finds its row by equality.
with spans as (
    -- every UTC day the expanded local dates can touch, for every schedule with hours
    select distinct h.schedule_id, cast(r.first_date - 1 as date) as first_day, cast(r.last_date + 2 as date) as last_day
    from schedule_hours as h
    cross join clock_range as r
),

days as (
    select s.schedule_id, cast(s.first_day + n.n as date) as utc_day
    from spans as s
    cross join numbers as n
    where n.n <= {days_between(s.first_day; s.last_day)}
),

daily as (
    select schedule_id, utc_day, sum(end_epoch - start_epoch) as open_seconds
    from clock_pieces
    group by schedule_id, utc_day
)

select
    d.schedule_id,
    d.utc_day,
    coalesce(sum(coalesce(o.open_seconds, 0)) over (
        partition by d.schedule_id order by d.utc_day
        rows between unbounded preceding and 1 preceding
    ), 0) as cum_before_day_seconds
from days as d
left join daily as o on o.schedule_id = d.schedule_id and o.utc_day = d.utc_day
