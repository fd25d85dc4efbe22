-- Every AI service seen in the period under the filters, with its catalog facts (unlisted services,
-- found by the model or a label, have none), use in the period, and when it was first and last seen.
-- Most people first, then events: the overview's most used services are its first rows (dashboards/data.py).
with usage as (
    select * from dashboard_user_daily
    where chosen($departments, department)
        and chosen($categories, category)
        and chosen($verdicts, verdict)
),

services as (
    select service, vendor, hq_country, data_location, risk_level, risk_score from services
),

in_period as (
    select
        service_key,
        any_value(service) as service,
        any_value(service_name) as service_name,
        any_value(category) as category,
        string_agg(distinct verdict, ', ' order by verdict) as verdict,
        count(distinct person) as people,
        sum(events) as events,
        coalesce(sum(bytes_out), 0) as bytes_out
    from usage
    where day between $start and $end
    group by service_key
),

ever as (
    select service_key, min(day) as first_seen, max(day) as last_seen from usage group by service_key
),

final as (
    select
        p.service_key,
        p.service,
        p.service_name,
        p.category,
        s.vendor,
        s.hq_country,
        s.data_location,
        s.risk_level,
        s.risk_score,
        p.verdict,
        p.people,
        p.events,
        p.bytes_out,
        e.first_seen,
        e.last_seen
    from in_period as p
    left join services as s on s.service = p.service
    left join ever as e on e.service_key = p.service_key
    order by p.people desc, p.events desc, p.service_key
)

select * from final
