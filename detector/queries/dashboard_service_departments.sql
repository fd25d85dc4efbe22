-- The departments using one service ($service_key: the service id, or the host of an unlisted one).
with usage as (
    select * from dashboard_user_daily
    where service_key = $service_key
        and day between $start and $end
        and chosen($departments, department)
        and chosen($verdicts, verdict)
),

final as (
    select
        department,
        string_agg(distinct verdict, ', ' order by verdict) as verdict,
        count(distinct person) as people,
        sum(events) as events,
        coalesce(sum(bytes_out), 0) as bytes_out
    from usage
    group by department
    order by people desc, events desc, department
)

select * from final
