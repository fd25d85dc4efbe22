-- Department x service (or x category, $by = 'category'): distinct people, events, bytes uploaded.
with usage as (
    select * from dashboard_user_daily
    where day between $start and $end
        and chosen($departments, department)
        and chosen($categories, category)
        and chosen($verdicts, verdict)
),

final as (
    select
        department,
        case when $by = 'category' then category else service_name end as item,
        count(distinct person) as people,
        sum(events) as events,
        coalesce(sum(bytes_out), 0) as bytes_out
    from usage
    group by all
    order by department, item
)

select * from final
