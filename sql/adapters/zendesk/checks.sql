-- Data checks of the Zendesk adapter: one SELECT per check, each returning one example text
-- per affected row (metrics/checks.py counts them and shows five). metrics/adapters/zendesk.py
-- gives each the source SELECTs of _sources.sql it names as CTEs, and states the check's kind
-- and effect. Config values reach them as bind parameters only (config_* SELECTs).

-- check: zendesk_status_from_ticket_row
-- Appeals whose ticket row is solved/closed (or open again) while the status history says
-- otherwise or is missing: decided (or reopened) at the approximate instant repaired_at.
select ticket_id
from ticket_status_repairs

-- check: zendesk_unknown_status
-- Appeals with a status (ticket row or history) outside Zendesk's vocabulary, legacy
-- spellings and the config's `statuses` included: such a status is no event.
select u.ticket_id || ' (' || min(u.raw_status) || ')'
from (
    select ticket_id, raw_status from zd_ticket where status not in ({zendesk_statuses})
    union all
    select ticket_id, raw_status from zd_status_history where status not in ({zendesk_statuses})
) as u
inner join appeal_tickets as a on a.ticket_id = u.ticket_id
group by u.ticket_id

-- check: zendesk_config_group_unmatched
-- appeal_groups / escalation_groups entries that match no group, with the group that differs
-- only in letter case or spaces, if any, and how many tickets are in it (left out).
select r.label || ': no such group'
       || coalesce('; group ' || nm.name || ' differs only in case or spaces: '
                   || cast(nm.tickets as varchar) || ' tickets in it are left out', '')
from ({config_group_rules}) as r
left join (
    select g.name, lower(trim(g.name)) as name_key, count(t.ticket_id) as tickets
    from zd_group as g
    left join zd_ticket as t on t.group_id = g.group_id
    group by g.name
) as nm on nm.name_key = lower(trim(r.group_name))
where not exists (select 1 from zd_group as g where g.group_id = r.group_id or g.name = r.group_name)
  and not exists (select 1 from zd_ticket as t where t.group_id = r.group_id)

-- check: zendesk_config_field_unseen
-- Custom ticket fields named in the config (outcome, root cause, appeal columns) that no
-- appeal ticket's field history ever sets.
select f.label || ': never set on any of the ' || cast(n.appeals as varchar) || ' appeals (' || f.consequence || ')'
from ({config_fields}) as f
cross join (select count(*) as appeals from appeal_tickets) as n
where not exists (
    select 1
    from zd_field_history as h
    inner join appeal_tickets as a on a.ticket_id = h.ticket_id
    where h.field_name = f.field_id
)

-- check: zendesk_config_status_unmatched
-- Status names of the config's `statuses` that no ticket row or status history holds.
select s.label || ': no ticket has this status'
from ({config_statuses}) as s
where not exists (select 1 from zd_ticket as t where t.raw_status = s.status_name)
  and not exists (select 1 from zd_status_history as h where h.raw_status = s.status_name)
