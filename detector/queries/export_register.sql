-- Use of each catalog AI service in one period, per department and for the whole organisation
-- (`department` null), for the AI-register candidate list: distinct users (small groups are suppressed
-- by the caller), events, first and last day of use.
with user_daily as (
    select service, coalesce(department, '(unknown)') as department, user_id
    from user_daily where day between $start and $end and service is not null
),

usage as (
    select service, coalesce(department, '(unknown)') as department, day, events
    from usage_daily where day between $start and $end and service is not null
),

people as (
    select service, department, count(distinct user_id) as users
    from user_daily
    group by grouping sets ((service, department), (service))
),

volume as (
    select service, department, min(day) as first_day, max(day) as last_day, cast(sum(events) as bigint) as events
    from usage
    group by grouping sets ((service, department), (service))
),

final as (
    select v.service, v.department, coalesce(p.users, 0) as users, v.events, v.first_day, v.last_day
    from volume as v
    left join people as p
        on p.service = v.service and p.department is not distinct from v.department
    order by v.service, v.department nulls first
)

select * from final
