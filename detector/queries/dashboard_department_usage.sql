-- Per department: people using AI and unsanctioned AI (shadow or forbidden) among the population of the
-- shares (`in_population`: users.csv when given, else everyone seen), services, events, bytes uploaded.
with usage as (
    select * from usage_chosen($start, $end, $departments, $categories, $verdicts)
),

final as (
    select
        department,
        count(distinct person) filter (where in_population) as ai_people,
        count(distinct person) filter (where in_population and unsanctioned(verdict))
            as unsanctioned_people,
        count(distinct service_key) as services,
        sum(events) as events,
        coalesce(sum(bytes_out), 0) as bytes_out
    from usage
    group by department
    order by department
)

select * from final
