-- enforcements_clean: one row per enforcement (first row of each enforcement_id) applied
-- at or before :as_of: the denominator of appeal_rate.
select enforcement_id, user_id, action, policy, source, enforced_by, enforced_at
from (
    select
        e.*,
        row_number() over (partition by e.enforcement_id order by e.enforced_at, e.policy collate "C") as id_rank
    from stg_enforcements as e
    where e.enforcement_id is not null and e.enforced_at is not null
) as ranked
where id_rank = 1
  and enforced_at <= cast(:as_of as timestamp with time zone)
