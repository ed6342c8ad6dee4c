-- clock_range: one row: the local dates over which business schedules are expanded, from
-- two days before the first appeal to 35 days after :as_of (a deadline further out is in
-- the future of as_of for every rule, so it never needs an exact instant).
select
    cast(min(cast(created_at at time zone 'UTC' as date)) - 2 as date) as first_date,
    cast(cast(cast(:as_of as timestamp with time zone) at time zone 'UTC' as date) + 35 as date) as last_date
from appeals_base
