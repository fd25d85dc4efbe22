-- The host names seen for one service ($service_key: the service id, or the host of an unlisted one).
with hosts as (
    select * from hosts where is_ai
),

final as (
    select host, match, rule, events, first_seen, last_seen
    from hosts
    where coalesce(service, host) = $service_key
    order by events desc, host
    limit 200
)

select * from final
