-- Traffic features per destination host, for the host classifier (detector/classify/features.py).
-- Needs two registered tables: `model_ai_hosts` (host, service), the catalog's AI hosts seen in the
-- lake; `model_hosts` (host), the hosts to describe (all of them to train; at classify only those the
-- model will judge, which skips the bulk of the traffic: catalog hosts and the non-AI lists' sites).
-- A share or size whose field the log format lacks is null (not 0): the model has an indicator for it.
-- Cost: one scan for the AI hosts' events (who used which AI service when), one for the described
-- hosts, aggregated per (host, client) and then per host; no DISTINCT aggregates.
with lake_events as (
    select
        host,
        day,
        ts,
        coalesce(user_name, src_ip) as client,
        http_method,
        bytes_out,
        bytes_in,
        duration_ms,
        content_type
    from events
    where host is not null
),

ai_hosts as (
    select host, service from model_ai_hosts
),

described as (
    select lake_events.*
    from lake_events
    semi join model_hosts on lake_events.host = model_hosts.host
),

-- Which AI services each client used each day: how many, and one of them.
client_days as (
    select lake_events.day, lake_events.client, count(distinct ai_hosts.service) as services,
        min(ai_hosts.service) as service
    from lake_events
    inner join ai_hosts on lake_events.host = ai_hosts.host
    where lake_events.client is not null
    group by lake_events.day, lake_events.client
),

-- Each event, flagged when its client used ANOTHER catalog AI service that day (not the host's own:
-- chatgpt.com's users trivially use ChatGPT).
tagged as (
    select
        described.*,
        -- hour of day from the epoch: extracting it from a timestamptz goes through the time zone code
        (epoch_us(described.ts) // 3600000000) % 24 as hour_of_day,
        client_days.services > 1
        or (client_days.services = 1 and client_days.service is distinct from ai_hosts.service) as co_used
    from described
    left join client_days on described.day = client_days.day and described.client = client_days.client
    left join ai_hosts on described.host = ai_hosts.host
),

host_clients as (
    select
        host,
        client,
        count(*) as requests,
        bool_or(co_used) as co_used,
        count(http_method) filter (where http_method <> 'CONNECT') as with_method,
        count(*) filter (where http_method = 'POST') as posts,
        sum(bytes_out) filter (where bytes_in is not null) as paired_out,
        sum(bytes_in) filter (where bytes_out is not null) as paired_in,
        sum(bytes_out) as bytes_out,
        count(bytes_out) as with_bytes_out,
        count(duration_ms) as with_duration,
        count(*) filter (where duration_ms > 10000) as long_lived,
        count(content_type) as with_content_type,
        count(*) filter (where content_type ilike 'text/event-stream%') as streams,
        bit_or(1::bigint << hour_of_day) as hours
    from tagged
    group by host, client
),

per_host as (
    select
        host,
        sum(requests) as requests,
        count(client) as clients,
        count(client) filter (where co_used) as co_clients,
        sum(with_method) as with_method,
        sum(posts) as posts,
        sum(paired_out) as paired_out,
        sum(paired_in) as paired_in,
        sum(bytes_out) / nullif(sum(with_bytes_out), 0) as mean_request_bytes,
        -- the median over the host's clients of their mean request size: robust to one huge upload
        median(bytes_out / nullif(with_bytes_out, 0)) as median_request_bytes,
        sum(with_duration) as with_duration,
        sum(long_lived) as long_lived,
        sum(with_content_type) as with_content_type,
        sum(streams) as streams,
        bit_count(bit_or(hours)) as hours
    from host_clients
    group by host
),

final as (
    select
        host,
        requests::double as requests,
        clients::double as clients,
        requests / greatest(clients, 1) as requests_per_client,
        posts / nullif(with_method, 0) as post_share,
        paired_out / nullif(paired_in, 0) as upload_ratio,
        mean_request_bytes::double as mean_request_bytes,
        median_request_bytes::double as median_request_bytes,
        long_lived / nullif(with_duration, 0) as long_share,
        streams / nullif(with_content_type, 0) as stream_share,
        -- share of the host's clients who, on a day they used it, also used another catalog AI service
        coalesce(co_clients / nullif(clients, 0), 0.0) as co_use,
        hours / 24.0 as hour_spread
    from per_host
)

select * from final order by host
