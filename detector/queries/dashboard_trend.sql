-- AI use over time by verdict: distinct people, events and bytes uploaded per $bucket ('day' or 'week').
with usage as (
    select * from usage_chosen($start, $end, $departments, $categories, $verdicts)
),

final as (
    select
        cast(date_trunc($bucket, day) as date) as period_start,
        verdict,
        count(distinct person) as people,
        sum(events) as events,
        coalesce(sum(bytes_out), 0) as bytes_out
    from usage
    group by all
    order by period_start, verdict
)

select * from final
