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

-- status_run / owner_run number the status and assignment events so far: every row of a run
-- shares the state its first row set
runs as (
    select
        *,
        sum(is_status) over (
            partition by appeal_id order by seq_group, occurred_at, event_id collate "C"
            rows between unbounded preceding and current row
        ) as status_run,
        sum(is_assignment) over (
            partition by appeal_id order by seq_group, occurred_at, event_id collate "C"
            rows between unbounded preceding and current row
        ) as owner_run,
        row_number() over (
            partition by appeal_id, changed_at order by seq_group desc, occurred_at desc, event_id collate "C" desc
        ) as instant_rank
    from changes
),

states as (
    select
        appeal_id,
        changed_at,
        instant_rank,
        max(case when is_status = 1 then is_open end) over (partition by appeal_id, status_run) as is_open,
        max(case when is_assignment = 1 then actor_id end) over (partition by appeal_id, owner_run) as specialist_id
    from runs
),

-- the state after the last event of each instant
instants as (
    select
        appeal_id, changed_at, is_open, specialist_id,
        lag(is_open) over (partition by appeal_id order by changed_at) as previous_is_open,
        lag(specialist_id) over (partition by appeal_id order by changed_at) as previous_specialist_id
    from states
    where instant_rank = 1
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
