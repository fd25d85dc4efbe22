-- Pseudonymised users with their AI use in the period (only users: events attributed to no user are
-- left out), most unsanctioned use first.
with usage as (
    select * from usage_chosen($start, $end, $departments, $categories, $verdicts)
    where user_id is not null
),

final as (
    select
        user_id,
        string_agg(distinct department, ', ' order by department) as department,
        string_agg(distinct service_name, ', ' order by service_name) as services,
        sum(events) as events,
        sum(events) filter (where unsanctioned(verdict)) as unsanctioned_events,
        coalesce(sum(bytes_out), 0) as bytes_out,
        min(day) as first_seen,
        max(day) as last_seen
    from usage
    group by user_id
    order by unsanctioned_events desc nulls last, events desc, user_id
    limit $limit
)

select * from final
