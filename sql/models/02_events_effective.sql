-- events_effective: one row per usable lifecycle event.
-- Usable = first row of its event_id, of an appeal in appeals_base, of a known event_type,
-- occurred at or before :as_of. An event recorded before its appeal's created_at is used
-- as if at created_at (effective_at); ordering still uses the recorded occurred_at, then
-- event_id (metrics.md, "Appeal lifecycle"). Every other row is counted by a data check.
-- "First row of its event_id" is (occurred_at, appeal_id, then the rest of the row) order; only ids seen more than
-- once are ranked (usually none: ranking every event was most of this model's time).
with duplicate_ids as (
    select event_id
    from stg_appeal_events
    where event_id is not null and occurred_at is not null
    group by event_id
    having count(*) > 1
),

first_rows as (
    select ev.event_id, ev.appeal_id, ev.occurred_at, ev.event_type, ev.actor_id, ev.actor_type, ev.outcome,
           ev.root_cause, ev.escalation_target, ev.note
    from stg_appeal_events as ev
    where ev.event_id is not null and ev.occurred_at is not null
      and not exists (select 1 from duplicate_ids as d where d.event_id = ev.event_id)
    union all
    select event_id, appeal_id, occurred_at, event_type, actor_id, actor_type, outcome, root_cause, escalation_target, note
    from (
        select
            ev.*,
            -- rows tied on (occurred_at, appeal_id) are ranked by the rest of the row, so the
            -- choice never depends on storage order (decision 2)
            row_number() over (
                partition by ev.event_id
                order by ev.occurred_at, ev.appeal_id collate "C", ev.event_type collate "C",
                         ev.actor_id collate "C", ev.actor_type collate "C", ev.outcome collate "C",
                         ev.root_cause collate "C", ev.escalation_target collate "C", ev.note collate "C"
            ) as id_rank
        from stg_appeal_events as ev
        where ev.occurred_at is not null
          and exists (select 1 from duplicate_ids as d where d.event_id = ev.event_id)
    ) as ranked
    where id_rank = 1
)

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
from first_rows as e
inner join appeals_base as a on a.appeal_id = e.appeal_id
where e.occurred_at <= cast(:as_of as timestamp with time zone)
  and e.event_type in ({event_types})
