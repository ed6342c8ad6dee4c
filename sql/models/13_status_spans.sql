-- status_spans: one row per stretch during which an appeal is open under one owner: it is
-- open at an instant E with that owner when open_from < E <= open_to (open_to null: still
-- so at as_of). This is the lifecycle re-evaluated from the events before E (metrics.md,
-- backlog and "report rows"): creation opens, reopened opens, decided and withdrawn close;
-- the owner of an open appeal is the actor of the last `assigned` event before E, else null
-- (so after a reopen it is the last assignee again, not the decider). A reassignment while
-- open ends one stretch and starts the next; repeated states start none. Events at the same
-- effective instant take effect together (the last of them in event order wins). pod, site
-- and team_lead follow the stretch's owner (the same specialists row as appeal_facts: first
-- by display_name, pod).
with changes as (
    select
        appeal_id, created_at as changed_at, created_at as occurred_at, '' as event_id, 0 as seq_group,
        1 as is_status, 1 as is_open, 0 as is_assignment, cast(null as varchar) as actor_id
    from appeals_base
    union all
    select
        appeal_id, effective_at, occurred_at, event_id, 1,
        case when event_type = 'assigned' then 0 else 1 end,
        case when event_type = 'reopened' then 1 else 0 end,
        case when event_type = 'assigned' then 1 else 0 end,
        actor_id
    from events_effective
    where event_type in ('decided', 'reopened', 'withdrawn', 'assigned')
),

-- one ordering of the appeal's rows: the position of each, and whether the next row is at a
-- later instant (changed_at never decreases in this order)
ordered as (
    select
        *,
        row_number() over (
            partition by appeal_id order by seq_group, occurred_at, event_id collate "C"
        ) as position,
        lead(changed_at) over (
            partition by appeal_id order by seq_group, occurred_at, event_id collate "C"
        ) as next_changed_at
    from changes
),

-- the state after each row, as running maxima over the position so that one sort serves both:
-- the last status row's position*2 + is_open, and the last assignment's zero-padded position
-- followed by '=' and its actor ('-' for a null actor: routed to nobody)
states as (
    select
        appeal_id,
        changed_at,
        next_changed_at,
        max(case when is_status = 1 then position * 2 + is_open end) over (
            partition by appeal_id order by position rows between unbounded preceding and current row
        ) as status_code,
        max(case
            when is_assignment = 1 then lpad(cast(position as varchar), 12, '0') || coalesce('=' || actor_id, '-')
        end) over (
            partition by appeal_id order by position rows between unbounded preceding and current row
        ) as owner_code
    from ordered
),

-- the state after the last event of each instant
instants as (
    select
        appeal_id, changed_at, is_open, specialist_id,
        lag(is_open) over (partition by appeal_id order by changed_at) as previous_is_open,
        lag(specialist_id) over (partition by appeal_id order by changed_at) as previous_specialist_id
    from (
        select
            appeal_id,
            changed_at,
            cast(status_code % 2 as integer) as is_open,
            case when substr(owner_code, 13, 1) = '=' then substr(owner_code, 14) end as specialist_id
        from states
        where next_changed_at is null or next_changed_at > changed_at
    ) as last_of_instant
),

transitions as (
    select *
    from instants
    where previous_is_open is null
       or previous_is_open <> is_open
       or (is_open = 1 and previous_specialist_id is distinct from specialist_id)
),

spans as (
    select
        appeal_id,
        is_open,
        specialist_id,
        changed_at as open_from,
        lead(changed_at) over (partition by appeal_id order by changed_at) as open_to
    from transitions
)

select s.appeal_id, s.open_from, s.open_to, s.specialist_id, sp.pod, sp.site, sp.team_lead
from spans as s
left join (
    select specialist_id, pod, site, team_lead,
           row_number() over (partition by specialist_id order by display_name collate "C", pod collate "C") as row_rank
    from stg_specialists
    where specialist_id is not null
) as sp on sp.specialist_id = s.specialist_id and sp.row_rank = 1
where s.is_open = 1
