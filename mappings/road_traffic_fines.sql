-- Road-traffic-fine log -> appeals warehouse, as a SQL mapping: the same facts as
-- road_traffic_fines.yml (mappings/README.md, "Walkthrough: road-traffic fines").
-- `events` is the events file plus source_row (file order). Naive timestamps are read in the
-- zone below; each section may read the tables of the sections before it.
--   python -m metrics import-log --events fines.csv --mapping mappings/road_traffic_fines.sql --out fines.duckdb
-- timezone: Europe/Rome
-- max_unmatched: 10%

-- table: enforcements
-- every fine (its Create Fine row) is an enforcement, appealed or not
select
    'fine-' || "case:concept:name" as enforcement_id,
    'traffic_fine' as action,
    'art' || article || '/' || "vehicleClass" as policy,
    'human' as source,
    "org:resource" as enforced_by,
    cast("time:timestamp" as date) as enforced_at
from events
where "concept:name" = 'Create Fine'
qualify row_number() over (partition by "case:concept:name" order by cast("time:timestamp" as date), source_row) = 1

-- table: appeals
-- a fine is an appeal when a row says so; it is created at its first creating row
select
    e."case:concept:name" as appeal_id,
    max(f.enforcement_id) as enforcement_id,
    'fine_appeals' as queue,
    'P3' as priority,
    'IT' as market,
    min(cast(e."time:timestamp" as date)) filter (
        where e."concept:name" in ('Insert Date Appeal to Prefecture', 'Appeal to Judge')) as created_at
from events as e
left join enforcements as f on f.enforcement_id = 'fine-' || e."case:concept:name"
group by e."case:concept:name"
having bool_or(e."concept:name" like '% Appeal to Prefecture' or e."concept:name" = 'Appeal to Judge')

-- table: appeal_events
with steps as (
    select
        "case:concept:name" as appeal_id,
        cast("time:timestamp" as date) as day,
        source_row,
        "concept:name" as activity,
        -- the final dismissal code is on an earlier row: the latest one so far
        last_value(nullif(trim(dismissal), '') ignore nulls) over w as dismissal_so_far,
        -- a verdict (or its notification) came before this row
        count(*) filter (where "concept:name" in ('Receive Result Appeal from Prefecture',
                                                  'Notify Result Appeal to Offender')) over (
            partition by "case:concept:name" order by cast("time:timestamp" as date), source_row
            rows between unbounded preceding and 1 preceding) as verdicts_before
    from events
    where "case:concept:name" in (select appeal_id from appeals)
    window w as (partition by "case:concept:name" order by cast("time:timestamp" as date), source_row
                 rows between unbounded preceding and current row)
),
mapped as (
    select appeal_id, day, source_row, 1 as sub, 'assigned' as event_type, 'prefecture' as actor_id,
           'specialist' as actor_type, null as outcome, null as escalation_target
    from steps where activity = 'Send Appeal to Prefecture'
    union all
    select appeal_id, day, source_row, 1, 'decided', 'prefecture', 'specialist',
           case dismissal_so_far when 'NIL' then 'upheld' when '#' then 'overturned' when 'G' then 'upheld'
                else dismissal_so_far end,
           null
    from steps where activity = 'Receive Result Appeal from Prefecture'
    union all
    select appeal_id, day, source_row, 1, 'message_to_user', 'police', 'specialist', null, null
    from steps where activity = 'Notify Result Appeal to Offender'
    union all
    select appeal_id, day, source_row, 1, 'reopened', 'offender', 'user', null, null
    from steps where activity = 'Appeal to Judge' and verdicts_before > 0
    union all
    select appeal_id, day, source_row, 2, 'escalated', 'police', 'specialist', null, 'judge'
    from steps where activity = 'Appeal to Judge' and verdicts_before > 0
)
select
    appeal_id || '-' || lpad(cast(row_number() over (
        partition by appeal_id order by day, source_row, sub) as varchar), 4, '0') as event_id,
    appeal_id,
    day as occurred_at,
    event_type,
    actor_id,
    actor_type,
    outcome,
    escalation_target
from mapped

-- table: specialists
select distinct actor_id as specialist_id, actor_id as display_name
from appeal_events
where actor_type = 'specialist'

-- table: import_skipped_rows
-- the rows of fines nobody appealed (their Create Fine row is used: it is the enforcement)
select 'not_an_appeal' as reason, count(*) as rows,
       string_agg(distinct "case:concept:name", ', ' order by "case:concept:name") as example_case_ids
from events
where "case:concept:name" not in (select appeal_id from appeals) and "concept:name" <> 'Create Fine'
having count(*) > 0
