-- appeal_events (Zendesk adapter): the lifecycle of each appeal ticket, from its comments and
-- from the status, assignee and group changes in ticket_field_history (docs/zendesk.md).
--   comments (the ticket's first comment is the appeal itself, not an event):
--     agent/admin public → message_to_user (specialist: a touch); private → internal_note;
--     system user (configured bots, Zendesk's -1) public → message_to_user (system: an
--     automatic message, not a touch), private → internal_note (system);
--     end-user while the ticket was pending (status just before the comment) → evidence_received;
--     other end-user comments are not events (a reply to a solved ticket reopens it below).
--   status changes (read through the status vocabulary: on-hold is hold): to pending →
--     evidence_requested (a specialist's only with their public comment in the same update,
--     else system: a wait, not a touch); from pending to new/open/hold without the
--     requester's reply → evidence_received (the wait is the time in pending); to solved (or
--     straight to closed) → decided, or withdrawn when the outcome maps to `withdrawn`; from
--     solved/closed back to new/open/pending/hold → reopened; solved → closed → nothing.
--   the ticket row, where the status history disagrees (ticket_status_repairs): solved/closed
--     → decided, open again → reopened, at an approximate instant.
--   assignee_id set → assigned (actor = the new assignee), and also claimed when the config
--     maps self-assignment after creation to a claim; group_id changed to a configured
--     escalation group → escalated (escalation_target from the config).
-- Outcome and root cause of a decision: the latest value of the configured custom field at or
-- before the decision, through the value map; tags (which carry no time) give the outcome and
-- root cause of the ticket's final decision only.
-- Event ids are deterministic: zc-<comment id>; zf-<ticket>-<field>-<epoch seconds>[-suffix];
-- zt-<ticket>-status (from the ticket row).
with zd_ticket as (
{zd_ticket}
),

zd_field_history as (
{zd_field_history}
),

zd_status_history as (
{zd_status_history}
),

zd_user as (
{zd_user}
),

zd_group as (
{zd_group}
),

zd_comment as (
{zd_comment}
),

zd_ticket_tag as (
{zd_ticket_tag}
),

actors as (
{actors}
),

appeal_queue_groups as (
{appeal_queue_groups}
),

appeal_tickets as (
{appeal_tickets}
),

escalation_groups as (
{escalation_group_targets}
),

ticket_status_repairs as (
{ticket_status_repairs}
),

history as (
    select
        h.ticket_id,
        h.field_name,
        h.updated_at,
        h.user_id,
        h.value,
        cast(cast(floor(extract(epoch from h.updated_at)) as bigint) as varchar) as epoch_key
    from zd_field_history as h
    inner join appeal_tickets as a on a.ticket_id = h.ticket_id
    where h.field_name in ('assignee_id', 'group_id')
),

status_changes as (
    select
        s.ticket_id,
        s.updated_at,
        s.user_id,
        s.status,
        lag(s.status) over (partition by s.ticket_id order by s.updated_at) as previous_status,
        cast(cast(floor(extract(epoch from s.updated_at)) as bigint) as varchar) as epoch_key
    from zd_status_history as s
    inner join appeal_tickets as a on a.ticket_id = s.ticket_id
),

comments as (
    select
        c.comment_id,
        c.ticket_id,
        c.user_id,
        c.created_at,
        c.is_public,
        c.body,
        coalesce(p.actor_type, 'system') as actor_type,
        row_number() over (
            partition by c.ticket_id
            order by c.created_at, length(c.comment_id), c.comment_id
        ) as comment_rank
    from zd_comment as c
    inner join appeal_tickets as a on a.ticket_id = c.ticket_id
    left join actors as p on p.user_id = c.user_id
),

status_before_comment as (
    select comment_id, status
    from (
        select
            c.comment_id,
            s.status,
            row_number() over (partition by c.comment_id order by s.updated_at desc) as pick
        from comments as c
        inner join status_changes as s
            on s.ticket_id = c.ticket_id and s.updated_at < c.created_at
        where c.actor_type = 'user' and c.comment_rank > 1
    ) as ranked
    where pick = 1
),

agent_messages as (
    -- instants at which an agent wrote to the user (public, not the ticket's description)
    select distinct ticket_id, created_at, user_id
    from comments
    where is_public and actor_type = 'specialist' and comment_rank > 1
),

user_replies_while_pending as (
    select c.ticket_id, c.created_at
    from comments as c
    inner join status_before_comment as sb on sb.comment_id = c.comment_id
    where sb.status = 'pending'
),

solves as (
    -- changes to solved (or straight to closed), and tickets solved or closed per the ticket
    -- row whose history does not say so (decided at the approximate instant repaired_at)
    select
        ticket_id,
        updated_at,
        user_id,
        event_id,
        row_number() over (partition by ticket_id order by updated_at desc, event_id desc) as recency
    from (
        select ticket_id, updated_at, user_id, 'zf-' || ticket_id || '-status-' || epoch_key as event_id
        from status_changes
        where status in ('solved', 'closed')
          and coalesce(previous_status, '') not in ('solved', 'closed')
        union all
        select ticket_id, repaired_at, assignee_id, 'zt-' || ticket_id || '-status'
        from ticket_status_repairs
        where repair = 'decided'
    ) as changes
),

fields_at_solve as (
    select ticket_id, updated_at, field_name, value
    from (
        select
            d.ticket_id,
            d.updated_at,
            h.field_name,
            h.value,
            row_number() over (
                partition by d.ticket_id, d.updated_at, h.field_name
                order by h.updated_at desc
            ) as pick
        from solves as d
        inner join zd_field_history as h
            on h.ticket_id = d.ticket_id and h.updated_at <= d.updated_at
        where h.field_name in (cast(:zd_outcome_field as varchar), cast(:zd_root_cause_field as varchar))
    ) as ranked
    where pick = 1
),

tag_outcomes as (
    select ticket_id, outcome
    from (
        select
            tt.ticket_id,
            m.map_value as outcome,
            row_number() over (partition by tt.ticket_id order by m.entry_rank) as pick
        from zd_ticket_tag as tt
        inner join ({outcome_tags}) as m on m.map_key = tt.tag
    ) as ranked
    where pick = 1
),

tag_root_causes as (
    select ticket_id, code
    from (
        select
            tt.ticket_id,
            substr(tt.tag, length(cast(:zd_root_cause_tag_prefix as varchar)) + 1) as code,
            row_number() over (partition by tt.ticket_id order by tt.tag) as pick
        from zd_ticket_tag as tt
        where substr(tt.tag, 1, length(cast(:zd_root_cause_tag_prefix as varchar)))
              = cast(:zd_root_cause_tag_prefix as varchar)
          and length(tt.tag) > length(cast(:zd_root_cause_tag_prefix as varchar))
    ) as ranked
    where pick = 1
),

solve_notes as (
    -- the decision's rationale: a comment the solver wrote in the same update (same instant),
    -- a private one first
    select ticket_id, updated_at, body
    from (
        select
            d.ticket_id,
            d.updated_at,
            c.body,
            row_number() over (
                partition by d.ticket_id, d.updated_at
                order by case when c.is_public then 1 else 0 end, length(c.comment_id), c.comment_id
            ) as pick
        from solves as d
        inner join comments as c
            on c.ticket_id = d.ticket_id and c.created_at = d.updated_at and c.user_id = d.user_id
        where c.comment_rank > 1
    ) as ranked
    where pick = 1
),

decisions as (
    select
        d.ticket_id,
        d.updated_at,
        d.user_id,
        d.event_id,
        coalesce(
            om.map_value,
            fo.value,
            case when d.recency = 1 then tgo.outcome end
        ) as outcome,
        coalesce(
            rm.map_value,
            fr.value,
            case when d.recency = 1 then coalesce(rtm.map_value, trc.code) end
        ) as root_cause,
        n.body as note
    from solves as d
    left join fields_at_solve as fo
        on fo.ticket_id = d.ticket_id and fo.updated_at = d.updated_at
       and fo.field_name = cast(:zd_outcome_field as varchar)
    left join ({outcome_values}) as om on om.map_key = fo.value
    left join fields_at_solve as fr
        on fr.ticket_id = d.ticket_id and fr.updated_at = d.updated_at
       and fr.field_name = cast(:zd_root_cause_field as varchar)
    left join ({root_cause_values}) as rm on rm.map_key = fr.value
    left join tag_outcomes as tgo on tgo.ticket_id = d.ticket_id
    left join tag_root_causes as trc on trc.ticket_id = d.ticket_id
    left join ({root_cause_values}) as rtm on rtm.map_key = trc.code
    left join solve_notes as n on n.ticket_id = d.ticket_id and n.updated_at = d.updated_at
),

events as (
    -- comments
    select
        'zc-' || c.comment_id as event_id,
        c.ticket_id,
        c.created_at as occurred_at,
        case
            when c.actor_type in ('specialist', 'system') and c.is_public then 'message_to_user'
            when c.actor_type in ('specialist', 'system') then 'internal_note'
            when c.actor_type = 'user' and sb.status = 'pending' then 'evidence_received'
        end as event_type,
        c.user_id as actor_id,
        c.actor_type,
        cast(null as varchar) as outcome,
        cast(null as varchar) as root_cause,
        cast(null as varchar) as escalation_target,
        case when c.actor_type <> 'user' and not coalesce(c.is_public, false) then c.body end as note
    from comments as c
    left join status_before_comment as sb on sb.comment_id = c.comment_id
    where c.comment_rank > 1

    union all

    -- decisions (or withdrawals) at a change to solved
    select
        d.event_id,
        d.ticket_id,
        d.updated_at,
        case when d.outcome = 'withdrawn' then 'withdrawn' else 'decided' end,
        d.user_id,
        coalesce(p.actor_type, 'system'),
        case when d.outcome = 'withdrawn' then cast(null as varchar) else d.outcome end,
        case when d.outcome = 'withdrawn' then cast(null as varchar) else d.root_cause end,
        cast(null as varchar),
        d.note
    from decisions as d
    left join actors as p on p.user_id = d.user_id

    union all

    -- evidence requests: a change to pending. The user holds the case from here (a wait), but
    -- only an agent's public comment in the same update told them: without one (a status
    -- flag, or an agent-created ticket submitted as pending) the request is not a touch, so
    -- its actor_type is system (actor_id still names who changed the status)
    select
        'zf-' || s.ticket_id || '-status-' || s.epoch_key,
        s.ticket_id,
        s.updated_at,
        'evidence_requested',
        s.user_id,
        case
            when coalesce(p.actor_type, 'system') = 'specialist' and m.ticket_id is null then 'system'
            else coalesce(p.actor_type, 'system')
        end,
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar)
    from status_changes as s
    left join actors as p on p.user_id = s.user_id
    left join agent_messages as m
        on m.ticket_id = s.ticket_id and m.created_at = s.updated_at and m.user_id = s.user_id
    where s.status = 'pending' and coalesce(s.previous_status, '') <> 'pending'

    union all

    -- the wait ends when the ticket leaves pending (Zendesk's agent wait time is time in
    -- pending): a change from pending to new/open/hold is evidence_received, unless the
    -- requester's reply at that instant already is (to solved/closed: the decision ends it)
    select
        'zf-' || s.ticket_id || '-status-' || s.epoch_key,
        s.ticket_id,
        s.updated_at,
        'evidence_received',
        s.user_id,
        coalesce(p.actor_type, 'system'),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar)
    from status_changes as s
    left join actors as p on p.user_id = s.user_id
    left join user_replies_while_pending as r on r.ticket_id = s.ticket_id and r.created_at = s.updated_at
    where s.previous_status = 'pending' and s.status in ('new', 'open', 'hold') and r.ticket_id is null

    union all

    -- reopens: from solved/closed back to an unsolved status
    select
        'zf-' || s.ticket_id || '-status-' || s.epoch_key || '-reopen',
        s.ticket_id,
        s.updated_at,
        'reopened',
        s.user_id,
        coalesce(p.actor_type, 'system'),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar)
    from status_changes as s
    left join actors as p on p.user_id = s.user_id
    where s.previous_status in ('solved', 'closed') and s.status in ('new', 'open', 'pending', 'hold')

    union all

    -- tickets open again per the ticket row while their history ends solved or closed
    select
        'zt-' || x.ticket_id || '-status',
        x.ticket_id,
        x.repaired_at,
        'reopened',
        cast(null as varchar),
        'system',
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar)
    from ticket_status_repairs as x
    where x.repair = 'reopened'

    union all

    -- assignments: the new assignee is the actor
    select
        'zf-' || h.ticket_id || '-assignee_id-' || h.epoch_key,
        h.ticket_id,
        h.updated_at,
        'assigned',
        h.value,
        'specialist',
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar)
    from history as h
    where h.field_name = 'assignee_id' and h.value is not null

    union all

    -- claims, when the config maps them (claim_on_self_assignment): an agent assigning the
    -- ticket to themselves after its creation takes it in hand (a touch); at creation it is
    -- part of submitting the ticket
    select
        'zf-' || h.ticket_id || '-assignee_id-' || h.epoch_key || '-claim',
        h.ticket_id,
        h.updated_at,
        'claimed',
        h.value,
        'specialist',
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as varchar)
    from history as h
    inner join zd_ticket as t on t.ticket_id = h.ticket_id
    inner join actors as p on p.user_id = h.value
    where cast(:zd_claim_on_self_assignment as boolean)
      and h.field_name = 'assignee_id' and h.value = h.user_id
      and p.actor_type = 'specialist' and h.updated_at > t.created_at

    union all

    -- escalations: moved to a configured escalation group
    select
        'zf-' || h.ticket_id || '-group_id-' || h.epoch_key,
        h.ticket_id,
        h.updated_at,
        'escalated',
        h.user_id,
        coalesce(p.actor_type, 'system'),
        cast(null as varchar),
        cast(null as varchar),
        e.target,
        cast(null as varchar)
    from history as h
    inner join escalation_groups as e on e.group_id = h.value
    left join actors as p on p.user_id = h.user_id
    where h.field_name = 'group_id'
)

select
    event_id,
    ticket_id as appeal_id,
    occurred_at,
    event_type,
    actor_id,
    actor_type,
    outcome,
    root_cause,
    escalation_target,
    note
from events
where event_type is not null
