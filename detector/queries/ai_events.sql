-- The events whose destination is an AI service, with who (pseudonym), which department, and the
-- policy's verdict.
--
-- Which service: a URL-path rule (AI inside a shared domain), else the host's judgement (catalog,
-- analyst label, or the model above its threshold), else the client's user agent (SDKs, IDE plug-ins), else a
-- request to a model API path on a host not judged AI (api_path_calls: an unlisted service, match `model`).
-- Who: the user the log names; else the owner (workstations.csv) of the client computer the log names
-- (src_host: Umbrella's roaming computers, Defender's DeviceName); else the user of the authenticated proxy
-- session of the same client address at that time; else the owner of the workstation that held the address
-- (DHCP lease + workstations.csv). Department: that user's (users.csv), else the client network's (networks.csv).
-- `attribution` records which of these decided.
with candidate_hosts as (
    -- hosts whose events can be AI use: judged AI, with URL-path rules, or with requests to a model API path
    select host from hosts where is_ai
    union
    select host from path_rules
    union
    select host from api_path_calls
),

events as (
    -- only the events that can be AI use (a host above, or an AI user agent on any other host): the
    -- joins below then handle a small share of the lake, not every event. Semi joins rather than
    -- `host in (...) or user_agent in (...)`: the lake scan is then filtered as it reads
    select events.*
    from events
    semi join candidate_hosts on events.host = candidate_hosts.host
    union all
    select events.*
    from events
    semi join agent_services on events.user_agent = agent_services.user_agent
    anti join candidate_hosts on events.host = candidate_hosts.host
),

hosts as (
    select host, service, category, match, is_ai from hosts
),

path_rules as (
    select host, path, service from path_rules
),

agent_services as (
    select user_agent, service from agent_services
),

api_path_calls as (
    select host, url_path from api_path_calls
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
        -- an unlisted service an analyst labelled keeps the category the analyst gave it
        case when p.service is null and h.is_ai then h.category end as host_category,
        case
            when p.service is not null then 'catalog'
            when h.is_ai then h.match
            when a.service is not null then 'catalog'
            when c.host is not null then 'model'
        end as match
    from events as e
    left join hosts as h on h.host = e.host
    left join by_path as p on p.file_id = e.file_id and p.line_no = e.line_no
    left join agent_services as a on a.user_agent = e.user_agent
    left join api_path_calls as c on c.host = e.host and c.url_path = e.url_path
    where p.service is not null or h.is_ai or a.service is not null or c.host is not null
),

named_host_users as (
    -- events without a user: the owner of the computer the log names as the client (one, if listed twice)
    select j.file_id, j.line_no, min(w.user_id) as user_id, min(w.workstation) as workstation
    from judged as j
    join workstation_users as w on w.workstation = lower(split_part(j.src_host, '.', 1))
    where j.user_name is null and j.src_host is not null
    group by j.file_id, j.line_no
),

session_users as (
    -- else: the proxy session of the same address closest in time
    select j.file_id, j.line_no,
        arg_min(s.user_id, abs(epoch(j.ts) - epoch(s.starts + (s.ends - s.starts) / 2))) as user_id
    from judged as j
    join proxy_sessions as s on s.src_ip = j.src_ip and j.ts between s.starts and s.ends
    where j.user_name is null
    group by j.file_id, j.line_no
),

lease_users as (
    -- else: the owner of the workstation that held the address (latest lease before the event)
    select j.file_id, j.line_no, arg_max(w.user_id, l.starts) as user_id, arg_max(l.workstation, l.starts) as workstation
    from judged as j
    join dhcp_leases as l on l.src_ip = j.src_ip and j.ts >= l.starts and j.ts < l.ends
    left join workstation_users as w on w.workstation = l.workstation
    where j.user_name is null
    group by j.file_id, j.line_no
),

attributed as (
    select
        j.*,
        coalesce(j.user_name, nu.user_id, su.user_id, lu.user_id) as user_id,
        coalesce(ud.department, ipd.department) as department,
        case
            when j.user_name is not null then 'user'
            when nu.user_id is not null then 'workstation'
            when su.user_id is not null then 'proxy_session'
            when lu.user_id is not null then 'dhcp'
            when ipd.department is not null then 'network'
            else 'none'
        end as attribution,
        coalesce(nu.workstation, lu.workstation) as workstation
    from judged as j
    left join named_host_users as nu on nu.file_id = j.file_id and nu.line_no = j.line_no
    left join session_users as su on su.file_id = j.file_id and su.line_no = j.line_no
    left join lease_users as lu on lu.file_id = j.file_id and lu.line_no = j.line_no
    left join user_departments as ud on ud.user_id = coalesce(j.user_name, nu.user_id, su.user_id, lu.user_id)
    left join ip_departments as ipd on ipd.src_ip = j.src_ip
),

final as (
    select
        a.ts,
        a.day,
        a.source_kind,
        a.log_format,
        a.user_id,
        a.department,
        a.attribution,
        a.src_ip,
        a.host,
        a.host_source,
        a.service,
        coalesce(s.name, 'unlisted AI service') as service_name,
        coalesce(s.category, a.host_category) as category,
        a.match,
        coalesce(vd.verdict, vs.verdict, 'shadow') as verdict,
        a.bytes_out,
        a.bytes_in,
        a.action,
        a.http_method,
        a.url_path,
        a.user_agent,
        a.file_id,
        a.line_no
    from attributed as a
    left join services as s on s.service = a.service
    left join verdicts as vd
        on vd.service is not distinct from a.service and vd.department = a.department
    left join verdicts as vs
        on vs.service is not distinct from a.service and vs.department is null
)

select * from final
