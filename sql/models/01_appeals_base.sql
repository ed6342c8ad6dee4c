-- appeals_base: one row per appeal_id that exists at :as_of (created at or before it).
-- Duplicate appeal_ids keep their earliest-created row (the rest are counted by the
-- duplicate_appeal_id check); rows with a null id, queue, priority or created_at are
-- excluded and counted by the check of that name. Only ids seen more than once are
-- ranked (a window over every appeal was the costliest step of this model).
with candidates as (
    select appeal_id, enforcement_id, queue, priority, market, channel, language, created_at, appellant_type
    from stg_appeals
    where appeal_id is not null
      and queue is not null
      and priority is not null
      and created_at is not null
      and created_at <= cast(:as_of as timestamp with time zone)
),

duplicate_ids as (
    select appeal_id from candidates group by appeal_id having count(*) > 1
),

first_rows as (
    select c.*
    from candidates as c
    where not exists (select 1 from duplicate_ids as d where d.appeal_id = c.appeal_id)
    union all
    select appeal_id, enforcement_id, queue, priority, market, channel, language, created_at, appellant_type
    from (
        select
            c.*,
            row_number() over (
                partition by c.appeal_id
                order by c.created_at, c.queue collate "C", c.priority collate "C", c.enforcement_id collate "C"
            ) as row_rank
        from candidates as c
        where exists (select 1 from duplicate_ids as d where d.appeal_id = c.appeal_id)
    ) as ranked
    where row_rank = 1
)

select
    appeal_id, enforcement_id, queue, priority, market, channel, language,
    created_at, appellant_type,
    cast(extract(epoch from created_at) as double precision) as created_epoch
from first_rows
