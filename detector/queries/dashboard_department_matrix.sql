-- Department x service (or x category, $by = 'category'): distinct people, events, bytes uploaded.
with usage as (
    select * from usage_chosen($start, $end, $departments, $categories, $verdicts)
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
