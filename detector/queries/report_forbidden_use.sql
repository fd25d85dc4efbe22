-- Use of AI services the policy forbids, in one period: requests that were not blocked, per service,
-- with the departments (names only: a department is an organisational unit, not a person) and days.
with usage as (
    select * from usage_daily
    where day between $start and $end and verdict = 'forbidden' and events > blocked
),

final as (
    select
        coalesce(service, host) as service_key,
        any_value(service_name) as service_name,
        list(distinct coalesce(department, '(unknown)') order by coalesce(department, '(unknown)'))
            as departments,
        cast(sum(events - blocked) as bigint) as events,
        cast(coalesce(sum(bytes_out), 0) as bigint) as bytes_out,
        count(distinct day) as days,
        min(day) as first_day,
        max(day) as last_day
    from usage
    group by coalesce(service, host)
    order by events desc, service_key
)

select * from final
