-- The candidate hosts' traffic pattern, the evidence for or against each being an AI service: how much
-- is sent versus received, how often POST, which log sources see it, and its most requested path
-- prefixes. Over a bounded range of days, one pass for all candidates.
with events as (
    select host, source_kind, http_method, url_path, bytes_out, bytes_in, user_agent
    from candidate_events
    where day between $start and $end and list_contains($hosts, host)
),

paths as (
    select host, '/' || split_part(url_path, '/', 2) as prefix, count(*) as requests
    from events
    where url_path is not null
    group by host, prefix
),

top_paths as (
    select host, string_agg(prefix, ', ' order by requests desc, prefix) as top_paths
    from (select *, row_number() over (partition by host order by requests desc, prefix) as rank from paths)
    where rank <= 5
    group by host
),

profiles as (
    select
        host,
        count(*) as events,
        avg(bytes_out) as mean_bytes_out,
        avg(bytes_in) as mean_bytes_in,
        avg(case when http_method = 'POST' then 1.0 else 0.0 end) filter (where http_method is not null)
            as post_share,
        count(distinct user_agent) as user_agents,
        string_agg(distinct source_kind, ', ' order by source_kind) as source_kinds
    from events
    group by host
),

final as (
    select p.*, t.top_paths
    from profiles as p
    left join top_paths as t on t.host = p.host
)

select * from final
