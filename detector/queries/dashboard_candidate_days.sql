-- One host's traffic per day (a drill-down into raw events: one host, a bounded range of days).
with events as (
    select day, user_name, src_ip, bytes_out, bytes_in
    from events
    where host = $host and day between $start and $end
),

final as (
    select
        day,
        count(*) as events,
        count(distinct coalesce(user_name, src_ip)) as clients,
        sum(bytes_out) as bytes_out,
        sum(bytes_in) as bytes_in
    from events
    group by day
    order by day
    limit 400
)

select * from final
