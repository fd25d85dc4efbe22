-- The candidate hosts' traffic per day over a bounded range of days (a drill-down into raw events,
-- partition-pruned by day; one pass for all candidates, not one per host).
with events as (
    select host, day, user_name, src_ip, bytes_out, bytes_in
    from candidate_events
    where day between $start and $end and list_contains($hosts, host)
),

final as (
    select
        host,
        day,
        count(*) as events,
        count(distinct coalesce(user_name, src_ip)) as clients,
        sum(bytes_out) as bytes_out,
        sum(bytes_in) as bytes_in
    from events
    group by host, day
    order by host, day
)

select * from final
