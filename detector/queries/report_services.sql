-- Every AI service used in one period, with the catalog's facts and the policy's verdict: distinct people
-- (from user_daily: users, and client devices where no user could be attributed), departments, events,
-- uploads, blocked attempts, and the first day it was ever used (over all history, so that "new in the
-- period" can be told). AI services nobody listed (found by the
-- model or labelled by an analyst) are keyed by their host, as in usage_daily. `verdict` is the policy's
-- verdict for the service as a whole; `verdicts` lists every verdict its use had (department exceptions).
with usage as (
    select * from usage_daily where day between $start and $end
),

user_daily as (
    select person, coalesce(service, host) as service_key, verdict
    from user_daily where day between $start and $end
),

services as (
    select * from services
),

hosts as (
    select host, match, score from hosts
),

first_days as (
    select coalesce(service, host) as service_key, min(day) as first_day from usage_daily group by all
),

people as (
    select
        service_key,
        count(distinct person) as users,
        unsanctioned_people(person, verdict) as unsanctioned_users
    from user_daily
    group by service_key
),

volume as (
    select
        coalesce(service, host) as service_key,
        any_value(service) as service,
        any_value(host) as host,
        any_value(category) as category,
        mode(verdict) as usual_verdict,
        string_agg(distinct verdict, ', ' order by verdict) as verdicts,
        count(distinct department) as departments,
        count(distinct day) as days,
        cast(sum(events) as bigint) as events,
        cast(coalesce(sum(bytes_out), 0) as bigint) as bytes_out,
        unsanctioned_bytes_out(bytes_out, verdict) as unsanctioned_bytes_out,
        cast(sum(blocked) as bigint) as blocked
    from usage
    group by coalesce(service, host)
),

final as (
    select
        v.service_key,
        v.service,
        coalesce(s.name, v.host) as name,
        s.vendor,
        coalesce(s.category, v.category) as category,
        case when v.service is null then coalesce(h.match, 'model') else 'catalog' end as match,
        coalesce(s.verdict, v.usual_verdict) as verdict,
        v.verdicts,
        s.risk_score,
        s.risk_level,
        s.hq_country,
        s.data_location,
        s.trains_on_inputs,
        s.enterprise_plan,
        s.gdpr_dpa,
        coalesce(p.users, 0) as users,
        coalesce(p.unsanctioned_users, 0) as unsanctioned_users,
        v.departments,
        v.days,
        v.events,
        v.bytes_out,
        v.unsanctioned_bytes_out,
        v.blocked,
        f.first_day
    from volume as v
    left join services as s on s.service = v.service
    left join hosts as h on h.host = v.host
    left join people as p on p.service_key = v.service_key
    left join first_days as f on f.service_key = v.service_key
    order by
        case coalesce(s.verdict, v.usual_verdict)
            when 'forbidden' then 0 when 'shadow' then 1 when 'tolerated' then 2 else 3 end,
        s.risk_score desc nulls last, p.users desc nulls last, v.events desc, v.service_key
)

select * from final
