-- The most used AI services in the period: distinct people, events, bytes uploaded.
with usage as (
    select * from usage_chosen($start, $end, $departments, $categories, $verdicts)
),

final as (
    select
        service_key,
        any_value(service_name) as service_name,
        any_value(category) as category,
        string_agg(distinct verdict, ', ' order by verdict) as verdicts,
        count(distinct person) as people,
        sum(events) as events,
        coalesce(sum(bytes_out), 0) as bytes_out
    from usage
    group by service_key
    order by people desc, events desc, service_key
    limit $limit
)

select * from final
