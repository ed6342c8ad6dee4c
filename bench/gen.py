"""Generate a large contract warehouse inside DuckDB (SQL, no Python rows) for benchmarks.

About 6 events per appeal: assigned, system acknowledgement, claimed, sometimes an evidence
request and reply, decided, and for 5% a reopen and a second decision. Lognormal-ish
durations; queues, priorities, specialists and two business schedules as in the sample.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SQL = """
set TimeZone = 'UTC';
create table appeals as
select
    'a' || cast(i as varchar) as appeal_id,
    'e' || cast(i as varchar) as enforcement_id,
    ['account_suspension', 'listing_removal', 'livestream_ban', 'payments_hold', 'ip_counterfeit'][cast(1 + (hash(i) % 5) as bigint)] as queue,
    ['P0', 'P1', 'P2', 'P3'][1 + least(3, cast(floor(-ln(random()) * 1.2) as integer))] as priority,
    ['US', 'GB', 'DE', 'IE', 'PL', 'AU'][cast(1 + (hash(i * 7) % 6) as bigint)] as market,
    ['in_app', 'email', 'web_form'][cast(1 + (hash(i * 11) % 3) as bigint)] as channel,
    'en' as language,
    timestamptz '2026-05-25 00:00:00+00' + to_microseconds(cast(random() * 182 * 86400e6 as bigint)) as created_at,
    cast(null as varchar) as appeal_text,
    case when random() < 0.3 then 'seller' else 'buyer' end as appellant_type
from range({n}) as t(i);

create table enforcements as
select enforcement_id, 'u' || appeal_id as user_id, queue as action,
       ['counterfeit', 'prohibited_item', 'harassment', 'payment_fraud'][cast(1 + (hash(appeal_id) % 4) as bigint)] as policy,
       case when random() < 0.6 then 'automated' else 'human' end as source,
       'model-v3' as enforced_by,
       created_at - to_microseconds(cast(random() * 72 * 3600e6 as bigint)) as enforced_at
from appeals;

create table base as
select appeal_id, created_at,
       'sp_' || lpad(cast(1 + hash(appeal_id) % 30 as varchar), 3, '0') as specialist_id,
       exp(random() * 2.5) as ftr_h,
       exp(1 + random() * 3) as ttr_h,
       random() as r_evidence, random() as r_reopen, random() as r_outcome, random() as r_open
from appeals;

create table appeal_events as
select * from (
    select appeal_id || '-1' as event_id, appeal_id, created_at + interval '5 minutes' as occurred_at,
           'assigned' as event_type, specialist_id as actor_id, 'specialist' as actor_type,
           cast(null as varchar) as outcome, cast(null as varchar) as root_cause,
           cast(null as varchar) as escalation_target, cast(null as varchar) as note
    from base
    union all
    select appeal_id || '-2', appeal_id, created_at + interval '1 minute', 'message_to_user', 'autoack', 'system',
           null, null, null, null from base
    union all
    select appeal_id || '-3', appeal_id, created_at + to_microseconds(cast(ftr_h * 3600e6 as bigint)), 'claimed',
           specialist_id, 'specialist', null, null, null, null from base
    union all
    select appeal_id || '-9', appeal_id, created_at + to_microseconds(cast(ftr_h * 1.2 * 3600e6 as bigint)),
           'internal_note', specialist_id, 'specialist', null, null, null, 'checked history' from base
    union all
    select appeal_id || '-4', appeal_id, created_at + to_microseconds(cast(ftr_h * 1.5 * 3600e6 as bigint)),
           'evidence_requested', specialist_id, 'specialist', null, null, null, null from base where r_evidence < 0.4
    union all
    select appeal_id || '-5', appeal_id, created_at + to_microseconds(cast((ftr_h * 1.5 + 12) * 3600e6 as bigint)),
           'evidence_received', 'user', 'user', null, null, null, null from base where r_evidence < 0.4
    union all
    select appeal_id || '-6', appeal_id, created_at + to_microseconds(cast((ftr_h + ttr_h) * 3600e6 as bigint)),
           'decided', specialist_id, 'specialist',
           case when r_outcome < 0.7 then 'upheld' when r_outcome < 0.9 then 'overturned' else 'partially_overturned' end,
           case when r_outcome >= 0.7 then 'agent_error' end, null, 'decision note'
    from base where r_open > 0.04
    union all
    select appeal_id || '-7', appeal_id, created_at + to_microseconds(cast((ftr_h + ttr_h + 30) * 3600e6 as bigint)),
           'reopened', 'user', 'user', null, null, null, null from base where r_open > 0.04 and r_reopen < 0.05
    union all
    select appeal_id || '-8', appeal_id, created_at + to_microseconds(cast((ftr_h + ttr_h + 60) * 3600e6 as bigint)),
           'decided', specialist_id, 'specialist', 'upheld', null, null, null
    from base where r_open > 0.04 and r_reopen < 0.05
);
drop table base;

create table specialists as
select 'sp_' || lpad(cast(i as varchar), 3, '0') as specialist_id, 'Specialist ' || cast(i as varchar) as display_name,
       'pod_' || cast(i % 4 as varchar) as pod, 'lead_' || cast(i % 4 as varchar) as team_lead,
       case when i % 2 = 0 then 'phoenix' else 'dublin' end as site,
       case when i % 2 = 0 then 'America/Phoenix' else 'Europe/Dublin' end as timezone,
       date '2025-01-01' as active_from, cast(null as date) as active_to
from range(1, 31) as t(i);

create table sla_policies as
select * from (values
    ('*', 'P0', 1.0, 24.0, 'calendar', null),
    ('*', 'P1', 4.0, 48.0, 'business', 'phoenix'),
    ('*', 'P2', 8.0, 72.0, 'business', 'dublin'),
    ('*', 'P3', 24.0, 120.0, 'business', 'dublin')
) as p(queue, priority, first_touch_target_hours, resolution_target_hours, clock, schedule_id);

create table business_hours as
select 'phoenix' as schedule_id, 'America/Phoenix' as timezone, w as weekday, time '07:00' as start_time, time '19:00' as end_time
from range(1, 6) as t(w)
union all
select 'dublin', 'Europe/Dublin', w, time '08:00', time '12:00' from range(1, 6) as t(w)
union all
select 'dublin', 'Europe/Dublin', w, time '13:00', time '17:00' from range(1, 6) as t(w);

create table holidays as
select * from (values ('dublin', date '2026-08-03'), ('dublin', date '2026-10-26'), ('phoenix', date '2026-09-07'))
    as h(schedule_id, holiday_date);

create table qa_reviews as
select 'r' || appeal_id as review_id, appeal_id, 'qa_1' as reviewer_id, occurred_at + interval '2 days' as reviewed_at,
       random() < 0.9 as decision_correct, 100 * random() as score, cast(null as varchar) as error_category
from appeal_events where event_type = 'decided' and hash(event_id) % 20 = 0;
"""


def generate(path: str | Path, n_appeals: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("select setseed(0.42)")
    for statement in SQL.format(n=int(n_appeals)).split(";"):
        if statement.strip():
            con.execute(statement)
    con.close()
    return path


if __name__ == "__main__":
    generate(sys.argv[1], int(sys.argv[2]))
