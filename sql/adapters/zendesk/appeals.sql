-- appeals (Zendesk adapter): one row per appeal ticket (see appeal_tickets in _sources.sql).
-- appeal_id = ticket id; queue = the configured queue of its appeals group; priority = the
-- configured map of Zendesk's urgent/high/normal/low (a ticket without priority gets the
-- map's `none` entry; an unmapped value passes through); channel = via_channel through the
-- channel map (unmapped values pass through); language = the requester's locale;
-- appeal_text = the ticket description (its first comment); enforcement_id, market and
-- appellant_type = the latest value of the configured custom fields (enforcement_id may
-- instead be the ticket's external_id).
with zd_ticket as (
{zd_ticket}
),

zd_field_history as (
{zd_field_history}
),

zd_user as (
{zd_user}
),

zd_group as (
{zd_group}
),

appeal_queue_groups as (
{appeal_queue_groups}
),

appeal_tickets as (
{appeal_tickets}
),

latest_fields as (
    select ticket_id, field_name, value
    from (
        select
            h.ticket_id,
            h.field_name,
            h.value,
            row_number() over (partition by h.ticket_id, h.field_name order by h.updated_at desc) as pick
        from zd_field_history as h
        inner join appeal_tickets as a on a.ticket_id = h.ticket_id
        where h.field_name in (
            cast(:zd_field_enforcement_id as varchar),
            cast(:zd_field_market as varchar),
            cast(:zd_field_appellant_type as varchar)
        )
    ) as ranked
    where pick = 1
)

select
    t.ticket_id as appeal_id,
    case
        when cast(:zd_enforcement_from_external_id as boolean) then t.external_id
        else fe.value
    end as enforcement_id,
    a.queue,
    case
        when t.priority is null then cast(:zd_priority_none as varchar)
        else coalesce(pm.map_value, t.priority)
    end as priority,
    fm.value as market,
    coalesce(cm.map_value, t.via_channel) as channel,
    r.locale as language,
    t.created_at,
    t.description as appeal_text,
    fa.value as appellant_type
from appeal_tickets as a
inner join zd_ticket as t on t.ticket_id = a.ticket_id
left join zd_user as r on r.user_id = t.requester_id
left join ({priority_map}) as pm on pm.map_key = t.priority
left join ({channel_map}) as cm on cm.map_key = t.via_channel
left join latest_fields as fe
    on fe.ticket_id = t.ticket_id and fe.field_name = cast(:zd_field_enforcement_id as varchar)
left join latest_fields as fm
    on fm.ticket_id = t.ticket_id and fm.field_name = cast(:zd_field_market as varchar)
left join latest_fields as fa
    on fa.ticket_id = t.ticket_id and fa.field_name = cast(:zd_field_appellant_type as varchar)
