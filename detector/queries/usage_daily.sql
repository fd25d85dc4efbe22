-- The daily rollup the dashboard and reports read: AI use per day, department, service and verdict.
--
-- AI services nobody listed (found by the model or labelled) have no service id: they are kept apart
-- by `host`, so that each unlisted service stays visible.
-- One use of a service shows in several logs at once (proxy, DNS, firewall, sensor), so counts are
-- also given per source kind, and `events` adds them up with DNS lookups de-duplicated to one per
-- client, host and minute (a browser resolves the same name many times a minute: resolver chatter is
-- not use). A DNS lookup is an event whose host was learned from a DNS query (`host_source`
-- dns_query), whatever its format's source kind: a DNS server's, a firewall's DNS log, Zeek dns.log or
-- Suricata EVE dns (sensor), a JSON/CSV export's DNS rows (proxy). Lookups count in `dns_lookups`
-- only; `proxy_events`, `firewall_events` and `sensor_events` count each kind's other events, so that
-- `events` is their sum. Uploads are counted once: `bytes_out` is the largest per-source total of the
-- day, not the sum over sources (which would count one upload twice); flows without byte counts add
-- nothing, and neither do blocked requests (the device stopped them: nothing reached the service) or
-- DNS lookups (a DNS message's size is not an upload).
-- `blocked` counts as `events` does (a blocked lookup once per client, host and minute), so that it never
-- exceeds `events` and `events - blocked` is the use that got through.
-- `users` are distinct per row: for distinct users over a period, use `user_daily`.
with ai_events as (
    select *,
        case when service is null then host end as unlisted_host,
        host_source is not distinct from 'dns_query' as is_lookup,
        case when host_source = 'dns_query' then (src_ip, host, date_trunc('minute', ts)) end as lookup,
        -- The row's five keys as one 64-bit hash: each `count(distinct ...)` below is a grouping of its
        -- own by the row's keys and the counted value, and one fixed-width key makes the three of them
        -- about 40 % cheaper than five text keys (a collision would merge two rows: at 2^-64 per pair,
        -- never in practice).
        hash(day, department, service, case when service is null then host end, verdict) as row_key
    from ai_events
),

final as (
    select
        any_value(day) as day,
        any_value(department) as department,
        any_value(service) as service,
        any_value(unlisted_host) as host,
        any_value(service_name) as service_name,
        any_value(category) as category,
        any_value(verdict) as verdict,
        count(distinct user_id) as users,
        count(distinct src_ip) as clients,
        count(*) filter (where not is_lookup) + count(distinct lookup) as events,
        count(*) filter (where source_kind = 'proxy' and not is_lookup) as proxy_events,
        count(distinct lookup) as dns_lookups,
        count(*) filter (where source_kind = 'firewall' and not is_lookup) as firewall_events,
        count(*) filter (where source_kind = 'sensor' and not is_lookup) as sensor_events,
        greatest(
            sum(bytes_out) filter (where source_kind = 'proxy' and not is_lookup and action is distinct from 'blocked'),
            sum(bytes_out) filter (where source_kind = 'firewall' and not is_lookup and action is distinct from 'blocked'),
            sum(bytes_out) filter (where source_kind = 'sensor' and not is_lookup and action is distinct from 'blocked')
        ) as bytes_out,
        greatest(
            sum(bytes_in) filter (where source_kind = 'proxy' and not is_lookup and action is distinct from 'blocked'),
            sum(bytes_in) filter (where source_kind = 'firewall' and not is_lookup and action is distinct from 'blocked'),
            sum(bytes_in) filter (where source_kind = 'sensor' and not is_lookup and action is distinct from 'blocked')
        ) as bytes_in,
        count(*) filter (where action = 'blocked' and not is_lookup)
            + count(distinct lookup) filter (where action = 'blocked') as blocked
    from ai_events
    group by row_key
)

select * from final
