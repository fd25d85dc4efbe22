-- Traffic features per destination host, for the host classifier (detector/classify/features.py), and
-- what classify's `hosts` table shows of each host (first and last seen, events, distinct clients).
-- Needs two registered tables: `model_ai_hosts` (host, service), the catalog's AI hosts seen in the
-- lake; `model_hosts` (host), the hosts to describe (all of them to train, the ones the model judges at
-- classify); and `$every_host`: also a row for each other host of the lake, with its traffic (when, how
-- much, how many clients) and the per-host features, but null co-use and median request size (the
-- per-client ones, the costly part: classify needs them only for the hosts the model judges). `api_calls`
-- (requests to a model API path, $api_path_pattern) is counted for every host: a described host that has any
-- is flagged, and on any other host those requests are AI use (classify's api_path_calls).
-- A share or size whose field the log format lacks is null (not 0): the model has an indicator for it.
-- Cost: the events are read three times, each time into a small hash table: per host (most features:
-- plain sums, no client needed), per (host, client) with only what needs the client (the client mean
-- request size, co-use; for the other hosts only the distinct pairs, which is cheaper: no joins), and
-- the AI hosts' events per (day, client) for co-use. A single
-- (host, client) table holding every feature would be many times wider (it was the bulk of the cost),
-- and a shared materialised copy of the events costs more than reading the Parquet columns again.
with ai_hosts as (
    select host, service from model_ai_hosts
),

-- Most features are sums per host: one row per host, no client needed.
host_totals as (
    select
        host,
        min(ts) as first_seen,
        max(ts) as last_seen,
        count(*) as requests,
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
        -- requests to a model API path (signatures/ai_api_paths.txt, as one pattern): evidence whatever the name
        count(*) filter (where regexp_matches(url_path, $api_path_pattern)) as api_calls,
        -- requests the gateway itself files under an AI category (signatures/ai_vendor_categories.txt), and one
        -- such category as logged: evidence whatever the name (classify/vendor_categories.py)
        count(*) filter (where regexp_matches(vendor_category, $ai_category_pattern)) as ai_category_requests,
        min(vendor_category) filter (where regexp_matches(vendor_category, $ai_category_pattern)) as ai_category,
        -- hour of day from the epoch: extracting it from a timestamptz goes through the time zone code
        bit_count(bit_or(1::bigint << ((epoch_us(ts) // 3600000000) % 24))) as hours
    from events
    where host is not null
    group by host
),

-- Which AI services each client used each day: how many, and one of them. Clients and hosts are
-- grouped by their 64-bit hashes (`client_key`, `host_key`): the (host, client) grouping below has about
-- as many groups as there are events, and fixed-width keys make it about 3x cheaper than text keys (a
-- collision would merge two clients' figures of one host: at 2^-64 per pair, never in practice).
client_days as (
    select e.day, hash(coalesce(e.user_name, e.src_ip)) as client_key, count(distinct a.service) as services,
        min(a.service) as service
    from events as e
    inner join ai_hosts as a on e.host = a.host
    where coalesce(e.user_name, e.src_ip) is not null
    group by e.day, hash(coalesce(e.user_name, e.src_ip))
),

-- Each described host's clients: their upload sizes, and whether they used ANOTHER catalog AI service
-- on a day they used the host (not the host's own: chatgpt.com's users trivially use ChatGPT).
host_clients as (
    select
        hash(e.host) as host_key,
        -- null stays null: events without a client are not a client (count(client_key) below)
        case when coalesce(e.user_name, e.src_ip) is not null then hash(coalesce(e.user_name, e.src_ip)) end
            as client_key,
        sum(e.bytes_out) as bytes_out,
        count(e.bytes_out) as with_bytes_out,
        bool_or(c.services > 1 or (c.services = 1 and c.service is distinct from a.service)) as co_used
    from (select * from events semi join model_hosts on events.host = model_hosts.host) as e
    left join client_days as c on c.day = e.day and c.client_key = hash(coalesce(e.user_name, e.src_ip))
    left join ai_hosts as a on a.host = e.host
    group by all
),

-- The other hosts' clients, only counted (with $every_host): distinct (host, client) pairs, no joins.
other_clients as (
    select host_key, count(client_key) as clients
    from (
        select distinct
            hash(e.host) as host_key,
            case when coalesce(e.user_name, e.src_ip) is not null then hash(coalesce(e.user_name, e.src_ip)) end
                as client_key
        from events as e
        anti join model_hosts on e.host = model_hosts.host
        where $every_host and e.host is not null
    )
    group by host_key
),

per_client as (
    select host_key, client_key, bytes_out / nullif(with_bytes_out, 0) as mean_request_bytes, co_used
    from host_clients
),

per_host as (
    select
        t.*,
        c.clients,
        c.co_clients,
        c.median_request_bytes
    from host_totals as t
    inner join (
        select
            host_key,
            count(client_key) as clients,
            count(client_key) filter (where co_used) as co_clients,
            -- the median over the host's clients of their mean request size: robust to one huge upload
            median(mean_request_bytes) as median_request_bytes
        from per_client
        group by host_key
        union all
        select host_key, clients, null, null from other_clients
    ) as c on c.host_key = hash(t.host)
),

final as (
    select
        host,
        requests::double as requests,
        clients::double as clients,
        requests / greatest(clients, 1) as requests_per_client,
        posts / nullif(with_method, 0) as post_share,
        paired_out / nullif(paired_in, 0) as upload_ratio,
        (bytes_out / nullif(with_bytes_out, 0))::double as mean_request_bytes,
        median_request_bytes::double as median_request_bytes,
        long_lived / nullif(with_duration, 0) as long_share,
        streams / nullif(with_content_type, 0) as stream_share,
        -- share of the host's clients who, on a day they used it, also used another catalog AI service
        -- (null for a host not described: see other_clients)
        case when co_clients is not null then coalesce(co_clients / nullif(clients, 0), 0.0) end as co_use,
        hours / 24.0 as hour_spread,
        -- not a model feature: classify flags a judged host that called a model API path, and marks those
        -- requests as AI use on any other host (classify/api_paths.py)
        api_calls::bigint as api_calls,
        -- nor these: classify flags a judged host that its gateway files under an AI category
        ai_category_requests::bigint as ai_category_requests,
        ai_category,
        -- for the `hosts` table (with `clients` above)
        first_seen,
        last_seen,
        requests::bigint as events
    from per_host
)

select * from final order by host
