-- sla_policies (Zendesk adapter): the `sla_policies` rows of the adapter config, as bind
-- parameters (Zendesk's own SLA policies are condition-based and are not read). A business
-- clock's schedule_id is a Zendesk schedule id (see business_hours.sql).
select queue, priority, first_touch_target_hours, resolution_target_hours, clock, schedule_id
from ({sla_policy_rows}) as p
