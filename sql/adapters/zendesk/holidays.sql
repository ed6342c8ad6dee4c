-- holidays (Zendesk adapter): one row per schedule and local date closed by a Zendesk
-- schedule holiday (start_date to end_date, both included; up to 1000 days per holiday).
with zd_holiday as (
    select
        cast(h.schedule_id as varchar) as schedule_id,
        cast(h.start_date as date) as start_date,
        cast(h.end_date as date) as end_date
    from {zd}"schedule_holiday" as h
    where {holiday_alive}
),

day_numbers as (
    select d1.n + 10 * d2.n + 100 * d3.n as n
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d1(n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d2(n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d3(n)
)

select distinct
    h.schedule_id,
    cast(h.start_date + n.n as date) as holiday_date
from zd_holiday as h
inner join day_numbers as n on n.n <= coalesce(h.end_date, h.start_date) - h.start_date
where h.start_date is not null
