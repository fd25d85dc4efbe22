-- AI use per day, pseudonymised user, department, service and verdict: for distinct-user counts over
-- any period (users cannot be added up across the days of usage_daily) and for small-group suppression.
with ai_events as (
    select * from ai_events where user_id is not null
),

final as (
    select
        day,
        user_id,
        department,
        service,
        case when service is null then host end as host,
        verdict,
        count(*) as events,
        max(bytes_out) as largest_upload
    from ai_events
    group by all
)

select * from final
