-- Who used which AI service on which day: one row per day, department, service, verdict and person.
-- Distinct people over a period cannot be added up from usage_daily's per-day counts: dashboards and
-- reports count them here, and suppress groups smaller than the configured minimum.
-- A person is the user's pseudonym; an event no user could be attributed to counts its client address,
-- hashed here ('c-...'), so that no address leaves this table. `in_population`: the person counts in
-- "share of employees" figures: a user in users.csv, or anyone when no users.csv was given. AI services
-- nobody listed are keyed by their host (`service_key`), as in usage_daily. Blocked requests add no
-- bytes (nothing reached the service). DNS lookups count as usage_daily counts them: once per client, host
-- and minute (resolver chatter is not use), and add no bytes.
with ai_events as (
    select day, department, coalesce(service, host) as service_key, service, host, service_name, category,
        verdict, user_id, case when user_id is null then src_ip end as client, bytes_out,
        action is not distinct from 'blocked' as blocked, host_source is not distinct from 'dns_query' as is_lookup,
        src_ip, ts
    from ai_events
),

-- One row per counted event: each event that is not a DNS lookup, and each DNS lookup once per row key,
-- client, host and minute (blocked if any of its lookups was). A count(distinct ...) of the lookups in the
-- grouping below would build a distinct table of every event, lookup or not.
counted as (
    select day, department, service_key, service, host, service_name, category, verdict, user_id, client,
        bytes_out, blocked
    from ai_events
    where not is_lookup
    union all
    select day, department, service_key, any_value(service), any_value(host), any_value(service_name),
        any_value(category), verdict, user_id, client, null::bigint, bool_or(blocked)
    from ai_events
    where is_lookup
    group by day, department, service_key, verdict, user_id, client, src_ip, host, date_trunc('minute', ts)
),

directory as (
    select distinct user_id from user_departments
),

grouped as (
    select
        day,
        department,
        service_key,
        any_value(service) as service,
        any_value(case when service is null then host end) as host,
        any_value(case when service is null then host else service_name end) as service_name,
        any_value(category) as category,
        verdict,
        user_id,
        client,
        count(*) as events,
        sum(bytes_out) filter (where not blocked) as bytes_out,
        count(*) filter (where blocked) as blocked
    from counted
    group by day, department, service_key, verdict, user_id, client
),

final as (
    select
        g.day,
        g.department,
        g.service_key,
        g.service,
        g.host,
        g.service_name,
        g.category,
        g.verdict,
        coalesce(g.user_id, 'c-' || left(md5(g.client), 16)) as person,
        g.user_id,
        d.user_id is not null or not exists (select 1 from directory) as in_population,
        g.events,
        g.bytes_out,
        g.blocked
    from grouped as g
    left join directory as d on d.user_id = g.user_id
)

select * from final
