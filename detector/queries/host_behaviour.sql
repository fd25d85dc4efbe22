-- Traffic features per destination host, for the host classifier (detector/classify/features.py).
-- Needs the table `model_ai_hosts` (host, service): the catalog's AI hosts seen in the lake.
-- A share or size whose field the log format lacks is null (not 0): the model has an indicator for it.
with events as (
    select
        host,
        day,
        hour(ts) as hour_of_day,
        coalesce(user_name, src_ip) as client,
        http_method,
        bytes_out,
        bytes_in,
        duration_ms,
        lower(content_type) as content_type
    from events
    where host is not null
),

ai_hosts as (
    select host, service from model_ai_hosts
),

per_host as (
    select
        host,
        count(*) as requests,
        count(distinct client) as clients,
        count(http_method) filter (where http_method <> 'CONNECT') as with_method,
        count(*) filter (where http_method = 'POST') as posts,
        sum(bytes_out) filter (where bytes_in is not null) as paired_out,
        sum(bytes_in) filter (where bytes_out is not null) as paired_in,
        avg(bytes_out) as mean_request_bytes,
        median(bytes_out) as median_request_bytes,
        count(duration_ms) as with_duration,
        count(*) filter (where duration_ms > 10000) as long_lived,
        count(content_type) as with_content_type,
        count(*) filter (where content_type like 'text/event-stream%') as streams,
        count(distinct hour_of_day) as hours
    from events
    group by host
),

-- Which AI services each client used each day: how many, and one of them.
client_days as (
    select events.day, events.client, count(distinct ai_hosts.service) as services, min(ai_hosts.service) as service
    from events
    inner join ai_hosts on events.host = ai_hosts.host
    where events.client is not null
    group by events.day, events.client
),

host_client_days as (
    select distinct host, day, client from events where client is not null
),

-- Share of a host's client-days on which the client also used ANOTHER catalog AI service (not the
-- host's own: chatgpt.com's users trivially use ChatGPT).
co_use as (
    select
        host_client_days.host,
        avg(
            case
                when client_days.services > 1 then 1.0
                when client_days.services = 1 and client_days.service is distinct from ai_hosts.service then 1.0
                else 0.0
            end
        ) as co_use
    from host_client_days
    left join client_days
        on host_client_days.day = client_days.day and host_client_days.client = client_days.client
    left join ai_hosts on host_client_days.host = ai_hosts.host
    group by host_client_days.host
),

final as (
    select
        per_host.host,
        per_host.requests::double as requests,
        per_host.clients::double as clients,
        per_host.requests / greatest(per_host.clients, 1) as requests_per_client,
        per_host.posts / nullif(per_host.with_method, 0) as post_share,
        per_host.paired_out / nullif(per_host.paired_in, 0) as upload_ratio,
        per_host.mean_request_bytes::double as mean_request_bytes,
        per_host.median_request_bytes::double as median_request_bytes,
        per_host.long_lived / nullif(per_host.with_duration, 0) as long_share,
        per_host.streams / nullif(per_host.with_content_type, 0) as stream_share,
        coalesce(co_use.co_use, 0.0) as co_use,
        per_host.hours / 24.0 as hour_spread
    from per_host
    left join co_use on per_host.host = co_use.host
)

select * from final order by host
