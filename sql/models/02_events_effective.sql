-- events_effective: one row per usable lifecycle event.
-- Usable = first row of its event_id, of an appeal in appeals_base, of a known event_type,
-- occurred at or before :as_of. An event recorded before its appeal's created_at is used
-- as if at created_at (effective_at); ordering still uses the recorded occurred_at, then
-- event_id (metrics.md, "Appeal lifecycle"). Every other row is counted by a data check.
select
    e.event_id,
    e.appeal_id,
    e.occurred_at,
    case when e.occurred_at < a.created_at then a.created_at else e.occurred_at end as effective_at,
    e.event_type,
    e.actor_id,
    e.actor_type,
    case when e.outcome in ({outcomes}) then e.outcome end as outcome,
    e.outcome as recorded_outcome,
    -- only decisions carry their text downstream: keeps the event rows narrow
    case when e.event_type = 'decided' then e.root_cause end as root_cause,
    case when e.event_type = 'decided' then e.note end as note
from (
    select
        ev.*,
        row_number() over (partition by ev.event_id order by ev.occurred_at, ev.appeal_id collate "C") as id_rank
    from stg_appeal_events as ev
    where ev.event_id is not null and ev.occurred_at is not null
) as e
inner join appeals_base as a on a.appeal_id = e.appeal_id
where e.id_rank = 1
  and e.occurred_at <= cast(:as_of as timestamp with time zone)
  and e.event_type in ({event_types})
