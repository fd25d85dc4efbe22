-- Every distinct destination host in the lake, with when and how much it was seen.
with events as (
    select host, ts, user_name, src_ip from events where host is not null
),

final as (
    select
        host,
        min(ts) as first_seen,
        max(ts) as last_seen,
        count(*) as events,
        count(distinct coalesce(user_name, src_ip)) as clients
    from events
    group by host
)

select * from final
