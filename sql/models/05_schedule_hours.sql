-- schedule_hours: one row per business_hours row with its weekly open seconds.
-- An end_time of 00:00 means midnight at the end of the day (warehouse.md). A row whose
-- end is not after its start (and is not 00:00) opens nothing and is counted by a check.
select
    schedule_id,
    timezone,
    weekday,
    start_time,
    end_time,
    case
        when end_clock_seconds = 0 then 86400 - start_clock_seconds
        when end_clock_seconds > start_clock_seconds then end_clock_seconds - start_clock_seconds
        else 0
    end as open_seconds
from (
    select
        schedule_id, timezone, weekday, start_time, end_time,
        cast(extract(hour from start_time) * 3600 + extract(minute from start_time) * 60
             + floor(extract(second from start_time)) as integer) as start_clock_seconds,
        cast(extract(hour from end_time) * 3600 + extract(minute from end_time) * 60
             + floor(extract(second from end_time)) as integer) as end_clock_seconds
    from stg_business_hours
    where schedule_id is not null and timezone is not null and weekday between 1 and 7
      and start_time is not null and end_time is not null
) as rows_with_seconds
