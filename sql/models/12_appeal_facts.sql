-- appeal_facts: one row per appeal created at or before :as_of (the `facts` grain of
-- interfaces.md), with the contract columns plus the wide columns that grouping and
-- cohorting need (language, enforcement and specialist attributes, deadlines, the instant
-- each SLA was decided). A deadline beyond the clock horizon (35 days after as_of) is in
-- the future of as_of for every rule, so it compares as +infinity (1e18).
with joined as (
    select
        a.*,
        enf.policy,
        enf.source as enforcement_source,
        enf.enforced_by,
        enf.action as enforcement_action,
        l.specialist_id,
        l.first_touch_at,
        l.resolved_at,
        l.withdrawn_at,
        l.status,
        l.outcome,
        l.reopen_count,
        l.escalated,
        l.root_cause,
        l.decision_note,
        l.decider_actor_type,
        sp.display_name as specialist_name,
        sp.pod,
        sp.site,
        sp.team_lead,
        coalesce(w.user_wait_hours, 0.0) as user_wait_hours,
        p.has_policy,
        p.is_clock_usable,
        p.clock as sla_clock,
        p.ftr_target_hours,
        p.ttr_target_hours,
        c.ftr_clock_hours,
        c.ttr_clock_hours,
        c.ftr_stop_epoch,
        c.ttr_stop_epoch,
        c.ftr_deadline_epoch,
        c.ttr_deadline_epoch,
        coalesce(c.ftr_deadline_epoch, 1e18) as ftr_deadline_cmp,
        coalesce(c.ttr_deadline_epoch, 1e18) as ttr_deadline_cmp,
        cast(extract(epoch from l.withdrawn_at) as double precision) as withdrawn_epoch,
        cast(extract(epoch from cast(:as_of as timestamp with time zone)) as double precision) as as_of_epoch
    from appeals_base as a
    inner join appeal_lifecycle as l on l.appeal_id = a.appeal_id
    left join (
        select enforcement_id, action, policy, source, enforced_by,
               row_number() over (partition by enforcement_id order by enforced_at, policy collate "C") as row_rank
        from stg_enforcements
        where enforcement_id is not null
    ) as enf on enf.enforcement_id = a.enforcement_id and enf.row_rank = 1
    left join (
        select specialist_id, display_name, pod, site, team_lead,
               row_number() over (partition by specialist_id order by display_name collate "C", pod collate "C") as row_rank
        from stg_specialists
        where specialist_id is not null
    ) as sp on sp.specialist_id = l.specialist_id and sp.row_rank = 1
    left join user_waits as w on w.appeal_id = a.appeal_id
    left join appeal_policy as p on p.appeal_id = a.appeal_id
    left join appeal_clock as c on c.appeal_id = a.appeal_id
),

with_sla as (
    select
        *,
        case
            when not (coalesce(has_policy, false) and is_clock_usable) or ftr_target_hours is null then 'n/a'
            when ftr_stop_epoch is not null then
                case when ftr_stop_epoch <= ftr_deadline_cmp then 'achieved' else 'breached' end
            when status = 'withdrawn' then
                case when ftr_deadline_cmp < withdrawn_epoch then 'breached' else 'n/a' end
            when as_of_epoch > ftr_deadline_cmp then 'breached'
            else 'pending'
        end as ftr_sla,
        case
            when not (coalesce(has_policy, false) and is_clock_usable) or ttr_target_hours is null then 'n/a'
            when ttr_stop_epoch is not null then
                case when ttr_stop_epoch <= ttr_deadline_cmp then 'achieved' else 'breached' end
            when status = 'withdrawn' then
                case when ttr_deadline_cmp < withdrawn_epoch then 'breached' else 'n/a' end
            when as_of_epoch > ttr_deadline_cmp then 'breached'
            else 'pending'
        end as ttr_sla
    from joined
),

final as (
    select
        appeal_id,
        queue,
        priority,
        market,
        channel,
        policy,
        enforcement_source,
        specialist_id,
        created_at,
        first_touch_at,
        resolved_at,
        status,
        outcome,
        case when outcome is null then null else outcome in ('overturned', 'partially_overturned') end
            as is_overturned,
        cast(reopen_count as integer) as reopen_count,
        escalated,
        (cast(extract(epoch from first_touch_at) as double precision) - created_epoch) / 3600.0 as ftr_hours,
        (cast(extract(epoch from resolved_at) as double precision) - created_epoch) / 3600.0 as ttr_hours,
        case when coalesce(has_policy, false) and is_clock_usable then ftr_clock_hours end as ftr_clock_hours,
        case when coalesce(has_policy, false) and is_clock_usable then ttr_clock_hours end as ttr_clock_hours,
        ftr_target_hours,
        ttr_target_hours,
        ftr_sla,
        ttr_sla,
        user_wait_hours,
        root_cause,
        {theme_expression} as theme,
        -- wide columns (not in the public facts contract)
        language,
        enforced_by,
        specialist_name,
        pod,
        site,
        team_lead,
        withdrawn_at,
        sla_clock,
        decider_actor_type,
        appellant_type,
        enforcement_action,
        {taxonomy_version} as taxonomy_version,
        to_timestamp(ftr_deadline_epoch) as ftr_deadline_at,
        to_timestamp(ttr_deadline_epoch) as ttr_deadline_at,
        case
            when ftr_sla = 'achieved' then to_timestamp(ftr_stop_epoch)
            when ftr_sla = 'breached' then to_timestamp(ftr_deadline_epoch)
        end as ftr_sla_decided_at,
        case
            when ttr_sla = 'achieved' then to_timestamp(ttr_stop_epoch)
            when ttr_sla = 'breached' then to_timestamp(ttr_deadline_epoch)
        end as ttr_sla_decided_at
    from with_sla
)

select * from final
