-- business_hours (Zendesk adapter): one row per (schedule interval, weekday). A Zendesk
-- schedule row is one interval of business hours, start_time and end_time in minutes from
-- Sunday 00:00 of the week, local to the schedule's time zone (an interval does not span
-- calendar days, but one that did would be split at midnight here). Day index 0 (Sunday) is
-- contract weekday 7, day 1 (Monday) weekday 1, ... An interval that ends at midnight gets
-- end_time 00:00 (midnight at the end of that day). timezone = the schedule's time zone as
-- an IANA name (a Rails name is mapped; a name that cannot be mapped passes through as it is,
-- and the engine leaves its rows out and counts them under business_hours_unknown_timezone).
with zd_schedule as (
    select
        cast(s.id as varchar) as schedule_id,
        cast(s.time_zone as varchar) as time_zone,
        cast(s.start_time as integer) as start_minute,
        cast(s.end_time as integer) as end_minute
    from {zd}"schedule" as s
    where {schedule_alive}
),

time_zone_names as (
{time_zone_names}
),

week_days as (
    select 0 as day_index union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6
),

pieces as (
    select
        s.schedule_id,
        coalesce(z.iana_name, s.time_zone) as timezone,
        d.day_index,
        case when s.start_minute > d.day_index * 1440 then s.start_minute else d.day_index * 1440 end
            - d.day_index * 1440 as start_of_day_minute,
        case when s.end_minute < (d.day_index + 1) * 1440 then s.end_minute else (d.day_index + 1) * 1440 end
            - d.day_index * 1440 as end_of_day_minute
    from zd_schedule as s
    inner join week_days as d
        on s.start_minute < (d.day_index + 1) * 1440 and s.end_minute > d.day_index * 1440
    left join time_zone_names as z on z.zendesk_name = s.time_zone
)

select
    schedule_id,
    timezone,
    case when day_index = 0 then 7 else day_index end as weekday,
    cast(cast('00:00:00' as time) + start_of_day_minute * interval '1 minute' as time) as start_time,
    cast(cast('00:00:00' as time) + end_of_day_minute * interval '1 minute' as time) as end_time
from pieces
