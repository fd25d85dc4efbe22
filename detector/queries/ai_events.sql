-- The events whose destination is an AI service: by URL path rule (AI inside a shared domain), by host
-- (catalog, analyst label or model above its threshold), or by the client's user agent (SDKs, IDEs).
with events as (
    select * from events
),

hosts as (
    select host, service, match, is_ai from hosts
),

path_rules as (
    select host, path, service from path_rules
),

agent_services as (
    select user_agent, service from agent_services
),

services as (
    select service, name, category from services
),

by_path as (
    -- one rule per event: the longest matching path prefix
    select e.file_id, e.line_no, arg_max(r.service, length(r.path)) as service
    from events as e
    join path_rules as r on r.host = e.host and starts_with(e.url_path, r.path)
    group by e.file_id, e.line_no
),

judged as (
    select
        e.*,
        coalesce(p.service, h.service, a.service) as service,
        case
            when p.service is not null then 'catalog'
            when h.is_ai then h.match
            when a.service is not null then 'catalog'
        end as match
    from events as e
    left join hosts as h on h.host = e.host
    left join by_path as p on p.file_id = e.file_id and p.line_no = e.line_no
    left join agent_services as a on a.user_agent = e.user_agent
    where p.service is not null or h.is_ai or a.service is not null
),

final as (
    select
        j.ts,
        j.day,
        j.source_kind,
        j.log_format,
        j.user_name as user_id,
        cast(null as varchar) as department,
        j.src_ip,
        j.host,
        j.service,
        coalesce(s.name, 'unlisted AI service') as service_name,
        s.category,
        j.match,
        -- without an organisation policy every AI service is unsanctioned: shadow AI
        'shadow' as verdict,
        j.bytes_out,
        j.bytes_in,
        j.action,
        j.url_path,
        j.user_agent
    from judged as j
    left join services as s on s.service = j.service
)

select * from final
