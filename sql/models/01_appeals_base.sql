-- appeals_base: one row per appeal_id that exists at :as_of (created at or before it).
-- Duplicate appeal_ids keep their earliest-created row (the rest are counted by the
-- duplicate_appeal_id check); rows with a null id, queue, priority or created_at are
-- excluded and counted by the check of that name.
select
    appeal_id, enforcement_id, queue, priority, market, channel, language,
    created_at, appellant_type,
    cast(extract(epoch from created_at) as double precision) as created_epoch
from (
    select
        a.*,
        row_number() over (
            partition by a.appeal_id
            order by a.created_at, a.queue collate "C", a.priority collate "C", a.enforcement_id collate "C"
        ) as row_rank
    from stg_appeals as a
    where a.appeal_id is not null
      and a.queue is not null
      and a.priority is not null
      and a.created_at is not null
      and a.created_at <= cast(:as_of as timestamp with time zone)
) as ranked
where row_rank = 1
