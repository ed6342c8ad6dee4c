-- clock_pieces: one row per open interval of a business schedule, in UTC, cut at UTC
-- midnights, over the local dates of clock_range.
-- Local wall-clock times become instants DST-aware through the schedule's IANA zone: a
-- time inside a spring-forward gap moves forward by the gap, an ambiguous fall-back time
-- is its first occurrence (metrics.md). Holidays close the whole local date.
-- cum_before_seconds is the schedule's open time before the piece starts.
with local_days as (
    select cast(r.first_date + n.n as date) as local_date
    from clock_range as r
    cross join numbers as n
    where n.n <= {days_between(r.first_date; r.last_date)}
),

local_intervals as (
    select
        h.schedule_id,
        h.timezone,
        {local_timestamp(d.local_date; h.start_time)} as local_start,
        case
            when h.end_time = cast('00:00:00' as time) then cast(cast(d.local_date + 1 as date) as timestamp)
            else {local_timestamp(d.local_date; h.end_time)}
        end as local_end
    from schedule_hours as h
    inner join local_days as d on cast(extract(isodow from d.local_date) as integer) = h.weekday
    where h.open_seconds > 0
      and not exists (
          select 1 from stg_holidays as hol
          where hol.schedule_id = h.schedule_id and hol.holiday_date = d.local_date
      )
),

local_points as (
    select
        schedule_id, timezone, local_start, local_end,
        {local_instant(local_start; timezone)} as start_guess,
        {local_instant(local_end; timezone)} as end_guess
    from local_intervals
),

offsets as (
    -- the UTC offset in force a day before each guess: the pre-transition offset
    select
        *,
        ((start_guess - interval '1 day') at time zone timezone)
            - ((start_guess - interval '1 day') at time zone 'UTC') as start_prior_offset,
        ((end_guess - interval '1 day') at time zone timezone)
            - ((end_guess - interval '1 day') at time zone 'UTC') as end_prior_offset
    from local_points
),

candidates as (
    select
        *,
        (local_start - start_prior_offset) at time zone 'UTC' as start_prior,
        (local_end - end_prior_offset) at time zone 'UTC' as end_prior
    from offsets
),

utc_intervals as (
    select
        schedule_id,
        case
            when start_prior at time zone timezone = local_start then start_prior
            when start_guess at time zone timezone = local_start then start_guess
            else start_prior
        end as open_start,
        case
            when end_prior at time zone timezone = local_end then end_prior
            when end_guess at time zone timezone = local_end then end_guess
            else end_prior
        end as open_end
    from candidates
),

day_offsets as (
    select n from (values (0), (1), (2)) as k(n)
),

cut as (
    select
        u.schedule_id,
        cast(cast(u.open_start at time zone 'UTC' as date) + k.n as date) as utc_day,
        cast(extract(epoch from u.open_start) as double precision) as open_start_epoch,
        cast(extract(epoch from u.open_end) as double precision) as open_end_epoch
    from utc_intervals as u
    cross join day_offsets as k
    where u.open_end > u.open_start
),

pieces as (
    select
        schedule_id,
        utc_day,
        greatest(open_start_epoch, day_start_epoch) as start_epoch,
        least(open_end_epoch, day_start_epoch + 86400) as end_epoch
    from (
        select
            *,
            cast(extract(epoch from cast(utc_day as timestamp) at time zone 'UTC') as double precision)
                as day_start_epoch
        from cut
    ) as with_day
    where least(open_end_epoch, day_start_epoch + 86400) > greatest(open_start_epoch, day_start_epoch)
)

select
    schedule_id,
    utc_day,
    start_epoch,
    end_epoch,
    coalesce(sum(end_epoch - start_epoch) over (
        partition by schedule_id order by start_epoch
        rows between unbounded preceding and 1 preceding
    ), 0) as cum_before_seconds
from pieces
