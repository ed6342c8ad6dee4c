-- status_spans: one row per stretch during which an appeal is open: it is open at an
-- instant E when open_from < E <= open_to (open_to null: still open at as_of). This is
-- the lifecycle re-evaluated from the events before E (metrics.md, backlog): creation
-- opens, reopened opens, decided and withdrawn close; repeated states do not start a
-- new stretch.
with state_changes as (
    select appeal_id, created_at as changed_at, created_at as occurred_at, '' as event_id, 0 as seq_group, 1 as is_open
    from appeals_base
    union all
    select appeal_id, effective_at, occurred_at, event_id, 1, case when event_type = 'reopened' then 1 else 0 end
    from events_effective
    where event_type in ('decided', 'reopened', 'withdrawn')
),

ordered as (
    select
        *,
        lag(is_open) over (partition by appeal_id order by seq_group, occurred_at, event_id collate "C") as previous_is_open
    from state_changes
),

transitions as (
    select * from ordered where previous_is_open is null or previous_is_open <> is_open
),

spans as (
    select
        appeal_id,
        is_open,
        changed_at as open_from,
        lead(changed_at) over (partition by appeal_id order by seq_group, occurred_at, event_id collate "C") as open_to
    from transitions
)

select appeal_id, open_from, open_to
from spans
where is_open = 1
