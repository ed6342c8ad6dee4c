-- user_waits: one row per appeal that ever waited for the user, with the calendar hours
-- it waited. A wait starts at an evidence_requested event when none is running and ends
-- at the next evidence_received, decided or withdrawn event, or at :as_of
-- (metrics.md, "user wait"). effective_at is monotone in event order, so the earliest
-- later end event is the next one.
with wait_events as (
    select
        appeal_id, event_type, effective_at,
        lag(event_type) over (
            partition by appeal_id order by occurred_at, event_id collate "C"
        ) as previous_type,
        min(case when event_type <> 'evidence_requested' then effective_at end) over (
            partition by appeal_id order by occurred_at, event_id collate "C"
            rows between 1 following and unbounded following
        ) as next_end_at
    from events_effective
    where event_type in ('evidence_requested', 'evidence_received', 'decided', 'withdrawn')
)

select
    appeal_id,
    sum(
        cast(extract(epoch from coalesce(next_end_at, cast(:as_of as timestamp with time zone))) as double precision)
        - cast(extract(epoch from effective_at) as double precision)
    ) / 3600.0 as user_wait_hours
from wait_events
where event_type = 'evidence_requested'
  and (previous_type is null or previous_type <> 'evidence_requested')
group by appeal_id
