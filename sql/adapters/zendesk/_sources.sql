-- Shared building blocks of the Zendesk adapter (Fivetran Zendesk connector schema).
-- Each section below is one SELECT, inlined by name as a CTE into the contract SELECTs
-- (appeals.sql, appeal_events.sql, ...). Sources normalise the connector's types once:
-- ids as text, timestamps as instants (a timestamp without zone is UTC), booleans cast,
-- so the adapter reads the same whatever column types the destination chose.
-- Placeholders in braces are filled by metrics/adapters/zendesk.py with generated SQL only
-- (the schema prefix, column-or-null fragments, and SELECTs of bind parameters such as
-- :zd_group_0_id); configuration values are never written into this SQL.

-- source: zd_ticket
-- One row per live ticket: Fivetran-deleted rows and Zendesk's deleted status are left out.
-- status is read through the status vocabulary (status_names: legacy spellings such as
-- on-hold, and the config's `statuses`); a value outside it stays as it is, lower case.
select
    t.ticket_id,
    t.created_at,
    t.updated_at,
    coalesce(sn.map_value, t.raw_status) as status,
    t.raw_status,
    t.priority,
    t.group_id,
    t.assignee_id,
    t.requester_id,
    t.description,
    t.via_channel,
    t.external_id
from (
    select
        cast(t.id as varchar) as ticket_id,
        cast(t.created_at as timestamp with time zone) as created_at,
        cast({ticket_updated_at} as timestamp with time zone) as updated_at,
        lower(nullif(trim(cast(t.status as varchar)), '')) as raw_status,
        lower(nullif(trim(cast(t.priority as varchar)), '')) as priority,
        nullif(trim(cast(t.group_id as varchar)), '') as group_id,
        nullif(trim({ticket_assignee_id}), '') as assignee_id,
        nullif(trim(cast(t.requester_id as varchar)), '') as requester_id,
        {ticket_description} as description,
        nullif(trim({ticket_via_channel}), '') as via_channel,
        nullif(trim({ticket_external_id}), '') as external_id
    from {zd}"ticket" as t
    where {ticket_alive}
) as t
left join ({status_names}) as sn on sn.map_key = t.raw_status
where coalesce(sn.map_value, t.raw_status, '') <> 'deleted'

-- source: zd_field_history
-- Every recorded value of every ticket field (standard fields by name, custom fields by id).
select
    cast(h.ticket_id as varchar) as ticket_id,
    cast(h.field_name as varchar) as field_name,
    cast(h.updated as timestamp with time zone) as updated_at,
    nullif(trim(cast(h.user_id as varchar)), '') as user_id,
    nullif(trim(cast(h.value as varchar)), '') as value
from {zd}"ticket_field_history" as h

-- source: zd_status_history
-- Every recorded status of every ticket, read through the status vocabulary (as zd_ticket).
select
    h.ticket_id,
    h.updated_at,
    h.user_id,
    coalesce(sn.map_value, lower(h.value)) as status,
    lower(h.value) as raw_status
from zd_field_history as h
left join ({status_names}) as sn on sn.map_key = lower(h.value)
where h.field_name = 'status'

-- source: zd_user
-- Every user with the current role (end-user, agent or admin). Users are not filtered on
-- deletion: a deleted agent's past comments are still an agent's.
select
    cast(u.id as varchar) as user_id,
    cast(u.name as varchar) as name,
    lower(nullif(trim(cast(u.role as varchar)), '')) as role,
    {user_time_zone} as time_zone,
    nullif(trim({user_locale}), '') as locale
from {zd}"user" as u

-- source: zd_group
select
    cast(g.id as varchar) as group_id,
    cast(g.name as varchar) as name
from {zd}"group" as g

-- source: zd_comment
-- Live comments (Fivetran-deleted rows left out).
select
    cast(c.id as varchar) as comment_id,
    cast(c.ticket_id as varchar) as ticket_id,
    nullif(trim(cast(c.user_id as varchar)), '') as user_id,
    cast(c.created as timestamp with time zone) as created_at,
    cast(c.public as boolean) as is_public,
    {comment_body} as body
from {zd}"ticket_comment" as c
where {comment_alive}

-- source: zd_ticket_tag
select
    cast(tt.ticket_id as varchar) as ticket_id,
    cast({tag_value} as varchar) as tag
from {zd}"ticket_tag" as tt
where {tag_alive}

-- source: zd_ticket_tag_absent
select cast(null as varchar) as ticket_id, cast(null as varchar) as tag
where 1 = 0

-- source: actors
-- The contract actor_type of each Zendesk user: configured system users (bots, integrations)
-- are `system`; agents and admins are `specialist`; end-users are `user`; anything else
-- (e.g. Zendesk's own system user -1, which is not in the user table) is `system`.
select
    u.user_id,
    case
        when s.user_id is not null then 'system'
        when u.role in ('agent', 'admin') then 'specialist'
        when u.role = 'end-user' then 'user'
        else 'system'
    end as actor_type
from zd_user as u
left join ({system_users}) as s on s.user_id = u.user_id

-- source: group_matches
-- Each Zendesk group id matched by a group rule of the config (by group id or by exact
-- name; the first matching entry wins), with the rule's value. Instantiated twice by
-- metrics/adapters/zendesk.py: appeals queues (value: queue) and escalation groups
-- (value: target).
select group_id, map_value as {group_value}
from (
    select
        group_id,
        map_value,
        row_number() over (partition by group_id order by entry_rank) as pick
    from (
        select m.group_id, m.map_value, m.entry_rank
        from ({group_rules}) as m
        where m.group_id is not null
        union all
        select g.group_id, m.map_value, m.entry_rank
        from zd_group as g
        inner join ({group_rules}) as m on m.group_name = g.name
    ) as matches
) as ranked
where pick = 1

-- source: appeal_tickets
-- One row per appeal: a live ticket whose current group is an appeals queue, or that was in
-- one before (e.g. moved on to an escalation group). Its queue is the current group's queue
-- when that is an appeals queue, otherwise the latest appeals queue in its group history.
select ticket_id, queue
from (
    select
        c.ticket_id,
        q.queue,
        row_number() over (
            partition by c.ticket_id
            order by c.source_rank, c.seen_at desc, q.queue
        ) as pick
    from (
        select ticket_id, group_id, 0 as source_rank, cast(null as timestamp with time zone) as seen_at
        from zd_ticket
        union all
        select h.ticket_id, h.value, 1, h.updated_at
        from zd_field_history as h
        inner join zd_ticket as t on t.ticket_id = h.ticket_id
        where h.field_name = 'group_id'
    ) as c
    inner join appeal_queue_groups as q on q.group_id = c.group_id
) as ranked
where pick = 1

-- source: ticket_status_repairs
-- Appeal tickets whose current status (the ticket row) disagrees with their status history,
-- e.g. old or imported tickets exported without history. The ticket row wins:
--   solved/closed on the ticket, history missing or ending unsolved → repair 'decided';
--   new/open/pending/hold on the ticket, history ending solved/closed → repair 'reopened'.
-- repaired_at approximates the unrecorded change: ticket.updated_at (the last update, so at
-- or after the real change), unless it is missing or earlier than the last recorded status
-- change; then the latest instant recorded for the ticket (a field change or a comment).
select
    t.ticket_id,
    case when t.status in ('solved', 'closed') then 'decided' else 'reopened' end as repair,
    t.status as ticket_status,
    ls.status as history_status,
    case
        when t.updated_at is not null and (ls.updated_at is null or t.updated_at >= ls.updated_at)
            then t.updated_at
        else coalesce(act.last_at, t.created_at)
    end as repaired_at,
    t.assignee_id
from appeal_tickets as a
inner join zd_ticket as t on t.ticket_id = a.ticket_id
left join (
    select ticket_id, status, updated_at
    from (
        select
            ticket_id,
            status,
            updated_at,
            row_number() over (partition by ticket_id order by updated_at desc) as recency
        from zd_status_history
    ) as ranked
    where recency = 1
) as ls on ls.ticket_id = t.ticket_id
left join (
    select ticket_id, max(recorded_at) as last_at
    from (
        select ticket_id, updated_at as recorded_at from zd_field_history
        union all
        select ticket_id, created_at from zd_comment
    ) as recorded
    group by ticket_id
) as act on act.ticket_id = t.ticket_id
where (t.status in ('solved', 'closed') and coalesce(ls.status, '') not in ('solved', 'closed'))
   or (t.status in ('new', 'open', 'pending', 'hold') and ls.status in ('solved', 'closed'))

-- source: time_zone_names
-- Zendesk time zone names (Rails names such as "Pacific Time (US & Canada)", or IANA names)
-- → IANA names, for the names found when the warehouse was opened (config time_zones first,
-- then the Rails names, then IANA names as they are). Names that cannot be mapped are not listed.
select zendesk_name, iana_name
from ({time_zones}) as z
