-- The daily rollup the dashboard and reports read: AI use per day, department, service and verdict.
-- AI services nobody listed (found by the model or labelled) have no service id: they are kept apart
-- by `host` instead, so that each unlisted service stays visible.
with ai_events as (
    select *, case when service is null then host end as unlisted_host from ai_events
),

final as (
    select
        day,
        department,
        service,
        unlisted_host as host,
        any_value(service_name) as service_name,
        any_value(category) as category,
        verdict,
        count(distinct user_id) as users,
        count(distinct src_ip) as clients,
        count(*) as events,
        sum(bytes_out) as bytes_out,
        sum(bytes_in) as bytes_in,
        count(*) filter (where action = 'blocked') as blocked
    from ai_events
    group by day, department, service, unlisted_host, verdict
)

select * from final
