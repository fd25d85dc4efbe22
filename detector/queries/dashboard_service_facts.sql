-- One catalog service's facts: what the analyst needs to judge it, with the sources behind them.
with services as (
    select * from services
),

final as (
    select
        service, name, vendor, category, description, risk_score, risk_level, hq_country, data_location,
        trains_on_inputs, enterprise_plan, gdpr_dpa, domains, sources, last_verified, verdict
    from services
    where service = $service
)

select * from final
