-- AI use per day, department, service and verdict in one period (usage_daily, with the distinct users
-- of each row), for findings sent to a SIEM. Small groups are suppressed by the caller.
with usage as (
    select * from usage_daily where day between $start and $end
),

final as (
    select
        day,
        coalesce(department, '(unknown)') as department,
        coalesce(service, host) as service_key,
        service,
        service_name,
        category,
        verdict,
        users,
        events,
        cast(bytes_out as bigint) as bytes_out,
        cast(bytes_in as bigint) as bytes_in,
        blocked
    from usage
    order by day, department, service_key, verdict
)

select * from final
