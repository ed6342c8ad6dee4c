-- Help-desk tickets -> appeals warehouse as a SQL mapping: the same import as
-- helpdesk_tickets.yml (every decision is explained in mappings/README.md, "Help-desk tickets").
-- tests/test_import_rules.py requires both to give the same tables and facts on the real log.
--   python -m metrics import-log --events ../shared/realdata/helpdesk_tickets/events.parquet \
--       --mapping mappings/helpdesk_tickets.sql --out helpdesk.duckdb
-- timezone: Europe/Rome
-- max_unmatched: 0

-- table: appeals
with ordered as (
    select *, row_number() over (partition by "Case ID" order by ts, row_order, source_row) as i
    from events
),
-- the most common label of the ticket; a tie goes to the one seen last
workgroups as (
    select "Case ID", workgroup from (
        select "Case ID", workgroup, count(*) as n, max(i) as last_i from ordered group by all)
    qualify row_number() over (partition by "Case ID" order by n desc, last_i desc) = 1
),
seriousness as (
    select "Case ID", seriousness_2 from (
        select "Case ID", seriousness_2, count(*) as n, max(i) as last_i from ordered group by all)
    qualify row_number() over (partition by "Case ID" order by n desc, last_i desc) = 1
)
select
    t."Case ID" as appeal_id,
    'workgroup ' || w.workgroup as queue,
    'seriousness ' || s.seriousness_2 as priority,
    min(t.ts) as created_at
from events as t
join workgroups as w using ("Case ID")
join seriousness as s using ("Case ID")
group by all

-- table: appeal_events
with stated as (
    select *,
        -- the ticket's state, carried forward over activities that do not set one
        last_value(case "Activity" when 'Insert ticket' then 'New' when 'Take in charge ticket' then 'Active'
                                   when 'Wait' then 'Waiting' when 'Resolve ticket' then 'Resolved'
                                   when 'Closed' then 'Closed' end ignore nulls)
            over (partition by "Case ID" order by ts, row_order, source_row
                  rows between unbounded preceding and current row) as state
    from events
),
steps as (
    -- `from`: the previous row's state (version 1); null on a ticket's first row
    select *, lag(state) over (partition by "Case ID" order by ts, row_order, source_row) as prev
    from stated
),
mapped as (
    select "Case ID" as appeal_id, ts, row_order, source_row, r.sub, r.event_type,
           case when r.actor_is_resource then "Resource" end as actor_id,
           r.actor_type, r.escalation_target,
           case r.note_kind when 'seriousness' then 'seriousness set: ' || seriousness_2
                            when 'activity' then steps."Activity"
                            when 'closed' then 'closed without resolution' end as note
    from steps
    join (values
        -- one row per (rule, event): activity, `from` condition, order in the row, the event
        ('Assign seriousness', 'any', 1, 'internal_note', true, 'specialist', null, 'seriousness'),
        ('Take in charge ticket', 'after_resolution', 1, 'reopened', true, 'specialist', null, null),
        ('Take in charge ticket', 'after_resolution', 2, 'assigned', true, 'specialist', null, null),
        ('Take in charge ticket', 'after_resolution', 3, 'claimed', true, 'specialist', null, null),
        ('Take in charge ticket', 'after_wait', 1, 'evidence_received', false, 'user', null, null),
        ('Take in charge ticket', 'after_wait', 2, 'assigned', true, 'specialist', null, null),
        ('Take in charge ticket', 'after_wait', 3, 'claimed', true, 'specialist', null, null),
        ('Take in charge ticket', 'other_take', 1, 'assigned', true, 'specialist', null, null),
        ('Take in charge ticket', 'other_take', 2, 'claimed', true, 'specialist', null, null),
        ('Wait', 'after_resolution', 1, 'reopened', true, 'specialist', null, null),
        ('Wait', 'after_resolution', 2, 'evidence_requested', true, 'specialist', null, null),
        ('Wait', 'not_after_resolution', 1, 'evidence_requested', true, 'specialist', null, null),
        ('Resolve ticket', 'after_closure', 1, 'reopened', true, 'specialist', null, null),
        ('Resolve ticket', 'after_closure', 2, 'decided', true, 'specialist', null, null),
        ('Resolve ticket', 'not_after_resolution', 1, 'decided', true, 'specialist', null, null),
        ('Closed', 'not_after_resolution', 1, 'decided', true, 'specialist', null, 'closed'),
        ('Require upgrade', 'any', 1, 'escalated', true, 'specialist', 'upgrade', null),
        ('Create SW anomaly', 'any', 1, 'escalated', true, 'specialist', 'product', null),
        ('Resolve SW anomaly', 'any', 1, 'internal_note', true, 'specialist', null, 'activity'),
        ('Schedule intervention', 'any', 1, 'internal_note', true, 'specialist', null, 'activity')
    ) as r(rule_activity, cond, sub, event_type, actor_is_resource, actor_type, escalation_target, note_kind)
      on steps."Activity" = r.rule_activity
     and case r.cond
            when 'any' then true
            when 'after_resolution' then coalesce(prev in ('Resolved', 'Closed'), false)
            when 'after_wait' then coalesce(prev = 'Waiting', false)
            when 'after_closure' then coalesce(prev = 'Closed', false)
            when 'not_after_resolution' then not coalesce(prev in ('Resolved', 'Closed'), false)
            when 'other_take' then not coalesce(prev in ('Resolved', 'Closed', 'Waiting'), false)
         end
)
select
    appeal_id || '-' || lpad(cast(row_number() over (
        partition by appeal_id order by ts, row_order, source_row, sub) as varchar), 4, '0') as event_id,
    appeal_id, ts as occurred_at, event_type, actor_id, actor_type, escalation_target, note
from mapped

-- table: specialists
select distinct actor_id as specialist_id, actor_id as display_name
from appeal_events where actor_type = 'specialist' and actor_id is not null

-- table: import_skipped_rows
with stated as (
    select *,
        last_value(case "Activity" when 'Insert ticket' then 'New' when 'Take in charge ticket' then 'Active'
                                   when 'Wait' then 'Waiting' when 'Resolve ticket' then 'Resolved'
                                   when 'Closed' then 'Closed' end ignore nulls)
            over (partition by "Case ID" order by ts, row_order, source_row
                  rows between unbounded preceding and current row) as state
    from events
),
steps as (
    select *, lag(state) over (partition by "Case ID" order by ts, row_order, source_row) as prev from stated
),
reasons as (
    select "Case ID" as case_id, source_row,
        case
            when "Activity" = 'Resolve ticket' and prev = 'Resolved' then 'repeat_resolution'
            when "Activity" = 'Closed' and prev = 'Resolved' then 'closure_after_resolution'
            when "Activity" = 'Closed' and prev = 'Closed' then 'repeat_closure'
            when "Activity" in ('VERIFIED', 'RESOLVED', 'INVALID', 'DUPLICATE') then 'defect_tracker_status'
        end as reason
    from steps
)
select reason, count(*) as rows,
       array_to_string(list(distinct case_id order by case_id)[1:5], ', ') as example_case_ids
from reasons where reason is not null group by reason
