-- The requests to a model API path ($api_path_pattern, signatures/ai_api_paths.txt) on the hosts of the registered
-- table `api_path_hosts`: hosts no judgement calls AI (under a non-AI list's site, an IP address, an internal
-- name) that received some. One row per (host, path): ai_events counts exactly those requests as AI use (an
-- unlisted service), not the rest of the host's traffic (`api.cloudflare.com` serves far more than Workers AI).
with calls as (
    select e.host, e.url_path
    from events as e
    semi join api_path_hosts as h on e.host = h.host
    where regexp_matches(e.url_path, $api_path_pattern)
),

final as (
    select host, url_path, count(*) as requests
    from calls
    group by host, url_path
)

select * from final order by host, url_path
