-- specialists (Zendesk adapter): one row per agent or admin who is not a configured system
-- user. display_name = the user's name; timezone = the user's Zendesk time zone as an IANA
-- name (null when the name is unknown); pod, team lead, site and active dates are not in
-- Zendesk and stay null.
with zd_user as (
{zd_user}
),

time_zone_names as (
{time_zone_names}
)

select
    u.user_id as specialist_id,
    u.name as display_name,
    cast(null as varchar) as pod,
    cast(null as varchar) as team_lead,
    cast(null as varchar) as site,
    z.iana_name as timezone,
    cast(null as date) as active_from,
    cast(null as date) as active_to
from zd_user as u
left join ({system_users}) as s on s.user_id = u.user_id
left join time_zone_names as z on z.zendesk_name = u.time_zone
where u.role in ('agent', 'admin')
  and s.user_id is null
