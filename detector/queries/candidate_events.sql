-- The raw events of the hosts the Discovery page may show (the model's AI matches and hosts up to 0.3
-- under its threshold, the most its slider allows): built by classify, so that the page's evidence
-- (traffic pattern, days, paths) reads a small table instead of scanning every event. Of a host listed for
-- its requests to a model API path (api_path_calls: a shared site, an address), only those requests: the
-- rest of its traffic is not AI use, and on a busy shared host it would be most of this table.
with hosts as (
    select host, score, match, try_cast(regexp_extract(rule, 'threshold ([0-9.]+)', 1) as double) as threshold
    from hosts
),

candidates as (
    select host
    from hosts
    where match = 'model' or (match = 'none' and score is not null and score >= coalesce(threshold, 0.5) - 0.3)
),

-- what to keep of each host: all its events (url_path null), or those of one path (one scan for both)
evidence as (
    select host, null::varchar as url_path from candidates
    union all
    select host, url_path from api_path_calls
    where host not in (select host from candidates)
),

final as (
    select e.host, e.day, e.ts, e.source_kind, e.user_name, e.src_ip, e.bytes_out, e.bytes_in, e.http_method,
        e.url_path, e.user_agent
    from events as e
    semi join evidence as v on v.host = e.host and (v.url_path is null or v.url_path = e.url_path)
)

select * from final
