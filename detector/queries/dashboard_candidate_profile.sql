-- One host's traffic pattern, the evidence for or against it being an AI service: how much is sent
-- versus received, how often POST, which log sources see it, and its most requested path prefixes.
with events as (
    select source_kind, http_method, url_path, bytes_out, bytes_in, user_agent
    from events
    where host = $host and day between $start and $end
),

paths as (
    select '/' || split_part(url_path, '/', 2) as prefix, count(*) as requests
    from events
    where url_path is not null
    group by prefix
    order by requests desc, prefix
    limit 5
),

final as (
    select
        count(*) as events,
        avg(bytes_out) as mean_bytes_out,
        avg(bytes_in) as mean_bytes_in,
        avg(case when http_method = 'POST' then 1.0 else 0.0 end) filter (where http_method is not null)
            as post_share,
        count(distinct user_agent) as user_agents,
        string_agg(distinct source_kind, ', ' order by source_kind) as source_kinds,
        (select string_agg(prefix, ', ' order by requests desc, prefix) from paths) as top_paths
    from events
)

select * from final
